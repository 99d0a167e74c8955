// @ts-check
// The property table of all UI state (as in TensorFlow Playground's state.ts) and its codecs:
// the URL hash for sharing and the encoded points that links and saved state share. Pure
// functions of a table: the store (store.js) is the one owner of the values, persist.js
// keeps them in localStorage. Points travel in a compact form: each coordinate
// quantised to 16 bits over [-WORLD, WORLD], packed little-endian, base64url.

import { WORLD, MAX_POINTS, MAX_CLASSES, bounds } from './limits.js';

// The limits are the core's (limits.js): re-exported for the modules that read them here.
export { WORLD, MAX_POINTS, MAX_CLASSES };

/**
 * One property: its kind, default, and bounds or choices. A 'point' is [x, y] or null.
 * @typedef {{ kind: 'enum', def: string, values: string[] }
 *   | { kind: 'number' | 'int', def: number, min: number, max: number }
 *   | { kind: 'bool', def: boolean }
 *   | { kind: 'point', def: null }} Prop
 */
/** @typedef {Record<string, Prop>} Props */
/** @typedef {{ id: string, label: string }} Choice */
/**
 * What the wasm core's `catalog()` reports: the names it knows, its training defaults and the
 * limits of every setting (limits.js).
 * @typedef {{ presets: Choice[], schedules: Choice[], solvers: Choice[], couplings: Choice[],
 *   defaults: { width: number, depth: number, time_features: number, batch: number, lr: number },
 *   limits: import('./limits.js').Limits }} Catalog
 */

/**
 * Builds the property table. Enum choices come from their one source each: presets,
 * schedules and solvers from the core's catalog, views and lessons from the lessons' registry
 * (views.js); training defaults from the core; the default number of training workers from
 * the machine (team.js). The lessons' own settings (lessons/<id>/settings.js, made from the
 * same catalog) join the table after the time t; a name given twice is an error.
 * @param {Catalog} catalog
 * @param {{ views: string[], lessons: string[], workers?: number, settings?: Props[] }} lists
 * @returns {Props}
 */
export function buildProps(catalog, { views, lessons, workers = 1, settings = [] }) {
  const ids = (/** @type {Choice[]} */ list) => list.map((c) => c.id);
  const d = catalog.defaults;
  /** @type {Props} */
  const before = {
    lesson: { kind: 'enum', def: lessons[0], values: lessons },
    preset: { kind: 'enum', def: 'moons', values: ids(catalog.presets) },
    lr: { kind: 'number', def: Math.round(d.lr * 1e6) / 1e6, ...bounds('lr') },
    batch: { kind: 'int', def: d.batch, ...bounds('batch') },
    width: { kind: 'int', def: d.width, ...bounds('width') },
    depth: { kind: 'int', def: d.depth, ...bounds('depth') },
    schedule: { kind: 'enum', def: catalog.schedules[0].id, values: ids(catalog.schedules) },
    solver: { kind: 'enum', def: catalog.solvers[0].id, values: ids(catalog.solvers) },
    odeSteps: { kind: 'int', def: 50, ...bounds('ode_steps') },
    particles: { kind: 'int', def: 2000, ...bounds('particles') },
    show: { kind: 'enum', def: 'both', values: ['both', 'learned', 'exact', 'side'] },
    field: { kind: 'enum', def: views[0], values: views },
    heat: { kind: 'bool', def: false },
    trails: { kind: 'bool', def: true },
    memo: { kind: 'bool', def: false },
    t: { kind: 'number', def: 0, ...bounds('t') },
  };
  /** @type {Props} */
  const after = {
    embed: { kind: 'bool', def: false },
    play: { kind: 'bool', def: true },
    z: { kind: 'point', def: null },
    brushSize: { kind: 'number', def: 0.25, min: 0.02, max: 2 },
    brushRate: { kind: 'int', def: 6, min: 1, max: 40 },
    seed: { kind: 'int', def: 1, ...bounds('seed') },
    workers: { kind: 'int', def: workers, min: 1, max: 16 },
  };
  const props = { ...before };
  for (const own of settings) {
    for (const [name, p] of Object.entries(own)) {
      if (name in props || name in after) throw new Error(`the setting "${name}" is defined twice`);
      props[name] = p;
    }
  }
  return { ...props, ...after };
}

/**
 * The default values of a table.
 * @param {Props} props
 * @returns {Record<string, any>}
 */
export function defaults(props) {
  return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.def]));
}

/**
 * A number as links and saves write it (String(v) of a finite number): decimal digits with an
 * optional sign, point and exponent. No empty value, no hexadecimal (0x1), binary or octal, no
 * surrounding spaces, no Infinity: Number() would take all of those.
 */
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * A decimal number (see DECIMAL), or NaN.
 * @param {string} raw
 */
