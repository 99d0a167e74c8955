// @ts-check
// The flow worker: owns a wasm instance with a Fields handle and computes, in the background,
// the particles' trajectories and the lessons' measures, so that the page only plays them back.
// It knows no lesson: it is a scheduler of jobs (worker/scheduler.js), and the jobs come from
// the core flows (worker/core.js) and from each lesson's jobs.js, found through the registry
// (lessons/index.js). What the stage shows comes first (the page says which flows it shows).
//
// In:  {type:'cloud', points, labels, schedule, inputs} | {type:'setup', particles, seed,
//        solver, steps, inputs} (`inputs`: the page's counter of these two, for the stamps)
//      {type:'stage', keys, lesson} (the flows the stage shows, and the lesson open)
//      {type:'lesson', lesson, version, msg} (a lesson's message to its jobs)
//      {type:'generation', generation} (a new network: older weights are dropped)
//      {type:'port', port} (from the training worker, which sends {type:'model', generation,
//        config, weights, steps} on it) | {type:'model', ...} (the same, replayed by the page)
//      {type:'duty', duty} (the share of the time to compute) | {type:'ping'}
//      {type:'crash'} (tests only: a trap in the next step of work)
// Out: the flows' messages (worker/flow.js), the modules' own ({lesson, stamp, type, ...}),
//      {type:'error', message, fatal} (fatal: a trap; the session replaces this worker),
//      {type:'pong'}.
//
// Seeds (each random stream its own): the particles start from noise_points(particles, seed);
// the lessons' jobs say which further seeds they use (seed + 1 ...).
import init, { Fields, noise_points } from './pkg/fmp.js';
import { LESSON_IDS } from './lessons/index.js';
import { Scheduler, PRIORITY } from './worker/scheduler.js';
import { Context } from './worker/context.js';
import core from './worker/core.js';

/** @param {any} err */
function report(err) {
  // A trap (a Rust panic) leaves the wasm instance unusable: the session starts a new worker.
  postMessage({ type: 'error', message: String(err?.message ?? err), fatal: err instanceof WebAssembly.RuntimeError });
}

const scheduler = new Scheduler((err) => { scheduler.clear(); report(err); });
const ctx = new Context(scheduler, (msg, transfer = []) => postMessage(msg, transfer));

const ready = (async () => {
  await init();
  ctx.fields = new Fields();
  ctx.modules.set('', core(ctx));
  const defs = await Promise.all(LESSON_IDS.map((id) => import(`./lessons/${id}/jobs.js`)));
  LESSON_IDS.forEach((id, i) => ctx.modules.set(id, defs[i].default(ctx, id)));
})();

/** @param {any} m a weight snapshot of network `m.generation` */
function onSnapshot(m) {
  if (m.generation < ctx.model.current) return;
  if (m.generation > ctx.model.current) newGeneration(m.generation);
  ctx.broadcast('snapshot', m);
}

/** A new network (or none): the old weights' flows and figures are gone. @param {number} g */
function newGeneration(g) {
  ctx.model.current = g;
  ctx.model.have = false;
  ctx.broadcast('generation');
}

onmessage = async (ev) => {
  await ready;
  const m = ev.data;
  try {
    switch (m.type) {
      case 'cloud':
        ctx.fields.set_points(m.points);
        if (m.points.length && m.labels) ctx.fields.set_labels(m.labels);
        ctx.fields.set_schedule(m.schedule);
        ctx.cloud = {
          points: m.points, labels: m.labels ?? new Uint8Array(0), schedule: m.schedule, has: m.points.length > 0,
        };
        ctx.inputs = m.inputs ?? ctx.inputs;
        ctx.finished.clear();
        // No drawing, nothing to flow to.
        if (!ctx.cloud.has) scheduler.clear();
        ctx.broadcast('cloud');
        break;
      case 'setup':
        ctx.setup = { particles: m.particles, seed: m.seed, solver: m.solver, steps: m.steps };
        ctx.noise = noise_points(m.particles, m.seed);
        ctx.inputs = m.inputs ?? ctx.inputs;
        ctx.finished.clear();
        ctx.broadcast('setup');
        break;
      case 'stage': {
        const opened = m.lesson !== ctx.stage.lesson;
        const was = ctx.stage.lesson;
        ctx.stage = { keys: new Set(m.keys), lesson: m.lesson };
        if (opened) {
          ctx.modules.get(was)?.open?.(false);
          ctx.modules.get(m.lesson)?.open?.(true);
        }
        ctx.broadcast('stage');
        scheduler.kick();
        break;
      }
      case 'lesson':
        ctx.versions[m.lesson] = m.version;
        ctx.modules.get(m.lesson)?.message?.(m.msg);
        scheduler.kick();
        break;
      case 'model':
        onSnapshot(m);
        break;
      case 'port':
        m.port.onmessage = (/** @type {MessageEvent} */ e) => {
          try { if (e.data.type === 'model') onSnapshot(e.data); } catch (err) { report(err); }
        };
        break;
      case 'generation':
        if (m.generation > ctx.model.current) newGeneration(m.generation);
        break;
      case 'duty':
        scheduler.duty = Math.max(0.1, Math.min(1, m.duty));
        break;
      case 'ping':
        postMessage({ type: 'pong' });
        break;
      case 'crash':
        // For the end-to-end test of worker recovery: a trap in the next step of work.
        scheduler.add({
          key: 'crash', done: false, priority: () => PRIORITY.COARSE,
          step() { throw new WebAssembly.RuntimeError('unreachable (a trap requested by a test)'); },
        });
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    report(err);
  }
};
