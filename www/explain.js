// @ts-check
// The explanations of the marginalization trick: the posterior-weight inspector, the heatmap
// views (density, error, continuity residual) with their colour scales, the memorization
// count, and the captions of the loss chart and the schedule.
import { memorization as nearShares } from './pkg/fmp.js';
import { gradientCss, fmt } from './render.js';
import { F, SCHEDULE_MATH, block, inline } from './math.js';

const TOP_K = 6;
/** The residual colour scale is fixed (+-10^3, signed log), so the fields compare at a glance. */
const RESIDUAL_DECADES = 3;
/**
 * Values that span many decades of either sign (residuals, divergences) on a signed log scale:
 * sign(v) log10(1 + |v|).
 * @param {number} v
 */
const signedLog = (v) => Math.sign(v) * Math.log10(1 + Math.abs(v));

/**
 * The inspector at world point {x, y} and time t: posterior weights of every data point, the
 * TOP_K largest with their conditional vectors u_t(x|z_i), and the marginal vector u_t(x).
 */
export function inspect(fields, cloud, { x, y }, t) {
  const weights = fields.posterior(x, y, t);
  const order = [...weights.keys()].sort((a, b) => weights[b] - weights[a]).slice(0, TOP_K);
  const uCond = new Float32Array(order.length * 2);
  const at = Float32Array.of(x, y);
  order.forEach((i, k) => {
    const [zx, zy] = cloud.at(i);
    uCond.set(fields.conditional_velocity(at, t, zx, zy), 2 * k);
  });
  const uMarg = fields.velocity('marginal', at, t);
  return { x, y, weights, top: order, uCond, uMarg };
}

/** The caption note of the inspector: where it looks, and how much weight the arrows hold. */
export function inspectorNote({ x, y, weights, top }) {
  const held = top.reduce((a, i) => a + weights[i], 0);
  return `Inspecting x = (${x.toFixed(2)}, ${y.toFixed(2)}): data points shaded by their posterior weight `
    + `${inline(F.weights)}; `
    + `the ${top.length} green arrows (largest weights) hold ${(100 * held).toFixed(0)}% of it, the blue arrow is the `
    + `whole weighted sum u<sub>t</sub><sup>target</sup>(x).`;
}

/** Summary statistics of a heatmap grid (of the cells where `mask` is 1, when given). */
function stats(grid, mask = null) {
  let lo = Infinity, hi = -Infinity, sumAbs = 0, n = 0;
  for (let i = 0; i < grid.length; i++) {
    const v = grid[i];
    if (!Number.isFinite(v) || (mask && !mask[i])) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    sumAbs += Math.abs(v); n++;
  }
  return { lo, hi, meanAbs: n ? sumAbs / n : NaN };
}

/**
 * The heatmap of a view's grid `field` (a Fields.grid name, or null; or the density when
 * `density` is on), or null:
 * { what (Fields.grid name), map, range(grid) -> [lo, hi], transform?(v), legend(), note }.
 */
