//! Classifier-free guidance on labelled data (MIT 6.S184; Ho and Salimans 2022), exactly and
//! learned.
//!
//! Labelled data `(z_i, y_i)`, `y` in `1..=K` (`K <= data::MAX_CLASSES`); label 0 is the null
//! label. The class-conditional path `p_t(x|y)` is the mean over the points of class `y` of
//! `N(alpha_t z_i, beta_t^2 I)`, so its exact field `u_t(x|y)` is the closed form of
//! [`EmpiricalMarginal`] restricted to that class; the unconditional field `u_t(x)` is the one
//! of all points (the mixture over classes weighted by their share of the points). The guided
//! field of scale `w` is
//! `u~_t(x|y) = (1 - w) u_t(x) + w u_t(x|y)`:
//! `w = 0` is the unconditional field, `w = 1` the conditional one, `w > 1` amplifies the class.
//! [`ExactGuided`] mixes the two exact fields, [`LearnedGuided`] the outputs of one
//! class-conditional network for the null label and for `y`. Both take one label per particle,
//! so a flow may carry particles of several classes at once. Both keep the form
//! `A_t zbar + B_t x` of a Gaussian path's field (their weights sum to 1), so every solver works.
//!
//! Measures of guided samples of class `y` ([`fidelity`], [`spread`]): the share whose nearest
//! data point is of class `y`, and their RMS distance to their own centroid (a larger `w`
//! narrows the spread; it raises the share only where the class field alone misses the class:
//! above `w = 1` the exact share is already about 1 and guidance only loses coverage).

use crate::marginal::EmpiricalMarginal;
use crate::mlp::{ForwardCache, Mlp};
use crate::ode::VectorField;
use crate::path::GaussianPath;
use crate::Point;

/// The exact fields of a labelled cloud: of all points, and of each class's points.
#[derive(Clone, Debug)]
pub struct ClassMarginals {
    /// All points: the unconditional path and field.
    pub all: EmpiricalMarginal,
    /// Class `y`'s points at index `y - 1` (an empty class has no points).
    pub classes: Vec<EmpiricalMarginal>,
    /// The label of each of `all`'s points.
    labels: Vec<u8>,
}

impl ClassMarginals {
    /// The marginals of `points` with `labels` (one per point; labels outside `1..=classes`
    /// belong to no class) for `classes` classes, on `path`.
    pub fn new(points: &[Point], labels: &[u8], classes: usize, path: GaussianPath) -> Self {
        let by_class = (1..=classes)
            .map(|y| {
                let pts: Vec<Point> = points
                    .iter()
                    .zip(labels)
                    .filter(|(_, &l)| usize::from(l) == y)
                    .map(|(p, _)| *p)
                    .collect();
                EmpiricalMarginal::new(pts, path)
            })
            .collect();
        ClassMarginals {
            all: EmpiricalMarginal::new(points.to_vec(), path),
            classes: by_class,
            labels: labels.to_vec(),
        }
    }

    /// `(u_t(x), u_t(x|y))` in one pass over the points
    /// ([`EmpiricalMarginal::u_marg_and_subset`]; the class's own marginal where its weights
    /// underflow); the class field is `None` for the null label or an empty class.
    pub fn u_and_class(&self, x: Point, t: f64, y: u8) -> (Point, Option<Point>) {
        let Some(class) = self.class(y) else {
            return (self.all.u_marg(x, t), None);
        };
        match self.all.u_marg_and_subset(x, t, &self.labels, y) {
            (u, Some(c)) => (u, Some(c)),
            (u, None) => (u, Some(class.u_marg(x, t))),
        }
    }

    /// Class `y`'s marginal, or `None` for the null label, a label beyond the classes or an
    /// empty class.
    pub fn class(&self, y: u8) -> Option<&EmpiricalMarginal> {
        let m = self.classes.get(usize::from(y).checked_sub(1)?)?;
        (!m.points().is_empty()).then_some(m)
    }

    /// The labels of the classes that have points, in order.
    pub fn present(&self) -> Vec<u8> {
        (1..=self.classes.len() as u8)
            .filter(|&y| self.class(y).is_some())
            .collect()
    }
}

