// Wiring only: creates the modules and connects them. The training worker trains, the flow
// worker integrates trajectories, the page's own wasm Fields evaluates arrows and heatmaps,
// and the stage plays everything back at time t.
import init, { Fields, preset_points, schedule_at, parse_csv, to_csv, fit_to_box, default_config } from './pkg/fmp.js';
import { WORLD, MAX_POINTS, defaults, setCoreDefaults, toHash, fromHash, save, load } from './state.js';
import { Cloud, attachPointer } from './draw.js';
import { Trajectory, Clock } from './particles.js';
import { Stage } from './stage.js';
import { LossChart } from './chart.js';
import { WorkerClient } from './clients.js';
import { $, showMessage, hideMessage, bindControl, download, captionFor, setLegend, COLORS } from './ui.js';

await init();
const CORE = JSON.parse(default_config()); // { width, depth, time_features, batch, lr }
const fields = new Fields();
setCoreDefaults(CORE);

// ---- state: a shared link wins, then what the last visit saved, then a preset ----
let settings = defaults();
let initialPoints = null;
let startupProblem = null;
if (location.hash.length > 1) {
  try { ({ settings, points: initialPoints } = fromHash(location.hash)); } catch (err) {
    startupProblem = `This link could not be opened (${err.message}). Your drawing is unchanged.`;
  }
}
if (!initialPoints) {
  try {
    const saved = load();
    if (saved) ({ settings, points: initialPoints } = saved);
  } catch (err) {
    startupProblem ??= `The saved drawing could not be read (${err.message}); starting from a preset.`;
  }
}
const firstVisit = !initialPoints;
if (!initialPoints) initialPoints = preset_points(settings.preset, 1000, settings.seed);

const cloud = new Cloud(initialPoints);
const clock = new Clock();
clock.set(0);
const chart = new LossChart($('loss'));
const stages = [new Stage($('stage'), fields), new Stage($('stage2'), fields)];
let tool = 'spray';
let traj = { learned: null, exact: null };
let versions = { cloud: 0, model: 0 };
let training = false;
let diverged = false;
let modelConfig = null;
let inspector = null;
let lastCaption = '';

// ---- the training worker ----
const trainerConfig = () => ({
  width: settings.width, depth: settings.depth, timeFeatures: CORE.time_features,
  batch: settings.batch, lr: settings.lr, schedule: settings.schedule, seed: settings.seed,
});
const trainWorker = new WorkerClient(new URL('./train.worker.js', import.meta.url), onTrainMessage, (reason) => {
  showMessage(`The training worker stopped (${reason}); a new one started with your drawing.`, 'error');
  training = false;
  resetTraining();
});
function resetTraining() {
  chart.reset();
  diverged = false;
  if (cloud.count === 0) return updateTrainButtons();
  trainWorker.post({ type: 'reset', config: trainerConfig(), points: cloud.points() });
  if (training) trainWorker.post({ type: 'play' });
  updateTrainButtons();
}
function onTrainMessage(m) {
  switch (m.type) {
    case 'progress':
      $('steps').textContent = m.steps.toLocaleString('en');
      $('rate').textContent = Math.round(m.stepsPerSec).toLocaleString('en');
      chart.push(m.steps, m.cfm, m.fm, m.cos);
      break;
    case 'weights':
      modelConfig = m.config;
      fields.set_model(m.config.width, m.config.depth, m.config.timeFeatures, m.weights);
      versions.model += 1;
      flowWorker.post({ type: 'model', config: m.config, weights: m.weights }, [m.weights.buffer]);
      break;
    case 'diverged':
      training = false;
      diverged = true;
      updateTrainButtons();
      showMessage(`Training diverged at step ${m.steps}: the loss exploded (learning rate ${settings.lr} is too large?). Lower the learning rate and press Reset; your drawing is kept.`, 'error');
      break;
    case 'error':
      if (m.fatal) trainWorker.restart(m.message);
      else { training = false; updateTrainButtons(); showMessage(`Training stopped: ${m.message}`, 'error'); }
      break;
  }
}

