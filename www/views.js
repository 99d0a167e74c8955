// @ts-check
// The one table of views. A view is what the stage shows besides the particles: arrows of a
// field, a heatmap, an extra flow, and the caption that explains it. The field-view <select>,
// the V key's cycle, the settings sanitizer's allowed values and the captions are all made
// from this table; adding a view is one entry here plus, if it draws something new, its
// drawing function in stage.js. Views belong to lessons: one lesson is shown at a time and
// its id is part of the state (and so of links).
import { F, inline } from './math.js';

/**
 * A lesson: a set of views (and, in tour.js, tour steps) over the same drawing.
 * @typedef {{ id: string, label: string }} Lesson
 */
/** @type {Lesson[]} */
export const LESSONS = [
  { id: 'fm', label: 'Flow matching' },
  { id: 'diffusion', label: 'Diffusion (SDE)' },
  { id: 'straight', label: 'Straight paths' },
  { id: 'guidance', label: 'Guidance' },
];

const f = Object.fromEntries(Object.entries(F).map(([k, v]) => [k, inline(v)]));

/**
 * One view.
 * - needs: what must exist before it can draw (a trained model, a chosen z).
 * - arrows: the field drawn as arrows ('error' draws learned and exact arrows).
 * - heat: the heatmap grid (a `Fields.grid` name), or null.
 * - extraFlow: a further particle flow the flow worker computes while the view is shown,
 *   drawn instead of the exact particles with `exactLabel` and colour key `exactColor`, and
 *   titled `sideLabel` on the second stage of the side-by-side layout.
 * - caption(t, extra, c): the HTML caption under the stage; `c` holds the settings `s`,
 *   `beta` (beta_t at the time shown) and the lesson's measured `facts` (sentences keyed by
 *   view), for captions worded from them.
 * @typedef {{ s: Record<string, any>, beta: number, facts: Record<string, string> }} CaptionContext
 * @typedef {{ id: string, label: string, lesson: string,
 *   needs: { model?: boolean, z?: boolean },
 *   arrows: 'learned' | 'marginal' | 'conditional' | 'error' | 'score' | 'score_learned' | 'denoiser'
 *     | 'sde_drift' | 'class' | 'guided' | 'learned_guided' | null,
 *   heat: string | null,
 *   extraFlow?: 'uniform' | 'ot', exactColor?: 'uniform' | 'ot', exactLabel?: string, sideLabel?: string,
 *   caption: (t: string, extra: string, c: CaptionContext) => string }} View
 */

