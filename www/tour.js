// @ts-check
// The guided tour: short steps that walk a newcomer through the open lesson in order, each
// setting up the stage for what it explains. Formulas are MathML (Chromium renders it). The
// steps are the lessons' own (lessons/<id>/tour.js); this module shows them.
import { $, $button } from './ui.js';

/**
 * A step: title, body (HTML + MathML), the element it talks about (a selector; scrolled into
 * view) and the stage set-up: a settings patch, the time (a number, or 'play'), and extras
 * (a tool to select, whether to pick a z, whether to start training).
 * @typedef {{ patch: Record<string, any>, time: number | 'play', tool?: string, pickZ?: boolean,
 *   train?: boolean }} Setup
 * @typedef {{ title: string, body: string, target: string, setup: Setup }} Step
 */

export class Tour {
  /**
   * app: { setUp(step.setup), snapshot() -> state, restore(state), steps() -> the open
   * lesson's steps, lesson() -> the open lesson's id }
   * @param {{ setUp: (setup: Setup) => void, snapshot: () => any, restore: (state: any) => void,
   *   steps: () => Step[], lesson: () => string }} app
   */
  constructor(app) {
    this.app = app;
    this.index = 0;
    /** @type {Step[]} the steps of the lesson the tour was opened in */
    this.steps = [];
    /** @type {HTMLElement | null} where focus was before the tour opened (it goes back there) */
    this.returnFocus = null;
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !$('tour').hidden) { ev.preventDefault(); this.close(); }
    });
    $('tour-next').addEventListener('click',
      () => (this.index === this.steps.length - 1 ? this.close() : this.go(this.index + 1)));
    $('tour-back').addEventListener('click', () => this.go(this.index - 1));
    $('tour-skip').addEventListener('click', () => this.close());
    $('tour-btn').addEventListener('click', () => this.open());
  }
  open() {
    // The tour rearranges the view; closing it puts the user's view back.
    if ($('tour').hidden) {
      Tour.markSeen(this.app.lesson());
      this.steps = this.app.steps();
      this.saved = this.app.snapshot();
      const active = document.activeElement;
      this.returnFocus = active instanceof HTMLElement && active !== document.body ? active : $('tour-btn');
    }
    $('tour').hidden = false;
    $('hint').hidden = true;
    this.go(0);
    $('tour-next').focus();
  }
  close() {
    $('tour').hidden = true;
    if (this.saved) this.app.restore(this.saved);
    this.saved = null;
    (this.returnFocus ?? $('tour-btn')).focus();
    this.returnFocus = null;
  }
  /** Whether the tour is showing. */
  isOpen() { return !$('tour').hidden; }
  /**
   * Whether this browser was offered the tour of `lesson` ('fmp:toured' holds the lessons'
   * ids, comma-separated; '1', written before each lesson had its own, counts for every lesson).
   * @param {string} lesson
   */
  static seen(lesson) {
    try {
      const v = localStorage.getItem('fmp:toured');
      return v === '1' || (v ?? '').split(',').includes(lesson);
    } catch { return true; }
  }
  /** @param {string} lesson */
  static markSeen(lesson) {
    if (Tour.seen(lesson)) return;
    try {
      const v = localStorage.getItem('fmp:toured');
      localStorage.setItem('fmp:toured', [...(v ? v.split(',') : []), lesson].join(','));
    } catch { /* storage unavailable */ }
  }
  go(i) {
    this.index = Math.max(0, Math.min(this.steps.length - 1, i));
    const step = this.steps[this.index];
    $('tour-count').textContent = `Step ${this.index + 1} of ${this.steps.length}`;
    $('tour-title').textContent = step.title;
    $('tour-body').innerHTML = step.body;
    $button('tour-back').disabled = this.index === 0;
    $('tour-next').textContent = this.index === this.steps.length - 1 ? 'Finish' : 'Next';
    this.app.setUp(step.setup);
    $('tour-body').scrollTop = 0;
    // Bring what the step talks about into view (on a phone the tour is a sheet at the bottom).
    const target = document.querySelector(step.target);
    $('tour').classList.toggle('left', !!target?.closest('.panel'));
    const small = matchMedia('(max-width: 900px)').matches;
    const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (target) target.scrollIntoView({ block: small ? 'start' : 'nearest', behavior: smooth ? 'smooth' : 'auto' });
  }
}
