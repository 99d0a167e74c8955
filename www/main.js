// @ts-check
// Wiring only: creates the modules and connects them to the store. The store owns all state;
// the session owns the workers; the page's own wasm Fields evaluates arrows, heatmaps and the
// inspector; the stage plays everything back at time t; views.js says what each view needs.
import init, { Fields, preset_points, schedule_at, catalog, draw_schedule_chart, fresh_seed, energy_distance } from './pkg/fmp.js';
import { MAX_POINTS, buildProps, toHash } from './state.js';
import { Persistence } from './persist.js';
import { Store } from './store.js';
import { VIEWS, LESSONS, viewOf, viewsOf, nextView, fillSelect } from './views.js';
import { Cloud, attachPointer } from './draw.js';
import { Clock } from './particles.js';
import { Stage } from './stage.js';
import { LossChart } from './chart.js';
import { Session } from './session.js';
import { Training } from './training.js';
import { startupState, attachIo } from './io.js';
import { Tour } from './tour.js';
import { inspect, inspectorNote, heatFor, memorization, lossCaption, scheduleFormula } from './explain.js';
import { fmt } from './render.js';
import { $, $input, $select, $canvas, showMessage, hideMessage, clearMessage, bindControl, setIfChanged, setLegend, COLORS } from './ui.js';
import { installTestHook } from './testhook.js';
import { announce } from './announce.js';

const wasm = await init();
/** @type {import('./state.js').Catalog} */
const CATALOG = JSON.parse(catalog());
const PROPS = buildProps(CATALOG, { views: VIEWS.map((v) => v.id), lessons: LESSONS.map((l) => l.id) });
fillSelect($select('preset'), CATALOG.presets);
fillSelect($select('schedule'), CATALOG.schedules);
fillSelect($select('solver'), CATALOG.solvers);

const persist = new Persistence({
  props: PROPS,
  onProblem: (text) => showMessage(text, 'error'),
  onOtherTab: () => {
    showMessage('Another tab saved a different drawing. This tab keeps its own; the other one is under Recent drawings.');
    showRecent();
  },
});
const start = startupState(PROPS, persist);
const cloud = new Cloud(start.points ?? preset_points(start.settings.preset, 1000, start.settings.seed));
// z must be a point of the cloud: a link's z is snapped to its (quantised) point.
const zStart = start.settings.z && cloud.nearest(start.settings.z[0], start.settings.z[1], 1e-3);
const store = new Store(PROPS, { ...start.settings, z: zStart !== null && zStart >= 0 ? cloud.at(zStart) : null });
const S = () => store.state;
// Reduced motion: time starts paused and trails are off (a link or a choice can turn them on).
const REDUCED = matchMedia('(prefers-reduced-motion: reduce)').matches;
if (REDUCED && !start.fromLink) store.apply({ play: false, trails: false });
fillSelect($select('field'), viewsOf(S().lesson));

const fields = new Fields();
const clock = new Clock();
const chart = new LossChart($canvas('loss'));
const stageCache = new Map(); // shared: side by side evaluates each grid once
const stages = [new Stage($canvas('stage'), fields, stageCache), new Stage($canvas('stage2'), fields, stageCache)];
const ui = {
  cursor: { x: 0, y: 0, shown: false }, touchDraws: !matchMedia('(pointer: coarse)').matches,
  tool: 'spray', fit: /** @type {string | null} */ (null), hover: /** @type {{x: number, y: number} | null} */ (null), memo: /** @type {string | null} */ (null), edited: false, crashed: false, frames: 0, lastFrame: { field: '', t: NaN, modelVersion: -1, pending: 0, ms: 0 } };

