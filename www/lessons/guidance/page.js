// @ts-check
// The guidance lesson (classifier-free guidance, MIT 6.S184): the drawing in classes, one
// class-conditional network trained with label dropout, and the guided field
// (1 - w) u_t(x) + w u_t(x|y), exact and learned. Its controls (the class a stroke draws and
// erases, the class sampled, the scale w), the particles it shows (guided flows of the sampled
// class, in that class's colour) and its measures: for w = 0, 1, 2, 4 the share of samples of
// class y whose nearest data point is of class y (fidelity) and their spread, exact and
// learned. Every caption is worded from the numbers it shows. The flow worker computes; this
// module reads the store and writes only the lesson's own settings.
import { F, inline, block } from '../../math.js';
import { $, $select, setIfChanged, showMessage, bindControl } from '../../ui.js';
import { fmt, CLASS_STYLES } from '../../render.js';
import { compare, pm, Z } from '../../compare.js';

/** A fidelity this close to 1 reads as "all". */
const ALL = 0.995;

/**
 * What the lesson reads and calls; its labels() are the labels of the points the exact field
 * is made of (the training share while some are held out).
 * @typedef {import('../../pages.js').PageApp} GuidanceApp
 */
/**
 * The figures of one measurement.
 * The figures of one measurement: per w, [fidelity, spread] (means over `draws` draws of
 * `particles` samples) and their standard errors (binomial for the fidelity).
 * @typedef {{ klass: number, steps: number, w: number[], exact: number[][], learned: number[][],
 *   exactSe: number[][], learnedSe: number[][], particles: number, draws: number }} GuideFig
 */

export class GuidanceLesson {
  /** @param {GuidanceApp} app */
  constructor(app) {
    /** The settings last sent to the lesson's jobs. @type {{ klass: number, w: number } | null} */
    this.sent = null;
    this.app = app;
    /** @type {GuideFig | null} */
    this.fig = null;
    this.lastKey = '';
    const { store, apply } = app;
    const S = () => store.state;
    // The class a stroke draws (and the eraser erases): one radio button each, with its shape.
    $('class-picker').replaceChildren(...CLASS_STYLES.map((c, k) => {
      const label = document.createElement('label');
      const input = Object.assign(document.createElement('input'),
        { type: 'radio', name: 'brushClass', value: String(k + 1) });
      input.addEventListener('change', () => { if (input.checked) apply({ brushClass: k + 1 }); });
      const glyph = Object.assign(document.createElement('span'), { textContent: c.glyph, className: 'glyph' });
      glyph.style.color = c.color;
      glyph.setAttribute('aria-hidden', 'true');
      label.append(input, glyph, ` ${c.name}`);
      return label;
    }));
    const showBrush = (/** @type {Record<string, any>} */ s) => {
      for (const r of /** @type {NodeListOf<HTMLInputElement>} */ (
        document.querySelectorAll('input[name=brushClass]'))) {
        r.checked = Number(r.value) === s.brushClass;
      }
    };
    showBrush(S());
    store.subscribe(['brushClass'], showBrush);
    $select('sampleClass')
      .replaceChildren(...CLASS_STYLES.map((c, k) => new Option(`${c.glyph} ${c.name}`, String(k + 1))));
    for (const name of ['guidance', 'sampleClass']) {
      const show = bindControl(name, S, Number, (n, v) => apply({ [n]: v }));
      store.subscribe([name], show);
    }
    $('guidance-formula').innerHTML = `Each class y has its own path ${block(F.pCondClass)}and field `
      + `${inline(F.classField)}, its weights normalised within class y: ${block(F.classWeights)}One network learns `
      + `both `
      + `${inline('<msubsup><mi>u</mi><mi>t</mi><mi>θ</mi></msubsup>'
        + '<mo>(</mo><mi>x</mi><mo>|</mo><mi>y</mi><mo>)</mo>')} and, with the label dropped (15 % of the samples), `
      + `the unconditional field; sampling mixes them: ${block(F.guided)}`;
    // The fallback from an empty sampled class is announced when the learner picks the class
    // (not when the drawing is sent: at start-up a message about the link comes first).
    store.subscribe(['lesson', 'sampleClass', 'guidance'], (s) => this.sync(s, true));
    store.subscribe(['cloudVersion'], (s) => this.sync(s, false));
    this.sync(S(), false);
  }

