// @ts-check
// The session: owns both workers and the channel between them. The training worker trains
// and posts each weight snapshot twice, transferred: to the flow worker directly over a
// MessageChannel, and to the page (for arrows, heatmaps and the inspector). The flow worker
// integrates particle trajectories; the page only plays them back. A dead worker is replaced
// and given the state again; the channel is rebuilt whenever either side is new.
//
// Generations: every new network (and every clear) has a new generation number; messages
// about older networks are dropped on both sides, so no old weights outlive a reset or a clear.
import { Trajectory } from './particles.js';

/**
 * A network's settings; `labelled`: class-conditional (the guidance lesson), learning the
 * labels with label dropout.
 * @typedef {{ width: number, depth: number, timeFeatures: number, batch: number, lr: number,
 *   schedule: string, coupling: string, seed: number, labelled: boolean }} NetConfig
 */
/** @typedef {{ particles: number, seed: number, solver: string, steps: number }} FlowSetup */
/**
 * A flow: the learned, exact and uniform ODE flows, the SDE flows, the guided flows, the
 * straight reference 'ot', and `frozen<id>`, the flow of a network a reflow froze.
 * @typedef {'learned' | 'exact' | 'uniform' | 'learned_sde' | 'exact_sde' | 'learned_guided' | 'exact_guided'
 *   | 'ot' | `frozen${number}`} FlowKind
 */
/**
 * A network a reflow froze (the straight-paths lesson compares it with the newer ones):
 * its id (its place in the chain), what it was (base coupling and reflow round), its steps.
 * @typedef {{ id: number, coupling: string, round: number, steps: number, config: NetConfig,
 *   weights: Float32Array }} FrozenNet
 */
/**
 * The diffusion lesson's settings for the flow worker: SDE flows when `on`, Langevin at the
 * frozen time `langevin` (or null).
 * @typedef {{ on: boolean, sigma: number, correction: boolean, langevin: number | null }} SdeSetup
 */
/** @typedef {{ t: number, tUsed: number, ode: number, sde: number, floor: number }} MatchRow */
/**
 * What the session reports to the page.
 * @typedef {{
 *   onProgress: (m: { steps: number, cfm: number, fm: number, cos: number, stepsPerSec: number }) => void,
 *   onWeights: (config: NetConfig, weights: Float32Array) => void,
 *   onDiverged: (steps: number) => void,
 *   onTrainError: (message: string) => void,
 *   onTrainNotice?: (message: string) => void,
 *   onTeam?: (m: { workers: number, transport: string, kernel: string, fellBack?: boolean }) => void,
 *   onTrajectory: (kind: FlowKind) => void,
 *   onFlowError: (message: string) => void,
 *   onRestart: (which: 'training' | 'flow', reason: string) => void,
 *   onGap: (c: number, stderr: number) => void,
 *   onMatch?: (m: { rows: MatchRow[] }) => void,
 *   onW2Sigma?: (m: { generation: number, steps: number, sigmas: number[], values: number[] }) => void,
 *   onLangevin?: (m: { t: number, step: number, data: Float32Array, ed: number, floor: number,
 *     moved: number, done?: boolean }) => void,
 *   onStraight?: (m: { id: number | 'current' | 'ot', steps: number, s: number, crossings: number,
 *     particles: number }) => void,
 *   onNfe?: (m: { id: number | 'current', steps: number, values: number[], particles: number }) => void,
 *   onCost?: (m: { batch: number, rounds: number, rates: Record<string, number> }) => void,
 *   onGuideFig?: (m: { klass: number, steps: number, w: number[], exact: number[][], learned: number[][],
 *     particles: number }) => void,
 *   onReflow?: (m: { type: 'frozen' | 'reflow-progress' | 'reflow-failed', done?: number, total?: number,
 *     message?: string }) => void,
 * }} SessionEvents
 */

/** How often the session asks each worker whether it is alive, and how long an answer may take. */
const PING_MS = 1000;
const DEAD_MS = 6000;

/**
 * A module worker that is replaced when it dies: an uncaught error, a reported trap, or
 * silence (a worker that does not answer a ping within DEAD_MS was terminated or hangs).
 */
