// @ts-check
// DOM helpers: the message bar, binding form controls to settings, captions and legends,
// downloads. No application state lives here.
import { COLORS, fmt } from './render.js';

/**
 * The element with this id (it must exist: the page's ids are fixed in index.html).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no element #${id}`);
  return el;
}
/** @param {string} id */
export const $input = (id) => /** @type {HTMLInputElement} */ ($(id));
/** @param {string} id */
export const $button = (id) => /** @type {HTMLButtonElement} */ ($(id));
/** @param {string} id */
export const $select = (id) => /** @type {HTMLSelectElement} */ ($(id));
/** @param {string} id */
export const $canvas = (id) => /** @type {HTMLCanvasElement} */ ($(id));

/** @type {ReturnType<typeof setTimeout> | undefined} */
let messageTimer;
/** @type {string | null} the condition the shown message is about (see clearMessage) */
let messageId = null;
/**
 * Shows a message over the top of the page; kind 'info' fades after a while, 'error' stays
 * until dismissed. A message with an `id` is about a condition, and clearMessage(id) takes it
 * away when the condition ends (so "the cloud is empty" does not outlive the empty cloud).
 * @param {string} text
 * @param {'info' | 'error'} [kind]
 * @param {string | null} [id]
 */
export function showMessage(text, kind = 'info', id = null) {
  messageId = id;
  const box = $('message');
  $('message-text').textContent = text;
  box.classList.toggle('error', kind === 'error');
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind !== 'error') messageTimer = setTimeout(() => { box.hidden = true; }, 7000);
}
export function hideMessage() { $('message').hidden = true; messageId = null; }
/**
 * Hides the message if it is the one about condition `id`.
 * @param {string} id
 */
export function clearMessage(id) { if (messageId === id && !$('message').hidden) hideMessage(); }
$('message-close').addEventListener('click', hideMessage);

/**
 * Binds a control (select, range or checkbox with id = setting name) to a state key: shows
 * the current value (call the returned function after a change) and calls
 * onChange(name, value) after a user change; onChange asks the store to apply it.
 * @param {string} name
 * @param {() => Record<string, any>} state
 * @param {(raw: string) => any} parse
 * @param {(name: string, value: any) => void} onChange
 */
export function bindControl(name, state, parse, onChange) {
  const el = /** @type {HTMLInputElement | HTMLSelectElement} */ ($(name));
  const show = () => {
    if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = !!state()[name];
    else {
      const v = String(state()[name]);
      if (el instanceof HTMLSelectElement && ![...el.options].some((o) => o.value === v)) {
        el.add(new Option(v, v));
      }
      el.value = v;
    }
  };
  show();
  el.addEventListener(el.type === 'range' ? 'input' : 'change', () => {
    onChange(name, el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : parse(el.value));
  });
  return show;
}

const written = new WeakMap(); // element -> { prop: last value written }
/**
 * Sets `el[prop]` (textContent, innerHTML, ...) only when the value differs from the last one
 * written there: the frame loop calls this every frame, and an unchanged write would still
 * make the browser redo style and layout.
 */
/**
 * @param {HTMLElement} el
 * @param {string} prop
 * @param {any} value
 */
export function setIfChanged(el, prop, value) {
  const last = written.get(el) ?? {};
  if (last[prop] === value) return;
  last[prop] = value;
  written.set(el, last);
  /** @type {any} */ (el)[prop] = value;
}

/**
 * Offers `blob` as a download called `name`.
 * @param {Blob} blob
 * @param {string} name
 */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url; a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Fills the legend row.
 * @param {({ color: string, label: string, gradient?: undefined }
 *   | { gradient: string, lo: number, hi: number, label: string })[]} items
 */
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
      sw.style.background = /** @type {{ color: string }} */ (it).color;
      span.append(sw, it.label);
    }
    return span;
  }));
}

/**
 * Sizes a chart's canvas to its box (device pixels, at most 2 per CSS pixel); false when it
 * is not laid out (a hidden card), so nothing is drawn then.
 * @param {HTMLCanvasElement} c
 */
export function fitChart(c) {
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = Math.round(c.clientWidth * dpr), h = Math.round(c.clientHeight * dpr);
  if (w < 10 || h < 10) return false;
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  return true;
}

export { COLORS };
