// @ts-check
// The drawn cloud (p_data) and the pointer tools that edit it: a spray brush, an eraser, and
// picking a point (z for the conditional view). Pointer events cover mouse, pen and touch.
import { MAX_POINTS } from './state.js';

const UNDO_DEPTH = 60;

/**
 * The user's point cloud: interleaved [x0, y0, x1, y1, ...] in data coordinates, each point
 * with a class label 1..4 (1 unless drawn in another class), with undo.
 */
export class Cloud {
  /**
   * @param {ArrayLike<number>} [points] interleaved
   * @param {ArrayLike<number>} [labels] one per point (default all 1)
   */
  constructor(points = new Float32Array(0), labels = undefined) {
    this.buf = new Float32Array(0);
    this.len = 0;
    this.lab = new Uint8Array(0);
    this.set(points, labels);
    /** @type {{ points: Float32Array, labels: Uint8Array }[]} */
    this.undoStack = [];
    this.listeners = [];
  }
  /** Number of points. */
  get count() { return this.len / 2; }
  /** A copy of the points as a Float32Array. */
  points() { return this.buf.slice(0, this.len); }
  /** A copy of the labels (one per point). */
  labels() { return this.lab.slice(0, this.count); }
  /** The labels without a copy, valid until the next edit. */
  labelsView() { return this.lab.subarray(0, this.count); }
  /** Whether some point is not of class 1 (the drawing has labels worth keeping). */
  labelled() { return this.labelsView().some((y) => y !== 1); }
  /** The points without a copy, valid until the next edit (for drawing a frame). */
  view() { return this.buf.subarray(0, this.len); }
  /** Calls fn(cloud) after every change. */
  onChange(fn) { this.listeners.push(fn); }
  changed() { for (const fn of this.listeners) fn(this); }
  /** Remembers the current points so that undo() can return to them. */
  checkpoint() {
    this.undoStack.push({ points: this.points(), labels: this.labels() });
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }
  /**
   * Replaces all points and their labels (default all 1); undoable.
   * @param {ArrayLike<number>} points
   * @param {ArrayLike<number>} [labels]
   */
  replace(points, labels = undefined) {
    this.checkpoint();
    this.set(points, labels);
    this.changed();
  }
  /**
   * Sets all points and their labels (default all 1), without a checkpoint or a change event.
   * @param {ArrayLike<number>} points
   * @param {ArrayLike<number>} [labels]
   */
  set(points, labels = undefined) {
    this.buf = new Float32Array(Math.max(64, points.length));
    this.buf.set(points);
    this.len = points.length;
    this.lab = new Uint8Array(Math.max(32, points.length / 2)).fill(1);
    if (labels) this.lab.set(Array.from(labels).slice(0, points.length / 2));
  }
  /** Adds a point of class `label`; false (and nothing added) when the cloud is full. */
  add(x, y, label = 1) {
    if (this.count >= MAX_POINTS) return false;
    if (this.len + 2 > this.buf.length) {
      const grown = new Float32Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    if (this.count + 1 > this.lab.length) {
      const grown = new Uint8Array(this.lab.length * 2).fill(1);
      grown.set(this.lab);
      this.lab = grown;
    }
    this.lab[this.count] = label;
    this.buf[this.len++] = x;
    this.buf[this.len++] = y;
    return true;
  }
  /** Removes the points within distance r of (x, y), only those of class `only` when given; returns how many. */
  eraseNear(x, y, r, only = 0) {
    let w = 0;
    const r2 = r * r;
    for (let i = 0; i < this.len; i += 2) {
      const dx = this.buf[i] - x, dy = this.buf[i + 1] - y;
      const label = this.lab[i / 2];
      if (dx * dx + dy * dy > r2 || (only && label !== only)) {
        this.lab[w / 2] = label;
        this.buf[w++] = this.buf[i]; this.buf[w++] = this.buf[i + 1];
      }
    }
    const removed = (this.len - w) / 2;
    this.len = w;
    return removed;
  }
  /** Index of the point nearest to (x, y) within distance r, or -1. */
  nearest(x, y, r) {
    let best = -1, bestD = r * r;
    for (let i = 0; i < this.len; i += 2) {
      const dx = this.buf[i] - x, dy = this.buf[i + 1] - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i / 2; }
    }
    return best;
  }
  /**
   * Indices of the (at most 50) points nearest to (x, y), nearest first.
   * @param {number} x
   * @param {number} y
   */
  byDistance(x, y) {
    const d = [];
    for (let i = 0; i < this.len; i += 2) d.push([(this.buf[i] - x) ** 2 + (this.buf[i + 1] - y) ** 2, i / 2]);
    d.sort((a, b) => a[0] - b[0]);
    return d.slice(0, 50).map((e) => e[1]);
  }
  /** Point i as [x, y]. */
  at(i) { return [this.buf[2 * i], this.buf[2 * i + 1]]; }
  /** The label of point i. */
  labelAt(i) { return this.lab[i]; }
  /** Returns to the last checkpoint; false when there is none. */
  undo() {
    const prev = this.undoStack.pop();
    if (!prev) return false;
    this.set(prev.points, prev.labels);
    this.changed();
    return true;
  }
  /** Removes every point (undoable). */
  clear() { this.replace(new Float32Array(0)); }
}

