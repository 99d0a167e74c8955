// @ts-check
// The guidance lesson: classifier-free guidance over a drawing in classes (see page.js).
// Its definition for the page: label, views, tour steps, settings and page module.
import { VIEWS } from './views.js';
import { STEPS } from './tour.js';
import settings from './settings.js';
import { GuidanceLesson } from './page.js';

/** @type {import('../../pages.js').LessonDef} */
export default { id: 'guidance', label: 'Guidance', views: VIEWS, tour: STEPS, settings, Page: GuidanceLesson };