class WorkerHandle {
  /**
   * @param {URL} url
   * @param {(data: any) => void} onMessage
   * @param {(reason: string) => void} onRestart called after a new worker started
   */
  constructor(url, onMessage, onRestart) {
    this.url = url;
    this.onMessage = onMessage;
    this.onRestart = onRestart;
    this.restarts = 0;
    /** @type {number | null} when the unanswered ping was sent */
    this.pingSent = null;
    /** @type {Worker} */
    this.worker = this.start();
  }
  start() {
    const w = new Worker(this.url, { type: 'module' });
    this.pingSent = null;
    w.onmessage = (ev) => {
      if (ev.data?.type === 'pong') { this.pingSent = null; return; }
      this.onMessage(ev.data);
    };
    w.onerror = (ev) => { ev.preventDefault(); this.restart(ev.message || 'the worker stopped'); };
    return w;
  }
  /**
   * Sends a message (with optional transferables).
   * @param {any} msg
   * @param {Transferable[]} [transfer]
   */
  post(msg, transfer = []) { this.worker.postMessage(msg, transfer); }
  /**
   * Called every PING_MS: replaces the worker if its last ping went unanswered for DEAD_MS
   * (counted from the ping, so a page whose timers are throttled in the background does not
   * mistake its own slowness for the worker's), else sends a new ping.
   * @param {number} now
   */
  watch(now) {
    if (this.pingSent === null) { this.pingSent = now; this.post({ type: 'ping' }); }
    else if (now - this.pingSent > DEAD_MS) this.restart('it stopped responding');
  }
  /** @param {string} reason */
  restart(reason) {
    this.worker.terminate();
    this.restarts += 1;
    this.worker = this.start();
    this.onRestart(reason);
  }
}

export class Session {
  /** @param {SessionEvents} events */
  constructor(events) {
    this.events = events;
    this.generation = 0;
    this.duty = 1;
    /** The number of the latest diffusion inputs (SDE settings, cloud, flow set-up): SDE,
     * Langevin, match and probe messages begun under an older one are dropped. */
    this.sdeSerial = 0;
    /** Whether the newest weights are those of a paused (or never started) trainer. */
    this.settled = true;
    /** @typedef {Trajectory | null} Traj */
    /** By FlowKind. @type {{ [kind: string]: Traj, learned: Traj, exact: Traj }} */
    this.traj = { learned: null, exact: null, uniform: null, learned_sde: null, exact_sde: null, ot: null };
    /** The straight-paths lesson: the current network's place in its reflow chain (its base
     * coupling, how many reflow rounds made it), the networks reflows froze, and whether a
     * reflow is computing its pairs. */
    this.chain = { coupling: 'independent', round: 0 };
    /** @type {FrozenNet[]} */
    this.frozen = [];
    this.reflowing = false;
    this.straightOn = false;
    /** How many particles the straight reference's flow stands for (it pairs at most 1,000). */
    this.otOf = 0;
    /** The guidance lesson's flows: on, the sampled class and the scale. */
    this.guide = { on: false, klass: 1, w: 1 };
    /** The energy distance of the learned particles at t = 1 to the exact ones (the flow
     * worker measures it when both are complete), or null. */
    /** @type {number | null} */
    this.fit = null;
    /** The last inputs, replayed to a new worker. */
    this.last = {
      /** @type {{ config: NetConfig, points: Float32Array, labels: Uint8Array } | null} */ net: null,
      /** @type {FlowSetup | null} */ setup: null,
      /** @type {{ points: Float32Array, schedule: string, labels: Uint8Array } | null} */ cloud: null,
      /** @type {FlowKind | null} */ extra: null,
      /** @type {{ config: NetConfig, weights: Float32Array, steps?: number } | null} */ weights: null,
      /** @type {SdeSetup} */ sde: { on: false, sigma: 1, correction: true, langevin: null },
      running: false,
    };
    /** How many training workers share each batch (the leader and its helpers, team.js). */
    this.workers = 1;
    this.train = new WorkerHandle(new URL('./train.worker.js', import.meta.url), (m) => this.fromTrainer(m), (reason) => {
      this.connect();
      this.train.post({ type: 'workers', n: this.workers });
      this.events.onRestart('training', reason); // the page resets the network on it

    });
    this.flow = new WorkerHandle(new URL('./flow.worker.js', import.meta.url), (m) => this.fromFlow(m), (reason) => {
      this.connect();
      this.flow.post({ type: 'generation', generation: this.generation });
      if (this.last.setup) this.flow.post({ type: 'setup', ...this.last.setup, serial: this.sdeSerial });
      if (this.last.cloud) this.flow.post({ type: 'cloud', ...this.last.cloud, serial: this.sdeSerial });
      this.flow.post({ type: 'extra', kind: this.last.extra });
      this.flow.post({ type: 'sde', ...this.last.sde, serial: this.sdeSerial });
      const w = this.last.weights;
      if (w) this.flow.post({ type: 'model', generation: this.generation, config: w.config, weights: w.weights.slice() });
      this.flow.post({ type: 'straight', on: this.straightOn });
      this.flow.post({ type: 'guide', ...this.guide });
      this.postFrozen();
      this.events.onRestart('flow', reason);
    });
    this.connect();
    setInterval(() => { const now = performance.now(); this.train.watch(now); this.flow.watch(now); }, PING_MS);
  }

