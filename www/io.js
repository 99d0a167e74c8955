// @ts-check
// Getting drawings in and out: the start-up state (a shared link, else the last visit, else a
// preset), Share links, CSV import and export, PNG export. Bad input never replaces the drawing.
import { parse_csv, to_csv, fit_to_box } from './pkg/fmp.js';
import { WORLD, MAX_POINTS, defaults, toHash, fromHash, messageOf } from './state.js';
import { $, $input, showMessage, download } from './ui.js';

/** @typedef {import('./state.js').Props} Props */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./draw.js').Cloud} Cloud */

/**
 * The state to start from: { settings, points | null, problem | null, fromLink }.
 * @param {Props} props
 * @param {import('./persist.js').Persistence} persist
 * @returns {{ settings: Record<string, any>, points: Float32Array | null, problem: string | null, fromLink: boolean }}
 */
export function startupState(props, persist) {
  /** @type {string | null} */
  let problem = null;
  if (location.hash.length > 1) {
    try { return { ...fromHash(props, location.hash), problem, fromLink: true }; } catch (err) {
      problem = `This link could not be opened (${messageOf(err)}). Your drawing is unchanged.`;
    }
  }
  try {
    const saved = persist.load();
    if (saved) {
      return { settings: saved.settings, points: saved.points, problem: problem ?? saved.problem, fromLink: false };
    }
  } catch (err) {
    problem ??= `The saved drawing could not be read (${messageOf(err)}); starting from a preset.`;
  }
  return { settings: defaults(props), points: null, problem, fromLink: false };
}


/**
 * The app as io sees it.
 * @typedef {{ props: Props, store: Store, cloud: Cloud, stageCanvas: HTMLCanvasElement,
 *   open: (settings: Record<string, any>, points: Float32Array, why: string) => void,
 *   replacePoints: (points: Float32Array, why: string) => void }} IoApp
 *   open(): replaces settings and drawing (a pasted link); replacePoints(): the drawing only
 *   (an import); both keep the old drawing among the recent ones
 */

/**
 * Wires Share, the hashchange of a pasted link, CSV import/export and PNG export.
 * @param {IoApp} app
 */
export function attachIo(app) {
  $('share').addEventListener('click', async () => {
    history.replaceState(null, '', toHash(app.props, app.store.settings(), app.cloud.points()));
    try {
      await navigator.clipboard.writeText(location.href);
      showMessage('Link copied: it restores this drawing and these settings.');
    } catch {
      showMessage('The link is in the address bar: it restores this drawing and these settings.');
    }
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.length <= 1) return;
    try {
      const { settings, points } = fromHash(app.props, location.hash);
      app.open(settings, points, 'replaced by a link');
    } catch (err) {
      showMessage(`This link could not be opened (${messageOf(err)}). Your drawing is unchanged.`, 'error');
    }
  });
  $('export-csv').addEventListener('click', () => {
    download(new Blob([to_csv(app.cloud.points())], { type: 'text/csv' }), 'points.csv');
  });
  $input('import-csv').addEventListener('change', async (ev) => {
    const input = /** @type {HTMLInputElement} */ (ev.target);
    const file = input.files?.[0];
    input.value = '';
    if (file) await importCsv(app, file.name, () => file.text(), file.size);
  });
  $('export-png').addEventListener('click', () => {
    app.stageCanvas.toBlob((blob) => { if (blob) download(blob, 'flow-matching.png'); }, 'image/png');
  });
}

/**
 * Imports CSV text as the new cloud, or explains why not and keeps the drawing.
 * @param {{ replacePoints: (points: Float32Array, why: string) => void }} app
 * @param {string} name
 * @param {() => Promise<string>} readText
 * @param {number} size
 */
export async function importCsv(app, name, readText, size) {
  try {
    if (size > 5e6) throw new Error('the file is larger than 5 MB');
    let pts = parse_csv(await readText());
    if (pts.length / 2 > MAX_POINTS) throw new Error(`it holds ${pts.length / 2} points; the most is ${MAX_POINTS}`);
    const outside = pts.some((v) => Math.abs(v) > WORLD * 0.95);
    if (outside) pts = fit_to_box(pts, WORLD * 0.85);
    app.replacePoints(pts, `replaced by ${name}`);
    const n = pts.length / 2;
    showMessage(`Imported ${n.toLocaleString('en')} point${n === 1 ? '' : 's'} from ${name}${outside ? ' (rescaled to fit the stage)' : ''}.`);
    return true;
  } catch (err) {
    showMessage(`Could not import ${name}: ${messageOf(err)}. Your drawing is unchanged.`, 'error');
    return false;
  }
}
