// The W2-versus-sigma caption over seeds (issue 24; run by hand, not in CI):
//   FMP_URL=http://127.0.0.1:PORT/ node tests/bench/captions_sweep.mjs [training steps]
// Trains one network in the page (the diffusion lesson, its default drawing), stops, then, on the
// page's own Fields (the trained network), repeats the lesson's W2 probe (probeDraw of
// www/lessons/diffusion/jobs.js: PROBE_DRAWS paired draws of 500 samples per sigma) for 12
// set-up seeds that share no draw, and words each with the page's w2Caption. Prints, per seed,
// each sigma's mean W2 and the caption's verdicts; then how often the caption claims a
// difference, and for contrast how often the old rule (one draw, a 5 % tie) claimed a gain.
import { launch, openPage, ready } from '../e2e/browser.mjs';

const STEPS = Number(process.argv[2] ?? 3000);
const SEEDS = 12;

const browser = await launch();
try {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#lesson-picker >> text=Diffusion (SDE)');
  await page.waitForFunction(() => window.fmp.state().lesson === 'diffusion');
  await page.evaluate(() => window.fmp.apply({ sigma: 1, scoreFix: true, langevin: false }));
  await page.click('#train');
  await page.waitForFunction((n) => window.fmp.weightSteps() >= n, STEPS, { timeout: 600000, polling: 500 });
  await page.click('#train');
  await page.waitForFunction(() => !window.fmp.isTraining() && window.fmp.trainingSettled(), null,
    { timeout: 60000 });
  // The page's Fields holds the newest weights once they are loaded (a frame after they arrive).
  await page.waitForTimeout(1000);
  const out = await page.evaluate(async (seeds) => {
    const jobs = await import('./lessons/diffusion/jobs.js');
    const lesson = await import('./lessons/diffusion/page.js');
    const app = window.fmp.page('diffusion').app;
    const s = window.fmp.state();
    const points = Float32Array.from(window.fmp.points());
    const rows = [];
    for (let j = 0; j < seeds; j++) {
      // Draw d of seed s uses s + 3 + 1000 d: seeds 4,000 apart share no draw.
      const seed = s.seed + jobs.PROBE_SEED_STRIDE * jobs.PROBE_DRAWS * j;
      const draws = jobs.PROBE_SIGMAS.map((sigma) => Array.from({ length: jobs.PROBE_DRAWS },
        (_, d) => jobs.probeDraw(app.fields, points, s.odeSteps, sigma, seed, d)));
      const stats = draws.map((v) => {
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
        return { mean, se: sd / Math.sqrt(v.length) };
      });
      const caption = lesson.w2Caption(window.fmp.weightSteps(), jobs.PROBE_SIGMAS, stats.map((m) => m.mean),
        stats.map((m) => m.se), draws);
      // The old rule, on the first draw alone: a gain when the lowest noisy W2 is 5 % below the ODE's.
      const first = draws.map((v) => v[0]);
      const best = first.indexOf(Math.min(...first));
      const spread = (Math.max(...first) - Math.min(...first)) / first[0];
      const oldGain = spread >= 0.05 && best > 0 && 1 - first[best] / first[0] >= 0.05;
      rows.push({ seed, means: stats.map((m) => m.mean), se: stats.map((m) => m.se), first, caption, oldGain });
    }
    return { rows, steps: window.fmp.weightSteps(), sigmas: jobs.PROBE_SIGMAS, draws: jobs.PROBE_DRAWS };
  }, SEEDS);
  const claim = (/** @type {string} */ c) => (/Lower than the ODE's/.test(c) ? 'lower'
    : /No noisy σ is lower/.test(c) ? 'higher' : /Every noisy σ is equal/.test(c) ? 'equal' : 'other');
  console.log(`network trained ${out.steps} steps; ${SEEDS} seeds x ${out.draws} draws of 500 samples per sigma`);
  for (const r of out.rows) {
    const lowest = out.sigmas[r.means.indexOf(Math.min(...r.means))];
    const figs = r.means.map((v, i) => `σ=${out.sigmas[i]} ${v.toFixed(4)}±${r.se[i].toFixed(4)}`);
    console.log(`seed ${r.seed}: mean W2 ${figs.join('  ')}; lowest σ=${lowest}; caption: ${claim(r.caption)}; `
      + `old rule gain: ${r.oldGain}`);
    console.log(`   ${r.caption.replace(/^.*?\(σ = 0 is Euler's ODE\)\. /, '')}`);
  }
  const counts = {};
  for (const r of out.rows) counts[claim(r.caption)] = (counts[claim(r.caption)] ?? 0) + 1;
  const firstLowest = {};
  for (const r of out.rows) {
    const k = `σ=${out.sigmas[r.first.indexOf(Math.min(...r.first))]}`;
    firstLowest[k] = (firstLowest[k] ?? 0) + 1;
  }
  const cv = out.sigmas.map((_, i) => {
    const v = out.rows.map((r) => r.first[i]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) / m;
  });
  console.log(`caption verdicts over ${SEEDS} seeds: ${JSON.stringify(counts)}`);
  console.log(`claims a difference: ${SEEDS - (counts.equal ?? 0)} of ${SEEDS}`);
  console.log(`old rule (one draw, 5 % tie) claimed a gain in ${out.rows.filter((r) => r.oldGain).length} of ${SEEDS}; `
    + `lowest sigma of one draw: ${JSON.stringify(firstLowest)}; one draw's W2 varies by `
    + `${cv.map((c) => `${(100 * c).toFixed(0)} %`).join(', ')} of its mean over seeds`);
  await page.close();
} finally {
  await browser.close();
}
