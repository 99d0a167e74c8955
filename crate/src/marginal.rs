//! The exact marginal of an empirical cloud `z_1 .. z_N` (uniform weights) under a Gaussian path.
//!
//! - Marginal path: `p_t(x) = (1/N) sum_i N(x; alpha_t z_i, beta_t^2 I)` (d = 2).
//! - Posterior weights: `w_i(x, t) = softmax_i(l_i)`, `l_i = -|x - alpha_t z_i|^2 / (2 beta_t^2)`,
//!   by log-sum-exp (shifted by the largest `l_i`, i.e. the nearest `alpha_t z_i`).
//! - Field: `u_t(x) = sum_i w_i u_t(x|z_i) = A_t zbar + B_t x`, `zbar = sum_i w_i z_i`.
//! - Score: `grad log p_t(x) = (alpha_t zbar - x) / beta_t^2`.
//! - Divergence: `div u_t(x) = 2 B_t + A_t (alpha_t / beta_t^2) (sum_i w_i |z_i|^2 - |zbar|^2)`
//!   (the posterior variance is accumulated relative to the nearest point, so it stays accurate
//!   when the weights are one-hot).
//! - Time derivative of the log density, with `r_i = x - alpha_t z_i`:
//!   `d/dt log p_t(x) = sum_i w_i (-2 beta_dot / beta + alpha_dot r_i . z_i / beta^2
//!   + beta_dot |r_i|^2 / beta^3)`.
//! - Continuity equation in log form: `d/dt log p + u . grad log p + div u = 0` for the exact pair.
//!
//! `t` is clamped to `[0, t_max]` everywhere, where `beta_t = BETA_MIN` (see [`crate::path`]).
//! Every evaluation is two tight passes over the points (nearest point, then exponentials and
//! sums) and allocates nothing. With no points, every field is zero and the log density is
//! `-inf`; nothing returns NaN for finite inputs, even at `t = 0`, at the clamp or far from
//! the cloud.

use crate::path::GaussianPath;
use crate::Point;

/// Log-weights (relative to the largest) below this are dropped: `exp(-60) < 1e-26`, so even
/// `10^6` dropped terms change the sums by less than rounding, and the slow underflowing `exp`
/// calls of a sharp posterior (t near 1) are skipped.
const LOG_CUTOFF: f64 = -60.0;

/// Everything the exact marginal offers at one `(x, t)`, from one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarginalEval {
    /// Marginal vector field `u_t(x)`.
    pub u: Point,
    /// Marginal score `grad log p_t(x)`.
    pub score: Point,
    /// `log p_t(x)`, Gaussian normaliser included.
    pub log_density: f64,
    /// `div u_t(x)`.
    pub divergence: f64,
    /// `d/dt log p_t(x)` at fixed `x`.
    pub dlogp_dt: f64,
    /// The Laplacian of the log density, `Lap log p_t(x) = div grad log p_t(x)
    /// = (alpha_t^2 / beta_t^4)(sum_i w_i |z_i|^2 - |zbar|^2) - 2 / beta_t^2`.
    pub lap_log_density: f64,
}

impl MarginalEval {
    const EMPTY: MarginalEval = MarginalEval {
        u: [0.0; 2],
        score: [0.0; 2],
        log_density: f64::NEG_INFINITY,
        divergence: 0.0,
        dlogp_dt: 0.0,
        lap_log_density: 0.0,
    };
}

/// The exact marginal path and field of an empirical point cloud.
#[derive(Clone, Debug, Default)]
pub struct EmpiricalMarginal {
    points: Vec<Point>,
    path: GaussianPath,
    mean: Point,
}

/// Per-time constants shared by all evaluations at one `t`.
struct TimeCoefs {
    alpha: f64,
    beta: f64,
    /// `1 / (2 beta^2)`
    k: f64,
    a: f64,
    b: f64,
}

impl EmpiricalMarginal {
    /// The marginal of `points` (uniform weights) under `path`.
    pub fn new(points: Vec<Point>, path: GaussianPath) -> Self {
        let mut m = EmpiricalMarginal {
            points: Vec::new(),
            path,
            mean: [0.0; 2],
        };
        m.set_points(points);
        m
    }

    /// The data points `z_i`.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The conditional path.
    pub fn path(&self) -> GaussianPath {
        self.path
    }

    /// Replaces the data points.
    pub fn set_points(&mut self, points: Vec<Point>) {
        let n = points.len().max(1) as f64;
        let s = points
            .iter()
            .fold([0.0, 0.0], |s, z| [s[0] + z[0], s[1] + z[1]]);
        self.mean = [s[0] / n, s[1] / n];
        self.points = points;
    }

    /// Replaces the conditional path.
    pub fn set_path(&mut self, path: GaussianPath) {
        self.path = path;
    }

