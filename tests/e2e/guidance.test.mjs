// The guidance lesson (issue 14): drawing in two classes with the mouse (the eraser takes one
// class only), training the class-conditional network, fidelity at w = 1 and how fidelity and
// spread move with w (exact and learned), the w slider, every view, a share link and a CSV
// round trip with labels, the exported network in Python, and bad input (an empty sampled
// class, labels out of range in a file and in a link). Margins are stated where asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_URL, ARTIFACTS, launch, nextFrames, openPage, ready, settled, stagePoint } from './browser.mjs';

const PYTHON = process.env.FMP_PYTHON;
const work = mkdtempSync(join(tmpdir(), 'fmp-guidance-'));
const PYDIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python');

let browser;
before(async () => { browser = await launch({ acceptDownloads: true }); });
after(async () => { await browser.close(); });

/** Opens the guidance lesson on the labelled moons preset (two classes), from the defaults. */
async function openLesson() {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#lesson-picker >> text=Guidance');
  await page.waitForFunction(() => window.fmp.state().lesson === 'guidance');
  await page.evaluate(() => window.fmp.apply({
    preset: 'moons', field: 'guided', guidance: 1, sampleClass: 1, brushClass: 1, play: true, show: 'both',
  }));
  await page.click('#load-preset');
  await page.waitForFunction(() => window.fmp.count() === 1000 && window.fmp.guidance().counts[1] === 500);
  assert.equal(await page.isVisible('#guidance-card'), true);
  return page;
}

/** Trains to `steps`, pauses, and waits for the figures of the final weights. */
async function trainAndMeasure(page, steps) {
  await page.click('#train');
  await page.waitForFunction((n) => window.fmp.weightSteps() >= n, steps, { timeout: 120000 });
  await page.click('#train');
  await settled(page);
  await page.waitForFunction(() => window.fmp.guidance().fig?.steps === window.fmp.weightSteps(), null,
    { timeout: 60000 });
  return page.evaluate(() => window.fmp.guidance().fig);
}

