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
//      {type:'sde', on, sigma, correction, langevin} (the diffusion lesson: SDE flows when on;
//        Langevin at the frozen time `langevin`, or null)
//      {type:'straight', on} (the straight-paths lesson: its measures, and the flows of the
//        frozen networks, while on) | {type:'frozen', models: [{id, config, weights}]} (the
//        networks a reflow froze, for comparison: each gets its own Fields and flow)
//      {type:'guide', on, klass, w} (the guidance lesson: guided flows of class klass at scale w)
// Out: {type:'begin', kind, n, steps, first}      a streamed trajectory starts (exact kinds)
//      {type:'frames', kind, start, data}         frames start.. of that trajectory
//      {type:'traj', kind, generation, frames, n, steps}  a complete trajectory (learned)
//      {type:'error', message, fatal} (fatal: a trap; the session replaces this worker)
//      {type:'pong'}                              the answer to {type:'ping'} (the session's watchdog)
//      {type:'gap', c, stderr, samples}           C = L_CFM - L_FM of the drawing (Monte Carlo)
//      {type:'match', rows: [{t, tUsed, ode, sde, floor}]}
//        energy distances of the exact ODE and SDE particles to fresh samples of p_t
//      {type:'w2sigma', generation, steps, sigmas, values}  W2 to the drawing of learned SDE
//        samples at t = 1 for each sigma (NaN where the samples are not finite)
//      {type:'fit', generation, ed}               energy distance of the learned particles at
//        t = 1 to the exact ones (computed here, not on the page's main thread)
//      {type:'langevin', t, step, data, ed, floor}  the newest Langevin frame (ed, floor: its
//        energy distance to fresh samples of p_t and the floor, when measured)
//      {type:'straight', id, generation, steps, s, crossings}  the straightness of a complete
//        learned flow (id 'current'), of a frozen network's (its id) or of the straight
//        reference (id 'ot'), and the crossing pairs among its first 100 paths
//      {type:'nfe', id, generation, steps, values}  W2 to the drawing after each of nfe_steps()
//        Euler steps from noise_points(500, seed + 6), for the network `id`
//      {type:'traj', kind: 'ot', ...}  the straight reference (optimal pairs on their paths),
//        of at most OT_PARTICLES particles
//      {type:'guidefig', generation, klass, steps, w, exact, learned}  fidelity and spread
//        ([f, s] per w) of guided samples of class klass, exact and learned
//
// Seeds (each random stream its own): the particles start from noise_points(particles, seed);
// the SDE noise is seeded with seed + 1 (as `fmp flow --sigma`); Langevin starts from samples
// of p_t seeded with seed + 2 and its noise is seeded with seed + 5; the W2 probes start from
// noise_points(500, seed + 3) and their noise is seeded with seed + 4; the NFE figures start
// from noise_points(500, seed + 6).
// Serial: the page numbers its diffusion inputs (the 'sde', 'cloud' and 'setup' messages carry
// `serial`); every SDE, Langevin, match and probe message says under which serial it was begun,
// so the page drops what an older setting produced.
import init, {
  Fields, noise_points, w2_to, energy_distance, nearest_time, nfe_steps, straightness_of, crossings_of,
} from './pkg/fmp.js';

const SLICE_MS = 25;
/** Monte Carlo draws for the constant C of the drawing (stderr about 0.04 on the moons). */
const GAP_SAMPLES = 5000;
const LEARNED_MS = 600;
let lastLearned = -Infinity;
const KINDS = ['learned', 'learned_sde', 'learned_guided', 'exact', 'exact_sde', 'exact_guided', 'uniform'];
const SLOT = {
  learned: 0, exact: 1, uniform: 2, learned_sde: 3, exact_sde: 4, langevin: 5, probe: 6,
  learned_guided: 7, exact_guided: 8,
};
/** The guidance lesson's figures: scales, particles (of the sampled class). */
const GUIDE_W = [0, 1, 2, 4];
const GUIDE_PARTICLES = 200;
/** The straight reference (the 'ot' view) pairs at most this many particles (the exact
 * assignment costs up to the cube of their number). */
