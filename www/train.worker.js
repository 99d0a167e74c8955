// @ts-check
// The training worker: owns its own wasm instance and a TrainerHandle, runs CFM steps in
// chunks of about 20 ms, and reports progress to the page. Weight snapshots go out every
// SNAPSHOT_MS twice, each transferred (no copy in flight): to the flow worker over the port
// the session gave us, and to the page.
//
// In:  {type:'port', port}                       the channel to the flow worker
//      {type:'reset', config, points, labels, generation, running}  new network on a cloud
//        (config: width, depth, timeFeatures, batch, lr, schedule, coupling, seed, labelled: a
//        class-conditional network learning the labels, one per point)
//      {type:'reflow', generation, seed}  freezes the network (posted back as 'frozen') and
//        trains a fresh one on pairs from its ODE (a reflow round), as the new generation;
//        when it cannot (untrained, diverged), 'reflow-failed' and the old one continues as it
//      {type:'cost'}  measures an S step's cost with each coupling on the current cloud
//      {type:'clear', generation}                 no network (the cloud is empty)
//      {type:'points', points, labels}            continue training on an edited cloud
//      {type:'lr', lr} | {type:'play'} | {type:'pause'} | {type:'step', n} | {type:'ping'}
//      {type:'duty', duty}   the share of the time to compute (the page lowers it when its frames are slow)
//      {type:'workers', n}   train with n workers from the next chunk on (team.js: n - 1 helpers)
//      {type:'crash', how?: 'trap' | 'helper'}      (tests only; 'helper': a helper's next share traps)
// Out: {type:'ready', build, kernel} | {type:'pong'}
//      {type:'progress', generation, steps, cfm, fm, cos, meanCfm, stepsPerSec, workers, transport, kernel}
//      {type:'team', workers, transport, kernel, fellBack?} (the workers setting arrived, or the
//        team fell back to one worker: fellBack, and the page's setting follows)
//      {type:'notice', message} (a helper failed; training goes on with one worker)
//      {type:'armed'} (tests only: the first helper's next share will trap)
//      {type:'weights', generation, steps, config, weights(Float32Array, transferred), paused}
//      {type:'diverged', generation, steps} | {type:'error', message, fatal}
//      {type:'frozen', generation, steps, config, weights} (the network a reflow replaced)
//      {type:'reflow-failed', generation, message}
//      {type:'cost', generation, batch, rounds, rates: {coupling: steps/s}} (medians of the rounds)
// Port out: {type:'model', generation, config, weights(Float32Array, transferred)}
import { loadCore, buildFor } from './wasm.js';
import { Team, HelperError, transportFor } from './team.js';

/** The core: the relaxed-SIMD build where the browser validates it (wasm.js). */
/** @type {typeof import('./pkg/fmp.js')} */
let core;
const build = buildFor();
/** The data-parallel team (one worker: the trainer's own loop); `wanted` applies between chunks. */
let team = new Team(1, build);
let wanted = 1;

const CHUNK_MS = 20;
const SNAPSHOT_MS = 200;
let DIVERGED = Infinity; // the core's limit (catalog().limits.diverged_loss), set when it loads
// The exact FM loss costs batch x data points: measure it every REPORT_MS, not every chunk.
const REPORT_MS = 100;
let lastReport = -Infinity;

/** @type {import('./pkg/fmp.js').TrainerHandle | null} */
let trainer = null;
/** The trainer a step is computing with (a transferred-buffer step awaits its helpers), and
 * one retired meanwhile, freed when that step ends. */
/** @type {import('./pkg/fmp.js').TrainerHandle | null} */
let stepping = null;
/** @type {import('./pkg/fmp.js').TrainerHandle | null} */
let retired = null;

/**
 * Frees a trainer that is no longer current, once no step computes with it.
 * @param {import('./pkg/fmp.js').TrainerHandle | null} h
 */
function retire(h) {
  if (!h) return;
  if (h === stepping) retired = h;
  else h.free();
}
let generation = 0; // of the network: the page and the flow worker drop older ones
/** @type {any} */
let config = null;
let running = false;
let looping = false;
let chunk = 8; // steps per call, adapted to CHUNK_MS
let lastSnapshot = 0;
let rate = { t0: 0, s0: 0, value: 0 };
/** @type {MessagePort | null} */
let flowPort = null;
let trapNext = false;
/** The cloud the network trains on (for the cost measurement). */
let points = new Float32Array(0);
/** The 'cost' timing: rounds, each timing both couplings for COST_MS ms, in turn (medians
 * of the rounds are reported, so a busy moment of the page weighs on both alike). */
