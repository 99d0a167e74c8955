// The marginalization trick made visible: inspector, residual views, memorization, the loss
// caption and the guided tour.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ARTIFACTS, launch, nextFrames, openPage, pauseAt, ready, settled, shows, stageDigest, stagePoint,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// The residual views' summary: the mean |residual| on samples of p_t (not on the stage grid).
const meanResidual = async (page) => Number((await page.textContent('#caption'))
  .match(/Mean \|residual\| on 400 samples of pt: (\d+(?:\.\d+)?(?:e[-+]?\d+)?)/)[1]);

test('hovering with the Inspect tool shows posterior weights and the vectors', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await pauseAt(page, 0.7);
  await page.check('input[name=tool][value=inspect]');
  const [zx, zy] = await page.evaluate(() => window.fmp.pointAt(10));
  const [px, py] = await stagePoint(page, zx * 0.7 + 0.05, zy * 0.7);
  await page.mouse.move(5, 5);
  await nextFrames(page, 2);
  const plain = await stageDigest(page);
  await page.mouse.move(px, py);
  await nextFrames(page, 2);
  const hovered = await stageDigest(page);
  assert.notEqual(hovered, plain, 'the inspector changed the stage');
  await page.screenshot({ path: join(ARTIFACTS, 'inspector.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('continuity residual: about zero for the exact field, far from zero for uniform weights', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await pauseAt(page, 0.5);
  const seen = new Set();
  await page.selectOption('#field', 'residual');
  await shows(page, 'residual');
  const exact = await meanResidual(page);
  seen.add(await stageDigest(page));
  await page.screenshot({ path: join(ARTIFACTS, 'residual-exact.png') });
  await page.selectOption('#field', 'residual_uniform');
  await shows(page, 'residual_uniform');
  const uniform = await meanResidual(page);
  seen.add(await stageDigest(page));
  await page.screenshot({ path: join(ARTIFACTS, 'residual-uniform.png') });
  assert.ok(exact < 1e-3, `exact residual ${exact}`);
  assert.ok(uniform > 0.1, `uniform-weight residual ${uniform}`);
  assert.match(await page.textContent('#legend'), /residual/);
  // The learned field before and after some training.
  await page.click('#step');
  await page.waitForFunction(() => window.fmp.trajectory('learned') !== null, null, { timeout: 20000 });
  await page.selectOption('#field', 'residual_learned');
  await shows(page, 'residual_learned');
  const early = await meanResidual(page);
  seen.add(await stageDigest(page));
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 2000, null, { timeout: 60000 });
  await page.click('#train');
  await settled(page);
  await nextFrames(page, 2);
  const late = await meanResidual(page);
  await page.screenshot({ path: join(ARTIFACTS, 'residual-learned.png') });
  assert.ok(late < early, `learned residual shrinks with training: ${early} -> ${late}`);
  assert.equal(seen.size, 3, 'each residual view draws a different stage');
  // The loss caption states the flat difference and the gradient cosine.
  assert.match(await page.textContent('#loss-caption'), /L_CFM − L_FM = [0-9.]+.*Cosine between their gradients on a batch: -?[0-9.]+/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('memorization: with a fifth held out, exact samples land on training points, not held-out ones; '
  + 'the network barely tells them apart', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.check('#memo'); // holds out a fifth of the points; training restarts on the rest
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 1500, null, { timeout: 60000 });
  await page.click('#train');
  await settled(page);
  const shares = /exact ([\d.]+)% vs ([\d.]+)%, learned ([\d.]+)% vs ([\d.]+)%/;
  await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('caption').textContent),
    shares.source, { timeout: 30000 });
  const text = await page.textContent('#caption');
  assert.match(text, /Held out 200 of 1,000 drawn points/);
  const [exTrain, exHeld, leTrain, leHeld] = text.match(shares).slice(1).map(Number);
  assert.ok(exTrain > 4 * exHeld, `the exact field memorizes: ${exTrain}% near training vs ${exHeld}% near held-out`);
  assert.ok(Math.abs(leTrain - leHeld) < (exTrain - exHeld) / 2,
    `the network separates them less: ${leTrain}% vs ${leHeld}%`);
  assert.match(text, /memorizes/);
  assert.equal(await page.textContent('#t-out'), '1.00');
  await page.screenshot({ path: join(ARTIFACTS, 'memorization.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the guided tour steps through to the end, setting up each view, and can be reopened', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#tour-btn');
  const titles = [];
  const fieldsSeen = [];
  for (let i = 0; i < 20 && await page.isVisible('#tour'); i++) {
    titles.push(await page.textContent('#tour-title'));
    assert.doesNotMatch(await page.textContent('#caption') + await page.textContent('#tour-body'), /undefined|NaN/);
    fieldsSeen.push(await page.inputValue('#field'));
    assert.ok(await page.locator('#tour-body math').count() > 0 || i === 7, `step ${i + 1} has a formula`);
    await page.screenshot({ path: join(ARTIFACTS, `tour-${i + 1}.png`) });
    await page.click('#tour-next');
  }
  assert.equal(titles.length, 8, `steps: ${titles}`);
  assert.match(titles[0], /Noise and data/);
  assert.match(titles[7], /Memorize/);
  assert.ok(new Set(fieldsSeen).size >= 4, `the tour sets up different views: ${fieldsSeen}`);
  assert.ok(await page.isHidden('#tour'));
  await page.click('#tour-btn');
  assert.ok(await page.isVisible('#tour'));
  await page.click('#tour-skip');
  assert.ok(await page.isHidden('#tour'));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a true first visit opens the tour; closing it brings back the hint and the view', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context, undefined, { newcomer: true });
    await ready(page);
    assert.ok(await page.isVisible('#tour'), 'the tour greets a newcomer');
    assert.match(await page.textContent('#tour-title'), /Noise and data/);
    const field = await page.inputValue('#field');
    await page.click('#tour-next');
    assert.equal(await page.inputValue('#field'), 'conditional', 'step 2 shows the conditional field');
    await page.click('#tour-skip');
    assert.ok(await page.isHidden('#tour'));
    assert.equal(await page.inputValue('#field'), field, 'closing restores the view');
    assert.ok(await page.isVisible('#hint'), 'the first-visit hint is back');
    await page.reload();
    await ready(page);
    assert.ok(await page.isHidden('#tour'), 'the tour does not open again');
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('the score, the network\'s score, the denoiser and the divergence views each draw their own stage', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#step');
  await page.waitForFunction(() => window.fmp.trajectory('learned') !== null, null, { timeout: 20000 });
  await pauseAt(page, 0.6);
  const digests = new Map();
  // The score points up the density, towards alpha_t zbar (not "towards the data": issue 24, 7).
  const captions = {
    score: /Score .* towards \S+ \(the posterior mean scaled to time t\)/, score_learned: /network's score/,
    denoiser: /posterior mean/, divergence: /Divergence .* sink/,
  };
  for (const view of ['none', 'score', 'score_learned', 'denoiser', 'divergence']) {
    await page.selectOption('#field', view);
    await shows(page, view, 0.6);
    digests.set(view, await stageDigest(page));
    const caption = await page.textContent('#caption');
    assert.doesNotMatch(caption, /undefined|NaN/, `caption of ${view}`);
    if (captions[view]) assert.match(caption, captions[view]);
    await page.screenshot({ path: join(ARTIFACTS, `view-${view}.png`) });
  }
  assert.equal(new Set(digests.values()).size, digests.size, 'each view draws a different stage');
  assert.match(await page.textContent('#legend'), /divergence/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('at t = 1 the caption says the fields are evaluated at the clamp, for every schedule', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  // beta_t = 1e-3 at t_max: linear 1 - t, cosine cos(pi t / 2), square-root sqrt(1 - t).
  const expected = { linear: 1 - 1e-3, cosine: (2 / Math.PI) * Math.acos(1e-3), sqrt: 1 - 1e-6 };
  for (const [schedule, tMax] of Object.entries(expected)) {
    await page.selectOption('#schedule', schedule);
    await pauseAt(page, 1);
    await page.waitForFunction(() => /evaluated at the clamp/.test(document.getElementById('caption').textContent));
    const shown = Number((await page.textContent('#caption')).match(/clamp t = ([\d.]+)/)[1]);
    assert.ok(Math.abs(shown - tMax) < 1e-4, `${schedule}: ${shown} vs ${tMax}`);
    await pauseAt(page, 0.5);
    assert.doesNotMatch(await page.textContent('#caption'), /clamp/, `${schedule}: no clamp note at t = 0.5`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});
