// @ts-check
// The limits of every setting and size, from the core's catalog() (crate/src/limits.rs: one
// source for the page and the command line). The page installs them once its wasm is ready
// (main.js), before anything reads them; the bindings below are live, so every module that
// imports them sees the installed values.

/**
 * One range of the catalog: its name in messages, the page's key for it, its bounds.
 * @typedef {{ name: string, page: string | null, min: number, max: number }} Range
 */
/**
 * The catalog's `limits`: ranges by key, and single numbers.
 * @typedef {Record<string, Range> & { world: number, rescale_above: number, rescale_to: number,
 *   max_file_bytes: number, diverged_loss: number }} Limits
 */

/** Half the side of the world box the stage shows, in data coordinates. */
export let WORLD = NaN;
/** The most points a drawing may hold. */
export let MAX_POINTS = NaN;
/** The most classes a drawing's points may carry (labels 1..MAX_CLASSES). */
export let MAX_CLASSES = NaN;
/** All of them, by the catalog's keys. @type {Limits} */
export let LIMITS = /** @type {Limits} */ ({});

/**
 * Installs the catalog's limits (`JSON.parse(catalog()).limits`).
 * @param {Limits} limits
 */
export function installLimits(limits) {
  LIMITS = limits;
  WORLD = limits.world;
  MAX_POINTS = limits.points.max;
  MAX_CLASSES = limits.class.max;
}

/**
 * The bounds of the catalog's range `key`, for an entry of the property table.
 * @param {string} key
 */
export function bounds(key) {
  const r = LIMITS[key];
  if (!r || typeof r !== 'object') throw new Error(`the catalog has no limits for ${key}`);
  return { min: r.min, max: r.max };
}
