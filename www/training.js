// The training side of the page: the training worker, its state (running, diverged), the
// Train/Step/Reset buttons and the loss chart feed. A dead worker is replaced, keeping the
// drawing.
import { WorkerClient } from './clients.js';
import { $, showMessage } from './ui.js';

export class Training {
  /**
   * opts: { settings, cloud, chart, timeFeatures, onWeights(config, weights) }
   */
  constructor(opts) {
    Object.assign(this, opts);
    this.running = false;
    this.diverged = false;
    this.started = false; // a network exists in the worker
    this.generation = 0; // of the network; messages of older ones are dropped
    this.worker = new WorkerClient(new URL('./train.worker.js', import.meta.url), (m) => this.onMessage(m), (reason) => {
      showMessage(`The training worker stopped (${reason}); a new one started with your drawing.`, 'error');
      this.running = false;
      this.reset();
    });
  }

  config() {
    const s = this.settings;
    return { width: s.width, depth: s.depth, timeFeatures: this.timeFeatures, batch: s.batch, lr: s.lr, schedule: s.schedule, seed: s.seed };
  }

  /** A fresh network on the current cloud (keeps running if it was). */
  reset() {
    this.chart.reset();
    this.diverged = false;
    $('steps').textContent = '0';
    if (this.cloud.count === 0) { this.started = false; return this.updateButtons(); }
    this.generation += 1;
    this.worker.post({ type: 'reset', config: this.config(), points: this.cloud.points(), generation: this.generation });
    this.started = true;
    if (this.running) this.worker.post({ type: 'play' });
    this.updateButtons();
  }

  /** Starts or pauses training (ignored when there is nothing to train on). */
  toggle(on = !this.running) {
    if (on && (this.cloud.count === 0 || this.diverged)) return;
    if (on && !this.started) this.reset();
    this.running = on;
    this.worker.post({ type: on ? 'play' : 'pause' });
    this.updateButtons();
  }

  /** One optimiser step. */
  step() { if (!this.running && this.cloud.count > 0 && !this.diverged) this.worker.post({ type: 'step', n: 1 }); }

  /** The learning rate changed: applied without a reset. */
  setLr(lr) { this.worker.post({ type: 'lr', lr }); }

  /** The cloud changed: training continues on it (or stops when it is empty). */
  cloudChanged(points) {
    if (this.cloud.count === 0) {
      if (this.running) this.toggle(false);
      showMessage('The cloud is empty: draw some points (or load a preset) to train.');
    } else if (!this.started) {
      this.reset();
    } else {
      this.worker.post({ type: 'points', points });
    }
    this.updateButtons();
  }

  updateButtons() {
    const empty = this.cloud.count === 0;
    const train = $('train');
    train.textContent = this.running ? 'Pause' : 'Train';
    train.disabled = empty || this.diverged;
    train.setAttribute('aria-pressed', String(this.running));
    $('step').disabled = empty || this.running || this.diverged;
    train.title = empty ? 'Draw some points first' : this.diverged ? 'Training diverged: press Reset' : 'Train (Space)';
  }

  onMessage(m) {
    if (m.generation !== undefined && m.generation !== this.generation) return;
    switch (m.type) {
      case 'progress':
        $('steps').textContent = m.steps.toLocaleString('en');
        $('rate').textContent = Math.round(m.stepsPerSec).toLocaleString('en');
        this.chart.push(m.steps, m.cfm, m.fm, m.cos);
        break;
      case 'weights':
        this.onWeights(m.config, m.weights);
        break;
      case 'diverged':
        this.running = false;
        this.diverged = true;
        this.updateButtons();
        showMessage(`Training diverged at step ${m.steps}: the loss exploded (learning rate ${this.settings.lr} is too large?). Lower the learning rate and press Reset; your drawing is kept.`, 'error');
        break;
      case 'error':
        if (m.fatal) this.worker.restart(m.message);
        else { this.running = false; this.updateButtons(); showMessage(`Training stopped: ${m.message}`, 'error'); }
        break;
    }
  }
}