/** @type {View[]} */
export const VIEWS = [
  {
    id: 'none', label: 'none', lesson: 'fm', needs: {}, arrows: null, heat: null,
    caption: (t, extra) => `Particles ${t}: from noise N(0, I) at t = 0 to data at t = 1, along the learned field (orange) and the exact marginal field (blue). ${extra}`,
  },
  {
    id: 'learned', label: 'learned u_t^θ', lesson: 'fm', needs: { model: true }, arrows: 'learned', heat: null,
    caption: (t, extra) => `Learned field ${f.learned} ${t}: the network's guess, trained only on conditional targets. ${extra}`,
  },
  {
    id: 'marginal', label: 'exact marginal u_t^target', lesson: 'fm', needs: {}, arrows: 'marginal', heat: null,
    caption: (t, extra) => `Exact marginal field ${f.marginal} ${t}: the posterior-weighted average of the conditional fields, in closed form. ${extra}`,
  },
  {
    id: 'conditional', label: 'conditional u_t^target(·|z)', lesson: 'fm', needs: { z: true }, arrows: 'conditional', heat: null,
    caption: (t, extra) => `Conditional field of the chosen z (green ring): ${f.uCond} ${t}. Dashed: the path of its mean α<sub>t</sub>z; circles: 1 and 2 β<sub>t</sub>. ${extra}`,
  },
  {
    id: 'error', label: 'error |u_t^θ − u_t^target|', lesson: 'fm', needs: { model: true }, arrows: 'error', heat: 'error',
    caption: (t, extra) => `Error ${f.error} ${t} (shading): orange arrows learned, blue exact; where they disagree, training has work left. ${extra}`,
  },
  {
    id: 'score', label: 'score ∇log p_t (exact)', lesson: 'fm', needs: {}, arrows: 'score', heat: null,
    caption: (t, extra) => `Score ${f.score} of the exact marginal path ${t}: it points up the density, towards the data. For Gaussian paths field and score determine each other: ${f.scoreToField}. ${extra}`,
  },
  {
    id: 'score_learned', label: 'score of u_t^θ (learned)', lesson: 'fm', needs: { model: true }, arrows: 'score_learned', heat: null,
    caption: (t, extra) => `The network's score ${t}, converted from ${f.learned} with the same identity solved for the score: ${f.fieldToScore} (no second network). Compare with the exact score view. ${extra}`,
  },
  {
    id: 'denoiser', label: 'denoiser E[z | x, t]', lesson: 'fm', needs: {}, arrows: 'denoiser', heat: null,
    caption: (t, extra) => `Arrows from each x towards the posterior mean ${f.denoiser} ${t} (long ones drawn shorter): where, on average over the data points that could have produced x, it came from. The marginal field is ${f.fieldFromDenoiser}. ${extra}`,
  },
  {
    id: 'divergence', label: 'divergence ∇·u_t^target (sources and sinks)', lesson: 'fm', needs: {}, arrows: 'marginal', heat: 'divergence',
    caption: (t, extra) => `Divergence ${f.divergence} of the exact field ${t}, in closed form: red where the flow spreads particles apart (a source), blue where it gathers them (a sink). Late in time the data points are sinks. ${extra}`,
  },
  {
    id: 'residual', label: 'continuity residual: exact u_t^target', lesson: 'fm', needs: {}, arrows: null, heat: 'residual',
    caption: (t, extra) => `Continuity residual ${f.residual} of the exact pair (p<sub>t</sub>, u<sub>t</sub>) ${t}: zero up to rounding, everywhere. ${extra}`,
  },
  {
    id: 'residual_learned', label: 'continuity residual: learned u_t^θ', lesson: 'fm', needs: { model: true }, arrows: null, heat: 'residual_learned',
    caption: (t, extra) => `Continuity residual ${f.residual} with the learned <i>u</i><sub>t</sub><sup>θ</sup> ${t} (its divergence by central differences, step 10<sup>−3</sup>): large early, shrinking with training. ${extra}`,
  },
  {
    id: 'residual_uniform', label: 'continuity residual: uniform weights (wrong)', lesson: 'fm', needs: {}, arrows: null, heat: 'residual_uniform',
    extraFlow: 'uniform', exactColor: 'uniform', exactLabel: 'uniform-weight particles', sideLabel: 'Uniform weights (wrong field)',
    caption: (t, extra) => `Continuity residual ${f.residual} of a wrong field that averages the conditional fields with uniform weights ${t}: far from zero, and its purple particles miss the data. ${extra}`,
  },
  {
    id: 'sde', label: 'SDE particles', lesson: 'diffusion', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { s, beta }) => (s.langevin
      ? `Langevin dynamics at the frozen time ${t}: ${f.langevin}. The particles start as fresh samples of p<sub>t</sub> and keep moving; the histogram in the Diffusion card compares them with p<sub>t</sub>. ${extra}`
      : `${sdeLine(s, beta)} Particles ${t}, from the same noise as the ODE's: ${s.sigma === 0 ? 'with σ = 0 they follow the ODE itself (by Euler steps).' : 'rough paths (trails), and the table beside measures whether they still have the marginals p<sub>t</sub>.'} ${extra}`),
  },
  {
    id: 'sde_drift', label: 'SDE drift u_t + (σ_t²/2)∇log p_t', lesson: 'diffusion', needs: {}, arrows: 'sde_drift', heat: null,
    caption: (t, extra, { s, beta }) => `${sdeLine(s, beta)} Arrows: the drift of the exact SDE ${t}, ${s.scoreFix && s.sigma > 0 ? `u<sub>t</sub><sup>target</sup> plus the score term ${f.scoreTerm}, a pull towards α<sub>t</sub>z̄ (the scaled posterior mean) that on average undoes what the noise spreads` : 'u<sub>t</sub><sup>target</sup> alone (no score term)'}. ${extra}`,
  },
  {
    id: 'fokker_planck', label: 'Fokker–Planck residual', lesson: 'diffusion', needs: {}, arrows: null, heat: 'fokker_planck',
    caption: (t, extra, { s, beta }) => `${sdeLine(s, beta)} Shading: the residual of the Fokker–Planck equation ${f.fokkerPlanck} for the exact p<sub>t</sub> and the drift v ${t}, in log form. ${s.sigma === 0 ? 'With σ = 0 it is the continuity equation: zero.' : s.scoreFix ? 'With the score correction the noise terms cancel: zero up to rounding, so the SDE keeps p<sub>t</sub>.' : 'Without the score correction it is −(σ<sub>t</sub><sup>2</sup>/2) Δp<sub>t</sub>/p<sub>t</sub>: the noise spreads mass that no drift takes back.'} ${extra}`,
  },
  {
    id: 'paths', label: 'paths of each network', lesson: 'straight', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { facts }) => `Particles ${t}, from the same noise, along the ODE of each network (rings: the current one orange, earlier ones in their own colours) and of the exact field (blue squares); trails show their paths. ${facts.paths ?? ''} ${extra}`,
  },
  {
    id: 'ot', label: 'straight reference: OT pairs', lesson: 'straight', needs: {}, arrows: null, heat: null,
    extraFlow: 'ot', exactColor: 'ot', exactLabel: 'OT pairs', sideLabel: 'Straight reference: OT pairs',
    caption: (t, extra, { facts }) => `The straight reference ${t}: each particle's noise x<sub>0</sub> is paired with a drawn point x<sub>1</sub> by the exact assignment (least total squared distance) and moves along ${f.pairPath}. ${facts.ot ?? ''} ${extra}`,
  },
  {
    id: 'straight_field', label: 'field of the current network', lesson: 'straight', needs: { model: true }, arrows: 'learned', heat: null,
    caption: (t, extra, { facts }) => `The current network's field ${f.learned} ${t}. Along a straight path at constant speed a particle's velocity does not change: the arrows it meets keep one direction. ${facts.paths ?? ''} ${extra}`,
  },
  {
    id: 'guided', label: 'guided particles', lesson: 'guidance', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { facts }) => `Guided particles of one class ${t}, from the same noise: squares follow the exact guided field ${f.guided}, rings the network's (the same mix of its outputs for the class and for the null label). ${facts.guided ?? ''} ${extra}`,
  },
  {
    id: 'class_field', label: 'class field u_t(x|y) (exact)', lesson: 'guidance', needs: {}, arrows: 'class', heat: null,
    caption: (t, extra, { facts }) => `The exact class field ${f.classField} ${t}: the posterior-weighted average over the points of class y only. ${facts.classField ?? ''} ${extra}`,
  },
  {
    id: 'uncond_field', label: 'unconditional field u_t(x) (exact)', lesson: 'guidance', needs: {}, arrows: 'marginal', heat: null,
    caption: (t, extra) => `The exact unconditional field ${f.marginal} ${t}: the average over every class's points, what the network learns with the null label. ${extra}`,
  },
  {
    id: 'guided_field', label: 'guided field (exact)', lesson: 'guidance', needs: {}, arrows: 'guided', heat: null,
    caption: (t, extra, { facts }) => `The exact guided field ${f.guided} ${t}. ${facts.guidedField ?? ''} ${extra}`,
  },
  {
    id: 'learned_guided_field', label: 'guided field (learned)', lesson: 'guidance', needs: { model: true }, arrows: 'learned_guided', heat: null,
    caption: (t, extra, { facts }) => `The network's guided field ${t}: (1 − w) times its output for the null label plus w times its output for class y. ${facts.guidedField ?? ''} ${extra}`,
  },
];

