// @ts-check
// The flow-matching lesson's jobs in the flow worker: the flow of the wrong field that averages
// the conditional fields with uniform weights instead of the posterior ones, while a view
// shows it (the continuity residual's counterexample). The learned and exact flows, C and the
// fit are the core's (worker/core.js): every lesson builds on them.
// Out: the flow 'uniform' (streamed, with a coarse first pass).

/**
 * @param {import('../../worker/context.js').Context} ctx
 * @param {string} lesson
 * @returns {import('../../worker/context.js').Module}
 */
export default function fmJobs(ctx, lesson) {
  /** The uniform-weight flow, while the stage shows it. */
  const uniform = () => {
    if (!ctx.cloud.has || !ctx.shown('uniform')) { ctx.scheduler.remove('uniform'); return; }
    if (ctx.scheduler.has('uniform') || ctx.finished.has('uniform')) return;
    ctx.flow({
      key: 'uniform', lesson, coarse: true,
      begin: (f, noise) => f.flow_begin('uniform', noise, ctx.setup.solver, ctx.setup.steps),
    });
  };
  const restart = () => { ctx.scheduler.remove('uniform'); uniform(); };
  return { cloud: restart, setup: restart, stage: uniform };
}
