// @ts-check
// The diffusion lesson: the SDE extension of the flow on the same drawing. Its controls (the
// noise level sigma, the score correction, Langevin at a frozen t), the particles it shows
// (SDE ones on the stage, the ODE's on the second stage of the side-by-side layout, Langevin
// ones while that runs) and its measures: the marginal-match table (energy distances of the
// exact ODE and SDE particles to fresh samples of p_t), the Langevin histogram, and the W2 of
// learned SDE samples for several noise levels as training goes on. Every caption is worded
// from the numbers it shows. The flow worker computes everything (session.js); this module
// reads the store and writes only the lesson's own settings.
import { draw_w2_sigma_chart, draw_density_chart } from '../../pkg/fmp.js';
import { Trajectory } from '../../particles.js';
import { F, inline, block } from '../../math.js';
import { $, $canvas, setIfChanged, bindControl, fitChart } from '../../ui.js';
import { fmt } from '../../render.js';
import { comparePaired, pm, Z } from '../../compare.js';
import { LANGEVIN_MEASURE_STEPS } from './jobs.js';

/** Colours of the W2 chart's lines, in the order of the probe's sigmas (crate/src/plot.rs). */
const SIGMA_COLORS = ['rgb(90,90,90)', 'rgb(25,113,194)', 'rgb(47,158,68)', 'rgb(132,94,247)'];
/** The Langevin histogram: bins over [-HIST_HALF, HIST_HALF]. */
const HIST_BINS = 48;
const HIST_HALF = 3.5;
/** Chart redraws at most this often (ms). */
const REDRAW_MS = 200;
/** Below this multiple of the floor, two samples are called indistinguishable. */
const SAME_LAW = 3;
/** Within this multiple of the ODE's distance to p_t, the SDE's is the ODE's step error. */
const ODE_MARGIN = 1.25;

/** @typedef {import('../../pages.js').PageApp} DiffusionApp */

export class DiffusionLesson {
  /** @param {DiffusionApp} app */
  constructor(app) {
    this.app = app;
    /** @type {import('../../session.js').MatchRow[] | null} */
    this.rows = null;
    /** W2 history: steps, and 4 values per step. */
    /** @type {number[]} */ this.w2Steps = [];
    /** @type {number[]} */ this.w2Values = [];
    /** @type {number[]} */ this.sigmas = [0, 0.5, 1, 2];
    this.w2Generation = -1;
    this.w2Dirty = false;
    this.lastW2Draw = 0;
    /** Langevin: the newest frame, its step, and the first and latest measured distances. */
    /** @type {Trajectory | null} */ this.langevin = null;
    this.langevinStep = 0;
    this.langevinDone = false;
    /** @type {{ ed: number, floor: number, step: number, moved: number } | null} */ this.langevinFirst = null;
    /** @type {{ ed: number, floor: number, step: number, moved: number } | null} */ this.langevinLast = null;
    this.histDirty = false;
    this.lastHistDraw = 0;
    this.histKey = '';
    /** @type {Float32Array | null} */ this.curve = null;
    /**
     * The settings last sent to the lesson's jobs.
     * @type {{ sigma: number, correction: boolean, langevin: number | null } | null}
     */
    this.sent = null;

    const { store, apply } = app;
    const S = () => store.state;
    for (const [name, parse] of /** @type {[string, (v: string) => any][]} */ ([
      ['sigma', Number], ['scoreFix', Boolean], ['langevin', Boolean],
    ])) {
      const show = bindControl(name, S, parse, (n, v) => apply({ [n]: v }));
      store.subscribe([name], show);
    }
    $('sde-formula').innerHTML = `${block(F.sde)}with ${inline(F.sigmaT)}, so the noise vanishes where the particles `
      + `land, and the score term ${inline(F.scoreTerm)} stays finite at t = 1.`;
    store.subscribe(['lesson', 'sigma', 'scoreFix', 'langevin', 'cloudVersion'], (s, changed) => this.sync(s, changed));
    // t changes every frame while time plays: it matters here only as Langevin's frozen time.
    store.subscribe(['t'], (s, changed) => { if (s.langevin) this.sync(s, changed); });
    // Langevin runs at a frozen time: turning it on (in this lesson) pauses time; playing time
    // turns it off. Leaving it (unticking it, or leaving the lesson) gives back the time and the
    // play state it took, so the other lessons do not sit paused at the Langevin time.
    /** @type {{ play: boolean, t: number } | null} what Langevin took */
    this.took = null;
    store.subscribe(['langevin', 'lesson'], (s, changed) => {
      const active = s.langevin && s.lesson === 'diffusion';
      if (active && !this.took) {
        this.took = { play: s.play, t: s.t };
        if (s.play) apply({ play: false });
      } else if (!active && this.took) {
        const took = this.took;
        this.took = null;
        // (Unless the same change set the time itself: a tour putting the learner's back.)
        if (!s.play && !changed.has('play') && !changed.has('t')) apply(took.play ? { play: true } : { t: took.t });
      }
    });
    store.subscribe(['play'], (s) => {
      if (s.play && s.langevin && s.lesson === 'diffusion') apply({ langevin: false });
    });
    this.app.fields.set_diffusion(S().sigma, S().scoreFix);
    this.sync(S(), new Set(['lesson']));
  }

