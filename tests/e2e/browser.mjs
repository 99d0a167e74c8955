// Shared set-up for the end-to-end tests: one headless Debian Chromium per test file, a page
// that records console errors, and the app URL that `cargo xtask test` serves.
import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_URL = process.env.FMP_URL;
if (!APP_URL) {
  throw new Error('FMP_URL is not set: run the end-to-end tests with `cargo xtask test`');
}

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches Chromium with a fresh profile; returns { context, close }. */
export async function launch(options = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'fmp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a page that collects console errors and uncaught exceptions into `page.errors`.
 * Unless `newcomer` is set, the browser counts as having seen the guided tour (which opens by
 * itself on a first visit).
 */
export async function openPage(context, url = APP_URL, { newcomer = false } = {}) {
  const page = await context.newPage();
  if (!newcomer) await page.addInitScript(() => localStorage.setItem('fmp:toured', '1'));
  page.errors = [];
  page.on('console', (msg) => { if (msg.type() === 'error') page.errors.push(msg.text()); });
  page.on('pageerror', (err) => page.errors.push(String(err)));
  await page.goto(url);
  return page;
}

/** Counts canvas pixels that differ from the top-left pixel (i.e. something was drawn). */
export async function drawnPixels(page, selector) {
  return page.$eval(selector, (canvas) => {
    const ctx = canvas.getContext('2d');
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - data[0]) + Math.abs(data[i + 1] - data[1]) + Math.abs(data[i + 2] - data[2]) > 30) n++;
    }
    return n;
  });
}

/** Waits until the app has started (wasm loaded, state restored, first frame scheduled). */
export const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });

/** The number of points in the drawn cloud. */
export const count = (page) => page.evaluate(() => window.fmp.count());

/** Page coordinates of world point (x, y) on the main stage (world box [-3.5, 3.5]^2, y up). */
export async function stagePoint(page, x, y) {
  const box = await page.locator('#stage').boundingBox();
  const half = 3.5;
  return [box.x + ((x + half) / (2 * half)) * box.width, box.y + ((half - y) / (2 * half)) * box.height];
}

/** A digest of the main stage's pixels, to tell two drawings apart. */
export const stageDigest = (page) => page.$eval('#stage', (c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0;
  for (let i = 0; i < d.length; i += 16) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
  return h;
});

/**
 * Waits until the app has drawn `n` more frames (everything applied before the call is on
 * the stage then: each frame draws the whole state).
 */
export async function nextFrames(page, n = 2) {
  const f0 = await page.evaluate(() => window.fmp.frames());
  await page.waitForFunction(([f0, n]) => window.fmp.frames() >= f0 + n, [f0, n]);
}

/**
 * Waits until a frame shows view `field` (and, when given, time t to two decimals), with
 * every field of it computed for the current inputs.
 */
export async function shows(page, field, t = null) {
  await page.waitForFunction(([field, t]) => {
    const f = window.fmp.lastFrame();
    return f.field === field && (t === null || Math.abs(f.t - t) < 5e-3) && f.pending === 0;
  }, [field, t]);
  await nextFrames(page, 1);
}

/** Waits until training has paused and a frame shows the network's final weights. */
export async function settled(page) {
  await page.waitForFunction(() => window.fmp.trainingSettled()
    && window.fmp.lastFrame().modelVersion === window.fmp.state().modelVersion && window.fmp.lastFrame().pending === 0);
}

/** Pauses time at t and waits until a frame shows it. */
export async function pauseAt(page, t) {
  await page.evaluate((t) => window.fmp.apply({ play: false, t }), t);
  await page.waitForFunction((t) => Math.abs(window.fmp.lastFrame().t - t) < 1e-9, t);
}

/** Counts the stage's coloured pixels (particles, arrows, heatmaps): the background, grid and data are grey. */
export const colouredPixels = (page, selector = '#stage') => page.$eval(selector, (canvas) => {
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 60) n++;
  }
  return n;
});

/** Sprays a horizontal stroke at height y (world units) from x0 to x1; resolves when the mouse is up. */
export async function stroke(page, y, x0 = -2.5, x1 = 2.5) {
  const [a, b] = await stagePoint(page, x0, y);
  const [c, d] = await stagePoint(page, x1, y);
  await page.mouse.move(a, b);
  await page.mouse.down();
  await page.mouse.move(c, d, { steps: 15 });
  await page.mouse.up();
}

/** Waits until the drawing is saved and the address bar holds it. */
export const synced = (page) => page.waitForFunction(() => window.fmp.urlCurrent()
  && JSON.parse(localStorage.getItem('fmp:v1') ?? 'null')?.points !== undefined);

/** n points on a circle of radius r, interleaved. */
export const ring = (n, r) => Array.from({ length: 2 * n },
  (_, i) => (i % 2 ? Math.sin : Math.cos)((Math.floor(i / 2) * 2 * Math.PI) / n) * r);
