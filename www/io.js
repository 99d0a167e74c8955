// Getting drawings in and out: the start-up state (a shared link, else the last visit, else a
// preset), Share links, CSV import and export, PNG export. Bad input never replaces the drawing.
import { parse_csv, to_csv, fit_to_box } from './pkg/fmp.js';
import { WORLD, MAX_POINTS, defaults, toHash, fromHash, load } from './state.js';
import { $, showMessage, download } from './ui.js';

/** The state to start from: { settings, points | null, problem | null, fromLink }. */
export function startupState() {
  let problem = null;
  if (location.hash.length > 1) {
    try { return { ...fromHash(location.hash), problem, fromLink: true }; } catch (err) {
      problem = `This link could not be opened (${err.message}). Your drawing is unchanged.`;
    }
  }
  try {
    const saved = load();
    if (saved) return { ...saved, problem, fromLink: false };
  } catch (err) {
    problem ??= `The saved drawing could not be read (${err.message}); starting from a preset.`;
  }
  return { settings: defaults(), points: null, problem, fromLink: false };
}

/**
 * Wires Share, the hashchange of a pasted link, CSV import/export and PNG export.
 * app: { settings, cloud, apply(settingsPatch), beforeShare(), stageCanvas }
 */
export function attachIo(app) {
  $('share').addEventListener('click', async () => {
    app.beforeShare();
    history.replaceState(null, '', toHash(app.settings, app.cloud.points()));
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
      const { settings, points } = fromHash(location.hash);
      app.cloud.replace(points);
      app.apply(settings);
    } catch (err) {
      showMessage(`This link could not be opened (${err.message}). Your drawing is unchanged.`, 'error');
    }
  });
  $('export-csv').addEventListener('click', () => {
    download(new Blob([to_csv(app.cloud.points())], { type: 'text/csv' }), 'points.csv');
  });
  $('import-csv').addEventListener('change', async (ev) => {
    const file = ev.target.files[0];
    ev.target.value = '';
    if (file) await importCsv(app, file.name, () => file.text(), file.size);
  });
  $('export-png').addEventListener('click', () => {
    app.stageCanvas.toBlob((blob) => download(blob, 'flow-matching.png'), 'image/png');
  });
}

/** Imports CSV text as the new cloud, or explains why not and keeps the drawing. */
export async function importCsv(app, name, readText, size) {
  try {
    if (size > 5e6) throw new Error('the file is larger than 5 MB');
    let pts = parse_csv(await readText());
    if (pts.length / 2 > MAX_POINTS) throw new Error(`it holds ${pts.length / 2} points; the most is ${MAX_POINTS}`);
    const outside = pts.some((v) => Math.abs(v) > WORLD * 0.95);
    if (outside) pts = fit_to_box(pts, WORLD * 0.85);
    app.cloud.replace(pts);
    showMessage(`Imported ${pts.length / 2} points from ${name}${outside ? ' (rescaled to fit the stage)' : ''}.`);
    return true;
  } catch (err) {
    showMessage(`Could not import ${name}: ${err.message ?? err}. Your drawing is unchanged.`, 'error');
    return false;
  }
}
