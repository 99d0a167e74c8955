// @ts-check
// The diffusion lesson's views: SDE particles (or Langevin ones), the SDE's drift and the
// Fokker-Planck residual; their captions open with the SDE shown and its noise now.
// Entries of the views table (views.js; the field `lesson` is filled in there).
import { F } from '../../math.js';
import { inlineFormulas } from '../../views.js';

const f = inlineFormulas(F);

/** @type {import('../../views.js').ViewEntry[]} */
export const VIEWS = [
  {
    id: 'sde', label: 'SDE particles', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { s, beta, trails }) => (s.langevin
      ? `Langevin dynamics at the frozen time ${t}: ${f.langevin}. The particles start as fresh samples of `
        + `p<sub>t</sub> and keep moving${s.embed ? '' : '; the histogram in the Diffusion card compares them with '
          + 'p<sub>t</sub>'}. ${extra}`
      : `${sdeLine(s, beta)} Particles ${t}, from the same noise as the ODE's: `
        + `${s.sigma === 0
          ? 'with σ = 0 they follow the ODE itself (by Euler steps).'
          : `rough paths${trails ? ' (the trails)' : ''}${s.embed ? '.'
            : ', and the table in the Diffusion card measures whether they still have the marginals p<sub>t</sub>.'}`}`
        + ` ${extra}`),
  },
  {
    id: 'sde_drift', label: 'SDE drift u_t + (σ_t²/2)∇log p_t', needs: {}, arrows: 'sde_drift', heat: null,
    caption: (t, extra, { s, beta }) => `${sdeLine(s, beta)} Arrows: the drift of the exact SDE ${t}, `
      + `${s.scoreFix && s.sigma > 0
        ? `u<sub>t</sub><sup>target</sup> plus the score term ${f.scoreTerm}, a pull towards α<sub>t</sub>z̄ `
          + '(the scaled posterior mean) that on average undoes what the noise spreads'
        : 'u<sub>t</sub><sup>target</sup> alone (no score term)'}. ${extra}`,
  },
  {
    id: 'fokker_planck', label: 'Fokker–Planck residual', needs: {}, arrows: null, heat: 'fokker_planck',
    caption: (t, extra, { s, beta }) => `${sdeLine(s, beta)} Shading: the residual of the Fokker–Planck equation `
      + `${f.fokkerPlanck} for the exact p<sub>t</sub> and the drift v ${t}, in log form. `
      + `${s.sigma === 0 ? 'With σ = 0 it is the continuity equation: zero.'
        : s.scoreFix
          ? 'With the score correction the noise terms cancel: zero up to rounding, so the SDE keeps p<sub>t</sub>.'
          : 'Without the score correction it is −(σ<sub>t</sub><sup>2</sup>/2) Δp<sub>t</sub>/p<sub>t</sub>: '
            + 'the noise spreads mass that no drift takes back.'} ${extra}`,
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
