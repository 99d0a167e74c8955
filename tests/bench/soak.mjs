// The soak run (`cargo xtask soak`, not in CI): the app trains for FMP_SOAK_DEFAULT_MIN minutes
// (default 8) at its defaults, then FMP_SOAK_HEAVY_MIN minutes (default 3) at the heaviest
// allowed settings (4,000 particles, width 256, depth 5, batch 1,024, 5,000 points, RK4 at 200
// steps, the learned-residual heatmap). Every minute it prints the JS heap after a forced GC,
// the page's wasm memory, and the frame intervals and main-thread frame work of the last
// 10 s (median and p95). One JSON line per minute, then a summary.
import { launch, openPage, APP_URL } from '../e2e/browser.mjs';

const DEFAULT_MIN = Number(process.env.FMP_SOAK_DEFAULT_MIN ?? 8);
const HEAVY_MIN = Number(process.env.FMP_SOAK_HEAVY_MIN ?? 3);
const HEAVIEST = { particles: 4000, width: 256, depth: 5, batch: 1024, solver: 'rk4', odeSteps: 200 };
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** Frame intervals and frame work over `seconds`. */
const frames = (page, seconds) => page.evaluate((seconds) => new Promise((resolve) => {
  const stamps = [], work = [];
  const t0 = performance.now();
  const tick = (now) => {
    stamps.push(now); work.push(window.fmp.lastFrame().ms);
    if (now - t0 < seconds * 1000) requestAnimationFrame(tick); else resolve({ stamps, work });
  };
  requestAnimationFrame(tick);
}), seconds);

async function sample(page, cdp, phase, minute) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const { stamps, work } = await frames(page, 10);
  const iv = stamps.slice(1).map((t, i) => t - stamps[i]);
  const line = {
    soak: phase, minute, steps: await page.evaluate(() => window.fmp.lastStep()),
    js_heap_mb: +(usedSize / 2 ** 20).toFixed(2),
    wasm_mb: +((await page.evaluate(() => window.fmp.wasmMemory())) / 2 ** 20).toFixed(2),
    frame_median_ms: +q(iv, 0.5).toFixed(1), frame_p95_ms: +q(iv, 0.95).toFixed(1),
    work_median_ms: +q(work, 0.5).toFixed(1), work_p95_ms: +q(work, 0.95).toFixed(1),
  };
  console.log(JSON.stringify(line));
  return line;
}

async function phase(page, cdp, name, minutes) {
  const lines = [];
  await page.click('#train');
  for (let m = 1; m <= minutes; m++) {
    await page.waitForTimeout(50000);
    lines.push(await sample(page, cdp, name, m));
  }
  await page.click('#train');
  return lines;
}

const browser = await launch();
try {
  const page = await openPage(browser.context, APP_URL);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  const cdp = await page.context().newCDPSession(page);
  const a = await phase(page, cdp, 'defaults', DEFAULT_MIN);
  const cloud = Array.from({ length: 10000 }, (_, i) => Math.sin(i * 12.9898) * 2.5);
  await page.evaluate((pts) => window.fmp.replacePoints(pts), cloud);
  await page.evaluate((p) => window.fmp.apply({ ...p, field: 'residual_learned' }), HEAVIEST);
  const b = await phase(page, cdp, 'heaviest', HEAVY_MIN);
  const sum = (lines) => lines.length && ({
    heap_first_last_mb: [lines[0].js_heap_mb, lines.at(-1).js_heap_mb],
    wasm_first_last_mb: [lines[0].wasm_mb, lines.at(-1).wasm_mb],
    frame_median_ms: q(lines.map((l) => l.frame_median_ms), 0.5),
    frame_p95_ms: Math.max(...lines.map((l) => l.frame_p95_ms)),
  });
  console.log(JSON.stringify({ summary: { defaults: sum(a), heaviest: sum(b) }, errors: page.errors }));
} finally {
  await browser.close();
}
