import init, { core_version, preset_points, draw_scatter } from './pkg/fmp.js';

const status = document.getElementById('status');
try {
  await init();
  const points = preset_points('moons', 1000, 1);
  draw_scatter(document.getElementById('stage'), points, 3);
  status.textContent = `wasm core ${core_version()}: ${points.length / 2} points`;
  document.body.dataset.ready = '1';
} catch (err) {
  status.textContent = `Could not start: ${err}`;
}