export function heatFor(field, density) {
  if (field === 'divergence') {
    // Like the residuals, the divergence spans decades (1/beta_t^2 near the data late in
    // time): a signed log scale, blue for sinks, red for sources.
    const h = {
      what: field, map: 'diverging',
      transform: signedLog,
      range(grid) { h.stats = stats(grid); return [-RESIDUAL_DECADES, RESIDUAL_DECADES]; },
      legend: () => ({
        gradient: gradientCss('diverging'), lo: -(10 ** RESIDUAL_DECADES), hi: 10 ** RESIDUAL_DECADES,
        label: 'divergence: sink − / source + (signed log scale)',
      }),
    };
    return h;
  }
  if (field?.startsWith('residual')) {
    // Residuals span many decades (1e-13 for the exact pair, 1e3 for a wrong field near the
    // data's edge): shown on a signed log scale, sign(r) log10(1 + |r|).
    const kind = { residual: 'exact', residual_learned: 'learned', residual_uniform: 'uniform' }[field];
    const h = {
      what: field, map: 'diverging', masked: true,
      // The summary: the mean |residual| on 8 x 50 samples of p_t (where the mass is).
      summary: { kind, pieces: 8, per: 50 },
      transform: signedLog,
      range(grid, mask) { h.stats = stats(grid, mask); return [-RESIDUAL_DECADES, RESIDUAL_DECADES]; },
      legend: () => ({
        gradient: gradientCss('diverging'), lo: -(10 ** RESIDUAL_DECADES), hi: 10 ** RESIDUAL_DECADES,
        label: 'residual (signed log scale)',
      }),
      /** @param {{ samples: number, value: number } | null} summary */
      note: (summary) => (summary
        ? `Mean |residual| on ${summary.samples} samples of p<sub>t</sub>: ${fmt(summary.value)}. Shading only where `
          + `log p<sub>t</sub> is within 8 of its maximum.`
        : ''),
    };
    return h;
  }
  if (field === 'fokker_planck') {
    // Like the continuity residuals: signed log scale, where the mass is; the note gives the
    // mean |residual| over the shaded cells.
    const h = {
      what: field, map: 'diverging', masked: true,
      transform: signedLog,
      range(grid, mask) { h.stats = stats(grid, mask); return [-RESIDUAL_DECADES, RESIDUAL_DECADES]; },
      legend: () => ({
        gradient: gradientCss('diverging'), lo: -(10 ** RESIDUAL_DECADES), hi: 10 ** RESIDUAL_DECADES,
        label: 'Fokker–Planck residual (signed log scale)',
      }),
      note: () => (h.stats ? `Mean |residual| over the shaded cells: ${fmt(h.stats.meanAbs)}.` : ''),
    };
    return h;
  }
  if (field === 'error') {
    const h = {
      what: 'error', map: 'error', masked: true,
      summary: { kind: 'error', pieces: 1, per: 200 },
      range(grid, mask) { h.stats = stats(grid, mask); return [0, Math.max(1e-6, h.stats.hi)]; },
      legend: () => ({ gradient: gradientCss('error'), lo: 0, hi: h.stats?.hi ?? NaN, label: '|u_t^θ − u_t^target|' }),
      /** @param {{ samples: number, value: number } | null} summary */
      note: (summary) => (summary
        ? `Median error on ${summary.samples} samples of p<sub>t</sub>: ${fmt(summary.value)}. Shading only where log `
          + `p<sub>t</sub> is within 8 of its maximum.`
        : ''),
    };
    return h;
  }
  if (density) {
    const h = {
      what: 'logp', map: 'density', note: () => `Shading: log of ${inline(F.density)}.`,
      range(grid) { h.stats = stats(grid); return [h.stats.hi - 8, h.stats.hi]; },
      legend: () => ({
        gradient: gradientCss('density'), lo: (h.stats?.hi ?? NaN) - 8, hi: h.stats?.hi ?? NaN, label: 'log p_t',
      }),
    };
    return h;
  }
  return null;
}

/**
 * The memorization caption, worded from the measured shares. While the memorization check
 * is on, a share of the drawn points is held out from training and from the exact field; at
 * t = 1 we count the samples within `radius` (half the drawing's median nearest-neighbour
 * spacing) of a training point and of a held-out point, against equally many of each.
 * @param {{ exact: any, learned: any }} traj
 * @param {{ train: Float32Array, heldout: Float32Array, radius: number, heldCount: number, total: number }} split
 */
