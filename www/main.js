// Wiring only: creates the modules and connects them. The training worker trains, the flow
// worker integrates trajectories, the page's own wasm Fields evaluates arrows, heatmaps and
// the inspector, and the stage plays everything back at time t.
import init, { Fields, preset_points, schedule_at, default_config, draw_schedule_chart, fresh_seed } from './pkg/fmp.js';
import { MAX_POINTS, setCoreDefaults, sanitize, save } from './state.js';
import { Cloud, attachPointer } from './draw.js';
import { Clock } from './particles.js';
import { Stage } from './stage.js';
import { LossChart } from './chart.js';
import { Training } from './training.js';
import { Flows } from './flows.js';
import { startupState, attachIo } from './io.js';
import { Tour } from './tour.js';
import { inspect, inspectorNote, heatFor, memorization, lossCaption, scheduleFormula } from './explain.js';
import { $, showMessage, hideMessage, bindControl, captionFor, setLegend, setIfChanged, COLORS } from './ui.js';

await init();
const CORE = JSON.parse(default_config()); // { width, depth, time_features, batch, lr }
setCoreDefaults(CORE);

const start = startupState();
const settings = start.settings;
const cloud = new Cloud(start.points ?? preset_points(settings.preset, 1000, settings.seed));
const fields = new Fields();
const clock = new Clock();
const chart = new LossChart($('loss'));
const stageCache = new Map(); // shared: side by side evaluates each grid once
const stages = [new Stage($('stage'), fields, stageCache), new Stage($('stage2'), fields, stageCache)];
const versions = { cloud: 0, model: 0 };
const ui = { tool: 'spray', hover: null, memo: null, zPoint: null, edited: false, crashed: false };

const training = new Training({
  settings, cloud, chart, timeFeatures: CORE.time_features,
  onWeights: (config, weights) => {
    fields.set_model(config.width, config.depth, config.timeFeatures, weights);
    versions.model += 1;
    flows.model(config, weights);
  },
});
const flows = new Flows({ settings, onTrajectory: () => { ui.memo = null; } });

/** Sends the cloud and schedule to the page's Fields and the flow worker. */
function sendCloud() {
  const pts = cloud.points();
  fields.set_points(pts);
  fields.set_schedule(settings.schedule);
  versions.cloud += 1;
  flows.cloud(pts, settings.schedule);
  syncZ();
  return pts;
}
/** Keeps z (an index into the cloud) valid: an edit that moves or removes its point drops it. */
function syncZ() {
  const p = settings.z >= 0 && settings.z < cloud.count ? cloud.at(settings.z) : null;
  if (!p || (ui.zPoint && (p[0] !== ui.zPoint[0] || p[1] !== ui.zPoint[1]))) settings.z = -1;
  ui.zPoint = settings.z >= 0 ? p : null;
  if (ui.zPoint) fields.set_z(...ui.zPoint);
}
/** Chooses data point i (or none, -1) as z. */
function chooseZ(i) {
  settings.z = i;
  ui.zPoint = null;
  syncZ();
}

// ---- settings: every change goes through apply(), which runs its side effects ----
const showers = [];
const EFFECTS = {
  width: 'reset', depth: 'reset', batch: 'reset', seed: 'seed',
  schedule: 'schedule', lr: 'lr', solver: 'flows', odeSteps: 'flows', particles: 'flows',
  show: 'layout', field: 'field', memo: 'memo',
};
function apply(patch) {
  const next = sanitize({ ...settings, ...patch });
  const effects = new Set();
  for (const [k, v] of Object.entries(next)) {
    if (settings[k] !== v) { settings[k] = v; if (EFFECTS[k]) effects.add(EFFECTS[k]); }
  }
  showers.forEach((show) => show());
  if (effects.has('schedule')) { sendCloud(); training.reset(); } else if (effects.has('reset') || effects.has('seed')) training.reset();
  if (effects.has('seed')) flows.setup();
  if (effects.has('lr')) training.setLr(settings.lr);
  if (effects.has('flows')) flows.setup();
  if (effects.has('layout')) layoutStages();
  if (effects.has('field')) {
    flows.extra(settings.field === 'residual_uniform' ? 'uniform' : null);
    if (settings.field === 'conditional' && settings.z < 0) { setTool('pick'); showMessage('Click a data point on the stage to choose z.'); }
  }
  if (effects.has('memo') && settings.memo) { clock.playing = false; clock.set(1); }
  save(settings, cloud.points());
}
for (const name of ['lr', 'batch', 'width', 'depth', 'odeSteps', 'particles', 'brushSize', 'brushRate']) {
  showers.push(bindControl(name, settings, Number, (n, v) => apply({ [n]: v })));
}
for (const name of ['schedule', 'solver', 'show', 'field', 'preset']) {
  showers.push(bindControl(name, settings, String, (n, v) => apply({ [n]: v })));
}
for (const name of ['heat', 'trails', 'memo']) {
  showers.push(bindControl(name, settings, Boolean, (n, v) => apply({ [n]: v })));
}

