// @ts-check
// Keeping the user's drawing. localStorage holds the last state for reloads; a short list of
// recent drawings keeps every drawing that something replaced (a link, an import, a preset,
// Clear, a restored drawing, or another tab's save), so nothing is lost without the user's
// say; another tab's save is noticed (storage events) and kept, not silently overwritten; and
// when storage is full or disabled the page says so, in a notice that stays until storage works
// again, and points to the CSV export. Each tab also keeps, in sessionStorage, the link to its
// latest state, written when the page is hidden or unloaded: a reload that still carries the
// address bar's older link opens the tab's latest state instead (reload sends the old address).
import { encodeDrawing, decodeDrawing, sanitizeLenient, messageOf } from './state.js';

const KEY = 'fmp:v1';
const RECENT_KEY = 'fmp:recent';
const TAB_KEY = 'fmp:tab';
/** How many replaced drawings are kept. */
export const MAX_RECENT = 8;

/**
 * A stored drawing: settings, points and their labels (encoded, see state.js encodeDrawing),
 * when, why it was kept, and the tab that wrote it.
 * @typedef {{ settings: Record<string, any>, points: string, time: number, why?: string, tab?: string }} Entry
 */


export class Persistence {
  /**
   * @param {{ props: import('./state.js').Props, onProblem: (text: string | null) => void,
   *   onOtherTab: (entry: Entry) => void }} opts
   *   onProblem: storage failed (the text to keep showing), or works again (null); onOtherTab:
   *   another tab saved
   */
  constructor({ props, onProblem, onOtherTab }) {
    this.props = props;
    this.onProblem = onProblem;
    this.tab = Math.random().toString(36).slice(2, 10);
    /** The encoded points this tab last wrote or loaded: a stored entry that differs was written by someone else. */
    /** @type {string | null} */
    this.lastWritten = null;
    this.failed = false;
    /** Embedded in another page (embed=1): reads nothing back later and writes nothing, so an
     * embed on a course page never replaces the visitor's own drawing in this browser. */
    this.readOnly = false;
    window.addEventListener('storage', (ev) => {
      if (ev.key !== KEY || !ev.newValue) return;
      try {
        const entry = /** @type {Entry} */ (JSON.parse(ev.newValue));
        if (entry.tab === this.tab || entry.points === this.lastWritten) return;
        this.remember(entry, 'saved by another tab');
        onOtherTab(entry);
      } catch { /* a damaged entry from elsewhere: nothing to keep */ }
    });
  }

  /**
   * The saved state, or null. Settings that no longer pass their checks are reset (and
   * named in `problem`); the drawing is kept. A damaged drawing throws a readable Error.
   * @returns {{ settings: Record<string, any>, points: Float32Array, labels: Uint8Array,
   *   problem: string | null } | null}
   */
  load() {
    const entry = this.read(KEY);
    if (!entry) return null;
    if (typeof entry.points !== 'string') throw new Error('the saved drawing is damaged');
    const { points, labels } = decodeDrawing(entry.points, 'the saved drawing');
    const { settings, dropped } = sanitizeLenient(this.props, entry.settings);
    this.lastWritten = entry.points;
    const problem = dropped.length
      ? `Some saved settings were out of range and were reset (${dropped.join('; ')}); your drawing is kept.`
      : null;
    return { settings, points, labels, problem };
  }

  /**
   * Saves the current state. A stored drawing that this tab did not write (a link opened
   * over it, another tab's) goes to the recent list first. Returns whether the recent list
   * changed.
   * @param {Record<string, any>} settings
   * @param {ArrayLike<number>} points
   * @param {ArrayLike<number>} [labels]
   */
  save(settings, points, labels = []) {
    if (this.readOnly) return false;
    const encoded = encodeDrawing(points, labels);
    const kept = this.supersede(encoded, 'replaced');
    /** @type {Entry} */
    const entry = { settings, points: encoded, time: Date.now(), tab: this.tab };
    if (this.write(KEY, entry)) this.lastWritten = encoded;
    return kept;
  }

  /**
   * A drawing is about to take the stored one's place (a link opened over it, an edit): the
   * stored drawing goes to the recent list now unless this tab wrote it or it is the same.
   * Returns whether it went there.
   * @param {string} encoded the new drawing (encodeDrawing)
   * @param {string} why
   */
  supersede(encoded, why) {
    if (this.readOnly) return false;
    let stored;
    try { stored = this.read(KEY); } catch { return false; }
    if (!stored || typeof stored.points !== 'string' || stored.points === this.lastWritten
      || stored.points === encoded) return false;
    this.remember(stored, why);
    this.lastWritten = stored.points; // kept: a later save need not keep it again
    return true;
  }

  /**
   * Records this tab's latest state for a reload: `shown` is the hash the address bar held
   * (what a reload will open), `latest` the hash of the current state. The page is hidden and
   * then unloaded (two calls, the second seeing the address the first wrote): the addresses
   * shown before, that led to the same state, are kept with it.
   * @param {string} shown
   * @param {string} latest
   */
  rememberTab(shown, latest) {
    if (this.readOnly) return;
    try {
      const old = this.readTab();
      const before = old && old.latest === shown ? old.shown : [];
      const entry = { shown: [shown, ...before.filter((h) => h !== shown)].slice(0, 4), latest };
      sessionStorage.setItem(TAB_KEY, JSON.stringify(entry));
    } catch { /* nothing to keep it in */ }
  }

