// @ts-check
// "Export model": the trained network as one zip for Python (model.safetensors, config.json,
// drawing.csv; written by the wasm core's export_model, read by python/fmp_model.py). The
// config records how this page sampled and the W2 of those samples to the drawing, so the
// Python side can check that it samples the same distribution.
import { export_model, w2_to, noise_points } from './pkg/fmp.js';
import { $, download, showMessage } from './ui.js';
import { messageOf } from './state.js';
import { announce } from './announce.js';

/**
 * The samples the last export measured: its noise `x0` and their ends `x1` (interleaved).
 * @type {{ x0: Float32Array, x1: Float32Array } | null}
 */
let lastSamples = null;
/** The noise and samples of the last export (for the test hook). */
export const exportedSamples = () => lastSamples;

/**
 * @param {{ session: import('./session.js').Session, cloud: import('./draw.js').Cloud,
 *   store: import('./store.js').Store, fields: any, usage: (name: string) => string | null }} app
 *   usage(name): how Python uses the exported network, when the open lesson says (a
 *   class-conditional network is sampled for a class)
 */
export function attachModelExport({ session, cloud, store, fields, usage: lessonUsage }) {
  $('export-model').addEventListener('click', () => {
    const w = session.last.weights;
    if (!w) {
      showMessage('There is no trained network to export yet: press Train (or Step) first. Your drawing is '
        + 'unchanged.', 'error');
      return;
    }
    if (cloud.count === 0) {
      showMessage('The drawing is empty: draw some points and train before exporting the network.', 'error');
      return;
    }
    try {
      const s = store.state;
      // The exported weights' own samples, here and now (the page's Fields holds the newest
      // weights, those exported): the particle count (at most the drawing's, at most 2,048),
      // the page's noise, solver and steps; their W2 to the drawing is what Python's samples
      // should reproduce.
      const n = Math.min(s.particles, cloud.count, 2048);
      const x0 = noise_points(n, s.seed);
      const flow = fields.flow_begin('learned', x0, s.solver, s.odeSteps);
      let all;
      try { all = fields.flow_advance(flow, s.odeSteps); } finally { flow.free(); }
      const x1 = all.slice(all.length - 2 * n);
      let w2 = NaN;
      if (x1.every(Number.isFinite)) w2 = w2_to(x1, cloud.view());
      lastSamples = { x0, x1 };
      const w2Samples = n;
      const c = w.config;
      const bytes = export_model(c.width, c.depth, c.timeFeatures, w.weights.slice(), c.schedule, w.steps ?? 0,
        c.lr, c.batch, c.seed, s.solver, s.odeSteps, w2, w2Samples, cloud.points(),
        c.labelled ? cloud.labels() : new Uint8Array(0));
      const name = `fmp-model-${c.schedule}-${w.steps ?? 0}-steps.zip`;
      download(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)], { type: 'application/zip' }), name);
      const w2Text = Number.isFinite(w2)
        ? ` The page's ${w2Samples.toLocaleString('en')} learned samples at t = 1 (${s.solver}, ${s.odeSteps} steps) `
          + `are at W2 ${w2.toFixed(4)} from the drawing; Python's samples should be too.`
        : ' (The learned samples were not finite, so no W2 was recorded: the network diverged.)';
      const usage = lessonUsage(name) ?? `m = load("${name}")`;
      showMessage(`Exported ${name}: model.safetensors, config.json and drawing.csv.${w2Text} In Python: from `
        + `fmp_model import load; ${usage}.`);
      announce(`Exported the network as ${name}`);
    } catch (err) {
      showMessage(`Could not export the network: ${messageOf(err)}. Your drawing is unchanged.`, 'error');
    }
  });
}