let lastProgressNews = 0;
const session = new Session({
  onProgress: (m) => {
    training.onProgress(m);
    // Training progress, for screen readers: every 10 s, not every report.
    if (training.running && performance.now() - lastProgressNews > 10000 && Number.isFinite(m.fm)) {
      lastProgressNews = performance.now();
      announce(`Training: step ${m.steps.toLocaleString('en')}, L_CFM ${fmt(m.cfm)}, L_FM ${fmt(m.fm)}`);
    }
  },
  onWeights: (config, weights) => {
    fields.set_model(config.width, config.depth, config.timeFeatures, weights);
    store.apply({ modelVersion: S().modelVersion + 1 });
  },
  onDiverged: (steps) => training.onDiverged(steps),
  onTrainError: (message) => training.onError(message),
  onTrajectory: (kind) => {
    ui.memo = null;
    if (kind !== 'uniform') ui.fit = null;
    const ex = session.traj.exact;
    $('flow-status').textContent = ex && !ex.complete() ? `exact flow: computed to t = ${ex.reach().toFixed(2)}` : '';
  },
  onFlowError: (message) => showMessage(`Could not compute the particle flow: ${message}`, 'error'),
  onRestart: (which, reason) => {
    if (which === 'training') training.onRestart(reason);
    else showMessage(`The flow worker stopped (${reason}); restarted.`, 'error');
  },
});
const training = new Training({
  session, cloud, chart,
  config: () => {
    const s = S();
    const { width, depth, batch, lr, schedule, seed } = s;
    return { width, depth, timeFeatures: CATALOG.defaults.time_features, batch, lr, schedule, seed };
  },
});

/** Sends the cloud and schedule to the page's Fields and the flow worker. */
function sendCloud() {
  const pts = cloud.points();
  fields.set_points(pts);
  fields.set_schedule(S().schedule);
  session.setCloud(pts, S().schedule);
  store.apply({ cloudVersion: S().cloudVersion + 1 });
  return pts;
}
/** Drops z when an edit moved or removed its point. */
function checkZ() {
  const z = S().z;
  if (z && cloud.nearest(z[0], z[1], 0) < 0) store.apply({ z: null });
}

// ---- what follows each change of state ----
const apply = (/** @type {Record<string, any>} */ patch) => {
  try { store.apply(patch); } catch (err) { showMessage(`That setting was not applied: ${err instanceof Error ? err.message : err}`, 'error'); }
};
for (const name of ['lr', 'batch', 'width', 'depth', 'odeSteps', 'particles', 'brushSize', 'brushRate']) {
  const show = bindControl(name, S, Number, (n, v) => apply({ [n]: v }));
  store.subscribe([name], show);
}
for (const name of ['schedule', 'solver', 'show', 'field', 'preset', 'heat', 'trails', 'memo']) {
  const show = bindControl(name, S, name === 'heat' || name === 'trails' || name === 'memo' ? Boolean : String, (n, v) => apply({ [n]: v }));
  store.subscribe([name], show);
}
store.subscribe(['lesson'], (s) => { fillSelect($select('field'), viewsOf(s.lesson)); $select('field').value = s.field; });
store.subscribe(['schedule'], () => { sendCloud(); });
store.subscribe(['width', 'depth', 'batch', 'seed', 'schedule'], () => training.reset());
store.subscribe(['seed', 'solver', 'odeSteps', 'particles'], (s) => session.setupFlows({ particles: s.particles, seed: s.seed, solver: s.solver, steps: s.odeSteps }));
store.subscribe(['lr'], (s) => training.setLr(s.lr));
store.subscribe(['show'], () => layoutStages());
store.subscribe(['seed'], (s) => { $('seed-out').textContent = String(s.seed); });
store.subscribe(['field'], (s) => {
  const view = viewOf(s.field);
  announce(`Field view: ${view.label}`);
  session.setExtra(view.extraFlow ?? null);
  if (view.needs.z && !s.z) {
    setTool('pick');
    showMessage('Click a data point on the stage to choose z (or move the stage cursor with the arrow keys and press Enter).', 'info', 'pick-z');
  }
  // The Pick z tool belongs to the conditional view: leaving the view puts the brush back.
  if (!view.needs.z && ui.tool === 'pick') setTool('spray');
});
store.subscribe(['z'], (s) => { if (s.z) clearMessage('pick-z'); });
store.subscribe(['memo'], (s) => { if (s.memo) store.apply({ play: false, t: 1 }); });
// Saved, and written to the address bar, on every change of a setting (t only when paused:
// while time plays it changes every frame).
/** @type {ReturnType<typeof setTimeout> | undefined} */
let urlTimer;
/** The link to the current state (t only while paused: while time plays, it is not a moment). */
function currentHash() {
  const settings = store.settings();
  return toHash(PROPS, settings.play ? { ...settings, t: PROPS.t.def } : settings, cloud.view());
}
/** Keeps the URL in step with the state (debounced), so reload, back and copying the address work. */
function scheduleUrl() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => history.replaceState(null, '', currentHash()), 300);
}
store.subscribe('*', (s, changed) => {
  if ([...changed].some((k) => k in PROPS && (k !== 't' || !s.play))) {
    persist.save(store.settings(), cloud.view());
    scheduleUrl();
  }
});

