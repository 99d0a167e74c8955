// @ts-check
// The flows every lesson builds on: the learned ODE flow of the current network and the exact
// marginal ODE flow of the drawing, the loading of weight snapshots, and two figures of the
// drawing and the network that every lesson's cards show: the constant C = L_CFM - L_FM of the
// loss chart and how close the learned particles come to the exact ones at t = 1.
//
// Out: {type:'gap', c, stderr, samples, stamp} (Monte Carlo, on every drawing and schedule)
//      {type:'fit', generation, ed, stamp} (energy distance of the learned particles at t = 1
//        to the exact ones, when both flows of the current inputs are complete) A snapshot waits for
// the flows that use the weights loaded now (each trajectory comes from one set of weights)
// and is loaded at most every LEARNED_MS: fresh enough to follow training, and it leaves
// time for the exact flows and the page. Loading it tells every module (`model`), so that
// their flows of the learned field start again with it.
import { energy_distance } from '../pkg/fmp.js';
import { PRIORITY } from './scheduler.js';

/** The learned flows restart with new weights at most this often (ms). */
const LEARNED_MS = 600;
/** Monte Carlo draws for the constant C of the drawing (stderr about 0.04 on the moons). */
const GAP_SAMPLES = 5000;

/**
 * @param {import('./context.js').Context} ctx
 * @returns {import('./context.js').Module}
 */
export default function core(ctx) {
  /** @type {any} the newest weight snapshot, loaded when nothing holds the current weights */
  let next = null;
  let lastLoad = -Infinity;

  /** The exact flow: the chosen solver on the core's time grid, streamed. */
  const exact = (/** @type {boolean} */ coarse) => ctx.flow({
    key: 'exact', lesson: '', coarse,
    begin: (f, noise) => f.flow_begin('marginal', noise, ctx.setup.solver, ctx.setup.steps),
  });
  /** The learned flow: posted whole, from one set of weights. */
  const learned = (/** @type {boolean} */ coarse) => ctx.flow({
    key: 'learned', lesson: '', coarse, stream: false, holdsModel: true, tags: { generation: ctx.model.generation },
    begin: (f, noise) => f.flow_begin('learned', noise, ctx.setup.solver, ctx.setup.steps),
  });

  ctx.scheduler.add({
    key: 'load', done: false, keep: true,
    priority: () => PRIORITY.STAGE,
    ready: () => next !== null && ctx.cloud.has && performance.now() - lastLoad >= LEARNED_MS
      && !ctx.scheduler.modelHeld(),
    wake: () => (next === null ? Infinity : lastLoad + LEARNED_MS - performance.now()),
    step() {
      const m = next;
      next = null;
      lastLoad = performance.now();
      const first = !ctx.model.have || ctx.model.generation !== m.generation;
      ctx.fields.set_model(m.config.width, m.config.depth, m.config.timeFeatures, m.weights);
      ctx.model.have = true;
      ctx.model.generation = m.generation;
      ctx.model.steps = m.steps ?? 0;
      ctx.model.loaded += 1;
      ctx.broadcast('model', first);
    },
  });

  return {
    cloud() {
      if (!ctx.cloud.has) return;
      exact(true);
      // C = E|u(x|z)|^2 - E|u(x)|^2 for this drawing and schedule: the floor of L_CFM.
      const [c, stderr] = ctx.fields.cfm_fm_gap(GAP_SAMPLES, 1);
      ctx.post({ type: 'gap', c, stderr, samples: GAP_SAMPLES, stamp: ctx.stamp('') });
    },
    setup() { if (ctx.cloud.has) exact(true); },
    /** @param {boolean} first the first weights of a network: a coarse pass first */
    model(first) { learned(first); },
    /** @param {any} m */
    snapshot(m) {
      next = m;
      ctx.scheduler.kick();
    },
    generation() {
      next = null;
      ctx.scheduler.remove('learned');
    },
    /** @param {string} key */
    finished(key) {
      if (key !== 'learned' && key !== 'exact') return;
      const l = ctx.finished.get('learned'), e = ctx.finished.get('exact');
      if (!l || !e || l.n !== e.n || !ctx.cloud.has) return;
      /** @param {{ frames: Float32Array, n: number, steps: number }} f */
      const at1 = (f) => f.frames.subarray(f.steps * 2 * f.n);
      ctx.post({
        type: 'fit', generation: ctx.model.generation, ed: energy_distance(at1(l), at1(e)), stamp: ctx.stamp(''),
      });
    },
  };
}