/**
 * Wires pointer events on `canvas` to the cloud.
 * opts: { view, cloud, tool(): 'spray'|'erase'|'pick'|'inspect', brush(): {size, rate, label
 *         (the class sprayed), only (the class erased, 0: any)},
 *         onPick(index), onHover(x, y | null), onFull(), cursor: {x, y, shown} (the keyboard
 *         cursor, moved here and drawn by the stage), touchDraws(): whether a touch draws }
 */
export function attachPointer(canvas, opts) {
  const { view, cloud } = opts;
  /** @type {{ id: number, x: number, y: number, timer?: ReturnType<typeof setInterval> } | null} */
  let active = null;
  let inspecting = null; // pointer id of a touch that holds the inspector

  const sprayAt = (x, y) => {
    const { size, rate, label } = opts.brush();
    let full = false;
    for (let k = 0; k < rate; k++) {
      const r = size * Math.sqrt(Math.random());
      const a = 2 * Math.PI * Math.random();
      if (!cloud.add(x + r * Math.cos(a), y + r * Math.sin(a), label)) { full = true; break; }
    }
    cloud.changed();
    if (full) opts.onFull();
  };
  const apply = (x, y) => {
    const tool = opts.tool();
    if (tool === 'spray') sprayAt(x, y);
    else if (tool === 'erase') { if (cloud.eraseNear(x, y, opts.brush().size, opts.brush().only) > 0) cloud.changed(); }
  };
  const worldOf = (ev) => {
    const rect = canvas.getBoundingClientRect();
    return view.toWorld(ev.clientX - rect.left, ev.clientY - rect.top, rect.width, rect.height);
  };

  canvas.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0 || active) return;
    const [x, y] = worldOf(ev);
    const tool = opts.tool();
    if (tool === 'inspect') {
      // Mouse users hover; touch and pen users hold a finger down and move it.
      opts.onHover?.(x, y);
      if (ev.pointerType !== 'mouse') {
        ev.preventDefault();
        canvas.setPointerCapture(ev.pointerId);
        inspecting = ev.pointerId;
      }
      return;
    }
    // On a touch screen the stage scrolls the page unless drawing is switched on.
    if (ev.pointerType === 'touch' && !opts.touchDraws() && (tool === 'spray' || tool === 'erase')) return;
    if (tool === 'pick') {
      const rect = canvas.getBoundingClientRect();
      const radius = (14 / rect.width) * view.span();
      opts.onPick(cloud.nearest(x, y, radius));
      return;
    }
    ev.preventDefault();
    canvas.setPointerCapture(ev.pointerId);
    cloud.checkpoint();
    active = { id: ev.pointerId, x, y };
    apply(x, y);
    // A spray can keeps spraying while held still.
    active.timer = setInterval(() => { if (active && opts.tool() === 'spray') apply(active.x, active.y); }, 60);
  });
  canvas.addEventListener('pointermove', (ev) => {
    const [x, y] = worldOf(ev);
    opts.onHover?.(x, y);
    if (!active || ev.pointerId !== active.id) return;
    // Space the dabs by a fraction of the brush so fast strokes stay even.
    const step = opts.brush().size * 0.5;
    const dist = Math.hypot(x - active.x, y - active.y);
    if (dist >= step) {
      const n = Math.min(20, Math.floor(dist / step));
      for (let k = 1; k <= n; k++) apply(active.x + ((x - active.x) * k) / n, active.y + ((y - active.y) * k) / n);
      active.x = x; active.y = y;
    }
  });
  const end = (ev) => {
    if (ev.pointerId === inspecting) { inspecting = null; opts.onHover?.(null, null); }
    if (!active || ev.pointerId !== active.id) return;
    clearInterval(active.timer);
    active = null;
  };
  canvas.addEventListener('pointerup', end);

  // Keyboard: a cursor moved by the arrow keys (Shift: faster) and Enter to use the tool at
  // it; ']' picks the next nearest data point as z (cycling outwards from the cursor).
  let nearestRank = 0;
  canvas.addEventListener('keydown', (ev) => {
    const c = opts.cursor;
    const step = ev.shiftKey ? 0.5 : 0.1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    const tool = opts.tool();
    if (ev.key in moves) {
      ev.preventDefault();
      const [dx, dy] = moves[/** @type {keyof typeof moves} */ (ev.key)];
      c.x = Math.max(-view.half, Math.min(view.half, c.x + dx));
      c.y = Math.max(-view.half, Math.min(view.half, c.y + dy));
      c.shown = true;
      nearestRank = 0;
      if (tool === 'inspect') opts.onHover?.(c.x, c.y);
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      c.shown = true;
      if (tool === 'pick') opts.onPick(cloud.nearest(c.x, c.y, 0.5));
      else if (tool === 'inspect') opts.onHover?.(c.x, c.y);
      else { cloud.checkpoint(); apply(c.x, c.y); }
    } else if (ev.key === ']') {
      ev.preventDefault();
      c.shown = true;
      const order = cloud.byDistance(c.x, c.y);
      if (order.length) opts.onPick(order[nearestRank++ % order.length]);
    }
  });
  canvas.addEventListener('focus', () => { opts.cursor.shown = true; });
  canvas.addEventListener('blur', () => { opts.cursor.shown = false; });
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', () => opts.onHover?.(null, null));
}