  /**
   * Sends the lesson's settings where they act: the page's Fields (arrows, Fokker-Planck
   * grid) and the flow worker (SDE flows, Langevin).
   * @param {Record<string, any>} s
   * @param {Set<string>} changed
   */
  sync(s, changed) {
    const on = s.lesson === 'diffusion';
    $('diffusion-card').hidden = !on;
    $('langevin-box').hidden = !(on && s.langevin);
    setIfChanged($('sigma-out'), 'textContent', String(s.sigma));
    if (changed.has('sigma') || changed.has('scoreFix')) this.app.fields.set_diffusion(s.sigma, s.scoreFix);
    const langevin = on && s.langevin ? s.t : null;
    if (langevin === null || changed.has('t') || changed.has('sigma') || changed.has('cloudVersion')) {
      this.langevin = null;
      this.langevinFirst = null;
      this.langevinLast = null;
      this.langevinStep = 0;
      this.langevinDone = false;
    }
    // A new drawing: the W2 history was of the old one.
    if (changed.has('cloudVersion')) { this.w2Steps = []; this.w2Values = []; this.w2Dirty = true; }
    if (changed.has('sigma') || changed.has('scoreFix') || changed.has('cloudVersion')) {
      this.rows = null;
      /** @type {HTMLTableElement} */ ($('match-table')).tBodies[0].replaceChildren();
    }
    // To the lesson's jobs in the flow worker (which run while the lesson is open); a new
    // noise makes the SDE particles shown stale at once.
    const msg = { type: 'settings', sigma: s.sigma, correction: s.scoreFix, langevin };
    const old = this.sent;
    if (old && old.sigma === msg.sigma && old.correction === msg.correction && old.langevin === msg.langevin) return;
    const noise = !old || old.sigma !== msg.sigma || old.correction !== msg.correction;
    this.sent = msg;
    this.app.session.post('diffusion', msg, noise ? ['exact_sde', 'learned_sde'] : []);
  }

