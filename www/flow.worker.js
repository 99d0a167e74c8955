// @ts-check
// The flow worker: owns a wasm instance with a Fields handle and integrates particle
// trajectories from t = 0 to t = 1 in the background, so the page only plays them back.
// Work runs in slices of about 25 ms so new messages (an edited cloud, new weights) preempt.
// Each field kind has its own job; the learned one (fast, refreshed by every weight
// snapshot, at most every LEARNED_MS) takes turns with the others, and the exact ones stream
// their frames as they are computed.
//
// In:  {type:'cloud', points, schedule} | {type:'setup', particles, seed, solver, steps}
//      {type:'extra', kind | null} | {type:'generation', generation} (of the current network:
//        older weights are dropped) | {type:'port', port} (from the training worker, which
//        sends {type:'model', generation, config, weights} on it) | {type:'ping'}
//      {type:'crash'} (tests only: a trap in the next slice) | {type:'duty', duty} (the share of
//        the time to compute: the page lowers it when its frames are slow)
// Out: {type:'begin', kind, n, steps, first}      a streamed trajectory starts (exact kinds)
//      {type:'frames', kind, start, data}         frames start.. of that trajectory
//      {type:'traj', kind, generation, frames, n, steps}  a complete trajectory (learned)
//      {type:'error', message, fatal} (fatal: a trap; the session replaces this worker)
//      {type:'pong'}                              the answer to {type:'ping'} (the session's watchdog)
//      {type:'gap', c, stderr, samples}           C = L_CFM - L_FM of the drawing (Monte Carlo)
import init, { Fields, noise_points } from './pkg/fmp.js';

const SLICE_MS = 25;
/** Monte Carlo draws for the constant C of the drawing (stderr about 0.04 on the moons). */
const GAP_SAMPLES = 5000;
const LEARNED_MS = 600;
let lastLearned = -Infinity;
const KINDS = ['learned', 'exact', 'uniform'];
const SLOT = { learned: 0, exact: 1, uniform: 2 };
const STREAMED = new Set(['exact', 'uniform']);

let fields = null;
let setup = null; // { particles, seed, solver, steps }
let noise = null;
let haveCloud = false;
let haveModel = false;
/** @type {any} */
let nextModel = null; // the newest weight snapshot, loaded when a learned job starts
let generation = 0; // of the current network
let modelGeneration = 0; // of the weights loaded into `fields`
let learnedShown = -1; // the generation of the last complete learned flow
let extraKind = null;
const pending = new Set(); // kinds whose inputs changed since their job started
const jobs = new Map(); // kind -> { frames, filled, steps, n, sent }
let scheduled = false;
let trapNext = false; // tests only
// The share of the time this worker computes (the page lowers it when its frames are slow).
let duty = 1;

/** Queues a fresh computation of `kind`; `restart` drops a running one whose inputs changed. */
function want(kind, restart = true) {
  pending.add(kind);
  if (restart) jobs.delete(kind);
  kick();
}

function kick(delay = 0) {
  if (!scheduled) { scheduled = true; setTimeout(work, delay); }
}

function canStart(kind) {
  return kind === 'learned' ? haveModel && haveCloud : haveCloud;
}

function startJob(kind) {
  pending.delete(kind);
  if (kind === 'learned' && nextModel) {
    fields.set_model(nextModel.config.width, nextModel.config.depth, nextModel.config.timeFeatures, nextModel.weights);
    modelGeneration = nextModel.generation;
    nextModel = null;
  }
  const { particles, solver, steps } = setup;
  // Every flow takes the chosen solver on the core's time grid, which refines towards the
  // clamp (there, at 50 steps, every solver lands >= 99 % of exact particles within 0.01 of
  // a data point for every schedule: crate/tests/flows.rs).
  fields.flow_begin(SLOT[kind], kind === 'exact' ? 'marginal' : kind, noise, solver, steps);
  const frames = new Float32Array((steps + 1) * particles * 2);
  frames.set(noise, 0);
  const job = { frames, filled: 1, steps, n: particles, sent: 1, lastPost: performance.now() };
  jobs.set(kind, job);
  if (STREAMED.has(kind)) postMessage({ type: 'begin', kind, n: particles, steps, first: noise });
  return job;
}

/** Posts the frames computed since the last post (streamed kinds) or the whole trajectory. */
function flush(kind, job, final) {
  if (STREAMED.has(kind)) {
    if (job.filled > job.sent) {
      const stride = 2 * job.n;
      const data = job.frames.slice(job.sent * stride, job.filled * stride);
      postMessage({ type: 'frames', kind, start: job.sent, data }, [data.buffer]);
      job.sent = job.filled;
    }
  } else if (final) {
    postMessage({ type: 'traj', kind, generation: modelGeneration, frames: job.frames, n: job.n, steps: job.steps }, [job.frames.buffer]);
  }
  job.lastPost = performance.now();
}

