// @ts-check
// The flow-matching lesson's views: the learned, exact, conditional and error fields, the
// score and the denoiser, the divergence and the continuity residuals (exact, learned, and
// the wrong field of uniform weights).
// Entries of the views table (views.js; the field `lesson` is filled in there).
import { F } from '../../math.js';
import { inlineFormulas } from '../../views.js';

const f = inlineFormulas(F);

/** @type {import('../../views.js').ViewEntry[]} */
export const VIEWS = [
  {
    id: 'none', label: 'none', needs: {}, arrows: null, heat: null,
    caption: (t, extra) => `Particles ${t}: from noise N(0, I) at t = 0 to data at t = 1, along the learned field `
      + `(orange) and the exact marginal field (blue). ${extra}`,
  },
  {
    id: 'learned', label: 'learned u_t^θ', needs: { model: true }, arrows: 'learned', heat: null,
    caption: (t, extra) => `Learned field ${f.learned} ${t}: the network's guess, trained only on conditional targets. `
      + `${extra}`,
  },
  {
    id: 'marginal', label: 'exact marginal u_t^target', needs: {}, arrows: 'marginal', heat: null,
    caption: (t, extra) => `Exact marginal field ${f.marginal} ${t}: the posterior-weighted average of the conditional `
      + `fields, in closed form. ${extra}`,
  },
  {
    id: 'conditional', label: 'conditional u_t^target(·|z)', needs: { z: true }, arrows: 'conditional', heat: null,
    caption: (t, extra) => `Conditional field of the chosen z (green ring): ${f.uCond} ${t}. Dashed: the path of its `
      + `mean α<sub>t</sub>z; circles: 1 and 2 β<sub>t</sub>. ${extra}`,
  },
  {
    id: 'error', label: 'error |u_t^θ − u_t^target|', needs: { model: true }, arrows: 'error', heat: 'error',
    caption: (t, extra) => `Error ${f.error} ${t} (shading): orange arrows learned, blue exact; where they disagree, `
      + `training has work left. ${extra}`,
  },
  {
    id: 'score', label: 'score ∇log p_t (exact)', needs: {}, arrows: 'score', heat: null,
    caption: (t, extra) => `Score ${f.score} of the exact marginal path ${t}: it points up the density, towards `
      + `α<sub>t</sub>z̄ (the posterior mean scaled to time t). For Gaussian paths field and score determine each `
      + `other: ${f.scoreToField}. ${extra}`,
  },
  {
    id: 'score_learned', label: 'score of u_t^θ (learned)', needs: { model: true }, arrows: 'score_learned', heat: null,
    caption: (t, extra) => `The network's score ${t}, converted from ${f.learned} with the same identity solved for `
      + `the score: ${f.fieldToScore} (no second network). Compare with the exact score view. ${extra}`,
  },
  {
    id: 'denoiser', label: 'denoiser E[z | x, t]', needs: {}, arrows: 'denoiser', heat: null,
    caption: (t, extra) => `Arrows from each x towards the posterior mean ${f.denoiser} ${t} (long ones drawn `
      + `shorter): where, on average over the data points that could have produced x, it came from. The marginal field `
      + `is ${f.fieldFromDenoiser}. ${extra}`,
  },
  {
    id: 'divergence', label: 'divergence ∇·u_t^target (sources and sinks)', needs: {}, arrows: 'marginal',
    heat: 'divergence',
    caption: (t, extra) => `Divergence ${f.divergence} of the exact field ${t}, in closed form: red where the flow `
      + `spreads particles apart (a source), blue where it gathers them (a sink). Late in time the data points are `
      + `sinks. ${extra}`,
  },
  {
    id: 'residual', label: 'continuity residual: exact u_t^target', needs: {}, arrows: null, heat: 'residual',
    caption: (t, extra) => `Continuity residual ${f.residual} of the exact pair (p<sub>t</sub>, u<sub>t</sub>) ${t}: `
      + `zero up to rounding, everywhere. ${extra}`,
  },
  {
    id: 'residual_learned', label: 'continuity residual: learned u_t^θ', needs: { model: true }, arrows: null,
    heat: 'residual_learned',
    caption: (t, extra) => `Continuity residual ${f.residual} with the learned <i>u</i><sub>t</sub><sup>θ</sup> `
      + `${t} (its divergence by central differences, step 10<sup>−3</sup>): large early, shrinking with training. `
      + `${extra}`,
  },
  {
    id: 'residual_uniform', label: 'continuity residual: uniform weights (wrong)', needs: {}, arrows: null,
    heat: 'residual_uniform', extraFlow: 'uniform', exactColor: 'uniform', exactLabel: 'uniform-weight particles',
    sideLabel: 'Uniform weights (wrong field)',
    caption: (t, extra) => `Continuity residual ${f.residual} of a wrong field that averages the conditional fields `
      + `with uniform weights ${t}: far from zero, and its purple particles miss the data. ${extra}`,
  },
];
