// @ts-check
// The loss history and its chart (drawn by the wasm core with plotters-canvas, throttled).
// Every reported step carries L_CFM and the exact L_FM on the same batch; the chart shows
// exponential moving averages of both and of their difference.
import { draw_loss_chart } from './pkg/fmp.js';
import { $, setIfChanged, fitChart } from './ui.js';
import { fmt } from './render.js';

const MAX_POINTS = 600;
const EMA = 0.15;
const REDRAW_MS = 250;

export class LossChart {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    /** @type {number[]} */ this.steps = [];
    /** @type {number[]} */ this.cfm = [];
    /** @type {number[]} */ this.fm = [];
    /** @type {{ cfm: number, fm: number } | null} */ this.ema = null;
    this.cos = NaN;
    this.dirty = true;
    /** C = L_CFM - L_FM of the drawing (Monte Carlo) and its standard error, or NaN. */
    this.gap = NaN;
    this.gapErr = NaN;
    /** What the network trains on: 'independent' pairs (L_FM and C known), 'labels' (a
     * class-conditional network: L_FM against each sample's class field, but C is of the
     * unlabelled drawing: left out), 'ot'-coupled batches or a reflow's fixed 'pairs' (only
     * L_CFM: the chart leaves the others out). */
    this.pairing = 'independent';
    this.reset();
    this.lastDraw = 0;
  }
  /** Forgets the history (a new network). */
  reset() {
    this.steps = []; this.cfm = []; this.fm = [];
    this.ema = null;
    this.cos = NaN;
    this.dirty = true;
  }
  /**
   * What the network trains on (see `pairing`); a new network starts a new history anyway.
   * @param {'independent' | 'labels' | 'ot' | 'pairs'} pairing
   */
  setPairing(pairing) {
    this.pairing = pairing;
    this.dirty = true;
  }
  /** Adds one reported step; non-finite values are skipped (L_FM is NaN unless the pairs are independent). */
  push(step, cfm, fm, cos) {
    const fmKnown = this.pairing === 'independent' || this.pairing === 'labels';
    if (!Number.isFinite(cfm) || (fmKnown && !Number.isFinite(fm))) return;
    this.ema = this.ema
      ? { cfm: this.ema.cfm + EMA * (cfm - this.ema.cfm), fm: this.ema.fm + EMA * (fm - this.ema.fm) }
      : { cfm, fm };
    if (Number.isFinite(cos)) this.cos = Number.isFinite(this.cos) ? this.cos + EMA * (cos - this.cos) : cos;
    this.steps.push(step); this.cfm.push(this.ema.cfm); this.fm.push(this.ema.fm);
    if (this.steps.length > MAX_POINTS) {
      // Keep every other point: the chart stays cheap however long training runs.
      for (const a of [this.steps, this.cfm, this.fm]) {
        let w = 0;
        for (let i = 0; i < a.length; i += 2) a[w++] = a[i];
        a.length = w;
      }
    }
    this.dirty = true;
  }
  /**
   * The constant C of the current drawing and schedule (drawn as a dashed line: the floor of
   * L_CFM).
   * @param {number} c
   * @param {number} stderr
   */
  setGap(c, stderr) {
    this.gap = c;
    this.gapErr = stderr;
    this.dirty = true;
  }
  /**
   * Shows the current values in the legend beside the chart, and the chart's text alternative.
   * @param {{ cfm: number, fm: number, diff: number } | null} latest
   */
  showValues(latest) {
    const show = (/** @type {string} */ id, /** @type {number | undefined} */ v) =>
      setIfChanged($(id), 'textContent', v === undefined ? '–' : fmt(v));
    show('lv-cfm', latest?.cfm);
    show('lv-fm', latest?.fm);
    show('lv-diff', latest?.diff);
    const step = this.steps.at(-1);
    setIfChanged(this.canvas, 'ariaLabel', latest && step !== undefined
      ? `Loss chart, log scale, at step ${step.toLocaleString('en')}: L_CFM ${fmt(latest.cfm)}, L_FM `
        + `${fmt(latest.fm)}, their difference ${fmt(latest.diff)}`
      : 'Loss chart: no training yet');
  }
  /** The latest smoothed values, or null. */
  latest() {
    return this.ema ? { ...this.ema, diff: this.ema.cfm - this.ema.fm, cos: this.cos } : null;
  }
  /** Redraws when something changed and the last draw is old enough (or `force`). */
  draw(now = performance.now(), force = false) {
    if (!this.dirty || (!force && now - this.lastDraw < REDRAW_MS)) return;
    if (!fitChart(this.canvas)) return;
    const [steps, cfm, fm] = [this.steps, this.cfm, this.fm].map((a) => Float32Array.from(a));
    draw_loss_chart(this.canvas, steps, cfm, fm, this.pairing === 'independent' ? this.gap : NaN);
    this.dirty = false;
    this.lastDraw = now;
  }
}
