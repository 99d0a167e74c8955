// @ts-check
// Wiring only: creates the modules and connects them to the store. The store owns all state;
// the session owns the workers; persist.js keeps drawings; the page's own wasm Fields
// evaluates arrows, heatmaps and the inspector; frame.js composes each frame and the stage
// plays everything back at time t; views.js says what each view needs. The lessons are found
// through their registry (lessons/index.js): each lesson's definition brings its views, tour
// steps, settings and page module, and its page is asked through pages.js's generic hooks.
import init, { Fields, preset_points, preset_labels, catalog, fresh_seed } from './pkg/fmp.js';
import { buildProps, toHash, messageOf } from './state.js';
import { MAX_POINTS, installLimits } from './limits.js';
import { Persistence, attachRecent } from './persist.js';
import { Store } from './store.js';
import { registerViews, allViews, viewOf, viewsOf, nextView, fillSelect } from './views.js';
import { Cloud, attachPointer } from './draw.js';
import { Clock } from './particles.js';
import { Stage } from './stage.js';
import { LossChart } from './chart.js';
import { Session } from './session.js';
import { defaultWorkers } from './team.js';
import { Training } from './training.js';
import { startupState, attachIo } from './io.js';
import { Tour } from './tour.js';
import { FrameLoop } from './frame.js';
import { fmt } from './render.js';
import { $, $input, $select, $canvas, showMessage, hideMessage, clearMessage, bindControl } from './ui.js';
import { installTestHook } from './testhook.js';
import { LESSON_IDS } from './lessons/index.js';
import { LessonPages } from './pages.js';
import { HoldOut } from './split.js';
import { attachKeys } from './keys.js';
import { attachModelExport, exportedSamples } from './export.js';
import { announce } from './announce.js';

const wasm = await init();
/** The lessons' definitions, in the registry's order. @type {import('./pages.js').LessonDef[]} */
const DEFS = await Promise.all(LESSON_IDS.map((id) => import(`./lessons/${id}/lesson.js`).then((m) => m.default)));
registerViews(DEFS);
/** @type {import('./state.js').Catalog} */
const CATALOG = JSON.parse(catalog());
// The limits of every setting come from the core (one source with the command line).
installLimits(CATALOG.limits);
const PROPS = buildProps(CATALOG, {
  views: allViews().map((v) => v.id), lessons: DEFS.map((l) => l.id),
  workers: defaultWorkers(navigator.hardwareConcurrency),
  settings: DEFS.map((l) => l.settings?.(CATALOG) ?? {}),
});
fillSelect($select('preset'), CATALOG.presets);
fillSelect($select('schedule'), CATALOG.schedules);
fillSelect($select('solver'), CATALOG.solvers);

const persist = new Persistence({
  props: PROPS,
  // A storage failure stays in its own notice (with the CSV export) until storage works again.
  onProblem: (text) => {
    $('storage-notice-text').textContent = text ?? '';
    $('storage-notice').hidden = text === null;
  },
  onOtherTab: () => {
    showMessage('Another tab saved a different drawing. This tab keeps its own; the other one is under Recent '
      + 'drawings.');
    showRecent();
  },
});
const start = startupState(PROPS, persist);
/** A preset's points and the labels of its parts. @param {string} name @param {number} seed */
const presetDrawing = (name, seed) => ({
  points: preset_points(name, 1000, seed), labels: preset_labels(name, 1000, seed),
});
const first = start.points
  ? { points: start.points, labels: start.labels }
  : presetDrawing(start.settings.preset, start.settings.seed);
const cloud = new Cloud(first.points, first.labels ?? undefined);
/**
 * z must be a point of the cloud: a link's or a saved z is snapped to its (quantised) point,
 * or dropped.
 * @param {number[] | null} z
 */
