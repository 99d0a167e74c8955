// @ts-check
// Canvas drawing: the world-to-pixel view, heatmaps, points, particles, trails and arrows.
// Nothing here owns state: every function draws what it is given.
import { WORLD } from './state.js';

/**
 * The colours of the app, each with one meaning, used by the stage, the legends and the
 * captions (and nothing else on the stage uses these hues):
 * - data: the drawn points z_i (dark grey dots);
 * - learned: everything of the network u_t^theta (orange: its particles, drawn as rings, its
 *   arrows, its loss);
 * - exact: everything of the exact marginal field u_t^target (blue: its particles, drawn as
 *   filled squares, its arrows, the inspector's sum arrow, L_FM);
 * - cond: the conditional field of one point z and its path (green);
 * - uniform: the wrong, uniform-weight field (purple).
 * Heatmaps use colour scales that avoid these hues (grey for the error, blue-white-red for
 * signed residuals, pale blue for the density).
 */
export const COLORS = {
  data: '#1f2937',
  learned: '#e8590c',
  exact: '#1971c2',
  cond: '#2f9e44',
  uniform: '#ae3ec9',
  ot: '#0c8599',
  z: '#2f9e44',
  bg: '#fbfbfd',
};

/** A number for captions and legends: fixed-point when moderate, exponential otherwise. */
export function fmt(v) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1000) ? v.toExponential(1) : v.toFixed(2);
}

/** Maps the world box [-WORLD, WORLD]^2 (y up) to canvas pixels (y down). */
export class View {
  constructor(half = WORLD) { this.half = half; }
  span() { return 2 * this.half; }
  toWorld(px, py, w, h) {
    return [(px / w) * 2 * this.half - this.half, this.half - (py / h) * 2 * this.half];
  }
  sx(x, w) { return ((x + this.half) / (2 * this.half)) * w; }
  sy(y, h) { return ((this.half - y) / (2 * this.half)) * h; }
}

/** Sizes the canvas backing store to its CSS box times the pixel ratio; returns {ctx, w, h}. */
export function fitCanvas(canvas) {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return { ctx, w, h, dpr };
}

/** Clears to the background and draws light axes through the origin. */
export function drawBackground(ctx, view, w, h) {
  ctx.fillStyle = COLORS.bg;
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = 'rgba(0,0,0,0.07)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let g = -Math.floor(view.half); g <= view.half; g++) {
    ctx.moveTo(view.sx(g, w), 0); ctx.lineTo(view.sx(g, w), h);
    ctx.moveTo(0, view.sy(g, h)); ctx.lineTo(w, view.sy(g, h));
  }
  ctx.stroke();
}

// Colour maps: stops of [r, g, b] interpolated linearly over [0, 1].
const MAPS = {
  density: [[251, 251, 253], [199, 219, 240], [107, 174, 214], [33, 113, 181], [8, 48, 107]],
  error: [[251, 251, 253], [215, 215, 220], [160, 160, 168], [100, 100, 110], [40, 40, 48]],
  diverging: [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]],
};

/** The colour of u in [0, 1] in map `name`, as [r, g, b]. */
export function colorAt(name, u) {
  const stops = MAPS[name];
  const x = Math.max(0, Math.min(1, u)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c)));
}

/** A CSS linear-gradient of a colour map (for legends). */
export function gradientCss(name) {
  const stops = MAPS[name];
  return `linear-gradient(to right, ${stops.map((c, i) => `rgb(${c}) ${(100 * i) / (stops.length - 1)}%`).join(', ')})`;
}

const heatCanvas = document.createElement('canvas');

/**
 * Draws an n x n grid of values (row 0 at the top of the world box) with colour map `map`,
 * mapping [lo, hi] to [0, 1], smoothed by the browser's image scaling; cells where `mask` is
 * 0 are left transparent.
 */
export function drawHeatmap(ctx, values, n, map, lo, hi, w, h, alpha = 0.85, mask = null) {
  heatCanvas.width = n; heatCanvas.height = n;
  const hctx = /** @type {CanvasRenderingContext2D} */ (heatCanvas.getContext('2d'));
  const img = hctx.createImageData(n, n);
  const span = hi - lo || 1;
  for (let i = 0; i < n * n; i++) {
    const v = values[i];
    const [r, g, b] = Number.isFinite(v) ? colorAt(map, (v - lo) / span) : [200, 200, 200];
    img.data[4 * i] = r; img.data[4 * i + 1] = g; img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = mask && !mask[i] ? 0 : 255;
  }
  hctx.putImageData(img, 0, 0);
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatCanvas, 0, 0, w, h);
  ctx.restore();
}