const COST_ROUNDS = 5;
const COST_MS = 40;
// The share of the time this worker computes (the page lowers it when its frames are slow).
let duty = 1; // for the end-to-end test of a trap inside the training loop

// A zero-delay yield to the event loop (setTimeout would clamp to 4 ms). The training loop,
// a reflow and a cost measurement may each be waiting at once: every waiter is resumed.
const channel = new MessageChannel();
/** @type {(() => void)[]} */
const waiting = [];
channel.port1.onmessage = () => { waiting.shift()?.(); };
const yieldNow = () => new Promise((r) => { waiting.push(() => r(undefined)); channel.port2.postMessage(0); });

/** Posts the current weights to the flow worker and the page (two buffers, both transferred). */
function snapshot() {
  if (!trainer) return;
  const weights = trainer.weights();
  const steps = trainer.steps_done();
  if (flowPort) {
    const copy = weights.slice();
    flowPort.postMessage({ type: 'model', generation, steps, config, weights: copy }, [copy.buffer]);
  }
  postMessage({ type: 'weights', generation, steps, config, weights, paused: !running }, [weights.buffer]);
  lastSnapshot = performance.now();
}

/** The steps in flight: calls of runSteps run one after another (the loop, Step, a reflow's wait). */
let busy = Promise.resolve(true);

/**
 * Runs n steps (with the team) after those already asked for; resolves to false (and stops)
 * when the loss is no longer finite. When the network changed meanwhile (a reset while helpers
 * computed), the rest of the steps is dropped and the loop goes on with the new one.
 * @param {number} n
 * @param {boolean} [forceReport]
 * @returns {Promise<boolean>}
 */
function runSteps(n, forceReport = false) {
  const next = busy.then(() => stepChunk(n, forceReport));
  busy = next.catch(() => true);
  return next;
}

/** What the page shows about the team: how many workers, how they exchange numbers, the kernel. */
const teamFacts = () => ({ workers: team.n, transport: team.transport, kernel: core.kernel_name() });

/**
 * One call of runSteps.
 * @param {number} n
 * @param {boolean} forceReport
 */
async function stepChunk(n, forceReport) {
  if (!trainer) return false;
  if (trapNext) { trapNext = false; throw new WebAssembly.RuntimeError('unreachable (a trap requested by a test)'); }
  if (wanted !== team.n) { team.close(); team = new Team(wanted, build); }
  const now0 = performance.now();
  const report = forceReport || now0 - lastReport > REPORT_MS;
  const source = trainer;
  stepping = source;
  /** @type {number[]} */
  let result;
  try {
    result = await team.train(source, n, report, () => trainer === source);
  } catch (err) {
    // A trap of this worker's own instance is fatal (the page starts a new worker); a helper's
    // failure only ends the team: training goes on with one worker (the step is dropped).
    if (!(err instanceof HelperError)) throw err;
    const workers = team.n;
    team.close();
    team = new Team(1, build);
    wanted = 1;
    const what = err.message.charAt(0).toUpperCase() + err.message.slice(1);
    postMessage({ type: 'notice', message: `${what}: training goes on with one worker instead of ${workers} (choose `
      + `${workers} under Training workers to try again).` });
    postMessage({ type: 'team', ...teamFacts(), fellBack: true });
    return true;
  } finally {
    stepping = null;
    if (retired === source) { retired = null; source.free(); }
  }
  if (trainer !== source) return true;
  const [steps, cfm, fm, cos, meanCfm] = result;
  const now = performance.now();
  if (report) lastReport = now;
  if (now - rate.t0 > 500) {
    rate.value = ((steps - rate.s0) * 1000) / (now - rate.t0);
    rate.t0 = now; rate.s0 = steps;
  }
  // Diverged: the loss is not finite, or exploded. On the stage (|z| < 5) even the zero field
  // scores a CFM loss below 60, so DIVERGED is out of reach of any model that is learning.
  if (!Number.isFinite(meanCfm) || meanCfm > DIVERGED || (report && !Number.isFinite(cfm))) {
    running = false;
    postMessage({ type: 'diverged', generation, steps });
    return false;
  }
  if (report) {
    postMessage({
      type: 'progress', generation, steps, cfm, fm, cos, meanCfm, stepsPerSec: rate.value, ...teamFacts(),
    });
  }
  return true;
}