  /**
   * The marginal-match table of the current settings (the session drops those of older ones).
   * @param {{ rows: import('../../session.js').MatchRow[] }} m
   */
  onMatch(m) {
    const s = this.app.store.state;
    this.rows = m.rows;
    const body = /** @type {HTMLTableElement} */ ($('match-table')).tBodies[0];
    body.replaceChildren(...m.rows.map((r) => {
      const tr = document.createElement('tr');
      for (const v of [`${r.t} (${r.tUsed.toFixed(3)})`, fmt(r.ode), fmt(r.sde), fmt(r.floor)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
    setIfChanged($('match-caption'), 'textContent', matchCaption(m.rows, s.sigma, s.scoreFix));
  }

  /**
   * The W2 probe's figures: per sigma, the mean over its draws (the chart's lines), the standard
   * error, and each draw's value (paired across sigmas: the same noise).
   * @param {{ generation: number, steps: number, sigmas: number[], values: number[], se: number[],
   *   draws: number[][] }} m
   */
  onW2Sigma(m) {
    // A new network (a reset, a new seed, a cleared cloud) starts a new history.
    const lastStep = this.w2Steps.length ? this.w2Steps[this.w2Steps.length - 1] : -1;
    if (m.generation !== this.w2Generation || m.steps < lastStep) { this.w2Steps = []; this.w2Values = []; }
    this.w2Generation = m.generation;
    if (m.steps === lastStep) { this.w2Steps.pop(); this.w2Values.splice(-m.values.length); }
    this.sigmas = m.sigmas;
    this.w2Steps.push(m.steps);
    this.w2Values.push(...m.values);
    this.w2Dirty = true;
    const legend = m.sigmas.map((sig, i) => `<span class="lv"><span class="sw" `
      + `style="background:${SIGMA_COLORS[i]}"></span>σ = ${sig} <b>${fmt(m.values[i])}</b> ${pm(Z * m.se[i])}</span>`)
      .join('');
    setIfChanged($('w2-legend'), 'innerHTML', legend);
    setIfChanged($('w2-caption'), 'textContent', w2Caption(m.steps, m.sigmas, m.values, m.se, m.draws));
  }

  /**
   * @param {{ t: number, step: number, data: Float32Array, ed: number, floor: number, moved: number,
   *   done?: boolean }} m
   */
  onLangevin(m) {
    const s = this.app.store.state;
    if (!s.langevin || s.lesson !== 'diffusion' || m.t !== s.t) return;
    if (m.step === 0) { this.langevinFirst = null; this.langevinLast = null; }
    const n = m.data.length / 2;
    const frames = new Float32Array(2 * m.data.length);
    frames.set(m.data); frames.set(m.data, m.data.length);
    this.langevin = new Trajectory(frames, n, 1);
    this.langevinStep = m.step;
    this.langevinDone = !!m.done;
    if (Number.isFinite(m.ed)) {
      const rec = { ed: m.ed, floor: m.floor, step: m.step, moved: m.moved };
      if (m.step === 0 || !this.langevinFirst) this.langevinFirst = rec;
      this.langevinLast = rec;
    }
    this.histDirty = true;
  }

  /**
   * A message of the flow worker for this lesson: the marginal-match table, the W2 of
   * learned SDE samples, a Langevin frame.
   * @param {any} m
   */
  onMessage(m) {
    if (m.type === 'match') this.onMatch(m);
    else if (m.type === 'w2sigma') this.onW2Sigma(m);
    else if (m.type === 'langevin') this.onLangevin(m);
  }

  /**
   * The measures as plain data (for the test hook): the marginal-match rows, the W2 history
   * (steps and values per sigma), the Langevin step and its first and last measured distances.
   */
  measures() {
    return {
      rows: this.rows,
      w2: { steps: [...this.w2Steps], values: [...this.w2Values], sigmas: [...this.sigmas] },
      langevin: {
        step: this.langevinStep, first: this.langevinFirst, last: this.langevinLast, shown: this.langevin !== null,
      },
    };
  }

  /**
   * The flows the stage shows (the flow worker computes them first): the SDE ones, and the
   * ODE's on the second stage of side by side (Langevin's frames are the lesson's own).
   * @param {Record<string, any>} s
   */
  shows(s) {
    const ode = s.show === 'side' || s.langevin ? ['learned', 'exact'] : [];
    return s.langevin ? ode : ['exact_sde', 'learned_sde', ...ode];
  }

  /**
   * The particles the stage shows in this lesson (null outside it): SDE particles, or the
   * Langevin ones at the frozen time; the side-by-side layout's second stage shows the ODE's.
   * @param {Record<string, any>} s
   * @returns {import('../../frame.js').LessonParticles | null}
   */
  particles(s) {
    if (s.lesson !== 'diffusion') return null;
    const traj = this.app.session.traj;
    const noise = `Euler–Maruyama, σ = ${s.sigma}${s.scoreFix ? '' : ', no score correction'}, ${s.odeSteps} steps`;
    if (s.langevin) {
      return {
        learned: null, exact: this.langevin, reach: null, fixedTime: true, label: `Langevin at t = ${s.t.toFixed(2)}`,
        side: { learned: traj.learned, exact: traj.exact, label: 'ODE (σ = 0) particles at this t' },
        labels: { learned: '', exact: `Langevin particles at frozen t (squares; exact score, σ = ${s.sigma}, step `
          + `${this.langevinStep.toLocaleString('en')})` },
      };
    }
    return {
      learned: traj.learned_sde, exact: traj.exact_sde, reach: traj.exact_sde, fixedTime: false,
      label: `SDE (σ = ${s.sigma}): rough paths`,
      side: { learned: traj.learned, exact: traj.exact, label: 'ODE (σ = 0): same noise, smooth paths' },
      labels: {
        learned: `learned SDE particles (rings; score from u_t^θ; ${noise})`,
        exact: `exact SDE particles (squares; `
          + `${noise})${s.show === 'side' ? '; the second stage: the ODE\'s, same colours' : ''}`,
      },
    };
  }

  /**
   * Per frame: redraws the lesson's charts when they changed (throttled) and words the
   * Langevin caption.
   * @param {number} now
   * @param {Record<string, any>} s
   */
  draw(now, s) {
    if (s.lesson !== 'diffusion') return;
    if (this.app.count() === 0) {
      for (const id of ['match-caption', 'w2-caption', 'langevin-caption']) {
        setIfChanged($(id), 'textContent',
          'The drawing is empty: draw some points (or load a preset) to see the SDE, its measures and Langevin '
          + 'dynamics.');
      }
      return;
    }
    if (this.w2Dirty && now - this.lastW2Draw > REDRAW_MS && fitChart($canvas('w2-chart'))) {
      draw_w2_sigma_chart($canvas('w2-chart'), Float32Array.from(this.w2Steps), Float32Array.from(this.w2Values),
        this.sigmas.length);
      this.w2Dirty = false;
      this.lastW2Draw = now;
    }
    if (!this.w2Steps.length) {
      setIfChanged($('w2-caption'), 'textContent', (this.app.session.last.weights?.steps ?? 0) > 0
        ? 'Measuring: learned SDE samples at t = 1 for σ = 0, 0.5, 1 and 2 (refreshed every few seconds while '
          + 'training).'
        : 'Train the network: every few seconds, learned SDE samples at t = 1 for σ = 0, 0.5, 1 and 2 are compared '
          + 'with the drawing (W2, 500 samples).');
    }
    if (!this.rows) setIfChanged($('match-caption'), 'textContent', 'Computing the exact ODE and SDE flows…');
    if (!s.langevin) return;
    setIfChanged($('langevin-t'), 'textContent', s.t.toFixed(2));
    const key = `${s.t}|${s.cloudVersion}`;
    if (key !== this.histKey) {
      this.curve = this.app.fields.density_first_coordinate(-HIST_HALF, HIST_HALF, HIST_BINS, s.t);
      this.histKey = key;
      this.histDirty = true;
    }
    if (this.histDirty && this.langevin && this.curve && now - this.lastHistDraw > REDRAW_MS
      && fitChart($canvas('langevin-hist'))) {
      const pts = this.langevin.final();
      const xs = new Float32Array(pts.length / 2);
      for (let i = 0; i < xs.length; i++) xs[i] = pts[2 * i];
      draw_density_chart($canvas('langevin-hist'), xs, this.curve, -HIST_HALF, HIST_HALF);
      this.histDirty = false;
      this.lastHistDraw = now;
    }
    setIfChanged($('langevin-caption'), 'textContent',
      langevinCaption(s, this.langevinStep, this.langevinFirst, this.langevinLast, this.langevinDone));
  }
}

/**
 * The marginal-match caption, worded from the table.
 * @param {import('../../session.js').MatchRow[]} rows
 * @param {number} sigma
 * @param {boolean} correction
 */
export function matchCaption(rows, sigma, correction) {
  const ratio = (/** @type {number} */ v, /** @type {number} */ floor) => v / Math.max(floor, 1e-12);
  const sde = rows.map((r) => ratio(r.sde, r.floor));
  const ode = rows.map((r) => ratio(r.ode, r.floor));
  const worst = Math.max(...sde);
  const odeWorst = Math.max(...ode);
  // The SDE keeps the marginals as the ODE does when, at every time, it is within SAME_LAW
  // times the floor or within ODE_MARGIN times the ODE's own distance (what remains then is
  // the error of the steps, which the ODE shares, not an effect of the noise).
  const kept = rows.every((r, i) => sde[i] < SAME_LAW || r.sde <= ODE_MARGIN * r.ode);
  const bad = rows.map((r, i) => (sde[i] < SAME_LAW || r.sde <= ODE_MARGIN * r.ode ? -1 : sde[i]));
  const at = rows[bad.indexOf(Math.max(...bad))];
  const head = 'Energy distance to fresh samples of p_t at the grid time nearest each t; floor: the mean over four '
    + 'pairs of fresh samples (sampling noise alone). ';
  const odeText = `the ODE's up to ${fmt(odeWorst)}×`;
  if (sigma === 0) return `${head}With σ = 0 the SDE is the ODE (by Euler steps): both within `
    + `${fmt(Math.max(worst, odeWorst))}× the floor.`;
  if (!correction && kept) {
    return `${head}Without the score correction the SDE particles should over-spread, but at σ = ${sigma} they stay `
      + `within ${fmt(worst)}× the floor (${odeText}): too little noise to tell `
      + `here${sigma < 2 ? '; raise σ to 2 or more' : ''}.`;
  }
  if (kept) {
    return `${head}The SDE particles are as close to p_t as the ODE's at every time (SDE up to ${fmt(worst)}×, `
      + `${odeText} the floor; what is above the floor is the error of the time steps, which both share): the same `
      + `marginals p_t, along rough paths.`;
  }
  if (!correction) {
    return `${head}Without the score correction the SDE particles leave p_t: at t = ${at.t} they are `
      + `${fmt(ratio(at.sde, at.floor))}× the floor (the ODE's ${fmt(ratio(at.ode, at.floor))}×). The noise spreads `
      + `them and nothing pulls them back.`;
  }
  return `${head}The SDE particles reach ${fmt(ratio(at.sde, at.floor))}× the floor at t = ${at.t} (the ODE's `
    + `${fmt(ratio(at.ode, at.floor))}×): Euler–Maruyama at ${sigma >= 2 ? `σ = ${sigma}` : 'these settings'} may need `
    + `more steps (raise ODE steps).`;
}

/**
 * The W2 chart's caption, worded from the newest figures by the comparison rule: each noisy
 * sigma against sigma = 0 over paired draws (the same start and noise for every sigma).
 * @param {number} steps
 * @param {number[]} sigmas
 * @param {number[]} values the mean W2 of each sigma's draws
 * @param {number[]} se their standard errors
 * @param {number[][]} draws each sigma's draws
 */
export function w2Caption(steps, sigmas, values, se, draws) {
  const n = draws[0]?.length ?? 0;
  const head = `After ${steps.toLocaleString('en')} training steps: W2 between 500 learned SDE samples at t = 1 and `
    + `the drawing, mean of ${n} draws ± twice its standard error (σ = 0 is Euler's ODE). `;
  const ode = values[0];
  if (!values.every(Number.isFinite)) {
    const bad = sigmas.filter((_, i) => !Number.isFinite(values[i])).join(', ');
    return `${head}The samples for σ = ${bad} are not finite: the network diverged (lower the learning rate and `
      + `reset).`;
  }
  const odeText = `${fmt(ode)} ${pm(Z * se[0])}`;
  const verdicts = sigmas.map((_, i) => comparePaired(draws[i], draws[0]));
  const noisy = sigmas.map((_, i) => i).slice(1);
  const lower = noisy.filter((i) => verdicts[i].verdict === 'lower');
  const higher = noisy.filter((i) => verdicts[i].verdict === 'higher');
  const list = (/** @type {number[]} */ ids) => ids.map((i) => `σ = ${sigmas[i]} by ${fmt(Math.abs(verdicts[i].diff))} `
    + `${pm(verdicts[i].noise)}`).join(', ');
  if (!lower.length && !higher.length) {
    const spread = Math.max(...noisy.map((i) => verdicts[i].noise));
    return `${head}Every noisy σ is equal to the ODE's ${odeText} within sampling noise (paired differences within `
      + `${pm(spread)}): at these settings noise neither repairs nor harms the network measurably.`;
  }
  if (!lower.length) {
    return `${head}No noisy σ is lower than the ODE's ${odeText}; higher: ${list(higher)}`
      + ` (paired draws): here noise does not repair the network.`;
  }
  let best = lower[0];
  for (const i of lower) if (values[i] < values[best]) best = i;
  const worse = higher.length ? `; higher: ${higher.map((i) => `σ = ${sigmas[i]}`).join(', ')}` : '';
  return `${head}Lower than the ODE's ${odeText} (paired draws): ${list(lower)}${worse}. Lowest at σ = `
    + `${sigmas[best]} (${fmt(values[best])}): the network's own score term pulls its samples back towards where it `
    + `puts the mass.`;
}

/**
 * The Langevin caption, worded from the measured distances.
 * @param {Record<string, any>} s
 * @param {number} step
 * @param {{ ed: number, floor: number, step: number, moved: number } | null} first
 * @param {{ ed: number, floor: number, step: number, moved: number } | null} last
 * @param {boolean} done
 */
export function langevinCaption(s, step, first, last, done) {
  if (s.sigma === 0) return 'σ = 0: Langevin has no noise and no drift, so the particles stand still. Raise σ.';
  if (!first || !last) return 'Starting Langevin dynamics from fresh samples of p_t…';
  const head = `Langevin dynamics at frozen t = ${s.t.toFixed(2)} (steps ds = 0.01, σ_t = ${s.sigma}·β_t), `
    + `${step.toLocaleString('en')} steps${done ? ' (stopped)' : ''}: `;
  // Only the start is measured yet: nothing is said about how far the particles move.
  if (last.step === 0) {
    return `${head}energy distance to fresh samples of p_t ${fmt(first.ed)} at the start (floor ${fmt(first.floor)}). `
      + `How far the particles move, and whether their distribution stays p_t, is measured every `
      + `${LANGEVIN_MEASURE_STEPS} steps.`;
  }
  const kept = last.ed < SAME_LAW * last.floor;
  // "Moving": a mean displacement above 0.02 (a tenth of the page's smallest brush).
  const moving = last.moved > 0.02;
  const motion = moving
    ? `The particles moved ${fmt(last.moved)} on average since the start`
    : `The particles moved only ${fmt(last.moved)} on average in ${last.step.toLocaleString('en')} steps`;
  return `${head}`
    + `energy distance to fresh samples of p_t ${fmt(first.ed)} at the start, ${fmt(last.ed)} at step `
    + `${last.step.toLocaleString('en')} (floor ${fmt(last.floor)}). `
    + (kept ? `${motion}, yet their distribution stays p_t: the histogram (bars) keeps to the exact density (line).`
      : `${motion}, and their distribution has drifted from p_t: the step is too coarse for this σ.`);
}
