// @ts-check
// The straight-paths lesson's jobs in the flow worker: the flows of the networks a reflow froze
// (each on its own Fields), the straight reference (the particles' noise paired with the
// drawing by the exact assignment, on their pairs' paths) while the stage shows it, and the
// measures: straightness and crossings of every complete flow, and the NFE figures (W2 to the
// drawing after each of nfe_steps() Euler steps) of every network.
//
// In (from its page): {type:'frozen', models: [{id, steps, config, weights}]} (the networks a
//   reflow froze; new ones get their own Fields, gone ones are freed)
// Out (each with `lesson` and `stamp`):
//   {type:'straight', id, generation, steps, s, crossings, particles} the straightness of a
//     complete learned flow (id 'current'), of a frozen network's (its id) or of the straight
//     reference (id 'ot'), and the crossing pairs among its first CROSSING_PATHS paths
//   {type:'nfe', id, generation, steps, values, se, draws, floor, particles}: W2 after each step
//     count, the mean over NFE_DRAWS draws and its standard error, each draw's value (draws[k][d];
//     draw d starts from noise_points(500, seed + 6 + NFE_SEED_STRIDE d), the same for every step
//     count: paired), and the floor {mean, se, sd}: W2 between FLOOR_DRAWS random subsets of 500
//     points of the drawing and the rest of it (subsets shuffled from seed + 8 + NFE_SEED_STRIDE d)
//   the flows 'frozen<id>' (whole) and 'ot' (whole, with `of`: the particles it stands for)
import { Fields, noise_points, nfe_steps, straightness_of, crossings_of, w2_to } from '../../pkg/fmp.js';
import { PRIORITY } from '../../worker/scheduler.js';
import { meanSe } from '../../compare.js';

