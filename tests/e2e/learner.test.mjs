// The learner's state (issue 24, items 13-17): a tour keeps the network trained during it;
// leaving Langevin gives back the time and play state it took; an action that restarts training
// says so; the first-visit hint is shown only while it is true and names the device's input;
// each lesson offers its own tour on first entry, once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, count, launch, openPage, ready } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const message = (page) => page.textContent('#message-text');
const lastStep = (page) => page.evaluate(() => window.fmp.lastStep());

test('closing a tour keeps the network trained during it (the coupling it was trained with stays)', async () => {
  const page = await openPage(browser.context);
  await ready(page);
  await page.evaluate(() => window.fmp.apply({ lesson: 'straight', field: 'straight_field' }));
  const drawn = await count(page);
  await page.click('#tour-btn');
  await page.waitForSelector('#tour:not([hidden])');
  await page.click('#tour-next');
  await page.click('#tour-next');
  assert.match(await page.textContent('#tour-title'), /Minibatch OT coupling/);
  await page.waitForFunction(() => window.fmp.state().coupling === 'ot' && window.fmp.lastStep() > 300,
    null, { timeout: 60000 });
  const trained = await lastStep(page);
  await page.click('#tour-skip');
  const kept = await lastStep(page);
  assert.ok(kept >= trained, `the network's steps go on from ${trained} (now ${kept}), not from 0`);
  // Training goes on with the same network: its step count only grows.
  await page.waitForFunction((k) => window.fmp.lastStep() > k + 100, kept, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.fmp.state().coupling), 'ot');
  assert.equal(await page.inputValue('#field'), 'straight_field', 'the learner\'s view is back');
  assert.match(await message(page),
    /Tour closed: your settings are back, and the network trained during the tour \([\d,]+ steps\) is kept .*coupling/);
  assert.equal(await count(page), drawn, 'the drawing is kept');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('leaving Langevin gives back the time and play state it took (unticking it, or leaving the lesson)',
  async () => {
    const page = await openPage(browser.context);
    await ready(page);
    await page.evaluate(() => window.fmp.apply({ lesson: 'diffusion', field: 'sde', play: true }));
    await page.check('#langevin');
    assert.equal(await page.evaluate(() => window.fmp.state().play), false, 'Langevin freezes time');
    await page.uncheck('#langevin');
    assert.equal(await page.evaluate(() => window.fmp.state().play), true, 'unticking it plays time again');
    // Paused at t = 0.3 before: Langevin at another time, then back to t = 0.3, still paused.
    await page.evaluate(() => window.fmp.apply({ play: false, t: 0.3 }));
    await page.check('#langevin');
    await page.evaluate(() => window.fmp.apply({ t: 0.8 }));
    await page.uncheck('#langevin');
    assert.deepEqual(await page.evaluate(() => [window.fmp.state().play, window.fmp.state().t]), [false, 0.3]);
    // Leaving the lesson while Langevin runs: time plays again in the next lesson.
    await page.evaluate(() => window.fmp.apply({ play: true }));
    await page.check('#langevin');
    await page.evaluate(() => window.fmp.apply({ lesson: 'guidance', field: 'guided' }));
    assert.equal(await page.evaluate(() => window.fmp.state().play), true, 'lesson 4 does not sit paused');
    await page.waitForFunction(() => window.fmp.state().t > 0.05 || window.fmp.lastFrame().t > 0.05);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

test('an action that restarts training says so: the memorization check, the width, the lesson\'s network',
  async () => {
    const page = await openPage(browser.context);
    await ready(page);
    await page.evaluate(() => window.fmp.apply({ lesson: 'fm', field: 'marginal' }));
    await page.click('#train');
    await page.waitForFunction(() => window.fmp.lastStep() > 300, null, { timeout: 60000 });
    await page.check('#memo');
    await page.waitForFunction(() => /memorization check \(on\): a new network/.test(
      document.getElementById('message-text').textContent));
    assert.match(await message(page),
      /^The memorization check \(on\): a new network, so training restarts from step 0 \(the network trained for [\d,]+ steps is discarded\)\.$/);
    assert.ok(await page.isVisible('#message'));
    await page.waitForFunction(() => window.fmp.lastStep() > 100, null, { timeout: 60000 });
    await page.selectOption('#width', '32');
    assert.match(await message(page), /^The width \(32\): a new network, so training restarts from step 0/);
    await page.waitForFunction(() => window.fmp.lastStep() > 100, null, { timeout: 60000 });
    await page.click('#train'); // paused: the message says how to go on
    await page.waitForFunction(() => !window.fmp.isTraining()
      && Number(document.getElementById('steps').textContent.replace(/,/g, '')) > 0);
    await page.evaluate(() => window.fmp.apply({ lesson: 'guidance', field: 'guided' }));
    assert.match(await message(page), /^Opening .*, which trains another kind of network: a new network, .*press Train/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

test('the first-visit hint shows only while nothing is trained or training, and names the device\'s input',
  async () => {
    for (const [name, options, input] of [
      ['desktop', {}, /press Train \(Space\)/],
      ['phone', { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true }, /^Tap Draw .*tap Train/],
    ]) {
      const b = await launch(options);
      try {
        const page = await openPage(b.context);
        await ready(page);
        assert.ok(await page.isVisible('#hint'), `${name}: the hint greets a first visit`);
        assert.match(await page.textContent('#hint'), input);
        if (name === 'phone') {
          assert.doesNotMatch(await page.textContent('#hint'), /Space/);
          await page.screenshot({ path: join(ARTIFACTS, 'hint-phone.png') });
          continue;
        }
        // The tour starts training at its fifth step; closed while training runs, no hint.
        await page.click('#tour-btn');
        for (let i = 0; i < 4; i++) await page.click('#tour-next');
        await page.waitForFunction(() => window.fmp.isTraining() && window.fmp.lastStep() > 50, null,
          { timeout: 60000 });
        await page.click('#tour-skip');
        assert.ok(await page.isHidden('#hint'), 'no hint while training runs');
        await page.click('#train'); // paused, but a network is trained: still no hint
        assert.ok(await page.isHidden('#hint'), 'no hint once a network is trained');
        assert.deepEqual(page.errors, []);
      } finally {
        await b.close();
      }
    }
  });

test('each lesson offers its own tour on first entry, once', async () => {
  const fresh = await launch();
  try {
    const page = await openPage(fresh.context, undefined, { newcomer: true });
    await ready(page);
    await page.waitForSelector('#tour:not([hidden])');
    assert.match(await page.textContent('#tour-title'), /Noise and data/);
    await page.click('#tour-skip');
    const titles = { straight: /Why the learned paths bend/, diffusion: /Noise that keeps the marginals/,
      guidance: /A drawing in classes/ };
    for (const [lesson, title] of Object.entries(titles)) {
      await page.click(`input[name=lesson][value=${lesson}]`);
      await page.waitForSelector('#tour:not([hidden])');
      assert.match(await page.textContent('#tour-title'), title, lesson);
      await page.click('#tour-skip');
    }
    // Once: entering them again, or reloading, offers nothing.
    for (const lesson of ['fm', 'straight', 'diffusion', 'guidance']) {
      await page.click(`input[name=lesson][value=${lesson}]`);
      assert.ok(await page.isHidden('#tour'), `${lesson} again`);
    }
    await page.reload();
    await ready(page);
    assert.ok(await page.isHidden('#tour'));
    assert.deepEqual(page.errors, []);
  } finally {
    await fresh.close();
  }
});
