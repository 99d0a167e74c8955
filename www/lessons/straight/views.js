// @ts-check
// The straight-paths lesson's views: the paths of each network of the chain, the straight
// reference (OT pairs) and the current network's field; captions quote the measured facts.
// Entries of the views table (views.js; the field `lesson` is filled in there).
import { F } from '../../math.js';
import { inlineFormulas } from '../../views.js';

const f = inlineFormulas(F);

/** @type {import('../../views.js').ViewEntry[]} */
export const VIEWS = [
  {
    id: 'paths', label: 'paths of each network', needs: {}, arrows: null, heat: null,
    caption: (t, extra, { facts, trails }) => `Particles ${t}, from the same noise, along the ODE of each network `
      + `(rings: the current one orange, earlier ones in their own colours) and of the exact field (blue `
      + `squares)${trails ? '; trails show their paths' : ''}. ${facts.paths ?? ''} ${extra}`,
  },
  {
    id: 'ot', label: 'straight reference: OT pairs', needs: {}, arrows: null, heat: null,
    extraFlow: 'ot', exactColor: 'ot', exactLabel: 'OT pairs', sideLabel: 'Straight reference: OT pairs',
    caption: (t, extra, { facts }) => `The straight reference ${t}: each particle's noise x<sub>0</sub> is paired with `
      + `a drawn point x<sub>1</sub> by the exact assignment (least total squared distance) and moves along `
      + `${f.pairPath}. ${facts.ot ?? ''} ${extra}`,
  },
  {
    id: 'straight_field', label: 'field of the current network', needs: { model: true }, arrows: 'learned', heat: null,
    caption: (t, extra, { facts }) => `The current network's field ${f.learned} ${t}. Along a straight path at `
      + `constant speed a particle's velocity does not change: the arrows it meets keep one direction. `
      + `${facts.paths ?? ''} ${extra}`,
  },
];
