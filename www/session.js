// @ts-check
// The session: owns both workers and the channel between them. The training worker trains
// and posts each weight snapshot twice, transferred: to the flow worker directly over a
// MessageChannel, and to the page (for arrows, heatmaps and the inspector). The flow worker
// integrates particle trajectories; the page only plays them back. A dead worker is replaced
// and given the state again; the channel is rebuilt whenever either side is new.
//
// Generations: every new network (and every clear) has a new generation number; messages
// about older networks are dropped on both sides, so no old weights outlive a reset or a clear.
//
// Lessons: the session knows none. A lesson's page posts to its jobs in the flow worker with
// `post(lesson, msg)`; each such message, and every new drawing or flow set-up, advances a
// counter, and every result carries the stamp of the counters it was begun under, so one check
// (`current`) drops what older settings produced. What the flow worker posts for a lesson
// reaches `onLesson(lesson, msg)`, and trajectories (a coarse first pass, then the full one)
// are kept by key in `traj`.
import { Trajectory } from './particles.js';

/**
 * A network's settings; `labelled`: class-conditional, learning the
 * labels with label dropout.
 * @typedef {{ width: number, depth: number, timeFeatures: number, batch: number, lr: number,
 *   schedule: string, coupling: string, seed: number, labelled: boolean }} NetConfig
 */