/**
 * A seeded uniform generator on [0, 1) (mulberry32).
 * @param {number} seed
 */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The W2 floor of a drawing: W2 between a random subset of min(count, n / 2) points and the
 * rest, over FLOOR_DRAWS shuffles (what 500 samples of the drawing's own law would score).
 * @param {Float32Array} points interleaved
 * @param {number} count
 * @param {number} seed
 * @returns {{ mean: number, se: number, sd: number }}
 */
export function w2Floor(points, count, seed) {
  const n = points.length / 2;
  const m = Math.min(count, Math.floor(n / 2));
  if (m < 1) return { mean: NaN, se: NaN, sd: NaN };
  const values = [];
  for (let d = 0; d < FLOOR_DRAWS; d++) {
    const next = uniform(seed + NFE_SEED_STRIDE * d);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const pick = (/** @type {number[]} */ ids) => {
      const out = new Float32Array(2 * ids.length);
      ids.forEach((id, k) => { out[2 * k] = points[2 * id]; out[2 * k + 1] = points[2 * id + 1]; });
      return out;
    };
    values.push(w2_to(pick(order.slice(0, m)), pick(order.slice(m))));
  }
  const { mean, se } = meanSe(values);
  return { mean, se, sd: se * Math.sqrt(values.length) };
}

/** The straight reference pairs at most this many particles (the exact assignment costs up to
 * the cube of their number). */
const OT_PARTICLES = 1000;
/** Particles of the NFE figures, and the paths among which crossings are counted. */
const NFE_PARTICLES = 500;
/** Draws of the NFE figures (their spread is the sampling noise) and of the floor; the step between seeds. */
const NFE_DRAWS = 4;
const FLOOR_DRAWS = 4;
const NFE_SEED_STRIDE = 1000;
const CROSSING_PATHS = 100;
/** The current network's NFE figures are measured at most this often while it trains (ms). */
const NFE_MS = 3000;

/**
 * @param {import('../../worker/context.js').Context} ctx
 * @param {string} lesson
 * @returns {import('../../worker/context.js').Module}
 */
export default function straightJobs(ctx, lesson) {
  let open = false;
  /**
   * The frozen networks: id -> their own Fields and training steps.
   * @type {Map<number, { fields: any, steps: number }>}
   */
  const frozen = new Map();
  /** The networks whose NFE figures are wanted. @type {Set<number | 'current'>} */
  const nfeWanted = new Set();
  let lastNfe = -Infinity;
  /** The drawing's W2 floor (measured once per drawing). @type {{ mean: number, se: number, sd: number } | null} */
  let floor = null;
  /** @param {any} m @param {Transferable[]} [transfer] */
  const post = (m, transfer = []) => ctx.post({ ...m, lesson, stamp: ctx.stamp(lesson) }, transfer);

  /**
   * The straightness and crossings of a complete flow.
   * @param {number | 'current' | 'ot'} id
   * @param {{ frames: Float32Array, n: number, steps: number }} f
   * @param {number} steps the network's training steps (0 for the reference)
   */
  const postStraight = (id, f, steps) => {
    const s = straightness_of(f.frames, f.n, ctx.fields.flow_times(f.steps));
    const m = Math.min(f.n, CROSSING_PATHS);
    const first = new Float32Array(2 * m * (f.steps + 1));
    for (let k = 0; k <= f.steps; k++) first.set(f.frames.subarray(2 * f.n * k, 2 * f.n * k + 2 * m), 2 * m * k);
    const crossings = crossings_of(first, m, f.steps + 1);
    post({ type: 'straight', id, generation: ctx.model.current, steps, s, crossings, particles: f.n });
  };

  /** @param {number} id */
  const frozenFlow = (id) => {
    const entry = frozen.get(id);
    if (!open || !entry || !ctx.cloud.has) return;
    ctx.flow({
      key: `frozen${id}`, lesson, stream: false, fields: entry.fields, tags: { generation: ctx.model.current },
      begin: (f, noise) => f.flow_begin('learned', noise, ctx.setup.solver, ctx.setup.steps),
    });
  };

  /** The straight reference, computed at once while the stage shows it. */
  const ot = () => {
    if (!open || !ctx.cloud.has || !ctx.shown('ot')) { ctx.scheduler.remove('ot'); return; }
    if (ctx.scheduler.has('ot') || ctx.finished.has('ot')) return;
    ctx.scheduler.add({
      key: 'ot', done: false, priority: () => PRIORITY.STAGE,
      step() {
        const { setup } = ctx;
        const n = Math.min(setup.particles, OT_PARTICLES);
        const frames = new Float32Array(ctx.fields.ot_flow(ctx.noise.subarray(0, 2 * n), setup.steps));
        const f = { frames, n, steps: setup.steps };
        postStraight('ot', f, 0);
        ctx.finished.set('ot', { frames: new Float32Array(0), n, steps: setup.steps });
        post({
          type: 'traj', key: 'ot', generation: ctx.model.current, frames, n, steps: setup.steps, of: setup.particles,
        }, [frames.buffer]);
        this.done = true;
      },
    });
  };

  /** The NFE figures: frozen networks first (measured once), the current one every NFE_MS. */
  const nfe = {
    key: 'nfe', done: false,
    /**
     * @type {{ id: number | 'current', index: number, draws: number[][], steps: number, noises: Float32Array[],
     *   loaded: number } | null}
     */
    run: null,
    get holdsModel() { return this.run?.id === 'current'; },
    priority: () => PRIORITY.MEASURE,
    /** @returns {number | 'current' | undefined} */
    nextId() {
      const id = [...nfeWanted].find((k) => k !== 'current' && frozen.has(k));
      if (id !== undefined) return id;
      const current = nfeWanted.has('current') && ctx.model.have && ctx.model.steps > 0
        && performance.now() - lastNfe >= NFE_MS;
      return current ? 'current' : undefined;
    },
    ready() { return open && ctx.cloud.has && (this.run !== null || this.nextId() !== undefined); },
    wake() { return nfeWanted.has('current') && ctx.model.have ? lastNfe + NFE_MS - performance.now() : Infinity; },
    step() {
      if (!this.run) {
        const id = /** @type {number | 'current'} */ (this.nextId());
        nfeWanted.delete(id);
        if (id === 'current') lastNfe = performance.now();
        const steps = id === 'current' ? ctx.model.steps : frozen.get(id)?.steps ?? 0;
        const noises = Array.from({ length: NFE_DRAWS },
          (_, d) => noise_points(NFE_PARTICLES, ctx.setup.seed + 6 + NFE_SEED_STRIDE * d));
        this.run = { id, index: 0, draws: Array.from(nfe_steps(), () => []), steps, noises, loaded: ctx.model.loaded };
      }
      const run = this.run;
      const f = run.id === 'current' ? ctx.fields : frozen.get(run.id)?.fields;
      // The network changed under a measurement: measure it again.
      if (!f || (run.id === 'current' && run.loaded !== ctx.model.loaded)) {
        nfeWanted.add(run.id);
        this.run = null;
        return;
      }
      const counts = nfe_steps();
      const k = run.index % counts.length, d = Math.floor(run.index / counts.length);
      run.draws[k].push(f.w2_after_euler(run.noises[d], counts[k], ctx.cloud.points));
      run.index += 1;
      if (run.index < counts.length * NFE_DRAWS) return;
      floor ??= w2Floor(ctx.cloud.points, NFE_PARTICLES, ctx.setup.seed + 8);
      const stats = run.draws.map((v) => meanSe(v));
      post({
        type: 'nfe', id: run.id, generation: ctx.model.current, steps: run.steps, values: stats.map((m) => m.mean),
        se: stats.map((m) => m.se), draws: run.draws, floor, particles: NFE_PARTICLES,
      });
      this.run = null;
    },
  };

  /** Everything of the lesson again (new inputs, or the lesson opened). */
  const restart = () => {
    nfe.run = null;
    floor = null;
    nfeWanted.add('current');
    for (const id of frozen.keys()) { frozenFlow(id); nfeWanted.add(id); }
    ctx.scheduler.remove('ot');
    ot();
    if (open) ctx.scheduler.add(nfe);
  };

  /** @param {{ id: number, steps: number, config: any, weights: Float32Array }[]} models */
  const setFrozen = (models) => {
    const ids = new Set(models.map((m) => m.id));
    for (const [id, entry] of frozen) {
      if (ids.has(id)) continue;
      ctx.scheduler.remove(`frozen${id}`);
      entry.fields.free();
      frozen.delete(id);
      nfeWanted.delete(id);
      if (nfe.run?.id === id) nfe.run = null;
    }
    for (const m of models) {
      if (frozen.has(m.id)) continue;
      const f = new Fields();
      f.set_points(ctx.cloud.points);
      f.set_schedule(ctx.cloud.schedule);
      f.set_model(m.config.width, m.config.depth, m.config.timeFeatures, m.weights);
      frozen.set(m.id, { fields: f, steps: m.steps });
      frozenFlow(m.id);
      nfeWanted.add(m.id);
    }
    if (open) ctx.scheduler.add(nfe);
  };

  return {
    open(on) {
      open = on;
      if (on) { restart(); return; }
      ctx.scheduler.removeWhere((k) => k.startsWith('frozen') || k === 'ot' || k === 'nfe');
    },
    message(m) { if (m.type === 'frozen') setFrozen(m.models); },
    cloud() {
      for (const entry of frozen.values()) {
        entry.fields.set_points(ctx.cloud.points);
        entry.fields.set_schedule(ctx.cloud.schedule);
      }
      if (open) restart();
    },
    setup() { if (open) restart(); },
    stage: ot,
    model() { nfeWanted.add('current'); },
    generation() { if (nfe.run?.id === 'current') nfe.run = null; nfeWanted.delete('current'); },
    finished(key) {
      if (!open) return;
      const f = ctx.finished.get(key);
      if (!f) return;
      if (key === 'learned') postStraight('current', f, ctx.model.steps);
      else if (key.startsWith('frozen')) {
        const id = Number(key.slice('frozen'.length));
        postStraight(id, f, frozen.get(id)?.steps ?? 0);
      }
    },
  };
}