const snapZ = (z) => {
  const i = z ? cloud.nearest(z[0], z[1], 1e-3) : -1;
  return i >= 0 ? cloud.at(i) : null;
};
const store = new Store(PROPS, { ...start.settings, z: snapZ(start.settings.z) });
const S = () => store.state;
// Embed mode (embed=1 in a link): only the stage, time and one view selector; nothing is saved
// in this browser (an embed must not replace the visitor's own drawing).
if (S().embed) {
  persist.readOnly = true;
  document.body.classList.add('embed');
  $('embed-bar').hidden = false;
}
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
  tool: 'spray', fit: /** @type {string | null} */ (null),
  hover: /** @type {{x: number, y: number} | null} */ (null), memo: /** @type {string | null} */ (null),
  edited: false, crashed: false, frames: 0, lastFrame: { field: '', t: NaN, modelVersion: -1, pending: 0, ms: 0 } };

let lastProgressNews = 0;
const session = new Session({
  onProgress: (m) => {
    training.onProgress(m);
    if (!$('hint').hidden) showHint();
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
  onTrainNotice: (message) => showMessage(message, 'info'),
  onTeam: (m) => { training.onTeam(m); if (m.fellBack) store.apply({ workers: m.workers }); },
  onTrajectory: (kind) => {
    ui.memo = null;
    if (kind !== 'uniform') ui.fit = null;
  },
  onFlowError: (message) => showMessage(`Could not compute the particle flow: ${message}`, 'error'),
  onGap: (c, stderr) => chart.setGap(c, stderr),
  // The workers' messages for the lessons, to their pages: the flow worker's name their lesson,
  // the training worker's go to every page (each takes the types it knows).
  onLesson: (lesson, m) => pages.onMessage({ ...m, lesson }),
  onTrainer: (m) => pages.onMessage(m),
  onNetwork: (why, config) => pages.onNetwork(why, config),
  onRestart: (which, reason) => {
    if (which === 'training') training.onRestart(reason);
    else showMessage(`The flow worker stopped (${reason}); restarted.`, 'error');
  },
});
const training = new Training({
  session, cloud, chart, points: () => holdOut.points(), labels: () => holdOut.labels(),
  resetOnEdit: () => pages.resetOnEdit(),
  config: () => {
    const s = S();
    const { width, depth, batch, lr, schedule, seed } = s;
    // The open lesson chooses the coupling and whether the network is class-conditional.
    const { coupling, labelled } = pages.network(s);
    const timeFeatures = CATALOG.defaults.time_features;
    return { width, depth, timeFeatures, batch, lr, schedule, coupling, seed, labelled };
  },
});

// The memorization check's held-out split (split.js).
const holdOut = new HoldOut(cloud);
const makeSplit = () => holdOut.update(S().memo, S().seed);

/** Sends the cloud, its labels and the schedule to the page's Fields and the flow worker. */
function sendCloud() {
  const pts = holdOut.points();
  const labels = holdOut.labels();
  fields.set_points(pts);
  fields.set_labels(pts.length ? labels : new Uint8Array(0));
  fields.set_schedule(S().schedule);
  session.setCloud(pts, S().schedule, labels);
  store.apply({ cloudVersion: S().cloudVersion + 1 });
  return pts;
}
/** Drops z when an edit moved or removed its point. */
function checkZ() {
  const z = S().z;
  if (z && cloud.nearest(z[0], z[1], 0) < 0) store.apply({ z: null });
}

// ---- what follows each change of state ----
/** The settings whose change starts a new network (with the open lesson's network kind). */
const RETRAIN = ['width', 'depth', 'batch', 'seed', 'schedule', 'memo'];
/**
 * A setting that starts a new network, in the message bar's words (with its new value).
 * @param {string} key
 * @param {Record<string, any>} s
 */
function settingName(key, s) {
  if (key === 'lesson') return `Opening ${DEFS.find((l) => l.id === s.lesson)?.label ?? s.lesson}, which trains `
    + 'another kind of network';
  const words = { width: 'The width', depth: 'The depth', batch: 'The batch size', seed: 'A new seed',
    schedule: 'The schedule', memo: 'The memorization check' }[key] ?? `The ${key} setting`;
  const v = s[key];
  return `${words} (${typeof v === 'boolean' ? (v ? 'on' : 'off') : v})`;
}
/**
 * The settings among `keys` whose change from `from` to `to` alone would start a new network.
 * @param {Record<string, any>} from
 * @param {Record<string, any>} to
 */
function resetting(from, to) {
  const kind = (/** @type {Record<string, any>} */ s) => JSON.stringify(pages.network(s));
  return [...RETRAIN, 'lesson', ...pages.allSettingNames()].filter((k) => from[k] !== to[k]
    && (RETRAIN.includes(k) || kind({ ...from, [k]: to[k] }) !== kind(from)));
}
const apply = (/** @type {Record<string, any>} */ patch) => {
  try { store.apply(patch); } catch (err) { showMessage(`That setting was not applied: ${messageOf(err)}`, 'error'); }
};
for (let n = 1; n <= Math.min(16, Math.max(2, navigator.hardwareConcurrency || 2)); n++) {
  $select('workers').add(new Option(String(n)));
}
for (const name of ['lr', 'batch', 'width', 'depth', 'odeSteps', 'particles', 'brushSize', 'brushRate', 'workers']) {
  const show = bindControl(name, S, Number, (n, v) => apply({ [n]: v }));
  store.subscribe([name], show);
}
for (const name of ['schedule', 'solver', 'show', 'field', 'preset', 'heat', 'trails', 'memo']) {
  const show = bindControl(name, S, name === 'heat' || name === 'trails' || name === 'memo' ? Boolean : String,
    (n, v) => apply({ [n]: v }));
  store.subscribe([name], show);
}
// The lesson picker: one radio button per lesson; a lesson opens on its first view.
$('lesson-picker').replaceChildren(...DEFS.map((l) => {
  const label = document.createElement('label');
  const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'lesson', value: l.id });
  input.addEventListener('change', () => { if (input.checked) apply({ lesson: l.id, field: viewsOf(l.id)[0].id }); });
  label.append(input, ` ${l.label}`);
  return label;
}));
const showLesson = (/** @type {Record<string, any>} */ s) => {
  for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=lesson]'))) {
    r.checked = r.value === s.lesson;
  }
};
showLesson(S());
store.subscribe(['lesson'], (s) => {
  showLesson(s);
  fillSelect($select('field'), viewsOf(s.lesson));
  $select('field').value = s.field;
});
// A view belongs to its lesson: a link or a save that names another lesson's view opens the
// lesson's first view.
if (viewOf(S().field).lesson !== S().lesson) store.apply({ field: viewsOf(S().lesson)[0].id });
$select('field').value = S().field;
// The embed's view selector: the views of the lesson; its link opens the same state, whole.
fillSelect($select('embed-field'), viewsOf(S().lesson));
$select('embed-field').value = S().field;
$select('embed-field').addEventListener('change', () => apply({ field: $select('embed-field').value }));
store.subscribe(['lesson'], (s) => fillSelect($select('embed-field'), viewsOf(s.lesson)));
store.subscribe(['field', 'lesson'], (s) => { $select('embed-field').value = s.field; });
/** The embed's link to the whole app: the current state without embed=1. */
const embedLink = () => toHash(PROPS, { ...store.settings(), embed: false }, cloud.view(), cloud.labelsView());
// The lessons' pages, in the registry's order.
const pages = new LessonPages(DEFS, {
  store, session, fields, training, chart, cloud, apply, count: () => cloud.count, labels: () => holdOut.labels(),
  catalog: CATALOG,
});
/**
 * What the stage shows, for the flow worker (it computes those flows first, and runs the open
 * lesson's jobs): the open lesson's flows, else the learned flow and the exact one (or the
 * view's extra flow in its place).
 * @param {Record<string, any>} s
 */
