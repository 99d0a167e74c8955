// @ts-check
// The diffusion lesson's tour (formulas: ../shared/DESIGN.md section 2): noise that keeps
// the marginals, the score term, the Fokker-Planck residual, Langevin, and the network's score.
// Each step: title, body (HTML + MathML), the element it talks about (scrolled into view) and
// the stage set-up (a settings patch + extras); tour.js shows them.
import { F, block } from '../../math.js';

const m = block;

/** @type {import('../../tour.js').Step[]} */
export const STEPS = [
  {
    title: '1. Noise that keeps the marginals',
    body: `<p>The ODE carries noise to data along smooth paths. Add noise to every step and, with the right correction `
      + `to the drift, the particles still have the marginals <i>p</i><sub>t</sub> at every time: the SDE extension of `
      + `the flow.</p>
      ${m(F.sde)}
      <p>The squares follow this SDE with the exact field and the exact score of your drawing, the rings the network's `
        + `field and its score. Trails show the rough paths. Move <b>Noise σ</b> to change the noise; σ = 0 is the `
        + `ODE.</p>`,
    target: '#stage',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'both',
        trails: true, memo: false,
      },
      time: 'play',
    },
  },
  {
    title: '2. Why the noise shrinks with β',
    body: `<p>At points typical of p<sub>t</sub> the score is ε/β<sub>t</sub> in size (x = α<sub>t</sub>z + `
      + `β<sub>t</sub>ε), so it grows like 1/β<sub>t</sub> as t → 1 (like 1/β<sub>t</sub><sup>2</sup> only at a fixed `
      + `point off the data), and a constant σ<sub>t</sub> would blow the drift up at <i>t</i> = 1. Here</p>
      ${m(F.sigmaT)}
      <p>and the score term stays finite:</p>
      ${m(F.scoreTerm)}
      <p>The arrows are the whole drift: the marginal field plus this pull towards α<sub>t</sub>z̄, the posterior mean `
        + `scaled to time t, which undoes on average what the noise spreads.</p>`,
    target: '#stage',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'sde_drift', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'exact',
        memo: false,
      },
      time: 0.7,
    },
  },
  {
    title: '3. Same marginals, different paths',
    body: `<p>Left: the SDE particles; right: the ODE's, from the same noise. Each particle goes somewhere else, yet `
      + `the clouds look alike at every time. The table measures it: the energy distance of each set to fresh samples `
      + `of <i>p</i><sub>t</sub>, against the floor that two fresh samples give (sampling noise alone). The caption `
      + `under the table says what the numbers show.</p>
      ${m(F.euler)}`,
    target: '#match-table',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'side',
        trails: true, memo: false,
      },
      time: 'play',
    },
  },
  {
    title: '4. Drop the score term',
    body: `<p>Noise alone, without the score correction, is not enough:</p>
      ${m(F.sdeNoFix)}
      <p>A density moved by a drift <i>v</i> and noise σ<sub>t</sub> obeys the Fokker–Planck equation:</p>
      ${m(F.fokkerPlanck)}
      <p>The shading is its residual for the exact <i>p</i><sub>t</sub>. With <i>v</i> = `
        + `<i>u</i><sub>t</sub><sup>target</sup> alone it is far from zero: the noise spreads mass that nothing takes `
        + `back, and the table shows the particles leaving <i>p</i><sub>t</sub>. Tick <b>score correction</b> and it `
        + `vanishes.</p>`,
    target: '#stage',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'fokker_planck', sigma: 1, scoreFix: false, langevin: false, heat: false,
        show: 'exact', memo: false,
      },
      time: 0.5,
    },
  },
  {
    title: '5. Langevin: noise at a frozen time',
    body: `<p>Freeze the time and keep only the score term and the noise:</p>
      ${m(F.langevin)}
      <p>This leaves <i>p</i><sub>t</sub> unchanged. The particles start as fresh samples of <i>p</i><sub>t</sub> and `
        + `keep jiggling, yet the histogram of their first coordinate (bars) stays on the exact density (line), and `
        + `the caption tracks their energy distance to fresh samples. Drag the time slider to freeze another `
        + `<i>t</i>.</p>`,
    target: '#langevin-box',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: true, heat: true, show: 'exact',
        memo: false,
      },
      time: 0.5,
    },
  },
  {
    title: '6. The network\'s score, and whether noise helps it',
    body: `<p>The network learned a field, not a score; for Gaussian paths one gives the other, so its SDE needs no `
      + `second network:</p>
      ${m(F.fieldToScore)}
      <p>Training is running. The chart compares learned samples at <i>t</i> = 1 with your drawing for σ = 0, 0.5, 1 `
        + `and 2 as training goes on: the caption says which noise level is closest now, and by how much.</p>`,
    target: '#w2-chart',
    setup: {
      patch: {
        lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'both',
        memo: false,
      },
      time: 'play', train: true,
    },
  },
];