const OT_PARTICLES = 1000;
/** Particles of the NFE figures, and the paths among which crossings are counted. */
const NFE_PARTICLES = 500;
const CROSSING_PATHS = 100;
const STREAMED = new Set(['exact', 'uniform', 'exact_sde', 'exact_guided']);
/** The times of the marginal-match table. */
const MATCH_TIMES = [0.25, 0.5, 0.75, 1];
/** The noise levels of the W2 probe, its particles, and how often it runs while training. */
const PROBE_SIGMAS = [0, 0.5, 1, 2];
const PROBE_PARTICLES = 500;
const PROBE_MS = 3000;
/** Langevin: frames (of 4 steps of ds = 0.01 each) before it stops, and how often it is measured. */
const LANGEVIN_FRAMES = 1500;
/** Langevin moves at most this many particles (each step sums over every data point). */
const LANGEVIN_PARTICLES = 1000;
const LANGEVIN_MEASURE_EVERY = 25;

/** The diffusion lesson's settings. */
let sde = { on: false, sigma: 1, correction: true, /** @type {number | null} */ langevin: null };
/** The complete exact trajectories of the current inputs (for the marginal-match table). */
const finished = new Map(); // kind -> { frames, n, steps }
/** @type {{ frame: number, lastPost: number, start: Float32Array, serial: number } | null} */
let lang = null;
/** @type {{ index: number, values: number[], generation: number, steps: number, serial: number } | null} */
let probe = null;
let lastProbe = -Infinity;
let probeWanted = false;
let modelSteps = 0; // training steps of the weights loaded into `fields`
let cloudPoints = new Float32Array(0);
let cloudLabels = new Uint8Array(0); // one per cloud point (the guidance lesson's classes)
/** @type {{ final: Float32Array, generation: number } | null} the newest complete learned flow's end */
let learnedFinal = null;
let serial = 0; // of the page's latest diffusion inputs
/** The straight-paths lesson: whether it is open, the networks a reflow froze (id -> their
 * own Fields), and the NFE measurements waiting or running. */
let straightOn = false;
/** @type {Map<number, { fields: any, steps: number }>} */
const frozen = new Map();
/** @type {{ id: number | 'current', index: number, values: number[], generation: number, steps: number,
 *   noise: Float32Array } | null} */
let nfe = null;
/** @type {Set<number | 'current'>} */
const nfeWanted = new Set();
let lastNfe = -Infinity;
let schedule = 'linear';
/** The guidance lesson: on, the sampled class and the scale; its figures (a job in progress). */
let guide = { on: false, klass: 1, w: 1 };
let guideWanted = false;
let lastGuide = -Infinity;
/** @type {{ index: number, exact: number[][], learned: number[][], steps: number, klass: number, w: number,
 *   serial: number } | null} */
let guideJob = null;

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
  if (restart) { jobs.delete(kind); finished.delete(kind); }
  kick();
}

const base = (/** @type {string} */ kind) => (kind.startsWith('exact') ? 'marginal'
  : kind.startsWith('frozen') || kind.startsWith('learned') ? 'learned' : kind.replace('_sde', ''));
const frozenId = (/** @type {string} */ kind) => Number(kind.slice('frozen'.length));
/** The Fields a kind's flow runs on (a frozen network has its own), and its slot there. */
const fieldsOf = (/** @type {string} */ kind) => (kind.startsWith('frozen') ? frozen.get(frozenId(kind))?.fields : fields);
const slotOf = (/** @type {string} */ kind) => (kind.startsWith('frozen') ? 0 : SLOT[kind]);

function kick(delay = 0) {
  if (!scheduled) { scheduled = true; setTimeout(work, delay); }
}

function canStart(kind) {
  if (kind.endsWith('_sde') && !sde.on) return false;
  if (kind.endsWith('_guided') && !(guide.on && cloudLabels.length)) return false;
  // The guidance lesson shows guided flows only: the costly unguided exact one waits.
  if (kind === 'exact' && guide.on) return false;
  if (kind.startsWith('frozen')) return straightOn && haveCloud && frozen.has(frozenId(kind));
  if (kind === 'ot') return haveCloud && extraKind === 'ot';
  return kind.startsWith('learned') ? haveModel && haveCloud : haveCloud;
}