/** Trains until paused, yielding between chunks; a final snapshot when paused (not when cleared). */
async function loop() {
  if (looping) return;
  looping = true;
  try {
    rate = { t0: performance.now(), s0: trainer?.steps_done() ?? 0, value: rate.value };
    while (running && trainer) {
      const t0 = performance.now();
      if (!await runSteps(chunk)) break;
      const spent = performance.now() - t0;
      chunk = Math.max(1, Math.min(2000, Math.round(chunk * (spent > 0 ? CHUNK_MS / spent : 2))));
      if (performance.now() - lastSnapshot > SNAPSHOT_MS) snapshot();
      // When the page's frames come slowly, it asks the workers to leave it some CPU: after a
      // chunk of `spent` ms, rest spent * (1 / duty - 1) ms.
      if (duty < 1) await new Promise((r) => setTimeout(r, spent * (1 / duty - 1)));
      else await yieldNow();
    }
    snapshot();
  } finally {
    looping = false;
  }
}

/** @param {any} err */
function fail(err) {
  running = false;
  // A trap (a Rust panic) leaves the wasm instance unusable: the page starts a new worker.
  const fatal = err instanceof WebAssembly.RuntimeError;
  postMessage({ type: 'error', message: String(err?.message ?? err), fatal });
}

/** Reflow noise points carried to their partners per slice (the worker answers between). */
const REFLOW_SLICE = 128;
let reflowing = false;
/** Whether training resumes after the reflow (play and pause meanwhile set it). */
let resumeAfterReflow = false;

/**
 * A reflow round: pairs (x0, x1 = ODE_theta(x0)) from the current network, computed a slice
 * at a time (progress posted), then the network is frozen (posted to the page) and a fresh
 * one trains on the pairs as generation m.generation. When the core refuses (untrained,
 * diverged), the current network carries on, as that generation.
 * @param {{ generation: number, seed: number }} m
 */
async function reflow(m) {
  if (!trainer || reflowing) throw new Error('no network to reflow');
  reflowing = true;
  resumeAfterReflow = running;
  running = false;
  const before = trainer;
  await busy; // a step in flight finishes first
  if (!reflowing || trainer !== before) return; // a reset or a clear came meanwhile
  const source = trainer;
  try {
    const total = core.TrainerHandle.reflow_pairs();
    const x0 = core.noise_points(total, m.seed);
    const x1 = new Float32Array(x0.length);
    for (let i = 0; i < total; i += REFLOW_SLICE) {
      const end = Math.min(total, i + REFLOW_SLICE);
      x1.set(source.reflow_partners(x0.subarray(2 * i, 2 * end)), 2 * i);
      postMessage({ type: 'reflow-progress', generation: m.generation, done: end, total });
      await yieldNow();
      if (trainer !== source) return; // a reset or a clear came meanwhile
    }
    const next = source.fresh_on_pairs(x0, x1);
    const weights = source.weights();
    postMessage({ type: 'frozen', generation: m.generation, steps: source.steps_done(), config, weights },
      [weights.buffer]);
    retire(source);
    trainer = next;
    generation = m.generation;
    rate.value = 0;
    snapshot();
    postMessage({ type: 'progress', generation, steps: 0, cfm: NaN, fm: NaN, cos: NaN, meanCfm: NaN, stepsPerSec: 0,
      ...teamFacts() });
  } catch (err) {
    if (trainer !== source) return;
    generation = m.generation;
    postMessage({ type: 'reflow-failed', generation, message: String(/** @type {any} */ (err)?.message ?? err) });
    snapshot();
  } finally {
    reflowing = false;
  }
  if (resumeAfterReflow) start();
}

/**
 * A fresh unlabelled network of configuration `c` on `pts`, with `coupling`.
 * @param {Float32Array} pts
 * @param {any} c
 * @param {string} coupling
 */
const plainTrainer = (pts, c, coupling) => new core.TrainerHandle(pts, c.width, c.depth, c.timeFeatures, c.batch, c.lr,
  c.schedule, coupling, c.seed);

