// The training worker: owns its own wasm instance and a TrainerHandle, runs CFM steps in
// chunks of about 20 ms, and reports progress and weight snapshots to the page.
//
// In:  {type:'reset', config, points, generation}  new network on a cloud (config: width, depth,
//        timeFeatures, batch, lr, schedule, seed)
//      {type:'points', points}         continue training on an edited cloud
//      {type:'lr', lr} | {type:'play'} | {type:'pause'} | {type:'step', n} | {type:'crash'}
// Out: {type:'ready'} | {type:'progress', generation, steps, cfm, fm, cos, meanCfm, stepsPerSec}
//      {type:'weights', generation, steps, config, weights(Float32Array, transferred)}
//      {type:'diverged', generation, steps} | {type:'error', message, fatal}
import init, { TrainerHandle } from './pkg/fmp.js';

const CHUNK_MS = 20;
const SNAPSHOT_MS = 200;
const DIVERGED = 1e4;
// The exact FM loss costs batch x data points: measure it every REPORT_MS, not every chunk.
const REPORT_MS = 100;
let lastReport = -Infinity;

let trainer = null;
let generation = 0; // of the network: the page drops messages of older ones
let config = null;
let running = false;
let chunk = 8; // steps per call, adapted to CHUNK_MS
let lastSnapshot = 0;
let rate = { t0: 0, s0: 0, value: 0 };

// A zero-delay yield to the event loop (setTimeout would clamp to 4 ms).
const channel = new MessageChannel();
let resume = null;
channel.port1.onmessage = () => { const r = resume; resume = null; r?.(); };
const yieldNow = () => new Promise((r) => { resume = r; channel.port2.postMessage(0); });

function snapshot() {
  const weights = trainer.weights();
  postMessage({ type: 'weights', generation, steps: trainer.steps_done(), config, weights }, [weights.buffer]);
  lastSnapshot = performance.now();
}

/** Runs n steps; returns false (and stops) when the loss is no longer finite. */
function runSteps(n, forceReport = false) {
  const now0 = performance.now();
  const report = forceReport || now0 - lastReport > REPORT_MS;
  const [steps, cfm, fm, cos, meanCfm] = trainer.train(n, report);
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
  if (report) postMessage({ type: 'progress', generation, steps, cfm, fm, cos, meanCfm, stepsPerSec: rate.value });
  return true;
}

async function loop() {
  rate = { t0: performance.now(), s0: trainer.steps_done(), value: rate.value };
  while (running && trainer) {
    const t0 = performance.now();
    if (!runSteps(chunk)) break;
    const spent = performance.now() - t0;
    chunk = Math.max(1, Math.min(2000, Math.round(chunk * (spent > 0 ? CHUNK_MS / spent : 2))));
    if (performance.now() - lastSnapshot > SNAPSHOT_MS) snapshot();
    await yieldNow();
  }
  if (trainer) snapshot();
}

function fail(err) {
  running = false;
  // A trap (a Rust panic) leaves the wasm instance unusable: the page starts a new worker.
  const fatal = err instanceof WebAssembly.RuntimeError;
  postMessage({ type: 'error', message: String(err?.message ?? err), fatal });
}

const ready = init();
onmessage = async (ev) => {
  await ready;
  const m = ev.data;
  try {
    switch (m.type) {
      case 'reset': {
        const wasRunning = running;
        running = false;
        trainer?.free();
        trainer = null;
        config = m.config;
        generation = m.generation;
        trainer = new TrainerHandle(m.points, config.width, config.depth, config.timeFeatures,
          config.batch, config.lr, config.schedule, config.seed);
        rate.value = 0;
        snapshot();
        postMessage({ type: 'progress', generation, steps: 0, cfm: NaN, fm: NaN, cos: NaN, meanCfm: NaN, stepsPerSec: 0 });
        if (wasRunning) { running = true; loop(); }
        break;
      }
      case 'points':
        if (trainer) trainer.set_points(m.points);
        break;
      case 'lr':
        config = { ...config, lr: m.lr };
        trainer?.set_lr(m.lr);
        break;
      case 'play':
        if (trainer && !running) { running = true; loop(); }
        break;
      case 'pause':
        running = false;
        break;
      case 'step':
        if (trainer && !running) { if (runSteps(m.n ?? 1, true)) snapshot(); }
        break;
      case 'crash':
        // For the end-to-end test of worker recovery: an uncaught error kills the worker.
        setTimeout(() => { throw new Error('crash requested'); });
        break;
      default:
        throw new Error(`unknown message ${m.type}`);
    }
  } catch (err) {
    fail(err);
  }
};
ready.then(() => postMessage({ type: 'ready' }), fail);
