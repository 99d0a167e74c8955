// @ts-check
// The one hook through which end-to-end tests (and a curious person at the console) read the
// app's state: `window.fmp`. Everything here is read-only except `apply` (the store's own
// entry) and the test actions `replacePoints`, `crashTrainer`, `harmWorker` and `stepTraining`.
// Tests use nothing else. A lesson's measures are `lesson(id)`, and, for each lesson with a
// page that measures, `fmp[id]()` as a short name (`fmp.diffusion()`, ...).

/**
 * @param {{ store: import('./store.js').Store, cloud: import('./draw.js').Cloud,
 *   chart: import('./chart.js').LossChart, session: import('./session.js').Session,
 *   training: import('./training.js').Training, tour: import('./tour.js').Tour,
 *   ui: { frames: number, lastFrame: { field: string, t: number, modelVersion: number, pending: number, ms: number } },
 *   urlCurrent: () => boolean, wasmMemory: () => number,
 *   pages: import('./pages.js').LessonPages, fields: any,
 *   exportedSamples: () => ({ x0: Float32Array, x1: Float32Array } | null) }} app
 */
export function installTestHook(app) {
  const { store, cloud, chart, session, training, ui, urlCurrent, wasmMemory } = app;
  const { pages, fields, exportedSamples } = app;
  /** A lesson's measures (null when it has no page that measures). */
  const lesson = (/** @type {string} */ id) => pages.measures(id);
  /** @type {any} */ (window).fmp = {
    /** A copy of the store's state (settings, t, play, z, versions). */
    state: () => ({ ...store.state }),
    /** Applies a patch through the store (as a control would). */
    apply: (/** @type {Record<string, any>} */ patch) => store.apply(patch),
    /** The number of drawn points. */
    count: () => cloud.count,
    /** The drawn points, interleaved, as a plain array. */
    points: () => Array.from(cloud.points()),
    /** Their class labels (1..4), one per point. */
    labels: () => Array.from(cloud.labels()),
    /** Point i as [x, y]. */
    pointAt: (/** @type {number} */ i) => cloud.at(i),
    /** Replaces the drawing, with labels when given (undoable, as an import is). */
    replacePoints: (/** @type {number[]} */ pts, /** @type {number[] | undefined} */ labels = undefined) =>
      cloud.replace(Float32Array.from(pts), labels),
    /** The last charted step (0 before any), and the charted losses (smoothed). */
    lastStep: () => chart.steps.at(-1) ?? 0,
    losses: () => ({
      firstCfm: chart.cfm[0], lastCfm: chart.cfm.at(-1), firstFm: chart.fm[0], lastFm: chart.fm.at(-1),
    }),
    /** Whether training runs; whether the page holds the weights a paused trainer ended with. */
    isTraining: () => training.running,
    trainingSettled: () => session.settled,
    /** Whether a full trajectory of `kind` exists (not a coarse first pass): its particle
     * count, whether it is complete. */
    trajectory: (/** @type {import('./session.js').FlowKind} */ kind) => {
      const tr = session.full[kind];
      return tr ? { complete: tr.complete(), reach: tr.reach(), n: tr.n } : null;
    },
    /** The trajectory of `kind` the stage shows (a coarse first pass until the full one reaches as far). */
    shownTrajectory: (/** @type {string} */ kind) => {
      const tr = session.traj[kind];
      return tr ? { complete: tr.complete(), reach: tr.reach(), n: tr.n } : null;
    },
    /** Bytes of the page's own wasm memory (the soak script watches it for growth). */
    wasmMemory,
    /** Whether the address bar holds the current state (it follows it, debounced). */
    urlCurrent,
    /**
     * Frames drawn so far, and what the last one showed: view id, t, model version, and how
     * many of its fields were still being computed (shown from older inputs), and the
     * main-thread time its drawing took (ms).
     */
    frames: () => ui.frames,
    lastFrame: () => ({ ...ui.lastFrame }),
    /** Kills the training worker (as an uncaught error would), and how often it was replaced. */
    crashTrainer: () => session.train.post({ type: 'crash' }),
    trainerRestarts: () => session.train.restarts,
    /**
     * Harms a worker ('train' or 'flow'): 'trap' makes its next piece of work throw a
     * WebAssembly.RuntimeError (as a Rust panic would); 'terminate' stops it without a word;
     * 'helper' makes the training worker's first helper trap in its next share.
     */
    harmWorker: (/** @type {'train' | 'flow'} */ which, /** @type {'trap' | 'terminate' | 'helper'} */ how) => {
      if (how === 'terminate') session[which].worker.terminate();
      else session[which].post({ type: 'crash', how });
    },
    /** How often a training helper confirmed that its next share traps (harmWorker 'helper'). */
    helperArmed: () => session.armed,
    /** The share of the time the workers compute (lowered while frames are slow). */
    duty: () => session.duty,
    /** A lesson's measures, as its page gives them (its `measures()`; null without one). */
    lesson,
    /** The page's own u_theta (the newest weights) at interleaved points `xs` and time t. */
    learnedVelocity: (/** @type {number[]} */ xs, /** @type {number} */ t) =>
      Array.from(fields.velocity('learned', Float32Array.from(xs), t)),
    /** A lesson's page module itself (tests call its own methods), or null. */
    page: (/** @type {string} */ id) => pages.pages.get(id) ?? null,
    /** The noise and samples (interleaved) that the last model export measured its W2 on. */
    exportedSamples: () => {
      const e = exportedSamples();
      return e ? { x0: Array.from(e.x0), x1: Array.from(e.x1) } : null;
    },
    /** The newest weights the page holds (the averaged network), as a plain array. */
    weights: () => Array.from(session.last.weights?.weights ?? []),
    /** Takes `n` optimiser steps while paused (as `n` presses of Step, in one message). */
    stepTraining: (/** @type {number} */ n) => training.step(n),
    /** The training steps of the newest weights the page holds (0 before any). */
    weightSteps: () => session.last.weights?.steps ?? 0,
    /** How often each worker was replaced. */
    restarts: () => ({ train: session.train.restarts, flow: session.flow.restarts }),
  };
  // Each measured lesson's short name: fmp.<id>() is fmp.lesson(id) (never over another entry).
  const fmp = /** @type {any} */ (window).fmp;
  for (const id of pages.measured()) if (!(id in fmp)) fmp[id] = () => lesson(id);
}
