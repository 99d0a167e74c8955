// In-browser benchmarks, run by `cargo xtask bench` against the served release build:
// 1. training steps/s (canonical S and L, S with the OT coupling, S with labels) and
//    exact-marginal evaluations/s in a Web Worker, on a bare page (www/bench.html: no app, no
//    animation) and, for comparison, inside the running app page; on the bare page also S and
//    L with each matrix kernel (matrixmultiply, the simd128 kernel, the relaxed-SIMD kernel)
//    and its GEMM GFLOP/s, and S and L with 1 and 2 data-parallel workers (www/team.js), with
//    the scaling and an estimate for 4 and 8 workers from where a step's time goes;
// 2. the frame intervals of the real page (default particles, 1,000 drawn points) while
//    training runs, then the worker benchmark again inside that page (animating, paused).
// Prints one JSON line per figure, then a table of all figures with targets.
// With FMP_BENCH_CHECK=1 (`cargo xtask bench --check`) it exits non-zero when a target is missed.
import { loadavg, cpus } from 'node:os';
import { launch, openPage, APP_URL } from '../e2e/browser.mjs';
import { CASES, controlLatency } from './latency.mjs';
import { measureFrames } from './frames.mjs';

const TARGETS = {
  'train native S': ['>=', 4500], 'train native L': ['>=', 150],
  'train wasm S (bare page)': ['>=', 2000], 'train wasm L (bare page)': ['>=', 40],
  'frame median ms (app page)': ['<=', 18], 'frame p95 ms (app page)': ['<=', 33],
  'frame median ms (diffusion lesson)': ['<=', 18], 'frame p95 ms (diffusion lesson)': ['<=', 33],
  'frame median ms (straight-paths lesson)': ['<=', 18], 'frame p95 ms (straight-paths lesson)': ['<=', 33],
  'frame median ms (guidance lesson)': ['<=', 18], 'frame p95 ms (guidance lesson)': ['<=', 33],
  'first SDE frames after the slider (ms)': ['<=', 1000],
  ...Object.fromEntries(CASES.flatMap((c) => [
    [`${c.control}: new particles at the shown t, median (ms)`, ['<=', 300]],
    [`${c.control}: new particles at the shown t, worst (ms)`, ['<=', 1000]],
    [`${c.control}: all particles at the shown t, median (ms)`, ['<=', 2000]],
  ])),
  'OT step cost / independent, S (bare page)': ['<=', 2],
  'S, 1 worker / JAX': ['>=', 0.55], 'L, 1 worker / JAX': ['>=', 0.4],
  'S, 2 workers / JAX': ['>=', 0.75], 'L, 2 workers / JAX': ['>=', 0.6],
};
/** The kernels compared: the wasm build each needs and the kernel it sets. */
const KERNELS = [
  { build: 'simd128', kernel: 'matrixmultiply' },
  { build: 'simd128', kernel: 'packed' },
  { build: 'relaxed', kernel: 'packed' },
];

/**
 * Runs bench.worker.js from `page` with `task` (see that file); returns its JSON lines, each
 * printed with `where` added.
 * @param {any} page
 * @param {string} where
 * @param {Record<string, any>} task
 */
async function runWorker(page, where, task) {
  const text = await page.evaluate((msg) => new Promise((resolve, reject) => {
    const w = new Worker('./bench.worker.js', { type: 'module' });
    w.onmessage = (ev) => { resolve(ev.data); w.terminate(); };
    w.onerror = (ev) => reject(new Error(ev.message || 'the benchmark worker failed'));
    w.postMessage(msg);
  }), { windows: 3, windowSeconds: 3, ...task });
  return text.split('\n').map((line) => {
    const r = JSON.parse(line);
    console.log(JSON.stringify({ ...r, page: where }));
    return r;
  });
}

/**
 * The core's benchmark figures (the build the app's training worker loads here) as table rows
 * labelled `where`.
 * @param {any} page
 * @param {string} where
 */
async function workerBench(page, where) {
  const rows = [];
  for (const r of await runWorker(page, where, { task: 'all', build: 'relaxed' })) {
    if (r.bench === 'train') rows.push([`train wasm ${r.config} (${where})`, r.steps_per_s, 'steps/s']);
    else if (r.bench === 'marginal') rows.push([`marginal wasm (${where})`, r.evals_per_s, 'evals/s']);
  }
  return rows;
}


