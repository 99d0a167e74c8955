//! Gaussian conditional probability paths `p_t(x|z) = N(alpha_t z, beta_t^2 I)`.
//!
//! Schedules `(alpha_t, beta_t)` with `alpha_0 = 0, alpha_1 = 1, beta_0 = 1, beta_1 = 0`:
//! - [`Schedule::Linear`] ("CondOT"): `(t, 1 - t)`
//! - [`Schedule::Cosine`]: `(sin(pi t / 2), cos(pi t / 2))`
//! - [`Schedule::Sqrt`] (MIT 6.S184 lab): `(t, sqrt(1 - t))`
//!
//! Conditional field and score, with `A_t = alpha_dot - (beta_dot / beta) alpha` and
//! `B_t = beta_dot / beta`:
//! - `u_t(x|z) = A_t z + B_t x` (for the linear schedule, `(z - x) / (1 - t)`),
//! - `grad log p_t(x|z) = -(x - alpha_t z) / beta_t^2`.
//!
//! Conventions: the [`Schedule`] functions are exact and take `t` clamped to `[0, 1]`
//! (`beta_dot` of the sqrt schedule is `-inf` at `t = 1`). Wherever `1 / beta_t` appears
//! (`A_t`, `B_t`, [`GaussianPath::u_cond`], the scores and weights of [`crate::marginal`]), `t` is
//! clamped to `[0, t_max]` ([`Schedule::clamp_t`]), so nothing returns NaN or infinity.
//!
//! ## The clamp: one noise level for every schedule
//! The clamp is a noise level, not a time: `beta_t >= BETA_MIN` ([`BETA_MIN`] `= 1e-3`), so each
//! schedule has its own `t_max` with `beta(t_max) = BETA_MIN` ([`Schedule::t_max`], closed form:
//! linear `1 - BETA_MIN = 0.999`, cosine `(2 / pi) acos(BETA_MIN) = 0.9993634`, square-root
//! `1 - BETA_MIN^2 = 0.999999`). A fixed `t <= 0.999` left the square-root schedule at
//! `beta = 0.032`, more than the median nearest-neighbour spacing of a 1,000-point two moons
//! (0.027), so its posterior at the last time was still a blend of neighbours.
//!
//! Why `1e-3`: near the data, `x = alpha z_i + beta eps`, the posterior weight of a neighbour
//! `z_j` at distance `d` relative to `z_i` is about `exp(-r^2 / 2 + r eps_par)` with
//! `r = d / beta`, below `1e-2` for `|eps_par| <= 1` once `r > 4.2`. The densest preset cloud
//! the page allows, 5,000 points of 8 Gaussians, has a median nearest-neighbour spacing of
//! 0.010 (two moons: 0.012; at 1,000 points 0.021 to 0.037), so `beta = 1e-3` gives `r >= 10`
//! for half the points of any preset: one-hot with a wide margin (measured on 1,000 moons
//! points, seed 1: median largest weight 1.000000 at the clamp for every schedule, where
//! `t <= 0.999` left the square-root schedule at 0.33; `tests/clamp.rs`). A
//! smaller value buys nothing visible (the particles are then within `beta |eps|`, about
//! `1e-3`, of their data point: a hundredth of a spacing) and makes the conditional targets of
//! the square-root schedule, `beta_dot = -1 / (2 beta)`, larger still.

use crate::Point;
use std::f64::consts::FRAC_PI_2;

/// The smallest noise level used wherever `1 / beta_t` appears: `t` is clamped to
/// [`Schedule::t_max`], where `beta_t = BETA_MIN` (see the module docs for the choice).
pub const BETA_MIN: f64 = 1e-3;

/// The interpolation schedule `(alpha_t, beta_t)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Schedule {
    /// `(t, 1 - t)`, the conditional optimal-transport ("CondOT") path.
    #[default]
    Linear,
    /// `(sin(pi t / 2), cos(pi t / 2))`.
    Cosine,
    /// `(t, sqrt(1 - t))`.
    Sqrt,
}

fn clamp01(t: f64) -> f64 {
    // NaN maps to 0 so a bad input cannot poison the caller.
    if t.is_nan() {
        0.0
    } else {
        t.clamp(0.0, 1.0)
    }
}

