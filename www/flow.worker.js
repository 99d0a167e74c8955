// The flow worker: owns a wasm instance with a Fields handle and integrates particle
// trajectories from t = 0 to t = 1 in the background, so the page only plays them back.
// Jobs run in slices of about 25 ms so new messages (an edited cloud, new weights) preempt.
//
// In:  {type:'cloud', points, schedule} | {type:'model', config, weights}
//      {type:'setup', particles, seed, solver, steps} | {type:'flow', kind}
// Out: {type:'traj', kind, frames(Float32Array, transferred), n, steps, version}
//      {type:'progress', kind, done, total} | {type:'error', message}
import init, { Fields, noise_points } from './pkg/fmp.js';

const SLICE_MS = 25;
let fields = null;
let setup = null; // { particles, seed, solver, steps }
let noise = null;
let haveCloud = false;
let haveModel = false;
let extraKind = null; // optional third field: 'uniform'
const pending = new Map(); // kind -> version to compute
let versions = { learned: 0, exact: 0, uniform: 0 };
let job = null; // { kind, version, frames, filled }
let scheduled = false;

/** Queues a computation of `kind`; `restart` drops a running one whose inputs changed. */
function want(kind, restart = true) {
  versions[kind] += 1;
  pending.set(kind, versions[kind]);
  if (restart && job?.kind === kind) job = null;
  kick();
}

function kick() {
  if (!scheduled) { scheduled = true; setTimeout(work, 0); }
}

function startJob() {
  // The learned flow is fast and changes often: it goes first.
  for (const kind of ['learned', 'exact', 'uniform']) {
    if (!pending.has(kind)) continue;
    if (kind === 'learned' && !haveModel) continue;
    if (!haveCloud && kind !== 'learned') continue;
    const version = pending.get(kind);
    pending.delete(kind);
    const { particles, solver, steps } = setup;
    fields.flow_begin(kind === 'exact' ? 'marginal' : kind, noise, solver, steps);
    const frames = new Float32Array((steps + 1) * particles * 2);
    frames.set(noise, 0);
    return { kind, version, frames, filled: 1, steps, n: particles };
  }
  return null;
}

function work() {
  scheduled = false;
  if (!fields || !setup) return;
  try {
    const t0 = performance.now();
    while (performance.now() - t0 < SLICE_MS) {
      if (!job) job = startJob();
      if (!job) return;
      const chunk = fields.flow_advance(1);
      job.frames.set(chunk, job.filled * job.n * 2);
      job.filled += 1;
      if (job.filled > job.steps) {
        postMessage({ type: 'traj', kind: job.kind, frames: job.frames, n: job.n, steps: job.steps, version: job.version }, [job.frames.buffer]);
        job = null;
      } else if (job.kind !== 'learned' && job.filled % 5 === 0) {
        postMessage({ type: 'progress', kind: job.kind, done: job.filled - 1, total: job.steps });
      }
    }
  } catch (err) {
    job = null;
    postMessage({ type: 'error', message: String(err?.message ?? err) });
  }
  kick();
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
        want('exact');
        if (extraKind) want(extraKind);
        break;
      case 'model':
        fields.set_model(m.config.width, m.config.depth, m.config.timeFeatures, m.weights);
        haveModel = true;
        // A newer snapshot waits for the running learned job instead of restarting it, so a
        // stream of snapshots cannot starve the playback.
        want('learned', false);
        break;
      case 'setup':
        setup = { particles: m.particles, seed: m.seed, solver: m.solver, steps: m.steps };
        noise = noise_points(m.particles, m.seed);
        want('exact');
        if (extraKind) want(extraKind);
        if (haveModel) want('learned');
        break;
      case 'extra':
        extraKind = m.kind;
        if (extraKind) want(extraKind);
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    postMessage({ type: 'error', message: String(err?.message ?? err) });
  }
};
