// @ts-check
// One stage canvas: composes a frame at time t from the data cloud, the particle
// trajectories, the field arrows and heatmaps (evaluated by the page's own wasm Fields and
// cached by time and version), the chosen z and the posterior inspector.
import {
  COLORS, View, fitCanvas, drawBackground, drawHeatmap, drawDots, drawClassDots, drawParticles, drawRings, drawTrails,
  drawArrows,
  drawConditionalPath, drawCursor,
} from './render.js';

const ARROW_GRID = 23;
const HEAT_GRID = 40;
/**
 * Main-thread time a frame may spend evaluating fields (arrows, heatmaps). A field that costs
 * more (a wide, deep network's residual grid) is computed in pieces over several frames while
 * the last complete one stays on screen, so every allowed setting keeps the page animating.
 */
const BUDGET_MS = 6;
/** Heatmaps of residuals and errors show only where log p_t is within this of its maximum. */
const MASK_NATS = 8;

/**
 * A value of `total` items of `stride` floats, computed in pieces across frames. A job for
 * an older key runs to its end before the newest key starts (a costly field shows late, not
 * never); the last complete value is what the stage draws meanwhile.
 */
class Progressive {
  constructor() {
    /** @type {{ key: string, value: Float32Array } | null} */
    this.done = null;
    /** @type {{ key: string, out: Float32Array, next: number, total: number, stride: number,
     *   piece: (start: number, count: number) => ArrayLike<number> } | null} */
    this.job = null;
    /** Measured cost of one item, ms (an exponential average). */
    this.msPerItem = 0;
  }
  /**
   * The newest complete value, after working on `key` until `deadline` (at least one piece).
   * @param {string} key names every input of the value
   * @param {number} total
   * @param {number} stride
   * @param {(start: number, count: number) => ArrayLike<number>} piece items start..start+count
   * @param {number} deadline a performance.now() time
   * @returns {{ value: Float32Array | null, current: boolean }}
   */
  get(key, total, stride, piece, deadline) {
    if (this.done?.key !== key || this.job) {
      this.job ??= { key, out: new Float32Array(total * stride), next: 0, total, stride, piece };
      const job = this.job;
      let first = true;
      while (job.next < job.total && (first || performance.now() < deadline)) {
        const left = Math.max(0, deadline - performance.now());
        const fit = this.msPerItem > 0 ? Math.floor(left / this.msPerItem) : 8;
        const count = Math.max(1, Math.min(job.total - job.next, fit));
        const t0 = performance.now();
        job.out.set(job.piece(job.next, count), job.next * job.stride);
        const ms = (performance.now() - t0) / count;
        this.msPerItem = this.msPerItem > 0 ? 0.7 * this.msPerItem + 0.3 * ms : ms;
        job.next += count;
        first = false;
      }
      if (job.next >= job.total) { this.done = { key: job.key, value: job.out }; this.job = null; }
    }
    return { value: this.done?.value ?? null, current: this.done?.key === key };
  }
}

/** Cell-centre grid points of an n x n grid over the view, interleaved, row 0 at the top. */
function gridPoints(view, n) {
  const xs = new Float32Array(2 * n * n);
  const cell = view.span() / n;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      xs[2 * (r * n + c)] = -view.half + (c + 0.5) * cell;
      xs[2 * (r * n + c) + 1] = view.half - (r + 0.5) * cell;
    }
  }
  return xs;
}

export class Stage {
  /**
   * fields: the page's wasm Fields handle (cloud, schedule and model kept in sync by main; z is
   * passed to it with each call);
   * cache: a Map slot -> Progressive, shared by stages that show the same fields.
   */
  constructor(canvas, fields, cache = new Map()) {
    this.canvas = canvas;
    this.fields = fields;
    this.view = new View();
    this.arrowXs = gridPoints(this.view, ARROW_GRID);
    this.cache = cache;
    /** How many fields of the last frame were shown from older inputs (still being computed). */
    this.pending = 0;
    /** The last view summary on samples of p_t: { kind, samples, value } or null. */
    this.summary = null;
    this.deadline = 0;
  }