function showStage(s) {
  session.setStage(pages.shows(s) ?? ['learned', viewOf(s.field).extraFlow ?? 'exact'], s.lesson);
}
store.subscribe('*', (s) => showStage(s));
// The held-out split follows the memorization check and the seed; it changes what is trained
// on and what the exact field is made of, so it comes before the cloud is sent and the network
// reset (once each, whichever keys changed).
store.subscribe(['memo', 'seed'], () => makeSplit());
store.subscribe(['schedule', 'memo', 'seed'], (s, changed) => {
  if (changed.has('schedule') || changed.has('memo') || s.memo) sendCloud();
});
// A new network for new training settings, or when the open lesson trains another kind of
// network (entering or leaving a lesson whose network differs, or a change of its settings);
// the message bar says so when a trained network is discarded.
let network = JSON.stringify(pages.network(S()));
store.subscribe([...RETRAIN, 'lesson', ...pages.allSettingNames()], (s, changed) => {
  const now = JSON.stringify(pages.network(s));
  const keys = RETRAIN.filter((k) => changed.has(k));
  if (now !== network) keys.push(...(changed.has('lesson') ? ['lesson'] : pages.allSettingNames()));
  network = now;
  const causes = keys.filter((k) => changed.has(k));
  if (!causes.length) return;
  const trained = training.steps;
  training.reset();
  if (trained > 0) {
    showMessage(`${causes.map((k) => settingName(k, s)).join(', ')}: a new network, so training restarts from step `
      + `0 (the network trained for ${trained.toLocaleString('en')} steps is discarded)`
      + `${training.running ? '' : '; press Train to train it'}.`, 'info', 'new-network');
  }
});
store.subscribe(['seed', 'solver', 'odeSteps', 'particles'],
  (s) => session.setupFlows({ particles: s.particles, seed: s.seed, solver: s.solver, steps: s.odeSteps }));
