// @ts-check
// The registry of lessons: one line a lesson, in the order of the lesson picker. A lesson is
// the folder lessons/<id>/: lesson.js (its label, views, tour steps, settings and page module,
// for the page) and jobs.js (its jobs, for the flow worker). Nothing outside the registry and
// a lesson's folder names a lesson.

/** The lessons' ids (their folders' names); the first is the default. */
export const LESSON_IDS = ['fm', 'diffusion', 'straight', 'guidance'];
