// @ts-check
// The comparison rule every caption follows (DESIGN.md section 9), in one place: a figure
// measured on samples comes with its sampling spread, and two figures are called lower or
// higher only when they differ by more than twice the standard error of their difference;
// otherwise they are equal within sampling noise, and the caption gives that spread.
// Pure: no page, no worker, no wasm (unit-tested in tests/unit/compare.test.mjs).

/** A difference counts when it exceeds this many standard errors of the difference. */
export const Z = 2;

/**
 * Student's t quantile at the level of Z (two-sided 95.45 %) for df = 1..30 degrees of freedom:
 * a standard error estimated from few draws is itself noisy, so "two standard errors" of a mean
 * of n draws is t(n - 1) of them (3.31 for 4 draws), which keeps the rate of false claims at that
 * of Z with a known standard error.
 */
const T_CRIT = [13.968, 4.527, 3.307, 2.869, 2.649, 2.517, 2.429, 2.366, 2.32, 2.284, 2.255, 2.231, 2.212, 2.195,
  2.181, 2.169, 2.158, 2.149, 2.14, 2.133, 2.126, 2.12, 2.115, 2.11, 2.105, 2.101, 2.097, 2.093, 2.09, 2.087];

/**
 * The multiple of a standard error a difference must exceed, for a standard error estimated with
 * df degrees of freedom (Infinity: known, as a binomial one).
 * @param {number} df
 */
export function critical(df) {
  if (!(df >= 1)) return Infinity;
  if (df <= T_CRIT.length) return T_CRIT[Math.floor(df) - 1];
  return Z + 2.6 / df;
}

/**
 * A measured figure: its value, its standard error (0 when it is exact) and, when that was
 * estimated from repeated draws, its degrees of freedom (draws - 1; absent: known, as Z).
 * @typedef {{ mean: number, se: number, df?: number }} Measured
 */

/**
 * The verdict of a comparison of a with b: 'lower' (a < b beyond the noise), 'higher', or
 * 'equal' (within sampling noise); diff = a - b, noise = the critical multiple (Z,
 * or Student's t for a standard error estimated from few draws) of the standard error of diff.
 * @typedef {{ verdict: 'lower' | 'higher' | 'equal', diff: number, noise: number }} Verdict
 */

/**
 * The mean of repeated draws of one figure, its standard error (the sample standard deviation
 * over sqrt(count); NaN with fewer than two draws) and its degrees of freedom (count - 1).
 * @param {ArrayLike<number>} values
 * @returns {{ mean: number, se: number, df: number }}
 */
export function meanSe(values) {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  if (n < 2) return { mean, se: NaN, df: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (n - 1) / n), df: n - 1 };
}

/**
 * @param {number} diff
 * @param {number} noise
 * @returns {Verdict}
 */
function verdictOf(diff, noise) {
  if (!Number.isFinite(diff) || !Number.isFinite(noise) || Math.abs(diff) <= noise) {
    return { verdict: 'equal', diff, noise };
  }
  return { verdict: diff < 0 ? 'lower' : 'higher', diff, noise };
}

/**
 * Two independently measured figures: a is lower (higher) than b only when b - a (a - b)
 * exceeds Z sqrt(se_a^2 + se_b^2) (Student's t in place of Z when a standard error was
 * estimated from few draws: the fewer degrees of freedom of the two).
 * @param {Measured} a
 * @param {Measured} b
 * @returns {Verdict}
 */
export function compare(a, b) {
  const df = Math.min(a.df ?? Infinity, b.df ?? Infinity);
  return verdictOf(a.mean - b.mean, (df === Infinity ? Z : critical(df)) * Math.hypot(a.se, b.se));
}

/**
 * Paired draws (the same noise for both figures in each draw): the mean of the differences
 * a_i - b_i against its own standard error.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @returns {Verdict}
 */
export function comparePaired(a, b) {
  const d = Array.from(a, (v, i) => v - b[i]);
  const { mean, se, df } = meanSe(d);
  return verdictOf(mean, critical(df) * se);
}

/**
 * A share of k in n with its standard error: sqrt(p (1 - p) / n), or, near 0 or 1 (where that
 * is too small to trust: fewer than 5 on either side), the half-width of the Wilson interval at
 * Z over Z, which stays above 0 when k is 0 or n.
 * @param {number} k
 * @param {number} n
 * @returns {Measured & { lo: number, hi: number }}
 */
export function share(k, n) {
  const p = k / n;
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z / (1 + z2 / n)) * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  const lo = Math.max(0, centre - half), hi = Math.min(1, centre + half);
  const edge = k < 5 || n - k < 5;
  return { mean: p, se: edge ? (hi - lo) / (2 * Z) : Math.sqrt(p * (1 - p) / n), lo, hi };
}

/**
 * Whether a measured distance is at the floor (the same distance between two samples of one
 * law, with its spread): not higher than the floor by the rule.
 * @param {Measured} x
 * @param {Measured} floor
 */
export function atFloor(x, floor) {
  return compare(x, floor).verdict !== 'higher';
}

/**
 * Whether a figure is within sampling noise of 0.
 * @param {Measured} x
 */
export function nearZero(x) {
  return !(Math.abs(x.mean) > Z * x.se);
}

/**
 * Whether the ratio a / b may be printed: not when both are within noise of 0.
 * @param {Measured} a
 * @param {Measured} b
 */
export function ratioMeaningful(a, b) {
  return !(nearZero(a) && nearZero(b));
}

/**
 * The spread of a comparison in words: "± 0.012" (the noise, rounded to two significant
 * digits).
 * @param {number} noise
 */
export function pm(noise) {
  return `± ${Number.isFinite(noise) ? Number(noise.toPrecision(2)).toString() : '?'}`;
}

/**
 * A comparison in words: "lower than", "higher than", or "equal within sampling noise (± s) to".
 * @param {Verdict} v
 */
export function relation(v) {
  if (v.verdict === 'equal') return `equal within sampling noise (${pm(v.noise)}) to`;
  return `${v.verdict} (by ${Number(Math.abs(v.diff).toPrecision(2))} ${pm(v.noise)}) than`;
}
