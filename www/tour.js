// @ts-check
// The guided tour: short steps that walk a newcomer through flow matching in order, each
// setting up the stage for what it explains. Formulas are MathML (Chromium renders it).
import { $, $button } from './ui.js';
import { F, block, inline } from './math.js';

const m = block;

/**
 * The steps: title, body (HTML + MathML), the element it talks about (scrolled into view)
 * and the stage set-up (a settings patch + extras).
 */
export const STEPS = [
  {
    title: '1. Noise and data',
    body: `<p>We want to turn samples of simple noise into samples of your drawing. At time <i>t</i> = 0 the particles are noise; at <i>t</i> = 1 they should look like the data (grey). Blue particles follow the exact field of your points, orange ones the network's field, which is untrained until you press <b>Train</b>.</p>
      ${m(F.noiseToData)}
      <p>A vector field moves them: <i>dx</i>/<i>dt</i> = <i>u</i><sub>t</sub>(<i>x</i>). The exact field is written <i>u</i><sub>t</sub><sup>target</sup>, the network's <i>u</i><sub>t</sub><sup>θ</sup>. Blue particles are squares, orange ones rings: where the network has learned, the rings sit on the squares. Watch them flow.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'none', heat: false, show: 'both', memo: false }, time: 'play' },
  },
  {
    title: '2. One conditional path',
    body: `<p>Pick one data point <i>z</i> (green ring). The conditional path moves a Gaussian from the noise to <i>z</i>:</p>
      ${m(F.pCond)}
      <p>The dashed line is its mean α<sub>t</sub><i>z</i>, the circles are 1 and 2 β<sub>t</sub>. Its vector field, the arrows, is known in closed form:</p>
      ${m(F.uCond)}
      <p>Click another point with the <b>Pick z</b> tool to move it.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'conditional', heat: false, show: 'exact', memo: false }, time: 0.5, pickZ: true, tool: 'pick' },
  },
  {
    title: '3. Many conditional paths',
    body: `<p>Do this for every data point at once and average: the blue shading is the marginal path, a mixture of the conditional Gaussians.</p>
      ${m(F.density)}
      <p>It starts as the noise and ends as your drawing. Drag the time slider to see it sharpen.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'none', heat: true, show: 'exact', memo: false }, time: 'play' },
  },
  {
    title: '4. The marginal field: a posterior average',
    body: `<p>Which field moves the whole mixture? At a point <i>x</i>, average the conditional fields, weighting each <i>z</i><sub>i</sub> by how likely it is to have produced <i>x</i>:</p>
      ${m(F.marginal)}${m(F.weights)}
      <p>With the <b>Inspect</b> tool, hover over the stage: data points light up by their weight, green arrows are the conditional vectors of the largest weights, and the thick blue arrow is <i>u</i><sub>t</sub><sup>target</sup>(<i>x</i>), the weighted sum over all points (the caption says how much weight the green ones hold). Early (small <i>t</i>) the weights are spread over many points; move the time slider towards 1 and watch the weight concentrate on the nearest points (the caption gives the share of the six largest).</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'marginal', heat: false, show: 'exact', memo: false }, time: 0.6, tool: 'inspect' },
  },
  {
    title: '5. The loss: learn it without knowing it',
    body: `<p>For real data the marginal field <i>u</i><sub>t</sub><sup>target</sup>(<i>x</i>) is out of reach, so the network <i>u</i><sub>t</sub><sup>θ</sup> cannot be trained on it directly:</p>
      ${m(F.lossFm)}
      <p>But it can be trained on the conditional field, which is always known. Each training target is computed from a data point <i>z</i> and fresh noise ε:</p>
      ${m(F.target)}${m(F.lossCfm)}
      <p>The two losses differ by a constant <i>C</i> that does not depend on θ:</p>
      ${m(F.gap)}
      <p>so their gradients agree in expectation, ${inline(F.gradients)}; on one batch they only roughly agree (the caption under the chart gives the cosine between them). In the chart the grey line, <i>L</i><sub>CFM</sub> − <i>L</i><sub>FM</sub>, stays level while <i>L</i><sub>FM</sub> falls: <i>L</i><sub>CFM</sub> bottoms out near <i>C</i>, not at zero. Training is running now.</p>`,
    target: '#loss',
    setup: { patch: { lesson: 'fm', field: 'learned', heat: false, show: 'both', memo: false }, time: 'play', train: true },
  },
  {
    title: '6. Why the average is the right field',
    body: `<p>A field <i>u</i><sub>t</sub> moves the density <i>p</i><sub>t</sub> exactly when the pair satisfies the continuity equation:</p>
      ${m(F.continuityDensity)}
      <p>Start from the marginal path, an average of the conditional paths over the data (the blue shading):</p>
      ${m(F.proof1)}
      <p>each conditional pair satisfies the continuity equation (its field moves its Gaussian: the conditional view),</p>
      ${m(F.proof2)}
      <p>the divergence is linear, so it comes out of the average,</p>
      ${m(F.proof3)}
      <p>and multiplying and dividing by <i>p</i><sub>t</sub>(<i>x</i>) turns the weights into the posterior weights of step 4 (the Inspect tool shows them): the average is <i>u</i><sub>t</sub><sup>target</sup>.</p>
      ${m(F.proof4)}`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'marginal', heat: true, show: 'exact', memo: false }, time: 0.5 },
  },
  {
    title: '7. The continuity equation, measured',
    body: `<p>The same equation in log form can be checked point by point:</p>
      ${m(F.continuity)}
      <p>The heatmap shows its residual for a field that averages with <b>uniform</b> weights instead of posterior weights: far from zero, and its purple particles miss the data. Switch the view to the exact or the learned field to compare.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'fm', field: 'residual_uniform', heat: false, show: 'exact', memo: false }, time: 'play' },
  },
  {
    title: '8. Memorize or generalize?',
    body: `<p>The exact marginal field of a finite cloud carries particles onto the points it was made of: in exact arithmetic it memorizes them. Does the network? To tell, a fifth of your points is now held out (hollow): neither the network nor the exact field sees them. The caption counts, at <i>t</i> = 1, the samples that land near as many training points as held-out ones.</p>
      <p>The exact samples land on training points far more often than on held-out ones. A network that has learned the shape, not the points, lands near both alike. The network restarted on the training points: press <b>Train</b> and watch the counts (the verdict is worded from them). Then draw your own shape with the <b>Spray</b> tool.</p>`,
    target: '#caption',
    setup: { patch: { lesson: 'fm', field: 'none', heat: false, show: 'both', memo: true }, time: 1 },
  },
];

/** The diffusion lesson's steps (formulas: ../shared/DESIGN.md section 2). */
export const DIFFUSION_STEPS = [
  {
    title: '1. Noise that keeps the marginals',
    body: `<p>The ODE carries noise to data along smooth paths. Add noise to every step and, with the right correction to the drift, the particles still have the marginals <i>p</i><sub>t</sub> at every time: the SDE extension of the flow.</p>
      ${m(F.sde)}
      <p>The squares follow this SDE with the exact field and the exact score of your drawing, the rings the network's field and its score. Trails show the rough paths. Move <b>Noise σ</b> to change the noise; σ = 0 is the ODE.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'both', trails: true, memo: false }, time: 'play' },
  },
  {
    title: '2. Why the noise shrinks with β',
    body: `<p>The score grows like 1/β<sub>t</sub><sup>2</sup> near the data, so a constant σ<sub>t</sub> would blow the drift up at <i>t</i> = 1. Here</p>
      ${m(F.sigmaT)}
      <p>and the score term stays finite:</p>
      ${m(F.scoreTerm)}
      <p>The arrows are the whole drift: the marginal field plus this pull towards α<sub>t</sub>z̄, the posterior mean scaled to time t, which undoes on average what the noise spreads.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'diffusion', field: 'sde_drift', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'exact', memo: false }, time: 0.7 },
  },
  {
    title: '3. Same marginals, different paths',
    body: `<p>Left: the SDE particles; right: the ODE's, from the same noise. Each particle goes somewhere else, yet the clouds look alike at every time. The table measures it: the energy distance of each set to fresh samples of <i>p</i><sub>t</sub>, against the floor that two fresh samples give (sampling noise alone). The caption under the table says what the numbers show.</p>
      ${m(F.euler)}`,
    target: '#match-table',
    setup: { patch: { lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'side', trails: true, memo: false }, time: 'play' },
  },
  {
    title: '4. Drop the score term',
    body: `<p>Noise alone, without the score correction, is not enough:</p>
      ${m(F.sdeNoFix)}
      <p>A density moved by a drift <i>v</i> and noise σ<sub>t</sub> obeys the Fokker–Planck equation:</p>
      ${m(F.fokkerPlanck)}
      <p>The shading is its residual for the exact <i>p</i><sub>t</sub>. With <i>v</i> = <i>u</i><sub>t</sub><sup>target</sup> alone it is far from zero: the noise spreads mass that nothing takes back, and the table shows the particles leaving <i>p</i><sub>t</sub>. Tick <b>score correction</b> and it vanishes.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'diffusion', field: 'fokker_planck', sigma: 1, scoreFix: false, langevin: false, heat: false, show: 'exact', memo: false }, time: 0.5 },
  },
  {
    title: '5. Langevin: noise at a frozen time',
    body: `<p>Freeze the time and keep only the score term and the noise:</p>
      ${m(F.langevin)}
      <p>This leaves <i>p</i><sub>t</sub> unchanged. The particles start as fresh samples of <i>p</i><sub>t</sub> and keep jiggling, yet the histogram of their first coordinate (bars) stays on the exact density (line), and the caption tracks their energy distance to fresh samples. Drag the time slider to freeze another <i>t</i>.</p>`,
    target: '#langevin-box',
    setup: { patch: { lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: true, heat: true, show: 'exact', memo: false }, time: 0.5 },
  },
  {
    title: '6. The network\'s score, and whether noise helps it',
    body: `<p>The network learned a field, not a score; for Gaussian paths one gives the other, so its SDE needs no second network:</p>
      ${m(F.fieldToScore)}
      <p>Training is running. The chart compares learned samples at <i>t</i> = 1 with your drawing for σ = 0, 0.5, 1 and 2 as training goes on: the caption says which noise level is closest now, and by how much.</p>`,
    target: '#w2-chart',
    setup: { patch: { lesson: 'diffusion', field: 'sde', sigma: 1, scoreFix: true, langevin: false, heat: false, show: 'both', memo: false }, time: 'play', train: true },
  },
];

