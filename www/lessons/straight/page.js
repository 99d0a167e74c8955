// @ts-check
// The straight-paths lesson (rectified flow, Liu et al. 2023; minibatch OT, Tong et al. 2023):
// why learned paths bend, and what an OT coupling and reflow change. Its controls (the
// coupling, which resets the network; Reflow, which freezes the network and trains a fresh one
// on pairs from its ODE), the particles it shows (every network of the chain in its own colour,
// the straight reference in the 'ot' view) and its measures: straightness S and crossing pairs
// of each network's paths, the NFE chart (W2 after 1..64 Euler steps) and the cost of an OT
// step. Every caption is worded from the numbers it shows. The workers compute (session.js);
// this module reads the store and the session and writes only the coupling setting.
import { draw_nfe_chart, nfe_steps, ot_block } from '../../pkg/fmp.js';
import { F, inline, block } from '../../math.js';
import { $, $button, $canvas, setIfChanged, showMessage, clearMessage, fitChart } from '../../ui.js';
import { fmt, COLORS } from '../../render.js';
import { comparePaired, atFloor, pm, Z } from '../../compare.js';

/** Colours of the frozen networks, by their place in the chain (the current one is orange). */
export const FROZEN_COLORS = ['#7048e8', '#2b8a3e', '#c2255c', '#8c5a28', '#495057'];
/** At most this many reflows in one chain (one colour each). */
const MAX_REFLOWS = FROZEN_COLORS.length;
/** A reflow distils a trained network: it needs at least this many steps. */
export const MIN_REFLOW_STEPS = 300;
/** Chart and table redraws at most this often (ms). */
const REDRAW_MS = 250;
/** Below this straightness the paths are called straight (S of straight lines is 0 up to rounding). */
const STRAIGHT_S = 1e-3;
/** Cost ratios below 1 + COST_NOISE are within the noise of the timing (a busy page). */
const COST_NOISE = 0.1;

/** What the lesson reads and calls. @typedef {import('../../pages.js').PageApp} StraightApp */
/**
 * The measured figures of one network (or of the straight reference, id 'ot').
 * @typedef {{ steps: number, s: number, crossings: number, particles: number,
 *   nfe: number[] | null, nfeSe: number[] | null, nfeDraws: number[][] | null,
 *   floor: { mean: number, se: number, sd: number } | null, nfeSteps: number }} Figures
 */

/**
 * A network a reflow froze (compared with the newer ones): its id (its place in the chain),
 * what it was (base coupling and reflow round), its steps and weights.
 * @typedef {{ id: number, coupling: string, round: number, steps: number,
 *   config: import('../../session.js').NetConfig, weights: Float32Array }} FrozenNet
 */

/**
 * The name of a network of a chain.
 * @param {string} coupling its base network's coupling
 * @param {number} round how many reflows made it (0: the base network)
 */
export function netName(coupling, round) {
  const base = coupling === 'ot' ? 'OT-coupled' : 'independent';
  return round === 0 ? base : `reflow ${round} (of ${base})`;
}

