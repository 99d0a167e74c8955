// @ts-check
// Benchmark worker (used by `cargo xtask bench` from the bare page www/bench.html): loads one
// build of the core (simd128 or relaxed SIMD, wasm.js) with one matrix kernel and posts JSON
// lines back. The `bench_*` exports exist only in the build that `cargo xtask bench` makes
// (the core's `bench` feature), not in the app's.
// In: {task: 'all' | 'kernel' | 'team', build, kernel, configs, workers, windows, windowSeconds}
//   'all': every figure of the core's benchmark (bench_all); 'kernel': training figures of
//   `configs` and the GEMM GFLOP/s of the kernel; 'team': training figures of `configs` with
//   1 and with `workers` data-parallel workers (team.js), and where a step's time goes.
import { loadCore } from './wasm.js';
import { Team } from './team.js';

/** @param {number[]} v */
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * Steps/s of the canonical configuration `config` trained by a team of `n` workers: 200
 * warm-up steps, then `windows` windows of `windowSeconds`, the median reported.
 * @param {any} core
 * @param {'relaxed' | 'simd128'} build
 * @param {string} kernel
 * @param {string} config
 * @param {number} n
 * @param {number} windows
 * @param {number} windowSeconds
 */
async function teamFigure(core, build, kernel, config, n, windows, windowSeconds) {
  const trainer = core.bench_trainer(config);
  const team = new Team(n, build, kernel);
  const chunk = config === 'L' ? 1 : 16;
  try {
    await team.train(trainer, 200, false);
    team.clock = { steps: 0, serial: 0, own: 0, wait: 0 };
    const rates = [];
    for (let w = 0; w < windows; w++) {
      const t0 = performance.now();
      let steps = 0;
      while (performance.now() - t0 < windowSeconds * 1000) {
        await team.train(trainer, chunk, false);
        steps += chunk;
      }
      rates.push((steps * 1000) / (performance.now() - t0));
    }
    const c = team.clock;
    const per = (/** @type {number} */ v) => (c.steps ? +(v / c.steps).toFixed(4) : null);
    return {
      bench: 'train', where: 'wasm', config, kernel: core.kernel_name(), workers: n, transport: team.transport,
      steps_per_s: +median(rates).toFixed(1), windows: rates.map((r) => +r.toFixed(1)),
      ms_per_step: { serial: per(c.serial), own_share: per(c.own), wait: per(c.wait) },
    };
  } finally {
    team.close();
    trainer.free();
  }
}

onmessage = async (ev) => {
  const { task = 'all', build = 'simd128', kernel = 'packed', configs = ['S', 'L'], workers = 2 } = ev.data ?? {};
  const { windows = 3, windowSeconds = 3 } = ev.data ?? {};
  /** @type {any} */
  const core = await loadCore(build);
  if (typeof core.bench_train !== 'function') {
    throw new Error('this wasm build has no benchmarks: run `cargo xtask bench`');
  }
  core.set_kernel(kernel);
  const lines = [];
  if (task === 'all') lines.push(core.bench_all(windows, windowSeconds));
  if (task === 'kernel') {
    for (const c of configs) lines.push(core.bench_train(c, windows, windowSeconds));
    lines.push(core.bench_gemm(windows, 1));
  }
  if (task === 'team') {
    for (const c of configs) {
      for (const n of [1, workers]) {
        lines.push(JSON.stringify(await teamFigure(core, build, kernel, c, n, windows, windowSeconds)));
      }
    }
  }
  postMessage(lines.join('\n'));
};