// ---- the flow worker ----
const flowWorker = new WorkerClient(new URL('./flow.worker.js', import.meta.url), (m) => {
  if (m.type === 'traj') {
    traj[m.kind] = new Trajectory(m.frames, m.n, m.steps);
  } else if (m.type === 'begin') {
    traj[m.kind] = Trajectory.streamed(m.first, m.n, m.steps);
  } else if (m.type === 'frames') {
    const tr = traj[m.kind];
    tr?.append(m.start, m.data);
    if (m.kind === 'exact') $('flow-status').textContent = tr && !tr.complete() ? `exact flow: computed to t = ${tr.reach().toFixed(2)}` : '';
  } else if (m.type === 'error') {
    showMessage(`Could not compute the particle flow: ${m.message}`, 'error');
  }
}, (reason) => {
  showMessage(`The flow worker stopped (${reason}); restarted.`, 'error');
  sendFlowSetup();
  sendCloud();
});
function sendFlowSetup() {
  flowWorker.post({ type: 'setup', particles: settings.particles, seed: settings.seed, solver: settings.solver, steps: settings.odeSteps });
}
function sendCloud() {
  const pts = cloud.points();
  fields.set_points(pts);
  fields.set_schedule(settings.schedule);
  versions.cloud += 1;
  flowWorker.post({ type: 'cloud', points: pts, schedule: settings.schedule });
  return pts;
}

// ---- cloud edits ----
let cloudTimer = null;
cloud.onChange(() => {
  $('count').textContent = `${cloud.count.toLocaleString('en')} point${cloud.count === 1 ? '' : 's'}`;
  $('hint').hidden = true;
  if (settings.z >= cloud.count) settings.z = -1;
  clearTimeout(cloudTimer);
  cloudTimer = setTimeout(cloudSettled, 120);
});
function cloudSettled() {
  const pts = sendCloud();
  save(settings, pts);
  if (cloud.count === 0) {
    if (training) { training = false; trainWorker.post({ type: 'pause' }); }
    showMessage('The cloud is empty: draw some points (or load a preset) to train.');
  } else if (!modelConfig) {
    resetTraining();
  } else {
    trainWorker.post({ type: 'points', points: pts });
  }
  updateTrainButtons();
}

// ---- controls ----
function updateTrainButtons() {
  const empty = cloud.count === 0;
  $('train').textContent = training ? 'Pause' : 'Train';
  $('train').disabled = empty || diverged;
  $('step').disabled = empty || training || diverged;
  $('train').title = empty ? 'Draw some points first' : diverged ? 'Training diverged: press Reset' : 'Train (Space)';
}
function toggleTraining() {
  if (cloud.count === 0 || diverged) return;
  training = !training;
  trainWorker.post({ type: training ? 'play' : 'pause' });
  $('hint').hidden = true;
  updateTrainButtons();
}
$('train').addEventListener('click', toggleTraining);
$('step').addEventListener('click', () => trainWorker.post({ type: 'step', n: 1 }));
$('reset').addEventListener('click', () => { hideMessage(); resetTraining(); });

const num = Number;
const persist = () => save(settings, cloud.points());
const showers = [];
const bind = (name, parse, onChange) => showers.push(bindControl(name, settings, parse, (n, v) => { onChange(n, v); persist(); }));
for (const name of ['batch', 'width', 'depth']) bind(name, num, () => resetTraining());
bind('schedule', String, () => { sendCloud(); resetTraining(); });
bind('lr', num, (n, v) => { trainWorker.post({ type: 'lr', lr: v }); });
for (const name of ['solver', 'odeSteps', 'particles']) bind(name, name === 'solver' ? String : num, sendFlowSetup);
bind('show', String, layoutStages);
bind('field', String, (n, v) => { if (v === 'conditional' && settings.z < 0) { setTool('pick'); showMessage('Click a data point on the stage to choose z.'); } });
bind('heat', Boolean, () => {});
bind('trails', Boolean, () => {});
bind('brushSize', num, () => {});
bind('brushRate', num, () => {});
showers.push(bindControl('preset', settings, String, persist));