  /**
   * A field in pieces: the newest complete value of `slot` (or null), working on `key`.
   * @param {string} slot one per kind of value (a slot never shows another kind's value)
   * @param {string} key names every input
   * @param {number} total items
   * @param {number} stride floats per item
   * @param {(start: number, count: number) => ArrayLike<number>} piece
   */
  progressive(slot, key, total, stride, piece) {
    let p = this.cache.get(slot);
    if (!p) { p = new Progressive(); this.cache.set(slot, p); }
    const { value, current } = p.get(key, total, stride, piece, this.deadline);
    if (!current) this.pending += 1;
    return value;
  }

  /**
   * The arrow grid's velocities of field `kind` at time t.
   * @param {string} kind
   * @param {string} key
   * @param {(xs: Float32Array) => ArrayLike<number>} evaluate
   */
  arrowField(kind, key, evaluate) {
    const xs = this.arrowXs;
    return this.progressive(`arrows:${kind}`, key, xs.length / 2, 2,
      (start, count) => evaluate(xs.subarray(2 * start, 2 * (start + count))));
  }

  /**
   * Draws a frame. s: { t, cloud (Float32Array), versions: {cloud, model, lesson (the values of
   * the open lesson's settings)}, settings, learned/exact Trajectory or null,
   * more: [{ traj, color }] (further learned flows), showLearned, showExact, z: [x, y] | null,
   * alphaBeta: [alpha, beta], inspector: {x, y, weights, top} | null, heat: {what, lo, hi, map} | null }
   */
  draw(s) {
    const { ctx, w, h, dpr } = fitCanvas(this.canvas);
    const view = this.view;
    drawBackground(ctx, view, w, h);
    this.pending = 0;
    this.deadline = performance.now() + BUDGET_MS;
    const tq = Math.round(s.t * 200) / 200; // fields are re-evaluated every 0.005 in t

    if (s.heat) {
      // Heatmaps cost a few ms each: re-evaluated every 0.02 in t.
      const th = Math.round(s.t * 50) / 50;
      const key = `${s.heat.what}|${th}|${s.versions.cloud}`
        + `|${s.heat.what.includes('learned') || s.heat.what === 'error' ? s.versions.model : ''}`
        + `|${s.heat.what === 'fokker_planck' ? s.versions.lesson : ''}`;
      const what = s.heat.what;
      const grid = this.progressive(`heat:${what}`, key, HEAT_GRID * HEAT_GRID, 1,
        (start, count) => this.fields.grid_cells(what, th, HEAT_GRID, view.half, start, count));
      // Views of where the mass is (residuals, error) are masked to where log p_t is within
      // MASK_NATS of its maximum, like the density view: the stage is mostly empty space.
      const logp = s.heat.masked
        ? this.progressive('heat:logp', `logp|${th}|${s.versions.cloud}`, HEAT_GRID * HEAT_GRID, 1,
          (start, count) => this.fields.grid_cells('logp', th, HEAT_GRID, view.half, start, count))
        : null;
      if (grid && (!s.heat.masked || logp)) {
        let mask = null;
        if (logp) {
          let top = -Infinity;
          for (const v of logp) if (v > top) top = v;
          mask = logp.map((v) => (v >= top - MASK_NATS ? 1 : 0));
        }
        const [lo, hi] = s.heat.range(grid, mask);
        const shown = s.heat.transform ? grid.map(s.heat.transform) : grid;
        drawHeatmap(ctx, shown, HEAT_GRID, s.heat.map, lo, hi, w, h, 0.85, mask);
      }
      // The view's summary figure, on samples of p_t (in pieces, like the grids).
      if (s.heat.summary) {
        const { kind, pieces, per } = s.heat.summary;
        const skey = `${kind}|${th}|${s.versions.cloud}`
          + `|${kind === 'exact' || kind === 'uniform' ? '' : s.versions.model}`;
        const values = this.progressive(`summary:${kind}`, skey, pieces, 1, (start, count) => {
          const out = new Float32Array(count);
          for (let k = 0; k < count; k++) {
            out[k] = kind === 'error'
              ? this.fields.error_on_samples(th, per, start + k + 1)
              : this.fields.residual_on_samples(kind, th, per, start + k + 1);
          }
          return out;
        });
        const mean = values ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
        this.summary = values ? { kind, samples: pieces * per, value: mean } : null;
      }
    }

    const dataR = Math.max(1.5, 1.6 * dpr * (s.cloudCount > 2000 ? 0.8 : 1));
    // A labelled drawing (a lesson that shows classes): each class in its colour and shape.
    if (s.cloudLabels) drawClassDots(ctx, view, s.cloud, s.cloudLabels, dataR * 1.2, w, h, s.inspector ? 0.3 : 0.7);
    else drawDots(ctx, view, s.cloud, s.inspector ? 'rgba(31,41,55,0.25)' : 'rgba(31,41,55,0.55)', dataR, w, h);
    // Held-out points (memorization): hollow, white inside, over the dots.
    if (s.heldOut) {
      drawDots(ctx, view, s.heldOut, COLORS.bg, dataR * 1.6, w, h);
      drawRings(ctx, view, s.heldOut, COLORS.data, dataR * 1.6, Math.max(1, dpr), w, h);
    }

    if (s.arrows) {
      const kind = s.arrows;
      const usesModel = kind === 'learned' || kind === 'error' || kind === 'score_learned' || kind === 'learned_guided';
      const guided = kind === 'class' || kind === 'guided' || kind === 'learned_guided';
      const key = `${kind}|${tq}|${s.versions.cloud}|${usesModel ? s.versions.model : ''}`
        + `|${kind === 'conditional' ? s.z : ''}|${kind === 'sde_drift' ? s.versions.lesson : ''}`
        + `|${guided ? s.versions.lesson : ''}`;
      const z = s.z;
      const field = kind === 'error' ? 'marginal' : kind;
      const vs = kind === 'conditional'
        ? this.arrowField('conditional', key, (xs) => this.fields.conditional_velocity(xs, tq, z[0], z[1]))
        : kind === 'denoiser'
          // The posterior mean comes as positions: the arrow is the step from x to it.
          ? this.arrowField('denoiser', key, (xs) => this.fields.velocity('denoiser', xs, tq).map((v, i) => v - xs[i]))
          : this.arrowField(field, key, (xs) => this.fields.velocity(field, xs, tq));
      const cell = (w / ARROW_GRID);
      if (kind === 'error') {
        const vl = this.arrowField('learned', key, (xs) => this.fields.velocity('learned', xs, tq));
        if (vs) drawArrows(ctx, view, this.arrowXs, vs, 'rgba(25,113,194,0.75)', cell * 0.9, 1.5, w, h, 1.2 * dpr);
        if (vl) drawArrows(ctx, view, this.arrowXs, vl, 'rgba(232,89,12,0.8)', cell * 0.9, 1.5, w, h, 1.2 * dpr);
      } else if (vs) {
        const color = {
          learned: COLORS.learned, marginal: COLORS.exact, conditional: COLORS.cond,
          score: COLORS.exact, score_learned: COLORS.learned, denoiser: COLORS.exact, sde_drift: COLORS.exact,
          class: s.guideColor ?? COLORS.cond, guided: s.guideColor ?? COLORS.exact, learned_guided: COLORS.learned,
        }[kind];
        drawArrows(ctx, view, this.arrowXs, vs, color, cell * 0.9, 1.5, w, h, 1.3 * dpr);
      }
    }

    const size = Math.max(2, 2 * dpr);
    // Exact particles are filled squares, learned ones rings on top: both stay visible where
    // they coincide (which is what success looks like).
    const layers = [];
    if (s.exact && s.showExact) layers.push([s.exact, s.exactColor ?? COLORS.exact, false]);
    // Further learned flows (earlier networks of a lesson) in their own colours, under the
    // current network's.
    if (s.showLearned) for (const m of s.more ?? []) if (m.traj) layers.push([m.traj, m.color, true]);
    if (s.learned && s.showLearned) layers.push([s.learned, s.learnedColor ?? COLORS.learned, true]);
    for (const [traj, color, ring] of layers) {
      if (s.trails && s.t > 0) {
        ctx.globalAlpha = 0.18;
        drawTrails(ctx, view, traj.trail(s.t, 0.12), color, Math.max(1, dpr * 0.8), w, h);
        ctx.globalAlpha = 1;
      }
      ctx.globalAlpha = ring ? 0.85 : 0.75;
      if (ring) drawRings(ctx, view, traj.at(s.t), color, 1.8 * dpr, Math.max(1, 0.9 * dpr), w, h);
      else drawParticles(ctx, view, traj.at(s.t), color, size, w, h);
      ctx.globalAlpha = 1;
    }

    if (s.z) drawConditionalPath(ctx, view, s.z, s.alphaBeta[0], s.alphaBeta[1], w, h);
    if (s.inspector) this.drawInspector(ctx, s, w, h, dpr);
    if (s.cursor) drawCursor(ctx, view, s.cursor, 8 * dpr, w, h);
  }

