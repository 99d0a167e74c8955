// @ts-check
// The guidance lesson's tour: classes, one network for all of them, and the guided field.
// Each step: title, body (HTML + MathML), the element it talks about (scrolled into view) and
// the stage set-up (a settings patch + extras); tour.js shows them.
import { F, block, inline } from '../../math.js';

const m = block;

/** @type {import('../../tour.js').Step[]} */
export const STEPS = [
  {
    title: '1. A drawing in classes',
    body: `<p>Every point now carries a class y (its colour and shape). Each class has its own probability path, a `
      + `mixture over its points only:</p>
      ${m(F.pCondClass)}
      <p>and its own exact field, the posterior average over its points only, with weights normalised within the `
        + `class:</p>
      ${m(F.classField)}
      ${m(F.classWeights)}
      <p>The arrows are that field for the class sampled. Draw in another class with the class picker (the eraser `
        + `takes only that class), or load a preset: its parts become classes.</p>`,
    target: '#class-picker',
    setup: {
      patch: { lesson: 'guidance', field: 'class_field', guidance: 1, heat: false, show: 'both', memo: false },
      time: 0.6,
    },
  },
  {
    title: '2. One network for every class, and for none',
    body: `<p>The network gets the class as a one-hot input. In training, 15 % of the samples have their label dropped `
      + `(the null label, all zeros), so the same network learns each class field and the unconditional field `
      + `${inline(F.marginal)} of all the points. Training is running: the rings are the network's samples of the `
      + `class, the squares the exact ones.</p>`,
    target: '#stage',
    setup: {
      patch: { lesson: 'guidance', field: 'guided', guidance: 1, heat: false, show: 'both', memo: false },
      time: 'play', train: true,
    },
  },
  {
    title: '3. Classifier-free guidance',
    body: `<p>Sampling mixes the two fields with a scale w:</p>
      ${m(F.guided)}
      <p>w = 0 is the unconditional field (the class is ignored), w = 1 the class field itself, and w > 1 pushes past `
        + `it, away from what the other classes share. Move the <b>Guidance w</b> slider and watch the arrows.</p>`,
    target: '#guidance',
    setup: {
      patch: { lesson: 'guidance', field: 'guided_field', guidance: 2, heat: false, show: 'exact', memo: false },
      time: 0.7,
    },
  },
  {
    title: '4. Fidelity against diversity',
    body: `<p>The table measures guided samples of the class for w = 0, 1, 2 and 4: the share that lands nearest a `
      + `point of the class, and their spread (RMS distance to their centre). The exact columns show what guidance `
      + `does with no network error in the way; the learned ones what the network makes of it. The caption reads the `
      + `numbers.</p>`,
    target: '#guide-table',
    setup: {
      patch: { lesson: 'guidance', field: 'guided', guidance: 4, heat: false, show: 'both', memo: false },
      time: 'play',
    },
  },
];