// ---- cloud edits: debounced, then everything downstream follows ----
/** @type {ReturnType<typeof setTimeout> | undefined} */
let cloudTimer;
function showCount() {
  $('count').textContent = `${cloud.count.toLocaleString('en')} point${cloud.count === 1 ? '' : 's'}`;
}
cloud.onChange(() => {
  showCount();
  if (cloud.count > 0) clearMessage('empty');
  $('hint').hidden = true;
  ui.edited = true;
  checkZ();
  clearTimeout(cloudTimer);
  cloudTimer = setTimeout(() => {
    announce(`${cloud.count.toLocaleString('en')} point${cloud.count === 1 ? '' : 's'}`);
    const pts = sendCloud();
    persist.save(store.settings(), pts);
    scheduleUrl();
    training.cloudChanged();
  }, 120);
});

// ---- tools and buttons ----
/** @param {string} name */
function setTool(name) {
  ui.tool = name;
  for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=tool]'))) r.checked = r.value === name;
  ui.hover = null;
}
for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=tool]'))) r.addEventListener('change', () => setTool(r.value));
/**
 * Replaces the drawing, keeping the old one among the recent drawings (and undoable).
 * @param {ArrayLike<number>} points
 * @param {string} why
 */
function replaceDrawing(points, why) {
  persist.keep(store.settings(), cloud.view(), why);
  cloud.replace(points);
  showRecent();
}
$('undo').addEventListener('click', () => cloud.undo());
$('clear').addEventListener('click', () => replaceDrawing(new Float32Array(0), 'cleared'));
$('load-preset').addEventListener('click', () => replaceDrawing(preset_points(S().preset, 1000, S().seed), 'replaced by a preset'));

// Recent drawings: what a link, an import, a preset, Clear or another tab replaced.
function showRecent() {
  const list = persist.recent();
  const sel = $select('recent');
  const time = (/** @type {number} */ ms) => new Date(ms).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' });
  sel.replaceChildren(new Option(list.length ? `Recent drawings (${list.length})` : 'No recent drawings', ''),
    ...list.map((e, i) => {
      const n = Math.round(e.points.length * 3 / 16); // 16 bits per coordinate in base64
      return new Option(`${n.toLocaleString('en')} points, ${e.why ?? 'saved'}, ${time(e.time)}`, String(i));
    }));
  sel.disabled = list.length === 0;
}
$select('recent').addEventListener('change', () => {
  const sel = $select('recent');
  const i = Number(sel.value);
  sel.value = '';
  if (sel.selectedIndex < 0 || !Number.isInteger(i)) return;
  try {
    const { settings, points, dropped } = persist.restore(i);
    openDrawing(settings, points, 'replaced by a recent drawing');
    showMessage(`Restored a drawing of ${cloud.count.toLocaleString('en')} points${dropped.length ? ` (reset: ${dropped.join('; ')})` : ''}; `
      + 'the one it replaced is in the list.');
  } catch (err) {
    showMessage(`That drawing could not be restored (${err instanceof Error ? err.message : err}). Your drawing is unchanged.`, 'error');
  }
});
const toggleTraining = () => {
  training.toggle();
  $('hint').hidden = true;
  announce(training.running ? 'Training started' : 'Training paused');
};
$('train').addEventListener('click', toggleTraining);
$('step').addEventListener('click', () => training.step());
$('reset').addEventListener('click', () => { hideMessage(); training.reset(); });
$('new-seed').addEventListener('click', () => apply({ seed: fresh_seed() }));
$('time').addEventListener('input', () => apply({ play: false, t: Number($input('time').value) }));
const toggleTime = () => apply({ play: !S().play });
$('time-play').addEventListener('click', toggleTime);

