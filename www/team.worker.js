// @ts-check
// A training helper (see team.js): its own wasm instance and a GradShard. Per step it takes
// the leader's weights and its share of the batch, and returns the share's CFM gradient.
// In:  {type:'configure', build, kernel, shape, n, scale, shared: {ctrl, share, grads, loss, params} | null}
//      {type:'share', params, share}  (transferred buffers; the gradient comes back in `params`)
//      {type:'crash'}  (tests only: the next share traps; answered with {type:'armed'})
// Out: {type:'configured'} | {type:'gradient', grads, share, loss} | {type:'error', message}
// With shared memory it waits on ctrl[0] (the step's generation) and answers by storing it in
// ctrl[1] (-1 when it failed); it returns to its event loop whenever no step came for 100 ms, so a new
// configuration still gets through.
import { loadCore } from './wasm.js';

/** @type {typeof import('./pkg/fmp.js') | null} */
let core = null;
/** @type {import('./pkg/fmp.js').GradShard | null} */
let shard = null;
/** @type {any} */
let setup = null;
let seen = 0;
let serving = false;
/** A test asked for a trap in the next share (as a Rust panic would end one). */
let trapNext = false;

/** Computes one share: the weights in `params`, the share in `share`; the gradient stays in the shard. */
const compute = (/** @type {Float32Array} */ params, /** @type {Float32Array} */ share) => {
  const s = /** @type {import('./pkg/fmp.js').GradShard} */ (shard);
  if (trapNext) { trapNext = false; throw new WebAssembly.RuntimeError('unreachable (a trap requested by a test)'); }
  s.set_params(params);
  return s.gradient(share, setup.n, setup.scale);
};

/** Serves steps through shared memory until none came for 100 ms. */
function serve() {
  const { ctrl, share, grads, loss, params } = setup.shared;
  serving = true;
  const config = setup;
  try {
    for (;;) {
      if (Atomics.wait(ctrl, 0, seen, 100) === 'timed-out') break;
      if (setup !== config) return;
      const gen = Number(Atomics.load(ctrl, 0));
      if (gen === seen) continue;
      seen = gen;
      loss[0] = compute(params, share);
      /** @type {import('./pkg/fmp.js').GradShard} */ (shard).write_grads(grads);
      Atomics.store(ctrl, 1, gen);
      Atomics.notify(ctrl, 1);
    }
  } catch (err) {
    // The leader waits in a loop that no message reaches: it reads the failure from ctrl[1].
    Atomics.store(ctrl, 1, -1);
    Atomics.notify(ctrl, 1);
    postMessage({ type: 'error', message: String(/** @type {any} */ (err)?.message ?? err) });
    return;
  } finally {
    serving = false;
  }
  setTimeout(() => { if (setup === config && !serving) serve(); }, 0);
}

onmessage = async (ev) => {
  const m = ev.data;
  try {
    if (m.type === 'configure') {
      core ??= await loadCore(m.build);
      core.set_kernel(m.kernel);
      shard?.free();
      shard = new core.GradShard(Uint32Array.from(m.shape));
      setup = m;
      seen = 0;
      postMessage({ type: 'configured' });
      if (m.shared) serve();
    } else if (m.type === 'crash') {
      trapNext = true;
      postMessage({ type: 'armed' });
    } else if (m.type === 'share') {
      const loss = compute(m.params, m.share);
      /** @type {import('./pkg/fmp.js').GradShard} */ (shard).write_grads(m.params);
      postMessage({ type: 'gradient', grads: m.params, share: m.share, loss }, [m.params.buffer, m.share.buffer]);
    }
  } catch (err) {
    postMessage({ type: 'error', message: String(/** @type {any} */ (err)?.message ?? err) });
  }
};
