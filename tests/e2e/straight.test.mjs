// The straight-paths lesson (issue 13): the coupling switch (independent or minibatch OT),
// reflow twice with the earlier networks kept, the straight reference ('ot' view) for every
// schedule, the NFE chart against the native command line on the same network and noise, a
// share link, and bad input (reflow untrained, diverged, on an empty drawing; an edit after a
// reflow). Margins are stated where they are asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_URL, ARTIFACTS, launch, openPage, ready, settled, shows } from './browser.mjs';

const PYTHON = process.env.FMP_PYTHON;
const CLI = process.env.FMP_CLI;
const work = mkdtempSync(join(tmpdir(), 'fmp-straight-'));

let browser;
before(async () => { browser = await launch({ acceptDownloads: true }); });
after(async () => { await browser.close(); });

/** Opens the app in the straight-paths lesson from its defaults (the profile keeps settings). */
async function openLesson() {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click('#lesson-picker >> text=Straight paths');
  await page.waitForFunction(() => window.fmp.state().lesson === 'straight');
  await page.evaluate(() => window.fmp.apply({
    coupling: 'independent', field: 'paths', schedule: 'linear', play: true, show: 'both', lr: 0.01,
  }));
  await page.waitForFunction(() => window.fmp.count() === 1000);
  assert.equal(await page.isVisible('#straight-card'), true);
  return page;
}

/** Trains until the current network has `steps` steps, then pauses. */
async function trainTo(page, steps) {
  if (!(await page.evaluate(() => window.fmp.isTraining()))) await page.click('#train');
  await page.waitForFunction((n) => window.fmp.weightSteps() >= n, steps, { timeout: 120000 });
  await page.click('#train');
  await settled(page);
}

/** Waits until reflow round `round` is made (the pairs computed, the old network frozen). */
const reflowMade = (page, round) => page.waitForFunction((r) => {
  const m = window.fmp.straight();
  return m.round === r && !m.reflowing;
}, round, { timeout: 60000 });

/** The current network's figures once its S, crossings and NFE describe its newest weights. */
async function currentFigures(page) {
  await page.waitForFunction(() => {
    const cur = window.fmp.straight().nets.at(-1);
    return cur.nfe && cur.nfeSteps === window.fmp.weightSteps() && cur.steps === window.fmp.weightSteps();
  }, null, { timeout: 60000 }).catch(async (err) => {
    // What the page had measured, for the log of a failure.
    const seen = await page.evaluate(() => ({ weights: window.fmp.weightSteps(), straight: window.fmp.straight() }));
    console.log(JSON.stringify(seen));
    throw err;
  });
  return page.evaluate(() => window.fmp.straight().nets.at(-1));
}