function layoutStages() {
  const side = S().show === 'side';
  $('stages').classList.toggle('side', side);
  $('stage2-fig').hidden = !side;
  $('stage-label').hidden = !side;
}

// Keyboard: Space trains, T plays time, V cycles the field view, Ctrl+Z undoes.
document.addEventListener('keydown', (ev) => {
  const tag = /** @type {HTMLElement} */ (ev.target).tagName;
  const typing = tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'BUTTON';
  if (ev.key === ' ' && !typing) { ev.preventDefault(); toggleTraining(); }
  else if ((ev.key === 't' || ev.key === 'T') && !typing) toggleTime();
  else if ((ev.key === 'v' || ev.key === 'V') && !typing) apply({ field: nextView(S().field) });
  else if ((ev.ctrlKey || ev.metaKey) && ev.key === 'z' && !typing) { ev.preventDefault(); cloud.undo(); }
});

attachPointer($canvas('stage'), {
  view: stages[0].view,
  cloud,
  tool: () => ui.tool,
  brush: () => ({ size: S().brushSize, rate: S().brushRate }),
  onPick: (i) => apply(i >= 0 ? { z: cloud.at(i), field: 'conditional' } : { z: null }),
  onHover: (x, y) => { ui.hover = ui.tool === 'inspect' && x !== null && y !== null ? { x, y } : null; },
  onFull: () => showMessage(`The cloud holds at most ${MAX_POINTS.toLocaleString('en')} points; erase some to draw more.`),
  cursor: ui.cursor,
  touchDraws: () => ui.touchDraws,
});
// On touch screens a swipe over the stage scrolls the page until "Draw" is switched on.
$('touch-draw').addEventListener('click', () => {
  ui.touchDraws = !ui.touchDraws;
  $('touch-draw').setAttribute('aria-pressed', String(ui.touchDraws));
  $canvas('stage').classList.toggle('scrolls', !ui.touchDraws);
});
$canvas('stage').classList.toggle('scrolls', !ui.touchDraws);
/**
 * Opens settings and a drawing (a link, a recent drawing); the old drawing is kept.
 * @param {Record<string, any>} settings
 * @param {Float32Array} points
 * @param {string} why
 */
function openDrawing(settings, points, why) {
  replaceDrawing(points, why);
  const i = settings.z ? cloud.nearest(settings.z[0], settings.z[1], 1e-3) : -1;
  apply({ ...settings, z: i >= 0 ? cloud.at(i) : null });
  sendCloud();
  training.reset();
}
attachIo({
  props: PROPS, store, cloud, stageCanvas: $canvas('stage'),
  open: openDrawing,
  replacePoints: replaceDrawing,
});

// ---- the guided tour sets up the stage for each step ----
const tour = new Tour({
  snapshot: () => ({ settings: store.settings(), tool: ui.tool }),
  restore: ({ settings, tool }) => {
    apply(settings);
    checkZ();
    setTool(tool);
    if (!ui.edited && start.points === null) $('hint').hidden = false;
  },
  setUp: ({ patch, time, tool, pickZ, train }) => {
    const z = pickZ && !S().z && cloud.count > 0 ? { z: cloud.at(0) } : {};
    apply({ ...patch, ...z, ...(time === 'play' ? { play: true } : { play: false, t: time }) });
    if (tool) setTool(tool);
    if (train && !training.running) training.toggle(true);
  },
});