function startJob(kind) {
  pending.delete(kind);
  if (kind === 'learned' && nextModel) {
    fields.set_model(nextModel.config.width, nextModel.config.depth, nextModel.config.timeFeatures, nextModel.weights);
    modelGeneration = nextModel.generation;
    modelSteps = nextModel.steps ?? 0;
    nextModel = null;
    probeWanted = true;
    // The NFE figures of the current network are of the weights loaded here (measuring when
    // a snapshot merely arrives could measure the previous weights and then wait forever).
    nfeWanted.add('current');
    // The learned SDE and guided flows follow the same weights: they restart with them.
    if (sde.on) { jobs.delete('learned_sde'); pending.add('learned_sde'); }
    if (guide.on) { jobs.delete('learned_guided'); pending.add('learned_guided'); guideWanted = true; }
  }
  const { particles, solver, steps, seed } = setup;
  // Every flow takes the chosen solver on the core's time grid, which refines towards the
  // clamp (there, at 50 steps, every solver lands >= 99 % of exact particles within 0.01 of
  // a data point for every schedule: crate/tests/flows.rs). SDE flows take Euler-Maruyama on
  // the same grid.
  if (kind.endsWith('_sde')) fields.flow_begin_sde(SLOT[kind], base(kind), noise, steps, sde.sigma, sde.correction, seed + 1);
  else if (kind.endsWith('_guided')) {
    const classes = new Uint8Array(particles).fill(guide.klass);
    fields.flow_begin_guided(SLOT[kind], base(kind), noise, classes, guide.w, solver, steps);
  } else fieldsOf(kind).flow_begin(slotOf(kind), base(kind), noise, solver, steps);
  const frames = new Float32Array((steps + 1) * particles * 2);
  frames.set(noise, 0);
  // Only the SDE flows depend on the diffusion inputs: only they carry the serial.
  const job = { frames, filled: 1, steps, n: particles, sent: 1, lastPost: performance.now(), serial: kind.endsWith('_sde') ? serial : undefined };
  jobs.set(kind, job);
  if (STREAMED.has(kind)) postMessage({ type: 'begin', kind, n: particles, steps, first: noise, serial: job.serial });
  return job;
}

/** Posts the frames computed since the last post (streamed kinds) or the whole trajectory. */
function flush(kind, job, final) {
  if (STREAMED.has(kind)) {
    if (job.filled > job.sent) {
      const stride = 2 * job.n;
      const data = job.frames.slice(job.sent * stride, job.filled * stride);
      postMessage({ type: 'frames', kind, start: job.sent, data, serial: job.serial }, [data.buffer]);
      job.sent = job.filled;
    }
  } else if (final) {
    // The end of a learned flow is kept (before its buffer is transferred) for the fit figure.
    if (kind === 'learned') learnedFinal = { final: job.frames.slice(job.steps * 2 * job.n), generation: modelGeneration };
    if (straightOn && (kind === 'learned' || kind.startsWith('frozen'))) postStraight(kind, job);
    // A frozen network belongs to the current generation (a reflow froze it when it began).
    postMessage({
      type: 'traj', kind, generation: kind.startsWith('frozen') ? generation : modelGeneration, frames: job.frames,
      n: job.n, steps: job.steps, serial: job.serial,
    }, [job.frames.buffer]);
  }
  if (final && (kind === 'exact' || kind === 'exact_sde')) {
    finished.set(kind, { frames: job.frames, n: job.n, steps: job.steps });
    if (sde.on && finished.has('exact') && finished.has('exact_sde')) postMatch();
  }
  if (final && (kind === 'learned' || kind === 'exact')) postFit();
  job.lastPost = performance.now();
}

/** The jobs to advance, in turn (round robin, one ODE step each), starting any that may. */
function activeKinds() {
  for (const kind of [...KINDS, ...[...frozen.keys()].map((id) => `frozen${id}`)]) {
    if (jobs.has(kind) || !pending.has(kind) || !canStart(kind)) continue;
    if (kind === 'uniform' && extraKind !== 'uniform') continue;
    // The learned flow restarts at most every LEARNED_MS: fresh enough to follow training,
    // and it leaves time for the exact flows and the page.
    if (kind === 'learned' && performance.now() - lastLearned < LEARNED_MS) continue;
    // A W2 probe in progress keeps its weights: new ones wait until it is done.
    if (kind === 'learned' && probe) continue;
    if (kind === 'learned') lastLearned = performance.now();
    // The learned SDE flow starts with the weights loaded now; when the learned flow loads
    // newer ones it restarts the SDE flow with them (startJob), in this same pass.
    startJob(kind);
  }
  return [...jobs.keys()];
}

