// @ts-check
// The guidance lesson's views: guided particles of one class, the exact class, unconditional
// and guided fields, and the network's guided field; captions quote the measured facts.
// Entries of the views table (views.js; the field `lesson` is filled in there).
import { F } from '../../math.js';
import { inlineFormulas } from '../../views.js';

const f = inlineFormulas(F);

/** @type {import('../../views.js').ViewEntry[]} */
export const VIEWS = [
  {
    id: 'guided', label: 'guided particles', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { facts }) => `Guided particles of one class ${t}, from the same noise: squares follow the `
      + `exact guided field ${f.guided}, rings the network's (the same mix of its outputs for the class and for the `
      + `null label). ${facts.guided ?? ''} ${extra}`,
  },
  {
    id: 'class_field', label: 'class field u_t(x|y) (exact)', needs: {}, arrows: 'class', heat: null,
    caption: (t, extra, { facts }) => `The exact class field ${f.classField} ${t}: the posterior-weighted average over `
      + `the points of class y only. ${facts.classField ?? ''} ${extra}`,
  },
  {
    id: 'uncond_field', label: 'unconditional field u_t(x) (exact)', needs: {}, arrows: 'marginal', heat: null,
    caption: (t, extra) => `The exact unconditional field ${f.marginal} ${t}: the average over every class's points, `
      + `what the network learns with the null label. ${extra}`,
  },
  {
    id: 'guided_field', label: 'guided field (exact)', needs: {}, arrows: 'guided', heat: null,
    caption: (t, extra, { facts }) => `The exact guided field ${f.guided} ${t}. ${facts.guidedField ?? ''} ${extra}`,
  },
  {
    id: 'learned_guided_field', label: 'guided field (learned)', needs: { model: true }, arrows: 'learned_guided',
    heat: null,
    caption: (t, extra, { facts }) => `The network's guided field ${t}: (1 − w) times its output for the null label `
      + `plus w times its output for class y. ${facts.guidedField ?? ''} ${extra}`,
  },
];
