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
const p_t = sub(mi('p'), t);
const alpha = sub(mi('α'), t), beta = sub(mi('β'), t);
const paren = (s) => `${mo('(')}${s}${mo(')')}`;
const sumOver = (i) => `<munder><mo>∑</mo>${mi(i)}</munder>`;
const N = '<mi mathvariant="script">N</mi>';
const betaSq = `<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>`;
const sq = (s) => `<msup><mrow>${s}</mrow><mn>2</mn></msup>`;
const norm = (s) => sq(`${mo('‖')}${s}${mo('‖')}`);

/** Wraps a formula for use inside a sentence. */
export const inline = (body) => `<math display="inline"><mrow>${body}</mrow></math>`;
/** Wraps a formula as a displayed line. */
export const block = (body) => `<math display="block"><mrow>${body}</mrow></math>`;

const uT = `<msubsup>${mi('u')}${t}<mtext>target</mtext></msubsup>`;
const uTh = `<msubsup>${mi('u')}${t}${mi('θ')}</msubsup>`;
const pData = sub(mi('p'), '<mtext>data</mtext>');
const pInit = sub(mi('p'), '<mtext>init</mtext>');
const L = (name) => sub(mi('L'), `<mtext>${name}</mtext>`);
const E = (over) => `<msub><mi>𝔼</mi><mrow>${over}</mrow></msub>`;
const sim = mo('∼');
const mover = (a, accent) => `<mover>${mi(a)}<mo>${accent}</mo></mover>`;
const div = `<mo>∇</mo>${mo('·')}`;
const eps = mi('ε');
const tU = `${t}${sim}${mi('U')}${mo('[')}<mn>0</mn>${mo(',')}<mn>1</mn>${mo(']')}`;
const cond = (a) => `${a}${paren(`${x}${mo('|')}${z}`)}`;
const integral = (body) => `<mo>∫</mo>${body}<mspace width="0.2em"/>${mi('d')}${z}`;

