// Benchmark worker (used by `cargo xtask bench`): runs the core's benchmark figures in a Web
// Worker on the same release wasm build the app ships, and posts the JSON lines back.
import init, { bench_all } from './pkg/fmp.js';

onmessage = async (ev) => {
  await init();
  const { windows = 3, windowSeconds = 3 } = ev.data ?? {};
  postMessage(bench_all(windows, windowSeconds));
};