// ---- the frame loop ----
/** @param {number} now */
function frame(now) {
  try {
    drawFrame(now);
  } catch (err) {
    // Keep animating; say it once (and log it, so the tests see it).
    if (!ui.crashed) { ui.crashed = true; console.error(err); showMessage(`Drawing failed: ${err instanceof Error ? err.message : err}`, 'error'); }
  } finally {
    requestAnimationFrame(frame);
  }
}
/** @param {number} now */
function drawFrame(now) {
  const started = performance.now();
  let t1 = clock.tick(now, S().t, S().play);
  // While the exact flow is still being computed (or not yet begun), playing time does not
  // run ahead of it: the particles shown are those of time t. The slider's track shows how
  // far it is computed.
  const exact = session.traj.exact;
  const reach = cloud.count === 0 ? 1 : exact ? (exact.complete() ? 1 : exact.reach()) : 0;
  if (S().play && t1 > reach) t1 = reach;
  if (t1 !== S().t) store.apply({ t: t1 });
  setIfChanged($('time'), 'style', `--reach: ${(100 * reach).toFixed(1)}%`);
  const s = S();
  const t = s.t;
  if (Number($input('time').value) !== t) $input('time').value = String(t);
  setIfChanged($('t-out'), 'textContent', t.toFixed(2));
  setIfChanged($('time-play'), 'textContent', s.play ? '❚❚' : '▶');
  setIfChanged($('time-play'), 'ariaPressed', String(s.play));
  const pts = cloud.view();
  const [alpha, beta] = schedule_at(s.schedule, t);
  const view = viewOf(s.field);
  const usable = cloud.count > 0 && !(view.needs.model && !fields.has_model()) && !(view.needs.z && !s.z);
  const shown = usable ? view : VIEWS[0];
  const heat = cloud.count === 0 ? null : heatFor(shown.heat, s.heat);
  const extra = view.extraFlow ? session.traj[view.extraFlow] : null;
  const hover = ui.hover && cloud.count > 0 ? inspect(fields, cloud, ui.hover, t) : null;
  const base = {
    t, cloud: pts, cloudCount: cloud.count, versions: { cloud: s.cloudVersion, model: s.modelVersion },
    trails: s.trails, alphaBeta: [alpha, beta], arrows: shown.arrows, heat, z: shown.arrows === 'conditional' ? s.z : null,
    learned: cloud.count > 0 ? session.traj.learned : null,
    exact: cloud.count > 0 ? (view.extraFlow ? extra : session.traj.exact) : null,
    exactColor: COLORS[view.exactColor ?? 'exact'],
    inspector: hover,
    cursor: ui.cursor.shown && document.activeElement === $('stage') ? [ui.cursor.x, ui.cursor.y] : null,
  };
  stages[0].draw({ ...base, showLearned: s.show !== 'exact', showExact: s.show === 'both' || s.show === 'exact' });
  if (s.show === 'side') {
    stages[1].draw({ ...base, showLearned: false, showExact: true, inspector: null, cursor: null });
    setIfChanged($('stage2-label'), 'textContent', view.sideLabel ?? 'Exact marginal u_t^target');
  }
  let note = '';
  if (s.memo) {
    ui.memo ??= memorization(session.traj, pts);
    note = ui.memo;
  } else if (hover) note = inspectorNote(hover);
  else if (heat?.note) note = heat.note;
  setIfChanged($('caption'), 'innerHTML', shown.caption(`at t = ${t.toFixed(2)}`, note));
  updateLegend(heat, view);
  setIfChanged($('stage'), 'ariaLabel', stageLabel(shown, t, s));
  ui.fit ??= fitNote();
  setIfChanged($('fit'), 'textContent', ui.fit);
  chart.draw(now);
  const latest = chart.latest();
  setIfChanged($('loss-caption'), 'textContent', lossCaption(latest));
  showLossValues(latest);
  drawSchedule(t);
  ui.frames += 1;
  const pending = stages[0].pending + (s.show === 'side' ? stages[1].pending : 0);
  ui.lastFrame = { field: shown.id, t, modelVersion: s.modelVersion, pending, ms: performance.now() - started };
}

/**
 * The loss legend's current values, and the chart's text alternative.
 * @param {{ cfm: number, fm: number, diff: number } | null} latest
 */
