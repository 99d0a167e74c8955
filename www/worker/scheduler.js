// @ts-check
// The flow worker's scheduler: it knows jobs, not lessons. A job is
//   { key, priority(), step(), done, ready?(), wake?(), holdsModel?, cancel?() }
// and the scheduler runs it in slices of about SLICE_MS, highest priority first (the lowest
// number): within one slice it steps every ready job of the best priority in turn (one step
// each, round robin), and a lower priority gets a turn when none of them is ready, or when one
// of its jobs has waited STARVE_MS (one step, then the best again: while training restarts the
// learned flows without pause, the tables still fill). So what the stage shows at its current
// time is computed first, then the rest of what it shows, then flows it does not show, then
// measures (tables, charts, probes).
// Between slices it yields (new messages preempt) and, when the page lowers the duty (its
// frames are slow), it waits in proportion, except while an urgent job is ready: the flows
// the stage shows right after the learner changed a setting (for a second or two, the
// learner's change comes before the smoothness of the animation).

/** Priorities, best first. */
export const PRIORITY = Object.freeze({
  /** A first coarse pass of a flow the stage shows (a few hundred particles). */
  COARSE: 0,
  /** The flows the stage shows. */
  STAGE: 1,
  /** Flows the stage does not show now (the other stage of side by side, the next view). */
  FLOW: 2,
  /** Tables, charts and probes. */
  MEASURE: 3,
});

/** The time a slice of work may take before the worker looks at its messages again (ms). */
const SLICE_MS = 25;
/** A ready job of a lower priority than the running ones gets one step after waiting this long (ms). */
const STARVE_MS = 500;

/**
 * A unit of work.
 * @typedef {{ key: string, priority: () => number, step: () => void, done: boolean,
 *   ready?: () => boolean, wake?: () => number, holdsModel?: boolean, keep?: boolean,
 *   urgent?: boolean, cancel?: () => void }} Job
 * (`keep`: a job that lives as long as the worker, such as the loading of weights; `clear`
 * leaves it.)
 */

export class Scheduler {
  /** @param {(err: unknown) => void} onError a step threw: the job is dropped and this is told */
  constructor(onError) {
    this.onError = onError;
    /** @type {Map<string, Job>} */
    this.jobs = new Map();
    /** The share of the time to compute (the page lowers it when its frames are slow). */
    this.duty = 1;
    this.scheduled = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** Where the round robin of each priority continues. */
    this.turn = 0;
    /** Since when each ready job has waited for a turn (ms), by key. @type {Map<string, number>} */
    this.waiting = new Map();
  }

  /**
   * Adds a job (replacing, and cancelling, one of the same key) and makes sure work runs.
   * @template {Job} J
   * @param {J} job
   * @returns {J}
   */
  add(job) {
    this.remove(job.key);
    this.jobs.set(job.key, job);
    this.kick();
    return job;
  }

  /** @param {string} key */
  get(key) { return this.jobs.get(key); }

  /** @param {string} key */
  has(key) { return this.jobs.has(key); }

  /**
   * Drops a job (it is cancelled: a flow frees its handle).
   * @param {string} key
   */
  remove(key) {
    const job = this.jobs.get(key);
    if (!job) return;
    this.jobs.delete(key);
    this.waiting.delete(key);
    job.cancel?.();
  }

  /** Drops every job whose key passes `test`. @param {(key: string) => boolean} test */
  removeWhere(test) {
    for (const key of [...this.jobs.keys()]) if (test(key)) this.remove(key);
  }

  /** Whether a running job holds the weights loaded now (new weights wait for it). */
  modelHeld() {
    for (const job of this.jobs.values()) if (job.holdsModel && !job.done) return true;
    return false;
  }

  /** Runs work after `delay` ms (at once by default), unless it is already due sooner. */
  kick(delay = 0) {
    if (this.scheduled) return;
    this.scheduled = true;
    this.timer = setTimeout(() => this.work(), delay);
  }

  /**
   * The ready jobs of the best priority among them, then (alone, for one step) the ready job
   * of a lower priority that has waited longest, if longer than STARVE_MS.
   */
  best() {
    /** @type {Job[]} */
    let group = [];
    let top = Infinity;
    /** @type {Job[]} */
    const ready = [];
    for (const job of this.jobs.values()) {
      if (job.done || (job.ready && !job.ready())) { this.waiting.delete(job.key); continue; }
      ready.push(job);
      const p = job.priority();
      if (p < top) { top = p; group = [job]; } else if (p === top) group.push(job);
    }
    const now = performance.now();
    /** @type {Job | null} */
    let starved = null;
    let since = now - STARVE_MS;
    for (const job of ready) {
      if (group.includes(job)) continue;
      const waited = this.waiting.get(job.key);
      if (waited === undefined) this.waiting.set(job.key, now);
      else if (waited < since) { since = waited; starved = job; }
    }
    return starved ? [starved] : group;
  }

  /** One slice of work, then the next is scheduled (or a wake-up for a job that waits). */
  work() {
    this.scheduled = false;
    const started = performance.now();
    let busy = false;
    while (performance.now() - started < SLICE_MS) {
      const group = this.best();
      if (group.length === 0) break;
      busy = true;
      this.turn = (this.turn + 1) % group.length;
      for (let i = 0; i < group.length; i++) {
        const job = group[(this.turn + i) % group.length];
        this.waiting.delete(job.key);
        try {
          job.step();
        } catch (err) {
          this.remove(job.key);
          this.onError(err);
          return;
        }
        if (job.done && this.jobs.get(job.key) === job) this.jobs.delete(job.key);
      }
    }
    const next = busy ? this.best() : [];
    if (next.length) {
      const urgent = next.some((job) => job.urgent);
      this.kick(this.duty < 1 && !urgent ? (performance.now() - started) * (1 / this.duty - 1) : 0);
      return;
    }
    // Idle: come back when the first waiting job is due.
    let due = Infinity;
    for (const job of this.jobs.values()) if (!job.done && job.wake) due = Math.min(due, job.wake());
    if (Number.isFinite(due)) this.kick(Math.max(0, due));
  }

  /** Drops every job but those kept for the worker's life (a trap, or no drawing to flow to). */
  clear() {
    for (const [key, job] of [...this.jobs]) if (!job.keep) this.remove(key);
  }
}