store.subscribe(['lr'], (s) => training.setLr(s.lr));
store.subscribe(['workers'], (s) => session.setWorkers(s.workers));
store.subscribe(['show'], () => layoutStages());
store.subscribe(['seed'], (s) => { $('seed-out').textContent = String(s.seed); });
store.subscribe(['field'], (s) => {
  const view = viewOf(s.field);
  announce(`Field view: ${view.label}`);
  if (view.needs.z && !s.z) {
    setTool('pick');
    showMessage('Click a data point on the stage to choose z (or move the stage cursor with the arrow keys and press '
      + 'Enter).', 'info', 'pick-z');
  }
  // The Pick z tool belongs to the conditional view: leaving the view puts the brush back.
  if (!view.needs.z && ui.tool === 'pick') setTool('spray');
});
store.subscribe(['z'], (s) => { if (s.z) clearMessage('pick-z'); });
store.subscribe(['memo'], (s) => { if (s.memo) store.apply({ play: false, t: 1 }); });
// Saved, and written to the address bar, on every change of a setting (t only when paused:
// while time plays it changes every frame) and of the drawing: storage and the address bar in
// one step (debounced: the browser limits how often the address may change), and at once when
// the page is hidden or unloaded (a closed tab or a reload keeps the last stroke; a reload still
// sends the older address, so the tab's latest link is kept for it, see persist.js).
/** @type {ReturnType<typeof setTimeout> | undefined} */
let saveTimer;
/** An edit or a setting not yet written (leaving the page writes it; an idle tab writes nothing, so
 * closing it never overwrites what another tab saved since). */