    fn time(&self, t: f64) -> TimeCoefs {
        let t = self.path.schedule.clamp_t(t);
        let s = self.path.schedule;
        let (alpha, beta) = (s.alpha(t), s.beta(t));
        let (a, b) = self.path.coefficients(t);
        TimeCoefs {
            alpha,
            beta,
            k: 0.5 / (beta * beta),
            a,
            b,
        }
    }

    /// Pass 1: the smallest `|x - alpha z_i|^2` and its index.
    #[inline]
    fn nearest(&self, x: Point, alpha: f64) -> (f64, usize) {
        let mut dmin = f64::INFINITY;
        let mut imin = 0;
        for (i, z) in self.points.iter().enumerate() {
            let rx = x[0] - alpha * z[0];
            let ry = x[1] - alpha * z[1];
            let d2 = rx * rx + ry * ry;
            if d2 < dmin {
                dmin = d2;
                imin = i;
            }
        }
        (dmin, imin)
    }

    /// Posterior weights `w_i(x, t)` written to `out` (log-sum-exp; they sum to 1).
    ///
    /// # Panics
    /// If `out.len()` differs from the number of points.
    pub fn weights(&self, x: Point, t: f64, out: &mut [f64]) {
        assert_eq!(
            out.len(),
            self.points.len(),
            "weights: out has wrong length"
        );
        if self.points.is_empty() {
            return;
        }
        let tc = self.time(t);
        let (dmin, imin) = self.nearest(x, tc.alpha);
        if !dmin.is_finite() {
            out.fill(0.0);
            out[imin] = 1.0;
            return;
        }
        let mut s = 0.0;
        for (w, z) in out.iter_mut().zip(&self.points) {
            let rx = x[0] - tc.alpha * z[0];
            let ry = x[1] - tc.alpha * z[1];
            let l = -(rx * rx + ry * ry - dmin) * tc.k;
            let e = if l > LOG_CUTOFF { l.exp() } else { 0.0 };
            *w = e;
            s += e;
        }
        let inv = 1.0 / s;
        out.iter_mut().for_each(|w| *w *= inv);
    }

    /// Posterior mean `zbar(x, t) = sum_i w_i z_i` (two passes, no allocation).
    #[inline]
    fn posterior_mean(&self, x: Point, tc: &TimeCoefs) -> Point {
        let (dmin, imin) = self.nearest(x, tc.alpha);
        let c = self.points[imin];
        if !dmin.is_finite() {
            return c;
        }
        let (mut s, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for z in &self.points {
            let rx = x[0] - tc.alpha * z[0];
            let ry = x[1] - tc.alpha * z[1];
            let l = -(rx * rx + ry * ry - dmin) * tc.k;
            if l > LOG_CUTOFF {
                let e = l.exp();
                s += e;
                sx += e * (z[0] - c[0]);
                sy += e * (z[1] - c[1]);
            }
        }
        [c[0] + sx / s, c[1] + sy / s]
    }

    /// The posterior mean `zbar(x, t) = E[z | x_t = x] = sum_i w_i z_i` at every point of `xs`,
    /// written to `out` (the denoiser; `t` clamped to `[0, t_max]`; zero with no points).
    ///
    /// # Panics
    /// If `out.len() != xs.len()`.
    pub fn posterior_mean_batch(&self, xs: &[Point], t: f64, out: &mut [Point]) {
        assert_eq!(out.len(), xs.len(), "posterior_mean_batch: wrong length");
        if self.points.is_empty() {
            out.fill([0.0; 2]);
            return;
        }
        let tc = self.time(t);
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.posterior_mean(x, &tc);
        }
    }

    /// `n` samples of `p_t`: `x = alpha_t z + beta_t eps` with `z` uniform over the points and
    /// `eps ~ N(0, I)`, at `t` clamped to `[0, t_max]` (where the fields are evaluated); empty
    /// with no points.
    pub fn sample(&self, t: f64, n: usize, rng: &mut crate::rng::SeededRng) -> Vec<Point> {
        if self.points.is_empty() {
            return Vec::new();
        }
        let t = self.path.schedule.clamp_t(t);
        (0..n)
            .map(|_| {
                let z = self.points[crate::rng::index(rng, self.points.len())];
                self.path.sample(z, t, crate::rng::normal_pair(rng))
            })
            .collect()
    }

    /// Exact marginal field `u_t(x) = A_t zbar + B_t x`.
    pub fn u_marg(&self, x: Point, t: f64) -> Point {
        if self.points.is_empty() {
            return [0.0; 2];
        }
        let tc = self.time(t);
        let zbar = self.posterior_mean(x, &tc);
        [tc.a * zbar[0] + tc.b * x[0], tc.a * zbar[1] + tc.b * x[1]]
    }

