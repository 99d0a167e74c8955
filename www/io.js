// @ts-check
// Getting drawings in and out: the start-up state (a shared link, else the last visit, else a
// preset), Share links, CSV import and export, PNG export. Bad input never replaces the drawing.
import { parse_labelled_csv, to_csv, to_labelled_csv, fit_to_box } from './pkg/fmp.js';
import { MAX_POINTS, LIMITS } from './limits.js';
import { defaults, toHash, fromHash, encodeDrawing, messageOf } from './state.js';
import { $, $input, showMessage, download } from './ui.js';

/** @typedef {import('./state.js').Props} Props */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./draw.js').Cloud} Cloud */

/**
 * The state to start from: { settings, points | null, labels | null, problem | null, fromLink }.
 * @param {Props} props
 * @param {import('./persist.js').Persistence} persist
 * @returns {{ settings: Record<string, any>, points: Float32Array | null, labels: Uint8Array | null,
 *   problem: string | null, fromLink: boolean }}
 */
export function startupState(props, persist) {
  /** @type {string | null} */
  let problem = null;
  // A reload opens this tab's latest state when the address bar still holds its older link.
  const hash = persist.tabHash(location.hash);
  if (hash.length > 1) {
    try {
      const link = fromHash(props, hash);
      // The stored drawing a link replaces is listed among the recent drawings at once.
      persist.supersede(encodeDrawing(link.points, link.labels), 'replaced by a link');
      return { ...link, problem, fromLink: true };
    } catch (err) {
      problem = `This link could not be opened (${messageOf(err)}). Your drawing is unchanged.`;
    }
  }
  try {
    const saved = persist.load();
    if (saved) {
      return {
        settings: saved.settings, points: saved.points, labels: saved.labels,
        problem: problem ?? saved.problem, fromLink: false,
      };
    }
  } catch (err) {
    problem ??= `The saved drawing could not be read (${messageOf(err)}); starting from a preset.`;
  }
  return { settings: defaults(props), points: null, labels: null, problem, fromLink: false };
}


/**
 * The app as io sees it.
 * @typedef {{ props: Props, store: Store, cloud: Cloud, stageCanvas: HTMLCanvasElement,
 *   open: (settings: Record<string, any>, points: Float32Array, why: string, labels?: Uint8Array) => void,
 *   replacePoints: (points: Float32Array, why: string, labels?: Uint8Array) => void }} IoApp
 *   open(): replaces settings and drawing (a pasted link); replacePoints(): the drawing only
 *   (an import); both keep the old drawing among the recent ones
 */

/**
 * Wires Share, the hashchange of a pasted link, CSV import/export and PNG export.
 * @param {IoApp} app
 */
export function attachIo(app) {
  $('share').addEventListener('click', async () => {
    history.replaceState(null, '', toHash(app.props, app.store.settings(), app.cloud.points(), app.cloud.labels()));
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
      const { settings, points, labels } = fromHash(app.props, location.hash);
      app.open(settings, points, 'replaced by a link', labels);
    } catch (err) {
      showMessage(`This link could not be opened (${messageOf(err)}). Your drawing is unchanged.`, 'error');
    }
  });
  $('export-csv').addEventListener('click', () => {
    // A drawing in classes keeps them in a third column (x,y,label); else plain x,y.
    const { cloud } = app;
    const csv = cloud.labelled() ? to_labelled_csv(cloud.points(), cloud.labels()) : to_csv(cloud.points());
    download(new Blob([csv], { type: 'text/csv' }), 'points.csv');
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
 * Imports CSV text (x,y or x,y,label per line) as the new cloud, or explains why not and
 * keeps the drawing.
 * @param {{ replacePoints: (points: Float32Array, why: string, labels?: Uint8Array) => void }} app
 * @param {string} name
 * @param {() => Promise<string>} readText
 * @param {number} size
 */
export async function importCsv(app, name, readText, size) {
  try {
    if (size > LIMITS.max_file_bytes) throw new Error(`the file is larger than ${LIMITS.max_file_bytes / 1e6} MB`);
    const triples = parse_labelled_csv(await readText());
    const n = triples.length / 3;
    /** @type {Float32Array} */
    let pts = new Float32Array(2 * n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      pts[2 * i] = triples[3 * i];
      pts[2 * i + 1] = triples[3 * i + 1];
      labels[i] = triples[3 * i + 2] || 1; // 0: the file has no labels
    }
    if (pts.length / 2 > MAX_POINTS) throw new Error(`it holds ${pts.length / 2} points; the most is ${MAX_POINTS}`);
    const outside = pts.some((v) => Math.abs(v) > LIMITS.rescale_above);
    if (outside) pts = fit_to_box(pts, LIMITS.rescale_to);
    app.replacePoints(pts, `replaced by ${name}`, labels);
    const classes = new Set(labels).size;
    const labelled = triples.some((v, i) => i % 3 === 2 && v > 0);
    showMessage(`Imported ${n.toLocaleString('en')} point${n === 1 ? '' : 's'}`
      + `${labelled ? ` in ${classes} class${classes === 1 ? '' : 'es'}` : ''} from ${name}`
      + `${outside ? ' (rescaled to fit the stage)' : ''}.`);
    return true;
  } catch (err) {
    showMessage(`Could not import ${name}: ${messageOf(err)}. Your drawing is unchanged.`, 'error');
    return false;
  }
}