let unsaved = false;
/** The link to the current state (t only while paused: while time plays, it is not a moment). */
function currentHash() {
  const settings = store.settings();
  return toHash(PROPS, settings.play ? { ...settings, t: PROPS.t.def } : settings, cloud.view(), cloud.labelsView());
}
/** Writes the state to storage and the address bar now (and lists a replaced drawing at once). */
function saveNow() {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  unsaved = false;
  const kept = persist.save(store.settings(), cloud.view(), cloud.labelsView());
  const hash = currentHash();
  if (location.hash !== hash) history.replaceState(null, '', hash);
  if (S().embed) $('embed-open').setAttribute('href', embedLink());
  if (kept) showRecent();
}
const scheduleSave = () => {
  unsaved = true;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, 120);
};
store.subscribe('*', (s, changed) => {
  if ([...changed].some((k) => k in PROPS && (k !== 't' || !s.play))) scheduleSave();
});
/** The page is being hidden or unloaded: everything is written synchronously. */
const saveBeforeLeaving = () => {
  const shown = location.hash;
  if (unsaved) saveNow();
  persist.rememberTab(shown, currentHash());
};
// beforeunload comes first on a reload (before the new page starts): writing then leaves the
// most time for the writes to reach the new page; pagehide and visibilitychange cover closing.
window.addEventListener('beforeunload', saveBeforeLeaving);
window.addEventListener('pagehide', saveBeforeLeaving);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') saveBeforeLeaving();
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
  unsaved = true;
  checkZ();
  clearTimeout(cloudTimer);
  cloudTimer = setTimeout(() => {
    announce(`${cloud.count.toLocaleString('en')} point${cloud.count === 1 ? '' : 's'}`);
    makeSplit();
    sendCloud();
    saveNow();
    training.cloudChanged();
  }, 120);
});

/**
 * The first-visit hint, shown only while it is true: the preset is untouched, nothing is
 * trained, nothing trains, and no tour is open.
 */
function showHint() {
  $('hint').hidden = !(start.points === null && !ui.edited && !training.running && training.steps === 0
    && $('tour').hidden);
}

// ---- tools and buttons ----
/** @param {string} name */
function setTool(name) {
  ui.tool = name;
  for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=tool]'))) {
    r.checked = r.value === name;
  }
  ui.hover = null;
}
for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=tool]'))) {
  r.addEventListener('change', () => setTool(r.value));
}
/**
 * Replaces the drawing, keeping the old one among the recent drawings (and undoable).
 * @param {ArrayLike<number>} points
 * @param {string} why
 * @param {ArrayLike<number>} [labels] one per point (default all 1)
 */
function replaceDrawing(points, why, labels = undefined) {
  persist.keep(store.settings(), cloud.view(), why, cloud.labelsView());
  cloud.replace(points, labels);
  showRecent();
}
$('undo').addEventListener('click', () => cloud.undo());
$('storage-export').addEventListener('click', () => $('export-csv').click());
$('clear').addEventListener('click', () => replaceDrawing(new Float32Array(0), 'cleared'));
$('load-preset').addEventListener('click', () => {
  const { points, labels } = presetDrawing(S().preset, S().seed);
  replaceDrawing(points, 'replaced by a preset', labels);
});