/**
 * The straight reference of the 'ot' view: the first OT_PARTICLES particles' noise paired with
 * the drawing by the exact assignment, moved along their pairs' paths (computed at once).
 */
function postOt() {
  pending.delete('ot');
  const n = Math.min(setup.particles, OT_PARTICLES);
  const frames = new Float32Array(fields.ot_flow(noise.subarray(0, 2 * n), setup.steps));
  postStraight('ot', { frames, n, steps: setup.steps });
  postMessage({ type: 'traj', kind: 'ot', generation, frames, n, steps: setup.steps, of: setup.particles }, [frames.buffer]);
}

/**
 * The straightness of a complete learned or frozen flow, and the crossings among its first
 * CROSSING_PATHS paths.
 * @param {string} kind
 * @param {{ frames: Float32Array, n: number, steps: number }} job
 */
function postStraight(kind, job) {
  const times = fields.flow_times(job.steps);
  const s = straightness_of(job.frames, job.n, times);
  const m = Math.min(job.n, CROSSING_PATHS);
  const first = new Float32Array(2 * m * (job.steps + 1));
  for (let k = 0; k <= job.steps; k++) first.set(job.frames.subarray(2 * job.n * k, 2 * job.n * k + 2 * m), 2 * m * k);
  const crossings = crossings_of(first, m, job.steps + 1);
  const id = kind === 'learned' ? 'current' : kind === 'ot' ? 'ot' : frozenId(kind);
  const steps = kind === 'learned' ? modelSteps : kind === 'ot' ? 0 : frozen.get(frozenId(kind))?.steps ?? 0;
  postMessage({ type: 'straight', id, generation, steps, s, crossings, particles: job.n });
}

/** One step of the NFE figures (one step count of one network); returns whether it did work. */
function nfeStep() {
  if (!straightOn || !haveCloud) { nfe = null; return false; }
  if (!nfe) {
    // Frozen networks first (measured once); the current one at most every PROBE_MS.
    let id = [...nfeWanted].find((k) => k !== 'current' && frozen.has(/** @type {number} */ (k)));
    if (id === undefined && nfeWanted.has('current') && haveModel && modelSteps > 0 && !probe
      && performance.now() - lastNfe >= PROBE_MS) id = 'current';
    if (id === undefined) return false;
    nfeWanted.delete(id);
    if (id === 'current') lastNfe = performance.now();
    const steps = id === 'current' ? modelSteps : frozen.get(/** @type {number} */ (id))?.steps ?? 0;
    const start = noise_points(NFE_PARTICLES, setup.seed + 6);
    nfe = { id, index: 0, values: [], generation: modelGeneration, steps, noise: start };
  }
  const f = nfe.id === 'current' ? fields : frozen.get(/** @type {number} */ (nfe.id))?.fields;
  // The network changed under a measurement of the current one: start again with the new one.
  if (!f || (nfe.id === 'current' && (nfe.generation !== modelGeneration || nfe.steps !== modelSteps))) {
    nfeWanted.add(nfe.id);
    nfe = null;
    return false;
  }
  const counts = nfe_steps();
  nfe.values.push(f.w2_after_euler(nfe.noise, counts[nfe.index], cloudPoints));
  nfe.index += 1;
  if (nfe.index === counts.length) {
    postMessage({ type: 'nfe', id: nfe.id, generation, steps: nfe.steps, values: nfe.values, particles: NFE_PARTICLES });
    nfe = null;
  }
  return true;
}

/**
 * One step of the guidance figures (one scale, exact then learned): fidelity and spread of
 * GUIDE_PARTICLES samples of the sampled class for each of GUIDE_W, from noise_points(...,
 * seed + 7); returns whether it did work. Exact flows take closed-form steps, learned ones
 * the page's solver.
 */