/** Formula bodies (wrap them with inline or block), in the notation of MIT 6.S184. */
export const F = {
  learned: `${uTh}${paren(x)}`,
  uTargetCond: cond(uT),
  uTargetMarg: `${uT}${paren(x)}`,
  uCond: `${cond(uT)}${mo('=')}${paren(`${dot('α')}${mo('−')}${frac(dot('β'), beta)}${alpha}`)}${z}${mo('+')}`
    + `${frac(dot('β'), beta)}${x}`,
  pCond: `${cond(p_t)}${mo('=')}${N}`
    + `${paren(`${alpha}${z}${mo(',')}<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${mi('I')}`)}`,
  marginal: `${uT}${paren(x)}${mo('=')}${sumOver('i')}${sub(mi('w'), mi('i'))}${paren(`${x}${mo(',')}${t}`)}${uT}`
    + `${paren(`${x}${mo('|')}${zi}`)}`,
  weights: `${sub(mi('w'), mi('i'))}${paren(`${x}${mo(',')}${t}`)}${mo('=')}`
    + `${frac(`${p_t}${paren(`${x}${mo('|')}${zi}`)}`,
      `<msub><mo>∑</mo>${mi('j')}</msub>${p_t}${paren(`${x}${mo('|')}${zj}`)}`)}`,
  density: `${p_t}${paren(x)}${mo('=')}${frac('<mn>1</mn>', mi('N'))}${sumOver('i')}${N}`
    + `${paren(`${x}${mo(';')}${alpha}${zi}${mo(',')}<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${mi('I')}`)}`,
  error: `${mo('|')}${uTh}${paren(x)}${mo('−')}${uT}${paren(x)}${mo('|')}`,
  residual: `<msub><mo>∂</mo>${t}</msub><mi>log</mi>${p_t}${mo('+')}${mi('u')}${mo('·')}<mo>∇</mo><mi>log</mi>${p_t}`
    + `${mo('+')}${div}${mi('u')}`,
  continuity: `<msub><mo>∂</mo>${t}</msub><mi>log</mi>${p_t}${mo('+')}${uT}${mo('·')}<mo>∇</mo><mi>log</mi>${p_t}`
    + `${mo('+')}${div}${uT}${mo('=')}<mn>0</mn>`,
  continuityDensity: `<msub><mo>∂</mo>${t}</msub>${p_t}${paren(x)}${mo('=')}${mo('−')}${div}`
    + `${paren(`${p_t}${paren(x)}${uT}${paren(x)}`)}${mo(',')}<mspace width="0.6em"/>${sub(mi('X'), '<mn>0</mn>')}`
    + `${sim}${pInit}`,
  proof1: `<msub><mo>∂</mo>${t}</msub>${p_t}${paren(x)}${mo('=')}`
    + `${integral(`<msub><mo>∂</mo>${t}</msub>${cond(p_t)}${pData}${paren(z)}`)}`,
  proof2: `${mo('=')}${integral(`${mo('−')}${div}${paren(`${cond(p_t)}${cond(uT)}`)}${pData}${paren(z)}`)}`,
  proof3: `${mo('=')}${mo('−')}${div}${paren(integral(`${cond(p_t)}${cond(uT)}${pData}${paren(z)}`))}`,
  proof4: `${mo('=')}${mo('−')}${div}`
    + `${paren(`${p_t}${paren(x)}${integral(`${cond(uT)}${frac(`${cond(p_t)}${pData}${paren(z)}`,
      `${p_t}${paren(x)}`)}`)}`)}`
    + `${mo('=')}${mo('−')}${div}${paren(`${p_t}${uT}`)}`,
  lossCfm: `${L('CFM')}${paren(mi('θ'))}${mo('=')}`
    + `${E(`${tU}${mo(',')}${z}${sim}${pData}${mo(',')}${x}${sim}${cond(p_t)}`)}`
    + `${norm(`${uTh}${paren(x)}${mo('−')}${cond(uT)}`)}`,
  lossFm: `${L('FM')}${paren(mi('θ'))}${mo('=')}${E(`${tU}${mo(',')}${x}${sim}${p_t}`)}`
    + `${norm(`${uTh}${paren(x)}${mo('−')}${uT}${paren(x)}`)}`,
  gap: `${L('CFM')}${paren(mi('θ'))}${mo('=')}${L('FM')}${paren(mi('θ'))}${mo('+')}${mi('C')}${mo(',')}`
    + `<mspace width="0.5em"/>${mi('C')}${mo('=')}<mi>𝔼</mi>${norm(cond(uT))}${mo('−')}<mi>𝔼</mi>`
    + `${norm(`${uT}${paren(x)}`)}`,
  gradients: `<mi>𝔼</mi>${mo('[')}<msub><mo>∇</mo>${mi('θ')}</msub>${L('CFM')}${mo(']')}${mo('=')}<msub><mo>∇</mo>`
    + `${mi('θ')}</msub>${L('FM')}`,
  target: `${x}${mo('=')}${alpha}${z}${mo('+')}${beta}${eps}${mo(',')}<mspace width="0.5em"/>${cond(uT)}${mo('=')}`
    + `${dot('α')}${z}${mo('+')}${dot('β')}${eps}${mo(',')}<mspace width="0.5em"/>${eps}${sim}${N}`
    + `${paren(`<mn>0</mn>${mo(',')}${mi('I')}`)}`,
  score: `<mo>∇</mo><mi>log</mi>${p_t}${paren(x)}${mo('=')}`
    + `${frac(`${alpha}${mover('z', '¯')}${mo('−')}${x}`, `<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>`)}`,
  scoreToField: `${uT}${mo('=')}`
    + `${paren(`<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${frac(dot('α'), alpha)}${mo('−')}${dot('β')}${beta}`)}`
    + `<mo>∇</mo><mi>log</mi>${p_t}${mo('+')}${frac(dot('α'), alpha)}${x}`,
  fieldToScore: `${sub(mi('s'), mi('θ'))}${mo('=')}`
    + `${frac(`${alpha}${uTh}${mo('−')}${dot('α')}${x}`,
      `<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${dot('α')}${mo('−')}${dot('β')}${beta}${alpha}`)}`,
  denoiser: `${mover('z', '¯')}${paren(`${x}${mo(',')}${t}`)}${mo('=')}<mi>𝔼</mi>${mo('[')}${z}${mo('|')}${x}`
    + `${mo(',')}${t}${mo(']')}${mo('=')}${sumOver('i')}${sub(mi('w'), mi('i'))}${zi}`,
  fieldFromDenoiser: `${uT}${paren(x)}${mo('=')}${paren(`${dot('α')}${mo('−')}${frac(dot('β'), beta)}${alpha}`)}`
    + `${mover('z', '¯')}${mo('+')}${frac(dot('β'), beta)}${x}`,
  divergence: `<mo>∇</mo>${mo('·')}${uT}${paren(x)}`,
  sde: `${mi('d')}${sub(mi('X'), t)}${mo('=')}${mo('[')}${uT}${paren(sub(mi('X'), t))}${mo('+')}`
    + `${frac(`<msubsup>${mi('σ')}${t}<mn>2</mn></msubsup>`, '<mn>2</mn>')}<mo>∇</mo><mi>log</mi>${p_t}`
    + `${paren(sub(mi('X'), t))}${mo(']')}${mi('d')}${t}${mo('+')}${sub(mi('σ'), t)}${mi('d')}${sub(mi('W'), t)}`,
  sdeNoFix: `${mi('d')}${sub(mi('X'), t)}${mo('=')}${uT}${paren(sub(mi('X'), t))}${mi('d')}${t}${mo('+')}`
    + `${sub(mi('σ'), t)}${mi('d')}${sub(mi('W'), t)}`,
  sigmaT: `${sub(mi('σ'), t)}${mo('=')}${mi('σ')}${beta}`,
  euler: `${x}${mo('′')}${mo('=')}${x}${mo('+')}${mi('h')}${mo('[')}${uT}${mo('+')}`
    + `${frac(`<msubsup>${mi('σ')}${t}<mn>2</mn></msubsup>`, '<mn>2</mn>')}<mo>∇</mo><mi>log</mi>${p_t}${mo(']')}`
    + `${mo('+')}${sub(mi('σ'), t)}<msqrt>${mi('h')}</msqrt>${mi('ξ')}`,
  fokkerPlanck: `<msub><mo>∂</mo>${t}</msub>${p_t}${mo('=')}${mo('−')}${div}${paren(`${p_t}${mi('v')}`)}${mo('+')}`
    + `${frac(`<msubsup>${mi('σ')}${t}<mn>2</mn></msubsup>`, '<mn>2</mn>')}<mi>Δ</mi>${p_t}`,
  langevin: `${mi('d')}${mi('X')}${mo('=')}${frac(`<msubsup>${mi('σ')}${t}<mn>2</mn></msubsup>`, '<mn>2</mn>')}<mo>`
    + `∇</mo><mi>log</mi>${p_t}${paren(mi('X'))}${mi('d')}${mi('s')}${mo('+')}${sub(mi('σ'), t)}${mi('d')}`
    + `${sub(mi('W'), mi('s'))}`,
  scoreTerm: `${frac(`<msubsup>${mi('σ')}${t}<mn>2</mn></msubsup>`, '<mn>2</mn>')}<mo>∇</mo><mi>log</mi>${p_t}`
    + `${mo('=')}${frac(`<msup>${mi('σ')}<mn>2</mn></msup>`, '<mn>2</mn>')}`
    + `${paren(`${alpha}${mover('z', '¯')}${mo('−')}${x}`)}`,
  straightness: `${mi('S')}${mo('=')}${E(`${t}${mo(',')}${sub(x, '<mn>0</mn>')}`)}`
    + `${norm(`${frac(`${mi('d')}${sub(x, t)}`, `${mi('d')}${t}`)}${mo('−')}`
      + `${paren(`${sub(x, '<mn>1</mn>')}${mo('−')}${sub(x, '<mn>0</mn>')}`)}`)}`,
  otCoupling: `${mi('π')}${mo('=')}<munder><mi>argmin</mi>${mi('π')}</munder>${sumOver('j')}`
    + `${norm(`${sub(eps, mi('j'))}${mo('−')}${sub(z, `<mrow>${mi('π')}${paren(mi('j'))}</mrow>`)}`)}`,
  guided: `${sub(mover('u', '~'), t)}${paren(`${x}${mo('|')}${mi('y')}`)}${mo('=')}`
    + `${paren(`<mn>1</mn>${mo('−')}${mi('w')}`)}${uT}${paren(x)}${mo('+')}${mi('w')}${uT}`
    + `${paren(`${x}${mo('|')}${mi('y')}`)}`,
  classField: `${uT}${paren(`${x}${mo('|')}${mi('y')}`)}${mo('=')}<munder><mo>∑</mo><mrow>${mi('i')}`
    + `${mo(':')}${sub(mi('y'), mi('i'))}${mo('=')}${mi('y')}</mrow></munder>`
    + `<msubsup>${mi('w')}${mi('i')}${mi('y')}</msubsup>${uT}${paren(`${x}${mo('|')}${zi}`)}`,
  classWeights: `<msubsup>${mi('w')}${mi('i')}${mi('y')}</msubsup>${mo('=')}`
    + `${frac(`${N}${paren(`${x}${mo(';')}${alpha}${zi}${mo(',')}${betaSq}${mi('I')}`)}`,
      `<munder><mo>∑</mo><mrow>${mi('j')}${mo(':')}${sub(mi('y'), mi('j'))}${mo('=')}${mi('y')}</mrow></munder>${N}`
      + `${paren(`${x}${mo(';')}${alpha}${zj}${mo(',')}${betaSq}${mi('I')}`)}`)}`,
  pCondClass: `${sub(mi('p'), t)}${paren(`${x}${mo('|')}${mi('y')}`)}${mo('=')}`
    + `${frac('<mn>1</mn>', sub(mi('n'), mi('y')))}<munder><mo>∑</mo><mrow>${mi('i')}${mo(':')}${sub(mi('y'), mi('i'))}`
    + `${mo('=')}${mi('y')}</mrow></munder>${N}`
    + `${paren(`${alpha}${zi}${mo(',')}<msubsup>${mi('β')}${t}<mn>2</mn></msubsup>${mi('I')}`)}`,
  pairPath: `${sub(x, t)}${mo('=')}${alpha}${sub(x, '<mn>1</mn>')}${mo('+')}${beta}${sub(x, '<mn>0</mn>')}`,
  reflow: `${sub(x, '<mn>1</mn>')}${mo('=')}<msub><mtext>ODE</mtext>${mi('θ')}</msub>${paren(sub(x, '<mn>0</mn>'))}`
    + `${mo(',')}<mspace width="0.5em"/>${sub(x, t)}${mo('=')}${alpha}${sub(x, '<mn>1</mn>')}${mo('+')}${beta}`
    + `${sub(x, '<mn>0</mn>')}`,
  eulerStep: `${sub(x, `<mrow>${mi('k')}${mo('+')}<mn>1</mn></mrow>`)}${mo('=')}${sub(x, mi('k'))}${mo('+')}${mi('h')}`
    + `<msubsup>${mi('u')}${sub(t, mi('k'))}${mi('θ')}</msubsup>${paren(sub(x, mi('k')))}`,
  noiseToData: `${pInit}${mo('=')}${N}${paren(`<mn>0</mn>${mo(',')}${mi('I')}`)}<mspace width="1em"/>${mo('→')}`
    + `<mspace width="1em"/>${pData}`,
};

const pi2t = frac(`${mi('π')}${t}`, '<mn>2</mn>');
const condLhs = `${cond(uT)}${mo('=')}`;
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
    field: `${condLhs}${frac(mi('π'), '<mn>2</mn>')}`
      + `${frac(`${z}${mo('−')}<mi>sin</mi>${paren(pi2t)}${x}`, `<mi>cos</mi>${paren(pi2t)}`)}`,
  },
  sqrt: {
    ab: 'α<sub>t</sub> = t, β<sub>t</sub> = √(1 − t)',
    field: `${condLhs}${frac(`${paren(`<mn>2</mn>${mo('−')}${t}`)}${z}${mo('−')}${x}`,
      `<mn>2</mn>${paren(`<mn>1</mn>${mo('−')}${t}`)}`)}`,
  },
};
