// @ts-check
// The frame loop: every animation frame it advances time (never ahead of the exact flow while
// that is being computed), then composes what the page shows from the state: both stages,
// the caption, the legends, the stage's text alternative, the loss chart and its values, and
// the schedule chart. It reads the store and writes only t (through the store) and the DOM.
import { schedule_at, schedule_t_max, beta_min, draw_schedule_chart } from './pkg/fmp.js';
import { allViews, viewOf } from './views.js';
import { inspect, inspectorNote, heatFor, memorization, lossCaption, scheduleFormula } from './explain.js';
import { $, $input, $canvas, showMessage, setIfChanged, setLegend, fitChart, COLORS } from './ui.js';
import { fmt } from './render.js';
import { messageOf } from './state.js';

/**
 * What the loop reads.
 * @typedef {{ store: import('./store.js').Store, cloud: import('./draw.js').Cloud, fields: any,
 *   clock: import('./particles.js').Clock, chart: import('./chart.js').LossChart,
 *   stages: import('./stage.js').Stage[], session: import('./session.js').Session, ui: any,
 *   solverLabel: (id: string) => string, split: () => any, lesson: import('./pages.js').LessonPages }} FrameApp
 */
/**
 * The particles a lesson shows instead of the ODE's (null when it shows those): its learned
 * and exact flows, the flow time may not outrun (`reach`), whether they move at a fixed time
 * (`fixedTime`: time does not wait for them, and they leave no trails), labels for the stages
 * and the legend, and further learned flows (`more`, each in its own colour, drawn as rings).
 * @typedef {{ learned: any, exact: any, reach: any, fixedTime: boolean, label: string,
 *   side: { learned: any, exact: any, label: string }, labels: { learned: string, exact: string },
 *   more?: { traj: any, color: string, label: string }[],
 *   colors?: { learned: string, exact: string } }} LessonParticles
 */

/** A frame interval longer than this (ms) is a missed frame (at 60 Hz: 16.7 ms a frame). */
const LONG_MS = 25;
/** Frames over which the share of missed frames is counted (about a second). */
const LONG_WINDOW = 60;

export class FrameLoop {
  /** @param {FrameApp} app */
  constructor(app) {
    this.app = app;
    this.crashed = false;
    /** Frame interval, exponential average (ms), and whether trails are paused to keep up. */
    this.intervalEma = 16;
    this.lite = false;
    this.duty = 1; // the share of the time the workers compute (see Session.setDuty)
    /** The last LONG_WINDOW frame intervals, 1 for each longer than LONG_MS (a missed frame). */
    /** @type {number[]} */
    this.long = [];
    /** @type {number | null} */
    this.lastNow = null;
    this.legendKey = '';
    this.scheduleKey = '';
  }

  /** Starts drawing, one frame per animation frame; a failing frame is reported once and skipped. */
  start() {
    const frame = (/** @type {number} */ now) => {
      try {
        this.draw(now);
      } catch (err) {
        if (!this.crashed) {
          this.crashed = true;
          console.error(err); // the tests see it
          showMessage(`Drawing failed: ${messageOf(err)}`, 'error');
        }
      } finally {
        requestAnimationFrame(frame);
      }
    };
    requestAnimationFrame(frame);
  }

