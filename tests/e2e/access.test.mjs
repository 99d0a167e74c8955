// The first ten seconds and every person: axe-core (WCAG 2.1 A/AA) in the states a learner
// meets, keyboard drawing and keyboard z, reduced motion, the tour's Escape and focus return,
// the live-region rate, the loss legend beside (not over) the chart, and the first seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { ARTIFACTS, count, launch, nextFrames, openPage, ready } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/** Runs axe-core's WCAG 2.1 A and AA rules; fails on any violation, naming rule and elements. */
async function noViolations(page, state) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): `
    + `${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  assert.deepEqual(found, [], `axe in state "${state}"`);
}

test('axe: first visit with the tour, tour closed, every view while training, Inspect', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context, undefined, { newcomer: true });
    await ready(page);
    await page.waitForSelector('#tour:not([hidden])');
    await noViolations(page, 'first visit, tour open');
    await page.keyboard.press('Escape');
    await noViolations(page, 'tour closed');
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.lastStep() > 50);
    const views = await page.$$eval('#field option', (os) => os.map((o) => o.value));
    for (const view of views) {
      if (view === 'conditional') await page.evaluate(() => window.fmp.apply({ z: window.fmp.pointAt(0) }));
      await page.selectOption('#field', view);
      // While training, fields of the network are refreshed with every snapshot: wait for the
      // view, not for a complete field.
      await page.waitForFunction((v) => window.fmp.lastFrame().field === v, view);
      await nextFrames(page, 3);
      await noViolations(page, `view ${view}, training`);
    }
    await page.check('input[name=tool][value=inspect]');
    const box = await page.locator('#stage').boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4);
    await nextFrames(page, 2);
    await noViolations(page, 'Inspect tool');
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('axe: the diffusion lesson (every view, Langevin, its tour) and an embed', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.click('#lesson-picker >> text=Diffusion (SDE)');
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.lastStep() > 50);
    const views = await page.$$eval('#field option', (os) => os.map((o) => o.value));
    assert.deepEqual(views, ['sde', 'sde_drift', 'fokker_planck']);
    for (const view of views) {
      await page.selectOption('#field', view);
      await page.waitForFunction((v) => window.fmp.lastFrame().field === v, view);
      await nextFrames(page, 3);
      await noViolations(page, `diffusion view ${view}, training`);
    }
    await page.click('#train');
    await page.check('#langevin');
    await page.waitForFunction(() => window.fmp.diffusion().langevin.shown, null, { timeout: 30000 });
    await noViolations(page, 'Langevin at a frozen t');
    await page.click('#tour-btn');
    await page.waitForSelector('#tour:not([hidden])');
    await noViolations(page, 'diffusion tour');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => window.fmp.urlCurrent());
    const hash = new URL(page.url()).hash.replace('#v=1', '#v=1&embed=1');
    const embed = await openPage(fresh.context, new URL(hash, page.url()).href);
    await ready(embed);
    await nextFrames(embed, 3);
    await noViolations(embed, 'embed');
    assert.deepEqual(page.errors, []);
    assert.deepEqual(embed.errors, []);
  } finally {
    await fresh.close();
  }
});

test('axe: the straight-paths lesson (every view, after a reflow, its tour)', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.click('#lesson-picker >> text=Straight paths');
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.weightSteps() >= 400, null, { timeout: 60000 });
    await page.click('#reflow');
    await page.waitForFunction(() => window.fmp.straight().frozen === 1, null, { timeout: 60000 });
    await page.waitForFunction(() => window.fmp.straight().nets.every((n) => n.nfe), null, { timeout: 60000 });
    const views = await page.$$eval('#field option', (os) => os.map((o) => o.value));
    assert.deepEqual(views, ['paths', 'ot', 'straight_field']);
    for (const view of views) {
      await page.selectOption('#field', view);
      await page.waitForFunction((v) => window.fmp.lastFrame().field === v, view);
      await nextFrames(page, 3);
      await noViolations(page, `straight view ${view}, training after a reflow`);
    }
    await page.click('#tour-btn');
    await page.waitForSelector('#tour:not([hidden])');
    await noViolations(page, 'straight-paths tour');
    await page.keyboard.press('Escape');
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('axe: the guidance lesson (every view while training, its tour)', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.click('#lesson-picker >> text=Guidance');
    await page.click('#load-preset');
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.weightSteps() >= 100, null, { timeout: 60000 });
    for (const view of await page.$$eval('#field option', (os) => os.map((o) => o.value))) {
      await page.selectOption('#field', view);
      await page.waitForFunction((v) => window.fmp.lastFrame().field === v, view);
      await nextFrames(page, 3);
      await noViolations(page, `guidance view ${view}, training`);
    }
    await page.click('#tour-btn');
    await page.waitForSelector('#tour:not([hidden])');
    await noViolations(page, 'guidance tour');
    await page.keyboard.press('Escape');
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('axe: phone 390x844 and 200 % zoom', async () => {
  for (const [name, options] of [
    ['phone', { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 }],
    ['zoom 200 %', { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 }],
  ]) {
    const b = await launch(options);
    try {
      const page = await openPage(b.context, undefined, { newcomer: true });
      await ready(page);
      await page.waitForSelector('#tour:not([hidden])');
      await noViolations(page, `${name}, tour open`);
      // The tour's title and Skip stay in view at this size.
      for (const sel of ['#tour-title', '#tour-skip', '#tour-next']) {
        const r = await page.locator(sel).boundingBox();
        const vp = page.viewportSize();
        assert.ok(r && r.y >= 0 && r.y + r.height <= vp.height, `${sel} visible at ${name}`);
      }
      await page.screenshot({ path: join(ARTIFACTS, `tour-${name.replace(/\W+/g, '-')}.png`) });
      await page.click('#tour-skip');
      await noViolations(page, `${name}, tour closed`);
      assert.deepEqual(page.errors, []);
    } finally {
      await b.close();
    }
  }
});

