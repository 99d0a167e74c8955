// Property tests (fast-check) of the codecs a user's drawing passes through: share links and
// the saved state. Encode then decode is the identity (points within the 16-bit quantisation);
// any string, link or stored value decodes to a state or to a readable Error, never to another
// kind of exception and never to a state that breaks the property table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  toHash, fromHash, encodePoints, decodePoints, encodeDrawing, decodeDrawing, sanitize, WORLD, MAX_POINTS,
} from '../../www/state.js';
import { propsOf } from './lessons.mjs';

// persist.js runs in a page: give it the two browser globals it touches.
const storage = new Map();
globalThis.localStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => { storage.set(k, String(v)); },
  removeItem: (k) => { storage.delete(k); },
};
globalThis.window = { addEventListener: () => {} };
const { Persistence } = await import('../../www/persist.js');

const CATALOG = {
  presets: [{ id: 'moons', label: 'Two moons' }, { id: 'spiral', label: 'Spiral' }],
  schedules: [{ id: 'linear', label: 'linear' }, { id: 'cosine', label: 'cosine' }, { id: 'sqrt', label: 'sqrt' }],
  solvers: [{ id: 'euler', label: 'Euler' }, { id: 'rk4', label: 'RK4' }],
  couplings: [{ id: 'independent', label: 'independent' }, { id: 'ot', label: 'minibatch OT' }],
  defaults: { width: 64, depth: 3, time_features: 2, batch: 512, lr: 0.01 },
};
const props = propsOf(CATALOG);
const QUANTUM = (2 * WORLD) / 65535;

/** An arbitrary valid value of each property. */
const settingsArb = fc.record(Object.fromEntries(Object.entries(props).map(([k, p]) => {
  switch (p.kind) {
    case 'enum': return [k, fc.constantFrom(...p.values)];
    case 'bool': return [k, fc.boolean()];
    case 'point': return [k, fc.option(fc.tuple(
      fc.double({ min: -WORLD, max: WORLD, noNaN: true }), fc.double({ min: -WORLD, max: WORLD, noNaN: true }),
    ), { nil: null })];
    case 'int': return [k, fc.integer({ min: p.min, max: p.max })];
    default: return [k, fc.double({ min: p.min, max: p.max, noNaN: true })];
  }
})));
const pointsArb = fc.array(fc.double({ min: -WORLD, max: WORLD, noNaN: true }), { maxLength: 400 })
  .map((a) => Float32Array.from(a.length % 2 ? a.slice(1) : a));

/** Only Errors with a message a person can read (no TypeError from inside the codec). */
function readable(fn) {
  try { fn(); } catch (err) {
    assert.ok(err instanceof Error && err.constructor === Error, `not a plain Error: ${err}`);
    assert.ok(err.message.length > 5 && !/undefined|is not a function|atob|JSON/.test(err.message), err.message);
  }
}

test('a share link round-trips: settings exactly, points within the quantisation', () => {
  fc.assert(fc.property(settingsArb, pointsArb, (settings, points) => {
    const { settings: back, points: got } = fromHash(props, toHash(props, settings, points));
    assert.deepEqual(back, sanitize(props, settings));
    assert.equal(got.length, points.length);
    for (let i = 0; i < points.length; i++) {
      assert.ok(Math.abs(got[i] - points[i]) <= QUANTUM, `${got[i]} vs ${points[i]}`);
    }
  }), { numRuns: 300 });
});

test('labels round-trip with their points, in links and saved drawings; bad ones fail readably', () => {
  const labelled = fc.integer({ min: 0, max: 300 }).chain((n) => fc.tuple(
    fc.array(fc.double({ min: -WORLD, max: WORLD, noNaN: true }), { minLength: 2 * n, maxLength: 2 * n }),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
  ));
  fc.assert(fc.property(settingsArb, labelled, (settings, [points, labels]) => {
    const back = fromHash(props, toHash(props, settings, points, labels));
    assert.deepEqual(Array.from(back.labels), labels);
    assert.deepEqual(Array.from(decodeDrawing(encodeDrawing(points, labels)).labels), labels);
    // An unlabelled drawing (all class 1) writes no labels at all.
    if (labels.every((y) => y === 1)) assert.doesNotMatch(toHash(props, settings, points, labels), /&l=/);
  }));
  // Labels that do not fit the points are refused with a message, and the drawing is not opened.
  const hash = toHash(props, sanitize(props, {}), [0, 0, 1, 1, 2, 2], [1, 2, 3]);
  assert.throws(() => fromHash(props, hash.replace(/&l=[^&]*/, '&l=AAAA')), /the labels of the link do not fit its 3 points/);
});

test('any string as a link gives a state or a readable error', () => {
  const fragments = fc.constantFrom('v=1', 'v=2', 'p=', 'p=AAAA', 'p=%%%', 'width=', 'width=1e9', 'z=1,2', 'z=a',
    'field=x', '&', '#', '=');
  const links = fc.oneof(fc.string(), fc.array(fragments, { maxLength: 6 }).map((a) => `#${a.join('&')}`),
    fc.tuple(fc.string(), fc.string())
      .map(([k, v]) => `#v=1&${encodeURIComponent(k)}=${encodeURIComponent(v)}&p=AAAAAAAA`));
  fc.assert(fc.property(links, (hash) => readable(() => {
    const { settings, points } = fromHash(props, hash);
    assert.deepEqual(sanitize(props, settings), settings, 'a decoded state passes the table');
    assert.ok(points.length / 2 <= MAX_POINTS);
  })), { numRuns: 1000 });
});

