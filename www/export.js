// @ts-check
// "Export model": the trained network as one zip for Python (model.safetensors, config.json,
// drawing.csv; written by the wasm core's export_model, read by python/fmp_model.py). The
// config records how this page sampled and the W2 of those samples to the drawing, so the
// Python side can check that it samples the same distribution.
import { export_model, w2_to } from './pkg/fmp.js';
import { $, download, showMessage } from './ui.js';
import { messageOf } from './state.js';
import { announce } from './announce.js';

/**
 * @param {{ session: import('./session.js').Session, cloud: import('./draw.js').Cloud,
 *   store: import('./store.js').Store }} app
 */
export function attachModelExport({ session, cloud, store }) {
  $('export-model').addEventListener('click', () => {
    const w = session.last.weights;
    if (!w) {
      showMessage('There is no trained network to export yet: press Train (or Step) first. Your drawing is unchanged.', 'error');
      return;
    }
    if (cloud.count === 0) {
      showMessage('The drawing is empty: draw some points and train before exporting the network.', 'error');
      return;
    }
    try {
      const s = store.state;
      // W2 of the page's learned particles at t = 1 to the drawing (when they are complete
      // and of these weights' generation): the figure Python's samples should reproduce.
      const learned = session.traj.learned;
      let w2 = NaN, w2Samples = 0;
      if (learned?.complete()) {
        const final = learned.final();
        if (final.every(Number.isFinite)) {
          w2 = w2_to(final, cloud.view());
          w2Samples = Math.min(learned.n, cloud.count, 2048);
        }
      }
      const c = w.config;
      const bytes = export_model(c.width, c.depth, c.timeFeatures, w.weights.slice(), c.schedule, w.steps ?? 0,
        c.lr, c.batch, c.seed, s.solver, s.odeSteps, w2, w2Samples, cloud.points());
      const name = `fmp-model-${c.schedule}-${w.steps ?? 0}-steps.zip`;
      download(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)], { type: 'application/zip' }), name);
      const w2Text = Number.isFinite(w2)
        ? ` The page's ${w2Samples.toLocaleString('en')} learned samples at t = 1 (${s.solver}, ${s.odeSteps} steps) are at W2 ${w2.toFixed(4)} from the drawing; Python's samples should be too.`
        : ' (The learned particles were not complete, so no W2 was recorded.)';
      showMessage(`Exported ${name}: model.safetensors, config.json and drawing.csv.${w2Text} In Python: from fmp_model import load; m = load("${name}").`);
      announce(`Exported the network as ${name}`);
    } catch (err) {
      showMessage(`Could not export the network: ${messageOf(err)}. Your drawing is unchanged.`, 'error');
    }
  });
}