/**
 * The first sentence of the diffusion lesson's captions: the SDE shown and its noise now.
 * @param {Record<string, any>} s
 * @param {number} beta beta_t at the time shown (NaN while time plays: no value then)
 */
function sdeLine(s, beta) {
  const eq = s.scoreFix ? f.sde : f.sdeNoFix;
  const now = Number.isFinite(beta) ? `, σ<sub>t</sub> = ${(s.sigma * beta).toPrecision(2)} now` : '';
  return `${eq}, ${f.sigmaT}: σ = ${s.sigma}${now}${s.scoreFix ? '' : ' (score correction off)'}.`;
}

const BY_ID = new Map(VIEWS.map((v) => [v.id, v]));

/**
 * The view with this id (the first view for an unknown id).
 * @param {string} id
 * @returns {View}
 */
export function viewOf(id) {
  return BY_ID.get(id) ?? VIEWS[0];
}

/**
 * The views of a lesson, in table order (the order of the <select> and of the V key).
 * @param {string} lesson
 */
export function viewsOf(lesson) {
  return VIEWS.filter((v) => v.lesson === lesson);
}

/**
 * The view after `id` in its lesson's cycle (the V key).
 * @param {string} id
 */
export function nextView(id) {
  const list = viewsOf(viewOf(id).lesson);
  return list[(list.findIndex((v) => v.id === id) + 1) % list.length].id;
}

/**
 * Fills a <select> with choices [{ id, label }], keeping its current value when possible.
 * @param {HTMLSelectElement} select
 * @param {{ id: string, label: string }[]} choices
 */
export function fillSelect(select, choices) {
  select.replaceChildren(...choices.map((c) => new Option(c.label, c.id)));
}
