// @ts-check
// A particle flow as a scheduler job: the particles' trajectories from t = 0 to t = 1, one
// solver step a turn, on a flow handle of the core (ParticleFlow, freed when done). A flow
// whose settings changed may first run a coarse pass (the first COARSE particles of the same
// noise, a prefix of the full set) so that the stage shows the new setting at once, then the
// full pass. Streamed flows post their frames as they are computed ('begin', then 'frames');
// the others post the whole trajectory ('traj') when it is complete, so that a flow restarted
// by every weight snapshot never shows half a trajectory.
//
// Out (to the page; `stamp` says under which inputs it began, `coarse` whether it is the
// coarse pass, plus the spec's `tags`, such as the network's generation):
//   {type:'begin', key, coarse, n, steps, first, stamp, ...tags}
//   {type:'frames', key, coarse, start, data, stamp, ...tags}
//   {type:'traj', key, coarse, frames, n, steps, stamp, ...tags}
import { PRIORITY } from './scheduler.js';

/** Particles of a coarse first pass. */
export const COARSE = 128;
/** A streamed flow posts its new frames at most this often (ms). */
const POST_MS = 100;
/**
 * What a flow is.
 * @typedef {{ key: string, fields: any, noise: Float32Array, steps: number,
 *   begin: (fields: any, noise: Float32Array) => any,
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
    /** A flow of a changed setting (asked for a coarse pass) is urgent while the stage shows it. */
    this.recomputed = spec.coarse ?? false;
    /** @type {any} the running pass's flow handle */
    this.flow = null;
    /** The running pass: its particles, frames, frames filled and posted, and the last post. */
    this.passN = 0;
    this.frames = new Float32Array(0);
    this.filled = 0;
    this.sent = 0;
    this.lastPost = 0;
    this.start();
  }

  /** Begins the current pass (a new flow handle). */
  start() {
    const { spec } = this;
    const n = this.coarse ? COARSE : this.n;
    const noise = this.coarse ? spec.noise.subarray(0, 2 * n) : spec.noise;
    this.release();
    this.flow = spec.begin(spec.fields, noise);
    this.passN = n;
    this.frames = new Float32Array((spec.steps + 1) * n * 2);
    this.frames.set(noise, 0);
    this.filled = 1;
    this.sent = 1;
    this.lastPost = performance.now();
    if (spec.stream ?? true) {
      spec.post({
        type: 'begin', key: this.key, coarse: this.coarse, n, steps: spec.steps, first: noise.slice(),
        stamp: spec.stamp, ...spec.tags,
      });
    }
  }

  /** Whether the scheduler should not hold it back for the page's frames (see scheduler.js). */
  get urgent() { return this.recomputed && this.spec.shown(); }

  priority() {
    if (!this.spec.shown()) return PRIORITY.FLOW;
    return this.coarse ? PRIORITY.COARSE : PRIORITY.STAGE;
  }

  /** One solver step; the pass's end posts it, and the coarse pass hands over to the full one. */
  step() {
    const { spec } = this;
    const chunk = spec.fields.flow_advance(this.flow, 1);
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
        spec.post({
          type: 'frames', key: this.key, coarse: this.coarse, start: this.sent, data, stamp: spec.stamp, ...spec.tags,
        }, [data.buffer]);
        this.sent = this.filled;
      }
    } else if (final) {
      const frames = this.coarse ? this.frames : this.frames.slice();
      spec.post({
        type: 'traj', key: this.key, coarse: this.coarse, frames, n: this.passN, steps: spec.steps,
        stamp: spec.stamp, ...spec.tags,
      }, [frames.buffer]);
    }
    this.lastPost = performance.now();
  }

  /** The full pass is complete: its handle is freed, and whoever waits for it is told. */
  finish() {
    this.done = true;
    this.release();
    this.spec.onDone?.(this.frames, this.passN, this.spec.steps);
  }

  /** Frees the flow handle (once). */
  release() {
    this.flow?.free();
    this.flow = null;
  }

  cancel() {
    if (!this.done) { this.done = true; this.release(); }
  }
}