/** Draws interleaved points as dots of radius r (in device pixels). */
/**
 * The classes of a labelled drawing: a name, a colour and a shape each,
 * so that no class is told apart by colour alone (contrast at least 3:1 on the stage).
 */
export const CLASS_STYLES = [
  { name: 'class 1', color: '#1f2937', shape: 'circle', glyph: '●' },
  { name: 'class 2', color: '#c2255c', shape: 'square', glyph: '■' },
  { name: 'class 3', color: '#2b8a3e', shape: 'triangle', glyph: '▲' },
  { name: 'class 4', color: '#a35200', shape: 'diamond', glyph: '◆' },
];

/**
 * Data points drawn by class, each class in its colour and shape (radius r in pixels).
 * @param {CanvasRenderingContext2D} ctx
 * @param {View} view
 * @param {Float32Array} pts interleaved
 * @param {Uint8Array} labels one per point, 1..4
 * @param {number} r
 * @param {number} w
 * @param {number} h
 * @param {number} alpha
 */
export function drawClassDots(ctx, view, pts, labels, r, w, h, alpha) {
  ctx.globalAlpha = alpha;
  CLASS_STYLES.forEach((style, k) => {
    ctx.fillStyle = style.color;
    ctx.beginPath();
    const s = 1.25 * r;
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== k + 1) continue;
      const x = view.sx(pts[2 * i], w), y = view.sy(pts[2 * i + 1], h);
      if (style.shape === 'circle') { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
      else if (style.shape === 'square') ctx.rect(x - s * 0.8, y - s * 0.8, 1.6 * s, 1.6 * s);
      else if (style.shape === 'triangle') {
        ctx.moveTo(x, y - s); ctx.lineTo(x + s, y + 0.8 * s); ctx.lineTo(x - s, y + 0.8 * s); ctx.closePath();
      }
      else { ctx.moveTo(x, y - s); ctx.lineTo(x + s, y); ctx.lineTo(x, y + s); ctx.lineTo(x - s, y); ctx.closePath(); }
    }
    ctx.fill();
  });
  ctx.globalAlpha = 1;
}

export function drawDots(ctx, view, pts, color, r, w, h, count = pts.length / 2) {
  ctx.fillStyle = color;
  if (count > 2000) {
    // Many points: squares of the same size read the same and cost far less than arcs.
    drawParticles(ctx, view, pts.subarray(0, 2 * count), color, 1.8 * r, w, h);
    return;
  }
  ctx.beginPath();
  for (let i = 0; i < count; i++) {
    const x = view.sx(pts[2 * i], w), y = view.sy(pts[2 * i + 1], h);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
  ctx.fill();
}

/** Draws interleaved particles as small squares (fast for thousands). */
export function drawParticles(ctx, view, pts, color, size, w, h) {
  ctx.fillStyle = color;
  const s = size, o = size / 2;
  for (let i = 0; i < pts.length; i += 2) ctx.fillRect(view.sx(pts[i], w) - o, view.sy(pts[i + 1], h) - o, s, s);
}

/**
 * Draws interleaved particles as rings of radius r (the learned particles: a ring over a
 * filled square stays visible when the two coincide).
 */
export function drawRings(ctx, view, pts, color, r, width, w, h) {
  // One ring drawn once, then copied: thousands of stroked arcs cost far more to rasterize.
  const sprite = ringSprite(color, r, width);
  const o = sprite.width / 2;
  for (let i = 0; i < pts.length; i += 2) {
    ctx.drawImage(sprite, Math.round(view.sx(pts[i], w) - o), Math.round(view.sy(pts[i + 1], h) - o));
  }
}

/** @type {Map<string, HTMLCanvasElement>} */
const sprites = new Map();
/** A ring of radius r and line width `width` in `color`, on a small transparent canvas (cached). */
function ringSprite(color, r, width) {
  const key = `${color}|${r}|${width}`;
  let c = sprites.get(key);
  if (!c) {
    c = document.createElement('canvas');
    c.width = c.height = Math.ceil(2 * (r + width) + 2);
    const g = /** @type {CanvasRenderingContext2D} */ (c.getContext('2d'));
    g.strokeStyle = color;
    g.lineWidth = width;
    g.beginPath();
    g.arc(c.width / 2, c.height / 2, r, 0, 2 * Math.PI);
    g.stroke();
    sprites.set(key, c);
  }
  return c;
}

/** A keyboard cursor: a crosshair in a ring at world point p. */
export function drawCursor(ctx, view, p, r, w, h) {
  const x = view.sx(p[0], w), y = view.sy(p[1], h);
  ctx.save();
  for (const [color, width] of [['#fff', 4], ['#111', 1.5]]) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.moveTo(x - r - 5, y); ctx.lineTo(x - r + 4, y);
    ctx.moveTo(x + r - 4, y); ctx.lineTo(x + r + 5, y);
    ctx.moveTo(x, y - r - 5); ctx.lineTo(x, y - r + 4);
    ctx.moveTo(x, y + r - 4); ctx.lineTo(x, y + r + 5);
    ctx.stroke();
  }
  ctx.restore();
}

