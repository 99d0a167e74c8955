// The frame intervals of a page while it trains: requestAnimationFrame timestamps over a
// window, with their median and 95th percentile and the training steps/s meanwhile. Shared by
// bench.mjs and latency.mjs.

/** The q-quantile of xs (nearest rank). @param {number[]} xs @param {number} q */
export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/**
 * Frame intervals of `page` over `seconds` (requestAnimationFrame stamps), with the training
 * steps done meanwhile.
 */
export async function measureFrames(page, seconds) {
  const result = await page.evaluate((ms) => new Promise((resolve) => {
    const stamps = [];
    const s0 = window.fmp.lastStep();
    const t0 = performance.now();
    const tick = (now) => {
      stamps.push(now);
      if (now - t0 < ms) requestAnimationFrame(tick);
      else resolve({ stamps, steps: window.fmp.lastStep() - s0, seconds: (now - t0) / 1000 });
    };
    requestAnimationFrame(tick);
  }), seconds * 1000);
  const intervals = result.stamps.slice(1).map((t, i) => t - result.stamps[i]);
  return {
    intervals, median: quantile(intervals, 0.5), p95: quantile(intervals, 0.95),
    stepsPerSec: result.steps / result.seconds,
  };
}