/** A colour '#rrggbb' as three bytes. */
const rgbOf = (/** @type {string} */ hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

export class StraightLesson {
  /** @param {StraightApp} app */
  constructor(app) {
    this.app = app;
    /** @type {Map<number | 'current' | 'ot', Figures>} */
    this.figures = new Map();
    this.generation = -1;
    this.dirty = true;
    this.lastDraw = 0;
    /** @type {{ batch: number, rounds: number, rates: Record<string, number> } | null} */
    this.cost = null;
    /** @type {string} */
    this.reflowNote = '';
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.costTimer = undefined;
    this.nfe = Array.from(nfe_steps());
    /** The chain: the current network's base coupling and reflow round, the networks reflows
     * froze (their weights, for the flow worker's jobs), and whether a reflow is computing its pairs. */
    this.chain = { coupling: 'independent', round: 0 };
    /** @type {FrozenNet[]} */
    this.frozen = [];
    this.reflowing = false;
    const { store, apply } = app;
    const couplings = app.catalog.couplings;

    // The coupling: one radio button each (a change resets the network, as width does).
    $('coupling-picker').replaceChildren(...couplings.map((c) => {
      const label = document.createElement('label');
      const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'coupling', value: c.id });
      input.addEventListener('change', () => { if (input.checked) apply({ coupling: c.id }); });
      label.append(input, ` ${c.label}`);
      return label;
    }));
    const showCoupling = (/** @type {Record<string, any>} */ s) => {
      for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input[name=coupling]'))) {
        r.checked = r.value === s.coupling;
      }
    };
    showCoupling(store.state);
    store.subscribe(['coupling'], showCoupling);
    $('straight-formula').innerHTML = `Paths bend where the field averages the directions of conditional paths that `
      + `pass one point at the same time. Straightness ${block(F.straightness)}is 0 for straight paths at constant `
      + `speed. Minibatch OT pairs each batch's noise with its data by ${inline(F.otCoupling)} (blocks of `
      + `${ot_block()}); a reflow trains a fresh network on the pairs of the current one's ODE, ${inline(F.reflow)}.`;
    $button('reflow').addEventListener('click', () => this.reflow());
    store.subscribe(['lesson'], (s) => this.sync(s));
    // The cost of a step with each coupling: measured again when what it depends on changes.
    store.subscribe(['lesson', 'batch', 'width', 'depth', 'schedule', 'coupling', 'cloudVersion'], (s) => {
      if (s.lesson === 'straight') this.askCost();
    });
    this.sync(store.state);
  }

  /** @param {Record<string, any>} s */
  sync(s) {
    const on = s.lesson === 'straight';
    $('straight-card').hidden = !on;
    this.dirty = true;
  }

  /** Asks the training worker to time both couplings (debounced: settings come in bursts). */
  askCost() {
    clearTimeout(this.costTimer);
    this.costTimer = setTimeout(() => { if (this.app.count() > 0) this.app.session.toTrainer({ type: 'cost' }); }, 400);
  }

  /** The figures of the current network belong to its generation: a new one starts afresh. */
  follow() {
    const { session } = this.app;
    // A reflow in progress has a new generation already; its network's figures carry over
    // when the old one is frozen (onReflow).
    if (this.reflowing) return;
    if (session.generation !== this.generation) {
      this.generation = session.generation;
      this.figures.delete('current');
      // A new chain (reset, clear): the frozen networks' figures go with them.
      for (const key of [...this.figures.keys()]) {
        if (typeof key === 'number' && !this.frozen.some((f) => f.id === key)) this.figures.delete(key);
      }
      this.dirty = true;
    }
  }

  /**
   * @param {number | 'current' | 'ot'} id
   * @returns {Figures}
   */
  entry(id) {
    let e = this.figures.get(id);
    if (!e) {
      e = { steps: 0, s: NaN, crossings: NaN, particles: 0, nfe: null, nfeSe: null, nfeDraws: null, floor: null,
        nfeSteps: -1 };
      this.figures.set(id, e);
    }
    return e;
  }

  /** @param {{ id: number | 'current' | 'ot', steps: number, s: number, crossings: number, particles: number }} m */
  onStraight(m) {
    this.follow();
    // An untrained network barely moves its particles: "straight" would say nothing.
    if (m.id === 'current' && m.steps === 0) return;
    const e = this.entry(m.id);
    Object.assign(e, { steps: m.steps, s: m.s, crossings: m.crossings, particles: m.particles });
    this.dirty = true;
  }

  /**
   * @param {{ id: number | 'current', steps: number, values: number[], se: number[], draws: number[][],
   *   floor: { mean: number, se: number, sd: number }, particles: number }} m
   */
  onNfe(m) {
    this.follow();
    if (m.id === 'current' && m.steps === 0) return;
    const e = this.entry(m.id);
    e.nfe = m.values;
    e.nfeSe = m.se;
    e.nfeDraws = m.draws;
    e.floor = m.floor;
    e.nfeSteps = m.steps;
    this.dirty = true;
  }

  /** @param {{ batch: number, rounds: number, rates: Record<string, number> }} m */
  onCost(m) {
    this.cost = m;
    this.dirty = true;
  }

  /**
   * A reflow's progress, its frozen network, or why it could not run.
   * @param {{ type: string, done?: number, total?: number, message?: string }} m
   */
  onReflow(m) {
    const { session } = this.app;
    if (m.type === 'reflow-failed') this.reflowing = false;
    if (m.type === 'frozen') this.freeze(m);
    if (m.type === 'reflow-progress') {
      this.reflowNote = `Reflow ${this.chain.round + 1}: carrying noise along the network's ODE (RK4, 100 steps): `
        + `${(m.done ?? 0).toLocaleString('en')} of ${(m.total ?? 0).toLocaleString('en')} pairs…`;
    } else if (m.type === 'reflow-failed') {
      this.reflowNote = '';
      showMessage(`Reflow not made: ${m.message}. The network is kept as it was.`, 'error');
    } else {
      // The frozen network is the one whose figures were 'current' until now.
      const frozen = this.frozen[this.frozen.length - 1];
      const figures = this.figures.get('current');
      if (figures) this.figures.set(frozen.id, figures);
      this.figures.delete('current');
      this.generation = session.generation;
      this.app.chart.reset();
      this.app.chart.setPairing('pairs');
      this.reflowNote = `Reflow ${this.chain.round} made: a fresh network learns the straight paths between pairs (x₀, `
        + `ODE_θ(x₀)) of ${netName(frozen.coupling, frozen.round)}; that network stays for comparison `
        + `(${colorName(frozen.id)} rings).`;
    }
    this.dirty = true;
  }

  /** The Reflow button: checks that a reflow makes sense, then asks the session for one. */
  reflow() {
    const { session, training, count } = this.app;
    if (count() === 0) {
      showMessage('The drawing is empty: draw some points (or load a preset), train, then reflow.', 'info');
      return;
    }
    if (this.reflowing) return;
    if (training.diverged) {
      showMessage('The network diverged: a reflow would copy paths that go nowhere. Lower the learning rate, press '
        + 'Reset and train again; your drawing is kept.', 'error');
      return;
    }
    if (this.frozen.length >= MAX_REFLOWS) {
      showMessage(`At most ${MAX_REFLOWS} reflows in one chain (each keeps its network for comparison). Press Reset to `
        + `start a new chain.`, 'info');
      return;
    }
    const steps = session.last.weights?.steps ?? 0;
    if (steps < MIN_REFLOW_STEPS) {
      // The fallback: train now; the learner presses Reflow again once the network has learned.
      if (!training.running) training.toggle(true);
      showMessage(`Train first: a reflow copies the paths of a trained network, and this one has `
        + `${steps.toLocaleString('en')} step${steps === 1 ? '' : 's'} (at least ${MIN_REFLOW_STEPS}). Training is `
        + `running now; press Reflow again after a few seconds.`, 'info', 'reflow');
      return;
    }
    const current = this.figures.get('current');
    if (current?.nfe && !current.nfe.every(Number.isFinite)) {
      showMessage('The network sends some samples to infinity: a reflow would copy that. Lower the learning rate, '
        + 'press Reset and train again.', 'error');
      return;
    }
    clearMessage('reflow');
    this.reflowNote = `Reflow ${this.chain.round + 1}: starting…`;
    this.reflowing = true;
    session.replace({ type: 'reflow', seed: this.app.store.state.seed + 7 + this.chain.round });
    this.dirty = true;
  }

  /**
   * The network a reflow replaced: kept in the chain (its flow and figures computed by the
   * lesson's jobs, which get copies of every frozen network's weights).
   * @param {{ steps: number, config: import('../../session.js').NetConfig, weights: Float32Array }} m
   */
  freeze(m) {
    this.reflowing = false;
    this.frozen.push({
      id: this.frozen.length, coupling: this.chain.coupling, round: this.chain.round, steps: m.steps,
      config: m.config, weights: m.weights,
    });
    this.chain = { ...this.chain, round: this.chain.round + 1 };
    this.app.session.dropFlows((key) => key === 'learned');
    this.postFrozen();
  }

  /** The frozen networks to the lesson's jobs (copies of their weights). */
  postFrozen() {
    const models = this.frozen.map((f) => ({ id: f.id, steps: f.steps, config: f.config, weights: f.weights.slice() }));
    this.app.session.post('straight', { type: 'frozen', models });
  }

  /**
   * A new network (reset, clear) starts a new chain: the frozen ones go. A reflow's own new
   * network continues the chain.
   * @param {'reset' | 'clear' | 'replace'} why
   * @param {import('../../session.js').NetConfig | null} config
   */
  onNetwork(why, config) {
    if (why === 'replace') return;
    this.chain = { coupling: config?.coupling ?? this.chain.coupling, round: 0 };
    this.reflowing = false;
    if (this.frozen.length) { this.frozen = []; this.postFrozen(); }
    this.app.session.dropFlows((key) => key.startsWith('frozen'));
  }

  /** A reflow network learned pairs of the old drawing's network: an edit starts a new chain. */
  resetOnEdit() {
    if (this.chain.round === 0 && !this.reflowing) return null;
    return 'The drawing changed: the reflow networks learned pairs of the old drawing, so the chain starts again with '
      + 'a fresh network on this one.';
  }

  /**
   * The networks of the chain, oldest first: id, name, colour, figures.
   * @returns {{ id: number | 'current', name: string, color: string, figures: Figures | undefined }[]}
   */
  nets() {
    return [
      ...this.frozen.map((f) => ({
        id: f.id, name: netName(f.coupling, f.round), color: FROZEN_COLORS[f.id], figures: this.figures.get(f.id),
      })),
      {
        id: /** @type {'current'} */ ('current'), name: netName(this.chain.coupling, this.chain.round),
        color: COLORS.learned, figures: this.figures.get('current'),
      },
    ];
  }

  /**
   * A message of the workers for this lesson: a network's straightness and crossings, its NFE
   * figures, the cost of a step with each coupling, a reflow's progress or result.
   * @param {any} m
   */
  onMessage(m) {
    if (m.type === 'straight') this.onStraight(m);
    else if (m.type === 'nfe') this.onNfe(m);
    else if (m.type === 'cost') this.onCost(m);
    else if (m.type === 'frozen' || m.type === 'reflow-progress' || m.type === 'reflow-failed') this.onReflow(m);
  }

  /**
   * The coupling chosen here is the network's in every lesson (a network trained with OT
   * pairs keeps training when another lesson opens), unless that lesson's network differs.
   * @param {Record<string, any>} s
   */
  sharedNetwork(s) {
    return { coupling: s.coupling };
  }

  /**
   * The measures as plain data, through JSON (for the test hook): each network of the chain
   * (id, name, colour, steps, S, crossings, NFE values), the straight reference's, the cost of
   * a step with each coupling, the chain's round and whether a reflow is computing.
   */
  measures() {
    return JSON.parse(JSON.stringify(this.plainMeasures()));
  }

  /** The measures (nets, reference, cost, chain). */
  plainMeasures() {
    return {
      nets: this.nets().map((n) => ({ id: n.id, name: n.name, color: n.color, ...(n.figures ?? {}) })),
      ot: this.figures.get('ot') ?? null,
      cost: this.cost,
      nfeSteps: this.nfe,
      round: this.chain.round,
      reflowing: this.reflowing,
      frozen: this.frozen.length,
    };
  }

  /**
   * The flows the stage shows (the flow worker computes them first): the straight reference
   * in its view, else every network's and the exact field's.
   * @param {Record<string, any>} s
   */
  shows(s) {
    const frozen = this.frozen.map((f) => `frozen${f.id}`);
    return s.field === 'ot' ? ['ot', 'learned'] : ['learned', 'exact', ...frozen];
  }

  /**
   * The particles the stage shows in this lesson (null outside it): the current network's
   * and the exact ones (or the straight reference in the 'ot' view), and each frozen
   * network's in its colour.
   * @param {Record<string, any>} s
   * @returns {import('../../frame.js').LessonParticles | null}
   */
  particles(s) {
    if (s.lesson !== 'straight') return null;
    const { session } = this.app;
    const traj = session.traj;
    const ot = s.field === 'ot';
    const exact = ot ? traj.ot : traj.exact;
    const nets = this.nets();
    const current = nets[nets.length - 1];
    const of = traj.ot?.of ?? 0;
    const otLabel = of > (traj.ot?.n ?? 0)
      ? `; the first ${traj.ot?.n.toLocaleString('en')} of ${of.toLocaleString('en')} particles: `
        + 'the assignment costs up to n³'
      : '';
    return {
      learned: traj.learned, exact, reach: exact, fixedTime: false,
      label: 'The networks',
      side: { learned: null, exact, label: ot ? 'Straight reference: OT pairs' : 'Exact marginal u_t^target' },
      labels: {
        learned: `${current.name}: current network (rings, ${s.odeSteps} steps)`,
        exact: ot ? `OT pairs on their paths (squares${otLabel})`
          : `exact u_t^target particles (squares, ${s.odeSteps} steps)`,
      },
      // The 'ot' view compares the current network with the reference alone.
      more: ot ? [] : this.frozen.map((f) => ({
        traj: traj[`frozen${f.id}`], color: FROZEN_COLORS[f.id],
        label: `${netName(f.coupling, f.round)} (rings, frozen at ${f.steps.toLocaleString('en')} steps)`,
      })),
    };
  }

  /**
   * The measured sentences the lesson's view captions quote.
   * @param {Record<string, any>} s
   * @returns {Record<string, string>}
   */
  facts(s) {
    if (s.lesson !== 'straight') return {};
    return { paths: this.pathsFact(), ot: this.otFact(s) };
  }

  /** Straightness and crossings of each network, as one sentence (or what is missing). */
  pathsFact() {
    const measured = this.nets()
      .flatMap((n) => (n.figures && Number.isFinite(n.figures.s) ? [{ name: n.name, f: n.figures }] : []));
    if (!measured.length) {
      return this.app.count() === 0 ? 'The drawing is empty: draw or load one.'
        : 'Train the network: the straightness of its paths is measured as it learns.';
    }
    const parts = measured.map(({ name, f }) => `${name} S = ${fmt(f.s)}, ${f.crossings} crossing pairs`);
    return `Measured on these paths (crossings among the first ${Math.min(100, measured[0].f.particles)}): `
      + `${parts.join('; ')}.`;
  }

  /** @param {Record<string, any>} s */
  otFact(s) {
    const e = this.figures.get('ot');
    if (!e) return 'Pairing the particles with the drawing…';
    const straight = e.s < STRAIGHT_S;
    const shape = straight
      ? `Straight lines at constant speed (S = ${fmt(e.s)})`
      : `With the ${s.schedule} schedule α<sub>t</sub> + β<sub>t</sub> ≠ 1, so these paths bend (S = ${fmt(e.s)}); the `
        + `linear schedule makes them straight`;
    const cross = e.crossings === 0 ? 'no two of the first 100 cross'
      : `${e.crossings} pairs of the first 100 cross in the plane, but never at the same time (in an optimal plan no `
        + `two particles are ever at one place at once)`;
    return `${shape}, and ${cross}. This is the flow that the OT coupling and reflow move the network towards.`;
  }

  /** The summary under the table, from the first and the last network measured. */
  summary() {
    const nets = this.nets().filter((n) => n.figures && Number.isFinite(n.figures.s));
    if (!nets.length) {
      return this.app.count() === 0 ? 'The drawing is empty: draw some points (or load a preset).'
        : 'Train the network: its paths are measured every few seconds '
          + '(S, crossings, and W2 after 1 to 64 Euler steps).';
    }
    const last = nets[nets.length - 1];
    const f = /** @type {Figures} */ (last.figures);
    if (nets.length === 1) {
      return f.s < STRAIGHT_S
        ? `${last.name}: S = ${fmt(f.s)}, its paths are straight.`
        : `${last.name}: S = ${fmt(f.s)} and ${f.crossings} crossing pairs among 100 paths: its paths `
          + `bend${this.app.store.state.coupling === 'independent'
            ? '. Try the minibatch OT coupling, or Reflow once it has trained'
            : '. Reflow once it has trained, to straighten them further'}.`;
    }
    const first = nets[0];
    const f0 = /** @type {Figures} */ (first.figures);
    const ratio = f0.s / Math.max(f.s, 1e-12);
    const times = (/** @type {number} */ r) => (r >= 10 ? Math.round(r).toLocaleString('en') : r.toFixed(1));
    const trend = ratio >= 1.5 ? `${times(ratio)}× straighter`
      : ratio <= 1 / 1.5 ? `${times(1 / ratio)}× less straight (it may need more training)` : 'about as straight';
    return `${last.name}: S = ${fmt(f.s)} and ${f.crossings} crossing pairs, against ${first.name}'s S = `
      + `${fmt(f0.s)} and ${f0.crossings}: ${trend}.`;
  }

  /**
   * The NFE chart's caption: how many Euler steps each network needs, by the comparison rule:
   * the fewest steps from which W2 is equal within sampling noise to the 64-step one (paired
   * draws: the same noise for every step count), and whether that is at the drawing's floor.
   */
  nfeCaption() {
    const nets = this.nets().filter((n) => n.figures?.nfe);
    if (!nets.length) return 'Once the network has trained: W2 between 500 samples after 1, 2, 4, …, 64 Euler steps '
      + 'and the drawing, for each network.';
    return nfeSentence(this.nfe, nets.map((n) => ({ name: n.name, f: /** @type {Figures} */ (n.figures) })));
  }

  /** The cost line: a step with each coupling, timed on this cloud. */
  costLine() {
    const c = this.cost;
    if (!c) return this.app.count() === 0 ? '' : 'Timing a training step with each coupling…';
    const ind = c.rates.independent, ot = c.rates.ot;
    const ratio = ind / ot;
    const verdict = ratio < 1 + COST_NOISE
      ? `within the timing noise (${ratio.toFixed(2)}×): at this batch the assignment adds no measurable cost`
      : `an OT step takes ${ratio.toFixed(2)}× the time of an independent one`;
    return `A training step at batch ${c.batch.toLocaleString('en')}, timed just now on this drawing (medians of `
      + `${c.rounds} alternating rounds): independent ${Math.round(ind).toLocaleString('en')} steps/s, minibatch OT `
      + `${Math.round(ot).toLocaleString('en')} steps/s; ${verdict} (exact assignment in blocks of ${ot_block()}).`;
  }

  /**
   * Per frame: the table, the captions and the NFE chart when they changed (throttled).
   * @param {number} now
   * @param {Record<string, any>} s
   */
  draw(now, s) {
    if (s.lesson !== 'straight') return;
    this.follow();
    const button = $button('reflow');
    const label = `Reflow (${this.chain.round + 1})`;
    setIfChanged(button, 'textContent', this.reflowing ? 'Reflowing…' : label);
    button.disabled = this.reflowing || this.app.count() === 0;
    setIfChanged($('reflow-status'), 'textContent', this.reflowing || this.reflowNote ? this.reflowNote
      : `${netName(this.chain.coupling, this.chain.round)} is training; `
        + 'Reflow freezes it and trains a fresh network on pairs from its ODE.');
    if (!this.dirty || now - this.lastDraw < REDRAW_MS) return;
    this.dirty = false;
    this.lastDraw = now;
    const nets = this.nets();
    const body = /** @type {HTMLTableElement} */ ($('models-table')).tBodies[0];
    body.replaceChildren(...nets.map((n) => {
      const tr = document.createElement('tr');
      const f = n.figures;
      const name = document.createElement('td');
      const sw = Object.assign(document.createElement('span'), { className: 'sw' });
      sw.style.color = n.color;
      name.append(sw, n.id === 'current' ? `${n.name} (current)` : n.name);
      tr.append(name);
      const at = (/** @type {number} */ k) => (f?.nfe ? fmt(f.nfe[this.nfe.indexOf(k)]) : '…');
      for (const v of [f ? f.steps.toLocaleString('en') : '…', f && Number.isFinite(f.s) ? fmt(f.s) : '…',
        f && Number.isFinite(f.crossings) ? String(f.crossings) : '…', at(1), at(4), at(64)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
    setIfChanged($('straight-caption'), 'textContent', this.summary());
    setIfChanged($('nfe-caption'), 'textContent', this.nfeCaption());
    setIfChanged($('ot-cost'), 'textContent', this.costLine());
    const withNfe = nets.filter((n) => n.figures?.nfe);
    const c = $canvas('nfe-chart');
    if (fitChart(c)) {
      const values = Float32Array.from(withNfe.flatMap((n) => /** @type {number[]} */ (n.figures?.nfe)));
      const rgb = Uint8Array.from(withNfe.flatMap((n) => rgbOf(n.color)));
      draw_nfe_chart(c, Float32Array.from(this.nfe), values, rgb);
    }
  }
}

/** The name of a frozen network's colour (the legend and the table show the colour itself). */
function colorName(/** @type {number} */ id) {
  return ['purple', 'green', 'pink', 'brown', 'grey'][id] ?? 'grey';
}

/**
 * The NFE caption from the figures of each network (mean of paired draws, their standard error,
 * the drawing's floor): see StraightLesson.nfeCaption.
 * @param {number[]} k the step counts
 * @param {{ name: string, f: Figures }[]} nets
 */
export function nfeSentence(k, nets) {
  const last = k.length - 1;
  /** @type {{ mean: number, se: number, sd: number } | null} */
  let floor = null;
  const parts = nets.map(({ name, f }) => {
    const v = /** @type {number[]} */ (f.nfe);
    const se = f.nfeSe ?? v.map(() => NaN);
    const draws = f.nfeDraws ?? v.map((x) => [x]);
    if (!v.every(Number.isFinite)) return `${name}: samples not finite (diverged)`;
    floor = f.floor ?? floor;
    const withSe = (/** @type {number} */ i) => `${fmt(v[i])} ${pm(Z * se[i])}`;
    // The fewest steps from which every count is not higher than 64 steps (paired draws).
    let enough = last;
    while (enough > 0 && comparePaired(draws[enough - 1], draws[last]).verdict !== 'higher') enough -= 1;
    const at64 = { mean: v[last], se: se[last] };
    const floorWord = f.floor && Number.isFinite(f.floor.mean)
      ? (atFloor(at64, f.floor) ? ', at the floor' : ', above the floor') : '';
    const same = enough === last ? 'fewer steps are measurably worse'
      : `from ${k[enough]} step${k[enough] === 1 ? '' : 's'} on, equal to it within sampling noise`;
    return `${name}: ${withSe(0)} after 1 step, ${withSe(last)} after ${k[last]}${floorWord}; ${same}`;
  });
  const fl = /** @type {{ mean: number, se: number, sd: number } | null} */ (floor);
  const floorText = fl && Number.isFinite(fl.mean)
    ? ` Floor: 500 points of the drawing against the rest of it, ${fmt(fl.mean)} ${pm(Z * fl.se)} (one draw `
      + `varies by ${fmt(fl.sd)}): what samples of the drawing's own law would score.`
    : '';
  return `W2 of 500 samples to the drawing (Euler steps on the time grid; mean of 4 draws with the same noise for `
    + `every step count, ± twice its standard error): ${parts.join('; ')}.${floorText}`;
}