/** The straight-paths lesson's tour: why paths bend, and what straightens them. */
export const STRAIGHT_STEPS = [
  {
    title: '1. Why the learned paths bend',
    body: `<p>Each training pair (noise x<sub>0</sub>, data point x<sub>1</sub>) is drawn independently, and with the linear schedule (set for this tour) its conditional path is a straight line:</p>
      ${m(F.pairPath)}
      <p>But lines from everywhere to everywhere cross. Where several lines pass one point at the same time, the marginal field there averages their directions, so the particles, which follow the average, turn: their paths bend. The rings are the network's particles, the squares the exact field's; trails show the paths. Straightness measures the bending:</p>
      ${m(F.straightness)}
      <p>The table under <b>The networks</b> gives S and the number of crossing pairs among 100 paths, measured on the network now training.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'straight', field: 'paths', coupling: 'independent', schedule: 'linear', heat: false, show: 'both', trails: true, memo: false }, time: 'play', train: true },
  },
  {
    title: '2. The straight reference',
    body: `<p>Pair the particles' noise with your drawing as a whole instead, by the assignment that moves the least in total (squared distance):</p>
      ${m(F.otCoupling)}
      <p>The teal squares move along their pairs' paths: with the linear schedule, straight lines at constant speed. Lines may still cross in the plane, but no two particles are at one place at the same time, so no averaging bends them. The caption gives their S and crossings. A field that moved particles like this could be followed in one Euler step.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'straight', field: 'ot', schedule: 'linear', heat: false, show: 'both', trails: true, memo: false }, time: 'play' },
  },
  {
    title: '3. Minibatch OT coupling',
    body: `<p>The network cannot see the whole plan, but each training batch can: its noise is re-paired with its data points by the same exact assignment, in blocks, before the conditional targets are formed. The coupling is now <b>minibatch OT</b> (a fresh network is training): compare the S and crossings in the table with those step 1 showed for independent pairs, and read what a step costs in the line under the coupling.</p>`,
    target: '#straight-card',
    setup: { patch: { lesson: 'straight', field: 'paths', coupling: 'ot', heat: false, show: 'both', trails: true, memo: false }, time: 'play', train: true },
  },
  {
    title: '4. Reflow',
    body: `<p>Rectified flow straightens without any assignment. Draw noise, carry it along the trained network's own ODE to its end point, and train a fresh network on the straight lines between these pairs:</p>
      ${m(F.reflow)}
      <p>Two of these pairs are never at one place at the same time (an ODE's particles never meet), so the new network's field has no directions to average there, and its paths straighten; the table counts how many still cross in the plane. Press <b>Reflow</b> once the network has trained: the old network stays on the stage in its own colour, and the table compares them. Reflow again, and the table shows whether it straightens further.</p>`,
    target: '#reflow',
    setup: { patch: { lesson: 'straight', field: 'paths', heat: false, show: 'both', trails: true, memo: false }, time: 'play', train: true },
  },
  {
    title: '5. Sampling in few steps',
    body: `<p>Sampling follows the ODE in steps:</p>
      ${m(F.eulerStep)}
      <p>Along a straight path at constant speed one step lands exactly; along a bent one a few steps cut the corners. The chart shows W2 between Euler samples and your drawing after 1, 2, 4, …, 64 steps, one line per network: the caption says from how many steps each is within 10% of its 64-step quality.</p>`,
    target: '#nfe-chart',
    setup: { patch: { lesson: 'straight', field: 'paths', heat: false, show: 'both', memo: false }, time: 'play' },
  },
];