function guideStep() {
  if (!guide.on || !haveCloud || !cloudLabels.length) { guideJob = null; return false; }
  if (!guideJob) {
    if (!guideWanted || performance.now() - lastGuide < PROBE_MS) return false;
    guideWanted = false;
    lastGuide = performance.now();
    guideJob = { index: 0, exact: [], learned: [], steps: modelSteps, klass: guide.klass, w: guide.w, serial };
  }
  const job = guideJob;
  if (job.klass !== guide.klass || (haveModel && job.steps !== modelSteps)) {
    guideJob = null;
    guideWanted = true;
    return false;
  }
  const w = GUIDE_W[job.index];
  const start = noise_points(GUIDE_PARTICLES, setup.seed + 7);
  const labels = new Uint8Array(GUIDE_PARTICLES).fill(job.klass);
  job.exact.push(Array.from(fields.guided_figures(false, start, labels, w, 'exact-step', setup.steps)));
  job.learned.push(haveModel && modelSteps > 0
    ? Array.from(fields.guided_figures(true, start, labels, w, setup.solver, setup.steps)) : [NaN, NaN]);
  job.index += 1;
  if (job.index === GUIDE_W.length) {
    postMessage({
      type: 'guidefig', generation, klass: job.klass, steps: job.steps, w: GUIDE_W, exact: job.exact, learned: job.learned,
      particles: GUIDE_PARTICLES, serial: job.serial,
    });
    guideJob = null;
  }
  return true;
}

/**
 * The frozen networks (a reflow froze each): new ones get their own Fields (the cloud, the
 * schedule and their weights) and their flow and NFE figures are queued; gone ones are freed.
 * @param {{ id: number, steps: number, config: any, weights: Float32Array }[]} models
 */
function setFrozen(models) {
  const ids = new Set(models.map((m) => m.id));
  for (const [id, entry] of frozen) {
    if (ids.has(id)) continue;
    entry.fields.free();
    frozen.delete(id);
    jobs.delete(`frozen${id}`); pending.delete(`frozen${id}`); nfeWanted.delete(id);
    if (nfe?.id === id) nfe = null;
  }
  for (const m of models) {
    if (frozen.has(m.id)) continue;
    const f = new Fields();
    f.set_points(cloudPoints);
    f.set_schedule(schedule);
    f.set_model(m.config.width, m.config.depth, m.config.timeFeatures, m.weights);
    frozen.set(m.id, { fields: f, steps: m.steps });
    want(`frozen${m.id}`);
    nfeWanted.add(m.id);
  }
}

/**
 * The marginal-match table: at each of MATCH_TIMES, the grid time nearest it, and the energy
 * distance of the exact ODE and SDE particles (same noise at t = 0) to fresh samples of p_t
 * there, with the floor of pairs of fresh samples (the same samples for both).
 */
function postMatch() {
  const ode = finished.get('exact'), sdeRun = finished.get('exact_sde');
  if (!ode || !sdeRun || ode.n !== sdeRun.n || ode.steps !== sdeRun.steps) return;
  const times = fields.flow_times(ode.steps);
  const stride = 2 * ode.n;
  const frame = (/** @type {Float32Array} */ f, /** @type {number} */ k) => f.subarray(k * stride, (k + 1) * stride);
  const rows = MATCH_TIMES.map((t) => {
    const k = nearest_time(times, t);
    const [odeEd, floor] = fields.marginal_match(frame(ode.frames, k), times[k], setup.seed);
    const [sdeEd] = fields.marginal_match(frame(sdeRun.frames, k), times[k], setup.seed);
    return { t, tUsed: times[k], ode: odeEd, sde: sdeEd, floor };
  });
  postMessage({ type: 'match', rows, serial });
}

/** The learned-vs-exact energy distance at t = 1, when both flows are complete. */
function postFit() {
  const exact = finished.get('exact');
  if (!learnedFinal || !exact || learnedFinal.final.length !== 2 * exact.n || !haveCloud) return;
  const ed = energy_distance(learnedFinal.final, exact.frames.subarray(exact.steps * 2 * exact.n));
  postMessage({ type: 'fit', generation: learnedFinal.generation, ed });
}

/** One step of the W2 probe (one noise level); returns whether it did some work. */
function probeStep() {
  if (!probe) {
    const ready = probeWanted && haveModel && modelSteps > 0 && haveCloud && sde.on;
    if (!ready || performance.now() - lastProbe < PROBE_MS) return false;
    probeWanted = false;
    lastProbe = performance.now();
    probe = { index: 0, values: [], generation: modelGeneration, steps: modelSteps, serial };
  }
  if (probe.generation !== modelGeneration || probe.steps !== modelSteps) {
    probe = null;
    probeWanted = true;
    return false;
  }
  const sigma = PROBE_SIGMAS[probe.index];
  fields.flow_begin_sde(SLOT.probe, 'learned', noise_points(PROBE_PARTICLES, setup.seed + 3), setup.steps, sigma, true, setup.seed + 4);
  const all = fields.flow_advance(SLOT.probe, setup.steps);
  const last = all.subarray(all.length - 2 * PROBE_PARTICLES);
  let w2 = NaN;
  if (last.every(Number.isFinite)) w2 = w2_to(last, cloudPoints);
  probe.values.push(w2);
  probe.index += 1;
  if (probe.index === PROBE_SIGMAS.length) {
    postMessage({
      type: 'w2sigma', generation: probe.generation, steps: probe.steps, sigmas: PROBE_SIGMAS, values: probe.values, serial: probe.serial,
    });
    probe = null;
  }
  return true;
}

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

