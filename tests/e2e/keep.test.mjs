// Nothing drawn is lost, no input crashes anything, and a dead worker always comes back:
// share-then-draw-then-reload, links over a saved drawing, two tabs, full or disabled
// storage, stale saved settings, batch sizes 1-5, traps and silent deaths of both workers,
// and the heaviest allowed settings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  APP_URL, ARTIFACTS, count, launch, nextFrames, openPage, ready, ring, shows, stroke, synced,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });


test('share, keep drawing, reload: the drawing after Share is what comes back', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(300, 1.5));
  await page.click('#share');
  await page.waitForFunction(() => location.hash.includes('p='));
  await stroke(page, 2.5);
  const drawn = await count(page);
  assert.ok(drawn > 300);
  await synced(page);
  await page.reload();
  await ready(page);
  assert.equal(await count(page), drawn, 'the drawing made after Share survives the reload');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a link opened over a saved drawing keeps the old one among the recent drawings', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(150, 1));
    await synced(page);
    // A link made elsewhere with 400 points.
    const link = await page.evaluate(async (pts) => {
      const { encodePoints } = await import('./state.js');
      return `#v=1&width=32&p=${encodePoints(pts)}`;
    }, ring(400, 2));
    await page.goto(APP_URL + link);
    await ready(page);
    assert.equal(await count(page), 400);
    await stroke(page, 3); // an edit saves the link's drawing over the old one
    await synced(page);
    await page.goto(APP_URL);
    await ready(page);
    const options = await page.$$eval('#recent option', (os) => os.map((o) => o.textContent));
    assert.ok(options.some((o) => /^150 points, replaced/.test(o)), `recent drawings: ${options}`);
    const index = await page.$$eval('#recent option', (os) => os.find((o) => /^150 points/.test(o.textContent)).value);
    await page.selectOption('#recent', index);
    await page.waitForFunction(() => window.fmp.count() === 150);
    assert.match(await page.textContent('#message-text'), /Restored a drawing of 150 points/);
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('two tabs: each keeps its own drawing, and sees the other one\'s save', async () => {
  const fresh = await launch();
  try {
    const a = await openPage(fresh.context);
    await ready(a);
    await a.evaluate((pts) => window.fmp.replacePoints(pts), ring(150, 1));
    await synced(a);
    const b = await openPage(fresh.context);
    await ready(b);
    assert.equal(await count(b), 150, 'tab B starts from the saved drawing');
    await b.evaluate((pts) => window.fmp.replacePoints(pts), ring(84, 2));
    await synced(b);
    await a.waitForFunction(() => /Another tab saved/.test(document.getElementById('message-text').textContent));
    const options = await a.$$eval('#recent option', (os) => os.map((o) => o.textContent));
    assert.ok(options.some((o) => /^84 points, saved by another tab/.test(o)), `tab A keeps B's drawing: ${options}`);
    await a.reload();
    await ready(a);
    assert.equal(await count(a), 150, 'tab A reloads its own drawing');
    assert.deepEqual([...a.errors, ...b.errors], []);
  } finally {
    await fresh.close();
  }
});

test('full or disabled storage: a message that offers the CSV export; the drawing stays', async () => {
  const fresh = await launch();
  try {
    const page = await fresh.context.newPage();
    await page.addInitScript(() => {
      localStorage.setItem('fmp:toured', '1');
      Storage.prototype.setItem = () => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      };
    });
    await page.goto(APP_URL);
    await ready(page);
    await stroke(page, 2.5);
    await page.waitForSelector('#storage-notice:not([hidden])');
    assert.match(await page.textContent('#storage-notice-text'), /storage is full.*Export CSV/);
    const download = page.waitForEvent('download');
    await page.click('#storage-export');
    assert.equal((await download).suggestedFilename(), 'points.csv', 'the notice offers the CSV export');
    assert.ok(await count(page) > 1000);
    await page.close();
  } finally {
    await fresh.close();
  }
});