impl Schedule {
    /// All schedules, in UI order.
    pub const ALL: [Schedule; 3] = [Schedule::Linear, Schedule::Cosine, Schedule::Sqrt];

    /// Short stable name: `"linear"`, `"cosine"` or `"sqrt"`.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Linear => "linear",
            Schedule::Cosine => "cosine",
            Schedule::Sqrt => "sqrt",
        }
    }

    /// Inverse of [`Schedule::name`].
    pub fn parse(s: &str) -> Option<Schedule> {
        Schedule::ALL.into_iter().find(|sch| sch.name() == s)
    }

    /// Human-readable label for the UI: `"linear (CondOT)"`, `"cosine"` or `"square-root"`.
    pub fn label(self) -> &'static str {
        match self {
            Schedule::Linear => "linear (CondOT)",
            Schedule::Cosine => "cosine",
            Schedule::Sqrt => "square-root",
        }
    }

    /// The time where `beta_t` falls to `beta` (`beta` clamped to `[0, 1]`; the inverse of
    /// [`Schedule::beta`], closed form): linear `1 - beta`, cosine `(2 / pi) acos(beta)`,
    /// square-root `1 - beta^2`.
    pub fn t_of_beta(self, beta: f64) -> f64 {
        let b = clamp01(beta);
        match self {
            Schedule::Linear => 1.0 - b,
            Schedule::Cosine => b.acos() / FRAC_PI_2,
            Schedule::Sqrt => 1.0 - b * b,
        }
    }

    /// The clamp: the time where `beta_t = BETA_MIN` ([`BETA_MIN`]); `t = 1` is evaluated
    /// there wherever `1 / beta_t` appears. Linear 0.999, cosine 0.99936338, square-root
    /// 0.999999.
    pub fn t_max(self) -> f64 {
        self.t_of_beta(BETA_MIN)
    }

    /// `t` clamped to `[0, t_max]` ([`Schedule::t_max`]; NaN maps to 0).
    pub fn clamp_t(self, t: f64) -> f64 {
        if t.is_nan() {
            0.0
        } else {
            t.clamp(0.0, self.t_max())
        }
    }

    /// `alpha_t`, with `t` clamped to `[0, 1]`.
    pub fn alpha(self, t: f64) -> f64 {
        let t = clamp01(t);
        match self {
            Schedule::Linear | Schedule::Sqrt => t,
            Schedule::Cosine => (FRAC_PI_2 * t).sin(),
        }
    }

    /// `beta_t`, with `t` clamped to `[0, 1]`.
    pub fn beta(self, t: f64) -> f64 {
        let t = clamp01(t);
        match self {
            Schedule::Linear => 1.0 - t,
            Schedule::Cosine => (FRAC_PI_2 * t).cos().max(0.0),
            Schedule::Sqrt => (1.0 - t).sqrt(),
        }
    }

    /// `d alpha_t / dt`, with `t` clamped to `[0, 1]`.
    pub fn alpha_dot(self, t: f64) -> f64 {
        let t = clamp01(t);
        match self {
            Schedule::Linear | Schedule::Sqrt => 1.0,
            Schedule::Cosine => FRAC_PI_2 * (FRAC_PI_2 * t).cos(),
        }
    }

    /// `d beta_t / dt`, with `t` clamped to `[0, 1]` (`-inf` for the sqrt schedule at `t = 1`).
    pub fn beta_dot(self, t: f64) -> f64 {
        let t = clamp01(t);
        match self {
            Schedule::Linear => -1.0,
            Schedule::Cosine => -FRAC_PI_2 * (FRAC_PI_2 * t).sin(),
            Schedule::Sqrt => -0.5 / (1.0 - t).sqrt(),
        }
    }
}

/// A Gaussian conditional path with a given schedule.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct GaussianPath {
    /// The schedule `(alpha_t, beta_t)`.
    pub schedule: Schedule,
}

