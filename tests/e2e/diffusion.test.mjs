// The diffusion lesson (issue 12): SDE particles that keep the marginals, the score correction
// and the Fokker-Planck residual, Langevin at a frozen time, the W2-versus-sigma chart, and a
// share link that restores the noise and the frozen time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { APP_URL, ARTIFACTS, drawnPixels, launch, openPage, pauseAt, ready, shows } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/** Opens the app in the diffusion lesson (by its picker) and waits for the lesson's first view. */
async function openLesson() {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#lesson-picker >> text=Diffusion (SDE)');
  await page.waitForFunction(() => window.fmp.state().lesson === 'diffusion');
  // The browser profile keeps the last test's settings: start each test from the defaults.
  await page.evaluate(() => window.fmp.apply({
    sigma: 1, scoreFix: true, langevin: false, play: true, field: 'sde', show: 'both',
  }));
  assert.equal(await page.isVisible('#diffusion-card'), true);
  return page;
}

/** Waits for the marginal-match table of the current noise; returns the rows. */
async function matchRows(page) {
  await page.waitForFunction(() => window.fmp.diffusion().rows !== null, null, { timeout: 30000 });
  return page.evaluate(() => window.fmp.diffusion().rows);
}

/** Sets the noise slider as a person would (an input event on the range). */
async function setSigma(page, sigma) {
  await page.$eval('#sigma', (el, v) => {
    /** @type {HTMLInputElement} */ (el).value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, sigma);
  await page.waitForFunction((v) => window.fmp.state().sigma === v, sigma);
}

test('SDE particles keep the marginals; without the score correction they do not', async () => {
  const page = await openLesson();
  assert.equal(await page.inputValue('#field'), 'sde');
  await page.waitForFunction(() => window.fmp.trajectory('exact_sde')?.complete, null, { timeout: 30000 });
  const rows = await matchRows(page);
  assert.deepEqual(rows.map((r) => r.t), [0.25, 0.5, 0.75, 1]);
  // Kept: near the floor, or within 1.25 times the ODE's own (step) error; and never far.
  const kept = (/** @type {any} */ r) => r.sde < 3 * r.floor || r.sde <= 1.25 * r.ode;
  for (const r of rows) {
    assert.ok(kept(r) && r.sde < 5 * r.floor, `t ${r.t}: SDE ${r.sde}, ODE ${r.ode}, floor ${r.floor}`);
    assert.ok(Math.abs(r.tUsed - r.t) < 0.03, `grid time ${r.tUsed} for ${r.t}`);
  }
  assert.match(await page.textContent('#match-caption'), /as close to p_t as the ODE's at every time/);
  assert.equal(await page.locator('#match-table tbody tr').count(), 4);
  await page.screenshot({ path: join(ARTIFACTS, 'diffusion-sde.png'), fullPage: true });

  // The slider: a new noise level, a new table for it.
  await setSigma(page, 2);
  const strong = await matchRows(page);
  for (const r of strong) assert.ok(kept(r) && r.sde < 5 * r.floor, `sigma 2, t ${r.t}: ${r.sde} vs floor ${r.floor}`);
  // The toggle: without the score correction the particles over-spread.
  await page.uncheck('#scoreFix');
  await page.waitForFunction(() => window.fmp.state().scoreFix === false);
  const lost = await matchRows(page);
  const worst = Math.max(...lost.map((r) => r.sde / r.floor));
  assert.ok(worst > 5, `without the correction the SDE particles should leave p_t (worst ${worst}x the floor)`);
  assert.match(await page.textContent('#match-caption'), /Without the score correction the SDE particles leave p_t/);
  assert.match(await page.textContent('#caption'), /score correction off/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the Fokker-Planck residual: about zero with the score correction, far from it without', async () => {
  const page = await openLesson();
  await pauseAt(page, 0.5);
  await page.selectOption('#field', 'fokker_planck');
  const mean = async () => {
    await shows(page, 'fokker_planck', 0.5);
    return Number((await page.textContent('#caption')).match(/Mean \|residual\| over the shaded cells: ([^.\s]+(?:\.\d+)?(?:e[-+]?\d+)?)/)[1]);
  };
  const with_ = await mean();
  assert.match(await page.textContent('#caption'), /noise terms cancel/);
  await page.uncheck('#scoreFix');
  const without = await mean();
  assert.match(await page.textContent('#caption'), /spreads mass that no drift takes back/);
  assert.ok(with_ < 1e-3, `with the correction ${with_}`);
  assert.ok(without > 0.05, `without the correction ${without}`);
  await page.screenshot({ path: join(ARTIFACTS, 'diffusion-fokker-planck.png') });
  // The drift view draws arrows.
  await page.check('#scoreFix');
  await page.selectOption('#field', 'sde_drift');
  await shows(page, 'sde_drift', 0.5);
  assert.match(await page.textContent('#caption'), /a pull towards α/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('Langevin at a frozen time keeps p_t; a share link restores sigma and the frozen t', async () => {
  const page = await openLesson();
  await setSigma(page, 1.5);
  await pauseAt(page, 0.4);
  await page.check('#langevin');
  await page.waitForFunction(() => window.fmp.state().langevin && !window.fmp.state().play);
  assert.equal(await page.isVisible('#langevin-box'), true);
  // Measured every 100 Langevin steps: wait for the fourth measure.
  await page.waitForFunction(() => (window.fmp.diffusion().langevin.last?.step ?? 0) >= 400, null, { timeout: 90000 });
  const { first, last } = (await page.evaluate(() => window.fmp.diffusion())).langevin;
  assert.ok(first.ed < 3 * first.floor, `start: ${first.ed} vs floor ${first.floor}`);
  assert.ok(last.ed < 3 * last.floor, `after ${last.step} steps: ${last.ed} vs floor ${last.floor}`);
  // And they moved: at t = 0.4 with sigma 1.5 (sigma_t = 0.9), 400 steps of ds = 0.01.
  assert.ok(last.moved > 0.2, `Langevin moved the particles ${last.moved} on average`);
  assert.match(await page.textContent('#langevin-caption'), /The particles moved .* yet their distribution stays p_t/);
  assert.ok(await drawnPixels(page, '#langevin-hist') > 500, 'the histogram is drawn');
  await page.screenshot({ path: join(ARTIFACTS, 'diffusion-langevin.png'), fullPage: true });
  // Playing time ends Langevin.
  await page.click('#time-play');
  await page.waitForFunction(() => !window.fmp.state().langevin);
  await page.click('#time-play');
  await pauseAt(page, 0.4);
  await page.check('#langevin');
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const url = page.url();
  assert.match(url, /sigma=1\.5/);
  assert.match(url, /langevin=1/);
  await page.close();

  const again = await openPage(browser.context, url);
  await ready(again);
  const s = await again.evaluate(() => window.fmp.state());
  assert.deepEqual([s.lesson, s.sigma, s.langevin, s.t, s.play], ['diffusion', 1.5, true, 0.4, false]);
  await again.waitForFunction(() => window.fmp.diffusion().langevin.shown, null, { timeout: 30000 });
  assert.deepEqual(again.errors, []);
  await again.close();
});

test('the W2 chart follows training; bad noise in a link gets a message and keeps the drawing', async () => {
  const page = await openLesson();
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.diffusion().w2.steps.length >= 2, null, { timeout: 60000 });
  await page.click('#train');
  // The learned SDE particles follow the network (its score converted from its field).
  await page.waitForFunction(() => window.fmp.trajectory('learned_sde')?.complete, null, { timeout: 30000 });
  assert.match(await page.textContent('#legend'), /learned SDE particles/);
  // Side by side: SDE on the first stage, the ODE's on the second.
  await page.selectOption('#show', 'side');
  await page.waitForFunction(() => document.getElementById('stage2-label').textContent.startsWith('ODE'));
  assert.match(await page.textContent('#stage-label'), /^SDE \(σ = 1\)/);
  await page.screenshot({ path: join(ARTIFACTS, 'diffusion-side.png') });
  await page.selectOption('#show', 'both');
  const { w2 } = await page.evaluate(() => window.fmp.diffusion());
  assert.deepEqual(w2.sigmas, [0, 0.5, 1, 2]);
  assert.equal(w2.values.length, 4 * w2.steps.length);
  assert.ok(w2.values.every((v) => Number.isFinite(v) && v > 0 && v < 3), `W2 values ${w2.values}`);
  assert.match(await page.textContent('#w2-caption'), /^After [\d,]+ training steps/);
  assert.ok(await drawnPixels(page, '#w2-chart') > 500, 'the chart is drawn');
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const points = await page.evaluate(() => window.fmp.count());
  const hash = new URL(page.url()).hash.replace(/sigma=[^&]*/, '').replace('#v=1', '#v=1&sigma=9');
  await page.close();

  const bad = await openPage(browser.context, `${APP_URL}${hash}`);
  await ready(bad);
  await bad.waitForSelector('#message:not([hidden])');
  assert.match(await bad.textContent('#message-text'), /sigma must be within 0\.\.3/);
  assert.equal(await bad.evaluate(() => window.fmp.count()), points);
  // An empty drawing: the lesson says so instead of waiting for flows that cannot come.
  await bad.click('#lesson-picker >> text=Diffusion (SDE)');
  await bad.click('#clear');
  await bad.waitForFunction(() => /The drawing is empty/.test(document.getElementById('match-caption').textContent));
  assert.match(await bad.textContent('#w2-caption'), /The drawing is empty/);
  assert.deepEqual(bad.errors, []);
  await bad.close();
});