// Recent drawings: what a link, an import, a preset, Clear or another tab replaced.
const showRecent = attachRecent($select('recent'), persist, (settings, points, labels) => {
  openDrawing(settings, points, 'replaced by a recent drawing', labels);
  return cloud.count;
}, showMessage);
const toggleTraining = () => {
  training.toggle();
  showHint();
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

attachKeys({
  toggleTraining, toggleTime, nextView: () => apply({ field: nextView(S().field) }), undo: () => cloud.undo(),
});

attachPointer($canvas('stage'), {
  view: stages[0].view,
  cloud,
  tool: () => ui.tool,
  // The open lesson says which class a stroke draws and which the eraser takes.
  brush: () => ({ size: S().brushSize, rate: S().brushRate, ...pages.brush(S()) }),
  onPick: (i) => apply(i >= 0 ? { z: cloud.at(i), field: 'conditional' } : { z: null }),
  onHover: (x, y) => { ui.hover = ui.tool === 'inspect' && x !== null && y !== null ? { x, y } : null; },
  onFull: () => showMessage(`The cloud holds at most ${MAX_POINTS.toLocaleString('en')} points; erase some to draw `
    + `more.`),
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
 * @param {ArrayLike<number>} [labels]
 */
function openDrawing(settings, points, why, labels = undefined) {
  replaceDrawing(points, why, labels);
  apply({ ...settings, z: snapZ(settings.z) });
  sendCloud();
  training.reset();
}
attachModelExport({ session, cloud, store, fields, usage: (name) => pages.pythonUsage(S(), name) });
attachIo({
  props: PROPS, store, cloud, stageCanvas: $canvas('stage'),
  open: openDrawing,
  replacePoints: replaceDrawing,
});

// ---- the guided tour sets up the stage for each step ----
const tour = new Tour({
  snapshot: () => ({ settings: store.settings(), tool: ui.tool }),
  lesson: () => S().lesson,
  steps: () => DEFS.find((l) => l.id === S().lesson)?.tour ?? DEFS[0].tour,
  // The learner's settings come back, except those that would discard the network trained
  // during the tour: they stay as the tour set them, and the message bar says which.
  restore: ({ settings, tool }) => {
    const kept = training.steps > 0 ? resetting(S(), settings) : [];
    const patch = Object.fromEntries(Object.entries(settings).filter(([k]) => !kept.includes(k)));
    apply(patch);
    checkZ();
    setTool(tool);
    showHint();
    if (kept.length) {
      showMessage(`Tour closed: your settings are back, and the network trained during the tour `
        + `(${training.steps.toLocaleString('en')} steps) is kept with the settings it was trained with: `
        + `${kept.map((k) => settingName(k, S()).replace(/^(The|A new) /, '')).join(', ')}. `
        + 'Changing them starts a new network.', 'info', 'tour-kept');
    }
  },
  setUp: ({ patch, time, tool, pickZ, train }) => {
    const z = pickZ && !S().z && cloud.count > 0 ? { z: cloud.at(0) } : {};
    apply({ ...patch, ...z, ...(time === 'play' ? { play: true } : { play: false, t: time }) });
    if (tool) setTool(tool);
    if (train && !training.running) training.toggle(true);
  },
});

// ---- the frame loop (frame.js composes each frame from the state) ----
const solverLabel = (/** @type {string} */ id) => CATALOG.solvers.find((c) => c.id === id)?.label ?? id;
const frameLoop = new FrameLoop({
  store, cloud, fields, clock, chart, stages, session, ui, solverLabel, split: () => holdOut.split, lesson: pages,
});

// ---- start ----
$('seed-out').textContent = String(S().seed);
showRecent();
layoutStages();
showCount();
// The first-visit hint names the input the device has (no Space key on a touch-only screen).
if (matchMedia('(hover: none) and (pointer: coarse)').matches) {
  $('hint').textContent = 'Tap Draw and spray your own shape, or tap Train to learn this one.';
}
showHint();
if (start.problem) showMessage(start.problem, 'error');
session.setupFlows({ particles: S().particles, seed: S().seed, solver: S().solver, steps: S().odeSteps });
session.setWorkers(S().workers);
makeSplit();
sendCloud();
showStage(S());
training.reset();
frameLoop.start();
// Each lesson offers its tour on first entry (once: remembered in this browser).
if (!Tour.seen(S().lesson) && !start.fromLink) tour.open();
store.subscribe(['lesson'], (s) => { if (!s.embed && !Tour.seen(s.lesson) && !tour.isOpen()) tour.open(); });
installTestHook({
  store, cloud, chart, session, training, tour, ui, pages, fields, exportedSamples,
  wasmMemory: () => wasm.memory.buffer.byteLength,
  urlCurrent: () => location.hash === currentHash(),
});
if (S().embed) $('embed-open').setAttribute('href', embedLink());
document.body.dataset.ready = '1';