function setTool(name) {
  tool = name;
  for (const r of document.querySelectorAll('input[name=tool]')) r.checked = r.value === name;
  inspector = null;
}
for (const r of document.querySelectorAll('input[name=tool]')) r.addEventListener('change', () => setTool(r.value));
$('undo').addEventListener('click', () => cloud.undo());
$('clear').addEventListener('click', () => cloud.clear());
$('load-preset').addEventListener('click', () => cloud.replace(preset_points(settings.preset, 1000, settings.seed)));

function layoutStages() {
  const side = settings.show === 'side';
  $('stages').classList.toggle('side', side);
  $('stage2-fig').hidden = !side;
  $('stage-label').hidden = !side;
}

// Time slider and its play button.
$('time').addEventListener('input', () => { clock.playing = false; clock.set(num($('time').value)); });
const toggleTime = () => { clock.playing = !clock.playing; };
$('time-play').addEventListener('click', toggleTime);

// Keyboard: Space trains, T plays time, V cycles the field view, Ctrl+Z undoes.
const FIELD_CYCLE = ['none', 'learned', 'marginal', 'conditional', 'error'];
document.addEventListener('keydown', (ev) => {
  const tag = ev.target.tagName;
  const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON';
  if (ev.key === ' ' && !typing) { ev.preventDefault(); toggleTraining(); }
  else if ((ev.key === 't' || ev.key === 'T') && !typing) toggleTime();
  else if ((ev.key === 'v' || ev.key === 'V') && !typing) {
    settings.field = FIELD_CYCLE[(FIELD_CYCLE.indexOf(settings.field) + 1) % FIELD_CYCLE.length];
    showers.forEach((s) => s());
  } else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'z') { ev.preventDefault(); cloud.undo(); }
});

// Drawing on the stage.
attachPointer($('stage'), {
  view: stages[0].view,
  cloud,
  tool: () => tool,
  brush: () => ({ size: settings.brushSize, rate: settings.brushRate }),
  onPick: (i) => {
    settings.z = i;
    if (i >= 0) { fields.set_z(...cloud.at(i)); if (settings.field !== 'conditional') { settings.field = 'conditional'; showers.forEach((s) => s()); } }
    persist();
  },
  onHover: (x, y) => { inspector = tool === 'pick' && x !== null ? { x, y } : null; },
  onFull: () => showMessage(`The cloud holds at most ${MAX_POINTS.toLocaleString('en')} points; erase some to draw more.`),
});

// ---- share, import, export ----
$('share').addEventListener('click', async () => {
  const hash = toHash(settings, cloud.points());
  history.replaceState(null, '', hash);
  const url = location.href;
  try { await navigator.clipboard.writeText(url); showMessage('Link copied: it restores this drawing and these settings.'); }
  catch { showMessage('The link is in the address bar: it restores this drawing and these settings.'); }
});
window.addEventListener('hashchange', () => {
  try {
    const { settings: s, points } = fromHash(location.hash);
    Object.assign(settings, s);
    showers.forEach((f) => f());
    layoutStages();
    cloud.replace(points);
    sendFlowSetup();
    resetTraining();
  } catch (err) {
    showMessage(`This link could not be opened (${err.message}). Your drawing is unchanged.`, 'error');
  }
});
$('export-csv').addEventListener('click', () => download(new Blob([to_csv(cloud.points())], { type: 'text/csv' }), 'points.csv'));
$('import-csv').addEventListener('change', async (ev) => {
  const file = ev.target.files[0];
  ev.target.value = '';
  if (!file) return;
  try {
    if (file.size > 5e6) throw new Error('the file is larger than 5 MB');
    let pts = parse_csv(await file.text());
    if (pts.length / 2 > MAX_POINTS) throw new Error(`it holds ${pts.length / 2} points; the most is ${MAX_POINTS}`);
    const outside = pts.some((v) => Math.abs(v) > WORLD * 0.95);
    if (outside) pts = fit_to_box(pts, WORLD * 0.85);
    cloud.replace(pts);
    showMessage(`Imported ${pts.length / 2} points from ${file.name}${outside ? ' (rescaled to fit the stage)' : ''}.`);
  } catch (err) {
    showMessage(`Could not import ${file.name}: ${err.message ?? err}. Your drawing is unchanged.`, 'error');
  }
});
$('export-png').addEventListener('click', () => $('stage').toBlob((b) => download(b, 'flow-matching.png'), 'image/png'));