    /// The exact field of all the points and of the subset `labels[i] == y`, at `x`, in one
    /// pass over the points (the kernel of a point is the same in both; each sum is normalised
    /// by its own total): `(u_t(x), Some(u_t(x|y)))`, or `None` for the subset when it has no
    /// point or its weights underflow next to the nearest point of all (far from the class:
    /// compute it from the class's own marginal then).
    pub fn u_marg_and_subset(
        &self,
        x: Point,
        t: f64,
        labels: &[u8],
        y: u8,
    ) -> (Point, Option<Point>) {
        if self.points.is_empty() {
            return ([0.0; 2], None);
        }
        let tc = self.time(t);
        let (dmin, imin) = self.nearest(x, tc.alpha);
        let c = self.points[imin];
        if !dmin.is_finite() {
            return ([tc.a * c[0] + tc.b * x[0], tc.a * c[1] + tc.b * x[1]], None);
        }
        let (mut s, mut sx, mut sy) = (0.0, 0.0, 0.0);
        let (mut s_y, mut sx_y, mut sy_y) = (0.0, 0.0, 0.0);
        for (z, &l) in self.points.iter().zip(labels) {
            let rx = x[0] - tc.alpha * z[0];
            let ry = x[1] - tc.alpha * z[1];
            let e = -(rx * rx + ry * ry - dmin) * tc.k;
            if e > LOG_CUTOFF {
                let e = e.exp();
                let (dx, dy) = (e * (z[0] - c[0]), e * (z[1] - c[1]));
                s += e;
                sx += dx;
                sy += dy;
                if l == y {
                    s_y += e;
                    sx_y += dx;
                    sy_y += dy;
                }
            }
        }
        let u = |zx: f64, zy: f64| [tc.a * zx + tc.b * x[0], tc.a * zy + tc.b * x[1]];
        let all = u(c[0] + sx / s, c[1] + sy / s);
        // A subset weight sum far below the total's (1e-12) has lost its precision: say so.
        let subset = (s_y > 1e-12 * s).then(|| u(c[0] + sx_y / s_y, c[1] + sy_y / s_y));
        (all, subset)
    }

    /// [`EmpiricalMarginal::u_marg`] at every point of `xs`, written to `out`.
    ///
    /// # Panics
    /// If `out.len() != xs.len()`.
    pub fn u_marg_batch(&self, xs: &[Point], t: f64, out: &mut [Point]) {
        assert_eq!(out.len(), xs.len(), "u_marg_batch: out has wrong length");
        if self.points.is_empty() {
            out.fill([0.0; 2]);
            return;
        }
        let tc = self.time(t);
        for (o, &x) in out.iter_mut().zip(xs) {
            let zbar = self.posterior_mean(x, &tc);
            *o = [tc.a * zbar[0] + tc.b * x[0], tc.a * zbar[1] + tc.b * x[1]];
        }
    }

    /// Field, score, log density, divergence and `d/dt log p` at `(x, t)`, in two passes.
    pub fn eval(&self, x: Point, t: f64) -> MarginalEval {
        if self.points.is_empty() {
            return MarginalEval::EMPTY;
        }
        let tc = self.time(t);
        let sch = self.path.schedule;
        let tt = sch.clamp_t(t);
        let (ad, bd) = (sch.alpha_dot(tt), sch.beta_dot(tt));
        let (al, be) = (tc.alpha, tc.beta);
        let (dmin, imin) = self.nearest(x, al);
        let c = self.points[imin];
        // Weighted sums, shifted by the nearest point c: dz_i = z_i - c.
        let (mut s, mut sdx, mut sdy, mut sdzz, mut sd2, mut srdz) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        if dmin.is_finite() {
            for z in &self.points {
                let rx = x[0] - al * z[0];
                let ry = x[1] - al * z[1];
                let d2 = rx * rx + ry * ry;
                let l = -(d2 - dmin) * tc.k;
                if l <= LOG_CUTOFF {
                    continue;
                }
                let e = l.exp();
                let (dzx, dzy) = (z[0] - c[0], z[1] - c[1]);
                s += e;
                sdx += e * dzx;
                sdy += e * dzy;
                sdzz += e * (dzx * dzx + dzy * dzy);
                sd2 += e * d2;
                srdz += e * (rx * dzx + ry * dzy);
            }
        } else {
            // Astronomically far away: all mass on the nearest point.
            s = 1.0;
            sd2 = dmin;
        }
        let inv = 1.0 / s;
        let mdz = [sdx * inv, sdy * inv];
        let zbar = [c[0] + mdz[0], c[1] + mdz[1]];
        let var = (sdzz * inv - (mdz[0] * mdz[0] + mdz[1] * mdz[1])).max(0.0);
        let inv_b2 = 1.0 / (be * be);
        // sum_i w_i r_i . z_i = (sum_i w_i r_i) . c + sum_i w_i r_i . dz_i, sum_i w_i r_i = x - al zbar
        let rbar = [x[0] - al * zbar[0], x[1] - al * zbar[1]];
        let rz = rbar[0] * c[0] + rbar[1] * c[1] + srdz * inv;
        let r2 = sd2 * inv;
        let n = self.points.len() as f64;
        MarginalEval {
            u: [tc.a * zbar[0] + tc.b * x[0], tc.a * zbar[1] + tc.b * x[1]],
            score: [-rbar[0] * inv_b2, -rbar[1] * inv_b2],
            log_density: -dmin * tc.k + s.ln()
                - n.ln()
                - (2.0 * std::f64::consts::PI).ln()
                - 2.0 * be.ln(),
            divergence: 2.0 * tc.b + tc.a * al * inv_b2 * var,
            dlogp_dt: -2.0 * bd / be + ad * rz * inv_b2 + bd * r2 * inv_b2 / be,
            lap_log_density: al * al * inv_b2 * inv_b2 * var - 2.0 * inv_b2,
        }
    }

