// @ts-check
// The flow-matching lesson: conditional and marginal paths, the learned field against the
// exact one, the continuity equation and memorization. It adds no settings and no page module
// of its own: the app's core controls and cards are its page.
// Its definition for the page: label, views, tour steps.
import { VIEWS } from './views.js';
import { STEPS } from './tour.js';

/** @type {import('../../pages.js').LessonDef} */
export default { id: 'fm', label: 'Flow matching', views: VIEWS, tour: STEPS };