test('any base64url-ish text as points decodes to finite points in the box, or a readable error', () => {
  fc.assert(fc.property(
    fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/%') }),
    (text) => readable(() => {
    const pts = decodePoints(text);
    assert.ok(pts.every((v) => Number.isFinite(v) && Math.abs(v) <= WORLD + 1e-6));
  })), { numRuns: 1000 });
  assert.deepEqual(Array.from(decodePoints(encodePoints([]))), []);
});

test('the saved state round-trips, and any stored value loads or fails readably, keeping what it can', () => {
  fc.assert(fc.property(settingsArb, pointsArb, (settings, points) => {
    storage.clear();
    const persist = new Persistence({ props, onProblem: () => {}, onOtherTab: () => {} });
    persist.save(settings, points);
    const back = new Persistence({ props, onProblem: () => {}, onOtherTab: () => {} }).load();
    assert.deepEqual(back.settings, sanitize(props, settings));
    assert.equal(back.points.length, points.length);
    assert.equal(back.problem, null);
  }), { numRuns: 200 });
  const stored = fc.oneof(fc.string(), fc.json(), fc.record({
    settings: fc.dictionary(fc.constantFrom(...Object.keys(props), 'x'), fc.jsonValue()),
    points: fc.oneof(fc.string(), fc.jsonValue()),
  }).map((o) => JSON.stringify(o)));
  fc.assert(fc.property(stored, (raw) => {
    storage.clear();
    storage.set('fmp:v1', raw);
    readable(() => {
      const got = new Persistence({ props, onProblem: () => {}, onOtherTab: () => {} }).load();
      if (got) assert.deepEqual(sanitize(props, got.settings), got.settings, 'a loaded state passes the table');
    });
  }), { numRuns: 1000 });
});

test('the recent list keeps each replaced drawing once, newest first, at most MAX_RECENT', async () => {
  const { MAX_RECENT } = await import('../../www/persist.js');
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 30 }), (sizes) => {
    storage.clear();
    const persist = new Persistence({ props, onProblem: () => {}, onOtherTab: () => {} });
    for (const n of sizes) persist.keep({}, new Float32Array(2 * n).fill(n / 10), `n=${n}`);
    const list = persist.recent();
    const distinct = [...new Set([...sizes].reverse())];
    assert.deepEqual(list.map((e) => e.why), distinct.slice(0, MAX_RECENT).map((n) => `n=${n}`));
  }), { numRuns: 200 });
});

test('link values are decimal numbers only: no empty value, no 0x1, no spaces, no Infinity', () => {
  const width = props.width;
  // Strings over the characters a number can be spelled with in JavaScript (Number() takes
  // '', ' 1 ', '0x1', '0b1', '0o7', '+1' and 'Infinity'); a link may hold only a decimal.
  const raw = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'0123456789.eE+-xXbBoO \t\n_'), maxLength: 8 }),
    fc.constantFrom('', ' 64', '64 ', '0x40', '0X40', '0b1000000', '0o100', '+64', 'Infinity', '6_4', '64\n', '.'),
    fc.integer({ min: width.min, max: width.max }).map(String),
  );
  fc.assert(fc.property(raw, (value) => {
    const link = `#v=1&width=${encodeURIComponent(value)}&p=${encodePoints([0, 0])}`;
    let got = null;
    try { got = fromHash(props, link).settings.width; } catch (err) {
      assert.match(err.message, /^width (is not a number|must be within)/, err.message);
    }
    // An independent statement of "a decimal": digits, at most one point, an optional leading
    // minus, and an exponent only after a digit; nothing else (no letter but e, no space).
    const decimal = value !== '' && /^-?[0-9.]+([eE][-+]?[0-9]+)?$/.test(value)
      && (value.match(/\./g) ?? []).length <= 1 && /[0-9]/.test(value.split(/[eE]/)[0]);
    const n = Number(value);
    const ok = decimal && Number.isInteger(n) && n >= width.min && n <= width.max;
    assert.equal(got !== null, ok, `width=${JSON.stringify(value)} ${ok ? 'must open' : 'must be refused'}`);
    if (ok) assert.equal(got, n);
  }), { numRuns: 2000 });
});

test('only the settings\' own names count: the names of Object.prototype are unknown settings', () => {
  const inherited = Object.getOwnPropertyNames(Object.prototype);
  assert.ok(inherited.includes('__proto__') && inherited.includes('toString') && inherited.includes('constructor'));
  for (const name of inherited) {
    for (const value of ['1', '', 'x']) {
      assert.throws(() => fromHash(props, `#v=1&${encodeURIComponent(name)}=${value}&p=${encodePoints([0, 0])}`),
        new RegExp(`^Error: unknown setting "${name.replace(/[$_]/g, '\\$&')}"$`), name);
    }
  }
  // And every own name is known (a valid value opens).
  fc.assert(fc.property(settingsArb, (settings) => {
    const hash = toHash(props, settings, [0, 0]);
    assert.deepEqual(fromHash(props, hash).settings, sanitize(props, settings));
  }), { numRuns: 100 });
});