  /** This tab's record (rememberTab), or null. @returns {{ shown: string[], latest: string } | null} */
  readTab() {
    try {
      const tab = JSON.parse(sessionStorage.getItem(TAB_KEY) ?? 'null');
      if (tab && typeof tab.latest === 'string' && Array.isArray(tab.shown)
        && tab.shown.every((/** @type {unknown} */ h) => typeof h === 'string')) return tab;
    } catch { /* unreadable: none */ }
    return null;
  }

  /**
   * The hash to open at start-up: this tab's latest state when the address bar still holds
   * a link this tab showed (a reload), else the address bar's own (none: the saved state).
   * @param {string} hash location.hash
   */
  tabHash(hash) {
    // No link at all: the saved state (written when the page was left) is the latest.
    if (hash.length <= 1) return hash;
    const tab = this.readTab();
    return tab && tab.latest.length > 1 && (tab.shown.includes(hash) || hash === tab.latest) ? tab.latest : hash;
  }

  /**
   * Keeps a drawing in the recent list (newest first; the same drawing once; empty ones not).
   * @param {Entry} entry
   * @param {string} why
   */
  remember(entry, why) {
    if (!entry.points) return;
    const list = this.recent().filter((e) => e.points !== entry.points);
    list.unshift({ settings: entry.settings, points: entry.points, time: entry.time ?? Date.now(), why });
    this.write(RECENT_KEY, list.slice(0, MAX_RECENT));
  }

  /**
   * Keeps the current drawing before something replaces it.
   * @param {Record<string, any>} settings
   * @param {ArrayLike<number>} points
   * @param {string} why
   * @param {ArrayLike<number>} [labels]
   */
  keep(settings, points, why, labels = []) {
    if (this.readOnly) return;
    if (points.length > 0) this.remember({ settings, points: encodeDrawing(points, labels), time: Date.now() }, why);
  }

  /** The recent drawings, newest first (an unreadable list is empty). @returns {Entry[]} */
  recent() {
    const list = this.read(RECENT_KEY);
    return Array.isArray(list) ? list.filter((e) => e && typeof e.points === 'string') : [];
  }

  /**
   * A recent drawing, decoded: { settings, points, labels, dropped }.
   * @param {number} i
   */
  restore(i) {
    const entry = this.recent()[i];
    if (!entry) throw new Error('that drawing is no longer in the list');
    const { settings, dropped } = sanitizeLenient(this.props, entry.settings);
    return { settings, ...decodeDrawing(entry.points, 'the recent drawing'), dropped };
  }

  /** @param {string} key */
  read(key) {
    let raw;
    try { raw = localStorage.getItem(key); } catch { return null; }
    if (!raw) return null;
    try { return JSON.parse(raw); } catch { throw new Error('the saved drawing is damaged'); }
  }

  /**
   * @param {string} key
   * @param {any} value
   * @returns {boolean} whether it was stored
   */
  write(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
      if (this.failed && key === KEY) {
        this.failed = false;
        this.onProblem(null);
      }
      return true;
    } catch (err) {
      if (!this.failed) {
        this.failed = true;
        const full = /quota/i.test(messageOf(err)) || (err instanceof DOMException && err.name === 'QuotaExceededError');
        this.onProblem(`This browser did not let the page save your drawing `
          + `(${full ? 'its storage is full' : 'storage is disabled'}). `
          + 'It stays here until you close the page: use Export CSV or Share link to keep it.');
      }
      return false;
    }
  }
}

/**
 * The "Recent drawings" menu: lists what `persist` keeps and restores a choice through
 * `open(settings, points, labels)` (which returns the restored point count). Returns a function
 * that refreshes the list.
 * @param {HTMLSelectElement} select
 * @param {Persistence} persist
 * @param {(settings: Record<string, any>, points: Float32Array, labels: Uint8Array) => number} open
 * @param {(text: string, kind?: 'info' | 'error') => void} say
 */
export function attachRecent(select, persist, open, say) {
  const time = (/** @type {number} */ ms) =>
    new Date(ms).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' });
  const show = () => {
    const list = persist.recent();
    select.replaceChildren(new Option(list.length ? `Recent drawings (${list.length})` : 'No recent drawings', ''),
      ...list.map((e, i) => {
        const n = Math.round((e.points.split('.')[0].length * 3) / 16); // base64 of 16 bits per coordinate
        return new Option(`${n.toLocaleString('en')} points, ${e.why ?? 'saved'}, ${time(e.time)}`, String(i));
      }));
    select.disabled = list.length === 0;
  };
  select.addEventListener('change', () => {
    const i = Number(select.value);
    const chosen = select.value !== '';
    select.value = '';
    if (!chosen || !Number.isInteger(i)) return;
    try {
      const { settings, points, labels, dropped } = persist.restore(i);
      const n = open(settings, points, labels);
      say(`Restored a drawing of ${n.toLocaleString('en')} points`
        + `${dropped.length ? ` (reset: ${dropped.join('; ')})` : ''}; `
        + 'the one it replaced is in the list.');
    } catch (err) {
      say(`That drawing could not be restored (${messageOf(err)}). Your drawing is unchanged.`, 'error');
    }
    show();
  });
  show();
  return show;
}