/// The exact guided field `(1 - w) u_t(x) + w u_t(x|y_i)` with particle `i`'s label `y_i`; a
/// particle whose class is empty or null follows the unconditional field.
#[derive(Debug)]
pub struct ExactGuided<'a> {
    marginals: &'a ClassMarginals,
    labels: &'a [u8],
    w: f64,
}

impl<'a> ExactGuided<'a> {
    /// The field for particles labelled `labels` (one per particle) at guidance scale `w`.
    pub fn new(marginals: &'a ClassMarginals, labels: &'a [u8], w: f64) -> Self {
        ExactGuided {
            marginals,
            labels,
            w,
        }
    }
}

impl VectorField for ExactGuided<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        for (i, (x, o)) in xs.iter().zip(out.iter_mut()).enumerate() {
            let y = self.labels.get(i).copied().unwrap_or(0);
            *o = match self.marginals.u_and_class(*x, t, y) {
                (u, Some(c)) => [
                    (1.0 - self.w) * u[0] + self.w * c[0],
                    (1.0 - self.w) * u[1] + self.w * c[1],
                ],
                (u, None) => u,
            };
        }
    }

    fn path(&self) -> Option<GaussianPath> {
        Some(self.marginals.all.path())
    }
}

/// The learned guided field `(1 - w) u_theta(x, t, null) + w u_theta(x, t, y_i)` of a
/// class-conditional network, particle `i` with label `labels[i]` (owns its scratch).
#[derive(Debug)]
pub struct LearnedGuided<'a> {
    mlp: &'a Mlp,
    path: GaussianPath,
    labels: &'a [u8],
    w: f64,
    cache: ForwardCache,
    ts: Vec<f64>,
    nulls: Vec<u8>,
    batch: Vec<u8>,
    cond: Vec<f32>,
}

impl<'a> LearnedGuided<'a> {
    /// The field of `mlp` (trained on `path`) for particles labelled `labels` at scale `w`.
    pub fn new(mlp: &'a Mlp, path: GaussianPath, labels: &'a [u8], w: f64) -> Self {
        LearnedGuided {
            mlp,
            path,
            labels,
            w,
            cache: ForwardCache::new(),
            ts: Vec::new(),
            nulls: Vec::new(),
            batch: Vec::new(),
            cond: Vec::new(),
        }
    }
}

impl VectorField for LearnedGuided<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        let n = xs.len();
        self.ts.clear();
        self.ts.resize(n, t);
        self.nulls.clear();
        self.nulls.resize(n, 0);
        // One label per particle (null beyond the given ones), in a buffer kept across calls.
        self.batch.clear();
        self.batch
            .extend((0..n).map(|i| self.labels.get(i).copied().unwrap_or(0)));
        self.mlp
            .forward_labelled(xs, &self.ts, Some(&self.batch), &mut self.cache);
        self.cond.clear();
        self.cond.extend_from_slice(self.cache.output());
        self.mlp
            .forward_labelled(xs, &self.ts, Some(&self.nulls), &mut self.cache);
        let w = self.w as f32;
        for ((o, u), c) in out
            .iter_mut()
            .zip(self.cache.output().chunks_exact(2))
            .zip(self.cond.chunks_exact(2))
        {
            *o = [
                f64::from((1.0 - w) * u[0] + w * c[0]),
                f64::from((1.0 - w) * u[1] + w * c[1]),
            ];
        }
    }

    fn path(&self) -> Option<GaussianPath> {
        Some(self.path)
    }
}

/// The share of `samples` whose nearest point of `data` has label `y` (`labels` one per data
/// point); NaN without samples or data.
pub fn fidelity(samples: &[Point], data: &[Point], labels: &[u8], y: u8) -> f64 {
    if samples.is_empty() || data.is_empty() {
        return f64::NAN;
    }
    let hits = samples
        .iter()
        .filter(|s| {
            let mut best = (f64::INFINITY, 0u8);
            for (p, &l) in data.iter().zip(labels) {
                let d = (p[0] - s[0]).powi(2) + (p[1] - s[1]).powi(2);
                if d < best.0 {
                    best = (d, l);
                }
            }
            best.1 == y
        })
        .count();
    hits as f64 / samples.len() as f64
}