  /** Points per class (index 0: class 1). */
  counts() {
    const n = [0, 0, 0, 0];
    for (const y of this.app.cloud.labelsView()) n[y - 1] += 1;
    return n;
  }

  /**
   * The page's class-conditional u_theta(x, t, y) at interleaved points (the arrows' class and
   * scale are put back after).
   * @param {number[]} xs
   * @param {number} t
   * @param {number} y
   */
  classVelocity(xs, t, y) {
    const s = this.app.store.state;
    this.app.fields.set_guidance(y, 1);
    try {
      return Array.from(this.app.fields.velocity('learned_class', Float32Array.from(xs), t));
    } finally {
      this.app.fields.set_guidance(this.sampled(s) || 1, s.guidance);
    }
  }

  /**
   * How Python samples the exported class-conditional network: the sampled class, at the
   * page's scale.
   * @param {Record<string, any>} s
   * @param {string} name the exported file's name
   */
  pythonUsage(s, name) {
    return `m = load("${name}"); m.sample(1000, y=${s.sampleClass}, w=${s.guidance}) for guided samples of class `
      + `${s.sampleClass}`;
  }

  /**
   * The class the flows sample: the chosen one, or (when it has no points) the first class
   * that has some, with a message; 0 when the drawing is empty.
   * @param {Record<string, any>} s
   */
  sampled(s) {
    const n = this.counts();
    if (n[s.sampleClass - 1] > 0) return s.sampleClass;
    const k = n.findIndex((c) => c > 0);
    return k < 0 ? 0 : k + 1;
  }

  /**
   * Sends the lesson's settings where they act: the page's Fields (arrows) and the flow
   * worker (guided flows and figures).
   * @param {Record<string, any>} s
   * @param {boolean} say whether a fallback from an empty sampled class is announced
   */
  sync(s, say) {
    const on = s.lesson === 'guidance';
    $('guidance-card').hidden = !on;
    setIfChanged($('guidance-out'), 'textContent', String(s.guidance));
    const n = this.counts();
    for (const o of $select('sampleClass').options) o.disabled = n[Number(o.value) - 1] === 0;
    const klass = this.sampled(s);
    if (say && on && klass && klass !== s.sampleClass) {
      showMessage(`${CLASS_STYLES[s.sampleClass - 1].name} has no points: sampling `
        + `${CLASS_STYLES[klass - 1].name} instead. Draw in ${CLASS_STYLES[s.sampleClass - 1].name} to sample `
        + `it.`, 'info', 'empty-class');
    }
    if (klass) this.app.fields.set_guidance(klass, s.guidance);
    const key = `${klass}|${s.cloudVersion}`;
    if (key !== this.lastKey) {
      // New class or drawing: the table's rows were of the old one.
      this.fig = null;
      this.lastKey = key;
      /** @type {HTMLTableElement} */ ($('guide-table')).tBodies[0].replaceChildren();
    }
    // To the lesson's jobs in the flow worker (klass 0: no class to sample); a new class or
    // scale makes the guided particles shown stale at once.
    const msg = { type: 'settings', klass: on ? klass : 0, w: s.guidance };
    if (this.sent && this.sent.klass === msg.klass && this.sent.w === msg.w) return;
    this.sent = msg;
    this.app.session.post('guidance', msg, ['exact_guided', 'learned_guided']);
  }