  /** @param {number} now */
  draw(now) {
    const { store, cloud, fields, clock, chart, stages, session, ui } = this.app;
    const started = performance.now();
    // Trails are the costliest drawing: when frames come slower than 25 ms they pause, and
    // come back below 18 ms (the flow status says so).
    if (this.lastNow !== null) {
      const interval = now - this.lastNow;
      this.intervalEma = 0.9 * this.intervalEma + 0.1 * Math.min(200, interval);
      this.long.push(interval > LONG_MS ? 1 : 0);
      if (this.long.length > LONG_WINDOW) this.long.shift();
    }
    this.lastNow = now;
    const longShare = this.long.length < LONG_WINDOW ? 0 : this.long.reduce((a, b) => a + b, 0) / LONG_WINDOW;
    if (!this.lite && this.intervalEma > 25) this.lite = true;
    else if (this.lite && this.intervalEma < 18) this.lite = false;
    // More than 4 % of the last second's frames missed (or, without trails, slower than 30
    // frames a second): the workers leave the page more of the CPU (down to a third of the
    // time; on 2 cores they compete with the page's compositing), and take it back slowly
    // once at most 1 % are missed.
    if (longShare > 0.04 || (this.lite && this.intervalEma > 36)) this.duty = Math.max(0.34, this.duty - 0.01);
    else if (longShare <= 0.01 && this.intervalEma < 28) this.duty = Math.min(1, this.duty + 0.002);
    session.setDuty(Math.round(this.duty * 20) / 20);
    let t1 = clock.tick(now, store.state.t, store.state.play);
    // The open lesson may show other particles than the ODE flows (its own flows).
    const lesson = this.app.lesson.particles(store.state);
    // While the exact flow is still being computed (or not yet begun), playing time does not
    // run ahead of it: the particles shown are those of time t. The slider's track shows how
    // far it is computed.
    const exact = lesson ? lesson.reach : session.traj.exact;
    const reach = cloud.count === 0 || lesson?.fixedTime ? 1 : exact ? (exact.complete() ? 1 : exact.reach()) : 0;
    if (store.state.play && t1 > reach) t1 = reach;
    if (t1 !== store.state.t) store.apply({ t: t1 });
    setIfChanged($('time'), 'style', `--reach: ${(100 * reach).toFixed(1)}%`);
    const s = store.state;
    const t = s.t;
    if (Number($input('time').value) !== t) $input('time').value = String(t);
    setIfChanged($('t-out'), 'textContent', t.toFixed(2));
    setIfChanged($('time-play'), 'textContent', s.play ? '❚❚' : '▶');
    setIfChanged($('time-play'), 'ariaPressed', String(s.play));
    const pts = cloud.view();
    const [alpha, beta] = schedule_at(s.schedule, t);
    const view = viewOf(s.field);
    const usable = cloud.count > 0 && !(view.needs.model && !fields.has_model()) && !(view.needs.z && !s.z);
    const shown = usable ? view : allViews()[0];
    const heat = cloud.count === 0 ? null : heatFor(shown.heat, s.heat);
    const extra = view.extraFlow ? session.traj[view.extraFlow] : null;
    const hover = ui.hover && cloud.count > 0 ? inspect(fields, cloud, ui.hover, t) : null;
    const base = {
      t, cloud: pts, cloudCount: cloud.count,
      versions: { cloud: s.cloudVersion, model: s.modelVersion, lesson: this.app.lesson.settingsKey(s) },
      // A lesson may draw each class in its colour and shape, and its particles in their own colours.
      cloudLabels: this.app.lesson.showsClasses(s) ? cloud.labelsView() : null,
      learnedColor: lesson?.colors?.learned, guideColor: lesson?.colors?.exact,
      trails: s.trails && !this.lite && !lesson?.fixedTime, alphaBeta: [alpha, beta], arrows: shown.arrows, heat,
      z: shown.arrows === 'conditional' ? s.z : null,
      learned: cloud.count > 0 ? (lesson ? lesson.learned : session.traj.learned) : null,
      more: cloud.count > 0 ? lesson?.more ?? [] : [],
      exact: cloud.count > 0 ? (lesson ? lesson.exact : view.extraFlow ? extra : session.traj.exact) : null,
      exactColor: lesson?.colors?.exact ?? COLORS[view.exactColor ?? 'exact'],
      inspector: hover,
      heldOut: s.memo ? this.app.split()?.heldout ?? null : null,
      cursor: ui.cursor.shown && document.activeElement === $('stage') ? [ui.cursor.x, ui.cursor.y] : null,
    };
    // Side by side: the first stage shows the learned particles, or in a lesson that shows
    // its own particles both of them (the second stage: the lesson's comparison, e.g. the ODE's).
    const sideBoth = s.show === 'side' && lesson !== null;
    stages[0].draw({
      ...base, showLearned: s.show !== 'exact', showExact: s.show === 'both' || s.show === 'exact' || sideBoth,
    });
    if (s.show === 'side' && lesson) {
      const any = cloud.count > 0;
      const side = { learned: any ? lesson.side.learned : null, exact: any ? lesson.side.exact : null };
      const trails = s.trails && !this.lite; // the ODE's smooth paths, also beside fixed-time ones
      stages[1].draw({ ...base, ...side, trails, showLearned: true, showExact: true, inspector: null, cursor: null });
      setIfChanged($('stage-label'), 'textContent', lesson.label);
      setIfChanged($('stage2-label'), 'textContent', lesson.side.label);
    } else if (s.show === 'side') {
      stages[1].draw({ ...base, showLearned: false, showExact: true, inspector: null, cursor: null });
      setIfChanged($('stage-label'), 'textContent', 'Learned u_t^θ');
      setIfChanged($('stage2-label'), 'textContent', view.sideLabel ?? 'Exact marginal u_t^target');
    }
    let note = '';
    if (s.memo) {
      const split = this.app.split();
      ui.memo ??= split
        ? memorization({ exact: session.full.exact ?? null, learned: session.full.learned ?? null }, split)
        : 'Draw at least 10 points to measure memorization.';
      note = ui.memo;
    } else if (hover) note = inspectorNote(hover) + this.app.lesson.inspectNote(s, hover);
    else if (heat?.note) note = heat.note(heat.summary?.kind === stages[0].summary?.kind ? stages[0].summary : null);
    // Where 1/beta_t appears the core evaluates at min(t, t_max), beta_t_max = beta_min: say so.
    const tMax = schedule_t_max(s.schedule);
    if (t >= tMax) {
      note += ` (t = 1 is evaluated at the clamp t = ${tMax.toFixed(tMax > 0.9999 ? 6 : 4)}, where β<sub>t</sub> = `
        + `${beta_min()}: at t = 1 itself β<sub>t</sub> = 0 and the fields divide by it.)`;
    }
    // While time plays the caption says so instead of the time of each frame: rewriting it (and
    // laying out its formulas again) every frame costs the page more than a frame's budget.
    const when = s.play ? 'as t plays from 0 to 1' : `at t = ${t.toFixed(2)}`;
    const facts = this.app.lesson.facts(s);
    const trails = s.trails && !this.lite && !lesson?.fixedTime;
    setIfChanged($('caption'), 'innerHTML', shown.caption(when, note, { s, beta: s.play ? NaN : beta, facts, trails }));
    this.legend(heat, view, s, lesson?.labels ?? null, cloud.count > 0 ? lesson?.more ?? [] : [], lesson?.colors);
    this.app.lesson.draw(now, s);
    setIfChanged($('stage'), 'ariaLabel', this.stageLabel(shown, t, s));
    ui.fit ??= this.fitNote();
    const status = exact && !exact.complete() ? `exact flow: computed to t = ${exact.reach().toFixed(2)}` : '';
    setIfChanged($('flow-status'), 'textContent',
      status || (this.lite && s.trails ? 'Trails off while frames are slow: the particles\' paths are not drawn.'
        : ''));
    // A lesson that shows other flows may hide the fit of the ODE's (learned vs exact).
    setIfChanged($('fit'), 'textContent', this.app.lesson.hidesFit(s) ? '' : ui.fit);
    chart.draw(now);
    const latest = chart.latest();
    setIfChanged($('loss-caption'), 'textContent', lossCaption(latest, chart.gap, chart.gapErr, chart.pairing));
    chart.showValues(latest);
    this.schedule(s.schedule, t);
    ui.frames += 1;
    const pending = stages[0].pending + (s.show === 'side' ? stages[1].pending : 0);
    ui.lastFrame = { field: shown.id, t, modelVersion: s.modelVersion, pending, ms: performance.now() - started };
  }

