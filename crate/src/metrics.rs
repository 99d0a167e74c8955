//! Sample-quality figures between two point clouds `a` (generated) and `b` (data).
//!
//! - Energy distance (V-statistic, Szekely & Rizzo):
//!   `E(a, b) = 2 mean_{i,j} |a_i - b_j| - mean_{i,i'} |a_i - a_i'| - mean_{j,j'} |b_j - b_j'|`,
//!   `>= 0`, and `0` iff the two empirical distributions coincide. `O(n m)`.
//! - Wasserstein-2 between two equal-size empirical clouds with uniform weights:
//!   `W2(a, b) = sqrt(min over permutations sigma of (1/n) sum_i |a_i - b_sigma(i)|^2)`, solved
//!   exactly by the Hungarian method in its shortest-augmenting-path form with dual potentials
//!   (Jonker-Volgenant style, `O(n^3)` worst case, `f64`), for `1 <= n <= W2_MAX_POINTS`.
//!   Costs are squared distances computed on the fly (no `n x n` matrix).
//! - Memorization: [`near_fraction`], the share of samples within a radius of some data point
//!   (the exact marginal flow lands every sample on a data point; a network that generalizes
//!   puts most of them in between).
//! - Spacing: [`median_nn_spacing`], the median over the points of the distance to the nearest
//!   other point (the scale below which "near a data point" means "on it").
//! - Memorization measured properly: [`memorization`] gives the share of samples near the
//!   training points and the share near held-out points of the same distribution
//!   ([`crate::data::holdout_split`]). The exact field of the training points puts every sample
//!   on a training point; a model that generalizes puts samples near held-out points about as
//!   often as near training points of the same number.
//! - Large clouds: [`energy_distance_capped`] and [`w2_capped`] first reduce each cloud to at
//!   most [`ENERGY_MAX_POINTS`] (resp. [`W2_MAX_POINTS`]) points with [`subsample`], a seeded
//!   and therefore deterministic draw without replacement (the same cloud always gives the same
//!   subset, so the distance of a cloud to itself stays 0).

use crate::Point;
use std::fmt;

/// Largest cloud [`w2_exact`] accepts.
pub const W2_MAX_POINTS: usize = 2048;

/// Largest cloud [`energy_distance_capped`] uses: `1000 x 1000` distances take a few
/// milliseconds, and the subsampling error of the energy distance at this size (about
/// `1e-3` on the presets) is far below the values that tell a good sample from a bad one.
pub const ENERGY_MAX_POINTS: usize = 1000;

/// Seed of [`subsample`] in the capped metrics.
const SUBSAMPLE_SEED: u64 = 0x5eed;

/// Why a metric could not be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricError {
    /// The two clouds have different sizes.
    SizeMismatch {
        /// Size of the first cloud.
        a: usize,
        /// Size of the second cloud.
        b: usize,
    },
    /// More points than [`W2_MAX_POINTS`].
    TooLarge(usize),
    /// An empty cloud.
    Empty,
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricError::SizeMismatch { a, b } => {
                write!(f, "point clouds differ in size ({a} vs {b})")
            }
            MetricError::TooLarge(n) => write!(
                f,
                "{n} points is too many for exact W2 (at most {W2_MAX_POINTS})"
            ),
            MetricError::Empty => write!(f, "empty point cloud"),
        }
    }
}

impl std::error::Error for MetricError {}

#[inline]
fn dist(p: Point, q: Point) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

#[inline]
fn dist2(p: Point, q: Point) -> f64 {
    let (dx, dy) = (p[0] - q[0], p[1] - q[1]);
    dx * dx + dy * dy
}

/// Mean pairwise distance within one cloud (all ordered pairs, diagonal included).
fn mean_self_distance(a: &[Point]) -> f64 {
    let n = a.len() as f64;
    let mut s = 0.0;
    for (i, &p) in a.iter().enumerate() {
        for &q in &a[i + 1..] {
            s += dist(p, q);
        }
    }
    2.0 * s / (n * n)
}

