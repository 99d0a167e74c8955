// @ts-check
// The diffusion lesson's jobs in the flow worker: the SDE flows of the exact and the learned
// field (Euler-Maruyama on the core's time grid), Langevin at a frozen time, the marginal-match
// table and the W2 probe of learned SDE samples for several noise levels.
//
// In (from its page): {type:'settings', sigma, correction, langevin} (langevin: the frozen
//   time, or null).
// Out (each with `lesson` and `stamp`):
//   {type:'match', rows: [{t, tUsed, ode, sde, floor}]} energy distances of the exact ODE and
//     SDE particles to fresh samples of p_t, and the floor of two fresh samples
//   {type:'w2sigma', generation, steps, sigmas, values, se, draws} W2 to the drawing of learned SDE
//     samples at t = 1 for each sigma: the mean over PROBE_DRAWS draws, its standard error, and
//     each draw's value (draws[i][d]; NaN where the samples are not finite)
//   {type:'langevin', t, step, data, ed, floor, moved, done} the newest Langevin frame (ed,
//     floor, moved: measured every LANGEVIN_MEASURE_EVERY frames, else NaN)
// Seeds: the SDE noise seed + 1 (as `fmp flow --sigma`); Langevin starts from samples of p_t
// seeded with seed + 2, its noise seed + 5; draw d (0..PROBE_DRAWS - 1) of the W2 probe starts
// from noise_points(500, seed + 3 + PROBE_SEED_STRIDE d) and its noise is seed + 4 + PROBE_SEED_STRIDE d,
// the same for every sigma (paired draws).
import { noise_points, w2_to, nearest_time } from '../../pkg/fmp.js';
import { PRIORITY } from '../../worker/scheduler.js';
import { meanSe } from '../../compare.js';

/** The times of the marginal-match table. */
const MATCH_TIMES = [0.25, 0.5, 0.75, 1];
/** The noise levels of the W2 probe, its particles, and how often it runs while training. */
export const PROBE_SIGMAS = [0, 0.5, 1, 2];
const PROBE_PARTICLES = 500;
/** Draws per sigma (their spread is the W2's sampling noise), and the step between their seeds. */
export const PROBE_DRAWS = 4;
export const PROBE_SEED_STRIDE = 1000;
const PROBE_MS = 3000;
/** Langevin: frames (of 4 steps of ds = 0.01 each) before it stops, and how often it is measured. */
const LANGEVIN_FRAMES = 1500;
/** Langevin moves at most this many particles (each step sums over every data point). */
const LANGEVIN_PARTICLES = 1000;
const LANGEVIN_MEASURE_EVERY = 25;
/** Langevin steps between two measurements (each frame is 4 steps). */
export const LANGEVIN_MEASURE_STEPS = 4 * LANGEVIN_MEASURE_EVERY;
/** A Langevin frame is posted at most this often (ms) between measured ones. */
const LANGEVIN_POST_MS = 40;

/**
 * The mean distance between matching points of two interleaved sets (how far Langevin moved
 * its particles since they started).
 * @param {Float32Array} a
 * @param {Float32Array} b
 */
function meanDistance(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i += 2) sum += Math.hypot(b[i] - a[i], b[i + 1] - a[i + 1]);
  return sum / (a.length / 2);
}

/**
 * One draw of the W2 probe: PROBE_PARTICLES learned SDE samples at t = 1 for one sigma (Euler-
 * Maruyama with the score correction, on the flow's time grid), and their W2 to the drawing (NaN
 * when they are not finite). Draw d of set-up seed s starts from noise_points(500, s + 3 +
 * PROBE_SEED_STRIDE d), its noise seeded s + 4 + PROBE_SEED_STRIDE d.
 * @param {any} fields a Fields holding the drawing and the network
 * @param {Float32Array} points the drawing
 * @param {number} steps the time grid's steps
 * @param {number} sigma
 * @param {number} seed the set-up seed
 * @param {number} draw
 */