export function memorization(traj, split) {
  const { train, heldout, radius, heldCount, total } = split;
  const head = `Held out ${heldCount.toLocaleString('en')} of ${total.toLocaleString('en')} drawn points (hollow): not `
    + `used for training or for the exact field. `
    + `At t = 1, share of samples within ${fmt(radius)} (half the median spacing) of ${heldCount} training points and `
    + `of the ${heldCount} held-out ones: `;
  if (heldCount === 0) return 'Draw more points to measure memorization (a share of them is held out).';
  const shares = (tr) => (tr?.complete() ? Array.from(nearShares(tr.final(), train, heldout, radius)) : null);
  const ex = shares(traj.exact);
  const le = shares(traj.learned);
  const pct = (v) => `${(100 * v).toFixed(1)}%`;
  const exText = ex ? `exact ${pct(ex[0])} vs ${pct(ex[1])}` : 'exact (computing)';
  const leText = le ? `learned ${pct(le[0])} vs ${pct(le[1])}` : 'learned (computing)';
  let verdict = '';
  if (ex && le) {
    const exactGap = ex[0] - ex[1], learnedGap = le[0] - le[1];
    verdict = ` The exact field ${exactGap > 2 * Math.max(0.01, ex[1])
      ? 'memorizes: its samples land on the points it was given far more than on unseen ones'
      : 'does not separate seen from unseen points here'}; `
      + `the network ${Math.abs(learnedGap) < Math.max(0.01, exactGap / 4)
        ? 'treats seen and unseen points alike: it generalizes'
        : learnedGap > 0 ? 'leans towards the points it was trained on' : 'lands nearer the unseen points'}.`;
  }
  return `${head}${exText}, ${leText}.${verdict}`;
}

/**
 * The caption under the loss chart.
 * @param {{ cfm: number, fm: number, diff: number, cos: number } | null} latest
 * @param {number} [gap] C of the drawing, or NaN
 * @param {number} [gapErr] its standard error
 * @param {string} [pairing] what the network trains on (LossChart.pairing): L_FM and C hold only for
 *   independent pairs
 */
export function lossCaption(latest, gap = NaN, gapErr = NaN, pairing = 'independent') {
  if (pairing === 'labels') {
    if (!latest) return 'Press Train: the chart shows L_CFM, and L_FM against the exact field of each sample\'s class '
      + '(the unconditional field for a dropped label).';
    return `L_CFM − L_FM = ${fmt(latest.diff)}: L_FM here is against each sample's class field (the unconditional one `
      + `for a dropped label), and for each class the difference is again a constant, so minimizing L_CFM minimizes `
      + `L_FM. Cosine between their gradients on a batch: ${fmt(latest.cos)}. (The C of the unlabelled drawing does `
      + `not apply: a class field is more specific, so the floor is no higher.)`;
  }
  if (pairing !== 'independent') {
    const what = pairing === 'ot'
      ? 'noise re-paired with data by exact assignment in each batch (minibatch OT)'
      : 'the fixed pairs of a reflow';
    const now = latest ? `L_CFM = ${fmt(latest.cfm)}. ` : 'Press Train: the chart shows L_CFM. ';
    return `${now}This network trains on ${what}: its target is the marginal field of that coupling, which has no `
      + `closed form here, so L_FM, the difference and C (which hold for independent pairs) are not shown.`;
  }
  if (!latest) return 'Press Train: the chart shows L_CFM (what the network is trained on), L_FM (the loss against the '
    + 'exact field, estimated on the same batch) and their difference.';
  const c = Number.isFinite(gap)
    ? ` For this drawing C = ${fmt(gap)} ± ${fmt(gapErr)} (Monte Carlo, the dashed line): L_CFM bottoms out there, not `
      + `at zero.`
    : '';
  return `L_CFM − L_FM = ${fmt(latest.diff)}: level, because in expectation the difference is a constant C that does `
    + `not depend on θ, `
    + 'so E[∇L_CFM] = ∇L_FM and minimizing L_CFM minimizes L_FM. On one batch the two gradients only roughly agree: '
    + `Cosine between their gradients on a batch: ${fmt(latest.cos)}.${c} (Losses of the trained weights; particles `
    + `and arrows use their moving average.)`;
}

/** The schedule (alpha_t, beta_t) and its conditional vector field, as MathML. */
export function scheduleFormula(schedule) {
  const m = SCHEDULE_MATH[schedule];
  return m ? `${m.ab}${block(m.field)}` : '';
}
