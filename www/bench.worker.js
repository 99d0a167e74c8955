// @ts-check
// Benchmark worker (used by `cargo xtask bench`): runs the core's benchmark figures in a Web
// Worker on the release wasm build, and posts the JSON lines back. `bench_all` exists only in
// the build that `cargo xtask bench` makes (the core's `bench` feature), not in the app's.
onmessage = async (ev) => {
  /** @type {any} */
  const pkg = await import('./pkg/fmp.js');
  await pkg.default();
  if (typeof pkg.bench_all !== 'function') {
    throw new Error('this wasm build has no benchmarks: run `cargo xtask bench`');
  }
  const { windows = 3, windowSeconds = 3 } = ev.data ?? {};
  postMessage(pkg.bench_all(windows, windowSeconds));
};