test('a saved state with one out-of-range setting keeps its points', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.evaluate(async (pts) => {
      const { encodePoints } = await import('./state.js');
      localStorage.setItem('fmp:v1', JSON.stringify({ settings: { width: 3, depth: 2 }, points: encodePoints(pts) }));
    }, ring(612, 1.2));
    await page.goto(APP_URL); // no hash: start from storage
    await ready(page);
    assert.equal(await count(page), 612);
    assert.match(await page.textContent('#message-text'), /width must be within.*your drawing is kept/);
    assert.equal(await page.inputValue('#depth'), '2', 'the valid settings are kept');
    // Damaged entries: a message in the app's words, and a preset.
    for (const bad of ['{"settings":{},"points":7}', '{"points":"%%%"}', 'not json']) {
      await page.evaluate((bad) => localStorage.setItem('fmp:v1', bad), bad);
      await page.goto(APP_URL);
      await ready(page);
      const text = await page.textContent('#message-text');
      assert.match(text, /The saved drawing could not be read \(.*saved drawing/, text);
      assert.doesNotMatch(text, /atob|is not a function|JSON/);
    }
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});

test('batch sizes 1 to 5 train (they crashed the trainer)', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  for (const batch of [1, 2, 3, 4, 5]) {
    await page.evaluate((batch) => window.fmp.apply({ batch }), batch);
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.lastStep() > 200, null, { timeout: 30000 });
    await page.click('#train');
    assert.equal(await page.evaluate(() => window.fmp.restarts().train), 0, `batch ${batch}`);
    assert.ok(await page.isHidden('#message.error'), `no error at batch ${batch}`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a dead training worker comes back: a trap inside the loop, and a silent death', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const drawn = await count(page);
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 50);
  await page.evaluate(() => window.fmp.harmWorker('train', 'trap'));
  await page.waitForFunction(() => window.fmp.restarts().train === 1, null, { timeout: 10000 });
  assert.match(await page.textContent('#message-text'), /training worker stopped/);
  assert.equal(await page.textContent('#train'), 'Train');
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 50, null, { timeout: 30000 });
  await page.evaluate(() => window.fmp.harmWorker('train', 'terminate'));
  await page.waitForFunction(() => window.fmp.restarts().train === 2, null, { timeout: 15000 });
  assert.match(await page.textContent('#message-text'), /stopped responding/);
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 50, null, { timeout: 30000 });
  assert.equal(await count(page), drawn, 'the drawing is kept');
  await page.close();
});

test('a dead flow worker is replaced and follows new settings', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.waitForFunction(() => window.fmp.trajectory('exact')?.complete);
  await page.evaluate(() => window.fmp.harmWorker('flow', 'trap'));
  await page.waitForFunction(() => window.fmp.restarts().flow === 1, null, { timeout: 10000 });
  assert.match(await page.textContent('#message-text'), /flow worker stopped/);
  await page.evaluate(() => window.fmp.harmWorker('flow', 'terminate'));
  await page.waitForFunction(() => window.fmp.restarts().flow === 2, null, { timeout: 15000 });
  await page.selectOption('#particles', '500');
  await page.waitForFunction(() => window.fmp.trajectory('exact')?.n === 500 && window.fmp.trajectory('exact').complete,
    null, { timeout: 20000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the heaviest allowed settings keep the page drawing while training', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const cloud = Array.from({ length: 10000 }, (_, i) => Math.sin(i * 12.9898) * 2.5);
  await page.evaluate((pts) => window.fmp.replacePoints(pts), cloud);
  const heaviest = { particles: 4000, width: 256, depth: 5, batch: 1024, solver: 'rk4', odeSteps: 200 };
  await page.evaluate((patch) => window.fmp.apply(patch), heaviest);
  await page.click('#step');
  await page.waitForFunction(() => window.fmp.state().modelVersion > 1, null, { timeout: 30000 });
  await page.selectOption('#field', 'residual_learned');
  await shows(page, 'residual_learned');
  await page.click('#train');
  const intervals = await page.evaluate(() => new Promise((resolve) => {
    const stamps = [];
    const tick = (now) => {
      stamps.push(now);
      if (stamps.length < 120) requestAnimationFrame(tick);
      else resolve(stamps.slice(1).map((t, i) => t - stamps[i]));
    };
    requestAnimationFrame(tick);
  }));
  await page.click('#train');
  intervals.sort((x, y) => x - y);
  const median = intervals[Math.floor(intervals.length / 2)];
  console.log(`heaviest settings, training, learned residual: median frame ${median.toFixed(1)} ms`);
  // The target (33 ms) is checked by the soak script; here a bound no noisy machine misses
  // unless the main thread is blocked (it was 583-667 ms per frame).
  assert.ok(median < 100, `median frame ${median.toFixed(1)} ms`);
  await nextFrames(page, 2);
  await page.screenshot({ path: join(ARTIFACTS, 'heaviest.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});