export function parseDecimal(raw) {
  return DECIMAL.test(raw) ? Number(raw) : NaN;
}

/**
 * Whether `name` is a setting of the table (its own key: `toString`, `constructor` and
 * `__proto__` are not settings).
 * @param {Props} props
 * @param {string} name
 */
export function isSetting(props, name) {
  return Object.prototype.hasOwnProperty.call(props, name);
}

/**
 * Parses one property value from a string; throws with a clear message when invalid.
 * @param {Props} props
 * @param {string} name
 * @param {string} raw
 */
function parseProp(props, name, raw) {
  const p = props[name];
  if (p.kind === 'enum') {
    if (!p.values.includes(raw)) throw new Error(`${name} must be one of ${p.values.join(', ')}`);
    return raw;
  }
  if (p.kind === 'bool') {
    if (raw !== '1' && raw !== '0' && raw !== 'true' && raw !== 'false') throw new Error(`${name} must be 0 or 1`);
    return raw === '1' || raw === 'true';
  }
  if (p.kind === 'point') {
    // '' / 'null': none; a single integer is the index form of older saves: none either.
    if (raw === '' || raw === 'null' || /^-?\d+$/.test(raw)) return null;
    const xy = raw.split(',').map(parseDecimal);
    if (xy.length !== 2 || !xy.every((v) => Number.isFinite(v) && Math.abs(v) <= WORLD)) {
      throw new Error(`${name} must be two numbers x,y within ±${WORLD}`);
    }
    return xy;
  }
  const v = parseDecimal(raw);
  if (!Number.isFinite(v) || (p.kind === 'int' && !Number.isInteger(v))) {
    throw new Error(`${name} is not a number: ${raw}`);
  }
  if (v < p.min || v > p.max) throw new Error(`${name} must be within ${p.min}..${p.max}`);
  return v;
}

/**
 * The string form of a value (the inverse of parseProp).
 * @param {Prop} p
 * @param {any} v
 */
function formatProp(p, v) {
  if (p.kind === 'bool') return v ? '1' : '0';
  if (p.kind === 'point') return Array.isArray(v) ? `${v[0]},${v[1]}` : v === null ? 'null' : String(v);
  return String(v);
}

/**
 * Checks and fills a settings object (unknown keys dropped, missing keys defaulted); throws
 * a readable Error on the first invalid value.
 * @param {Props} props
 * @param {Record<string, any> | null | undefined} obj
 * @returns {Record<string, any>}
 */
export function sanitize(props, obj) {
  const out = defaults(props);
  for (const name of Object.keys(props)) {
    const v = obj?.[name];
    if (v !== undefined) out[name] = parseProp(props, name, typeof v === 'string' ? v : formatProp(props[name], v));
  }
  return out;
}

/**
 * The message of a thrown value, for the page's messages (an Error's message, else the value).
 * @param {unknown} err
 */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Like sanitize, but a value that fails its check is reset to its default and named in
 * `dropped` instead of failing the whole object (for saved state: the drawing is worth more
 * than one stale setting).
 * @param {Props} props
 * @param {Record<string, any> | null | undefined} obj
 * @returns {{ settings: Record<string, any>, dropped: string[] }}
 */
export function sanitizeLenient(props, obj) {
  const settings = defaults(props);
  /** @type {string[]} */
  const dropped = [];
  for (const name of Object.keys(props)) {
    const v = obj && typeof obj === 'object' ? obj[name] : undefined;
    if (v === undefined) continue;
    try {
      settings[name] = parseProp(props, name, typeof v === 'string' ? v : formatProp(props[name], v));
    } catch (err) {
      dropped.push(messageOf(err));
    }
  }
  return { settings, dropped };
}

/** @param {Uint8Array} bytes */
function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * @param {string} text
 * @param {string} what the name of the source, for messages
 */
function fromBase64Url(text, what) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error(`the points of ${what} are damaged (unexpected characters)`);
  let s;
  try {
    s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  } catch {
    throw new Error(`the points of ${what} are damaged (cut short)`);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Encodes interleaved points as quantised 16-bit base64url.
 * @param {ArrayLike<number>} points
 */
export function encodePoints(points) {
  const q = new Uint16Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const u = (Math.max(-WORLD, Math.min(WORLD, points[i])) + WORLD) / (2 * WORLD);
    q[i] = Math.round(u * 65535);
  }
  const bytes = new Uint8Array(q.length * 2);
  const view = new DataView(bytes.buffer);
  q.forEach((v, i) => view.setUint16(2 * i, v, true));
  return toBase64Url(bytes);
}

/**
 * Decodes what encodePoints made; throws a readable Error on a malformed input.
 * @param {string} text
 * @param {string} [what] the name of the source, for messages ('the link', 'the saved drawing')
 */
