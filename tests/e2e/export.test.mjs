// Export to Python (issue 15): the page's "Export model" zip and `fmp train --save` are loaded
// by python/fmp_model.py (through python/check_export.py), whose u_theta must match the
// exporter's own to 1e-5 at 300 points and times, and whose samples must have the W2 to the
// drawing that the exporter measured. `cargo xtask test` provides FMP_PYTHON (a virtual
// environment with numpy, safetensors and scipy) and FMP_CLI (the native command line).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, openPage, ready, settled } from './browser.mjs';

const PYTHON = process.env.FMP_PYTHON;
const CLI = process.env.FMP_CLI;
const CHECK = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python', 'check_export.py');
const work = mkdtempSync(join(tmpdir(), 'fmp-export-'));

let browser;
before(async () => { browser = await launch({ acceptDownloads: true }); });
after(async () => { await browser.close(); });

/** 300 query points in [-3, 3]^2 at 6 times in [0, 0.95] (a fixed LCG: reproducible). */
function queries() {
  let s = 12345;
  const rnd = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  const times = [0, 0.1, 0.3, 0.5, 0.8, 0.95];
  return times.map((t) => ({ t, xs: Array.from({ length: 100 }, () => 6 * rnd() - 3) }));
}

/** Interleaved [x0, y0, x1, ...] as [[x, y], ...]. */
const pairs = (/** @type {number[]} */ flat) =>
  Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);

/** Runs the Python checker on `model` against `reference`; returns its JSON line. */
function check(model, reference) {
  assert.ok(PYTHON && CLI, 'FMP_PYTHON and FMP_CLI are set by `cargo xtask test`');
  const file = join(work, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(reference));
  const out = execFileSync(PYTHON, [CHECK, model, file], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1));
}

