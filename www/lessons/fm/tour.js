// @ts-check
// The flow-matching lesson's tour: noise and data, conditional and marginal paths, the
// posterior average, training, the continuity equation, and memorization.
// Each step: title, body (HTML + MathML), the element it talks about (scrolled into view) and
// the stage set-up (a settings patch + extras); tour.js shows them.
import { F, block, inline } from '../../math.js';

const m = block;

/** @type {import('../../tour.js').Step[]} */
export const STEPS = [
  {
    title: '1. Noise and data',
    body: `<p>We want to turn samples of simple noise into samples of your drawing. At time <i>t</i> = 0 the particles `
      + `are noise; at <i>t</i> = 1 they should look like the data (grey). Blue particles follow the exact field of `
      + `your points, orange ones the network's field, which is untrained until you press <b>Train</b>.</p>
      ${m(F.noiseToData)}
      <p>A vector field moves them: <i>dx</i>/<i>dt</i> = <i>u</i><sub>t</sub>(<i>x</i>). The exact field is written `
        + `<i>u</i><sub>t</sub><sup>target</sup>, the network's <i>u</i><sub>t</sub><sup>θ</sup>. Blue particles are `
        + `squares, orange ones rings: where the network has learned, the rings sit on the squares. Watch them `
        + `flow.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'none', heat: false, show: 'both', memo: false }, time: 'play' },
  },
  {
    title: '2. One conditional path',
    body: `<p>Pick one data point <i>z</i> (green ring). The conditional path moves a Gaussian from the noise to `
      + `<i>z</i>:</p>
      ${m(F.pCond)}
      <p>The dashed line is its mean α<sub>t</sub><i>z</i>, the circles are 1 and 2 β<sub>t</sub>. Its vector field, `
        + `the arrows, is known in closed form:</p>
      ${m(F.uCond)}
      <p>Click another point with the <b>Pick z</b> tool to move it.</p>`,
    target: '#stage',
    setup: {
      patch: { lesson: 'fm', field: 'conditional', heat: false, show: 'exact', memo: false },
      time: 0.5, pickZ: true, tool: 'pick',
    },
  },
  {
    title: '3. Many conditional paths',
    body: `<p>Do this for every data point at once and average: the blue shading is the marginal path, a mixture of `
      + `the conditional Gaussians.</p>
      ${m(F.density)}
      <p>It starts as the noise and ends as your drawing. Drag the time slider to see it sharpen.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'none', heat: true, show: 'exact', memo: false }, time: 'play' },
  },
  {
    title: '4. The marginal field: a posterior average',
    body: `<p>Which field moves the whole mixture? At a point <i>x</i>, average the conditional fields, weighting each `
      + `<i>z</i><sub>i</sub> by how likely it is to have produced <i>x</i>:</p>
      ${m(F.marginal)}${m(F.weights)}
      <p>With the <b>Inspect</b> tool, hover over the stage: data points light up by their weight, green arrows are `
        + `the conditional vectors of the largest weights, and the thick blue arrow is `
        + `<i>u</i><sub>t</sub><sup>target</sup>(<i>x</i>), the weighted sum over all points (the caption says how `
        + `much weight the green ones hold). Early (small <i>t</i>) the weights are spread over many points; move the `
        + `time slider towards 1 and watch the weight concentrate on the nearest points (the caption gives the share `
        + `of the six largest).</p>`,
    target: '#stage',
    setup: {
      patch: { lesson: 'fm', field: 'marginal', heat: false, show: 'exact', memo: false },
      time: 0.6, tool: 'inspect',
    },
  },
  {
    title: '5. The loss: learn it without knowing it',
    body: `<p>For real data the marginal field <i>u</i><sub>t</sub><sup>target</sup>(<i>x</i>) is out of reach, so the `
      + `network <i>u</i><sub>t</sub><sup>θ</sup> cannot be trained on it directly:</p>
      ${m(F.lossFm)}
      <p>But it can be trained on the conditional field, which is always known. Each training target is computed from `
        + `a data point <i>z</i> and fresh noise ε:</p>
      ${m(F.target)}${m(F.lossCfm)}
      <p>The two losses differ by a constant <i>C</i> that does not depend on θ:</p>
      ${m(F.gap)}
      <p>so their gradients agree in expectation, ${inline(F.gradients)}; on one batch they only roughly agree (the `
        + `caption under the chart gives the cosine between them). In the chart the grey line, <i>L</i><sub>CFM</sub> `
        + `− <i>L</i><sub>FM</sub>, stays level while <i>L</i><sub>FM</sub> falls: <i>L</i><sub>CFM</sub> bottoms out `
        + `near <i>C</i>, not at zero. Training is running now.</p>`,
    target: '#loss',
    setup: {
      patch: { lesson: 'fm', field: 'learned', heat: false, show: 'both', memo: false },
      time: 'play', train: true,
    },
  },
  {
    title: '6. Why the average is the right field',
    body: `<p>A field <i>u</i><sub>t</sub> moves the density <i>p</i><sub>t</sub> exactly when the pair satisfies the `
      + `continuity equation:</p>
      ${m(F.continuityDensity)}
      <p>Start from the marginal path, an average of the conditional paths over the data (the blue shading):</p>
      ${m(F.proof1)}
      <p>each conditional pair satisfies the continuity equation (its field moves its Gaussian: the conditional `
        + `view),</p>
      ${m(F.proof2)}
      <p>the divergence is linear, so it comes out of the average,</p>
      ${m(F.proof3)}
      <p>and multiplying and dividing by <i>p</i><sub>t</sub>(<i>x</i>) turns the weights into the posterior weights `
        + `of step 4 (the Inspect tool shows them): the average is <i>u</i><sub>t</sub><sup>target</sup>.</p>
      ${m(F.proof4)}`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'marginal', heat: true, show: 'exact', memo: false }, time: 0.5 },
  },
  {
    title: '7. The continuity equation, measured',
    body: `<p>The same equation in log form can be checked point by point:</p>
      ${m(F.continuity)}
      <p>The heatmap shows its residual for a field that averages with <b>uniform</b> weights instead of posterior `
        + `weights: far from zero, and its purple particles miss the data. Switch the view to the exact or the learned `
        + `field to compare.</p>`,
    target: '#stage',
    setup: {
      patch: { lesson: 'fm', field: 'residual_uniform', heat: false, show: 'exact', memo: false },
      time: 'play',
    },
  },
  {
    title: '8. Memorize or generalize?',
    body: `<p>The exact marginal field of a finite cloud carries particles onto the points it was made of: in exact `
      + `arithmetic it memorizes them. Does the network? To tell, a fifth of your points is now held out (hollow): `
      + `neither the network nor the exact field sees them. The caption counts, at <i>t</i> = 1, the samples that land `
      + `near as many training points as held-out ones.</p>
      <p>The exact samples land on training points far more often than on held-out ones. A network that has learned `
        + `the shape, not the points, lands near both alike. The network restarted on the training points; it `
        + `trains while the button reads <b>Pause</b> (press <b>Train</b> if it is paused). Watch the counts (the `
        + `verdict is worded from them). Then draw your own shape with the `
        + `<b>Spray</b> tool.</p>`,
    target: '#caption',
    setup: { patch: { lesson: 'fm', field: 'none', heat: false, show: 'both', memo: true }, time: 1 },
  },
];