  /**
   * The stage's text alternative: what it shows now (view, time, points, particles, z).
   * @param {import('./views.js').View} view
   * @param {number} t
   * @param {Record<string, any>} s
   */
  stageLabel(view, t, s) {
    const n = this.app.cloud.count;
    const parts = [`Drawing stage, ${n.toLocaleString('en')} data point${n === 1 ? '' : 's'}`,
      `time t = ${t.toFixed(1)}`, view.id === 'none' ? 'no field view' : `field view: ${view.label}`];
    const shown = { both: 'learned (orange rings) and exact (blue squares) particles', learned: 'learned particles',
      exact: 'exact particles', side: 'learned particles here, exact ones on the second stage' }[s.show];
    if (n > 0) parts.push(shown);
    if (s.z) parts.push(`z at (${s.z[0].toFixed(2)}, ${s.z[1].toFixed(2)})`);
    return `${parts.join('; ')}. Arrow keys move a cursor, Enter uses the tool.`;
  }

  /**
   * How close the learned particles come to the exact ones at t = 1, as a number a learner
   * can watch fall (the rings settle on the squares when training works).
   */
  fitNote() {
    const d = this.app.session.fit;
    if (d === null || this.app.cloud.count === 0 || !this.app.session.traj.learned) return '';
    return `At t = 1, learned vs exact particles: energy distance ${fmt(d)} (two samples of one distribution give `
      + `about the sampling floor, not 0).`;
  }

