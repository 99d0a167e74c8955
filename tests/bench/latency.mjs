// How soon the stage shows a lesson's main control (issue 23's latency figures), while the
// network trains at the default settings: the lesson open on the view that shows its flows,
// time paused at T, then CHANGES moves of the control, each followed by a wait. For each
// move: the time until the stage's flow of the new setting reaches T (a coarse first pass
// counts) and until its full flow (every particle) does. Medians and the worst are printed.
// Used by bench.mjs; also runs alone against any served build, for the figures of an older
// commit beside the new ones (then also each lesson's frames while it trains, time playing):
// `FMP_URL=http://127.0.0.1:PORT/ node tests/bench/latency.mjs`.
import { launch, openPage, APP_URL } from '../e2e/browser.mjs';
import { measureFrames } from './frames.mjs';

/** The time the stage is paused at, and how many moves are measured per lesson. */
const T = 0.7;
const CHANGES = 10;
/** How long one move is waited for (ms). */
const WAIT_MS = 15000;

/** The lessons measured: how to open each, the control moved (two values in turn), the flow.
 * (A change of coupling or a reflow makes a new network, whose flow waits for its first weights
 * from training: not a latency of the flow worker, so not measured here.) */
export const CASES = [
  { lesson: 'Flow matching', setup: { field: 'none' }, key: 'exact', control: 'solver', values: ['euler', 'rk4'] },
  {
    lesson: 'Flow matching', setup: { field: 'none' }, key: 'exact', control: 'schedule', values: ['cosine', 'linear'],
  },
  {
    lesson: 'Diffusion (SDE)', setup: { field: 'sde', langevin: false }, key: 'exact_sde', control: 'sigma',
    values: [1.5, 1],
  },
  { lesson: 'Guidance', setup: { field: 'guided' }, key: 'exact_guided', control: 'guidance', values: [2, 1] },
];

/** The largest of xs, a NaN (never came) as the 15 s the wait lasted. */
const worst = (/** @type {number[]} */ xs) => Math.max(...xs.map((x) => (Number.isNaN(x) ? WAIT_MS : x)));

/** The q-quantile of the finite xs (NaN when none is). */
const finiteQuantile = (/** @type {number[]} */ xs, /** @type {number} */ q) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

/**
 * The latencies of one lesson's control on an open app page (training runs).
 * @param {any} page
 * @param {typeof CASES[number]} c
 */
export async function controlLatency(page, c) {
  await page.click(`#lesson-picker >> text=${c.lesson}`);
  await page.evaluate((patch) => window.fmp.apply(patch), { ...c.setup, play: false, t: T });
  await page.waitForFunction((key) => window.fmp.trajectory(key)?.complete, c.key, { timeout: 60000 });
  const times = await page.evaluate(async ({ key, control, values, t, changes, wait }) => {
    // Older builds have no shownTrajectory: their stage shows the (only) trajectory.
    const shown = (/** @type {string} */ k) => (window.fmp.shownTrajectory ?? window.fmp.trajectory)(k);
    const out = [];
    for (let i = 0; i < changes; i++) {
      const t0 = performance.now();
      window.fmp.apply({ [control]: values[i % values.length] });
      let first = NaN, full = NaN;
      // A flow of the new setting starts again from t = 0 (or the old one is dropped at once):
      // once the shown (and the full) flow has been seen short of t, reaching t is the new one.
      let shownReset = false, fullReset = false;
      while (performance.now() - t0 < wait && Number.isNaN(full)) {
        await new Promise((r) => requestAnimationFrame(r));
        const s = shown(key), f = window.fmp.trajectory(key);
        if (!s || s.reach < t) shownReset = true;
        if (!f || f.reach < t) fullReset = true;
        if (Number.isNaN(first) && shownReset && s && s.reach >= t) first = performance.now() - t0;
        if (fullReset && f && f.reach >= t) full = performance.now() - t0;
      }
      out.push({ first, full });
      await new Promise((r) => setTimeout(r, 1000));
    }
    return out;
  }, { key: c.key, control: c.control, values: c.values, t: T, changes: CHANGES, wait: WAIT_MS });
  const first = times.map((x) => x.first), full = times.map((x) => x.full);
  return {
    lesson: c.lesson, control: c.control, t: T, changes: CHANGES,
    // A move whose particles never came within 15 s counts as 15 s for the worst, and is counted.
    first_median_ms: Math.round(finiteQuantile(first, 0.5)), first_worst_ms: Math.round(worst(first)),
    full_median_ms: Math.round(finiteQuantile(full, 0.5)), full_worst_ms: Math.round(worst(full)),
    first_missed: first.filter(Number.isNaN).length, full_missed: full.filter(Number.isNaN).length,
  };
}

/**
 * Opens the app, trains, and measures every case; one JSON line each.
 * @param {any} context a browser context
 */
export async function measureAll(context) {
  const page = await openPage(context, APP_URL);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 300, null, { timeout: 60000 });
  const results = [];
  for (const c of CASES) {
    const r = await controlLatency(page, c);
    console.log(JSON.stringify({ bench: 'latency', where: 'wasm', page: 'app page', training: true, ...r }));
    results.push(r);
    // The lesson's frames while it trains, time playing (10 s).
    await page.evaluate(() => window.fmp.apply({ play: true }));
    const f = await measureFrames(page, 10);
    console.log(JSON.stringify({
      bench: 'frames', where: 'wasm', page: `app page, ${c.lesson}`, training: true, frames: f.intervals.length,
      median_ms: +f.median.toFixed(2), p95_ms: +f.p95.toFixed(2), train_steps_per_s: +f.stepsPerSec.toFixed(0),
    }));
  }
  await page.close();
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const browser = await launch();
  try { await measureAll(browser.context); } finally { await browser.close(); }
}