/// Fidelity and spread of guided samples with their labels `labels` (one per sample): per
/// class, [`fidelity`] against the labelled data and [`spread`], averaged over the classes
/// weighted by their samples. NaN for no samples.
pub fn measure(samples: &[Point], labels: &[u8], data: &[Point], data_labels: &[u8]) -> (f64, f64) {
    let (mut fid, mut spr, mut n) = (0.0, 0.0, 0usize);
    for y in 1..=crate::data::MAX_CLASSES as u8 {
        let mine: Vec<Point> = samples
            .iter()
            .zip(labels)
            .filter(|(_, &l)| l == y)
            .map(|(p, _)| *p)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let k = mine.len() as f64;
        fid += k * fidelity(&mine, data, data_labels, y);
        spr += k * spread(&mine);
        n += mine.len();
    }
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    (fid / n as f64, spr / n as f64)
}

/// The labels of `n` particles sampling the classes `present` in turn (particle `i` is of
/// class `present[i mod len]`); empty when no class is present.
pub fn round_robin(present: &[u8], n: usize) -> Vec<u8> {
    if present.is_empty() {
        return Vec::new();
    }
    (0..n).map(|i| present[i % present.len()]).collect()
}

/// The RMS distance of `points` to their centroid, `sqrt(mean |x - xbar|^2)`; NaN when empty.
pub fn spread(points: &[Point]) -> f64 {
    if points.is_empty() {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let c = points
        .iter()
        .fold([0.0; 2], |a, p| [a[0] + p[0] / n, a[1] + p[1] / n]);
    (points
        .iter()
        .map(|p| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{sample_preset_labelled, Preset};
    use crate::mlp::MlpConfig;
    use crate::path::Schedule;
    use crate::rng;

    fn moons() -> (Vec<Point>, Vec<u8>) {
        sample_preset_labelled(Preset::TwoMoons, 300, &mut rng::seeded(5))
    }

    #[test]
    fn the_class_field_is_the_posterior_average_over_the_class_by_brute_force() {
        // u_t(x|y) = sum_i w_i u_t(x|z_i) over class y's points, w_i proportional to
        // N(x; alpha_t z_i, beta_t^2 I), written out here without the marginal module.
        let (pts, labels) = moons();
        let path = GaussianPath::new(Schedule::Linear);
        let m = ClassMarginals::new(&pts, &labels, 4, path);
        let s = Schedule::Linear;
        for (x, t) in [([0.3, -0.4], 0.3), ([1.5, 0.2], 0.7), ([-1.0, 1.0], 0.95)] {
            for y in [1u8, 2] {
                let (a, b) = (s.alpha(t), s.beta(t));
                let (ad, bd) = (s.alpha_dot(t), s.beta_dot(t));
                let mut logw = Vec::new();
                let mut us = Vec::new();
                for (z, _) in pts.iter().zip(&labels).filter(|(_, &l)| l == y) {
                    let d2 = (x[0] - a * z[0]).powi(2) + (x[1] - a * z[1]).powi(2);
                    logw.push(-d2 / (2.0 * b * b));
                    // u_t(x|z) = (alpha_dot - beta_dot alpha / beta) z + (beta_dot / beta) x
                    let k = ad - bd * a / b;
                    us.push([k * z[0] + bd / b * x[0], k * z[1] + bd / b * x[1]]);
                }
                let mx = logw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let ws: Vec<f64> = logw.iter().map(|l| (l - mx).exp()).collect();
                let total: f64 = ws.iter().sum();
                let want = us.iter().zip(&ws).fold([0.0; 2], |acc, (u, w)| {
                    [acc[0] + w * u[0] / total, acc[1] + w * u[1] / total]
                });
                let got = m.class(y).expect("class present").u_marg(x, t);
                for k in 0..2 {
                    assert!(
                        (got[k] - want[k]).abs() < 1e-9 * (1.0 + want[k].abs()),
                        "{x:?} {t} {y}: {got:?} vs {want:?}"
                    );
                }
            }
        }
        assert_eq!(m.present(), vec![1, 2]);
        // The one-pass pair equals the two marginals computed apart.
        for (x, t) in [([0.3, -0.4], 0.3), ([1.5, 0.2], 0.99), ([9.0, 9.0], 0.999)] {
            for y in [1u8, 2] {
                let (u, c) = m.u_and_class(x, t, y);
                let (u0, c0) = (m.all.u_marg(x, t), m.class(y).expect("class").u_marg(x, t));
                let c = c.expect("class field");
                for k in 0..2 {
                    assert!((u[k] - u0[k]).abs() < 1e-9 * (1.0 + u0[k].abs()));
                    assert!(
                        (c[k] - c0[k]).abs() < 1e-6 * (1.0 + c0[k].abs()),
                        "{x:?} {t} {y}: {c:?} vs {c0:?}"
                    );
                }
            }
        }
        assert!(m.class(3).is_none() && m.class(0).is_none());
    }

    #[test]
    fn guidance_zero_is_unconditional_and_one_is_conditional() {
        let (pts, labels) = moons();
        let m = ClassMarginals::new(&pts, &labels, 4, GaussianPath::new(Schedule::Linear));
        let xs = [[0.2, 0.1], [-1.3, 0.8], [0.9, -0.6]];
        let particle_labels = [1u8, 2, 1];
        let mut out = [[0.0; 2]; 3];
        for (w, want) in [(0.0, None), (1.0, Some(())), (2.5, Some(()))] {
            ExactGuided::new(&m, &particle_labels, w).velocity(0.6, &xs, &mut out);
            for (i, x) in xs.iter().enumerate() {
                let u = m.all.u_marg(*x, 0.6);
                let c = m.class(particle_labels[i]).expect("class").u_marg(*x, 0.6);
                let expect = match want {
                    None => u,
                    Some(()) => [(1.0 - w) * u[0] + w * c[0], (1.0 - w) * u[1] + w * c[1]],
                };
                // The class field is summed with a different centre than the class's own
                // marginal uses: equal up to rounding.
                assert!(
                    (out[i][0] - expect[0]).abs() < 1e-9 && (out[i][1] - expect[1]).abs() < 1e-9,
                    "w {w}: {:?} vs {expect:?}",
                    out[i]
                );
            }
        }
        // The null label and an empty class follow the unconditional field.
        ExactGuided::new(&m, &[0, 3, 0], 4.0).velocity(0.6, &xs, &mut out);
        for (x, o) in xs.iter().zip(&out) {
            assert_eq!(*o, m.all.u_marg(*x, 0.6));
        }
    }

    #[test]
    fn the_learned_guided_field_mixes_the_null_and_class_outputs() {
        let mlp = Mlp::new(
            MlpConfig {
                width: 8,
                depth: 2,
                time_features: 1,
                classes: 4,
            },
            &mut rng::seeded(2),
        );
        let path = GaussianPath::new(Schedule::Linear);
        let xs = [[0.2, 0.1], [-1.3, 0.8]];
        let labels = [2u8, 3];
        let mut out = [[0.0; 2]; 2];
        LearnedGuided::new(&mlp, path, &labels, 3.0).velocity(0.4, &xs, &mut out);
        let mut cache = ForwardCache::new();
        for (i, x) in xs.iter().enumerate() {
            let (mut u, mut c) = ([[0.0; 2]], [[0.0; 2]]);
            mlp.predict_labelled(&[*x], 0.4, 0, &mut u, &mut cache);
            mlp.predict_labelled(&[*x], 0.4, labels[i], &mut c, &mut cache);
            for k in 0..2 {
                let want = -2.0 * u[0][k] + 3.0 * c[0][k];
                assert!(
                    (out[i][k] - want).abs() < 1e-5,
                    "{i} {k}: {} vs {want}",
                    out[i][k]
                );
            }
        }
    }

    #[test]
    fn fidelity_and_spread_by_hand() {
        let data = [[0.0, 0.0], [10.0, 0.0]];
        let labels = [1u8, 2];
        let samples = [[1.0, 0.0], [9.0, 0.0], [2.0, 0.0], [4.0, 0.0]];
        assert_eq!(fidelity(&samples, &data, &labels, 1), 0.75);
        assert_eq!(fidelity(&samples, &data, &labels, 2), 0.25);
        assert!(fidelity(&[], &data, &labels, 1).is_nan());
        // Centroid (0, 0) of (+-1, 0), (0, +-1): every distance 1.
        assert_eq!(
            spread(&[[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]),
            1.0
        );
        assert!(spread(&[]).is_nan());
    }
}
