// Files, limits, keyboard and accessibility.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, count, launch, nextFrames, openPage, ready } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });


test('CSV import: a good file replaces the cloud, a malformed one keeps it with a message', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const before = await count(page);
  await page.setInputFiles('#import-csv',
    { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y\n0.5,0.5\n1.0,oops\n') });
  await page.waitForSelector('#message.error:not([hidden])');
  assert.match(await page.textContent('#message-text'), /Could not import bad\.csv: line 3/);
  assert.equal(await count(page), before);
  await page.setInputFiles('#import-csv',
    { name: 'nan.csv', mimeType: 'text/csv', buffer: Buffer.from('1,2\nNaN,3\n') });
  await page.waitForFunction(() => /nan\.csv/.test(document.getElementById('message-text').textContent));
  assert.equal(await count(page), before);
  await page.setInputFiles('#import-csv', { name: 'empty.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y\n') });
  await page.waitForFunction(() => /empty\.csv/.test(document.getElementById('message-text').textContent));
  assert.equal(await count(page), before);
  const good = Array.from({ length: 50 }, (_, i) => `${Math.cos(i / 8) * 20},${Math.sin(i / 8) * 20}`).join('\n');
  await page.setInputFiles('#import-csv',
    { name: 'ring.csv', mimeType: 'text/csv', buffer: Buffer.from(`x,y\n${good}\n`) });
  await page.waitForFunction(() => window.fmp.count() === 50);
  assert.match(await page.textContent('#message-text'), /Imported 50 points from ring\.csv \(rescaled to fit the stage\)/);
  const maxAbs = await page.evaluate(() => Math.max(...window.fmp.points().map(Math.abs)));
  assert.ok(maxAbs <= 3.5, `rescaled into the stage: ${maxAbs}`);
  await page.click('#undo');
  assert.equal(await count(page), before, 'an import can be undone');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the point cap gives a message instead of a frozen page', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.evaluate(() => {
    const pts = Array.from({ length: 2 * 4990 }, (_, i) => Math.sin(i * 12.9898) * 2);
    window.fmp.replacePoints(pts);
  });
  const box = await page.locator('#stage').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 100, box.y + box.height / 2, { steps: 10 });
  await page.mouse.up();
  assert.equal(await count(page), 5000);
  await page.waitForSelector('#message:not([hidden])');
  assert.match(await page.textContent('#message-text'), /at most 5,000 points/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('keyboard alone: train, pause, cycle the view, move the time slider', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.locator('#stage').focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.fmp.isTraining());
  assert.equal(await page.textContent('#train'), 'Pause');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !window.fmp.isTraining());
  const field0 = await page.inputValue('#field');
  await page.keyboard.press('v');
  assert.notEqual(await page.inputValue('#field'), field0, 'V cycles the field view');
  await page.keyboard.press('t');
  assert.equal(await page.evaluate(() => window.fmp.state().play), false, 'T pauses time');
  await page.locator('#time').focus();
  const t0 = Number(await page.inputValue('#time'));
  // Towards the middle: time may have been paused at t = 1 (it holds there for a moment).
  const [key, sign] = t0 > 0.5 ? ['ArrowLeft', -1] : ['ArrowRight', 1];
  for (let i = 0; i < 5; i++) await page.keyboard.press(key);
  assert.ok(sign * (Number(await page.inputValue('#time')) - t0) > 0, 'arrow keys move t');
  assert.equal(await page.evaluate(() => window.fmp.state().t), Number(await page.inputValue('#time')),
    'the store follows the slider');
  // Tab reaches the Train button and Enter presses it.
  await page.locator('#reset').focus();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'train');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.fmp.isTraining());
  await page.keyboard.press('Enter');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('every control has an accessible name; side by side shows two stages', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, canvas[tabindex]')]
    .filter((el) => {
      const label = el.getAttribute('aria-label')
        || (el.labels && [...el.labels].map((l) => l.textContent).join('').trim()) || el.textContent.trim();
      return !label;
    })
    .map((el) => el.id || el.outerHTML.slice(0, 60)));
  assert.deepEqual(unnamed, []);
  await page.selectOption('#show', 'side');
  assert.ok(await page.isVisible('#stage2'));
  const [a, b] = await Promise.all(['#stage', '#stage2'].map((s) => page.locator(s).boundingBox()));
  assert.ok(b.x > a.x + a.width - 1, 'the two stages stand side by side');
  await nextFrames(page, 3);
  await page.screenshot({ path: join(ARTIFACTS, 'side-by-side.png') });
  await page.selectOption('#show', 'both');
  assert.ok(await page.isHidden('#stage2'));
  assert.deepEqual(page.errors, []);
  await page.close();
});