  /** @param {GuideFig} m */
  onGuideFig(m) {
    if (m.klass !== this.sampled(this.app.store.state)) return;
    this.fig = m;
    const body = /** @type {HTMLTableElement} */ ($('guide-table')).tBodies[0];
    body.replaceChildren(...m.w.map((w, i) => {
      const tr = document.createElement('tr');
      const fid = (/** @type {number[]} */ f, /** @type {number[]} */ se) => (Number.isFinite(f[0])
        ? pctPm(f[0], se[0]) : pct(f[0]));
      const spr = (/** @type {number[]} */ f, /** @type {number[]} */ se) => (Number.isFinite(f[1])
        ? `${fmt(f[1])} ${pm(Z * se[1])}` : fmt(f[1]));
      for (const v of [String(w), fid(m.exact[i], m.exactSe[i]), spr(m.exact[i], m.exactSe[i]),
        fid(m.learned[i], m.learnedSe[i]), spr(m.learned[i], m.learnedSe[i])]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      return tr;
    }));
  }

  /**
   * A message of the flow worker for this lesson: the figures of a measurement.
   * @param {any} m
   */
  onMessage(m) {
    if (m.type === 'guidefig') this.onGuideFig(m);
  }

  /**
   * The measures as plain data, through JSON (for the test hook): the newest figures (w,
   * exact and learned [fidelity, spread]), the points per class, the class sampled.
   */
  measures() {
    const plain = { fig: this.fig, counts: this.counts(), sampled: this.sampled(this.app.store.state) };
    return JSON.parse(JSON.stringify(plain));
  }

  /**
   * The network this lesson trains: class-conditional (with the independent coupling).
   * @param {Record<string, any>} _s
   */
  network(_s) {
    return { labelled: true, coupling: 'independent' };
  }

  /**
   * Strokes draw in the chosen class, and the eraser takes only that class.
   * @param {Record<string, any>} s
   */
  brush(s) {
    return { label: s.brushClass, only: s.brushClass };
  }

  /** The drawing is shown in its classes (each class in its colour and shape). */
  showsClasses() {
    return true;
  }

  /** The lesson shows guided flows only (its table measures them): no unguided fit note. */
  hidesFit() {
    return true;
  }

  /**
   * The flows the stage shows (the flow worker computes them first): the guided ones.
   * @returns {string[]}
   */
  shows() {
    return ['exact_guided', 'learned_guided'];
  }

  /**
   * The particles the stage shows in this lesson (null outside it): the guided flows of the
   * sampled class, in its colour (rings learned, squares exact).
   * @param {Record<string, any>} s
   * @returns {import('../../frame.js').LessonParticles | null}
   */
  particles(s) {
    if (s.lesson !== 'guidance') return null;
    const traj = this.app.session.traj;
    const klass = this.sampled(s) || 1;
    const style = CLASS_STYLES[klass - 1];
    return {
      learned: traj.learned_guided, exact: traj.exact_guided, reach: traj.exact_guided, fixedTime: false,
      label: `Guided: ${style.name}, w = ${s.guidance}`,
      side: { learned: null, exact: traj.exact_guided, label: `Exact guided particles of ${style.name}` },
      labels: {
        learned: `learned guided particles of ${style.name} (rings; w = ${s.guidance})`,
        exact: `exact guided particles of ${style.name} (squares; closed form, w = ${s.guidance})`,
      },
      colors: { learned: style.color, exact: style.color },
    };
  }

  /**
   * The measured sentences the lesson's view captions quote.
   * @param {Record<string, any>} s
   * @returns {Record<string, string>}
   */
  facts(s) {
    if (s.lesson !== 'guidance') return {};
    const n = this.counts();
    const klass = this.sampled(s);
    if (!klass) return { guided: 'The drawing is empty: draw in a class or load a preset (its parts become classes).' };
    const name = CLASS_STYLES[klass - 1].name;
    const present = n.filter((c) => c > 0).length;
    const one = present === 1
      ? ' The drawing has one class only, so guidance has nothing to choose between: '
        + `pick ${CLASS_STYLES[klass % 4].name} and draw, or load a preset.`
      : '';
    const w = s.guidance;
    const mix = w === 0 ? 'w = 0: the unconditional field itself' : w === 1 ? 'w = 1: the class field itself'
      : w > 1 ? `w = ${w}: past the class field, away from the unconditional one (w > 1 amplifies the class)`
        : `w = ${w}: between the unconditional field and the class field`;
    return {
      guided: `${this.figureSentence(s)}${one}`,
      classField: `${name}: ${n[klass - 1].toLocaleString('en')} of `
        + `${n.reduce((a, b) => a + b, 0).toLocaleString('en')} points.${one}`,
      guidedField: `${mix}.${one}`,
    };
  }

  /**
   * The figures at the current w, when it was measured, else how they change.
   * @param {Record<string, any>} s
   */
  figureSentence(s) {
    const m = this.fig;
    const name = CLASS_STYLES[(this.sampled(s) || 1) - 1].name;
    if (!m) return `Measuring: ${name}'s samples for w = 0, 1, 2 and 4…`;
    const i = m.w.indexOf(s.guidance);
    const part = (/** @type {number[]} */ f, /** @type {number[]} */ se) => `${pctPm(f[0], se[0])} nearest a `
      + `point of ${name}, spread ${fmt(f[1])} ${pm(Z * se[1])}`;
    const learnedOk = m.learned.every((f) => Number.isFinite(f[0]));
    if (i >= 0) {
      return `At w = ${s.guidance}: exact `
        + `${part(m.exact[i], m.exactSe[i])}${learnedOk
          ? `; learned ${part(m.learned[i], m.learnedSe[i])} (after ${m.steps.toLocaleString('en')} steps)`
          : ' (train the network for the learned figures)'}.`;
    }
    const lo = Math.min(...m.w), hi = Math.max(...m.w);
    const where = s.guidance > hi ? `lies outside them, beyond w = ${hi} (not measured there)`
      : s.guidance < lo ? `lies outside them, below w = ${lo} (not measured there)`
        : `lies between two of them (not measured there)`;
    return `Measured at w = ${m.w.join(', ').replace(/, (?=[^,]*$)/, ' and ')} (the table); this w = ${s.guidance} `
      + `${where}.`;
  }

  /** The caption under the table, from its numbers. */
  caption() {
    const m = this.fig;
    const s = this.app.store.state;
    const klass = this.sampled(s);
    if (!klass) return 'The drawing is empty: draw in a class or load a preset.';
    const name = CLASS_STYLES[klass - 1].name;
    if (!m) return `Measuring ${name}'s guided samples (${CLASS_STYLES[klass - 1].glyph}) at w = 0, 1, 2 and 4…`;
    const at = (/** @type {number} */ w) => m.w.indexOf(w);
    const [e0, e1, e4] = [at(0), at(1), at(4)].map((i) => m.exact[i]);
    const own = classSpread(this.app.cloud, klass);
    const [s0, s1, s4] = [at(0), at(1), at(4)].map((i) => m.exactSe[i]);
    const [l0, l1, l4] = [at(0), at(1), at(4)].map((i) => m.learned[i]);
    const [t0, t1, t4] = [at(0), at(1), at(4)].map((i) => m.learnedSe[i]);
    return `${m.draws} draws of ${m.particles} samples of ${name} per w (± twice the standard error). `
      + figureText('Exact', e0, e1, e4, s0, s1, s4, own, name)
      + (m.learned.every((f) => Number.isFinite(f[0]))
        ? ` Learned (${m.steps.toLocaleString('en')} steps): ${figureText('', l0, l1, l4, t0, t1, t4, NaN, name)}`
        : ' Train the network for the learned figures.');
  }

  /**
   * Per frame: the class counts and the caption.
   * @param {number} _now
   * @param {Record<string, any>} s
   */
  draw(_now, s) {
    if (s.lesson !== 'guidance') return;
    const n = this.counts();
    setIfChanged($('class-counts'), 'textContent',
      CLASS_STYLES.map((c, k) => `${c.glyph} ${c.name}: ${n[k].toLocaleString('en')}`).join(' · '));
    setIfChanged($('guide-caption'), 'textContent', this.caption());
  }

  /**
   * The posterior weight of each class at the inspected point (the inspector's note).
   * @param {{ weights: ArrayLike<number> }} hover
   */
  inspectNote(hover) {
    const shares = [0, 0, 0, 0];
    // The weights are over the points of the exact field (the training share while some are
    // held out): their labels, in the same order.
    const labels = this.app.labels();
    let total = 0;
    for (let i = 0; i < labels.length && i < hover.weights.length; i++) {
      shares[labels[i] - 1] += hover.weights[i];
      total += hover.weights[i];
    }
    const parts = CLASS_STYLES.map((c, k) => (shares[k] > 0 ? `${c.name} ${pct(shares[k] / (total || 1))}` : ''))
      .filter(Boolean);
    return ` Posterior weight by class here: ${parts.join(', ')} (the class field averages over one class's points `
      + `only).`;
  }
}

/**
 * The figures at w = 0, 1 and 4 in words, by the comparison rule: fidelity (a share, binomial)
 * and spread from w = 1 to 4 are called higher or lower only beyond twice their standard error.
 * @param {string} who 'Exact', or '' (the learned figures)
 * @param {number[]} f0 [fidelity, spread] at w = 0
 * @param {number[]} f1 at w = 1
 * @param {number[]} f4 at w = 4
 * @param {number[]} se0 their standard errors at w = 0
 * @param {number[]} se1 at w = 1
 * @param {number[]} se4 at w = 4
 * @param {number} own the class's own spread (NaN: not quoted)
 * @param {string} name the class's name
 */
export function figureText(who, f0, f1, f4, se0, se1, se4, own, name) {
  const share = (/** @type {number[]} */ f, /** @type {number[]} */ se) => pctPm(f[0], se[0]);
  const fid = compare({ mean: f4[0], se: se4[0] }, { mean: f1[0], se: se1[0] }).verdict;
  const spread = compare({ mean: f4[1], se: se4[1] }, { mean: f1[1], se: se1[1] });
  let text = who
    ? `${who}: ${share(f0, se0)} land nearest a point of ${name} at w = 0 (the unconditional field ignores the `
      + `class), ${share(f1, se1)} at w = 1, ${share(f4, se4)} at w = 4`
    : `${share(f0, se0)}, ${share(f1, se1)} and ${share(f4, se4)}`;
  text += `; spread ${fmt(f1[1])} → ${fmt(f4[1])} from w = 1 to 4`
    + `${Number.isFinite(own) ? ` (the class's own points: ${fmt(own)})` : ''}`;
  const rose = fid === 'higher' ? `fidelity rose beyond its noise (${pct(f1[0])} → ${pct(f4[0])})`
    : f1[0] >= ALL ? `fidelity was already ${pct(f1[0])} at w = 1`
      : `fidelity ${fid === 'lower' ? 'fell' : 'is equal within sampling noise'} from w = 1 to 4`;
  if (spread.verdict === 'lower') {
    return `${text}${fid === 'higher'
      ? `: guidance buys fidelity with diversity (${rose}, the spread narrowed).`
      : `: a larger w draws the samples together (less diverse), while ${rose}.`}`;
  }
  const still = spread.verdict === 'equal' ? `the spread is equal within sampling noise (${pm(spread.noise)})`
    : 'the spread grew';
  return `${text}: ${rose}; ${still}.${!who && fid === 'higher'
    ? ' Where the network alone misses the class, guidance pushes its samples in.' : ''}`;
}

/** @param {number} v a share */
function pct(v) {
  return Number.isFinite(v) ? `${(100 * v).toFixed(v >= 0.995 && v < 1 ? 1 : 0)} %` : '–';
}

/**
 * A share with twice its standard error, in per cent: "97 ± 2.4 %".
 * @param {number} v
 * @param {number} se
 */
function pctPm(v, se) {
  return `${pct(v).replace(' %', '')} ± ${(100 * Z * se).toFixed(1)} %`;
}

/**
 * The RMS distance of class y's points to their centroid (as the figures' spread).
 * @param {import('../../draw.js').Cloud} cloud
 * @param {number} y
 */
function classSpread(cloud, y) {
  const pts = cloud.view(), labels = cloud.labelsView();
  let n = 0, cx = 0, cy = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === y) { n += 1; cx += pts[2 * i]; cy += pts[2 * i + 1]; }
  if (!n) return NaN;
  cx /= n; cy /= n;
  let s = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === y) s += (pts[2 * i] - cx) ** 2 + (pts[2 * i + 1] - cy) ** 2;
  return Math.sqrt(s / n);
}