test('the page exports a zip that Python evaluates and samples like the page', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  // With no network yet, the button explains instead of exporting.
  await page.evaluate(() => window.fmp.replacePoints([]));
  await page.waitForFunction(() => window.fmp.weightSteps() === 0 && /cloud is empty/.test(document.getElementById('message-text').textContent));
  await page.click('#export-model');
  await page.waitForFunction(() => /no trained network|drawing is empty/.test(document.getElementById('message-text').textContent));
  await page.click('#undo');
  await page.waitForFunction(() => window.fmp.count() === 1000);
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.lastStep() > 1500, null, { timeout: 60000 });
  await page.click('#train');
  await settled(page);
  await page.waitForFunction(() => window.fmp.trajectory('learned')?.complete, null, { timeout: 30000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  const zip = join(work, 'page.zip');
  await download.saveAs(zip);
  assert.match(download.suggestedFilename(), /^fmp-model-linear-\d+-steps\.zip$/);
  const points = [], times = [], u = [];
  for (const { t, xs } of queries()) {
    const v = await page.evaluate(([xs, t]) => window.fmp.learnedVelocity(xs, t), [xs, t]);
    for (let i = 0; i < xs.length; i += 2) { points.push([xs[i], xs[i + 1]]); times.push(t); u.push([v[i], v[i + 1]]); }
  }
  const ends = await page.evaluate(() => window.fmp.exportedSamples());
  const r = check(zip, { points, times, u, x0: pairs(ends.x0), x1: pairs(ends.x1) });
  assert.ok(r.max_abs_diff <= 1e-5, `max |u_python - u_page| = ${r.max_abs_diff}`);
  assert.ok(r.max_abs_diff_samples <= 1e-4, `samples from the page's noise differ by ${r.max_abs_diff_samples}`);
  assert.ok(Math.abs(r.w2_python_same_noise - r.w2_app) <= 1e-4,
    `W2 python ${r.w2_python_same_noise} vs page ${r.w2_app}`);
  assert.ok(Math.abs(r.w2_python - r.w2_app) <= r.tolerance,
    `W2 of fresh samples ${r.w2_python} vs page ${r.w2_app} (tolerance ${r.tolerance})`);
  console.log(`page export: ${JSON.stringify(r)}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('fmp train --save writes a folder that Python evaluates and samples like the command line', () => {
  assert.ok(CLI, 'FMP_CLI is set by `cargo xtask test`');
  const dir = join(work, 'cli-model');
  execFileSync(CLI, ['train', '--steps', '1500', '--points', '1000', '--seed', '4', '--save', dir],
    { encoding: 'utf8' });
  // The same network trained again by `fmp flow` (same drawing, seed and defaults), whose
  // particles at t = 0 and t = 1 and their W2 Python must reproduce from the saved folder.
  const traj = join(work, 'traj.csv');
  const flow = JSON.parse(execFileSync(CLI, ['flow', '--data', join(dir, 'drawing.csv'), '--field', 'learned',
    '--train-steps', '1500', '--seed', '4', '--particles', '1000', '--at-times', '0,1', '--out', traj],
  { encoding: 'utf8' }));
  const rows = readFileSync(traj, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const x0 = rows.filter((r) => r[0] === 0).map((r) => [r[1], r[2]]);
  const x1 = rows.filter((r) => r[0] > 0).map((r) => [r[1], r[2]]);
  const points = [], times = [], u = [];
  for (const { t, xs } of queries()) {
    const q = join(work, 'q.csv');
    let csv = 'x,y\n';
    for (let i = 0; i < xs.length; i += 2) csv += `${xs[i]},${xs[i + 1]}\n`;
    writeFileSync(q, csv);
    const out = execFileSync(CLI, ['eval', '--model', dir, '--t', String(t), '--at', q], { encoding: 'utf8' });
    for (const line of out.trim().split('\n').slice(1)) {
      const [x, y, ux, uy] = line.split(',').map(Number);
      points.push([x, y]); times.push(t); u.push([ux, uy]);
    }
  }
  const r = check(dir, { points, times, u, x0, x1, w2: flow.w2, w2_samples: 1000 });
  assert.ok(r.max_abs_diff <= 1e-5, `max |u_python - u_native| = ${r.max_abs_diff}`);
  assert.ok(r.max_abs_diff_samples <= 1e-4,
    `samples from the command line's noise differ by ${r.max_abs_diff_samples}`);
  assert.ok(Math.abs(r.w2_python_same_noise - flow.w2) <= 1e-4,
    `W2 python ${r.w2_python_same_noise} vs native ${flow.w2}`);
  assert.ok(Math.abs(r.w2_python - r.w2_app) <= r.tolerance,
    `W2 of fresh samples ${r.w2_python} vs native ${r.w2_app} (tolerance ${r.tolerance})`);
  console.log(`command-line export: ${JSON.stringify(r)}`);
});

test('an embed link shows the stage, time and a view selector, and saves nothing here', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#load-preset');
  await page.waitForFunction(() => window.fmp.count() === 1000);
  await page.evaluate(() => window.fmp.apply({
    field: 'conditional', z: window.fmp.pointAt(5), show: 'exact', play: false, t: 0.6,
  }));
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const hash = new URL(page.url()).hash.replace('#v=1', '#v=1&embed=1');
  const saved = await page.evaluate(() => JSON.stringify(Object.entries(localStorage).sort()));
  await page.close();

  const embed = await openPage(browser.context, new URL(hash, process.env.FMP_URL).href);
  await ready(embed);
  for (const hidden of ['.top', '.toolbar', '.panel']) assert.equal(await embed.isVisible(hidden), false, hidden);
  for (const shown of ['#stage', '#time', '#embed-field', '#caption']) {
    assert.equal(await embed.isVisible(shown), true, shown);
  }
  assert.equal(await embed.inputValue('#embed-field'), 'conditional');
  await embed.selectOption('#embed-field', 'marginal');
  await embed.waitForFunction(() => window.fmp.lastFrame().field === 'marginal');
  // The embed's link opens the same state in the whole app.
  await embed.waitForFunction(() => /field=marginal/.test(document.getElementById('embed-open').getAttribute('href')));
  assert.match(await embed.getAttribute('#embed-open', 'href'), /^#v=1&.*field=marginal.*&p=/);
  assert.doesNotMatch(await embed.getAttribute('#embed-open', 'href'), /embed=/);
  await embed.evaluate(() => window.fmp.replacePoints([0.5, 0.5]));
  await embed.waitForFunction(() => window.fmp.count() === 1);
  // Nothing of the embed reached this browser's storage.
  await embed.waitForTimeout(500); // the debounced save would have run (300 ms)
  assert.equal(await embed.evaluate(() => JSON.stringify(Object.entries(localStorage).sort())), saved);
  assert.deepEqual(embed.errors, []);
  await embed.close();

  // Unknown parameters: a message, and the visitor's own drawing.
  const bad = await openPage(browser.context, new URL(`${hash}&colour=red`, process.env.FMP_URL).href);
  await ready(bad);
  await bad.waitForSelector('#message:not([hidden])');
  assert.match(await bad.textContent('#message-text'), /unknown setting "colour"/);
  assert.equal(await bad.evaluate(() => window.fmp.count()), 1000);
  await bad.close();
});
