// @ts-check
// The diffusion lesson: the SDE extension of the flow on the same drawing (see page.js).
// Its definition for the page: label, views, tour steps, settings and page module.
import { VIEWS } from './views.js';
import { STEPS } from './tour.js';
import settings from './settings.js';
import { DiffusionLesson } from './page.js';

/** @type {import('../../pages.js').LessonDef} */
export default {
  id: 'diffusion', label: 'Diffusion (SDE)', views: VIEWS, tour: STEPS, settings, Page: DiffusionLesson,
};
