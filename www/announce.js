// @ts-check
// Announcements for screen readers, through one polite live region (#announce), at most one
// per second: a burst of news (a stroke that adds hundreds of points, a view cycled quickly)
// is announced once, with its newest text. Nothing that changes every frame (t, the caption
// while time plays) goes through here.

/** The shortest time between two announcements, ms. */
export const ANNOUNCE_MS = 1000;
let last = -Infinity;
/** @type {string | null} */
let queued = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;

/**
 * Announces `text` now, or (if one was announced in the last second) when the second is
 * over, unless newer text replaces it meanwhile.
 * @param {string} text
 */
export function announce(text) {
  queued = text;
  if (timer !== undefined) return;
  const wait = Math.max(0, last + ANNOUNCE_MS - performance.now());
  timer = setTimeout(() => {
    timer = undefined;
    if (queued === null) return;
    const el = document.getElementById('announce');
    if (el) el.textContent = queued;
    queued = null;
    last = performance.now();
  }, wait);
}
