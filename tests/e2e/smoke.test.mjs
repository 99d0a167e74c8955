// Smoke test: the app works from wherever FMP_URL serves it. `cargo xtask test` runs it with
// the other end-to-end tests against the dev server, and again against the static build
// (`cargo xtask dist`) behind Python's plain http.server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, ready } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('the app starts, flows, trains and opens the diffusion lesson', async () => {
  const page = await openPage(browser.context);
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  await ready(page);
  assert.equal(await page.evaluate(() => window.fmp.count()), 1000);
  await page.waitForFunction(() => window.fmp.trajectory('exact')?.complete, null, { timeout: 30000 });
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 200, null, { timeout: 30000 });
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.trajectory('learned')?.complete, null, { timeout: 30000 });
  await page.click('#lesson-picker >> text=Diffusion (SDE)');
  await page.waitForFunction(() => window.fmp.diffusion().rows !== null, null, { timeout: 30000 });
  assert.deepEqual(failed, []);
  assert.deepEqual(page.errors, []);
  await page.close();
});
