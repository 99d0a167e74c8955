// DOM helpers: the message bar, binding form controls to settings, captions and legends,
// downloads. No application state lives here.
import { COLORS, fmt } from './render.js';
import { F, inline } from './math.js';

const $ = (id) => document.getElementById(id);
export { $ };

let messageTimer = null;
/** Shows a message; kind 'info' fades after a while, 'error' stays until dismissed. */
export function showMessage(text, kind = 'info') {
  const box = $('message');
  $('message-text').textContent = text;
  box.classList.toggle('error', kind === 'error');
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind !== 'error') messageTimer = setTimeout(() => { box.hidden = true; }, 7000);
}
export function hideMessage() { $('message').hidden = true; }
$('message-close').addEventListener('click', hideMessage);

/**
 * Binds a control (select, range or checkbox with id = setting name) to settings[name]:
 * shows the current value (call the returned function after a change) and calls
 * onChange(name, value) after a user change; onChange updates the settings.
 */
export function bindControl(name, settings, parse, onChange) {
  const el = $(name);
  const show = () => {
    if (el.type === 'checkbox') el.checked = !!settings[name];
    else {
      const v = String(settings[name]);
      if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === v)) {
        el.add(new Option(v, v));
      }
      el.value = v;
    }
  };
  show();
  el.addEventListener(el.type === 'range' ? 'input' : 'change', () => {
    onChange(name, el.type === 'checkbox' ? el.checked : parse(el.value));
  });
  return show;
}

const written = new WeakMap(); // element -> { prop: last value written }
/**
 * Sets `el[prop]` (textContent, innerHTML, ...) only when the value differs from the last one
 * written there: the frame loop calls this every frame, and an unchanged write would still
 * make the browser redo style and layout.
 */
export function setIfChanged(el, prop, value) {
  const last = written.get(el) ?? {};
  if (last[prop] === value) return;
  last[prop] = value;
  written.set(el, last);
  el[prop] = value;
}

/** Offers `blob` as a download called `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url; a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const FORMULAS = Object.fromEntries(Object.entries(F).map(([k, v]) => [k, inline(v)]));

/** The caption under the stage for the current field view. */
export function captionFor(field, tValue, extra = '') {
  const tt = `at t = ${tValue.toFixed(2)}`;
  switch (field) {
    case 'learned': return `Learned field ${FORMULAS.learned} ${tt}: the network's guess, trained only on conditional targets. ${extra}`;
    case 'marginal': return `Exact marginal field ${FORMULAS.marginal} ${tt}: the posterior-weighted average of the conditional fields, in closed form. ${extra}`;
    case 'conditional': return `Conditional field of the chosen z (green ring): ${FORMULAS.uCond} ${tt}. Dashed: the path of its mean α<sub>t</sub>z; circles: 1 and 2 β<sub>t</sub>. ${extra}`;
    case 'error': return `Error ${FORMULAS.error} ${tt} (shading): orange arrows learned, blue exact; where they disagree, training has work left. ${extra}`;
    case 'residual': return `Continuity residual ${FORMULAS.residual} of the exact pair (p<sub>t</sub>, u<sub>t</sub>) ${tt}: zero up to rounding, everywhere. ${extra}`;
    case 'residual_learned': return `Continuity residual ${FORMULAS.residual} with the learned u<sub>θ</sub> ${tt} (its divergence by central differences, step 10<sup>−3</sup>): large early, shrinking with training. ${extra}`;
    case 'residual_uniform': return `Continuity residual ${FORMULAS.residual} of a wrong field that averages the conditional fields with uniform weights ${tt}: far from zero, and its purple particles miss the data. ${extra}`;
    default: return `Particles ${tt}: from noise N(0, I) at t = 0 to data at t = 1, along the learned field (orange) and the exact marginal field (blue). ${extra}`;
  }
}

/** Fills the legend row. items: [{ color, label }] or [{ gradient, lo, hi, label }]. */
export function setLegend(items) {
  const el = $('legend');
  el.replaceChildren(...items.map((it) => {
    const span = document.createElement('span');
    if (it.gradient) {
      span.append(`${it.label} ${fmt(it.lo)}`);
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.background = it.gradient;
      span.append(bar, fmt(it.hi));
    } else {
      const sw = document.createElement('span');
      sw.className = 'sw';
      sw.style.background = it.color;
      span.append(sw, it.label);
    }
    return span;
  }));
}

export { COLORS };