export function decodePoints(text, what = 'the link') {
  if (typeof text !== 'string') throw new Error(`${what} holds no points`);
  const bytes = fromBase64Url(text, what);
  if (bytes.length % 4 !== 0) throw new Error(`the points of ${what} are damaged (cut short)`);
  const n = bytes.length / 2;
  if (n / 2 > MAX_POINTS) {
    throw new Error(`${what} holds ${(n / 2).toLocaleString('en')} points; `
      + `the most is ${MAX_POINTS.toLocaleString('en')}`);
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (view.getUint16(2 * i, true) / 65535) * 2 * WORLD - WORLD;
  return out;
}

/**
 * Encodes class labels (1..4, one per point) in 2 bits each, four to a byte, base64url; ''
 * when every label is 1 (an unlabelled drawing: nothing to store).
 * @param {ArrayLike<number>} labels
 */
export function encodeLabels(labels) {
  let any = false;
  const bytes = new Uint8Array(Math.ceil(labels.length / 4));
  for (let i = 0; i < labels.length; i++) {
    const y = Math.max(1, Math.min(MAX_CLASSES, labels[i])) - 1;
    if (y) any = true;
    bytes[i >> 2] |= y << (2 * (i & 3));
  }
  return any ? toBase64Url(bytes) : '';
}

/**
 * Decodes what encodeLabels made for `n` points (all 1 for '' or null); throws a readable
 * Error when it does not fit them.
 * @param {string | null | undefined} text
 * @param {number} n
 * @param {string} [what]
 */
export function decodeLabels(text, n, what = 'the link') {
  const out = new Uint8Array(n).fill(1);
  if (!text) return out;
  const bytes = fromBase64Url(text, what);
  if (bytes.length !== Math.ceil(n / 4)) {
    throw new Error(`the labels of ${what} do not fit its ${n.toLocaleString('en')} points`);
  }
  for (let i = 0; i < n; i++) out[i] = 1 + ((bytes[i >> 2] >> (2 * (i & 3))) & 3);
  return out;
}

/**
 * A drawing as one string for storage: the encoded points, then `.` and the encoded labels
 * when it has any (base64url has no `.`).
 * @param {ArrayLike<number>} points
 * @param {ArrayLike<number>} [labels]
 */
export function encodeDrawing(points, labels = []) {
  const l = encodeLabels(labels);
  return l ? `${encodePoints(points)}.${l}` : encodePoints(points);
}

/**
 * Decodes what encodeDrawing made (a string of points alone reads as all class 1).
 * @param {string} text
 * @param {string} [what]
 */
export function decodeDrawing(text, what = 'the saved drawing') {
  if (typeof text !== 'string') throw new Error(`${what} holds no points`);
  const [p, l] = text.split('.');
  const points = decodePoints(p, what);
  return { points, labels: decodeLabels(l, points.length / 2, what) };
}

/**
 * The URL hash for settings and points: `#v=1&lr=...&p=<points>&l=<labels>`. Only
 * non-defaults are written (and the labels only when some point is not of class 1).
 * @param {Props} props
 * @param {Record<string, any>} settings
 * @param {ArrayLike<number>} points
 * @param {ArrayLike<number>} [labels]
 */
export function toHash(props, settings, points, labels = []) {
  const params = new URLSearchParams();
  params.set('v', '1');
  for (const [k, p] of Object.entries(props)) {
    const v = settings[k];
    if (formatProp(p, v) !== formatProp(p, p.def)) params.set(k, formatProp(p, v));
  }
  params.set('p', encodePoints(points));
  const l = encodeLabels(labels);
  if (l) params.set('l', l);
  return '#' + params.toString();
}

/**
 * Parses a hash made by toHash; returns { settings, points, labels } or throws a readable Error.
 * @param {Props} props
 * @param {string} hash
 */
export function fromHash(props, hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const version = params.get('v');
  if (version === null) throw new Error('it is not a Flow Matching Playground link');
  if (version !== '1') {
    throw new Error(`it was made by another version of the app (v=${version.slice(0, 12)}), `
      + 'which this one cannot read');
  }
  /** @type {Record<string, string>} */
  const obj = {};
  for (const [k, v] of params) {
    if (k === 'v' || k === 'p' || k === 'l') continue;
    if (!isSetting(props, k)) throw new Error(`unknown setting "${k.slice(0, 40)}"`);
    obj[k] = v;
  }
  const settings = sanitize(props, obj);
  const p = params.get('p');
  if (p === null) throw new Error('it holds no points');
  const points = decodePoints(p);
  return { settings, points, labels: decodeLabels(params.get('l'), points.length / 2) };
}
