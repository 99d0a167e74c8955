// @ts-check
// The formulas of the app, written once as MathML (Chromium renders it natively), for the
// captions, the schedule card and the guided tour.

const mi = (s) => `<mi>${s}</mi>`;
const mo = (s) => `<mo>${s}</mo>`;
const sub = (a, b) => `<msub>${a}${b}</msub>`;
const frac = (a, b) => `<mfrac><mrow>${a}</mrow><mrow>${b}</mrow></mfrac>`;
const dot = (a) => sub(`<mover>${mi(a)}<mo>˙</mo></mover>`, mi('t'));
const t = mi('t'), x = mi('x'), z = mi('z');
const zi = sub(z, mi('i')), zj = sub(z, mi('j'));
const u_t = sub(mi('u'), t), u_theta = sub(mi('u'), mi('θ'));
const p_t = sub(mi('p'), t);
const alpha = sub(mi('α'), t), beta = sub(mi('β'), t);
const paren = (s) => `${mo('(')}${s}${mo(')')}`;
const sumOver = (i) => `<munder><mo>∑</mo>${mi(i)}</munder>`;
const N = '<mi mathvariant="script">N</mi>';
const sq = (s) => `<msup><mrow>${s}</mrow><mn>2</mn></msup>`;
const norm = (s) => sq(`${mo('‖')}${s}${mo('‖')}`);

/** Wraps a formula for use inside a sentence. */
export const inline = (body) => `<math display="inline"><mrow>${body}</mrow></math>`;
/** Wraps a formula as a displayed line. */
export const block = (body) => `<math display="block"><mrow>${body}</mrow></math>`;

/** Formula bodies (wrap them with inline or block). */
export const F = {
  learned: `${u_theta}${paren(`${x}${mo(',')}${t}`)}`,
  uCond: `${u_t}${paren(`${x}${mo('|')}${z}`)}${mo('=')}${paren(`${dot('α')}${mo('−')}${frac(dot('β'), beta)}${alpha}`)}${z}${mo('+')}${frac(dot('β'), beta)}${x}`,
  pCond: `${p_t}${paren(`${x}${mo('|')}${z}`)}${mo('=')}${N}${paren(`${alpha}${z}${mo(',')}<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${mi('I')}`)}`,
  marginal: `${u_t}${paren(x)}${mo('=')}${sumOver('i')}${sub(mi('w'), mi('i'))}${paren(`${x}${mo(',')}${t}`)}${u_t}${paren(`${x}${mo('|')}${zi}`)}`,
  weights: `${sub(mi('w'), mi('i'))}${paren(`${x}${mo(',')}${t}`)}${mo('=')}${frac(`${p_t}${paren(`${x}${mo('|')}${zi}`)}`, `<msub><mo>∑</mo>${mi('j')}</msub>${p_t}${paren(`${x}${mo('|')}${zj}`)}`)}`,
  density: `${p_t}${paren(x)}${mo('=')}${frac('<mn>1</mn>', mi('N'))}${sumOver('i')}${N}${paren(`${x}${mo(';')}${alpha}${zi}${mo(',')}<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${mi('I')}`)}`,
  error: `${mo('|')}${u_theta}${paren(`${x}${mo(',')}${t}`)}${mo('−')}${u_t}${paren(x)}${mo('|')}`,
  residual: `<msub><mo>∂</mo>${t}</msub><mi>log</mi>${p_t}${mo('+')}${mi('u')}${mo('·')}<mo>∇</mo><mi>log</mi>${p_t}${mo('+')}<mo>∇</mo>${mo('·')}${mi('u')}`,
  continuity: `<msub><mo>∂</mo>${t}</msub><mi>log</mi>${p_t}${mo('+')}${u_t}${mo('·')}<mo>∇</mo><mi>log</mi>${p_t}${mo('+')}<mo>∇</mo>${mo('·')}${u_t}${mo('=')}<mn>0</mn>`,
  lossCfm: `${sub(mi('L'), '<mtext>CFM</mtext>')}${paren(mi('θ'))}${mo('=')}<mi>𝔼</mi>${norm(`${u_theta}${paren(`${x}${mo(',')}${t}`)}${mo('−')}${u_t}${paren(`${x}${mo('|')}${z}`)}`)}`,
  noiseToData: `${sub(mi('p'), '<mtext>init</mtext>')}${mo('=')}${N}${paren(`<mn>0</mn>${mo(',')}${mi('I')}`)}<mspace width="1em"/>${mo('→')}<mspace width="1em"/>${sub(mi('p'), '<mtext>data</mtext>')}`,
};

const pi2t = frac(`${mi('π')}${t}`, '<mn>2</mn>');
const condLhs = `${u_t}${paren(`${x}${mo('|')}${z}`)}${mo('=')}`;
/**
 * The formulas of each schedule, keyed by the core's schedule ids (the list of schedules
 * itself comes from the core's catalog): alpha_t and beta_t as text, and the conditional
 * field, simplified, as a MathML body.
 */
export const SCHEDULE_MATH = {
  linear: {
    ab: 'α<sub>t</sub> = t, β<sub>t</sub> = 1 − t (CondOT)',
    field: `${condLhs}${frac(`${z}${mo('−')}${x}`, `<mn>1</mn>${mo('−')}${t}`)}`,
  },
  cosine: {
    ab: 'α<sub>t</sub> = sin(πt/2), β<sub>t</sub> = cos(πt/2)',
    field: `${condLhs}${frac(mi('π'), '<mn>2</mn>')}${frac(`${z}${mo('−')}<mi>sin</mi>${paren(pi2t)}${x}`, `<mi>cos</mi>${paren(pi2t)}`)}`,
  },
  sqrt: {
    ab: 'α<sub>t</sub> = t, β<sub>t</sub> = √(1 − t)',
    field: `${condLhs}${frac(`${paren(`<mn>2</mn>${mo('−')}${t}`)}${z}${mo('−')}${x}`, `<mn>2</mn>${paren(`<mn>1</mn>${mo('−')}${t}`)}`)}`,
  },
};
