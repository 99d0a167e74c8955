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
mod tests {
    use super::*;

    #[test]
    fn straight_paths_have_no_straightness_and_crossings_are_counted() {
        // Two straight paths at constant speed that cross, one that does not.
        let times = [0.0, 0.3, 0.7, 1.0]; // the crossing, at t = 0.5, inside a segment
        let path = |a: Point, b: Point| -> Vec<Point> {
            times
                .iter()
                .map(|&t| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
                .collect()
        };
        let p = [
            path([0.0, 0.0], [1.0, 1.0]),
            path([0.0, 1.0], [1.0, 0.0]),
            path([5.0, 5.0], [6.0, 5.0]),
        ];
        let frames: Vec<Vec<Point>> = (0..times.len())
            .map(|k| p.iter().map(|q| q[k]).collect())
            .collect();
        assert!(straightness(&frames, &times).abs() < 1e-24);
        assert_eq!(crossings(&frames, 10), 1);
        assert_eq!(crossings(&frames, 1), 0);
        // A bent path, by hand: from (0,0) to (1,0) over t in [0, 0.5], then to (1,1) by t = 1.
        // d = (1, 1); velocities (2, 0) and (0, 2): |v - d|^2 = 2 on each half; S = 2.
        let bent = vec![vec![[0.0, 0.0]], vec![[1.0, 0.0]], vec![[1.0, 1.0]]];
        assert!((straightness(&bent, &[0.0, 0.5, 1.0]) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_assignment_is_optimal_against_brute_force_and_beats_the_drawn_pairing() {
        let mut rng = crate::rng::seeded(5);
        let cost = |a: &[Point], b: &[Point], p: &[usize]| -> f64 {
            a.iter()
                .zip(p)
                .map(|(x, &j)| (x[0] - b[j][0]).powi(2) + (x[1] - b[j][1]).powi(2))
                .sum()
        };
        for n in 1..=7 {
            for _ in 0..20 {
                let a: Vec<Point> = (0..n).map(|_| crate::rng::normal_pair(&mut rng)).collect();
                let b: Vec<Point> = (0..n).map(|_| crate::rng::normal_pair(&mut rng)).collect();
                let best = permutations(n)
                    .iter()
                    .map(|p| cost(&a, &b, p))
                    .fold(f64::INFINITY, f64::min);
                let got = cost(&a, &b, &optimal_assignment(&a, &b));
                assert!(
                    (got - best).abs() < 1e-9,
                    "n {n}: {got} vs brute force {best}"
                );
            }
        }
        // Random batches of 256: always below the pairing as drawn.
        for _ in 0..5 {
            let a: Vec<Point> = (0..256)
                .map(|_| crate::rng::normal_pair(&mut rng))
                .collect();
            let b: Vec<Point> = (0..256)
                .map(|_| {
                    let p = crate::rng::normal_pair(&mut rng);
                    [p[0] + 2.0, 0.5 * p[1]]
                })
                .collect();
            let identity: Vec<usize> = (0..256).collect();
            assert!(cost(&a, &b, &optimal_assignment(&a, &b)) < cost(&a, &b, &identity));
        }
    }

    /// Every permutation of `0..n`.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for pos in 0..n {
                let mut q = p.clone();
                q.insert(pos, n - 1);
                out.push(q);
            }
        }
        out
    }
    use crate::rng::{normal_pair, seeded, uniform};

    fn cloud(seed: u64, n: usize) -> Vec<Point> {
        let mut rng = seeded(seed);
        (0..n).map(|_| normal_pair(&mut rng)).collect()
    }

    /// All permutations of 0..n (Heap's algorithm), brute-force minimum mean squared cost.
    fn brute_force_w2(a: &[Point], b: &[Point]) -> f64 {
        let n = a.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let cost = |p: &[usize]| -> f64 { (0..n).map(|i| dist2(a[i], b[p[i]])).sum() };
        let mut best = cost(&perm);
        let mut c = vec![0; n];
        let mut i = 0;
        while i < n {
            if c[i] < i {
                if i % 2 == 0 {
                    perm.swap(0, i);
                } else {
                    perm.swap(c[i], i);
                }
                best = best.min(cost(&perm));
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        (best / n as f64).sqrt()
    }

    #[test]
    fn w2_matches_brute_force_on_small_sets() {
        for n in 1..=7 {
            for seed in 0..8 {
                let a = cloud(100 + seed, n);
                let b = cloud(200 + seed, n);
                let exact = w2_exact(&a, &b).expect("valid sizes");
                let brute = brute_force_w2(&a, &b);
                assert!(
                    (exact - brute).abs() < 1e-12,
                    "n={n} seed={seed}: {exact} vs {brute}"
                );
            }
        }
        // integer grid points: many ties
        let a: Vec<Point> = (0..6).map(|i| [(i % 3) as f64, (i / 3) as f64]).collect();
        let b: Vec<Point> = (0..6).map(|i| [(i % 2) as f64, (i % 3) as f64]).collect();
        assert!((w2_exact(&a, &b).expect("ok") - brute_force_w2(&a, &b)).abs() < 1e-12);
    }

    #[test]
    fn w2_on_a_line_is_the_sorted_matching() {
        let mut rng = seeded(5);
        for n in [2, 10, 100, 300] {
            // points on the line through the origin with direction (0.6, 0.8)
            let mut sa: Vec<f64> = (0..n).map(|_| 4.0 * uniform(&mut rng) - 2.0).collect();
            let mut sb: Vec<f64> = (0..n).map(|_| normal_pair(&mut rng)[0]).collect();
            let a: Vec<Point> = sa.iter().map(|s| [0.6 * s, 0.8 * s]).collect();
            let b: Vec<Point> = sb.iter().map(|s| [0.6 * s, 0.8 * s]).collect();
            sa.sort_by(f64::total_cmp);
            sb.sort_by(f64::total_cmp);
            let closed = (sa
                .iter()
                .zip(&sb)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                / n as f64)
                .sqrt();
            let got = w2_exact(&a, &b).expect("ok");
            assert!((got - closed).abs() < 1e-10, "n={n}: {got} vs {closed}");
        }
    }

    #[test]
    fn w2_of_a_shuffle_is_zero_and_translation_is_exact() {
        let a = cloud(7, 500);
        let mut b = a.clone();
        let mut rng = seeded(8);
        for i in (1..b.len()).rev() {
            let j = crate::rng::index(&mut rng, i + 1);
            b.swap(i, j);
        }
        assert_eq!(w2_exact(&a, &b).expect("ok"), 0.0);
        // a translated copy: the optimal plan is the translation, W2 = |shift|
        let c: Vec<Point> = b.iter().map(|p| [p[0] + 0.3, p[1] - 0.4]).collect();
        assert!((w2_exact(&a, &c).expect("ok") - 0.5).abs() < 1e-12);
    }

    #[test]
    fn w2_non_finite_input_gives_nan_without_hanging() {
        let mut a = cloud(13, 20);
        let b = cloud(14, 20);
        a[3] = [f64::NAN, 0.0];
        assert!(w2_exact(&a, &b).expect("sizes ok").is_nan());
        a[3] = [f64::INFINITY, 0.0];
        assert!(!w2_exact(&a, &b).expect("sizes ok").is_finite());
    }

    #[test]
    fn w2_errors() {
        let a = cloud(1, 3);
        let b = cloud(2, 4);
        assert_eq!(
            w2_exact(&a, &b),
            Err(MetricError::SizeMismatch { a: 3, b: 4 })
        );
        assert_eq!(w2_exact(&[], &[]), Err(MetricError::Empty));
        let big = vec![[0.0, 0.0]; W2_MAX_POINTS + 1];
        assert_eq!(
            w2_exact(&big, &big),
            Err(MetricError::TooLarge(W2_MAX_POINTS + 1))
        );
        assert_eq!(
            MetricError::SizeMismatch { a: 3, b: 4 }.to_string(),
            "point clouds differ in size (3 vs 4)"
        );
        assert!(MetricError::TooLarge(5000).to_string().contains("5000"));
        assert_eq!(MetricError::Empty.to_string(), "empty point cloud");
    }

    #[test]
    fn energy_distance_by_hand() {
        // a = {0}, b = {(3, 4)}: 2 * 5 - 0 - 0
        assert!((energy_distance(&[[0.0, 0.0]], &[[3.0, 4.0]]) - 10.0).abs() < 1e-12);
        // a = {0, 2} on a line, b = {1}: cross mean 1, within-a mean (0+2+2+0)/4 = 1 -> 2 - 1 - 0
        let e = energy_distance(&[[0.0, 0.0], [2.0, 0.0]], &[[1.0, 0.0]]);
        assert!((e - 1.0).abs() < 1e-12);
        let a = cloud(3, 50);
        assert!(energy_distance(&a, &a).abs() < 1e-12);
        assert_eq!(energy_distance(&a, &[]), 0.0);
        // symmetric, positive, and grows with a shift
        let b = cloud(4, 40);
        assert!((energy_distance(&a, &b) - energy_distance(&b, &a)).abs() < 1e-12);
        let far: Vec<Point> = b.iter().map(|p| [p[0] + 3.0, p[1]]).collect();
        assert!(energy_distance(&a, &far) > energy_distance(&a, &b));
    }

    #[test]
    fn energy_distance_matches_naive_triple_sum() {
        let a = cloud(9, 13);
        let b = cloud(10, 7);
        let mean = |x: &[Point], y: &[Point]| {
            x.iter()
                .flat_map(|p| y.iter().map(move |q| dist(*p, *q)))
                .sum::<f64>()
                / (x.len() * y.len()) as f64
        };
        let naive = 2.0 * mean(&a, &b) - mean(&a, &a) - mean(&b, &b);
        assert!((energy_distance(&a, &b) - naive).abs() < 1e-12);
    }

    #[test]
    fn w2_assignment_is_a_permutation_beating_identity() {
        // n = 400: a permutation, no worse than the identity pairing (exactness at this size is
        // covered by the line and translation tests).
        let a = cloud(11, 400);
        let b = cloud(12, 400);
        let w = w2_exact(&a, &b).expect("ok");
        let identity = (a.iter().zip(&b).map(|(p, q)| dist2(*p, *q)).sum::<f64>() / 400.0).sqrt();
        assert!(w > 0.0 && w < identity);
        let sigma = optimal_assignment(&a, &b);
        let mut seen = vec![false; 400];
        sigma.iter().for_each(|&j| seen[j] = true);
        assert!(seen.iter().all(|s| *s), "not a permutation");
    }

    #[test]
    fn capped_metrics_subsample_deterministically() {
        let a = cloud(21, 3000);
        let b = cloud(22, 1500);
        // At most the cap, distinct points of the cloud, the same subset every time.
        let s = subsample(&a, 1000, 7);
        assert_eq!(s.len(), 1000);
        assert_eq!(s, subsample(&a, 1000, 7));
        assert!(s.iter().all(|p| a.contains(p)));
        let mut sorted = s.clone();
        sorted.sort_by(|p, q| p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])));
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        assert_eq!(subsample(&b[..10], 1000, 7), b[..10].to_vec());
        // Small clouds are used whole.
        let (sa, sb) = (&a[..300], &b[..200]);
        assert_eq!(energy_distance_capped(sa, sb), energy_distance(sa, sb));
        assert_eq!(
            w2_capped(&a[..200], sb).expect("ok"),
            w2_exact(&a[..200], sb).expect("ok")
        );
        // Large ones: close to the full value, and a cloud against itself stays 0.
        let full = energy_distance(&a, &b);
        let capped = energy_distance_capped(&a, &b);
        assert!((full - capped).abs() < 0.01, "{full} vs {capped}");
        assert!(energy_distance_capped(&a, &a) < 1e-12);
        assert_eq!(w2_capped(&a, &a).expect("ok"), 0.0);
        // Unequal sizes: both reduced to the smaller one.
        let w = w2_capped(&a[..400], &b[..250]).expect("ok");
        assert!(w.is_finite() && w > 0.0);
        assert_eq!(w2_capped(&a, &[]), Err(MetricError::Empty));
    }

