// @ts-check
// What the flow worker's modules share: the wasm Fields, the drawing, the flow set-up and its
// noise, the loaded network, what the stage shows, and the generic plumbing (the scheduler,
// posting to the page with the stamp of the inputs a result was begun under, starting flows).
// The core module (core.js) and each lesson's jobs.js are modules of one shape: hooks the
// worker calls when its inputs change, and jobs they hand to the scheduler.
import { FlowJob } from './flow.js';

/**
 * A module of the flow worker: any of these hooks (called in registry order, core first).
 * - cloud(): a new drawing (or schedule, or labels); setup(): new particles, seed, solver or steps;
 * - model(first): new weights were loaded into ctx.fields (first: of a new network);
 * - snapshot(m): a weight snapshot arrived (the core queues it);
 * - generation(): a new network (or none): its flows and figures are gone;
 * - stage(): what the stage shows changed (ctx.stage); open(on): its lesson was opened or left;
 * - message(m): a message from its lesson's page; finished(key): a flow of `key` is complete
 *   (ctx.finished holds it).
 * @typedef {{ cloud?: () => void, setup?: () => void, model?: (first: boolean) => void,
 *   snapshot?: (m: any) => void, generation?: () => void, stage?: () => void,
 *   open?: (on: boolean) => void, message?: (m: any) => void, finished?: (key: string) => void }} Module
 */
/**
 * A flow to start: the key its trajectory is posted under and the lesson it belongs to ('' for
 * the core's), how it begins (its flow handle); the rest defaults to the main Fields, the set-up's
 * noise and steps (see flow.js).
 * @typedef {{ key: string, lesson: string, begin: (fields: any, noise: Float32Array) => any,
 *   fields?: any, noise?: Float32Array, steps?: number, stream?: boolean, coarse?: boolean,
 *   holdsModel?: boolean, tags?: Record<string, any> }} FlowRequest
 */

export class Context {
  /**
   * @param {import('./scheduler.js').Scheduler} scheduler
   * @param {(msg: any, transfer?: Transferable[]) => void} post
   */
  constructor(scheduler, post) {
    this.scheduler = scheduler;
    this.post = post;
    /** @type {any} the page's Fields (created when the wasm is ready) */
    this.fields = null;
    /** @type {{ particles: number, seed: number, solver: string, steps: number }} */
    this.setup = { particles: 0, seed: 0, solver: 'rk4', steps: 50 };
    /** The particles' noise at t = 0: noise_points(particles, seed). */
    /** @type {Float32Array<ArrayBufferLike>} */
    this.noise = new Float32Array(0);
    /** The drawing (the points the exact field is made of), their labels and the schedule.
     * @type {{ points: Float32Array<ArrayBufferLike>, labels: Uint8Array<ArrayBufferLike>, schedule: string,
     *   has: boolean }} */
    this.cloud = { points: new Float32Array(0), labels: new Uint8Array(0), schedule: 'linear', has: false };
    /** The network whose weights are loaded: `have`, its generation, its training steps,
     * how many snapshots were loaded; `current`: the generation of the newest network. */
    this.model = { have: false, generation: 0, steps: 0, loaded: 0, current: 0 };
    /** What the stage shows: the keys of its flows, and the lesson open. */
    this.stage = { keys: new Set(), lesson: '' };
    /** The page's input counter (cloud and set-up) and each lesson's message counter. */
    this.inputs = 0;
    /** @type {Record<string, number>} */
    this.versions = {};
    /**
     * The complete trajectories of the current inputs, by key.
     * @type {Map<string, { frames: Float32Array, n: number, steps: number }>}
     */
    this.finished = new Map();
    /** @type {Map<string, Module>} by lesson id ('' for the core) */
    this.modules = new Map();
  }

  /**
   * The stamp of a lesson's results begun now: the inputs and its own settings' version (the
   * page drops a result whose stamp is not the current one).
   * @param {string} lesson
   */
  stamp(lesson) {
    return lesson ? `${this.inputs}.${this.versions[lesson] ?? 0}` : `${this.inputs}`;
  }

  /**
   * Calls a hook on every module.
   * @param {keyof Module} hook
   * @param {...any} args
   */
  broadcast(hook, ...args) {
    for (const m of this.modules.values()) /** @type {any} */ (m)[hook]?.(...args);
  }

  /** @param {string} key */
  shown(key) { return this.stage.keys.has(key); }

  /**
   * Starts (or restarts) a flow: a coarse pass first when asked for and the stage shows it.
   * When complete it is kept in `finished` and the modules are told.
   * @param {FlowRequest} r
   */
  flow(r) {
    this.finished.delete(r.key);
    this.scheduler.remove(r.key); // the old flow of this key is freed
    const job = new FlowJob({
      key: r.key, fields: r.fields ?? this.fields, noise: r.noise ?? this.noise, steps: r.steps ?? this.setup.steps,
      begin: r.begin, shown: () => this.shown(r.key), stamp: this.stamp(r.lesson), post: this.post,
      stream: r.stream, coarse: (r.coarse ?? false) && this.shown(r.key), holdsModel: r.holdsModel,
      tags: { lesson: r.lesson, ...r.tags },
      onDone: (frames, n, steps) => {
        this.finished.set(r.key, { frames, n, steps });
        this.broadcast('finished', r.key);
      },
    });
    return this.scheduler.add(job);
  }
}
