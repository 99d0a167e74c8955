// @ts-check
// The guidance lesson's jobs in the flow worker: the guided flows of the sampled class at
// scale w (exact: the closed-form guided field of the drawing's classes; learned: the
// class-conditional network's (1 - w) u(x) + w u(x|y)), and the figures table: fidelity and
// spread of GUIDE_PARTICLES guided samples of the class for each of GUIDE_W, exact and learned.
//
// In (from its page): {type:'settings', klass, w} (klass 0: no class to sample)
// Out (each with `lesson` and `stamp`): the flows 'exact_guided' (streamed) and
// 'learned_guided' (whole), and {type:'guidefig', generation, klass, steps, w, exact, learned,
// exactSe, learnedSe, particles, draws} ([fidelity, spread] per w: the means over `draws` draws of
// `particles` samples; *Se: the standard error of the spread over the draws in place 1, and in
// place 0 the binomial one of the fidelity, a share of draws * particles samples).
// Seeds: draw d of the figures starts from noise_points(GUIDE_PARTICLES, seed + 7 + 1000 d), the
// same for every w.
import { noise_points } from '../../pkg/fmp.js';
import { PRIORITY } from '../../worker/scheduler.js';
import { meanSe, share } from '../../compare.js';

/** The figures' scales and particles (of the sampled class). */
const GUIDE_W = [0, 1, 2, 4];
const GUIDE_PARTICLES = 200;
/** Draws of the figures (the spread's sampling noise), and the step between their seeds. */
const GUIDE_DRAWS = 4;
const GUIDE_SEED_STRIDE = 1000;
/** The figures are measured at most this often while the network trains (ms). */
const FIGURES_MS = 3000;

/**
 * @param {import('../../worker/context.js').Context} ctx
 * @param {string} lesson
 * @returns {import('../../worker/context.js').Module}
 */
export default function guidanceJobs(ctx, lesson) {
  let open = false;
  let guide = { klass: 0, w: 1 };
  let wanted = false;
  let last = -Infinity;
  const post = (/** @type {any} */ m) => ctx.post({ ...m, lesson, stamp: ctx.stamp(lesson) });
  const active = () => open && guide.klass > 0 && ctx.cloud.has && ctx.cloud.labels.length > 0;

  /** @param {'exact_guided' | 'learned_guided'} key @param {boolean} coarse */
  const guided = (key, coarse) => {
    const learned = key === 'learned_guided';
    if (!active() || (learned && !ctx.model.have)) { ctx.scheduler.remove(key); return; }
    const { klass, w } = guide;
    ctx.flow({
      key, lesson, coarse, stream: !learned, holdsModel: learned,
      tags: learned ? { generation: ctx.model.generation } : {},
      begin: (f, noise) => {
        const classes = new Uint8Array(noise.length / 2).fill(klass);
        return f.flow_begin_guided(learned ? 'learned' : 'marginal', noise, classes, w, ctx.setup.solver,
          ctx.setup.steps);
      },
    });
  };

  /** The figures table: one scale a step (exact, then learned). */
  const figures = {
    key: 'guidefig', done: false,
    /**
     * The figures in progress.
     * @type {{ index: number, exact: number[][][], learned: number[][][], steps: number, klass: number } | null}
     */
    run: null,
    get holdsModel() { return this.run !== null; },
    priority: () => PRIORITY.MEASURE,
    ready() { return active() && (this.run !== null || (wanted && performance.now() - last >= FIGURES_MS)); },
    wake() { return wanted ? last + FIGURES_MS - performance.now() : Infinity; },
    step() {
      if (!this.run) {
        wanted = false;
        last = performance.now();
        this.run = {
          index: 0, exact: GUIDE_W.map(() => []), learned: GUIDE_W.map(() => []), steps: ctx.model.steps,
          klass: guide.klass,
        };
      }
      const run = this.run;
      const { fields, setup } = ctx;
      const i = run.index % GUIDE_W.length, d = Math.floor(run.index / GUIDE_W.length);
      const w = GUIDE_W[i];
      const start = noise_points(GUIDE_PARTICLES, setup.seed + 7 + GUIDE_SEED_STRIDE * d);
      const labels = new Uint8Array(GUIDE_PARTICLES).fill(run.klass);
      run.exact[i].push(Array.from(fields.guided_figures(false, start, labels, w, 'exact-step', setup.steps)));
      run.learned[i].push(ctx.model.have && ctx.model.steps > 0
        ? Array.from(fields.guided_figures(true, start, labels, w, setup.solver, setup.steps)) : [NaN, NaN]);
      run.index += 1;
      if (run.index < GUIDE_W.length * GUIDE_DRAWS) return;
      const n = GUIDE_PARTICLES * GUIDE_DRAWS;
      /** @param {number[][]} draws [fidelity, spread] of each draw */
      const stats = (draws) => {
        const fid = meanSe(draws.map((f) => f[0])).mean;
        const spread = meanSe(draws.map((f) => f[1]));
        return { mean: [fid, spread.mean], se: [share(Math.round(fid * n), n).se, spread.se] };
      };
      const exact = run.exact.map(stats), learned = run.learned.map(stats);
      post({
        type: 'guidefig', generation: ctx.model.current, klass: run.klass, steps: run.steps, w: GUIDE_W,
        exact: exact.map((f) => f.mean), learned: learned.map((f) => f.mean), exactSe: exact.map((f) => f.se),
        learnedSe: learned.map((f) => f.se), particles: GUIDE_PARTICLES, draws: GUIDE_DRAWS,
      });
      this.run = null;
    },
  };

  /** Both flows and the figures again (a new class or scale, drawing, set-up, or the lesson opened). */
  const restart = () => {
    guided('exact_guided', true);
    guided('learned_guided', true);
    figures.run = null;
    wanted = true;
    last = -Infinity;
    if (active()) ctx.scheduler.add(figures); else ctx.scheduler.remove('guidefig');
  };

  return {
    open(on) {
      open = on;
      if (on) restart();
      else for (const key of ['exact_guided', 'learned_guided', 'guidefig']) ctx.scheduler.remove(key);
    },
    message(m) {
      if (m.type !== 'settings' || (m.klass === guide.klass && m.w === guide.w)) return;
      guide = { klass: m.klass, w: m.w };
      restart();
    },
    cloud() { if (open) restart(); },
    setup() { if (open) restart(); },
    model(first) {
      if (!open) return;
      guided('learned_guided', first);
      wanted = true;
    },
    generation() { ctx.scheduler.remove('learned_guided'); figures.run = null; },
  };
}