    #[test]
    fn median_nn_spacing_by_hand_and_against_brute_force() {
        assert_eq!(median_nn_spacing(&[]), 0.0);
        assert_eq!(median_nn_spacing(&[[1.0, 2.0]]), 0.0);
        // A row at x = 0, 1, 3, 7: nearest distances 1, 1, 2, 4 -> median (1 + 2) / 2.
        let row = [[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [7.0, 0.0]];
        assert_eq!(median_nn_spacing(&row), 1.5);
        assert_eq!(median_nn_spacing(&row[..3]), 1.0);
        let a = cloud(31, 301);
        let mut brute: Vec<f64> = a
            .iter()
            .enumerate()
            .map(|(i, p)| {
                a.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, q)| dist(*p, *q))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        brute.sort_by(f64::total_cmp);
        assert!((median_nn_spacing(&a) - brute[150]).abs() < 1e-12);
        // The page's moons (1,000 points, seed 1): 0.027, the figure behind BETA_MIN.
        let moons = crate::data::sample_preset(crate::data::Preset::TwoMoons, 1000, &mut seeded(1));
        let s = median_nn_spacing(&moons);
        assert!((s - 0.0267).abs() < 5e-4, "{s}");
    }

    #[test]
    fn memorization_is_near_fraction_against_each_set() {
        let train = [[0.0, 0.0], [1.0, 0.0]];
        let heldout = [[0.0, 1.0]];
        let samples = [[0.0, 0.05], [1.0, 0.0], [0.0, 0.96], [5.0, 5.0]];
        assert_eq!(memorization(&samples, &train, &heldout, 0.1), (0.5, 0.25));
        assert_eq!(memorization(&samples, &[], &heldout, 0.1), (0.0, 0.25));
        assert_eq!(memorization(&[], &train, &heldout, 0.1), (0.0, 0.0));
    }

    #[test]
    fn near_fraction_counts_samples_close_to_data() {
        let data = [[0.0, 0.0], [1.0, 0.0]];
        // Distances to the nearest data point: 0.05, 0.2, 0.0, 0.099.
        let samples = [[0.05, 0.0], [0.5, 0.2], [1.0, 0.0], [1.0, -0.099]];
        assert_eq!(near_fraction(&samples, &data, 0.1), 0.75);
        assert_eq!(near_fraction(&samples, &data, 0.01), 0.25);
        assert_eq!(near_fraction(&samples, &data, 1.0), 1.0);
        assert_eq!(near_fraction(&[], &data, 1.0), 0.0);
        assert_eq!(near_fraction(&samples, &[], 1.0), 0.0);
    }
}