/** The guidance lesson's tour: classes, one network for all of them, and the guided field. */
export const GUIDANCE_STEPS = [
  {
    title: '1. A drawing in classes',
    body: `<p>Every point now carries a class y (its colour and shape). Each class has its own probability path, a mixture over its points only:</p>
      ${m(F.pCondClass)}
      <p>and its own exact field, the posterior average over its points:</p>
      ${m(F.classField)}
      <p>The arrows are that field for the class sampled. Draw in another class with the class picker (the eraser takes only that class), or load a preset: its parts become classes.</p>`,
    target: '#class-picker',
    setup: { patch: { lesson: 'guidance', field: 'class_field', guidance: 1, heat: false, show: 'both', memo: false }, time: 0.6 },
  },
  {
    title: '2. One network for every class, and for none',
    body: `<p>The network gets the class as a one-hot input. In training, 15 % of the samples have their label dropped (the null label, all zeros), so the same network learns each class field and the unconditional field ${inline(F.marginal)} of all the points. Training is running: the rings are the network's samples of the class, the squares the exact ones.</p>`,
    target: '#stage',
    setup: { patch: { lesson: 'guidance', field: 'guided', guidance: 1, heat: false, show: 'both', memo: false }, time: 'play', train: true },
  },
  {
    title: '3. Classifier-free guidance',
    body: `<p>Sampling mixes the two fields with a scale w:</p>
      ${m(F.guided)}
      <p>w = 0 is the unconditional field (the class is ignored), w = 1 the class field itself, and w > 1 pushes past it, away from what the other classes share. Move the <b>Guidance w</b> slider and watch the arrows.</p>`,
    target: '#guidance',
    setup: { patch: { lesson: 'guidance', field: 'guided_field', guidance: 2, heat: false, show: 'exact', memo: false }, time: 0.7 },
  },
  {
    title: '4. Fidelity against diversity',
    body: `<p>The table measures guided samples of the class for w = 0, 1, 2 and 4: the share that lands nearest a point of the class, and their spread (RMS distance to their centre). The exact columns show what guidance does with no network error in the way; the learned ones what the network makes of it. The caption reads the numbers.</p>`,
    target: '#guide-table',
    setup: { patch: { lesson: 'guidance', field: 'guided', guidance: 4, heat: false, show: 'both', memo: false }, time: 'play' },
  },
];

