// @ts-check
// The one table of views, made of the lessons' entries (lessons/<id>/views.js, registered
// from the lessons' definitions at start-up). A view is what the stage shows besides the
// particles: arrows of a field, a heatmap, an extra flow, and the caption that explains it.
// The field-view <select>, the V key's cycle, the settings sanitizer's allowed values and the
// captions are all made from this table; adding a view is one entry in its lesson's views.js
// plus, if it draws something new, its drawing function in stage.js. Views belong to lessons:
// one lesson is shown at a time and its id is part of the state (and so of links).
import { inline } from './math.js';

/**
 * The inline (MathML) form of each formula of a table of them, for captions.
 * @param {Record<string, string>} formulas
 * @returns {Record<string, string>}
 */
export function inlineFormulas(formulas) {
  return Object.fromEntries(Object.entries(formulas).map(([k, v]) => [k, inline(v)]));
}

/**
 * One view.
 * - needs: what must exist before it can draw (a trained model, a chosen z).
 * - arrows: the field drawn as arrows ('error' draws learned and exact arrows).
 * - heat: the heatmap grid (a `Fields.grid` name), or null.
 * - extraFlow: a further particle flow the flow worker computes while the view is shown,
 *   drawn instead of the exact particles with `exactLabel` and colour key `exactColor`, and
 *   titled `sideLabel` on the second stage of the side-by-side layout.
 * - caption(t, extra, c): the HTML caption under the stage; `c` holds the settings `s`,
 *   `beta` (beta_t at the time shown) and the lesson's measured `facts` (sentences keyed by
 *   view), for captions worded from them, and `trails`: whether the stage draws trails now (off
 *   while frames are slow or at a fixed time).
 * @typedef {{ s: Record<string, any>, beta: number, facts: Record<string, string>, trails?: boolean }} CaptionContext
 * @typedef {{ id: string, label: string, lesson: string,
 *   needs: { model?: boolean, z?: boolean },
 *   arrows: 'learned' | 'marginal' | 'conditional' | 'error' | 'score' | 'score_learned' | 'denoiser'
 *     | 'sde_drift' | 'class' | 'guided' | 'learned_guided' | null,
 *   heat: string | null,
 *   extraFlow?: 'uniform' | 'ot', exactColor?: 'uniform' | 'ot', exactLabel?: string, sideLabel?: string,
 *   caption: (t: string, extra: string, c: CaptionContext) => string }} View
 */
/**
 * A lesson's entry of the table: a view without its lesson (filled in when registered).
 * @typedef {Omit<View, 'lesson'>} ViewEntry
 */

/** @type {View[]} */
let VIEWS = [];
/** @type {Map<string, View>} */
let BY_ID = new Map();

/**
 * Makes the table from the lessons' entries, in the lessons' order (the first view of the
 * first lesson is the default view). Throws when two views share an id.
 * @param {{ id: string, views: ViewEntry[] }[]} lessons
 */
export function registerViews(lessons) {
  const table = lessons.flatMap((l) => l.views.map((v) => ({ ...v, lesson: l.id })));
  const byId = new Map(table.map((v) => [v.id, v]));
  if (byId.size !== table.length) throw new Error('two views share an id');
  VIEWS = table;
  BY_ID = byId;
}

/** Every view, in table order. */
export function allViews() {
  return VIEWS;
}

/**
 * The view with this id (the first view for an unknown id).
 * @param {string} id
 * @returns {View}
 */
export function viewOf(id) {
  return BY_ID.get(id) ?? VIEWS[0];
}

/**
 * The views of a lesson, in table order (the order of the <select> and of the V key).
 * @param {string} lesson
 */
export function viewsOf(lesson) {
  return VIEWS.filter((v) => v.lesson === lesson);
}

/**
 * The view after `id` in its lesson's cycle (the V key).
 * @param {string} id
 */
export function nextView(id) {
  const list = viewsOf(viewOf(id).lesson);
  return list[(list.findIndex((v) => v.id === id) + 1) % list.length].id;
}

/**
 * Fills a <select> with choices [{ id, label }], keeping its current value when possible.
 * @param {HTMLSelectElement} select
 * @param {{ id: string, label: string }[]} choices
 */
export function fillSelect(select, choices) {
  select.replaceChildren(...choices.map((c) => new Option(c.label, c.id)));
}
