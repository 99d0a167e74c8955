// @ts-check
// Data-parallel training, the leader's side (the protocol is in crate/src/parallel.rs): the
// training worker owns the TrainerHandle and N - 1 helper workers (team.worker.js), each with
// its own wasm instance and a fixed share of every batch. Per step the leader draws the batch,
// hands each helper its share and the current weights, computes share 0 itself, adds the
// helpers' gradients in order 1..N-1, and takes the Adam step: so a seed and N reproduce a
// run bit for bit, whichever transport carried the numbers.
//
// Two transports. Where the page is cross-origin isolated (the server sends COOP/COEP),
// SharedArrayBuffers and Atomics: the leader writes shares and weights into shared arrays,
// bumps a generation counter and notifies; helpers wait on it, compute, write their gradient
// and notify back (microseconds). Elsewhere, transferred buffers: a message per share and a
// reply per gradient, the same buffers going back and forth (no copy in flight).

/** @typedef {import('./pkg/fmp.js').TrainerHandle} TrainerHandle */

/** How long the leader waits for a helper (its configuration, a gradient) before giving up on the team (ms). */
const HELPER_TIMEOUT_MS = 10000;
/** What a helper stores as its answer (ctrl[1]) when it failed, instead of the step's generation. */
const FAILED = -1;

/** A helper failed or stopped answering: the team is given up, the network is not harmed. */
export class HelperError extends Error {}

/**
 * How `workers` workers exchange their numbers on this page (see Team.transport).
 * @param {number} workers
 */
export const transportFor = (workers) => (workers <= 1 ? 'one worker'
  : typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true ? 'shared memory'
    : 'transferred buffers');

/**
 * Rejects with a HelperError after HELPER_TIMEOUT_MS unless `promise` settles first.
 * @template T
 * @param {Promise<T>} promise
 * @param {string} what
 * @returns {Promise<T>}
 */