test('the coupling switch: OT-coupled training straightens the paths, at a measured cost', async () => {
  const page = await openLesson();
  await trainTo(page, 1500);
  const ind = await currentFigures(page);
  assert.equal(ind.name, 'independent');
  assert.ok(ind.s > 0.3, `independent S ${ind.s}`);
  // The cost of a step with each coupling, timed in the training worker, and worded from it.
  await page.waitForFunction(() => window.fmp.straight().cost !== null, null, { timeout: 30000 });
  const { cost } = await page.evaluate(() => window.fmp.straight());
  assert.ok(cost.rates.independent > 0 && cost.rates.ot > 0, JSON.stringify(cost));
  const line = await page.textContent('#ot-cost');
  assert.ok(line.includes(`${Math.round(cost.rates.ot).toLocaleString('en')} steps/s`), line);
  assert.ok(line.includes(`${(cost.rates.independent / cost.rates.ot).toFixed(2)}×`), line);
  assert.match(line, /medians of 5 alternating rounds/);
  assert.match(await page.textContent('#loss-caption'), /L_FM/);

  // The switch: a fresh network, OT-coupled batches; the loss chart keeps to L_CFM.
  await page.click('#coupling-picker >> text=minibatch OT');
  await page.waitForFunction(() => window.fmp.state().coupling === 'ot' && window.fmp.weightSteps() < 1500);
  await page.waitForFunction(() => /minibatch OT\): its target is the marginal field of that coupling/.test(document.getElementById('loss-caption').textContent));
  await trainTo(page, 1500);
  const ot = await currentFigures(page);
  assert.equal(ot.name, 'OT-coupled');
  // Measured on moons at 1,500 steps: S about 0.87 against below 0.1; the margin asserted is 2x.
  assert.ok(ot.s < 0.5 * ind.s, `S: independent ${ind.s}, OT ${ot.s}`);
  assert.ok(ot.nfe[0] < ind.nfe[0], `W2 after one step: independent ${ind.nfe[0]}, OT ${ot.nfe[0]}`);
  assert.equal(await page.locator('#models-table tbody tr').count(), 1);
  assert.match(await page.textContent('#straight-caption'), /OT-coupled: S = /);
  await page.screenshot({ path: join(ARTIFACTS, 'straight-ot.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('reflow twice: each network stays, in its own colour, and the paths straighten', async () => {
  const page = await openLesson();
  await trainTo(page, 1000);
  const base = await currentFigures(page);
  // The first reflow while paused, the second while training: training goes on with the new
  // network either way.
  for (const round of [1, 2]) {
    if (round === 2) {
      await page.click('#train');
      await page.waitForFunction(() => window.fmp.weightSteps() >= 1100, null, { timeout: 60000 });
    }
    await page.click('#reflow');
    await reflowMade(page, round);
    assert.match(await page.textContent('#reflow-status'), new RegExp(`Reflow ${round} made`));
    if (round === 2) assert.equal(await page.evaluate(() => window.fmp.isTraining()), true);
    await trainTo(page, 1000);
  }
  const m = await page.evaluate(() => window.fmp.straight());
  assert.deepEqual(m.nets.map((n) => n.name),
    ['independent', 'reflow 1 (of independent)', 'reflow 2 (of independent)']);
  assert.equal(new Set(m.nets.map((n) => n.color)).size, 3);
  const last = await currentFigures(page);
  // Every network's figures, the frozen ones on their own flows.
  await page.waitForFunction(() => window.fmp.straight().nets.every((n) => n.nfe && Number.isFinite(n.s)), null,
    { timeout: 60000 });
  const nets = await page.evaluate(() => window.fmp.straight().nets);
  for (const id of [0, 1]) {
    assert.ok((await page.evaluate((k) => window.fmp.trajectory(k), `frozen${id}`))?.complete, `frozen${id}`);
  }
  // Measured: S 0.87 -> about 0.001 after one reflow; asserted: below half, and W2 after one
  // Euler step lower.
  const [first, second] = nets;
  assert.ok(Math.abs(first.s - base.s) <= 1e-9 * base.s, `frozen S ${first.s} vs ${base.s} before the reflow`);
  assert.ok(second.s < 0.5 * first.s && last.s < 0.5 * first.s, `S: ${nets.map((n) => n.s).join(', ')}`);
  assert.ok(second.nfe[0] < first.nfe[0], `W2 at 1 step: ${nets.map((n) => n.nfe[0]).join(', ')}`);
  assert.equal(await page.locator('#models-table tbody tr').count(), 3);
  const legend = await page.textContent('#legend');
  assert.match(legend, /independent \(rings, frozen at [\d,]+ steps\)/);
  assert.match(legend, /reflow 1 \(of independent\) \(rings, frozen/);
  assert.match(await page.textContent('#straight-caption'), /reflow 2 \(of independent\): S = .* against independent's S = .*straighter/);
  // The NFE chart is drawn, and its caption names every network.
  const caption = await page.textContent('#nfe-caption');
  for (const n of nets) assert.ok(caption.includes(n.name), `${n.name} in ${caption}`);
  await page.screenshot({ path: join(ARTIFACTS, 'straight-reflow.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the straight reference: OT pairs on straight lines, and bent ones for the cosine schedule', async () => {
  const page = await openLesson();
  await page.selectOption('#field', 'ot');
  await page.waitForFunction(() => window.fmp.trajectory('ot')?.complete && window.fmp.straight().ot, null,
    { timeout: 30000 });
  const ot = await page.evaluate(() => window.fmp.straight().ot);
  const n = await page.evaluate(() => window.fmp.trajectory('ot').n);
  assert.equal(n, 1000); // 2,000 particles: the first 1,000 are paired
  assert.ok(ot.s < 1e-6, `S of straight lines ${ot.s}`);
  await page.evaluate(() => window.fmp.apply({ play: false, t: 0.5 }));
  await shows(page, 'ot', 0.5);
  assert.match(await page.innerHTML('#caption'), /Straight lines at constant speed/);
  assert.match(await page.textContent('#legend'), /the first 1,000 of 2,000 particles/);
  // Cosine: alpha_t + beta_t is not 1, the pairs' paths bend and the caption says so.
  await page.selectOption('#schedule', 'cosine');
  await page.waitForFunction(() => (window.fmp.straight().ot?.s ?? 0) > 1e-3, null, { timeout: 30000 });
  await page.waitForFunction(() => /cosine schedule .* these paths bend/.test(document.getElementById('caption').textContent));
  await page.selectOption('#schedule', 'linear');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the NFE chart agrees with the native command line on the same network and noise', async () => {
  assert.ok(PYTHON && CLI, 'FMP_PYTHON and FMP_CLI are set by `cargo xtask test`');
  const page = await openLesson();
  await trainTo(page, 800);
  const cur = await currentFigures(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  const zip = join(work, 'model.zip');
  await download.saveAs(zip);
  const dir = join(work, 'model');
  execFileSync(PYTHON, ['-m', 'zipfile', '-e', zip, dir]);
  const points = await page.evaluate(() => window.fmp.points());
  let csv = 'x,y\n';
  for (let i = 0; i < points.length; i += 2) csv += `${points[i]},${points[i + 1]}\n`;
  writeFileSync(join(work, 'drawing.csv'), csv);
  const { seed } = await page.evaluate(() => window.fmp.state());
  const steps = await page.evaluate(() => window.fmp.straight().nfeSteps);
  // The page's first NFE draw starts from noise_points(500, seed + 6) (its figure is the mean of
  // that and further draws); the command line's is the same generator seeded with --seed. Its
  // --steps takes 1 too (the one-step figure); --force overwrites the samples of the previous
  // step count.
  for (const [i, k] of steps.entries()) {
    const out = execFileSync(CLI, ['flow', '--data', join(work, 'drawing.csv'), '--field', 'learned', '--model', dir,
      '--solver', 'euler', '--steps', String(k), '--particles', '500', '--seed', String(seed + 6),
      '--out', join(work, 'samples.csv'), '--force'], { encoding: 'utf8' });
    const native = JSON.parse(out).w2;
    // wasm and native differ only in float rounding of the network (f32 products).
    const page0 = cur.nfeDraws[i][0];
    assert.ok(Math.abs(native - page0) < 1e-3, `${k} steps: page ${page0}, native ${native}`);
  }
  assert.ok(readFileSync(join(work, 'samples.csv'), 'utf8').split('\n').length > 500);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a share link opens the lesson with its coupling and view', async () => {
  const page = await openLesson();
  await page.evaluate(() => window.fmp.apply({ coupling: 'ot', field: 'ot', play: false, t: 0.4 }));
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const hash = new URL(page.url()).hash;
  assert.match(hash, /lesson=straight/);
  assert.match(hash, /coupling=ot/);
  await page.close();
  const opened = await openPage(browser.context, new URL(hash, APP_URL).href);
  await ready(opened);
  const s = await opened.evaluate(() => window.fmp.state());
  assert.deepEqual([s.lesson, s.coupling, s.field, s.t], ['straight', 'ot', 'ot', 0.4]);
  assert.equal(await opened.isVisible('#straight-card'), true);
  assert.equal(await opened.isChecked('#coupling-picker input[value=ot]'), true);
  await shows(opened, 'ot', 0.4);
  // A malformed coupling in a link: a message, the default kept.
  const bad = await openPage(browser.context, new URL(hash.replace('coupling=ot', 'coupling=sinkhorn'), APP_URL).href);
  await ready(bad);
  assert.match(await bad.textContent('#message-text'), /coupling must be one of independent, ot/);
  assert.deepEqual(opened.errors, []);
  await opened.close();
  await bad.close();
});

test('bad input: reflow untrained, diverged or empty, and an edit after a reflow', async () => {
  const page = await openLesson();
  // Untrained: a message, and training starts (the fallback); nothing is frozen.
  await page.click('#reset');
  await page.click('#reflow');
  await page.waitForFunction(() => /Train first/.test(document.getElementById('message-text').textContent));
  assert.equal(await page.evaluate(() => window.fmp.isTraining()), true);
  assert.equal(await page.evaluate(() => window.fmp.straight().frozen), 0);
  await page.waitForFunction(() => window.fmp.weightSteps() >= 400, null, { timeout: 60000 });
  await page.click('#train');
  await settled(page);
  await page.click('#reflow');
  await reflowMade(page, 1);
  // An edit after a reflow: the chain starts again on the new drawing; nothing drawn is lost.
  const before = await page.evaluate(() => window.fmp.points());
  await page.evaluate((pts) => window.fmp.replacePoints(pts.slice(0, 1000)), before);
  await page.waitForFunction(() => /the chain starts again/.test(document.getElementById('message-text').textContent));
  assert.equal(await page.evaluate(() => window.fmp.straight().frozen), 0);
  assert.equal(await page.evaluate(() => window.fmp.count()), 500);
  await page.click('#undo');
  await page.waitForFunction(() => window.fmp.count() === 1000);
  // Diverged: the learning rate 10 explodes; Reflow refuses and says why.
  await page.evaluate(() => window.fmp.apply({ lr: 10 }));
  await page.click('#reset');
  await page.click('#train');
  await page.waitForFunction(() => /diverged/.test(document.getElementById('message-text').textContent), null, { timeout: 60000 });
  await page.click('#reflow');
  await page.waitForFunction(() => /The network diverged: a reflow would copy/.test(document.getElementById('message-text').textContent));
  assert.equal(await page.evaluate(() => window.fmp.straight().frozen), 0);
  // Empty: the button is disabled, the card says why, and the points come back with Undo.
  await page.evaluate(() => window.fmp.apply({ lr: 0.01 }));
  await page.click('#clear');
  await page.waitForFunction(() => window.fmp.count() === 0);
  assert.equal(await page.isDisabled('#reflow'), true);
  await page.waitForFunction(() => /drawing is empty/.test(document.getElementById('straight-caption').textContent));
  await page.click('#undo');
  await page.waitForFunction(() => window.fmp.count() === 1000);
  assert.deepEqual(page.errors, []);
  await page.close();
});
