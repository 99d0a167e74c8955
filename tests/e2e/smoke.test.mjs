import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, openPage, drawnPixels, ARTIFACTS } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('the page loads the wasm core and draws on the canvas without console errors', async () => {
  const page = await openPage(browser.context);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  assert.match(await page.textContent('#status'), /wasm core \d+\.\d+\.\d+/);
  assert.ok(await drawnPixels(page, '#stage') > 500, 'the stage canvas has drawn pixels');
  await page.screenshot({ path: join(ARTIFACTS, 'smoke.png') });
  assert.deepEqual(page.errors, []);
});