/** The steps of each lesson's tour. */
const STEPS_OF = { fm: STEPS, diffusion: DIFFUSION_STEPS, straight: STRAIGHT_STEPS, guidance: GUIDANCE_STEPS };

export class Tour {
  /** app: { setUp(step.setup), snapshot() -> state, restore(state), lesson() -> id } */
  constructor(app) {
    this.app = app;
    this.index = 0;
    this.steps = STEPS;
    /** @type {HTMLElement | null} where focus was before the tour opened (it goes back there) */
    this.returnFocus = null;
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !$('tour').hidden) { ev.preventDefault(); this.close(); }
    });
    $('tour-next').addEventListener('click', () => (this.index === this.steps.length - 1 ? this.close() : this.go(this.index + 1)));
    $('tour-back').addEventListener('click', () => this.go(this.index - 1));
    $('tour-skip').addEventListener('click', () => this.close());
    $('tour-btn').addEventListener('click', () => this.open());
  }
  open() {
    // The tour rearranges the view; closing it puts the user's view back.
    if ($('tour').hidden) {
      this.steps = STEPS_OF[/** @type {'fm' | 'diffusion' | 'straight' | 'guidance'} */ (this.app.lesson())] ?? STEPS;
      this.saved = this.app.snapshot();
      const active = document.activeElement;
      this.returnFocus = active instanceof HTMLElement && active !== document.body ? active : $('tour-btn');
    }
    $('tour').hidden = false;
    $('hint').hidden = true;
    this.go(0);
    $('tour-next').focus();
  }
  close() {
    $('tour').hidden = true;
    if (this.saved) this.app.restore(this.saved);
    this.saved = null;
    try { localStorage.setItem('fmp:toured', '1'); } catch { /* storage unavailable */ }
    (this.returnFocus ?? $('tour-btn')).focus();
    this.returnFocus = null;
  }
  /** Whether this browser has seen (or skipped) the tour. */
  static seen() {
    try { return localStorage.getItem('fmp:toured') === '1'; } catch { return true; }
  }
  go(i) {
    this.index = Math.max(0, Math.min(this.steps.length - 1, i));
    const step = this.steps[this.index];
    $('tour-count').textContent = `Step ${this.index + 1} of ${this.steps.length}`;
    $('tour-title').textContent = step.title;
    $('tour-body').innerHTML = step.body;
    $button('tour-back').disabled = this.index === 0;
    $('tour-next').textContent = this.index === this.steps.length - 1 ? 'Finish' : 'Next';
    this.app.setUp(step.setup);
    $('tour-body').scrollTop = 0;
    // Bring what the step talks about into view (on a phone the tour is a sheet at the bottom).
    const target = document.querySelector(step.target);
    $('tour').classList.toggle('left', !!target?.closest('.panel'));
    const small = matchMedia('(max-width: 900px)').matches;
    const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (target) target.scrollIntoView({ block: small ? 'start' : 'nearest', behavior: smooth ? 'smooth' : 'auto' });
  }
}