    /// Residual of the continuity equation in log form for the exact pair,
    /// `d/dt log p + u . grad log p + div u` (about 0 up to rounding).
    pub fn continuity_residual(&self, x: Point, t: f64) -> f64 {
        let e = self.eval(x, t);
        e.dlogp_dt + e.u[0] * e.score[0] + e.u[1] * e.score[1] + e.divergence
    }

    /// The probability that the first coordinate of `x ~ p_t` falls in `[a, b]`:
    /// `(1/N) sum_i [Phi((b - alpha_t z_i1) / beta_t) - Phi((a - alpha_t z_i1) / beta_t)]`
    /// (`t` clamped to `[0, t_max]`; 0 with no points). Divided by `b - a` it is what a
    /// histogram bin of exact samples estimates, however narrow `p_t` is (near `t = 1` the
    /// density at a bin's centre would be a spike or zero).
    pub fn mass_first_coordinate(&self, a: f64, b: f64, t: f64) -> f64 {
        if self.points.is_empty() {
            return 0.0;
        }
        let tc = self.time(t);
        let sum: f64 = self
            .points
            .iter()
            .map(|z| {
                let m = tc.alpha * z[0];
                normal_cdf((b - m) / tc.beta) - normal_cdf((a - m) / tc.beta)
            })
            .sum();
        sum / self.points.len() as f64
    }

    /// The density of the first coordinate of `x ~ p_t`, at `x1`: the mixture
    /// `(1/N) sum_i N(x1; alpha_t z_i1, beta_t^2)` (a marginal of `p_t`, for histograms; `t`
    /// clamped to `[0, t_max]`; 0 with no points).
    pub fn density_first_coordinate(&self, x1: f64, t: f64) -> f64 {
        if self.points.is_empty() {
            return 0.0;
        }
        let tc = self.time(t);
        let norm = 1.0 / ((2.0 * std::f64::consts::PI).sqrt() * tc.beta);
        let sum: f64 = self
            .points
            .iter()
            .map(|z| {
                let r = x1 - tc.alpha * z[0];
                (-r * r * tc.k).exp()
            })
            .sum();
        norm * sum / self.points.len() as f64
    }

    /// A wrong field for contrast: uniform instead of posterior weights,
    /// `u(x) = A_t mean(z) + B_t x` (zero with no points).
    pub fn u_uniform(&self, x: Point, t: f64) -> Point {
        if self.points.is_empty() {
            return [0.0; 2];
        }
        let (a, b) = self.path.coefficients(t);
        [a * self.mean[0] + b * x[0], a * self.mean[1] + b * x[1]]
    }

    /// Continuity residual of the true `p_t` with the uniform-weight field
    /// [`EmpiricalMarginal::u_uniform`] (divergence `2 B_t`): clearly nonzero for a cloud of
    /// more than one point.
    pub fn uniform_continuity_residual(&self, x: Point, t: f64) -> f64 {
        if self.points.is_empty() {
            return 0.0;
        }
        let e = self.eval(x, t);
        let u = self.u_uniform(x, t);
        let (_, b) = self.path.coefficients(t);
        e.dlogp_dt + u[0] * e.score[0] + u[1] * e.score[1] + 2.0 * b
    }
}

/// The standard normal distribution function `Phi(z) = erfc(-z / sqrt 2) / 2`, with the
/// complementary error function of Numerical Recipes' `erfcc` (a Chebyshev fit; fractional
/// error below 1.2e-7 everywhere).
pub fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * (-a * a + poly).exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

#[cfg(test)]
mod tests;
