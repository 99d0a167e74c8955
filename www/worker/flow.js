// @ts-check
// A particle flow as a scheduler job: the particles' trajectories from t = 0 to t = 1 on one
// of a Fields' flow slots, one solver step a turn. A flow whose settings changed may first run
// a coarse pass (the first COARSE particles of the same noise, a prefix of the full set) so
// that the stage shows the new setting at once, then the full pass. Streamed flows post their
// frames as they are computed ('begin', then 'frames'); the others post the whole trajectory
// ('traj') when it is complete, so that a flow restarted by every weight snapshot never shows
// half a trajectory.
//
// Out (to the page; `stamp` says under which inputs it began, `coarse` whether it is the
// coarse pass, plus the spec's `tags`, such as the network's generation):
//   {type:'begin', key, coarse, n, steps, first, stamp, ...tags}
//   {type:'frames', key, coarse, start, data, stamp, ...tags}
//   {type:'traj', key, coarse, frames, n, steps, stamp, ...tags}
import { PRIORITY } from './scheduler.js';

/** Particles of a coarse first pass. */
export const COARSE = 250;
/** How many flows a Fields holds at once (the core's FLOW_SLOTS). */
const SLOTS = 9;
/** A streamed flow posts its new frames at most this often (ms). */
const POST_MS = 100;

/** The slots in use, per Fields. @type {WeakMap<object, Set<number>>} */
const used = new WeakMap();

/**
 * A free slot of `fields` (taken until `releaseSlot`), or an Error.
 * @param {object} fields
 */
export function takeSlot(fields) {
  let set = used.get(fields);
  if (!set) { set = new Set(); used.set(fields, set); }
  for (let slot = 0; slot < SLOTS; slot++) {
    if (!set.has(slot)) { set.add(slot); return slot; }
  }
  throw new Error(`more than ${SLOTS} flows at once`);
}

/**
 * Gives a slot back.
 * @param {object} fields
 * @param {number} slot
 */
export function releaseSlot(fields, slot) {
  used.get(fields)?.delete(slot);
}

/**
 * What a flow is.
 * @typedef {{ key: string, fields: any, noise: Float32Array, steps: number,
 *   begin: (fields: any, slot: number, noise: Float32Array) => void,
 *   shown: () => boolean, stamp: string, post: (msg: any, transfer?: Transferable[]) => void,
 *   stream?: boolean, coarse?: boolean, holdsModel?: boolean, tags?: Record<string, any>,
 *   onDone?: (frames: Float32Array, n: number, steps: number) => void }} FlowSpec
 */

export class FlowJob {
  /** @param {FlowSpec} spec */
  constructor(spec) {
    this.spec = spec;
    this.key = spec.key;
    this.done = false;
    this.holdsModel = spec.holdsModel ?? false;
    this.n = spec.noise.length / 2;
    /** The pass running: the coarse one first when asked for and smaller than the full one. */
    this.coarse = (spec.coarse ?? false) && COARSE < this.n;
    this.slot = takeSlot(spec.fields);
    /** The running pass: its particles, frames, frames filled and posted, and the last post. */
    this.passN = 0;
    this.frames = new Float32Array(0);
    this.filled = 0;
    this.sent = 0;
    this.lastPost = 0;
    this.start();
  }

  /** Begins the current pass on the slot. */
  start() {
    const { spec } = this;
    const n = this.coarse ? COARSE : this.n;
    const noise = this.coarse ? spec.noise.subarray(0, 2 * n) : spec.noise;
    spec.begin(spec.fields, this.slot, noise);
    this.passN = n;
    this.frames = new Float32Array((spec.steps + 1) * n * 2);
    this.frames.set(noise, 0);
    this.filled = 1;
    this.sent = 1;
    this.lastPost = performance.now();
    if (spec.stream ?? true) {
      spec.post({ type: 'begin', key: this.key, coarse: this.coarse, n, steps: spec.steps, first: noise.slice(), stamp: spec.stamp, ...spec.tags });
    }
  }

  priority() {
    if (!this.spec.shown()) return PRIORITY.FLOW;
    return this.coarse ? PRIORITY.COARSE : PRIORITY.STAGE;
  }

  /** One solver step; the pass's end posts it, and the coarse pass hands over to the full one. */
  step() {
    const { spec } = this;
    const chunk = spec.fields.flow_advance(this.slot, 1);
    const stride = 2 * this.passN;
    if (chunk.length >= stride) {
      this.frames.set(chunk.subarray(0, stride), this.filled * stride);
      this.filled += 1;
    } else {
      this.filled = spec.steps + 1; // the core says the flow is done
    }
    const final = this.filled > spec.steps;
    if (final || performance.now() - this.lastPost > POST_MS) this.flush(final);
    if (!final) return;
    if (this.coarse) { this.coarse = false; this.start(); return; }
    this.finish();
  }

  /**
   * Posts what is new: a streamed pass its new frames, another its whole trajectory at the end.
   * @param {boolean} final
   */
  flush(final) {
    const { spec } = this;
    const stride = 2 * this.passN;
    if (spec.stream ?? true) {
      if (this.filled > this.sent) {
        const data = this.frames.slice(this.sent * stride, this.filled * stride);
        spec.post({ type: 'frames', key: this.key, coarse: this.coarse, start: this.sent, data, stamp: spec.stamp, ...spec.tags }, [data.buffer]);
        this.sent = this.filled;
      }
    } else if (final) {
      const frames = this.coarse ? this.frames : this.frames.slice();
      spec.post({ type: 'traj', key: this.key, coarse: this.coarse, frames, n: this.passN, steps: spec.steps, stamp: spec.stamp, ...spec.tags }, [frames.buffer]);
    }
    this.lastPost = performance.now();
  }

  /** The full pass is complete: the slot is free, and whoever waits for it is told. */
  finish() {
    this.done = true;
    this.release();
    this.spec.onDone?.(this.frames, this.passN, this.spec.steps);
  }

  release() {
    releaseSlot(this.spec.fields, this.slot);
  }

  cancel() {
    if (!this.done) { this.done = true; this.release(); }
  }
}
