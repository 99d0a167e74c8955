// The store and the property table, in Node (no browser): the store is the only writer, it
// checks every patch against the table, tells each subscriber only about its keys, and the
// link codec round-trips every kind of setting, z included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaults, toHash, fromHash, sanitize, WORLD } from '../../www/state.js';
import { Store } from '../../www/store.js';
import { nextView, viewsOf } from '../../www/views.js';
import { VIEWS, propsOf, CORE_CATALOG } from './lessons.mjs';

const CATALOG = {
  presets: [{ id: 'moons', label: 'Two moons' }, { id: 'circles', label: 'Circles' }],
  schedules: [{ id: 'linear', label: 'linear' }, { id: 'cosine', label: 'cosine' }],
  solvers: [{ id: 'euler', label: 'Euler' }, { id: 'rk4', label: 'RK4' }],
  couplings: [{ id: 'independent', label: 'independent' }, { id: 'ot', label: 'minibatch OT' }],
  defaults: { width: 64, depth: 3, time_features: 4, batch: 512, lr: 0.01 },
};
const props = propsOf(CATALOG);

test('the table takes its choices and training defaults from the catalog and the views', () => {
  assert.deepEqual(props.schedule.values, ['linear', 'cosine']);
  assert.deepEqual(props.field.values, VIEWS.map((v) => v.id));
  assert.equal(props.batch.def, 512);
  assert.equal(props.lr.def, 0.01);
});

test("the table's ranges are the core's limits (one source with the command line)", () => {
  const limits = CORE_CATALOG.limits;
  const full = propsOf(CORE_CATALOG);
  // Every range the core says the page uses (its `page` key) is the page's.
  let checked = 0;
  for (const r of Object.values(limits)) {
    if (typeof r !== 'object' || r.page === null || !(r.page in full)) continue;
    assert.equal(full[r.page].min, r.min, r.name);
    assert.equal(full[r.page].max, r.max, r.name);
    checked += 1;
  }
  assert.ok(checked >= 10, `${checked} ranges checked`);
  // Beyond a bound, apply refuses with the range in the message.
  const store = new Store(full, {});
  assert.throws(() => store.apply({ width: limits.width.max + 1 }),
    new RegExp(`width must be within 4..${limits.width.max}`));
  assert.throws(() => store.apply({ sigma: limits.sigma.max + 0.5 }), /sigma must be within/);
});

test('the state is frozen: only apply changes it', () => {
  const store = new Store(props, {});
  assert.throws(() => { store.state.width = 7; }, TypeError);
  assert.equal(store.state.width, 64);
});

test('apply checks the patch, changes nothing on a bad value, and tells only the subscribers of changed keys', () => {
  const store = new Store(props, {});
  const seen = [];
  store.subscribe(['width'], (s, changed) => seen.push(['width', s.width, [...changed]]));
  store.subscribe(['t'], (s) => seen.push(['t', s.t]));
  store.apply({ width: 32 });
  store.apply({ width: 32 }); // no change, no call
  assert.throws(() => store.apply({ width: 3, t: 0.5 }), /width must be within/);
  assert.equal(store.state.t, 0, 'a rejected patch changes nothing');
  assert.throws(() => store.apply({ nonsense: 1 }), /unknown state key/);
  store.apply({ t: 0.25, modelVersion: 3 });
  assert.deepEqual(seen, [['width', 32, ['width']], ['t', 0.25]]);
  assert.equal(store.state.modelVersion, 3);
});

test('z is a point (or null); a link round-trips every setting and z', () => {
  const store = new Store(props, {});
  store.apply({ z: [0.5, -1.25], width: 16, schedule: 'cosine', t: 0.37, play: false, field: 'conditional' });
  assert.throws(() => store.apply({ z: [WORLD + 1, 0] }), /z must be two numbers/);
  const points = Float32Array.of(0.5, -1.25, 1, 1);
  const { settings, points: back } = fromHash(props, toHash(props, store.settings(), points));
  assert.deepEqual(settings, store.settings());
  assert.equal(back.length, 4);
  assert.ok(Math.abs(back[0] - 0.5) < 2e-4);
});

test('older saves with z as an index load with no z instead of failing', () => {
  assert.equal(sanitize(props, { z: -1 }).z, null);
  assert.equal(sanitize(props, { z: 12 }).z, null);
  assert.deepEqual(sanitize(props, {}), defaults(props));
});

test('the V cycle visits every view of the lesson once', () => {
  const ids = viewsOf('fm').map((v) => v.id);
  const seen = [];
  let id = ids[0];
  for (let i = 0; i < ids.length; i++) { seen.push(id); id = nextView(id); }
  assert.deepEqual(seen, ids);
  assert.equal(id, ids[0]);
});