/** One frame of Langevin at the frozen time; returns whether it did some work. */
function langevinStep() {
  if (sde.langevin === null || !haveCloud || !sde.on) { lang = null; return false; }
  const t = sde.langevin;
  if (!lang) {
    const start = fields.sample_marginal(t, Math.min(setup.particles, LANGEVIN_PARTICLES), setup.seed + 2);
    fields.langevin_begin(SLOT.langevin, 'marginal', start, t, sde.sigma, setup.seed + 5);
    lang = { frame: 0, lastPost: -Infinity, start, serial };
    const [ed, floor] = fields.marginal_match(start, t, setup.seed);
    postMessage({ type: 'langevin', t, step: 0, data: start, ed, floor, moved: 0, serial });
    return true;
  }
  if (lang.frame >= LANGEVIN_FRAMES) return false;
  const data = fields.flow_advance(SLOT.langevin, 1);
  lang.frame += 1;
  const measure = lang.frame % LANGEVIN_MEASURE_EVERY === 0 || lang.frame === LANGEVIN_FRAMES;
  if (measure || performance.now() - lang.lastPost > 40) {
    const [ed, floor] = measure ? fields.marginal_match(data, t, setup.seed) : [NaN, NaN];
    const moved = measure ? meanDistance(lang.start, data) : NaN;
    postMessage({
      type: 'langevin', t, step: 4 * lang.frame, data, ed, floor, moved, done: lang.frame === LANGEVIN_FRAMES, serial: lang.serial,
    }, [data.buffer]);
    lang.lastPost = performance.now();
  }
  return true;
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
      const langevinWork = langevinStep();
      // The probe takes its turn beside the flows (one noise level a turn), every PROBE_MS.
      const probeWork = probeStep();
      const nfeWork = nfeStep();
      const guideWork = guideStep();
      if (pending.has('ot') && canStart('ot')) postOt();
      const extraWork = langevinWork || probeWork || nfeWork || guideWork;
      if (active.length === 0) {
        if (extraWork) continue;
        break;
      }
      // A new network's first flow goes first (alone): its particles should appear at once,
      // not after the exact flows; later ones take turns with them.
      const first = active.filter((k) => k.startsWith('learned'));
      const kinds = jobs.has('learned') && learnedShown < generation ? first : active;
      for (const kind of kinds) {
        const job = jobs.get(kind);
        const chunk = fieldsOf(kind).flow_advance(slotOf(kind), 1);
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
  const more = jobs.size || (lang && lang.frame < LANGEVIN_FRAMES) || probe || nfe || guideJob;
  if (more) kick(duty < 1 ? (performance.now() - started) * (1 / duty - 1) : 0);
  else if (pending.has('learned') && haveModel) kick(Math.max(0, lastLearned + LEARNED_MS - performance.now()));
  else if (probeWanted && haveModel && sde.on) kick(Math.max(0, lastProbe + PROBE_MS - performance.now()));
  else if (straightOn && nfeWanted.size && haveModel) kick(Math.max(0, lastNfe + PROBE_MS - performance.now()));
  else if (guide.on && guideWanted) kick(Math.max(0, lastGuide + PROBE_MS - performance.now()));
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
  probe = null;
  probeWanted = false;
  learnedFinal = null;
  if (nfe?.id === 'current') nfe = null;
  nfeWanted.delete('current');
  for (const kind of ['learned', 'learned_sde']) { jobs.delete(kind); pending.delete(kind); }
}

const ready = init().then(() => { fields = new Fields(); });
onmessage = async (ev) => {
  await ready;
  const m = ev.data;
  try {
    switch (m.type) {
      case 'cloud':
        fields.set_points(m.points);
        if (m.points.length && m.labels) fields.set_labels(m.labels);
        fields.set_schedule(m.schedule);
        schedule = m.schedule;
        cloudLabels = m.labels ?? new Uint8Array(0);
        haveCloud = m.points.length > 0;
        cloudPoints = m.points;
        // The frozen networks' flows and figures are against the new cloud (and schedule).
        for (const [id, entry] of frozen) {
          entry.fields.set_points(m.points);
          entry.fields.set_schedule(m.schedule);
          want(`frozen${id}`);
          nfeWanted.add(id);
        }
        nfeWanted.add('current');
        nfe = null;
        if (extraKind === 'ot') want('ot');
        // The guided flows and figures are of the cloud's classes.
        for (const kind of ['exact_guided', 'learned_guided']) want(kind);
        guideWanted = true;
        guideJob = null;
        learnedFinal = null;
        if (m.serial !== undefined) serial = m.serial;
        lang = null;
        probe = null;
        if (!haveCloud) jobs.clear();
        // C = E|u(x|z)|^2 - E|u(x)|^2 for this drawing and schedule: the floor of L_CFM.
        if (haveCloud) {
          const [c, stderr] = fields.cfm_fm_gap(GAP_SAMPLES, 1);
          postMessage({ type: 'gap', c, stderr, samples: GAP_SAMPLES });
        }
        for (const kind of ['exact', 'uniform', 'exact_sde', 'learned_sde']) want(kind);
        probeWanted = true;
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
        // Langevin uses the particle count and the seed, not the solver or the steps.
        if (!setup || setup.particles !== m.particles || setup.seed !== m.seed) lang = null;
        setup = { particles: m.particles, seed: m.seed, solver: m.solver, steps: m.steps };
        noise = noise_points(m.particles, m.seed);
        if (m.serial !== undefined) serial = m.serial;
        for (const kind of KINDS) want(kind);
        for (const id of frozen.keys()) { want(`frozen${id}`); nfeWanted.add(id); }
        nfeWanted.add('current');
        nfe = null;
        if (extraKind === 'ot') want('ot');
        guideWanted = true;
        guideJob = null;
        probeWanted = true;
        break;
      case 'sde': {
        const changed = m.on !== sde.on || m.sigma !== sde.sigma || m.correction !== sde.correction;
        // Langevin follows the score with the correction always: the toggle does not restart it.
        if (m.on !== sde.on || m.sigma !== sde.sigma || m.langevin !== sde.langevin) lang = null;
        if (m.serial !== undefined) serial = m.serial;
        sde = { on: m.on, sigma: m.sigma, correction: m.correction, langevin: m.langevin };
        if (changed) {
          for (const kind of ['exact_sde', 'learned_sde']) want(kind);
          if (!sde.on) for (const kind of ['exact_sde', 'learned_sde']) { jobs.delete(kind); pending.delete(kind); }
        }
        if (m.on) probeWanted = true;
        kick();
        break;
      }
      case 'extra':
        extraKind = m.kind;
        if (extraKind) want(extraKind);
        else for (const kind of ['uniform', 'ot']) { jobs.delete(kind); pending.delete(kind); }
        break;
      case 'straight':
        straightOn = m.on;
        if (straightOn) {
          nfeWanted.add('current');
          for (const id of frozen.keys()) { want(`frozen${id}`); nfeWanted.add(id); }
          // The current network's figures come with its next complete flow.
          if (haveModel) want('learned', false);
        }
        kick();
        break;
      case 'frozen':
        setFrozen(m.models);
        kick();
        break;
      case 'guide':
        // A new class or scale: both guided flows and the figures start again.
        if (m.on !== guide.on || m.klass !== guide.klass || m.w !== guide.w) {
          const wasOn = guide.on;
          guide = { on: m.on, klass: m.klass, w: m.w };
          for (const kind of ['exact_guided', 'learned_guided']) {
            if (guide.on) want(kind); else { jobs.delete(kind); pending.delete(kind); }
          }
          // Leaving the lesson: the unguided exact flow it held back is computed now.
          if (wasOn && !guide.on && !jobs.has('exact') && !finished.has('exact')) want('exact');
          guideWanted = guide.on;
          guideJob = null;
          lastGuide = -Infinity;
        }
        kick();
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    report(err);
  }
};