/// Energy distance between the empirical distributions of `a` and `b` (V-statistic).
/// Returns `0` if either cloud is empty.
pub fn energy_distance(a: &[Point], b: &[Point]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut cross = 0.0;
    for &p in a {
        for &q in b {
            cross += dist(p, q);
        }
    }
    let cross = cross / (a.len() as f64 * b.len() as f64);
    (2.0 * cross - mean_self_distance(a) - mean_self_distance(b)).max(0.0)
}

/// At most `max` points of `points`: all of them (in order) when there are no more than
/// `max`, else a uniform draw of `max` distinct points (partial Fisher-Yates shuffle of the
/// indices, seeded with `seed`, so the result is deterministic).
pub fn subsample(points: &[Point], max: usize, seed: u64) -> Vec<Point> {
    let n = points.len();
    if n <= max {
        return points.to_vec();
    }
    let mut rng = crate::rng::seeded(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..max {
        let j = i + crate::rng::index(&mut rng, n - i);
        idx.swap(i, j);
    }
    idx[..max].iter().map(|&i| points[i]).collect()
}

/// [`energy_distance`] with each cloud first reduced to at most [`ENERGY_MAX_POINTS`] points
/// ([`subsample`], deterministic). Returns `0` if either cloud is empty.
pub fn energy_distance_capped(a: &[Point], b: &[Point]) -> f64 {
    energy_distance(
        &subsample(a, ENERGY_MAX_POINTS, SUBSAMPLE_SEED),
        &subsample(b, ENERGY_MAX_POINTS, SUBSAMPLE_SEED),
    )
}

/// [`w2_exact`] between clouds of any sizes: both are reduced to
/// `n = min(a.len(), b.len(), W2_MAX_POINTS)` points ([`subsample`], deterministic), so the
/// sizes match. Errors only when a cloud is empty.
pub fn w2_capped(a: &[Point], b: &[Point]) -> Result<f64, MetricError> {
    let n = a.len().min(b.len()).min(W2_MAX_POINTS);
    w2_exact(
        &subsample(a, n, SUBSAMPLE_SEED),
        &subsample(b, n, SUBSAMPLE_SEED),
    )
}

/// Exact Wasserstein-2 distance between two equal-size clouds with uniform weights.
pub fn w2_exact(a: &[Point], b: &[Point]) -> Result<f64, MetricError> {
    if a.len() != b.len() {
        return Err(MetricError::SizeMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    if a.is_empty() {
        return Err(MetricError::Empty);
    }
    if a.len() > W2_MAX_POINTS {
        return Err(MetricError::TooLarge(a.len()));
    }
    let assignment = optimal_assignment(a, b);
    let total: f64 = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| dist2(a[i], b[j]))
        .sum();
    Ok((total / a.len() as f64).sqrt())
}

/// Minimum-cost perfect matching for the cost `c(i, j) = |a_i - b_j|^2`: returns `sigma` with
/// `a_i` matched to `b_sigma(i)`. `a.len() == b.len()` is assumed.
///
/// Dual potentials `u` (rows), `v` (columns) keep every reduced cost `c(i, j) - u_i - v_j >= 0`,
/// with equality on matched pairs. Start: column reduction `v_j = min_i c(i, j)`, `u = 0`, and
/// each column's argmin row matched greedily when still free. Then each free row is inserted by
/// a Dijkstra search over reduced costs that stops at the first free column, followed by the
/// potential update and augmentation along the shortest path. Columns are kept physically
/// permuted so the unvisited ones form a contiguous tail (a tight, branch-light scan).
pub fn optimal_assignment(a: &[Point], b: &[Point]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = a.len();
    // Column data, indexed by position (columns are permuted as the searches visit them).
    let mut bx: Vec<f64> = b.iter().map(|p| p[0]).collect();
    let mut by: Vec<f64> = b.iter().map(|p| p[1]).collect();
    let mut v = vec![0.0f64; n];
    let mut col_id: Vec<usize> = (0..n).collect();
    let mut row_at = vec![NONE; n]; // row matched to the column at this position
    let mut d = vec![f64::INFINITY; n]; // Dijkstra distances
    let mut pred = vec![NONE; n]; // row from which the column was reached
    let mut u = vec![0.0f64; n];
    let mut col_of_row = vec![NONE; n]; // position of the column matched to the row

    // Column reduction and greedy tight matching.
    for k in 0..n {
        let (mut best, mut arg) = (f64::INFINITY, 0);
        for (i, p) in a.iter().enumerate() {
            let c = dist2(*p, [bx[k], by[k]]);
            if c < best {
                best = c;
                arg = i;
            }
        }
        v[k] = if best.is_finite() { best } else { 0.0 };
        if col_of_row[arg] == NONE {
            col_of_row[arg] = k;
            row_at[k] = arg;
        }
    }

    for root in 0..n {
        if col_of_row[root] != NONE {
            continue;
        }
        d.fill(f64::INFINITY);
        pred.fill(NONE);
        let mut nvis = 0; // positions 0..nvis are visited (their distance is final)
        let mut i0 = root;
        let mut dist_i0 = 0.0; // distance of row i0 from the root
        let free = loop {
            let [ax, ay] = a[i0];
            let base = dist_i0 - u[i0];
            let mut delta = f64::INFINITY;
            let mut k1 = nvis; // fallback for non-finite input: never out of range
            for k in nvis..n {
                let dx = ax - bx[k];
                let dy = ay - by[k];
                let cur = dx * dx + dy * dy - v[k] + base;
                if cur < d[k] {
                    d[k] = cur;
                    pred[k] = i0;
                }
                if d[k] < delta {
                    delta = d[k];
                    k1 = k;
                }
            }
            // Move column k1 to position nvis.
            if k1 != nvis {
                bx.swap(k1, nvis);
                by.swap(k1, nvis);
                v.swap(k1, nvis);
                col_id.swap(k1, nvis);
                row_at.swap(k1, nvis);
                d.swap(k1, nvis);
                pred.swap(k1, nvis);
                for k in [k1, nvis] {
                    if row_at[k] != NONE {
                        col_of_row[row_at[k]] = k;
                    }
                }
            }
            let kv = nvis;
            nvis += 1;
            dist_i0 = d[kv];
            if row_at[kv] == NONE {
                break kv;
            }
            i0 = row_at[kv];
        };
        // Potentials: with D the distance of the free column, u_root += D, and for every
        // visited column k (distance d_k): v_k -= D - d_k, u_{row_at[k]} += D - d_k.
        let dist_free = d[free];
        u[root] += dist_free;
        for k in 0..nvis {
            let shift = dist_free - d[k];
            if k != free {
                u[row_at[k]] += shift;
            }
            v[k] -= shift;
        }
        // Augment along the alternating path back to the root.
        let mut k = free;
        loop {
            let r = pred[k];
            if r == NONE {
                break; // only with non-finite input
            }
            let next = col_of_row[r];
            row_at[k] = r;
            col_of_row[r] = k;
            if r == root {
                break;
            }
            k = next;
        }
    }
    let mut sigma = vec![0; n];
    for (r, &k) in col_of_row.iter().enumerate() {
        sigma[r] = if k == NONE { r } else { col_id[k] };
    }
    sigma
}

/// Straightness of trajectories (Liu et al. 2023, "Flow Straight and Fast"): with `frames[k]`
/// the particles at `times[k]` (from `t_0` to `t_K`),
/// `S = sum_k (t_{k+1} - t_k) mean_i |(x_i(t_{k+1}) - x_i(t_k)) / (t_{k+1} - t_k) - d_i|^2
/// / (t_K - t_0)`, `d_i = (x_i(t_K) - x_i(t_0)) / (t_K - t_0)`: the time average of how far
/// each velocity strays from the straight line's. 0 for straight paths at constant speed.
/// 0 for fewer than two frames or no particles.
pub fn straightness(frames: &[Vec<Point>], times: &[f64]) -> f64 {
    let k = frames.len().min(times.len());
    if k < 2 || frames[0].is_empty() {
        return 0.0;
    }
    let span = times[k - 1] - times[0];
    if span <= 0.0 {
        return 0.0;
    }
    let (first, last) = (&frames[0], &frames[k - 1]);
    let n = first.len().min(last.len());
    let mut total = 0.0;
    for w in 0..k - 1 {
        let h = times[w + 1] - times[w];
        if h <= 0.0 {
            continue;
        }
        let mut sum = 0.0;
        for i in 0..n {
            let (a, b) = (frames[w][i], frames[w + 1][i]);
            let d = [
                (last[i][0] - first[i][0]) / span,
                (last[i][1] - first[i][1]) / span,
            ];
            let v = [(b[0] - a[0]) / h - d[0], (b[1] - a[1]) / h - d[1]];
            sum += v[0] * v[0] + v[1] * v[1];
        }
        total += h * sum / n as f64;
    }
    total / span
}

/// Whether the segments `p1 p2` and `q1 q2` properly cross (touching ends do not count).
fn segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool {
    let cross = |o: Point, a: Point, b: Point| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let (d1, d2) = (cross(q1, q2, p1), cross(q1, q2, p2));
    let (d3, d4) = (cross(p1, p2, q1), cross(p1, p2, q2));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// How many pairs among the first `max_paths` trajectories cross in the plane: paths are the
/// polylines through their particle's positions in `frames` (time ignored), and a pair counts
/// once however often it crosses. `O(max_paths^2 frames^2)`. Straight paths of an optimal
/// transport plan are never at one place at the same time, yet they can cross in the plane
/// (13 of the first 100 pairs on the page's moons).
pub fn crossings(frames: &[Vec<Point>], max_paths: usize) -> usize {
    let Some(first) = frames.first() else {
        return 0;
    };
    let m = first.len().min(max_paths);
    let seg = |i: usize, k: usize| (frames[k][i], frames[k + 1][i]);
    let mut count = 0;
    for i in 0..m {
        for j in i + 1..m {
            'pair: for a in 0..frames.len().saturating_sub(1) {
                let (p1, p2) = seg(i, a);
                for b in 0..frames.len() - 1 {
                    let (q1, q2) = seg(j, b);
                    if segments_cross(p1, p2, q1, q2) {
                        count += 1;
                        break 'pair;
                    }
                }
            }
        }
    }
    count
}

/// The fraction of `samples` that lie within distance `radius` of at least one point of
/// `data` (0 for no samples). `O(n m)`.
pub fn near_fraction(samples: &[Point], data: &[Point], radius: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let r2 = radius * radius;
    let near = samples
        .iter()
        .filter(|s| {
            data.iter()
                .any(|d| (s[0] - d[0]).powi(2) + (s[1] - d[1]).powi(2) <= r2)
        })
        .count();
    near as f64 / samples.len() as f64
}

/// The median over the points of the distance to the nearest other point (the mean of the two
/// middle values for an even count; 0 with fewer than two points). `O(n^2)`: 5,000 points take
/// some tens of milliseconds.
pub fn median_nn_spacing(points: &[Point]) -> f64 {
    let n = points.len();
    if n < 2 {
        return 0.0;
    }
    let mut nearest = vec![f64::INFINITY; n];
    for i in 0..n {
        for j in i + 1..n {
            let d = dist2(points[i], points[j]);
            if d < nearest[i] {
                nearest[i] = d;
            }
            if d < nearest[j] {
                nearest[j] = d;
            }
        }
    }
    nearest.sort_by(f64::total_cmp);
    if n % 2 == 1 {
        nearest[n / 2].sqrt()
    } else {
        0.5 * (nearest[n / 2 - 1].sqrt() + nearest[n / 2].sqrt())
    }
}

/// Memorization: `(near_train_share, near_heldout_share)`, the shares of `samples` within
/// `radius` of some training point and of some held-out point ([`near_fraction`] against each
/// set; 0 for an empty set).
pub fn memorization(
    samples: &[Point],
    train: &[Point],
    heldout: &[Point],
    radius: f64,
) -> (f64, f64) {
    (
        near_fraction(samples, train, radius),
        near_fraction(samples, heldout, radius),
    )
}

#[cfg(test)]
mod tests;