/** Sets the w slider as a person would. */
async function setW(page, w) {
  await page.$eval('#guidance', (el, v) => {
    /** @type {HTMLInputElement} */ (el).value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, w);
  await page.waitForFunction((v) => window.fmp.state().guidance === v, w);
}

test('drawing in two classes: each stroke takes the picked class, the eraser only that class', async () => {
  const page = await openLesson();
  await page.click('#clear');
  await page.waitForFunction(() => window.fmp.count() === 0);
  const stroke = async (x, y) => {
    const [px, py] = await stagePoint(page, x, y);
    await page.mouse.move(px, py);
    await page.mouse.down();
    await page.mouse.move(px + 30, py + 10, { steps: 6 });
    await page.mouse.up();
  };
  await page.click('#class-picker >> text=class 1');
  await stroke(-1.5, 0);
  await page.click('#class-picker >> text=class 2');
  await stroke(1.5, 0);
  await stroke(-1.5, 0); // class 2 points over class 1's
  await page.waitForFunction(() => window.fmp.guidance().counts[0] > 0 && window.fmp.guidance().counts[1] > 0);
  const before = await page.evaluate(() => window.fmp.guidance().counts);
  assert.equal(before[2] + before[3], 0);
  assert.match(await page.textContent('#class-counts'), new RegExp(`class 2: ${before[1]}`));
  // The eraser with class 2 picked removes class 2's points at (-1.5, 0) and keeps class 1's.
  await page.check('input[name=tool][value=erase]');
  await page.evaluate(() => window.fmp.apply({ brushSize: 1 }));
  await stroke(-1.5, 0);
  const after = await page.evaluate(() => window.fmp.guidance().counts);
  assert.equal(after[0], before[0], 'class 1 untouched');
  assert.ok(after[1] < before[1], `class 2: ${before[1]} -> ${after[1]}`);
  await page.evaluate(() => window.fmp.apply({ brushSize: 0.25 }));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('training: samples land in their class at w = 1, fidelity rises and spread falls with w', async () => {
  const page = await openLesson();
  const fig = await trainAndMeasure(page, 1500);
  const [f0, f1, , f4] = fig.exact;
  const [l0, l1, , l4] = fig.learned;
  // Exact: about half at w = 0 (the unconditional field), all at w = 1; the spread shrinks.
  assert.ok(f0[0] < 0.8 && f1[0] >= 0.99, `exact fidelity ${fig.exact.map((f) => f[0])}`);
  assert.ok(f4[1] < f1[1], `exact spread ${fig.exact.map((f) => f[1])}`);
  // Learned after 1,500 steps (measured: 99-100 % at w = 1): at least 95 %, and no less at w = 4.
  assert.ok(l1[0] >= 0.95, `learned fidelity at w = 1: ${l1[0]}`);
  assert.ok(l0[0] < l1[0] && l4[0] >= l1[0], `learned fidelity ${fig.learned.map((f) => f[0])}`);
  assert.ok(l4[1] < l1[1], `learned spread ${fig.learned.map((f) => f[1])}`);
  assert.equal(await page.locator('#guide-table tbody tr').count(), 4);
  assert.match(await page.textContent('#guide-caption'), /Exact: \d+ ± [\d.]+ % land nearest a point of class 1 at w = 0/);
  // The slider: a new w, new guided flows, and the caption quotes the figures at it.
  await setW(page, 2);
  const both = () => window.fmp.trajectory('learned_guided')?.complete
    && window.fmp.trajectory('exact_guided')?.complete;
  await page.waitForFunction(both, null, { timeout: 60000 });
  await page.waitForFunction(() => /At w = 2: exact [\d.]+ ± [\d.]+ % nearest a point of class 1/.test(document.getElementById('caption').textContent));
  await page.screenshot({ path: join(ARTIFACTS, 'guidance.png'), fullPage: true });

  // The exported network is class-conditional: Python's u(x, t, y) is the page's.
  assert.ok(PYTHON, 'FMP_PYTHON is set by `cargo xtask test`');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  const zip = join(work, 'guided.zip');
  await download.saveAs(zip);
  const xs = [0.3, -0.2, 1.1, 0.4, -0.9, 0.7];
  const page2 = await page.evaluate((q) => window.fmp.page('guidance').classVelocity(q, 0.6, 2), xs);
  const out = execFileSync(PYTHON, ['-c', `
import sys, json; sys.path.insert(0, ${JSON.stringify(PYDIR)})
import numpy as np
from fmp_model import load
m = load(${JSON.stringify(zip)})
x = np.array(${JSON.stringify(xs)}).reshape(-1, 2)
print(json.dumps({"classes": m.classes, "labels": int(len(set(m.labels.tolist()))), `
  + `"u": m.u(x, 0.6, 2).ravel().tolist()}))
`], { encoding: 'utf8' });
  const py = JSON.parse(out);
  assert.equal(py.classes, 4);
  assert.equal(py.labels, 2);
  for (let i = 0; i < xs.length; i++) {
    assert.ok(Math.abs(py.u[i] - page2[i]) < 1e-4, `u[${i}]: python ${py.u[i]}, page ${page2[i]}`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('every view of the lesson draws', async () => {
  const page = await openLesson();
  const views = await page.$$eval('#field option', (os) => os.map((o) => o.value));
  assert.deepEqual(views, ['guided', 'class_field', 'uncond_field', 'guided_field', 'learned_guided_field']);
  await page.click('#train');
  await page.waitForFunction(() => window.fmp.weightSteps() > 50);
  for (const view of views) {
    await page.selectOption('#field', view);
    await page.waitForFunction((v) => window.fmp.lastFrame().field === v, view);
    await nextFrames(page, 3);
  }
  await page.click('#train');
  // Inspect: the posterior weight of each class at a point.
  await page.check('input[name=tool][value=inspect]');
  const [px, py] = await stagePoint(page, 0.5, 0);
  await page.mouse.move(px, py);
  await page.waitForFunction(() => /Posterior weight by class here: class 1 \d+ %/.test(document.getElementById('caption').textContent));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a share link and a CSV file keep the classes', async () => {
  const page = await openLesson();
  await page.evaluate(() => window.fmp.apply({ guidance: 3, sampleClass: 2 }));
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const hash = new URL(page.url()).hash;
  assert.match(hash, /&l=/);
  const labels = await page.evaluate(() => window.fmp.labels());
  const opened = await openPage(browser.context, new URL(hash, APP_URL).href);
  await ready(opened);
  assert.deepEqual(await opened.evaluate(() => window.fmp.labels()), labels);
  const s = await opened.evaluate(() => window.fmp.state());
  assert.deepEqual([s.lesson, s.guidance, s.sampleClass], ['guidance', 3, 2]);
  await opened.close();

  // CSV: the export writes x,y,label; importing it gives back the same classes.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const file = join(work, 'points.csv');
  await download.saveAs(file);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^x,y,label\n/);
  await page.click('#clear');
  await page.waitForFunction(() => window.fmp.count() === 0);
  await page.setInputFiles('#import-csv', file);
  await page.waitForFunction(() => window.fmp.count() === 1000);
  assert.deepEqual(await page.evaluate(() => window.fmp.labels()), labels);
  assert.match(await page.textContent('#message-text'), /Imported 1,000 points in 2 classes/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('bad input: an empty sampled class, labels out of range in a file and in a link', async () => {
  const page = await openLesson();
  // Class 3 has no points: a message, and the flows sample class 1 instead.
  // (Its option is disabled in the select; a link or a saved state can still ask for it.)
  assert.equal(await page.isDisabled('#sampleClass option[value="3"]'), true);
  await page.evaluate(() => window.fmp.apply({ sampleClass: 3 }));
  await page.waitForFunction(() => /class 3 has no points: sampling class 1 instead/.test(document.getElementById('message-text').textContent));
  assert.equal(await page.evaluate(() => window.fmp.guidance().sampled), 1);
  // A file with a label of 7: a message naming the line; the drawing is unchanged.
  const bad = join(work, 'bad.csv');
  writeFileSync(bad, 'x,y,label\n0,0,1\n1,1,7\n');
  const labels = await page.evaluate(() => window.fmp.labels());
  await page.setInputFiles('#import-csv', bad);
  await page.waitForFunction(() => /line 3: label '7' must be an integer in 1..=4/.test(document.getElementById('message-text').textContent));
  assert.equal(await page.evaluate(() => window.fmp.count()), 1000);
  assert.deepEqual(await page.evaluate(() => window.fmp.labels()), labels);
  // A new drawing in the class-field view: its arrows are drawn before its labels arrive
  // (they follow the points), without an error.
  await page.evaluate(() => window.fmp.apply({ field: 'class_field', sampleClass: 1, play: false, t: 0.5 }));
  const version = await page.evaluate(() => window.fmp.state().cloudVersion);
  await page.evaluate(() => window.fmp.replacePoints([]));
  // The empty drawing reaches the fields (after the edit's debounce): a new cloud version.
  await page.waitForFunction((v) => window.fmp.state().cloudVersion > v, version);
  await page.evaluate(() => window.fmp.replacePoints([0.5, 0.5, -0.5, 0.2]));
  await nextFrames(page, 3);
  assert.equal(await page.textContent('#message-text').then((t) => /Drawing failed/.test(t)), false);
  await page.click('#undo');
  await page.click('#undo');
  await page.waitForFunction(() => window.fmp.count() === 1000);
  assert.deepEqual(await page.evaluate(() => window.fmp.labels()), labels);
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const hash = new URL(page.url()).hash;
  assert.deepEqual(page.errors, []);
  await page.close();
  // A link whose labels do not fit its points: a message, and the visitor's drawing stays.
  const broken = await openPage(browser.context, new URL(hash.replace(/&l=[^&]*/, '&l=AAAA'), APP_URL).href);
  await ready(broken);
  assert.match(await broken.textContent('#message-text'), /This link could not be opened \(the labels of the link do not fit its 1,000 points\)/);
  assert.equal(await broken.evaluate(() => window.fmp.count()), 1000);
  assert.deepEqual(broken.errors, []);
  await broken.close();
});
