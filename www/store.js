// @ts-check
// The store: the one owner and the one writer of the app's state. It holds the settings of
// the property table (state.js), the time t and whether it plays, the chosen point z (as
// coordinates, or null), and the versions of the cloud and the model (counters that change
// whenever the core's cloud or weights change, so caches can key on them). `apply(patch)` is
// its one entry; modules subscribe to the keys they care about. Nothing else assigns state.
import { sanitize, isSetting } from './state.js';

/** @typedef {import('./state.js').Props} Props */
/** @typedef {Record<string, any>} State */
/**
 * A subscriber: called with the new state and the set of keys that changed.
 * @typedef {(state: Readonly<State>, changed: Set<string>) => void} Listener
 */

/** Keys that are not settings of the property table (not sanitized, not saved or shared). */
const RUNTIME = { cloudVersion: 0, modelVersion: 0 };

/** Whether two state values are equal (points compare by coordinates). */
function same(/** @type {any} */ a, /** @type {any} */ b) {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

export class Store {
  /**
   * @param {Props} props the property table
   * @param {State} initial settings (sanitized here)
   */
  constructor(props, initial) {
    this.props = props;
    /** @type {State} */
    this.s = Object.freeze({ ...sanitize(props, initial), ...RUNTIME });
    /** @type {{ keys: Set<string> | null, fn: Listener }[]} */
    this.listeners = [];
  }

  /** The current state (frozen: change it only through apply). */
  get state() { return this.s; }

  /**
   * Applies a patch: settings are checked against the property table (an invalid value
   * throws and changes nothing), then the subscribers of the changed keys run, in the order
   * they subscribed. Returns the set of changed keys.
   * @param {State} patch
   * @returns {Set<string>}
   */
  apply(patch) {
    /** @type {State} */
    const settingsPatch = {};
    /** @type {State} */
    const runtimePatch = {};
    for (const [k, v] of Object.entries(patch)) {
      if (isSetting(this.props, k)) settingsPatch[k] = v;
      else if (Object.prototype.hasOwnProperty.call(RUNTIME, k)) runtimePatch[k] = v;
      else throw new Error(`unknown state key ${k}`);
    }
    const next = { ...this.s, ...sanitize(this.props, { ...this.s, ...settingsPatch }), ...runtimePatch };
    const changed = new Set(Object.keys(next).filter((k) => !same(next[k], this.s[k])));
    if (changed.size === 0) return changed;
    this.s = Object.freeze(next);
    for (const { keys, fn } of this.listeners) {
      if (!keys || [...keys].some((k) => changed.has(k))) fn(this.s, changed);
    }
    return changed;
  }

  /**
   * Calls fn after every change to one of `keys` ('*' for any key). Returns an unsubscribe.
   * @param {string[] | '*'} keys
   * @param {Listener} fn
   */
  subscribe(keys, fn) {
    const entry = { keys: keys === '*' ? null : new Set(keys), fn };
    this.listeners.push(entry);
    return () => { this.listeners = this.listeners.filter((e) => e !== entry); };
  }

  /** The settings only (what is saved and shared). */
  settings() {
    return Object.fromEntries(Object.keys(this.props).map((k) => [k, this.s[k]]));
  }
}