// ---- the frame loop ----
function frame(now) {
  const t = clock.tick(now);
  if (clock.playing) $('time').value = String(t);
  $('t-out').textContent = t.toFixed(2);
  $('time-play').textContent = clock.playing ? '❚❚' : '▶';
  $('time-play').setAttribute('aria-pressed', String(clock.playing));
  const pts = cloud.points();
  const zi = settings.z >= 0 && settings.z < cloud.count ? settings.z : -1;
  const z = zi >= 0 ? cloud.at(zi) : null;
  const [alpha, beta] = schedule_at(settings.schedule, t);
  const arrows = settings.field === 'none' || (settings.field === 'conditional' && !z) || ((settings.field === 'learned' || settings.field === 'error') && !fields.has_model()) ? null : settings.field;
  const base = {
    t, cloud: pts, cloudCount: cloud.count, versions, trails: settings.trails, alphaBeta: [alpha, beta], arrows,
    z: arrows === 'conditional' ? z : null,
    heat: settings.heat && cloud.count > 0 ? { what: 'logp', map: 'density', range: logRange } : null,
    learned: traj.learned, exact: traj.exact, inspector: inspector && cloud.count > 0 ? inspect(inspector, t) : null,
  };
  const side = settings.show === 'side';
  stages[0].draw({ ...base, showLearned: settings.show !== 'exact', showExact: settings.show === 'both' || settings.show === 'exact' });
  if (side) stages[1].draw({ ...base, showLearned: false, showExact: true, inspector: null });
  const caption = captionFor(arrows ?? 'none', t);
  if (caption !== lastCaption) { $('caption').innerHTML = caption; lastCaption = caption; }
  chart.draw(now);
  requestAnimationFrame(frame);
}
const logRange = (grid) => {
  let hi = -Infinity;
  for (const v of grid) if (v > hi) hi = v;
  return [hi - 8, hi];
};
function inspect({ x, y }, t) {
  const weights = fields.posterior(x, y, t);
  const order = [...weights.keys()].sort((a, b) => weights[b] - weights[a]).slice(0, 6);
  const xs = new Float32Array(order.length * 2);
  const uCond = new Float32Array(order.length * 2);
  order.forEach((i, k) => {
    fields.set_z(...cloud.at(i));
    uCond.set(fields.velocity('conditional', Float32Array.of(x, y), t), 2 * k);
    xs[2 * k] = x; xs[2 * k + 1] = y;
  });
  if (settings.z >= 0 && settings.z < cloud.count) fields.set_z(...cloud.at(settings.z));
  const uMarg = fields.velocity('marginal', Float32Array.of(x, y), t);
  return { x, y, weights, top: order, uCond, uMarg };
}

// ---- start ----
showers.forEach((s) => s());
layoutStages();
setLegend([{ color: COLORS.learned, label: 'learned u_θ particles' }, { color: COLORS.exact, label: 'exact marginal particles' }, { color: COLORS.data, label: 'data z_i' }]);
$('count').textContent = `${cloud.count.toLocaleString('en')} points`;
$('hint').hidden = !firstVisit;
if (startupProblem) showMessage(startupProblem, 'error');
if (settings.z >= 0 && settings.z < cloud.count) fields.set_z(...cloud.at(settings.z));
sendFlowSetup();
sendCloud();
resetTraining();
updateTrainButtons();
requestAnimationFrame(frame);
document.body.dataset.ready = '1';
// Handles for the end-to-end tests and the console.
window.fmp = { cloud, settings, clock, chart, trainWorker, flowWorker, traj: () => traj, isTraining: () => training };