// ---- cloud edits: debounced, then everything downstream follows ----
let cloudTimer = null;
function showCount() {
  $('count').textContent = `${cloud.count.toLocaleString('en')} point${cloud.count === 1 ? '' : 's'}`;
}
cloud.onChange(() => {
  showCount();
  $('hint').hidden = true;
  ui.edited = true;
  syncZ();
  clearTimeout(cloudTimer);
  cloudTimer = setTimeout(() => {
    const pts = sendCloud();
    save(settings, pts);
    training.cloudChanged(pts);
  }, 120);
});

// ---- tools and buttons ----
function setTool(name) {
  ui.tool = name;
  for (const r of document.querySelectorAll('input[name=tool]')) r.checked = r.value === name;
  ui.hover = null;
}
for (const r of document.querySelectorAll('input[name=tool]')) r.addEventListener('change', () => setTool(r.value));
$('undo').addEventListener('click', () => cloud.undo());
$('clear').addEventListener('click', () => cloud.clear());
$('load-preset').addEventListener('click', () => cloud.replace(preset_points(settings.preset, 1000, settings.seed)));
$('train').addEventListener('click', () => { training.toggle(); $('hint').hidden = true; });
$('step').addEventListener('click', () => training.step());
$('reset').addEventListener('click', () => { hideMessage(); training.reset(); });
$('new-seed').addEventListener('click', () => apply({ seed: fresh_seed() }));
showers.push(() => { $('seed-out').textContent = String(settings.seed); });
$('time').addEventListener('input', () => { clock.playing = false; clock.set(Number($('time').value)); });
const toggleTime = () => { clock.playing = !clock.playing; };
$('time-play').addEventListener('click', toggleTime);

function layoutStages() {
  const side = settings.show === 'side';
  $('stages').classList.toggle('side', side);
  $('stage2-fig').hidden = !side;
  $('stage-label').hidden = !side;
}

// Keyboard: Space trains, T plays time, V cycles the field view, Ctrl+Z undoes.
const FIELD_CYCLE = ['none', 'learned', 'marginal', 'conditional', 'error', 'residual', 'residual_learned', 'residual_uniform'];
document.addEventListener('keydown', (ev) => {
  const tag = ev.target.tagName;
  const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON';
  if (ev.key === ' ' && !typing) { ev.preventDefault(); training.toggle(); $('hint').hidden = true; }
  else if ((ev.key === 't' || ev.key === 'T') && !typing) toggleTime();
  else if ((ev.key === 'v' || ev.key === 'V') && !typing) apply({ field: FIELD_CYCLE[(FIELD_CYCLE.indexOf(settings.field) + 1) % FIELD_CYCLE.length] });
  else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'z' && !typing) { ev.preventDefault(); cloud.undo(); }
});

attachPointer($('stage'), {
  view: stages[0].view,
  cloud,
  tool: () => ui.tool,
  brush: () => ({ size: settings.brushSize, rate: settings.brushRate }),
  onPick: (i) => {
    chooseZ(i);
    if (i >= 0 && settings.field !== 'conditional') apply({ field: 'conditional' });
    save(settings, cloud.points());
  },
  onHover: (x, y) => { ui.hover = ui.tool === 'inspect' && x !== null ? { x, y } : null; },
  onFull: () => showMessage(`The cloud holds at most ${MAX_POINTS.toLocaleString('en')} points; erase some to draw more.`),
});
attachIo({
  settings, cloud, stageCanvas: $('stage'),
  apply: (s) => { apply(s); ui.zPoint = null; sendCloud(); training.reset(); restoreTime(); },
  // A link keeps the moment it was made: t and whether time was playing.
  beforeShare: () => { settings.t = Math.round(clock.t * 1000) / 1000; settings.play = clock.playing; },
});
function restoreTime() {
  clock.set(settings.t);
  clock.playing = settings.play;
}

// ---- the guided tour sets up the stage for each step ----
const tour = new Tour({
  snapshot: () => ({ settings: { ...settings }, t: clock.t, playing: clock.playing, tool: ui.tool }),
  restore: ({ settings: saved, t, playing, tool }) => {
    apply(saved);
    chooseZ(saved.z);
    clock.set(t);
    clock.playing = playing;
    setTool(tool);
    if (!ui.edited && start.points === null) $('hint').hidden = false;
  },
  setUp: ({ patch, time, tool, pickZ, train }) => {
    if (pickZ && settings.z < 0 && cloud.count > 0) chooseZ(0);
    apply(patch);
    if (time === 'play') clock.playing = true;
    else { clock.playing = false; clock.set(time); }
    if (tool) setTool(tool);
    if (train && !training.running) training.toggle(true);
  },
});