export function probeDraw(fields, points, steps, sigma, seed, draw) {
  const offset = PROBE_SEED_STRIDE * draw;
  const start = noise_points(PROBE_PARTICLES, seed + 3 + offset);
  const flow = fields.flow_begin_sde('learned', start, steps, sigma, true, seed + 4 + offset);
  let last;
  try {
    const all = fields.flow_advance(flow, steps);
    last = all.subarray(all.length - 2 * PROBE_PARTICLES);
  } finally {
    flow.free();
  }
  return last.every(Number.isFinite) ? w2_to(last, points) : NaN;
}

/**
 * @param {import('../../worker/context.js').Context} ctx
 * @param {string} lesson
 * @returns {import('../../worker/context.js').Module}
 */
export default function diffusionJobs(ctx, lesson) {
  let open = false;
  let sde = { sigma: 1, correction: true, /** @type {number | null} */ langevin: null };
  let probeWanted = false;
  let lastProbe = -Infinity;
  /** @param {any} m @param {Transferable[]} [transfer] */
  const post = (m, transfer = []) => ctx.post({ ...m, lesson, stamp: ctx.stamp(lesson) }, transfer);

  /** @param {'exact_sde' | 'learned_sde'} key @param {boolean} coarse */
  const sdeFlow = (key, coarse) => {
    const learned = key === 'learned_sde';
    if (!open || !ctx.cloud.has || (learned && !ctx.model.have)) { ctx.scheduler.remove(key); return; }
    const { sigma, correction } = sde;
    ctx.flow({
      key, lesson, coarse, stream: !learned, holdsModel: learned,
      tags: learned ? { generation: ctx.model.generation } : {},
      begin: (f, noise) => f.flow_begin_sde(learned ? 'learned' : 'marginal', noise, ctx.setup.steps, sigma, correction,
        ctx.setup.seed + 1),
    });
  };
  const restartAll = () => {
    sdeFlow('exact_sde', true);
    sdeFlow('learned_sde', true);
    langevin();
    probeWanted = true;
  };

  /** Langevin at the frozen time: fresh samples of p_t jiggled under the exact score. */
  const langevin = () => {
    ctx.scheduler.remove('langevin');
    const t = sde.langevin;
    if (!open || t === null || !ctx.cloud.has) return;
    const { fields } = ctx;
    const start = fields.sample_marginal(t, Math.min(ctx.setup.particles, LANGEVIN_PARTICLES), ctx.setup.seed + 2);
    let flow = fields.langevin_begin('marginal', start, t, sde.sigma, ctx.setup.seed + 5);
    const free = () => { flow?.free(); flow = null; };
    const [ed0, floor0] = fields.marginal_match(start, t, ctx.setup.seed);
    post({ type: 'langevin', t, step: 0, data: start.slice(), ed: ed0, floor: floor0, moved: 0 });
    let frame = 0;
    let lastPost = -Infinity;
    const stamp = ctx.stamp(lesson);
    ctx.scheduler.add({
      key: 'langevin', done: false,
      priority: () => PRIORITY.STAGE,
      step() {
        const data = fields.flow_advance(flow, 1);
        frame += 1;
        const done = frame >= LANGEVIN_FRAMES;
        const measure = frame % LANGEVIN_MEASURE_EVERY === 0 || done;
        if (measure || performance.now() - lastPost > LANGEVIN_POST_MS) {
          const [ed, floor] = measure ? fields.marginal_match(data, t, ctx.setup.seed) : [NaN, NaN];
          const moved = measure ? meanDistance(start, data) : NaN;
          ctx.post({ type: 'langevin', lesson, stamp, t, step: 4 * frame, data, ed, floor, moved, done },
            [data.buffer]);
          lastPost = performance.now();
        }
        if (done) { this.done = true; free(); }
      },
      cancel: free,
    });
  };

  /** The W2 probe: one draw of one noise level a step, every PROBE_MS while the network trains. */
  const probe = {
    key: 'w2probe', done: false, index: 0, /** @type {number[][]} */ draws: [], generation: 0, steps: 0,
    get holdsModel() { return this.index > 0; },
    priority: () => PRIORITY.MEASURE,
    ready() {
      return open && ctx.cloud.has && ctx.model.have && ctx.model.steps > 0
        && (this.index > 0 || (probeWanted && performance.now() - lastProbe >= PROBE_MS));
    },
    wake() { return probeWanted && this.index === 0 ? lastProbe + PROBE_MS - performance.now() : Infinity; },
    step() {
      if (this.index === 0) {
        probeWanted = false;
        lastProbe = performance.now();
        this.draws = PROBE_SIGMAS.map(() => []);
        this.generation = ctx.model.generation;
        this.steps = ctx.model.steps;
      }
      const sigma = this.index % PROBE_SIGMAS.length, draw = Math.floor(this.index / PROBE_SIGMAS.length);
      this.draws[sigma].push(probeDraw(ctx.fields, ctx.cloud.points, ctx.setup.steps, PROBE_SIGMAS[sigma],
        ctx.setup.seed, draw));
      this.index += 1;
      if (this.index < PROBE_SIGMAS.length * PROBE_DRAWS) return;
      this.index = 0;
      const stats = this.draws.map((d) => meanSe(d));
      post({
        type: 'w2sigma', generation: this.generation, steps: this.steps, sigmas: PROBE_SIGMAS,
        values: stats.map((m) => m.mean), se: stats.map((m) => m.se), draws: this.draws,
      });
    },
  };
  const resetProbe = () => { probe.index = 0; probeWanted = true; ctx.scheduler.add(probe); };

  /**
   * The marginal-match table: at each of MATCH_TIMES, the grid time nearest it, and the energy
   * distance of the exact ODE and SDE particles (same noise at t = 0) to fresh samples of p_t
   * there, with the floor of pairs of fresh samples (the same samples for both).
   */
  const match = () => {
    const ode = ctx.finished.get('exact'), sdeRun = ctx.finished.get('exact_sde');
    if (!open || !ode || !sdeRun || ode.n !== sdeRun.n || ode.steps !== sdeRun.steps) return;
    ctx.scheduler.add({
      key: 'match', done: false, priority: () => PRIORITY.MEASURE,
      step() {
        const times = ctx.fields.flow_times(ode.steps);
        const stride = 2 * ode.n;
        /** @param {Float32Array} f @param {number} k */
        const frame = (f, k) => f.subarray(k * stride, (k + 1) * stride);
        const rows = MATCH_TIMES.map((t) => {
          const k = nearest_time(times, t);
          const [odeEd, floor] = ctx.fields.marginal_match(frame(ode.frames, k), times[k], ctx.setup.seed);
          const [sdeEd] = ctx.fields.marginal_match(frame(sdeRun.frames, k), times[k], ctx.setup.seed);
          return { t, tUsed: times[k], ode: odeEd, sde: sdeEd, floor };
        });
        post({ type: 'match', rows });
        this.done = true;
      },
    });
  };

  return {
    open(on) {
      open = on;
      if (on) { restartAll(); resetProbe(); return; }
      for (const key of ['exact_sde', 'learned_sde', 'langevin', 'w2probe', 'match']) ctx.scheduler.remove(key);
    },
    message(m) {
      if (m.type !== 'settings') return;
      const noise = m.sigma !== sde.sigma || m.correction !== sde.correction;
      const frozen = m.langevin !== sde.langevin || m.sigma !== sde.sigma;
      sde = { sigma: m.sigma, correction: m.correction, langevin: m.langevin };
      if (noise) { sdeFlow('exact_sde', true); sdeFlow('learned_sde', true); ctx.scheduler.remove('match'); }
      if (frozen) langevin();
      if (open) resetProbe();
    },
    cloud() { if (open) { restartAll(); resetProbe(); } },
    setup() { if (open) { restartAll(); resetProbe(); } },
    model(first) {
      if (!open) return;
      sdeFlow('learned_sde', first);
      probeWanted = true;
    },
    generation() {
      ctx.scheduler.remove('learned_sde');
      probe.index = 0;
      probeWanted = false;
    },
    finished(key) { if (key === 'exact' || key === 'exact_sde') match(); },
  };
}
