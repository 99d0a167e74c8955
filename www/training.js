// @ts-check
// The training controls: the Train/Step/Reset buttons, whether training runs or diverged, the
// steps counter and the loss chart feed. The workers belong to the session.
import { $, $button, showMessage } from './ui.js';

/** @typedef {import('./session.js').Session} Session */
/** @typedef {import('./session.js').NetConfig} NetConfig */
/** @typedef {import('./chart.js').LossChart} LossChart */
/** @typedef {import('./draw.js').Cloud} Cloud */

/**
 * The line under the training settings: how many workers train, how their numbers travel, and
 * the matrix kernel (as the training worker reported them; the rate is in the line above).
 * @param {number} workers
 * @param {string} transport 'one worker', 'shared memory' or 'transferred buffers'
 * @param {string} kernel
 */
export function workersNote(workers, transport, kernel) {
  const cores = navigator.hardwareConcurrency || 0;
  const kernelName = { 'relaxed-simd': 'relaxed-SIMD', simd128: 'SIMD' }[kernel] ?? kernel;
  const who = workers === 1 ? '1 training worker'
    : `${workers} training workers, each computing its share of every batch, over ${transport}`;
  const machine = cores
    ? ` This machine reports ${cores} logical cores; the page and the particle flow take one each.` : '';
  const isolation = workers > 1 && transport === 'transferred buffers'
    ? ' (The page is not cross-origin isolated, so the workers exchange messages instead of sharing memory.)' : '';
  return `${who} (${kernelName} matrix kernel).${machine}${isolation}`;
}

export class Training {
  /**
   * @param {{ session: Session, cloud: Cloud, chart: LossChart, config: () => NetConfig,
   *   points: () => Float32Array, labels: () => Uint8Array, resetOnEdit?: () => string | null }} opts
   *   config(): the network and training settings of the current state; points(): the points
   *   to train on (the drawing, or its training share while some are held out); labels():
   *   theirs (a labelled network learns them); resetOnEdit(): why an edited drawing needs a
   *   fresh network (a lesson's network that learned something else than the drawing), or null
   */
  constructor(opts) {
    const { session, cloud, chart, config, points, labels } = opts;
    this.app = opts;
    this.session = session;
    this.cloud = cloud;
    this.points = points;
    this.labels = labels;
    this.chart = chart;
    this.config = config;
    this.running = false;
    this.diverged = false;
    this.started = false; // a network exists in the worker
    /** The steps the current network has trained (0 for a fresh one). */
    this.steps = 0;
  }

  /** A fresh network on the current cloud (keeps running if it was). */
  reset() {
    this.chart.reset();
    const c = this.config();
    this.chart.setPairing(c.labelled ? 'labels' : c.coupling === 'ot' ? 'ot' : 'independent');
    this.diverged = false;
    this.steps = 0;
    $('steps').textContent = '0';
    if (this.cloud.count === 0) {
      this.started = false;
      this.running = false;
      this.session.clear();
    } else {
      this.session.reset(this.config(), this.points(), this.running, this.labels());
      this.started = true;
    }
    this.updateButtons();
  }

  /** Starts or pauses training (ignored when there is nothing to train on). */
  toggle(on = !this.running) {
    if (on && (this.cloud.count === 0 || this.diverged)) return;
    if (on && !this.started) this.reset();
    this.running = on;
    if (on) this.session.play(); else this.session.pause();
    this.updateButtons();
  }

  /** @param {number} [n] optimiser steps (one for the Step button) */
  step(n = 1) { if (!this.running && this.cloud.count > 0 && !this.diverged) this.session.step(n); }

  /** @param {number} lr the learning rate changed: applied without a reset */
  setLr(lr) { this.session.setLr(lr); }

  /** The cloud changed: training continues on it (or stops, and the network goes, when empty). */
  cloudChanged() {
    if (this.cloud.count === 0) {
      if (this.started) this.reset();
      showMessage('The cloud is empty: draw some points (or load a preset) to train.', 'info', 'empty');
    } else if (!this.started) {
      this.reset();
    } else if (this.app.resetOnEdit?.()) {
      // A network that did not learn the drawing itself (a lesson says why) starts afresh.
      const why = this.app.resetOnEdit?.() ?? '';
      this.reset();
      showMessage(why, 'info');
    } else {
      this.session.setPoints(this.points(), this.labels());
    }
    this.updateButtons();
  }

  updateButtons() {
    const empty = this.cloud.count === 0;
    const train = $button('train');
    train.textContent = this.running ? 'Pause' : 'Train';
    train.disabled = empty || this.diverged;
    train.setAttribute('aria-pressed', String(this.running));
    $button('step').disabled = empty || this.running || this.diverged;
    train.title = empty ? 'Draw some points first' : this.diverged ? 'Training diverged: press Reset' : 'Train (Space)';
  }

  /**
   * @param {{ steps: number, cfm: number, fm: number, cos: number, stepsPerSec: number,
   *   workers?: number, transport?: string, kernel?: string }} m
   */
  onProgress(m) {
    this.steps = m.steps;
    $('steps').textContent = m.steps.toLocaleString('en');
    $('rate').textContent = Math.round(m.stepsPerSec).toLocaleString('en');
    this.chart.push(m.steps, m.cfm, m.fm, m.cos);
    if (m.workers) $('workers-note').textContent = workersNote(m.workers, m.transport ?? '', m.kernel ?? '');
  }

  /**
   * The team the next steps train with (the setting arrived, or a helper failed).
   * @param {{ workers: number, transport: string, kernel: string, fellBack?: boolean }} m
   */
  onTeam(m) { $('workers-note').textContent = workersNote(m.workers, m.transport, m.kernel); }

  /** @param {number} steps */
  onDiverged(steps) {
    this.running = false;
    this.diverged = true;
    this.updateButtons();
    showMessage(`Training diverged at step ${steps}: the loss exploded (learning rate ${this.config().lr} is too `
      + `large?). Lower the learning rate and press Reset; your drawing is kept.`, 'error');
  }

  /** @param {string} message */
  onError(message) {
    this.running = false;
    this.updateButtons();
    showMessage(`Training stopped: ${message}`, 'error');
  }

  /** @param {string} reason the training worker died and a new one started */
  onRestart(reason) {
    showMessage(`The training worker stopped (${reason}); a new one started with your drawing.`, 'error');
    this.running = false;
    this.reset();
  }
}