  /**
   * The legend row under the stage (rebuilt only when it changes).
   * @param {any} heat
   * @param {import('./views.js').View} view
   * @param {Record<string, any>} s
   * @param {{ learned: string, exact: string } | null} labels the lesson's particle labels
   * @param {{ color: string, label: string }[]} more the lesson's further flows
   * @param {{ learned: string, exact: string }} [colors] the lesson's particle colours
   */
  legend(heat, view, s, labels, more, colors) {
    const items = [
      {
        color: colors?.learned ?? COLORS.learned,
        label: labels ? labels.learned
          : `learned u_t^θ particles (rings; ${this.app.solverLabel(s.solver)}, ${s.odeSteps} steps)`,
      },
      {
        color: colors?.exact ?? COLORS[view.exactColor ?? 'exact'],
        label: labels ? labels.exact : view.exactLabel ? `${view.exactLabel} (${this.app.solverLabel(s.solver)})`
          : `exact u_t^target particles (squares; ${this.app.solverLabel(s.solver)}, ${s.odeSteps} steps)`,
      },
      ...more.map((m) => ({ color: m.color, label: m.label })),
      { color: COLORS.data, label: 'data z_i' },
    ].filter((item) => item.label);
    if (heat?.legend) items.push(heat.legend());
    const key = JSON.stringify(items);
    if (key !== this.legendKey) { setLegend(items); this.legendKey = key; }
  }

  /**
   * The schedule chart and formula (redrawn when the schedule or t, to 0.01, changes).
   * @param {string} schedule
   * @param {number} t
   */
  schedule(schedule, t) {
    // Its marker moves in steps of 0.05 in t (a plotters redraw costs milliseconds: not every
    // frame while time plays); the formula changes only with the schedule.
    const key = `${schedule}|${Math.round(t * 20)}`;
    if (key === this.scheduleKey) return;
    const sameSchedule = this.scheduleKey.startsWith(`${schedule}|`);
    this.scheduleKey = key;
    const c = $canvas('schedule-chart');
    if (fitChart(c)) draw_schedule_chart(c, schedule, t);
    if (!sameSchedule) $('schedule-formula').innerHTML = scheduleFormula(schedule);
  }
}
