// Data-parallel training (www/team.js, crate/src/parallel.rs) in the real browser:
// - a fixed seed and number of workers reproduce a run bit for bit, and the workers' two
//   transports (shared memory where the page is cross-origin isolated, transferred buffers
//   elsewhere) give the same bits;
// - the page works unchanged where the host sends no COOP/COEP headers: served here by a plain
//   static server of www/ (node:http, no isolation headers), it trains with two workers over
//   transferred buffers and flows its particles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, dirname, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, openPage, ready, ARTIFACTS } from './browser.mjs';

const WWW = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'www');
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
};
const STEPS = 300;

let browser;
/** @type {import('node:http').Server} */
let plain;
let plainUrl = '';
before(async () => {
  browser = await launch();
  // A host without isolation headers: files of www/ with their types, nothing else.
  plain = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    if (path.split('/').includes('..')) { res.writeHead(400).end(); return; }
    try {
      const body = await readFile(join(WWW, path || 'index.html'));
      res.writeHead(200, { 'Content-Type': TYPES[extname(path || 'index.html')] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => { plain.listen(0, '127.0.0.1', () => resolve(undefined)); });
  const address = /** @type {import('node:net').AddressInfo} */ (plain.address());
  plainUrl = `http://127.0.0.1:${address.port}/`;
});
after(async () => {
  await browser.close();
  await new Promise((resolve) => { plain.close(() => resolve(undefined)); });
});

/**
 * A fresh network (the page's seed) trained for STEPS steps by `workers` workers, paused;
 * returns the averaged weights the page then holds, and the line under the settings.
 * @param {any} page
 * @param {number} workers
 */
async function run(page, workers) {
  await page.evaluate((n) => window.fmp.apply({ workers: n }), workers);
  await page.click('#reset');
  await page.waitForFunction(() => window.fmp.weightSteps() === 0, null, { timeout: 30000 });
  await page.evaluate((n) => window.fmp.stepTraining(n), STEPS);
  await page.waitForFunction((n) => window.fmp.weightSteps() === n, STEPS, { timeout: 120000 });
  const weights = await page.evaluate(() => window.fmp.weights());
  return { weights, note: await page.textContent('#workers-note') };
}

/** The largest absolute difference of two weight vectors. */
const worst = (/** @type {number[]} */ a, /** @type {number[]} */ b) =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i])));

let sharedRun = /** @type {number[]} */ ([]);

test('a seed and a number of workers reproduce a run bit for bit (shared memory)', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the dev server sends COOP/COEP');
  const first = await run(page, 2);
  assert.match(first.note, /2 training workers, each computing its share of every batch, over shared memory/);
  const again = await run(page, 2);
  assert.equal(first.weights.length, again.weights.length);
  assert.ok(first.weights.length > 1000);
  assert.deepEqual(again.weights, first.weights, 'two runs with 2 workers: the same bits');
  // One worker sums the batch in another order: the same run up to rounding, not bit for bit.
  const one = await run(page, 1);
  assert.match(one.note, /^1 training worker \(/);
  const d = worst(one.weights, first.weights);
  assert.ok(d > 0 && d < 1e-3, `1 and 2 workers agree to rounding (largest difference ${d})`);
  sharedRun = first.weights;
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a helper that fails ends the team, not the run: a message, and training goes on with one worker', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await run(page, 2);
  await page.evaluate(() => window.fmp.harmWorker('train', 'helper'));
  // The helper takes the message when it idles, and confirms it.
  await page.waitForFunction(() => window.fmp.helperArmed() > 0, null, { timeout: 10000 });
  await page.evaluate(() => window.fmp.stepTraining(20));
  await page.waitForSelector('#message:not([hidden])', { timeout: 30000 });
  assert.match(await page.textContent('#message-text'),
    /A training helper failed .*: training goes on with one worker instead of 2 \(choose 2 under Training workers/);
  assert.equal(await page.inputValue('#workers'), '1', 'the setting shows the one worker that trains');
  await page.waitForFunction(() => /^1 training worker/.test(document.getElementById('workers-note').textContent));
  const before = await page.evaluate(() => window.fmp.weightSteps());
  await page.evaluate(() => window.fmp.stepTraining(10));
  await page.waitForFunction((n) => window.fmp.weightSteps() === n + 10, before, { timeout: 30000 });
  assert.equal(await page.evaluate(() => window.fmp.restarts().train), 0, 'the training worker was not replaced');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('without cross-origin isolation the page trains with transferred buffers, to the same bits', async () => {
  const page = await openPage(browser.context, plainUrl);
  await ready(page);
  assert.equal(await page.evaluate(() => crossOriginIsolated), false, 'a plain host: no isolation');
  assert.equal(await page.evaluate(() => typeof SharedArrayBuffer), 'undefined');
  const transferred = await run(page, 2);
  assert.match(transferred.note, /over transferred buffers/);
  assert.match(transferred.note, /not cross-origin isolated/);
  if (sharedRun.length) assert.deepEqual(transferred.weights, sharedRun, 'both transports give the same bits');
  // The app works unchanged: it trains live with two workers and the particles flow.
  await page.click('#train');
  await page.waitForFunction((n) => window.fmp.lastStep() > n + 200, STEPS, { timeout: 60000 });
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.trajectory('learned')?.complete, null, { timeout: 60000 });
  const rate = Number((await page.textContent('#rate')).replace(/,/g, ''));
  assert.ok(rate > 0, `the two workers train at ${rate} steps/s`);
  await page.screenshot({ path: join(ARTIFACTS, 'two-workers-transferred.png') });
  assert.deepEqual(page.errors, []);
  await page.close();
});