function showLossValues(latest) {
  setIfChanged($('lv-cfm'), 'textContent', latest ? fmt(latest.cfm) : '–');
  setIfChanged($('lv-fm'), 'textContent', latest ? fmt(latest.fm) : '–');
  setIfChanged($('lv-diff'), 'textContent', latest ? fmt(latest.diff) : '–');
  const step = chart.steps.at(-1);
  setIfChanged($('loss'), 'ariaLabel', latest && step !== undefined
    ? `Loss chart, log scale, at step ${step.toLocaleString('en')}: L_CFM ${fmt(latest.cfm)}, L_FM ${fmt(latest.fm)}, their difference ${fmt(latest.diff)}`
    : 'Loss chart: no training yet');
}

/**
 * The stage's text alternative: what it shows now (view, time, points, particles, z).
 * @param {import('./views.js').View} view
 * @param {number} t
 * @param {Record<string, any>} s
 */
function stageLabel(view, t, s) {
  const n = cloud.count;
  const parts = [`Drawing stage, ${n.toLocaleString('en')} data point${n === 1 ? '' : 's'}`,
    `time t = ${t.toFixed(1)}`, view.id === 'none' ? 'no field view' : `field view: ${view.label}`];
  const shown = { both: 'learned (orange rings) and exact (blue squares) particles', learned: 'learned particles',
    exact: 'exact particles', side: 'learned particles here, exact ones on the second stage' }[s.show];
  if (n > 0) parts.push(shown);
  if (s.z) parts.push(`z at (${s.z[0].toFixed(2)}, ${s.z[1].toFixed(2)})`);
  return `${parts.join('; ')}. Arrow keys move a cursor, Enter uses the tool.`;
}

/**
 * How close the learned particles come to the exact ones at t = 1, as a number a learner can
 * watch fall (the rings settle on the squares when training works).
 */
function fitNote() {
  const { learned, exact } = session.traj;
  if (!learned?.complete() || !exact?.complete() || cloud.count === 0) return '';
  const d = energy_distance(learned.final(), exact.final());
  return `At t = 1, learned vs exact particles: energy distance ${fmt(d)} (0 when they have the same distribution).`;
}

let legendKey = '';
/**
 * @param {any} heat
 * @param {import('./views.js').View} view
 */
function updateLegend(heat, view) {
  const items = [
    { color: COLORS.learned, label: 'learned u_t^θ particles (rings)' },
    { color: COLORS[view.exactColor ?? 'exact'], label: view.exactLabel ?? 'exact u_t^target particles (squares)' },
    { color: COLORS.data, label: 'data z_i' },
  ];
  if (heat?.legend) items.push(heat.legend());
  const key = JSON.stringify(items);
  if (key !== legendKey) { setLegend(items); legendKey = key; }
}

let scheduleKey = '';
/** @param {number} t */
function drawSchedule(t) {
  const key = `${S().schedule}|${t.toFixed(2)}`;
  if (key === scheduleKey) return;
  scheduleKey = key;
  const c = $canvas('schedule-chart');
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  c.width = Math.round(c.clientWidth * dpr); c.height = Math.round(c.clientHeight * dpr);
  if (c.width > 10) draw_schedule_chart(c, S().schedule, t);
  $('schedule-formula').innerHTML = scheduleFormula(S().schedule);
}

// ---- start ----
$('seed-out').textContent = String(S().seed);
showRecent();
layoutStages();
showCount();
$('hint').hidden = start.points !== null;
if (start.problem) showMessage(start.problem, 'error');
session.setupFlows({ particles: S().particles, seed: S().seed, solver: S().solver, steps: S().odeSteps });
sendCloud();
session.setExtra(viewOf(S().field).extraFlow ?? null);
training.reset();
requestAnimationFrame(frame);
if (!Tour.seen() && !start.fromLink) tour.open();
installTestHook({
  store, cloud, chart, session, training, tour, ui, wasmMemory: () => wasm.memory.buffer.byteLength,
  urlCurrent: () => location.hash === currentHash(),
});
document.body.dataset.ready = '1';