// ---- the frame loop ----
function frame(now) {
  try {
    drawFrame(now);
  } catch (err) {
    // Keep animating; say it once (and log it, so the tests see it).
    if (!ui.crashed) { ui.crashed = true; console.error(err); showMessage(`Drawing failed: ${err.message}`, 'error'); }
  } finally {
    requestAnimationFrame(frame);
  }
}
function drawFrame(now) {
  const t = clock.tick(now);
  if (Number($('time').value) !== t) $('time').value = String(t);
  setIfChanged($('t-out'), 'textContent', t.toFixed(2));
  setIfChanged($('time-play'), 'textContent', clock.playing ? '❚❚' : '▶');
  setIfChanged($('time-play'), 'ariaPressed', String(clock.playing));
  const pts = cloud.view();
  const z = settings.z >= 0 && settings.z < cloud.count ? cloud.at(settings.z) : null;
  const [alpha, beta] = schedule_at(settings.schedule, t);
  const f = settings.field;
  const needsModel = f === 'learned' || f === 'error' || f === 'residual_learned';
  const usable = !(needsModel && !fields.has_model()) && !(f === 'conditional' && !z) && cloud.count > 0;
  const arrows = usable && ['learned', 'marginal', 'conditional', 'error'].includes(f) ? f : null;
  const heat = cloud.count === 0 ? null : heatFor(usable ? f : 'none', settings.heat);
  const uniform = f === 'residual_uniform';
  const base = {
    t, cloud: pts, cloudCount: cloud.count, versions, trails: settings.trails, alphaBeta: [alpha, beta],
    arrows, heat, z: arrows === 'conditional' ? z : null,
    learned: flows.traj.learned, exact: uniform ? flows.traj.uniform : flows.traj.exact,
    exactColor: uniform ? COLORS.uniform : COLORS.exact,
    inspector: ui.hover && cloud.count > 0 ? inspect(fields, cloud, ui.hover, t, settings.z) : null,
  };
  stages[0].draw({ ...base, showLearned: settings.show !== 'exact', showExact: settings.show === 'both' || settings.show === 'exact' });
  if (settings.show === 'side') {
    stages[1].draw({ ...base, showLearned: false, showExact: true, inspector: null });
    setIfChanged($('stage2-label'), 'textContent', uniform ? 'Uniform weights (wrong field)' : 'Exact marginal u_t');
  }
  let extra = '';
  if (settings.memo) {
    ui.memo ??= memorization(flows.traj, pts);
    extra = ui.memo;
  } else if (base.inspector) extra = inspectorNote(base.inspector);
  else if (heat?.note) extra = heat.note;
  setIfChanged($('caption'), 'innerHTML', captionFor(usable ? f : 'none', t, extra));
  updateLegend(heat, uniform);
  chart.draw(now);
  setIfChanged($('loss-caption'), 'textContent', lossCaption(chart.latest()));
  drawSchedule(t);
}

let legendKey = '';
function updateLegend(heat, uniform) {
  const items = [
    { color: COLORS.learned, label: 'learned u_θ particles' },
    { color: uniform ? COLORS.uniform : COLORS.exact, label: uniform ? 'uniform-weight particles' : 'exact marginal particles' },
    { color: COLORS.data, label: 'data z_i' },
  ];
  if (heat?.legend) items.push(heat.legend());
  const key = JSON.stringify(items);
  if (key !== legendKey) { setLegend(items); legendKey = key; }
}

let scheduleKey = '';
function drawSchedule(t) {
  const key = `${settings.schedule}|${t.toFixed(2)}`;
  if (key === scheduleKey) return;
  scheduleKey = key;
  const c = $('schedule-chart');
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  c.width = Math.round(c.clientWidth * dpr); c.height = Math.round(c.clientHeight * dpr);
  if (c.width > 10) draw_schedule_chart(c, settings.schedule, t);
  $('schedule-formula').innerHTML = scheduleFormula(settings.schedule);
}

// ---- start ----
showers.forEach((show) => show());
restoreTime();
layoutStages();
showCount();
$('hint').hidden = start.points !== null;
if (start.problem) showMessage(start.problem, 'error');
flows.setup();
sendCloud();
flows.extra(settings.field === 'residual_uniform' ? 'uniform' : null);
training.reset();
requestAnimationFrame(frame);
if (!Tour.seen() && !start.fromLink) tour.open();
document.body.dataset.ready = '1';
// Handles for the end-to-end tests and the console.
window.fmp = { cloud, settings, clock, chart, training, flows, tour, apply, stages, trainWorker: training.worker, traj: () => flows.traj, isTraining: () => training.running };