/** The jobs to advance, in turn (round robin, one ODE step each), starting any that may. */
function activeKinds() {
  for (const kind of KINDS) {
    if (jobs.has(kind) || !pending.has(kind) || !canStart(kind)) continue;
    if (kind === 'uniform' && extraKind !== 'uniform') continue;
    // The learned flow restarts at most every LEARNED_MS: fresh enough to follow training,
    // and it leaves time for the exact flows and the page.
    if (kind === 'learned' && performance.now() - lastLearned < LEARNED_MS) continue;
    if (kind === 'learned') lastLearned = performance.now();
    startJob(kind);
  }
  return [...jobs.keys()];
}

function work() {
  scheduled = false;
  if (!fields || !setup) return;
  const started = performance.now();
  try {
    const t0 = started;
    if (trapNext) { trapNext = false; throw new WebAssembly.RuntimeError('unreachable (a trap requested by a test)'); }
    while (performance.now() - t0 < SLICE_MS) {
      const active = activeKinds();
      if (active.length === 0) break;
      // A new network's first flow goes first (alone): its particles should appear at once,
      // not after the exact flows; later ones take turns with them.
      const kinds = jobs.has('learned') && learnedShown < generation ? ['learned'] : active;
      for (const kind of kinds) {
        const job = jobs.get(kind);
        const chunk = fields.flow_advance(SLOT[kind], 1);
        job.frames.set(chunk, job.filled * job.n * 2);
        job.filled += 1;
        const done = job.filled > job.steps;
        if (done || performance.now() - job.lastPost > 100) flush(kind, job, done);
        if (done) jobs.delete(kind);
        if (done && kind === 'learned') learnedShown = modelGeneration;
      }
    }
  } catch (err) {
    jobs.clear();
    report(err);
  }
  // Busy: continue at once. Idle but a learned flow waits for its turn: come back then.
  if (jobs.size) kick(duty < 1 ? (performance.now() - started) * (1 / duty - 1) : 0);
  else if (pending.has('learned') && haveModel) kick(Math.max(0, lastLearned + LEARNED_MS - performance.now()));
}

/** @param {any} err */
function report(err) {
  // A trap (a Rust panic) leaves the wasm instance unusable: the session starts a new worker.
  postMessage({ type: 'error', message: String(err?.message ?? err), fatal: err instanceof WebAssembly.RuntimeError });
}

/**
 * A weight snapshot. A newer snapshot waits for the running learned job instead of
 * restarting it (so a stream of snapshots cannot starve the playback); it is loaded when the
 * next learned job starts, so every trajectory comes from one set of weights. Snapshots of
 * an older network than the current generation are dropped.
 * @param {any} m
 */
function onModel(m) {
  if (m.generation < generation) return;
  if (m.generation > generation) dropModel(m.generation);
  nextModel = m;
  haveModel = true;
  want('learned', false);
}

/**
 * A new network (or none): the old weights and their flow are gone.
 * @param {number} g
 */
function dropModel(g) {
  generation = g;
  nextModel = null;
  haveModel = false;
  jobs.delete('learned');
  pending.delete('learned');
}

const ready = init().then(() => { fields = new Fields(); });
onmessage = async (ev) => {
  await ready;
  const m = ev.data;
  try {
    switch (m.type) {
      case 'cloud':
        fields.set_points(m.points);
        fields.set_schedule(m.schedule);
        haveCloud = m.points.length > 0;
        if (!haveCloud) jobs.clear();
        // C = E|u(x|z)|^2 - E|u(x)|^2 for this drawing and schedule: the floor of L_CFM.
        if (haveCloud) {
          const [c, stderr] = fields.cfm_fm_gap(GAP_SAMPLES, 1);
          postMessage({ type: 'gap', c, stderr, samples: GAP_SAMPLES });
        }
        want('exact');
        want('uniform');
        break;
      case 'model':
        onModel(m);
        break;
      case 'port':
        m.port.onmessage = (/** @type {MessageEvent} */ e) => { try { if (e.data.type === 'model') onModel(e.data); } catch (err) { report(err); } };
        break;
      case 'duty':
        duty = Math.max(0.1, Math.min(1, m.duty));
        break;
      case 'ping':
        postMessage({ type: 'pong' });
        break;
      case 'crash':
        // For the end-to-end test of worker recovery: a trap in the next slice of work.
        trapNext = true;
        want('exact');
        break;
      case 'generation':
        if (m.generation > generation) dropModel(m.generation);
        break;
      case 'setup':
        setup = { particles: m.particles, seed: m.seed, solver: m.solver, steps: m.steps };
        noise = noise_points(m.particles, m.seed);
        for (const kind of KINDS) want(kind);
        break;
      case 'extra':
        extraKind = m.kind;
        if (extraKind) want(extraKind);
        else { jobs.delete('uniform'); pending.delete('uniform'); }
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    report(err);
  }
};
