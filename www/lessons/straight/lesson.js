// @ts-check
// The straight-paths lesson: why learned paths bend, and what an OT coupling and reflow
// change (see page.js).
// Its definition for the page: label, views, tour steps, settings and page module.
import { VIEWS } from './views.js';
import { STEPS } from './tour.js';
import settings from './settings.js';
import { StraightLesson } from './page.js';

/** @type {import('../../pages.js').LessonDef} */
export default { id: 'straight', label: 'Straight paths', views: VIEWS, tour: STEPS, settings, Page: StraightLesson };