/** @typedef {{ particles: number, seed: number, solver: string, steps: number }} FlowSetup */
/**
 * A flow's key: the core's 'learned' and 'exact', or one a lesson's jobs post (its jobs.js
 * lists them).
 * @typedef {string} FlowKind
 */
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
 *   onLesson: (lesson: string, m: any) => void,
 *   onTrainer?: (m: any) => void,
 *   onNetwork?: (why: 'reset' | 'clear' | 'replace', config: NetConfig | null) => void,
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
    /** Whether the newest weights are those of a paused (or never started) trainer. */
    this.settled = true;
    /** The counter of the flow worker's inputs (drawings and set-ups) and of each lesson's
     * messages: a result is current when its stamp is theirs now. */
    this.inputs = 0;
    /** @type {Record<string, number>} */
    this.versions = {};
    /** The complete (or streaming) full trajectories by key, and the coarse first passes.
     * @type {Record<string, Trajectory | null>} */
    this.full = {};
    /** @type {Record<string, Trajectory | null>} */
    this.coarse = {};
    /** By key, the trajectory to show: the full one once it reaches as far as the coarse one. */
    this.traj = /** @type {Record<string, Trajectory | null>} */ (new Proxy({}, {
      get: (_, key) => (typeof key === 'string' ? this.shown(key) : null),
    }));
    /** What the stage shows (the flow worker computes it first). */
    this.stage = { keys: /** @type {string[]} */ ([]), lesson: '' };
    /** The energy distance of the learned particles at t = 1 to the exact ones, or null. */
    /** @type {number | null} */
    this.fit = null;
    /** The last inputs, replayed to a new worker; `lessons`: each lesson's last message of each type. */
    this.last = {
      /** @type {{ config: NetConfig, points: Float32Array, labels: Uint8Array } | null} */ net: null,
      /** @type {FlowSetup | null} */ setup: null,
      /** @type {{ points: Float32Array, schedule: string, labels: Uint8Array } | null} */ cloud: null,
      /** @type {{ config: NetConfig, weights: Float32Array, steps?: number } | null} */ weights: null,
      /** @type {Map<string, { lesson: string, msg: any }>} */ lessons: new Map(),
      running: false,
    };
    /** Tests only: how often a helper's trap was armed (harmWorker('train', 'helper')). */
    this.armed = 0;
    /** How many training workers share each batch (the leader and its helpers, team.js). */
    this.workers = 1;
    this.train = new WorkerHandle(
      new URL('./train.worker.js', import.meta.url), (m) => this.fromTrainer(m), (reason) => {
        this.connect();
        this.train.post({ type: 'workers', n: this.workers });
        this.events.onRestart('training', reason); // the page resets the network on it
      });
    this.flow = new WorkerHandle(new URL('./flow.worker.js', import.meta.url), (m) => this.fromFlow(m), (reason) => {
      this.connect();
      this.flow.post({ type: 'generation', generation: this.generation });
      if (this.last.setup) this.flow.post({ type: 'setup', ...this.last.setup, inputs: this.inputs });
      if (this.last.cloud) this.flow.post({ type: 'cloud', ...this.last.cloud, inputs: this.inputs });
      this.flow.post({ type: 'stage', ...this.stage });
      for (const { lesson, msg } of this.last.lessons.values()) {
        this.flow.post({ type: 'lesson', lesson, version: this.versions[lesson] ?? 0, msg: structuredClone(msg) });
      }
      const w = this.last.weights;
      if (w) {
        this.flow.post({
          type: 'model', generation: this.generation, config: w.config, weights: w.weights.slice(), steps: w.steps,
        });
      }
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
    this.last.net = { config, points, labels };
    this.last.weights = null;
    this.last.running = running;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ type: 'reset', config, points, labels, generation: this.generation, running });
    this.events.onNetwork?.('reset', config);
  }
  /** No network (the cloud is empty): the trainer is dropped and learned particles vanish. */
  clear() {
    this.generation += 1;
    this.last.net = null;
    this.last.weights = null;
    this.last.running = false;
    this.dropFlows((key) => key.startsWith('learned'));
    this.fit = null;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ type: 'clear', generation: this.generation });
    this.events.onNetwork?.('clear', null);
  }
  /**
   * The training worker replaces the network by what `msg` asks (for example pairs from the
   * current network's ODE, and a fresh network trained on them), as a new generation.
   * @param {any} msg
   */
  replace(msg) {
    this.generation += 1;
    this.flow.post({ type: 'generation', generation: this.generation });
    this.train.post({ ...msg, generation: this.generation });
    this.events.onNetwork?.('replace', this.last.net?.config ?? null);
  }
  /**
   * A lesson's message to the training worker (its answer comes back through `onTrainer`).
   * @param {any} msg
   */
  toTrainer(msg) { this.train.post(msg); }
  /** Starts training. */
  play() { this.last.running = true; this.train.post({ type: 'play' }); }
  /** Pauses training. */
  pause() { this.last.running = false; this.settled = false; this.train.post({ type: 'pause' }); }
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
      case 'team': this.events.onTeam?.(m); break;
      case 'armed': this.armed += 1; break;
      case 'notice': this.events.onTrainNotice?.(m.message); break;
      case 'error':
        if (m.fatal) this.train.restart(m.message);
        else { this.last.running = false; this.events.onTrainError(m.message); }
        break;
      default: this.events.onTrainer?.(m); break;
    }
  }

  // ---- flows ----

  /** @param {FlowSetup} setup particle count, seed, solver and steps: everything is recomputed */
  setupFlows(setup) {
    this.last.setup = setup;
    this.inputs += 1;
    this.flow.post({ type: 'setup', ...setup, inputs: this.inputs });
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
    if (points.length === 0) this.dropFlows(() => true);
    this.inputs += 1;
    this.fit = null;
    this.flow.post({ type: 'cloud', points, schedule, labels, inputs: this.inputs });
  }
  /**
   * What the stage shows: the keys of its flows (computed first) and the lesson open (its
   * jobs run while it is).
   * @param {string[]} keys
   * @param {string} lesson
   */
  setStage(keys, lesson) {
    const same = keys.length === this.stage.keys.length && keys.every((k, i) => k === this.stage.keys[i]);
    if (same && lesson === this.stage.lesson) return;
    this.stage = { keys: [...keys], lesson };
    this.flow.post({ type: 'stage', keys: this.stage.keys, lesson });
  }
  /**
   * A lesson's message to its jobs in the flow worker (kept, by type, for a new worker).
   * Results the jobs began under older messages of the lesson are dropped from now on; `drop`
   * names the lesson's flows this message makes stale (dropped at once from the stage).
   * @param {string} lesson
   * @param {any} msg
   * @param {string[]} [drop]
   */
  post(lesson, msg, drop = []) {
    this.versions[lesson] = (this.versions[lesson] ?? 0) + 1;
    this.last.lessons.set(`${lesson}|${msg.type}`, { lesson, msg });
    this.dropFlows((key) => drop.includes(key));
    this.flow.post({ type: 'lesson', lesson, version: this.versions[lesson], msg });
  }
  /**
   * Whether a result begun under `stamp` is of the current inputs (and, for a lesson's, of
   * its current settings).
   * @param {string} lesson
   * @param {string} stamp
   */
  current(lesson, stamp) {
    return stamp === (lesson ? `${this.inputs}.${this.versions[lesson] ?? 0}` : `${this.inputs}`);
  }
  /** Forgets the trajectories whose key passes `test`. @param {(key: string) => boolean} test */
  dropFlows(test) {
    for (const store of [this.full, this.coarse]) {
      for (const key of Object.keys(store)) if (test(key)) delete store[key];
    }
  }
  /**
   * The trajectory of `key` to show: the full one once it reaches as far as its coarse first
   * pass, else that pass.
   * @param {string} key
   */
  shown(key) {
    const full = this.full[key] ?? null, coarse = this.coarse[key] ?? null;
    if (!coarse || (full && full.reach() >= coarse.reach())) return full;
    return coarse;
  }

  /** @param {any} m */
  fromFlow(m) {
    if (m.generation !== undefined && m.generation !== this.generation) return;
    if (m.type === 'error' && m.fatal) { this.flow.restart(m.message); return; }
    if (m.type === 'error') { this.events.onFlowError(m.message); return; }
    if (m.stamp !== undefined && !this.current(m.lesson ?? '', m.stamp)) return; // of older inputs
    const store = m.coarse ? this.coarse : this.full;
    if (m.type === 'traj' || m.type === 'begin' || m.type === 'frames') {
      if (this.last.cloud?.points.length === 0) return; // frames of a cloud that is gone
      if (m.type === 'traj') {
        store[m.key] = new Trajectory(m.frames, m.n, m.steps, undefined, m.of);
      } else if (m.type === 'begin') store[m.key] = Trajectory.streamed(m.first, m.n, m.steps);
      else store[m.key]?.append(m.start, m.data);
      // A coarse pass begins when the flow's settings changed: the old full one is stale. A
      // full pass supersedes the coarse one once it reaches as far (`shown`).
      if (m.coarse && m.type !== 'frames') delete this.full[m.key];
      if (!m.coarse && this.full[m.key]?.complete()) delete this.coarse[m.key];
      this.events.onTrajectory(m.key);
      return;
    }
    if (m.type === 'gap') { this.events.onGap(m.c, m.stderr); return; }
    if (m.type === 'fit') { this.fit = m.ed; this.events.onTrajectory('learned'); return; }
    if (m.lesson !== undefined) this.events.onLesson(m.lesson, m);
  }
}
