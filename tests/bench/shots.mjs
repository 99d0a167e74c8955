// Screenshots of the page at 1280x800, on a phone (390x844) and at 200 % zoom, for looking at
// the page by hand (not in CI): node bench/shots.mjs /tmp/prefix, with FMP_URL set; NEW=1 for a
// first visit (the tour opens), TRAIN=1 to train, WAIT=ms before the picture.
import { launch, openPage, APP_URL } from '../e2e/browser.mjs';
const out = process.argv[2] ?? '/tmp/shot';
const sizes = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 },
  zoom200: { viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 },
};
for (const [name, opts] of Object.entries(sizes)) {
  const b = await launch(opts);
  const page = await openPage(b.context, APP_URL, { newcomer: process.env.NEW === '1' });
  await page.waitForSelector('body[data-ready="1"]');
  if (process.env.TRAIN === '1') await page.click('#train');
  await page.waitForTimeout(Number(process.env.WAIT ?? 3000));
  await page.screenshot({ path: `${out}-${name}.png` });
  await b.close();
}