/** Draws trails: for each particle, a polyline through its positions in `frames` (oldest first). */
export function drawTrails(ctx, view, frames, color, width, w, h) {
  if (frames.length < 2) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  const n = frames[0].length;
  for (let i = 0; i < n; i += 2) {
    ctx.moveTo(view.sx(frames[0][i], w), view.sy(frames[0][i + 1], h));
    for (let k = 1; k < frames.length; k++) ctx.lineTo(view.sx(frames[k][i], w), view.sy(frames[k][i + 1], h));
  }
  ctx.stroke();
}

/**
 * Draws arrows for vectors `vs` at points `xs` (interleaved). Lengths saturate smoothly:
 * |v| / (|v| + vHalf) of `maxLen` pixels, so both slow and fast regions stay readable.
 */
export function drawArrows(ctx, view, xs, vs, color, maxLen, vHalf, w, h, width = 1.4) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (let i = 0; i < xs.length; i += 2) {
    const vx = vs[i], vy = vs[i + 1];
    const m = Math.hypot(vx, vy);
    if (!(m > 1e-9)) continue;
    const len = (maxLen * m) / (m + vHalf);
    const ux = vx / m, uy = -vy / m;
    const x0 = view.sx(xs[i], w), y0 = view.sy(xs[i + 1], h);
    const x1 = x0 + ux * len, y1 = y0 + uy * len;
    ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
    const head = Math.min(6, 0.35 * len) * (width / 1.4);
    ctx.moveTo(x1, y1); ctx.lineTo(x1 - head * (ux - 0.5 * uy), y1 - head * (uy + 0.5 * ux));
    ctx.moveTo(x1, y1); ctx.lineTo(x1 - head * (ux + 0.5 * uy), y1 - head * (uy - 0.5 * ux));
  }
  ctx.stroke();
}


/**
 * The conditional path of the chosen point z: the mean alpha_t z travels the segment from the
 * origin to z; the circles are one and two standard deviations beta_t around it at time t.
 */
export function drawConditionalPath(ctx, view, z, alpha, beta, w, h) {
  const cx = view.sx(alpha * z[0], w), cy = view.sy(alpha * z[1], h);
  const px = w / view.span();
  ctx.save();
  ctx.strokeStyle = COLORS.z;
  ctx.setLineDash([4, 4]);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(view.sx(0, w), view.sy(0, h));
  ctx.lineTo(view.sx(z[0], w), view.sy(z[1], h));
  ctx.stroke();
  ctx.setLineDash([]);
  for (const k of [1, 2]) {
    ctx.globalAlpha = k === 1 ? 0.9 : 0.45;
    ctx.beginPath();
    ctx.arc(cx, cy, Math.max(1, k * beta * px), 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = COLORS.z;
  ctx.beginPath(); ctx.arc(cx, cy, 3.5, 0, 2 * Math.PI); ctx.fill();
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 2;
  ctx.beginPath(); ctx.arc(view.sx(z[0], w), view.sy(z[1], h), 7, 0, 2 * Math.PI); ctx.stroke();
  ctx.strokeStyle = COLORS.z;
  ctx.lineWidth = 2.5;
  ctx.beginPath(); ctx.arc(view.sx(z[0], w), view.sy(z[1], h), 7, 0, 2 * Math.PI); ctx.stroke();
  ctx.restore();
}