/**
 * The frame intervals of a lesson while it trains (10 s): one JSON line (with `facts` about
 * the set-up) and its median and p95 rows, named after `lesson`.
 * @param {any} page
 * @param {string} lesson
 * @param {Record<string, any>} facts
 * @param {any[]} rows
 */
async function lessonFrames(page, lesson, facts, rows) {
  const f = await measureFrames(page, 10);
  console.log(JSON.stringify({
    bench: 'frames', where: 'wasm', page: `app page, ${lesson}`, ...facts, training: true,
    frames: f.intervals.length, median_ms: +f.median.toFixed(2), p95_ms: +f.p95.toFixed(2),
    train_steps_per_s: +f.stepsPerSec.toFixed(0),
  }));
  rows.push([`frame median ms (${lesson})`, f.median, 'ms'], [`frame p95 ms (${lesson})`, f.p95, 'ms']);
}

/**
 * The machine's load (1-minute average, runnable processes) now, as a JSON line and a row: the
 * figures of a shared machine are read against it.
 * @param {string} when
 */
const loadRow = (when) => {
  const load = loadavg()[0];
  console.log(JSON.stringify({ bench: 'load', when, load_1min: +load.toFixed(2), cores: cpus().length }));
  return [`machine load, 1-min average, ${when} (${cpus().length} cores)`, load, 'load'];
};
const loadAtStart = loadRow('at the start of the browser figures');
const browser = await launch();
const rows = [];
try {
  // 1. The worker benchmark on the bare page.
  const bare = await openPage(browser.context, new URL('bench.html', APP_URL).href);
  rows.push(...await workerBench(bare, 'bare page'));
  // Each kernel, one worker: S and L, and the GEMM GFLOP/s of the three products of an L step.
  for (const k of KERNELS) {
    for (const r of await runWorker(bare, 'bare page', { task: 'kernel', ...k, configs: ['S', 'L'] })) {
      if (r.bench === 'train') rows.push([`train wasm ${r.config}, ${r.kernel} (bare page)`, r.steps_per_s, 'steps/s']);
      else rows.push([`GEMM ${r.product}, ${r.kernel}`, r.gflops, 'GFLOP/s']);
    }
  }
  // Data-parallel: 1 and 2 workers with the relaxed kernel (the app's on this browser).
  const team = await runWorker(bare, 'bare page',
    { task: 'team', build: 'relaxed', kernel: 'packed', configs: ['S', 'L'] });
  for (const config of ['S', 'L']) {
    const [one, two] = [1, 2].map((n) => team.find((r) => r.config === config && r.workers === n));
    rows.push([`train wasm ${config}, 2 workers, ${two.transport} (bare page)`, two.steps_per_s, 'steps/s'],
      [`${config}: 2 workers / 1 worker (same loop)`, two.steps_per_s / one.steps_per_s, 'x']);
    // Where a 2-worker step's time goes: the leader's serial work s, its own half c / 2 of the
    // batch's gradient work c, and the rest o (waiting for the helper, adding its gradient).
    // With N workers on N free cores: T(N) = s + c / N + o (N - 1).
    const t2 = 1000 / two.steps_per_s;
    const { serial: sMs, own_share: half } = two.ms_per_step;
    const o = Math.max(0, t2 - sMs - half);
    for (const n of [4, 8]) {
      const tn = sMs + (2 * half) / n + o * (n - 1);
      rows.push([`${config}: ${n} workers, estimated (s ${sMs.toFixed(3)} + c ${(2 * half).toFixed(3)} / N + o `
        + `${o.toFixed(3)} (N - 1) ms)`,
        1000 / tn, 'steps/s']);
    }
  }
  await bare.close();

  // 2. Frame intervals of the app while it trains (fresh page: two moons, 1,000 points), then
  //    the same worker benchmark inside the animating app, for comparison.
  const app = await openPage(browser.context, APP_URL);
  await app.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  const setup = await app.evaluate(() => ({
    points: window.fmp.count(), particles: window.fmp.state().particles, workers: window.fmp.state().workers,
  }));
  await app.click('#train');
  await app.waitForFunction(() => window.fmp.lastStep() > 1000, null, { timeout: 60000 });
  const { intervals, median, p95, stepsPerSec } = await measureFrames(app, 10);
  const line = {
    bench: 'frames', where: 'wasm', page: 'app page', ...setup, training: true, frames: intervals.length,
    median_ms: +median.toFixed(2), p95_ms: +p95.toFixed(2), fps_median: +(1000 / median).toFixed(1),
    train_steps_per_s: +stepsPerSec.toFixed(0),
  };
  console.log(JSON.stringify(line));
  rows.push(['frame median ms (app page)', median, 'ms'], ['frame p95 ms (app page)', p95, 'ms'],
    ['app training while animating (app page)', line.train_steps_per_s, 'steps/s']);

  // 3. The diffusion lesson while training: 2,000 SDE particles (exact and learned) at 50
  //    steps besides the ODE's, then how soon the SDE particles of a new noise level move
  //    after the slider (the exact flow's first computed step) and when both are complete.
  await app.click('#lesson-picker >> text=Diffusion (SDE)');
  await app.evaluate(() => window.fmp.apply({ sigma: 1, scoreFix: true, langevin: false, field: 'sde' }));
  await app.waitForFunction(() => window.fmp.trajectory('exact_sde')?.complete, null, { timeout: 30000 });
  await lessonFrames(app, 'diffusion lesson', { ...setup, sigma: 1 }, rows);
  const latency = await app.evaluate(() => new Promise((resolve) => {
    const el = /** @type {HTMLInputElement} */ (document.getElementById('sigma'));
    const t0 = performance.now();
    el.value = '1.5';
    el.dispatchEvent(new Event('input', { bubbles: true }));
    let first = NaN;
    const poll = () => {
      const exact = window.fmp.trajectory('exact_sde');
      const learned = window.fmp.trajectory('learned_sde');
      if (Number.isNaN(first) && exact && exact.reach > 0) first = performance.now() - t0;
      if (exact?.complete && learned?.complete) resolve({ first, complete: performance.now() - t0 });
      else if (performance.now() - t0 > 20000) resolve({ first, complete: NaN });
      else requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  }));
  console.log(JSON.stringify({
    bench: 'sde_latency', where: 'wasm', page: 'app page, diffusion lesson', ...setup, training: true,
    first_ms: +latency.first.toFixed(0), complete_ms: +latency.complete.toFixed(0),
  }));
  rows.push(['first SDE frames after the slider (ms)', latency.first, 'ms'],
    ['exact and learned SDE flows complete after the slider (ms)', latency.complete, 'ms']);
  // 4. The straight-paths lesson while training: after one reflow, the frozen network's flow
  //    and the current one's beside the exact particles, and their measures every 3 s.
  await app.click('#lesson-picker >> text=Straight paths');
  await app.waitForFunction(() => window.fmp.weightSteps() >= 300, null, { timeout: 60000 });
  await app.click('#reflow');
  await app.waitForFunction(() => window.fmp.straight().frozen === 1 && window.fmp.trajectory('frozen0')?.complete,
    null, { timeout: 60000 });
  await lessonFrames(app, 'straight-paths lesson', { ...setup, networks: 2 }, rows);
  // 5. The guidance lesson while training its class-conditional network (moons, two
  //    classes): the exact and learned guided flows and the fidelity figures every 3 s.
  await app.click('#lesson-picker >> text=Guidance');
  await app.click('#load-preset');
  await app.waitForFunction(() => window.fmp.guidance().counts[1] > 0 && window.fmp.weightSteps() >= 100, null,
    { timeout: 60000 });
  await app.waitForFunction(() => window.fmp.trajectory('exact_guided')?.complete, null, { timeout: 60000 });
  await lessonFrames(app, 'guidance lesson', { ...setup, classes: 2 }, rows);
  // 6. How soon the stage shows a lesson's main control at the shown t, while training
  //    (tests/bench/latency.mjs): a coarse first pass, then every particle.
  for (const c of CASES) {
    const r = await controlLatency(app, c);
    console.log(JSON.stringify({ bench: 'latency', where: 'wasm', page: 'app page', training: true, ...setup, ...r }));
    rows.push([`${c.control}: new particles at the shown t, median (ms)`, r.first_median_ms, 'ms'],
      [`${c.control}: new particles at the shown t, worst (ms)`, r.first_worst_ms, 'ms'],
      [`${c.control}: all particles at the shown t, median (ms)`, r.full_median_ms, 'ms']);
  }
  await app.evaluate(() => window.fmp.apply({ play: true }));
  await app.click('#lesson-picker >> text=Flow matching');
  // As the reviewer measured it: the app page animating its 2,000 particles with its flow
  // worker, training paused (a training app would also compete for the cores).
  await app.click('#train');
  rows.push(...await workerBench(app, 'app page, animating'));
  if (app.errors.length) throw new Error(`console errors: ${app.errors.join('; ')}`);
} finally {
  await browser.close();
}

rows.unshift(loadAtStart);
const loadAtEnd = loadRow('at the end');
// The native figures come from the lines xtask printed before; it passes them in.
const native = (process.env.FMP_NATIVE_BENCH ?? '').split('\n').filter(Boolean).map((line) => {
  const r = JSON.parse(line);
  if (r.bench === 'train') return [`train native ${r.config}`, r.steps_per_s, 'steps/s'];
  if (r.bench === 'gemm') return [`GEMM ${r.product}, native ${r.kernel}`, r.gflops, 'GFLOP/s'];
  return ['marginal native', r.evals_per_s, 'evals/s'];
});
rows.unshift(...native);
// Native JAX (jit, one thread), run by xtask just before: the reference of the ratios.
const jax = Object.fromEntries((process.env.FMP_JAX_BENCH ?? '').split('\n').filter(Boolean)
  .map((line) => JSON.parse(line)).filter((r) => r.where === 'jax').map((r) => [r.config, r.steps_per_s]));
for (const [config, rate] of Object.entries(jax)) {
  rows.unshift([`train JAX ${config} (native, jit, 1 thread)`, rate, 'steps/s']);
}
const figure = (/** @type {string} */ name) => rows.find(([n]) => n === name)?.[1];
for (const config of ['S', 'L']) {
  if (!jax[config]) continue;
  const one = figure(`train wasm ${config}, relaxed-simd (bare page)`)
    ?? figure(`train wasm ${config}, simd128 (bare page)`);
  const two = rows.find(([n]) => n.startsWith(`train wasm ${config}, 2 workers`))?.[1];
  if (one) rows.push([`${config}, 1 worker / JAX`, one / jax[config], 'x']);
  if (two) rows.push([`${config}, 2 workers / JAX`, two / jax[config], 'x']);
}
// The straight-paths lesson's cost of the OT coupling: an S step's time with it over without,
// natively and on the bare page (the same run, the same machine).
for (const where of ['native', 'bare page']) {
  const rate = (config) => rows.find(([name]) => name === (where === 'native'
    ? `train native ${config}` : `train wasm ${config} (bare page)`))?.[1];
  const ratio = rate('S') / rate('S-OT');
  if (Number.isFinite(ratio)) rows.push([`OT step cost / independent, S (${where})`, ratio, 'x']);
  // The guidance lesson's class-conditional step (one-hot labels, dropout) against a plain one.
  const labelled = rate('S') / rate('S-labels');
  if (Number.isFinite(labelled)) rows.push([`labelled step cost / plain, S (${where})`, labelled, 'x']);
}
rows.push(loadAtEnd);
console.log('\n| figure | measured | target |\n| --- | --- | --- |');
let missed = 0;
for (const [name, value, unit] of rows) {
  const t = TARGETS[name];
  const ok = t ? (t[0] === '>=' ? value >= t[1] : value <= t[1]) : null;
  if (t && !ok) missed += 1;
  const digits = { ms: 1, x: 2, 'GFLOP/s': 1, load: 2 }[unit] ?? 0;
  const shown = unit === 'evals/s' ? value.toExponential(2) : value.toFixed(digits);
  console.log(`| ${name} | ${shown} ${unit} | ${t ? `${t[0]} ${t[1]} ${ok ? 'met' : 'MISSED'}` : ''} |`);
}
if (missed > 0) {
  console.log(`\n${missed} target(s) missed`);
  if (process.env.FMP_BENCH_CHECK === '1') process.exitCode = 1;
}