async function inTime(promise, what) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new HelperError(`a training helper did not ${what} in `
      + `${HELPER_TIMEOUT_MS / 1000} s`)),
      HELPER_TIMEOUT_MS);
  });
  try {
    return /** @type {T} */ (await Promise.race([promise, late]));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The default number of training workers: the logical cores the page can spare while it
 * animates (the page and the flow worker need one each), at least 1.
 * @param {number | undefined} cores navigator.hardwareConcurrency
 */
export const defaultWorkers = (cores) => Math.max(1, Math.min(16, (cores || 2) - 2));

/**
 * Share k of a batch of `batch` split `workers` ways starts at floor(k batch / workers)
 * (crate/src/parallel.rs, share_bounds).
 * @param {number} batch
 * @param {number} workers
 * @param {number} k
 */
export const shareStart = (batch, workers, k) => Math.floor((k * batch) / workers);

/**
 * @typedef {{ worker: Worker, lo: number, hi: number, ctrl: Int32Array | null,
 *   share: Float32Array, grads: Float32Array, loss: Float64Array | null,
 *   pending: ((m: any) => void) | null, error: string | null }} Helper
 */

export class Team {
  /**
   * @param {number} workers N, the leader included
   * @param {'relaxed' | 'simd128'} build the wasm build the helpers load (the leader's)
   * @param {string} kernel the matrix kernel ('packed' or 'matrixmultiply')
   */
  constructor(workers, build, kernel = 'packed') {
    this.n = Math.max(1, Math.floor(workers));
    this.build = build;
    this.kernel = kernel;
    /** Shared memory and Atomics when cross-origin isolated, else transferred buffers. */
    this.shared = transportFor(this.n) === 'shared memory';
    /** @type {Helper[]} */
    this.helpers = [];
    this.key = '';
    this.gen = 0;
    this.batch = 0;
    /** @type {Float32Array} the weights the helpers compute with (shared: one array for all) */
    this.params = new Float32Array(0);
    /**
     * Where a shared-memory step's time goes, summed over steps when set (the benchmark's
     * estimate for more workers): the leader's serial work (drawing, copies, Adam), its own
     * share, and the wait for the helpers' gradients and their sum.
     * @type {{ steps: number, serial: number, own: number, wait: number } | null}
     */
    this.clock = null;
  }

  /** How the numbers travel: 'one worker', 'shared memory' or 'transferred buffers'. */
  get transport() { return transportFor(this.n); }

  /**
   * Makes the helpers ready for `trainer`'s network and batch (a new network of the same shape
   * and batch needs nothing; another shape reconfigures them).
   * @param {TrainerHandle} trainer
   */
  async prepare(trainer) {
    if (this.n === 1) return;
    const shape = Array.from(trainer.shape());
    const batch = trainer.batch_size();
    const nParams = trainer.num_params();
    const key = `${shape.join(',')}|${batch}`;
    if (key === this.key) return;
    this.key = '';
    const dim = trainer.input_dim();
    this.batch = batch;
    const scale = trainer.loss_scale();
    const Buffer = this.shared ? SharedArrayBuffer : ArrayBuffer;
    const buffer = (/** @type {number} */ bytes) => new Buffer(bytes);
    this.params = new Float32Array(buffer(4 * nParams));
    this.gen = 0; // the new control arrays start at 0
    while (this.helpers.length < this.n - 1) {
      const worker = new Worker(new URL('./team.worker.js', import.meta.url), { type: 'module' });
      /** @type {Helper} */
      const h = {
        worker, lo: 0, hi: 0, ctrl: null, share: new Float32Array(0), grads: new Float32Array(0), loss: null,
        pending: null, error: null,
      };
      // A reply (or an error) goes to the one request waiting for it.
      const deliver = (/** @type {any} */ reply) => {
        const p = h.pending;
        h.pending = null;
        p?.(reply);
      };
      worker.onmessage = (ev) => {
        if (ev.data.type === 'error') h.error = ev.data.message;
        deliver(ev.data);
      };
      worker.onerror = (ev) => {
        ev.preventDefault();
        h.error = ev.message || 'a training helper failed';
        deliver({ type: 'error', message: h.error });
      };
      this.helpers.push(h);
    }
    await inTime(Promise.all(this.helpers.map((h, i) => {
      const k = i + 1;
      h.lo = shareStart(batch, this.n, k);
      h.hi = shareStart(batch, this.n, k + 1);
      const n = h.hi - h.lo;
      h.share = new Float32Array(buffer(4 * (dim + 2) * n));
      h.grads = new Float32Array(buffer(4 * nParams));
      h.ctrl = this.shared ? new Int32Array(new SharedArrayBuffer(8)) : null;
      h.loss = this.shared ? new Float64Array(new SharedArrayBuffer(8)) : null;
      const shared = { ctrl: h.ctrl, share: h.share, grads: h.grads, loss: h.loss, params: this.params };
      return this.ask(h, {
        type: 'configure', build: this.build, kernel: this.kernel, shape, n, scale,
        shared: this.shared ? shared : null,
      });
    })), 'start');
    this.key = key;
  }

  /**
   * Posts `m` to a helper and resolves with its reply (rejects on an error reply).
   * @param {Helper} h
   * @param {any} m
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  ask(h, m, transfer = []) {
    return new Promise((resolve, reject) => {
      if (h.error) { reject(new HelperError(`a training helper failed: ${h.error}`)); return; }
      h.pending = (reply) => {
        if (reply.type === 'error') reject(new HelperError(`a training helper failed: ${reply.message}`));
        else resolve(reply);
      };
      h.worker.postMessage(m, transfer);
    });
  }

  /**
   * One data-parallel step through shared memory (synchronous). Returns
   * [L_CFM of the batch, L_FM, cosine] (the last two NaN unless `report` and the trainer
   * reports them).
   * @param {TrainerHandle} trainer
   * @param {boolean} report
   */
  stepShared(trainer, report) {
    const t0 = this.clock ? performance.now() : 0;
    if (!trainer.begin_step()) return [0, NaN, NaN];
    trainer.write_trained(this.params);
    this.gen += 1;
    for (const h of this.helpers) {
      const ctrl = /** @type {Int32Array} */ (h.ctrl);
      trainer.write_share(h.lo, h.hi, h.share);
      Atomics.store(ctrl, 0, this.gen);
      Atomics.notify(ctrl, 0);
    }
    const t1 = this.clock ? performance.now() : 0;
    let loss = trainer.share_gradient(0, shareStart(this.batch, this.n, 1));
    const t2 = this.clock ? performance.now() : 0;
    for (const h of this.helpers) {
      const ctrl = /** @type {Int32Array} */ (h.ctrl);
      const t0 = performance.now();
      for (let done = Atomics.load(ctrl, 1); done !== this.gen; done = Atomics.load(ctrl, 1)) {
        // A helper that failed says so here (its message cannot arrive while this loop runs).
        if (done === FAILED) throw new HelperError('a training helper failed (its wasm instance stopped)');
        if (performance.now() - t0 > HELPER_TIMEOUT_MS) {
          throw new HelperError(`a training helper did not answer in ${HELPER_TIMEOUT_MS / 1000} s`);
        }
        Atomics.wait(ctrl, 1, done, 100);
      }
      trainer.add_gradient(h.grads);
      loss += /** @type {Float64Array} */ (h.loss)[0];
    }
    if (!this.clock) return this.finish(trainer, report, loss);
    const t3 = performance.now();
    const result = this.finish(trainer, report, loss);
    const c = this.clock;
    c.steps += 1;
    c.serial += t1 - t0 + performance.now() - t3;
    c.own += t2 - t1;
    c.wait += t3 - t2;
    return result;
  }

  /**
   * One data-parallel step through transferred buffers (see stepShared).
   * @param {TrainerHandle} trainer
   * @param {boolean} report
   */
  async stepTransfer(trainer, report) {
    if (!trainer.begin_step()) return [0, NaN, NaN];
    const replies = this.helpers.map((h) => {
      const params = h.grads; // the helper writes its gradient over the weights it was sent
      trainer.write_trained(params);
      trainer.write_share(h.lo, h.hi, h.share);
      return this.ask(h, { type: 'share', params, share: h.share }, [params.buffer, h.share.buffer]);
    });
    let loss = trainer.share_gradient(0, shareStart(this.batch, this.n, 1));
    const all = await inTime(Promise.all(replies), 'answer');
    for (const [i, m] of all.entries()) {
      const h = this.helpers[i];
      h.grads = m.grads;
      h.share = m.share;
      trainer.add_gradient(h.grads);
      loss += m.loss;
    }
    return this.finish(trainer, report, loss);
  }

  /**
   * The end of a step: the FM report when asked for, the Adam step.
   * @param {TrainerHandle} trainer
   * @param {boolean} report
   * @param {number} loss the batch's sum of squared residuals
   */
  finish(trainer, report, loss) {
    let fm = NaN;
    let cos = NaN;
    if (report && trainer.reports_fm()) [fm, cos] = trainer.report_fm();
    trainer.finish_step();
    return [loss / this.batch, fm, cos];
  }

  /**
   * `n` steps (at least 1; the trainer's own loop when N = 1), reporting on the last when
   * `report`: [steps done, L_CFM, L_FM, cosine, mean L_CFM], as TrainerHandle.train returns.
   * Stops early (the steps done so far counted) when `current()` turns false: the trainer was
   * replaced while helpers computed.
   * @param {TrainerHandle} trainer
   * @param {number} n
   * @param {boolean} report
   * @param {() => boolean} [current]
   * @returns {Promise<number[]>}
   */
  async train(trainer, n, report, current = () => true) {
    if (this.n === 1) return Array.from(trainer.train(n, report));
    n = Math.max(1, Math.floor(n));
    await this.prepare(trainer);
    let sum = 0;
    let final = [NaN, NaN, NaN];
    for (let i = 0; i < n && current(); i++) {
      const last = report && i === n - 1;
      const r = this.shared ? this.stepShared(trainer, last) : await this.stepTransfer(trainer, last);
      sum += r[0];
      final = r;
    }
    return [trainer.steps_done(), report ? final[0] : NaN, final[1], final[2], sum / n];
  }

  /** Stops the helpers. */
  close() {
    for (const h of this.helpers) h.worker.terminate();
    this.helpers = [];
    this.key = '';
  }
}