  /**
   * The share of the time the workers compute (1: all of it). The page lowers it while its
   * frames are slow, so that on a machine with few cores the animation keeps up.
   * @param {number} duty
   */
  setDuty(duty) {
    if (duty === this.duty) return;
    this.duty = duty;
    this.train.post({ type: 'duty', duty });
    this.flow.post({ type: 'duty', duty });
  }

  /**
   * The number of training workers (a data-parallel team from the next step on; the
   * network is kept).
   * @param {number} n
   */
  setWorkers(n) {
    this.workers = n;
    this.train.post({ type: 'workers', n });
  }

  /** A new channel from the training worker to the flow worker (each end transferred). */
  connect() {
    const { port1, port2 } = new MessageChannel();
    this.train.post({ type: 'port', port: port1 }, [port1]);
    this.flow.post({ type: 'port', port: port2 }, [port2]);
  }

  // ---- training ----

  /**
   * A new network on `points` (a new generation); keeps training when `running`.
   * @param {NetConfig} config
   * @param {Float32Array} points
   * @param {boolean} running
   * @param {Uint8Array} labels one per point (a labelled network learns them)
   */
  reset(config, points, running, labels) {
    this.generation += 1;
    this.dropChain(config.coupling);
    this.last.net = { config, points, labels };
    this.last.weights = null;
    this.last.running = running;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ type: 'reset', config, points, labels, generation: this.generation, running });
  }
  /** No network (the cloud is empty): the trainer is dropped and learned particles vanish. */
  clear() {
    this.generation += 1;
    this.dropChain(this.chain.coupling);
    this.last.net = null;
    this.last.weights = null;
    this.last.running = false;
    this.traj.learned = null;
    this.traj.learned_sde = null;
    this.fit = null;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ type: 'clear', generation: this.generation });
  }
  /**
   * A new network starts a new chain: the frozen ones go.
   * @param {string} coupling
   */
  dropChain(coupling) {
    this.chain = { coupling, round: 0 };
    this.reflowing = false;
    if (this.frozen.length) { this.frozen = []; this.postFrozen(); }
    for (const key of Object.keys(this.traj)) if (key.startsWith('frozen')) delete this.traj[key];
  }
  /** The frozen networks to the flow worker (copies of their weights). */
  postFrozen() {
    this.flow.post({
      type: 'frozen', models: this.frozen.map((f) => ({ id: f.id, steps: f.steps, config: f.config, weights: f.weights.slice() })),
    });
  }
  /**
   * A reflow round (a new generation): the training worker computes pairs from the current
   * network's ODE, freezes it, and trains a fresh one on the pairs.
   * @param {number} seed of the reflow noise
   */
  reflow(seed) {
    this.generation += 1;
    this.reflowing = true;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ type: 'reflow', generation: this.generation, seed });
  }
  /** @param {boolean} on whether the straight-paths lesson is open (its flows and measures) */
  setStraight(on) {
    if (on === this.straightOn) return;
    this.straightOn = on;
    this.flow.post({ type: 'straight', on });
  }
  /**
   * The guidance lesson's guided flows (class `klass`, scale `w`) and figures, while `on`; a
   * change drops the guided trajectories (they are recomputed).
   * @param {{ on: boolean, klass: number, w: number }} g
   */
  setGuide(g) {
    const old = this.guide;
    if (old.on === g.on && old.klass === g.klass && old.w === g.w) return;
    this.guide = { ...g };
    this.traj.exact_guided = null;
    this.traj.learned_guided = null;
    this.flow.post({ type: 'guide', ...g });
  }
  /** Asks the training worker to time a step with each coupling. */
  measureCost() { this.train.post({ type: 'cost' }); }
  /** Starts training. */
  play() { this.last.running = true; this.train.post({ type: 'play' }); }
  /** Pauses training. */
  pause() { this.last.running = false; this.settled = false; this.train.post({ type: 'pause' }); }
  /** One optimiser step (when paused). */
  /** @param {number} [n] optimiser steps to take (paused) */
  step(n = 1) { this.train.post({ type: 'step', n }); }
  /** @param {number} lr a new learning rate, applied without a reset */
  setLr(lr) {
    if (this.last.net) this.last.net.config = { ...this.last.net.config, lr };
    this.train.post({ type: 'lr', lr });
  }
  /**
   * Training continues on an edited cloud.
   * @param {Float32Array} points
   * @param {Uint8Array} labels
   */
  setPoints(points, labels) {
    if (this.last.net) this.last.net = { ...this.last.net, points, labels };
    this.train.post({ type: 'points', points, labels });
  }

  /** @param {any} m */
  fromTrainer(m) {
    if (m.generation !== undefined && m.generation !== this.generation) return;
    switch (m.type) {
      case 'progress': this.events.onProgress(m); break;
      case 'weights':
        this.last.weights = { config: m.config, weights: m.weights, steps: m.steps };
        this.settled = m.paused;
        this.events.onWeights(m.config, m.weights);
        break;
      case 'diverged': this.last.running = false; this.events.onDiverged(m.steps); break;
      case 'frozen':
        this.reflowing = false;
        this.frozen.push({
          id: this.frozen.length, coupling: this.chain.coupling, round: this.chain.round, steps: m.steps,
          config: m.config, weights: m.weights,
        });
        this.chain = { ...this.chain, round: this.chain.round + 1 };
        this.traj.learned = null;
        this.postFrozen();
        this.events.onReflow?.(m);
        break;
      case 'reflow-progress': this.events.onReflow?.(m); break;
      case 'reflow-failed': this.reflowing = false; this.events.onReflow?.(m); break;
      case 'cost': this.events.onCost?.(m); break;
      case 'team': this.events.onTeam?.(m); break;
      case 'notice': this.events.onTrainNotice?.(m.message); break;
      case 'error':
        if (m.fatal) this.train.restart(m.message);
        else { this.last.running = false; this.events.onTrainError(m.message); }
        break;
      default: break;
    }
  }

  // ---- flows ----

  /** @param {FlowSetup} setup particle count, seed, solver and steps: everything is recomputed */
  setupFlows(setup) {
    this.last.setup = setup;
    this.sdeSerial += 1;
    this.flow.post({ type: 'setup', ...setup, serial: this.sdeSerial });
  }
  /**
   * The cloud, its labels (one per point) and the schedule of the exact flows.
   * @param {Float32Array} points
   * @param {string} schedule
   * @param {Uint8Array} labels
   */
  setCloud(points, schedule, labels) {
    this.last.cloud = { points, schedule, labels };
    // No cloud, nothing to flow to: drop the particles of the old one.
    if (points.length === 0) {
      this.traj = { learned: null, exact: null, uniform: null, learned_sde: null, exact_sde: null, ot: null };
    }
    this.sdeSerial += 1;
    this.fit = null;
    this.flow.post({ type: 'cloud', points, schedule, labels, serial: this.sdeSerial });
  }
  /**
   * The diffusion lesson: SDE flows, their noise, and Langevin at a frozen time. A change of
   * the noise drops the SDE trajectories (they are recomputed).
   * @param {SdeSetup} sde
   */
  setSde(sde) {
    const old = this.last.sde;
    const noise = old.sigma !== sde.sigma || old.correction !== sde.correction;
    if (!noise && old.on === sde.on && old.langevin === sde.langevin) return;
    if (noise || !sde.on) { this.traj.exact_sde = null; this.traj.learned_sde = null; }
    this.last.sde = { ...sde };
    this.sdeSerial += 1;
    this.flow.post({ type: 'sde', ...sde, serial: this.sdeSerial });
  }
  /** @param {FlowKind | null} kind a further flow to compute ('uniform'), or none */
  setExtra(kind) {
    this.last.extra = kind;
    this.flow.post({ type: 'extra', kind });
  }

  /** @param {any} m */
  fromFlow(m) {
    if (m.generation !== undefined && m.generation !== this.generation) return;
    if (m.serial !== undefined && m.serial !== this.sdeSerial) return; // of older diffusion inputs
    if (m.type === 'error' && m.fatal) { this.flow.restart(m.message); return; }
    if (m.type === 'error') { this.events.onFlowError(m.message); return; }
    if (m.type === 'gap') { this.events.onGap(m.c, m.stderr); return; }
    if (m.type === 'fit') { this.fit = m.ed; this.events.onTrajectory('learned'); return; }
    if (m.type === 'match') { this.events.onMatch?.(m); return; }
    if (m.type === 'w2sigma') { this.events.onW2Sigma?.(m); return; }
    if (m.type === 'langevin') { this.events.onLangevin?.(m); return; }
    if (m.type === 'straight') { this.events.onStraight?.(m); return; }
    if (m.type === 'nfe') { this.events.onNfe?.(m); return; }
    if (m.type === 'guidefig') { this.events.onGuideFig?.(m); return; }
    if (this.last.cloud?.points.length === 0) return; // frames of a cloud that is gone
    if (m.type === 'traj') {
      this.traj[/** @type {FlowKind} */ (m.kind)] = new Trajectory(m.frames, m.n, m.steps);
      if (m.kind === 'ot') this.otOf = m.of;
    } else if (m.type === 'begin') this.traj[/** @type {FlowKind} */ (m.kind)] = Trajectory.streamed(m.first, m.n, m.steps);
    else if (m.type === 'frames') this.traj[/** @type {FlowKind} */ (m.kind)]?.append(m.start, m.data);
    else return;
    this.events.onTrajectory(m.kind);
  }
}