  /** Posterior-weight inspector: weighted data points, top conditional vectors, their sum. */
  drawInspector(ctx, s, w, h, dpr) {
    const view = this.view;
    const { x, y, weights, top, uCond, uMarg } = s.inspector;
    let wmax = 0;
    for (let i = 0; i < weights.length; i++) wmax = Math.max(wmax, weights[i]);
    ctx.fillStyle = COLORS.cond;
    for (let i = 0; i < weights.length; i++) {
      const a = weights[i] / (wmax || 1);
      if (a < 0.02) continue;
      ctx.globalAlpha = Math.min(1, 0.15 + a);
      const r = (2 + 6 * Math.sqrt(a)) * dpr;
      ctx.beginPath();
      ctx.arc(view.sx(s.cloud[2 * i], w), view.sy(s.cloud[2 * i + 1], h), r, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    const px = w / view.span();
    const scale = 0.25 * px; // pixels per unit of velocity
    const from = [x, y];
    for (let k = 0; k < top.length; k++) {
      const a = weights[top[k]] / (wmax || 1);
      ctx.globalAlpha = 0.25 + 0.6 * a;
      arrow(ctx, view, from, uCond.subarray(2 * k, 2 * k + 2), COLORS.cond, scale, 1.5 * dpr, w, h);
    }
    ctx.globalAlpha = 1;
    arrow(ctx, view, from, uMarg, COLORS.exact, scale, 3 * dpr, w, h);
    ctx.fillStyle = '#111';
    ctx.beginPath(); ctx.arc(view.sx(x, w), view.sy(y, h), 3.5 * dpr, 0, 2 * Math.PI); ctx.fill();
  }
}

/** A single arrow from world point p along v, `scale` pixels per unit, clipped to 40% of the stage. */
function arrow(ctx, view, p, v, color, scale, width, w, h) {
  const x0 = view.sx(p[0], w), y0 = view.sy(p[1], h);
  let dx = v[0] * scale, dy = -v[1] * scale;
  const len = Math.hypot(dx, dy);
  const cap = 0.4 * w;
  if (len > cap) { dx *= cap / len; dy *= cap / len; }
  const l = Math.min(len, cap);
  if (!(l > 0.5)) return;
  const ux = dx / l, uy = dy / l, head = Math.min(10, 0.4 * l) * (width / 2 + 0.5);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x0, y0); ctx.lineTo(x0 + dx, y0 + dy);
  ctx.moveTo(x0 + dx, y0 + dy); ctx.lineTo(x0 + dx - head * (ux - 0.5 * uy), y0 + dy - head * (uy + 0.5 * ux));
  ctx.moveTo(x0 + dx, y0 + dy); ctx.lineTo(x0 + dx - head * (ux + 0.5 * uy), y0 + dy - head * (uy - 0.5 * ux));
  ctx.stroke();
}
