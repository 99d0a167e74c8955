// All UI state in one property table (as in TensorFlow Playground's state.ts), serialised to
// the URL hash for sharing and to localStorage for reloads. Points travel in a compact form:
// each coordinate quantised to 16 bits over [-WORLD, WORLD], packed little-endian, base64url.

/** Half-width of the world box that the stage shows, in data coordinates. */
export const WORLD = 3.5;
/** Most points a cloud may hold. */
export const MAX_POINTS = 5000;

/** The property table: name -> { kind, default, and bounds or choices }. */
export const PROPS = {
  preset: { kind: 'enum', def: 'moons', values: ['moons', 'circles', '8gaussians', 'checkerboard', 'spiral', 'smiley'] },
  lr: { kind: 'number', def: 0.003, min: 1e-5, max: 10 },
  batch: { kind: 'int', def: 256, min: 1, max: 4096 },
  width: { kind: 'int', def: 64, min: 4, max: 512 },
  depth: { kind: 'int', def: 3, min: 1, max: 8 },
  schedule: { kind: 'enum', def: 'linear', values: ['linear', 'cosine', 'sqrt'] },
  solver: { kind: 'enum', def: 'euler', values: ['euler', 'midpoint', 'rk4'] },
  odeSteps: { kind: 'int', def: 50, min: 2, max: 400 },
  particles: { kind: 'int', def: 2000, min: 100, max: 5000 },
  show: { kind: 'enum', def: 'both', values: ['both', 'learned', 'exact', 'side'] },
  field: { kind: 'enum', def: 'none', values: ['none', 'learned', 'marginal', 'conditional', 'error', 'residual', 'residual_learned', 'residual_uniform'] },
  heat: { kind: 'bool', def: false },
  trails: { kind: 'bool', def: true },
  memo: { kind: 'bool', def: false },
  t: { kind: 'number', def: 0, min: 0, max: 1 },
  play: { kind: 'bool', def: true },
  z: { kind: 'int', def: -1, min: -1, max: MAX_POINTS - 1 },
  brushSize: { kind: 'number', def: 0.25, min: 0.02, max: 2 },
  brushRate: { kind: 'int', def: 6, min: 1, max: 40 },
  seed: { kind: 'int', def: 1, min: 0, max: 2 ** 31 - 1 },
};

/** Takes the training defaults from the wasm core (`default_config()`), so both agree. */
export function setCoreDefaults(core) {
  PROPS.width.def = core.width;
  PROPS.depth.def = core.depth;
  PROPS.batch.def = core.batch;
  PROPS.lr.def = Math.round(core.lr * 1e6) / 1e6;
}

/** The default settings. */
export function defaults() {
  return Object.fromEntries(Object.entries(PROPS).map(([k, p]) => [k, p.def]));
}

/** Parses one property value from a string; throws with a clear message when invalid. */
function parseProp(name, raw) {
  const p = PROPS[name];
  if (p.kind === 'enum') {
    if (!p.values.includes(raw)) throw new Error(`${name} must be one of ${p.values.join(', ')}`);
    return raw;
  }
  if (p.kind === 'bool') {
    if (raw !== '1' && raw !== '0' && raw !== 'true' && raw !== 'false') throw new Error(`${name} must be 0 or 1`);
    return raw === '1' || raw === 'true';
  }
  const v = Number(raw);
  if (!Number.isFinite(v) || (p.kind === 'int' && !Number.isInteger(v))) throw new Error(`${name} is not a number: ${raw}`);
  if (v < p.min || v > p.max) throw new Error(`${name} must be within ${p.min}..${p.max}`);
  return v;
}

/** Checks and fills a settings object (unknown keys dropped, missing keys defaulted). */
export function sanitize(obj) {
  const out = defaults();
  for (const name of Object.keys(PROPS)) {
    if (obj && obj[name] !== undefined) out[name] = parseProp(name, String(obj[name] === true ? 1 : obj[name] === false ? 0 : obj[name]));
  }
  return out;
}

function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('the points are not valid base64url');
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Encodes interleaved points as quantised 16-bit base64url. */
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

/** Decodes what encodePoints made; throws on a malformed input. */
export function decodePoints(text) {
  const bytes = fromBase64Url(text);
  if (bytes.length % 4 !== 0) throw new Error('the points have a truncated coordinate');
  const n = bytes.length / 2;
  if (n / 2 > MAX_POINTS) throw new Error(`the link holds more than ${MAX_POINTS} points`);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (view.getUint16(2 * i, true) / 65535) * 2 * WORLD - WORLD;
  return out;
}

/** The URL hash for settings and points: `#v=1&lr=...&p=<points>`. Only non-defaults are written. */
export function toHash(settings, points) {
  const params = new URLSearchParams();
  params.set('v', '1');
  for (const [k, p] of Object.entries(PROPS)) {
    const v = settings[k];
    if (v !== p.def) params.set(k, p.kind === 'bool' ? (v ? '1' : '0') : String(v));
  }
  params.set('p', encodePoints(points));
  return '#' + params.toString();
}

/** Parses a hash made by toHash; returns { settings, points } or throws a readable Error. */
export function fromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  if (params.get('v') !== '1') throw new Error('it is not a Flow Matching Playground link (no version)');
  const obj = {};
  for (const [k, v] of params) {
    if (k === 'v' || k === 'p') continue;
    if (!(k in PROPS)) throw new Error(`unknown setting "${k}"`);
    obj[k] = v;
  }
  const settings = sanitize(obj);
  if (!params.has('p')) throw new Error('it holds no points');
  return { settings, points: decodePoints(params.get('p')) };
}

const STORAGE_KEY = 'fmp:v1';

/** Saves settings and points to localStorage (quietly skipped when storage is unavailable). */
export function save(settings, points) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ settings, points: encodePoints(points) }));
  } catch { /* private mode or quota: nothing to lose but persistence */ }
}

/** Loads what save wrote, or null. A damaged entry is ignored (and reported by the caller). */
export function load() {
  let raw;
  try { raw = localStorage.getItem(STORAGE_KEY); } catch { return null; }
  if (!raw) return null;
  const obj = JSON.parse(raw);
  return { settings: sanitize(obj.settings), points: decodePoints(obj.points) };
}
