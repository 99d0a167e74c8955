// Sentences the page showed that were not true (issue 24, items 8-11), reproduced in Chromium:
// the Langevin caption before its first measurement, a guidance scale outside the measured
// ones, the embed's caption naming a table it does not show, tour step 8 asking to press Train
// while training runs, and captions promising trails while slow frames have turned them off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, launch, nextFrames, openPage, ready } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/** Opens the app in a lesson (by its picker) from the defaults of the settings given. */
async function openLesson(name, id, patch) {
  const page = await openPage(browser.context);
  await ready(page);
  await page.click(`#lesson-picker >> text=${name}`);
  await page.waitForFunction((l) => window.fmp.state().lesson === l, id);
  await page.evaluate((p) => window.fmp.apply(p), patch);
  return page;
}

test('Langevin: no claim about how far the particles move before it is measured (item 8)', async () => {
  const page = await openLesson('Diffusion (SDE)', 'diffusion', {
    sigma: 1, scoreFix: true, langevin: false, play: false, t: 0.11, field: 'sde', show: 'both',
  });
  // Every caption the page writes, with the step of the newest measured Langevin frame then.
  await page.evaluate(() => {
    window.captionLog = [];
    const el = document.getElementById('langevin-caption');
    new MutationObserver(() => {
      const last = window.fmp.diffusion().langevin.last;
      window.captionLog.push({ text: el.textContent, measured: last ? last.step : -1 });
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.check('#langevin');
  await page.waitForFunction(() => (window.fmp.diffusion().langevin.last?.step ?? 0) >= 200, null,
    { timeout: 60000 });
  const log = await page.evaluate(() => window.captionLog);
  const early = log.filter((c) => c.measured === 0 && /^Langevin dynamics/.test(c.text));
  assert.ok(early.length > 0, `a caption before the first displacement was measured: ${JSON.stringify(log)}`);
  for (const c of early) {
    assert.doesNotMatch(c.text, /barely move|moved/, `claims motion before measuring it: ${c.text}`);
    assert.match(c.text, /measured every 100 steps/);
  }
  const later = log.filter((c) => c.measured > 0);
  assert.ok(later.length > 0 && later.every((c) => /moved/.test(c.text)), `measured captions: ${JSON.stringify(later)}`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('guidance: a scale beyond the measured ones is said to lie outside them (item 9)', async () => {
  const page = await openLesson('Guidance', 'guidance', {
    preset: 'moons', field: 'guided', guidance: 1, sampleClass: 1, brushClass: 1, play: true, show: 'both',
  });
  await page.click('#load-preset');
  await page.waitForFunction(() => window.fmp.count() === 1000 && window.fmp.guidance().counts[1] === 500);
  await page.waitForFunction(() => window.fmp.guidance().fig !== null, null, { timeout: 60000 });
  const measured = await page.evaluate(() => window.fmp.guidance().fig.w);
  assert.deepEqual(measured, [0, 1, 2, 4]);
  await page.evaluate(() => window.fmp.apply({ guidance: 8 }));
  await page.waitForFunction(() => /this w = 8/.test(document.getElementById('caption').textContent));
  const caption = await page.textContent('#caption');
  assert.doesNotMatch(caption, /lies between/);
  assert.match(caption, /w = 8 lies outside them, beyond w = 4/);
  // Inside the range, between two measured scales.
  await page.evaluate(() => window.fmp.apply({ guidance: 3 }));
  await page.waitForFunction(() => /this w = 3 lies between two of them/.test(document.getElementById('caption')
    .textContent));
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an embed names no table it does not show (item 10)', async () => {
  const page = await openLesson('Diffusion (SDE)', 'diffusion', {
    sigma: 1, scoreFix: true, langevin: false, play: true, field: 'sde', show: 'both',
  });
  // The whole app shows the table (in the Diffusion card), and its caption may name it.
  await page.waitForFunction(() => /rough paths/.test(document.getElementById('caption').textContent));
  assert.equal(await page.isVisible('#match-table'), true);
  await page.waitForFunction(() => window.fmp.urlCurrent());
  const hash = new URL(page.url()).hash.replace('#v=1', '#v=1&embed=1');
  const embed = await openPage(browser.context, new URL(hash, page.url()).href);
  await ready(embed);
  await embed.waitForFunction(() => window.fmp.state().embed && /rough paths/.test(document.getElementById('caption')
    .textContent));
  await nextFrames(embed, 2);
  const caption = await embed.textContent('#caption');
  assert.equal(await embed.isVisible('#match-table'), false, 'the embed shows no table');
  assert.doesNotMatch(caption, /table|card/, caption);
  // Langevin in the embed: no histogram of a card it hides.
  await embed.evaluate(() => window.fmp.apply({ langevin: true }));
  await embed.waitForFunction(() => /^Langevin dynamics/.test(document.getElementById('caption').textContent));
  assert.doesNotMatch(await embed.textContent('#caption'), /card|histogram/);
  await embed.screenshot({ path: join(ARTIFACTS, 'captions-embed.png') });
  assert.deepEqual(page.errors, []);
  assert.deepEqual(embed.errors, []);
  await embed.close();
  await page.close();
});

test('tour step 8 matches the Train button (item 11)', async () => {
  const page = await openLesson('Flow matching', 'fm', { field: 'marginal', play: true, show: 'both' });
  await page.click('#tour-btn');
  for (let i = 0; i < 7; i++) await page.click('#tour-next');
  assert.match(await page.textContent('#tour-title'), /^8\. Memorize/);
  // Training runs from step 5 on: the button reads Pause, and the step must not ask to press it.
  await page.waitForFunction(() => window.fmp.isTraining());
  assert.equal((await page.textContent('#train')).trim(), 'Pause');
  const body = await page.textContent('#tour-body');
  assert.doesNotMatch(body, /press Train and watch/);
  assert.match(body, /reads Pause/);
  await page.click('#tour-skip');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('captions hold while slow frames turn trails off, and say so in words (item 11)', async () => {
  // Slow frames (the CPU throttled 12 times): trails go off, and no caption says they show paths.
  const slow = await openLesson('Straight paths', 'straight', {
    field: 'paths', trails: true, play: true, show: 'both',
  });
  const cdp = await slow.context().newCDPSession(slow);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 12 });
  try {
    await slow.waitForFunction(() => /trails/i.test(document.getElementById('flow-status').textContent),
      null, { timeout: 60000, polling: 500 });
    await slow.waitForFunction(() => /^Particles/.test(document.getElementById('caption').textContent), null,
      { timeout: 30000, polling: 500 });
    await slow.waitForTimeout(1000);
    // The caption of frames drawn without trails (read while the status still says so).
    const [status, caption] = await slow.evaluate(() => [document.getElementById('flow-status').textContent,
      document.getElementById('caption').textContent]);
    assert.match(status, /trails/i);
    assert.doesNotMatch(caption, /trails show/, caption);
    assert.match(status, /^Trails off while frames are slow: the particles' paths are not drawn/);
    await slow.screenshot({ path: join(ARTIFACTS, 'captions-slow-frames.png') });
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  }
  // Fast frames again: trails come back, and the caption says so.
  await slow.waitForFunction(() => /trails show their paths/.test(document.getElementById('caption').textContent),
    null, { timeout: 60000, polling: 500 });
  assert.equal(await slow.textContent('#flow-status'), '');
  assert.deepEqual(slow.errors, []);
  await slow.close();
});
