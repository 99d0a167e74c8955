// @ts-check
// Particle playback: trajectories computed by the flow worker ((steps + 1) frames of n
// interleaved points, t = k / steps) are sampled at any time t by linear interpolation, and
// the clock that loops t from 0 to 1 lives here too.

/** Trajectories of one field; a streamed one fills up frame by frame. */
export class Trajectory {
  /**
   * @param {Float32Array} frames
   * @param {number} n
   * @param {number} steps
   * @param {number} [filled] frames filled so far
   * @param {number} [of] how many particles it stands for (a flow of the first n of them)
   */
  constructor(frames, n, steps, filled = steps + 1, of = n) {
    this.frames = frames;
    this.of = of;
    this.n = n;
    this.steps = steps;
    this.filled = filled;
    this.out = new Float32Array(2 * n);
  }
  /** An empty trajectory that starts at `first` and receives frames by `append`. */
  static streamed(first, n, steps) {
    const frames = new Float32Array((steps + 1) * 2 * n);
    frames.set(first);
    return new Trajectory(frames, n, steps, 1);
  }
  /** Stores frames `start..` (concatenated in `data`). */
  append(start, data) {
    this.frames.set(data, start * 2 * this.n);
    this.filled = Math.max(this.filled, start + data.length / (2 * this.n));
  }
  /** Whether every frame is there. */
  complete() { return this.filled === this.steps + 1; }
  /** The time up to which frames exist. */
  reach() { return (this.filled - 1) / this.steps; }
  /** Positions at time t in [0, 1], clamped to the frames computed so far (a reused buffer). */
  at(t) {
    const s = Math.max(0, Math.min(t, this.reach())) * this.steps;
    if (this.filled === 1) { this.out.set(this.frames.subarray(0, 2 * this.n)); return this.out; }
    const k = Math.min(this.steps - 1, Math.floor(s));
    const f = s - k;
    const stride = 2 * this.n;
    const a = k * stride, b = a + stride;
    const fr = this.frames, out = this.out;
    for (let i = 0; i < stride; i++) out[i] = fr[a + i] + f * (fr[b + i] - fr[a + i]);
    return out;
  }
  /** Frame views from about `span` before t up to t, for trails (oldest first). */
  trail(t, span, maxFrames = 6) {
    t = Math.min(t, this.reach());
    const s = Math.max(0, Math.min(1, t)) * this.steps;
    const k1 = Math.floor(s);
    const k0 = Math.max(0, Math.floor((Math.max(0, t - span)) * this.steps));
    const stride = 2 * this.n;
    const every = Math.max(1, Math.ceil((k1 - k0) / maxFrames));
    const views = [];
    for (let k = k0; k <= k1; k += every) views.push(this.frames.subarray(k * stride, (k + 1) * stride));
    views.push(this.at(t));
    return views;
  }
  /** The end points (t = 1). */
  final() { return this.frames.subarray(this.steps * 2 * this.n); }
}

/**
 * The time loop: t runs from 0 to 1 in `flowSeconds`, holds at 1 for `holdSeconds`, restarts.
 * It owns no state the app shares: given the current t (from the store) it says the next.
 */
export class Clock {
  constructor({ flowSeconds = 4, holdSeconds = 1.2 } = {}) {
    this.flowSeconds = flowSeconds;
    this.holdSeconds = holdSeconds;
    /** @type {number | null} */
    this.last = null;
    this.held = 0; // seconds spent at t = 1
  }
  /**
   * The time after this frame (timestamp `now`, ms), from time `t`.
   * @param {number} now
   * @param {number} t
   * @param {boolean} playing
   */
  tick(now, t, playing) {
    const dt = this.last === null ? 0 : Math.min(0.1, (now - this.last) / 1000);
    this.last = now;
    if (!playing) { this.held = 0; return t; }
    if (t < 1) return Math.min(1, t + dt / this.flowSeconds);
    this.held += dt;
    if (this.held <= this.holdSeconds) return 1;
    this.held = 0;
    return 0;
  }
}
