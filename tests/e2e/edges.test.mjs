// Nothing lost at the edges (issue 25, items 1-3 and 11): the last stroke survives a reload or
// a closed tab within a few milliseconds of its end; a reload at any moment after an edit shows
// that edit; recent drawings list a replaced drawing at once; a storage failure stays visible
// whatever message comes next; links are parsed strictly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { APP_URL, count, launch, openPage, ready, ring, stroke, synced } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

test('the last stroke survives a reload within 50 ms of its end (with and without a link in the address bar)',
  async () => {
    for (const withLink of [false, true]) {
      const fresh = await launch();
      try {
        const page = await openPage(fresh.context);
        await ready(page);
        if (withLink) {
          await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(300, 1.5));
          await synced(page);
        }
        const before = await count(page);
        await stroke(page, 2.5);
        const drawn = await count(page);
        assert.ok(drawn > before, 'the stroke drew points');
        await page.reload();
        await ready(page);
        assert.equal(await count(page), drawn, `the last stroke is kept (${withLink ? 'link' : 'no link'})`);
        assert.deepEqual(page.errors, []);
      } finally {
        await fresh.close();
      }
    }
  });

test('the last stroke survives closing the tab within 50 ms of its end', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await stroke(page, -2.5);
    const drawn = await count(page);
    await page.close({ runBeforeUnload: true });
    const again = await openPage(fresh.context);
    await ready(again);
    assert.equal(await count(again), drawn, 'the drawing of the closed tab opens');
  } finally {
    await fresh.close();
  }
});

test('a reload 120-420 ms after an edit shows the edit', async () => {
  for (const delay of [150, 250, 400]) {
    const fresh = await launch();
    try {
      const page = await openPage(fresh.context);
      await ready(page);
      await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(200, 1.5));
      await synced(page); // the address bar holds a link to 200 points
      await stroke(page, 2.8);
      const drawn = await count(page);
      await sleep(delay);
      await page.reload();
      await ready(page);
      assert.equal(await count(page), drawn, `reload ${delay} ms after the stroke`);
    } finally {
      await fresh.close();
    }
  }
});

test('a link opened over a saved drawing lists it among the recent drawings at once', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(150, 1));
    await synced(page);
    const link = await page.evaluate(async (pts) => {
      const { encodePoints } = await import('./state.js');
      return `#v=1&p=${encodePoints(pts)}`;
    }, ring(400, 2));
    await page.goto(APP_URL + link);
    await ready(page);
    assert.equal(await count(page), 400);
    const options = await page.$$eval('#recent option', (os) => os.map((o) => o.textContent));
    assert.ok(options.some((o) => /^150 points, replaced by a link/.test(o)), `recent drawings: ${options}`);
  } finally {
    await fresh.close();
  }
});

test('the storage warning stays through "The cloud is empty" and "Imported", and goes when storage works', async () => {
  const fresh = await launch();
  try {
    const page = await fresh.context.newPage();
    await page.addInitScript(() => {
      localStorage.setItem('fmp:toured', '1');
      const setItem = Storage.prototype.setItem;
      window.storageFails = true;
      Storage.prototype.setItem = function (k, v) {
        if (window.storageFails) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return setItem.call(this, k, v);
      };
    });
    await page.goto(APP_URL);
    await ready(page);
    const warning = page.getByText(/did not let the page save your drawing/);
    // The first failed save comes from Clear; its message follows.
    await page.click('#clear');
    await page.waitForFunction(() => /The cloud is empty/.test(document.getElementById('message-text').textContent)
      && !document.getElementById('message').hidden);
    await page.waitForTimeout(300);
    assert.ok(await warning.isVisible(), 'the warning is visible after "The cloud is empty"');
    assert.match(await warning.textContent(), /storage is full.*Export CSV/);
    await page.setInputFiles('#import-csv', {
      name: 'three.csv', mimeType: 'text/csv', buffer: Buffer.from('0,0\n1,1\n2,0\n'),
    });
    await page.waitForFunction(() => /Imported 3 points/.test(document.getElementById('message-text').textContent));
    await page.waitForTimeout(300);
    assert.ok(await warning.isVisible(), 'the warning is visible after "Imported 3 points"');
    // Storage works again: the next save takes the warning away.
    await page.evaluate(() => { window.storageFails = false; });
    await stroke(page, 1);
    await warning.waitFor({ state: 'hidden' });
    assert.ok(await page.evaluate(() => localStorage.getItem('fmp:v1') !== null));
    await page.close();
  } finally {
    await fresh.close();
  }
});

test('links are read strictly: numbers in decimal only, and only the settings\' own names', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context);
    await ready(page);
    await page.evaluate((pts) => window.fmp.replacePoints(pts), ring(150, 1));
    await synced(page);
    const points = await page.evaluate(async (pts) => (await import('./state.js')).encodePoints(pts), ring(40, 2));
    const bad = ['sigma=', 'sigma=0x1', 'sigma=%201%20', 'width=0x40', 'width=%2064', 'lr=Infinity', 'toString=1',
      'constructor=1', '__proto__=1', 'hasOwnProperty=1'];
    for (const [i, setting] of bad.entries()) {
      await page.goto(`${APP_URL}?${i}#v=1&${setting}&p=${points}`); // a new query: a fresh start from the link
      await ready(page);
      const text = await page.textContent('#message-text');
      assert.match(text, /This link could not be opened/, `${setting}: ${text}`);
      assert.equal(await count(page), 150, `${setting}: the drawing is unchanged`);
    }
    // Decimal numbers still open.
    await page.goto(`${APP_URL}?ok#v=1&sigma=0.5&width=48&lr=1e-3&p=${points}`);
    await ready(page);
    assert.equal(await count(page), 40);
    assert.deepEqual(await page.evaluate(() => [window.fmp.state().sigma, window.fmp.state().width,
      window.fmp.state().lr]), [0.5, 48, 0.001]);
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});