impl GaussianPath {
    /// The path with schedule `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        GaussianPath { schedule }
    }

    /// `(A_t, B_t) = (alpha_dot - (beta_dot / beta) alpha, beta_dot / beta)`, `t` clamped to
    /// `[0, t_max]`.
    pub(crate) fn coefficients(&self, t: f64) -> (f64, f64) {
        let t = self.schedule.clamp_t(t);
        let s = self.schedule;
        let b = s.beta_dot(t) / s.beta(t);
        (s.alpha_dot(t) - b * s.alpha(t), b)
    }

    /// A sample of `p_t(.|z)`: `alpha_t z + beta_t eps` (`t` clamped to `[0, 1]`).
    pub fn sample(&self, z: Point, t: f64, eps: Point) -> Point {
        let (a, b) = (self.schedule.alpha(t), self.schedule.beta(t));
        [a * z[0] + b * eps[0], a * z[1] + b * eps[1]]
    }

    /// The score of a Gaussian-path field: for any field of the form `A_t zbar + B_t x`
    /// (marginal, conditional or learned), `grad log p_t(x) = (alpha_t u - alpha_dot_t x) /
    /// (beta_t^2 alpha_dot_t - beta_dot_t beta_t alpha_t)`, `t` clamped to `[0, t_max]`. The
    /// denominator is `beta_t^2 (alpha_dot_t - alpha_t B_t) > 0` for every schedule (at `t = 0`
    /// it is `alpha_dot_0`, where the score is `-x`), so the result is finite up to the clamp.
    pub fn score_from_velocity(&self, u: Point, x: Point, t: f64) -> Point {
        let s = self.schedule;
        let t = s.clamp_t(t);
        let (al, be, ad, bd) = (s.alpha(t), s.beta(t), s.alpha_dot(t), s.beta_dot(t));
        let inv = 1.0 / (be * be * ad - bd * be * al);
        [(al * u[0] - ad * x[0]) * inv, (al * u[1] - ad * x[1]) * inv]
    }

    /// Conditional vector field `u_t(x|z) = A_t z + B_t x`, `t` clamped to `[0, t_max]`.
    pub fn u_cond(&self, x: Point, z: Point, t: f64) -> Point {
        let (a, b) = self.coefficients(t);
        [a * z[0] + b * x[0], a * z[1] + b * x[1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{normal_pair, seeded};

    const TS: [f64; 7] = [0.0, 1e-6, 0.1, 0.37, 0.5, 0.9, 0.998];

    #[test]
    fn boundary_values() {
        for s in Schedule::ALL {
            assert_eq!(s.alpha(0.0), 0.0, "{s:?}");
            assert!((s.alpha(1.0) - 1.0).abs() < 1e-15, "{s:?}");
            assert_eq!(s.beta(0.0), 1.0, "{s:?}");
            assert!(s.beta(1.0).abs() < 1e-15, "{s:?}");
            // clamping outside [0, 1]
            assert_eq!(s.alpha(-1.0), s.alpha(0.0));
            assert_eq!(s.beta(2.0), s.beta(1.0));
        }
    }

    #[test]
    fn the_clamp_is_one_noise_level() {
        // beta(t_max) = BETA_MIN for every schedule, and the documented times.
        for (s, t_max) in [
            (Schedule::Linear, 0.999),
            (Schedule::Cosine, 0.999_363_380_2),
            (Schedule::Sqrt, 0.999_999),
        ] {
            assert!((s.t_max() - t_max).abs() < 1e-10, "{s:?}: {}", s.t_max());
            assert!((s.beta(s.t_max()) - BETA_MIN).abs() < 1e-12, "{s:?}");
            assert_eq!(s.clamp_t(1.0), s.t_max());
            assert_eq!(s.clamp_t(2.0), s.t_max());
            assert_eq!(s.clamp_t(-1.0), 0.0);
            assert_eq!(s.clamp_t(f64::NAN), 0.0);
            assert_eq!(s.clamp_t(0.5), 0.5);
            // t_of_beta inverts beta
            for t in [0.0, 0.1, 0.5, 0.9, 0.999] {
                assert!((s.t_of_beta(s.beta(t)) - t).abs() < 1e-9, "{s:?} t={t}");
            }
            assert_eq!(s.t_of_beta(1.0), 0.0);
            assert!((s.t_of_beta(0.0) - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn names_roundtrip() {
        for s in Schedule::ALL {
            assert_eq!(Schedule::parse(s.name()), Some(s));
            assert!(!s.label().is_empty());
        }
        assert_eq!(Schedule::parse("nope"), None);
        assert_eq!(Schedule::default(), Schedule::Linear);
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for s in Schedule::ALL {
            for t in [0.01, 0.2, 0.5, 0.8, 0.99] {
                let h = 1e-6;
                let fa = (s.alpha(t + h) - s.alpha(t - h)) / (2.0 * h);
                let fb = (s.beta(t + h) - s.beta(t - h)) / (2.0 * h);
                assert!((fa - s.alpha_dot(t)).abs() < 1e-6, "{s:?} t={t}");
                assert!(
                    (fb - s.beta_dot(t)).abs() < 1e-5 * (1.0 + fb.abs()),
                    "{s:?} t={t}"
                );
            }
        }
    }

    #[test]
    fn closed_form_coefficients() {
        // Hand-derived A_t, B_t for each schedule.
        for t in [0.0, 0.3, 0.9] {
            let (a, b) = GaussianPath::new(Schedule::Linear).coefficients(t);
            assert!((a - 1.0 / (1.0 - t)).abs() < 1e-12 && (b + 1.0 / (1.0 - t)).abs() < 1e-12);
            let (a, b) = GaussianPath::new(Schedule::Cosine).coefficients(t);
            let th = FRAC_PI_2 * t;
            assert!((a - FRAC_PI_2 / th.cos()).abs() < 1e-12);
            assert!((b + FRAC_PI_2 * th.tan()).abs() < 1e-12);
            let (a, b) = GaussianPath::new(Schedule::Sqrt).coefficients(t);
            assert!((a - (1.0 + t / (2.0 * (1.0 - t)))).abs() < 1e-12);
            assert!((b + 0.5 / (1.0 - t)).abs() < 1e-12);
        }
        // clamped at t_max: finite
        for s in Schedule::ALL {
            let p = GaussianPath::new(s);
            assert_eq!(p.coefficients(1.0), p.coefficients(s.t_max()));
            assert_eq!(p.coefficients(f64::NAN), p.coefficients(0.0));
            let (a, b) = p.coefficients(1.0);
            assert!(a.is_finite() && b.is_finite());
        }
    }

    #[test]
    fn u_cond_is_time_derivative_of_the_sample() {
        let mut rng = seeded(11);
        for s in Schedule::ALL {
            let p = GaussianPath::new(s);
            for _ in 0..5 {
                let z = normal_pair(&mut rng);
                let eps = normal_pair(&mut rng);
                for t in TS {
                    let x = p.sample(z, t, eps);
                    let u = p.u_cond(x, z, t);
                    // analytic d/dt (alpha_t z + beta_t eps)
                    let (ad, bd) = (s.alpha_dot(t), s.beta_dot(t));
                    let exact = [ad * z[0] + bd * eps[0], ad * z[1] + bd * eps[1]];
                    // central (one-sided at t = 0) finite difference of the sample
                    let h = 1e-7;
                    let (lo, hi) = if t < h { (t, t + h) } else { (t - h, t + h) };
                    let xa = p.sample(z, lo, eps);
                    let xb = p.sample(z, hi, eps);
                    for k in 0..2 {
                        let scale = 1.0 + exact[k].abs();
                        assert!(
                            (u[k] - exact[k]).abs() < 1e-9 * scale * (1.0 + 1.0 / s.beta(t)),
                            "{s:?} t={t} u={u:?} exact={exact:?}"
                        );
                        let fd = (xb[k] - xa[k]) / (hi - lo);
                        let tol = if t < h { 1e-5 } else { 1e-5 * scale };
                        assert!(
                            (u[k] - fd).abs() < tol * 10.0,
                            "{s:?} t={t} fd={fd} u={}",
                            u[k]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn linear_u_cond_closed_form() {
        let p = GaussianPath::new(Schedule::Linear);
        let (x, z, t) = ([0.3, -1.2], [1.5, 0.25], 0.6);
        let u = p.u_cond(x, z, t);
        assert!((u[0] - (z[0] - x[0]) / 0.4).abs() < 1e-12);
        assert!((u[1] - (z[1] - x[1]) / 0.4).abs() < 1e-12);
    }
}