test('keyboard: the stage cursor draws with Enter, and picks z with Enter and ]', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const before = await count(page);
  await page.locator('#stage').focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => window.fmp.count() > n, before);
  const rate = await page.evaluate(() => window.fmp.state().brushRate);
  assert.equal(await count(page), before + rate, 'one Enter sprays one dab');
  await page.keyboard.press('Control+z');
  assert.equal(await count(page), before);
  // Pick z without a mouse: ] takes the nearest point, again the next nearest.
  await page.check('input[name=tool][value=pick]');
  await page.locator('#stage').focus();
  await page.keyboard.press(']');
  await page.waitForFunction(() => window.fmp.state().z !== null);
  const z1 = await page.evaluate(() => window.fmp.state().z);
  assert.equal(await page.inputValue('#field'), 'conditional');
  await page.keyboard.press(']');
  await page.waitForFunction((z1) => JSON.stringify(window.fmp.state().z) !== JSON.stringify(z1), z1);
  await page.keyboard.press('Enter');
  await page.waitForFunction((z1) => JSON.stringify(window.fmp.state().z) === JSON.stringify(z1), z1);
  // Leaving the conditional view puts the brush back.
  await page.selectOption('#field', 'marginal');
  assert.ok(await page.isChecked('input[name=tool][value=spray]'), 'Pick z does not outlive its view');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('reduced motion: time starts paused and trails are off', async () => {
  const b = await launch({ reducedMotion: 'reduce' });
  try {
    const page = await openPage(b.context);
    await ready(page);
    const s = await page.evaluate(() => window.fmp.state());
    assert.equal(s.play, false);
    assert.equal(s.trails, false);
    await nextFrames(page, 20);
    assert.equal(await page.evaluate(() => window.fmp.state().t), s.t, 'time stands still');
    assert.deepEqual(page.errors, []);
  } finally {
    await b.close();
  }
});

test('the tour closes with Escape and gives focus back', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.locator('#tour-btn').focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('#tour:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tour-next');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#tour', { state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tour-btn');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('live regions: at most one announcement a second while time plays, training runs and a stroke draws', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const live = await page.$$eval('[aria-live]', (els) => els.map((e) => e.id));
  assert.deepEqual(live, ['announce'], 'only the announcer is live (not the caption, count or t)');
  await page.evaluate(() => {
    window.announced = [];
    new MutationObserver(() => window.announced.push(performance.now()))
      .observe(document.getElementById('announce'), { childList: true, characterData: true, subtree: true });
  });
  await page.click('#train');
  const box = await page.locator('#stage').boundingBox();
  await page.mouse.move(box.x + 40, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 40, box.y + 60, { steps: 40 });
  await page.mouse.up();
  await page.selectOption('#field', 'marginal');
  await page.selectOption('#field', 'none');
  await page.waitForFunction(() => performance.now() - window.announced[0] > 4000 || window.announced.length > 10,
    null, { timeout: 20000 });
  const stamps = await page.evaluate(() => window.announced);
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i] - stamps[i - 1] >= 990,
    `announcements ${stamps[i] - stamps[i - 1]} ms apart`);
  assert.ok(stamps.length >= 1, 'something was announced');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the loss legend sits beside the chart, with current values', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 200);
  await page.click('#train');
  const [legend, chart] = await Promise.all(['#loss-values', '#loss'].map((s) => page.locator(s).boundingBox()));
  const overlap = legend.x < chart.x + chart.width && chart.x < legend.x + legend.width
    && legend.y < chart.y + chart.height && chart.y < legend.y + legend.height;
  assert.ok(!overlap, 'the legend does not cover the chart');
  for (const id of ['#lv-cfm', '#lv-fm', '#lv-diff']) assert.match(await page.textContent(id), /^\d/);
  assert.match(await page.getAttribute('#loss', 'aria-label'), /at step [\d,]+: L_CFM [\d.]+, L_FM [\d.]+/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the first seconds: untrained particles within 1 s of ready, '
  + 'and time never runs ahead of the exact flow', async () => {
  const fresh = await launch();
  try {
    const page = await fresh.context.newPage();
    await page.addInitScript(() => localStorage.setItem('fmp:toured', '1'));
    await page.goto(process.env.FMP_URL);
    await ready(page);
    const waited = await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      const ahead = [];
      // What the stage shows: a coarse first pass until the full flow reaches as far.
      const tick = () => {
        const ex = window.fmp.shownTrajectory('exact');
        const { t, play } = window.fmp.state();
        if (play && ex && !ex.complete && t > ex.reach + 1e-9) ahead.push([t, ex.reach]);
        if (window.fmp.shownTrajectory('learned') && window.learnedAt === undefined) {
          window.learnedAt = performance.now();
        }
        if (performance.now() - t0 > 2500) resolve({ ms: (window.learnedAt ?? Infinity) - t0, ahead });
        else requestAnimationFrame(tick);
      };
      tick();
    }));
    assert.deepEqual(waited.ahead, [], 'time waits for the exact flow');
    assert.ok(waited.ms <= 1000, `orange particles after ${waited.ms.toFixed(0)} ms`);
  } finally {
    await fresh.close();
  }
});