/**
 * Steps per second of a fresh network of the current configuration on the current cloud,
 * with each coupling: COST_ROUNDS rounds alternate the two (COST_MS each, after two warm-up
 * steps) and the median of each is returned (the trainer's own network is not touched). The
 * worker yields between timings, so it keeps answering (a large network's step is slow).
 * @returns {Promise<Record<string, number>>}
 */
async function measureCost() {
  const couplings = ['independent', 'ot'];
  const handles = couplings.map((coupling) => plainTrainer(points, config, coupling));
  /** @type {number[][]} */
  const rates = couplings.map(() => []);
  try {
    for (const h of handles) h.train(2, false);
    for (let round = 0; round < COST_ROUNDS; round++) {
      for (const [i, h] of handles.entries()) {
        let n = 0;
        const t0 = performance.now();
        while (performance.now() - t0 < COST_MS) { h.train(1, false); n += 1; }
        rates[i].push((n * 1000) / (performance.now() - t0));
        await yieldNow();
      }
    }
  } finally {
    for (const h of handles) h.free();
  }
  const median = (/** @type {number[]} */ v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  return Object.fromEntries(couplings.map((c, i) => [c, median(rates[i])]));
}

const start = () => {
  if (reflowing) { resumeAfterReflow = true; return; }
  if (trainer && !running) { running = true; loop().catch(fail); }
};

const ready = loadCore(build).then((c) => {
  core = c;
  DIVERGED = JSON.parse(c.catalog()).limits.diverged_loss;
});
onmessage = async (ev) => {
  await ready;
  const m = ev.data;
  try {
    switch (m.type) {
      case 'port':
        flowPort = m.port;
        break;
      case 'reset': {
        running = false;
        reflowing = false; // a reflow in progress notices its network is gone and stops
        retire(trainer);
        trainer = null;
        config = m.config;
        generation = m.generation;
        points = m.points;
        trainer = config.labelled
          ? core.TrainerHandle.labelled(m.points, m.labels, config.width, config.depth, config.timeFeatures,
            config.batch, config.lr, config.schedule, config.seed)
          : plainTrainer(m.points, config, config.coupling);
        rate.value = 0;
        snapshot();
        postMessage({ type: 'progress', generation, steps: 0, cfm: NaN, fm: NaN, cos: NaN, meanCfm: NaN, stepsPerSec: 0,
          ...teamFacts() });
        if (m.running) start();
        break;
      }
      case 'clear':
        running = false;
        reflowing = false;
        generation = m.generation;
        retire(trainer);
        trainer = null;
        break;
      case 'points':
        points = m.points;
        if (trainer && config?.labelled) trainer.set_labelled_points(m.points, m.labels);
        else if (trainer) trainer.set_points(m.points);
        break;
      case 'reflow':
        await reflow(m);
        break;
      case 'cost':
        if (trainer && config && points.length) {
          const batch = config.batch;
          const rates = await measureCost();
          postMessage({ type: 'cost', generation, batch, rounds: COST_ROUNDS, rates });
        }
        break;
      case 'lr':
        config = { ...config, lr: m.lr };
        trainer?.set_lr(m.lr);
        break;
      case 'play':
        start();
        break;
      case 'duty':
        duty = Math.max(0.1, Math.min(1, m.duty));
        break;
      case 'pause':
        running = false;
        resumeAfterReflow = false;
        break;
      case 'step':
        if (trainer && !running && !reflowing) { if (await runSteps(m.n ?? 1, true)) snapshot(); }
        break;
      case 'workers':
        wanted = Math.max(1, Math.min(16, Math.floor(m.n) || 1));
        postMessage({ type: 'team', workers: wanted, transport: transportFor(wanted), kernel: core.kernel_name() });
        break;
      case 'ping':
        postMessage({ type: 'pong' });
        break;
      case 'crash':
        // For the end-to-end tests of worker recovery: an uncaught error kills the worker; a
        // trap is thrown by the next training chunk, inside the running loop.
        if (m.how === 'trap') trapNext = true;
        else if (m.how === 'helper' && team.helpers[0]) {
          // The helper answers when it next idles; the page hears of it (tests wait for it).
          await team.ask(team.helpers[0], { type: 'crash' });
          postMessage({ type: 'armed' });
        }
        else setTimeout(() => { throw new Error('crash requested'); });
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    fail(err);
  }
};
ready.then(() => postMessage({ type: 'ready', build, kernel: core.kernel_name() }), fail);
