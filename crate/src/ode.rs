//! ODE solvers for `dx/dt = u_t(x)` on a buffer of particles.
//!
//! With step `h = (t1 - t0) / steps` and `t_k = t0 + k h`:
//! - Euler: `x += h u(t, x)` (order 1)
//! - midpoint: `x += h u(t + h/2, x + (h/2) u(t, x))` (order 2)
//! - RK4: `k1 = u(t, x)`, `k2 = u(t + h/2, x + (h/2) k1)`, `k3 = u(t + h/2, x + (h/2) k2)`,
//!   `k4 = u(t + h, x + h k3)`, `x += (h/6)(k1 + 2 k2 + 2 k3 + k4)` (order 4)
//!
//! - closed-form step ([`Solver::PosteriorStep`], one evaluation): `zbar` frozen over the step,
//!   `x' = alpha_t' zbar + (beta_t' / beta_t)(x - alpha_t zbar)`.
//!
//! ## The time grid
//! Every flow (the page's, the command line's) runs on [`time_grid`]: `steps + 1` times from 0
//! to the clamp `t_max` (where `beta = BETA_MIN`, [`crate::path`]), uniform in
//! `s(t) = t + ln(beta_t) / ln(BETA_MIN)`, which runs from 0 to `1 + t_max`: about half the
//! steps are spread evenly in `t`, half evenly in `ln beta`, so the steps shrink with `beta`
//! near the data, where the exact field `u = A zbar + B x` has `|B| = |beta_dot| / beta` up to
//! `1 / BETA_MIN`. A uniform grid in `t` ends with `h |B| = (1 / steps) / BETA_MIN` (20 at 50
//! steps for the linear schedule, 10^4 for the square-root one): RK4's last stage then lands
//! far off (square-root schedule: no particle within 0.01 of a data point at 50 steps, against
//! 100 % on this grid; the table is printed by `tests/flows.rs`). Chosen by measurement (two
//! moons, 1,000 points, 2,000 particles; share within 0.01 of a data point and W2 to the data)
//! among: uniform in `t` (at 50 steps 9-49 % for Euler, RK4 0-39 %); `t = t_max (1 - (1 -
//! k/N)^2)` (sqrt at 50 steps: RK4 5 %); uniform in `ln beta` (lands, but too coarse early: W2
//! 0.30-0.58 for Euler at 10 steps against 0.17-0.31 here); `beta` polynomial in `k/N`
//! (RK4 on sqrt at 10 steps 39 % for a square); and this blend with 1/4 to 4 times the weight on
//! `ln beta` (less lands fewer particles at 10 steps, more makes W2 worse).
//!
//! A [`VectorField`] evaluates a whole particle buffer at one time `t` (one call per stage).
//! The integrator clamps nothing: the fields clamp `t` themselves where `1 / beta_t` appears
//! (at [`crate::path::Schedule::t_max`]), so no evaluation returns NaN or infinity; but only
//! [`time_grid`] keeps the steps small where the exact field is stiff.
//! [`Integrator`] owns its stage buffers and reuses them: no allocation per step once they have
//! grown to the particle count.

use crate::marginal::EmpiricalMarginal;
use crate::path::{GaussianPath, Schedule, BETA_MIN};
use crate::Point;

/// The time grid of every flow: `steps + 1` increasing times from `0` to the clamp
/// `schedule.t_max()`, uniform in `s(t) = t + ln(beta_t) / ln(BETA_MIN)` (see the module docs;
/// each time by bisection, 60 halvings). `steps == 0` gives `[0]`.
pub fn time_grid(schedule: Schedule, steps: usize) -> Vec<f64> {
    let t_max = schedule.t_max();
    let scale = 1.0 / BETA_MIN.ln();
    let s = |t: f64| t + schedule.beta(t).ln() * scale;
    let s_max = s(t_max);
    let mut times = Vec::with_capacity(steps + 1);
    times.push(0.0);
    for k in 1..steps {
        let target = s_max * k as f64 / steps as f64;
        let (mut lo, mut hi) = (0.0, t_max);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if s(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        times.push(0.5 * (lo + hi));
    }
    if steps > 0 {
        times.push(t_max);
    }
    times
}

/// A time-dependent vector field `u_t(x)` on the plane.
pub trait VectorField {
    /// Writes `u_t(xs[i])` to `out[i]` for every particle (`out.len() == xs.len()`).
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]);

    /// The Gaussian path the field transports along, if it is of the form
    /// `u_t(x) = A_t zbar(x) + B_t x` for that path (the exact, conditional, uniform-weight and
    /// learned fields are; a generic test field is not). Needed by [`Solver::PosteriorStep`].
    fn path(&self) -> Option<GaussianPath> {
        None
    }

    /// The posterior mean `zbar(x) = E[z | x_t = x]` at every particle, written to `out`. The
    /// default inverts the field, `zbar = (u - B_t x) / A_t` (`A_t >= alpha_dot_0 > 0` for every
    /// schedule), from [`VectorField::path`]; a field that knows `zbar` directly overrides it.
    /// Fields without a path write the velocity (never called for them by the integrator).
    fn posterior_mean(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        self.velocity(t, xs, out);
        if let Some(path) = self.path() {
            let (a, b) = path.coefficients(t);
            for (o, x) in out.iter_mut().zip(xs) {
                *o = [(o[0] - b * x[0]) / a, (o[1] - b * x[1]) / a];
            }
        }
    }
}

/// One-step method for the ODE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Solver {
    /// Forward Euler, order 1, one field evaluation per step.
    Euler,
    /// Explicit midpoint, order 2, two evaluations per step.
    Midpoint,
    /// Classical Runge-Kutta, order 4, four evaluations per step.
    #[default]
    Rk4,
    /// The closed-form step of a Gaussian-path field (one evaluation per step): holding the
    /// posterior mean `zbar` of the step's start fixed over `[t, t']`, the field
    /// `A zbar + B x` is linear in `x` and its flow is the conditional path of the point `zbar`,
    /// `x' = alpha_t' zbar + (beta_t' / beta_t)(x - alpha_t zbar)` (times clamped to `t_max`).
    /// Exact for the conditional and uniform-weight fields, whose `zbar` does not move; for the
    /// exact marginal field only `zbar` is frozen, so no stiffness near `t = 1` (it lands the
    /// particles on the data); for the learned field `zbar` comes from inverting the network's
    /// output (the DDIM update). A field without a path ([`VectorField::path`]) takes an Euler
    /// step instead.
    PosteriorStep,
}

impl Solver {
    /// All solvers, in UI order.
    pub const ALL: [Solver; 4] = [
        Solver::Euler,
        Solver::Midpoint,
        Solver::Rk4,
        Solver::PosteriorStep,
    ];

    /// Short stable name: `"euler"`, `"midpoint"`, `"rk4"` or `"exact-step"`.
    pub fn name(self) -> &'static str {
        match self {
            Solver::Euler => "euler",
            Solver::Midpoint => "midpoint",
            Solver::Rk4 => "rk4",
            Solver::PosteriorStep => "exact-step",
        }
    }

    /// Inverse of [`Solver::name`].
    pub fn parse(s: &str) -> Option<Solver> {
        Solver::ALL.into_iter().find(|v| v.name() == s)
    }

    /// Human-readable label for the UI: `"Euler"`, `"midpoint"`, `"RK4"` or
    /// `"closed-form step"`.
    pub fn label(self) -> &'static str {
        match self {
            Solver::Euler => "Euler",
            Solver::Midpoint => "midpoint",
            Solver::Rk4 => "RK4",
            Solver::PosteriorStep => "closed-form step",
        }
    }
}

/// The conditional field `u_t(x|z)` of one data point `z`; its flow from `eps` is
/// `x_t = alpha_t z + beta_t eps`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConditionalField {
    /// The conditional path.
    pub path: GaussianPath,
    /// The data point `z`.
    pub z: Point,
}

impl VectorField for ConditionalField {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        for (o, &x) in out.iter_mut().zip(xs) {
            *o = self.path.u_cond(x, self.z, t);
        }
    }

    fn path(&self) -> Option<GaussianPath> {
        Some(self.path)
    }

    fn posterior_mean(&mut self, _t: f64, _xs: &[Point], out: &mut [Point]) {
        out.fill(self.z);
    }
}

/// The exact marginal field `u_t(x)` of an empirical cloud.
#[derive(Clone, Copy, Debug)]
pub struct MarginalField<'a> {
    /// The marginal to follow.
    pub marginal: &'a EmpiricalMarginal,
}

impl VectorField for MarginalField<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        self.marginal.u_marg_batch(xs, t, out);
    }

    fn path(&self) -> Option<GaussianPath> {
        Some(self.marginal.path())
    }

    fn posterior_mean(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        self.marginal.posterior_mean_batch(xs, t, out);
    }
}

/// Integrates particle buffers in place; owns reusable stage buffers.
#[derive(Clone, Debug, Default)]
pub struct Integrator {
    k1: Vec<Point>,
    k2: Vec<Point>,
    k3: Vec<Point>,
    k4: Vec<Point>,
    tmp: Vec<Point>,
}

/// `out = x + h k`, elementwise.
fn axpy(out: &mut [Point], x: &[Point], h: f64, k: &[Point]) {
    for ((o, a), b) in out.iter_mut().zip(x).zip(k) {
        *o = [a[0] + h * b[0], a[1] + h * b[1]];
    }
}

/// `xs += h k`, in place.
fn add_scaled(xs: &mut [Point], h: f64, k: &[Point]) {
    for (x, k) in xs.iter_mut().zip(k) {
        x[0] += h * k[0];
        x[1] += h * k[1];
    }
}

impl Integrator {
    /// An integrator with empty buffers (they grow on first use).
    pub fn new() -> Self {
        Self::default()
    }

    fn ensure(&mut self, n: usize) {
        for b in [
            &mut self.k1,
            &mut self.k2,
            &mut self.k3,
            &mut self.k4,
            &mut self.tmp,
        ] {
            if b.len() != n {
                b.resize(n, [0.0; 2]);
            }
        }
    }

    /// One step of `solver` from `t` with step `h`.
    fn step(
        &mut self,
        field: &mut dyn VectorField,
        solver: Solver,
        xs: &mut [Point],
        t: f64,
        h: f64,
    ) {
        let path = field.path();
        let Integrator {
            k1,
            k2,
            k3,
            k4,
            tmp,
        } = self;
        match solver {
            Solver::Euler => {
                field.velocity(t, xs, k1);
                add_scaled(xs, h, k1);
            }
            Solver::Midpoint => {
                field.velocity(t, xs, k1);
                axpy(tmp, xs, 0.5 * h, k1);
                field.velocity(t + 0.5 * h, tmp, k2);
                add_scaled(xs, h, k2);
            }
            Solver::Rk4 => {
                field.velocity(t, xs, k1);
                axpy(tmp, xs, 0.5 * h, k1);
                field.velocity(t + 0.5 * h, tmp, k2);
                axpy(tmp, xs, 0.5 * h, k2);
                field.velocity(t + 0.5 * h, tmp, k3);
                axpy(tmp, xs, h, k3);
                field.velocity(t + h, tmp, k4);
                let h6 = h / 6.0;
                for (i, x) in xs.iter_mut().enumerate() {
                    for d in 0..2 {
                        x[d] += h6 * (k1[i][d] + 2.0 * k2[i][d] + 2.0 * k3[i][d] + k4[i][d]);
                    }
                }
            }
            Solver::PosteriorStep => match path {
                Some(path) => {
                    field.posterior_mean(t, xs, k1);
                    let s = path.schedule;
                    let (t0, t1) = (s.clamp_t(t), s.clamp_t(t + h));
                    let (a0, a1) = (s.alpha(t0), s.alpha(t1));
                    let r = s.beta(t1) / s.beta(t0);
                    for (x, z) in xs.iter_mut().zip(k1.iter()) {
                        for d in 0..2 {
                            x[d] = a1 * z[d] + r * (x[d] - a0 * z[d]);
                        }
                    }
                }
                None => {
                    field.velocity(t, xs, k1);
                    add_scaled(xs, h, k1);
                }
            },
        }
    }

    /// Integrates `xs` in place along the time grid `times` (one step of `solver` between each
    /// pair of consecutive times; nothing with fewer than two times).
    pub fn integrate_on(
        &mut self,
        field: &mut dyn VectorField,
        solver: Solver,
        xs: &mut [Point],
        times: &[f64],
    ) {
        self.ensure(xs.len());
        for w in times.windows(2) {
            self.step(field, solver, xs, w[0], w[1] - w[0]);
        }
    }

    /// Integrates `xs` in place from `t0` to `t1` in `steps` equal steps (nothing if `steps == 0`).
    pub fn integrate(
        &mut self,
        field: &mut dyn VectorField,
        solver: Solver,
        xs: &mut [Point],
        t0: f64,
        t1: f64,
        steps: usize,
    ) {
        if steps == 0 {
            return;
        }
        self.ensure(xs.len());
        let h = (t1 - t0) / steps as f64;
        for k in 0..steps {
            self.step(field, solver, xs, t0 + k as f64 * h, h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::{Schedule, BETA_MIN};
    use crate::rng::{normal_pair, seeded};

    /// `dx/dt = t J x` with `J` the rotation generator: the flow rotates by angle `(t1^2 - t0^2) / 2`.
    struct Swirl;
    impl VectorField for Swirl {
        fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
            for (o, x) in out.iter_mut().zip(xs) {
                *o = [-t * x[1], t * x[0]];
            }
        }
    }

    fn swirl_exact(x: Point, t0: f64, t1: f64) -> Point {
        let th = 0.5 * (t1 * t1 - t0 * t0);
        [
            x[0] * th.cos() - x[1] * th.sin(),
            x[0] * th.sin() + x[1] * th.cos(),
        ]
    }

    fn max_err(a: &[Point], b: &[Point]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())
            .fold(0.0, f64::max)
    }

    fn check_order(field: &mut dyn VectorField, x0: &[Point], exact: &[Point], t0: f64, t1: f64) {
        let mut integ = Integrator::new();
        for (solver, order) in [
            (Solver::Euler, 1.0),
            (Solver::Midpoint, 2.0),
            (Solver::Rk4, 4.0),
        ] {
            let mut errs = Vec::new();
            for steps in [16, 32, 64] {
                let mut xs = x0.to_vec();
                integ.integrate(field, solver, &mut xs, t0, t1, steps);
                errs.push(max_err(&xs, exact));
            }
            for w in errs.windows(2) {
                let observed = (w[0] / w[1]).log2();
                assert!(
                    (observed - order).abs() < 0.2,
                    "{solver:?}: observed order {observed} (errors {errs:?})"
                );
            }
        }
    }

    #[test]
    fn convergence_orders_on_swirl() {
        let x0 = vec![[1.0, 0.0], [0.3, -2.0]];
        let exact: Vec<Point> = x0.iter().map(|&x| swirl_exact(x, 0.0, 2.0)).collect();
        check_order(&mut Swirl, &x0, &exact, 0.0, 2.0);
    }

    #[test]
    fn convergence_orders_on_conditional_cosine_flow() {
        // x_t = sin(pi t/2) z + cos(pi t/2) eps solves dx/dt = u_t(x|z): not polynomial in t.
        let path = GaussianPath::new(Schedule::Cosine);
        let z = [1.5, -0.5];
        let eps = [[0.2, 0.9], [-1.0, 0.4]];
        let exact: Vec<Point> = eps.iter().map(|&e| path.sample(z, 0.8, e)).collect();
        check_order(&mut ConditionalField { path, z }, &eps, &exact, 0.0, 0.8);
    }

    #[test]
    fn hand_computed_single_steps() {
        // dx/dt = t J x from x = (1, 0), t = 1, h = 0.5.
        let mut integ = Integrator::new();
        let mut xs = [[1.0, 0.0]];
        integ.integrate(&mut Swirl, Solver::Euler, &mut xs, 1.0, 1.5, 1);
        assert_eq!(xs[0], [1.0, 0.5]);
        let mut xs = [[1.0, 0.0]];
        // k1 = (0, 1); mid x = (1, 0.25) at t = 1.25: k2 = (-0.3125, 1.25)
        integ.integrate(&mut Swirl, Solver::Midpoint, &mut xs, 1.0, 1.5, 1);
        assert!((xs[0][0] - (1.0 - 0.15625)).abs() < 1e-15 && (xs[0][1] - 0.625).abs() < 1e-15);
    }

    /// A field that records the times at which it is evaluated.
    struct Clocked(Vec<f64>);
    impl VectorField for Clocked {
        fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
            self.0.push(t);
            Swirl.velocity(t, xs, out);
        }
    }

    #[test]
    fn stage_times_step_counts_and_splitting() {
        // Stage times per step from t with step h: Euler t; midpoint t, t + h/2;
        // RK4 t, t + h/2, t + h/2, t + h.
        let (t0, t1, steps) = (0.25, 1.0, 3);
        let h = (t1 - t0) / steps as f64;
        for (solver, offsets) in [
            (Solver::Euler, vec![0.0]),
            (Solver::Midpoint, vec![0.0, 0.5]),
            (Solver::Rk4, vec![0.0, 0.5, 0.5, 1.0]),
        ] {
            let mut field = Clocked(Vec::new());
            let mut xs = [[1.0, 0.0]; 2];
            Integrator::new().integrate(&mut field, solver, &mut xs, t0, t1, steps);
            let want: Vec<f64> = (0..steps)
                .flat_map(|k| offsets.iter().map(move |o| t0 + (k as f64 + o) * h))
                .collect();
            assert_eq!(field.0.len(), want.len(), "{solver:?}");
            for (got, want) in field.0.iter().zip(&want) {
                assert!((got - want).abs() < 1e-15, "{solver:?}: {got} vs {want}");
            }
            // Steps one at a time (as the app's flows advance) give the same particles.
            let mut one_by_one = [[1.0, 0.0]; 2];
            let mut integ = Integrator::new();
            for k in 0..steps {
                let (a, b) = (t0 + k as f64 * h, t0 + (k + 1) as f64 * h);
                integ.integrate(&mut Swirl, solver, &mut one_by_one, a, b, 1);
            }
            for (p, q) in xs.iter().zip(&one_by_one) {
                assert!((p[0] - q[0]).abs() < 1e-14 && (p[1] - q[1]).abs() < 1e-14);
            }
        }
        // Zero steps: no evaluation, nothing moves.
        let mut field = Clocked(Vec::new());
        let mut xs = [[1.0, 2.0]];
        Integrator::new().integrate(&mut field, Solver::Rk4, &mut xs, 0.0, 1.0, 0);
        assert!(field.0.is_empty());
        assert_eq!(xs, [[1.0, 2.0]]);
        assert_eq!(Solver::parse("midpoint"), Some(Solver::Midpoint));
        assert!(Solver::ALL
            .iter()
            .all(|s| Solver::parse(s.name()) == Some(*s) && !s.label().is_empty()));
        assert_eq!(Solver::default(), Solver::Rk4);
    }

    #[test]
    fn time_grid_runs_from_0_to_the_clamp_uniformly_in_s() {
        for s in Schedule::ALL {
            assert_eq!(time_grid(s, 0), vec![0.0]);
            assert_eq!(time_grid(s, 1), vec![0.0, s.t_max()]);
            for steps in [2, 10, 50, 400] {
                let g = time_grid(s, steps);
                assert_eq!(g.len(), steps + 1);
                assert_eq!((g[0], g[steps]), (0.0, s.t_max()));
                assert!(g.windows(2).all(|w| w[1] > w[0]), "{s:?} {steps}");
                // equal steps of s(t) = t + ln(beta) / ln(BETA_MIN)
                let sv = |t: f64| t + s.beta(t).ln() / BETA_MIN.ln();
                let ds = sv(s.t_max()) / steps as f64;
                for w in g.windows(2) {
                    assert!((sv(w[1]) - sv(w[0]) - ds).abs() < 1e-9, "{s:?} {steps}");
                }
                // the steps shrink towards the data: the last is the smallest
                let h: Vec<f64> = g.windows(2).map(|w| w[1] - w[0]).collect();
                assert!(h[steps - 1] < h[0]);
                // no step changes ln beta by more than the budget: h |B| stays bounded
                for w in g.windows(2) {
                    let dl = (s.beta(w[0]) / s.beta(w[1])).ln();
                    assert!(dl <= ds * (1.0 / BETA_MIN).ln() + 1e-9);
                }
            }
        }
    }

    #[test]
    fn posterior_step_is_exact_for_the_conditional_field() {
        // zbar = z never moves: one step from t0 to t1 is the exact flow alpha z + beta eps.
        for s in Schedule::ALL {
            let path = GaussianPath::new(s);
            let z = [0.7, -1.3];
            let eps = [[0.3, 0.4], [-1.5, 2.0]];
            for (t0, t1) in [(0.0, 0.5), (0.2, 0.9), (0.5, s.t_max()), (0.0, 1.0)] {
                let mut xs: Vec<Point> = eps.iter().map(|&e| path.sample(z, t0, e)).collect();
                let mut f = ConditionalField { path, z };
                Integrator::new().integrate(&mut f, Solver::PosteriorStep, &mut xs, t0, t1, 1);
                let t1c = s.clamp_t(t1);
                for (x, &e) in xs.iter().zip(&eps) {
                    let want = path.sample(z, t1c, e);
                    assert!(
                        (x[0] - want[0]).abs() < 1e-12 && (x[1] - want[1]).abs() < 1e-12,
                        "{s:?} {t0}->{t1}: {x:?} vs {want:?}"
                    );
                }
            }
        }
        // A field without a path takes Euler steps.
        let mut a = [[1.0, 0.0]];
        let mut b = [[1.0, 0.0]];
        Integrator::new().integrate(&mut Swirl, Solver::PosteriorStep, &mut a, 1.0, 1.5, 1);
        Integrator::new().integrate(&mut Swirl, Solver::Euler, &mut b, 1.0, 1.5, 1);
        assert_eq!(a, b);
    }

    #[test]
    fn posterior_step_of_the_linear_schedule_is_euler() {
        // Linear: x' = (1 - r) zbar + r x with r = beta'/beta, which is also Euler's step.
        let data = vec![[1.0, 1.0], [-1.0, 0.5], [0.0, -1.2]];
        let m = EmpiricalMarginal::new(data, GaussianPath::new(Schedule::Linear));
        let mut rng = seeded(5);
        let eps: Vec<Point> = (0..20).map(|_| normal_pair(&mut rng)).collect();
        let g = time_grid(Schedule::Linear, 12);
        let (mut a, mut b) = (eps.clone(), eps);
        let mut integ = Integrator::new();
        integ.integrate_on(
            &mut MarginalField { marginal: &m },
            Solver::Euler,
            &mut a,
            &g,
        );
        integ.integrate_on(
            &mut MarginalField { marginal: &m },
            Solver::PosteriorStep,
            &mut b,
            &g,
        );
        assert!(max_err(&a, &b) < 1e-12, "{}", max_err(&a, &b));
    }

    fn nearest_dist(x: Point, pts: &[Point]) -> f64 {
        pts.iter()
            .map(|z| ((x[0] - z[0]).powi(2) + (x[1] - z[1]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn conditional_field_follows_its_exact_flow_and_lands_on_z() {
        let mut rng = seeded(21);
        for s in Schedule::ALL {
            let path = GaussianPath::new(s);
            let z = [0.7, -1.3];
            let eps: Vec<Point> = (0..50).map(|_| normal_pair(&mut rng)).collect();
            let mut f = ConditionalField { path, z };
            // up to t = 0.99: the exact flow alpha_t z + beta_t eps
            let mut xs = eps.clone();
            Integrator::new().integrate(&mut f, Solver::Rk4, &mut xs, 0.0, 0.99, 400);
            let exact: Vec<Point> = eps.iter().map(|&e| path.sample(z, 0.99, e)).collect();
            assert!(
                max_err(&xs, &exact) < 1e-5,
                "{s:?}: {}",
                max_err(&xs, &exact)
            );
            // all the way to the clamp on the flow grid: on z, up to the noise BETA_MIN |eps|
            // left at t_max, plus the step error
            let mut xs = eps.clone();
            Integrator::new().integrate_on(&mut f, Solver::Rk4, &mut xs, &time_grid(s, 200));
            let tol = landing_tolerance(s, &eps);
            let worst = xs
                .iter()
                .map(|x| nearest_dist(*x, &[z]))
                .fold(0.0, f64::max);
            assert!(worst < tol, "{s:?}: {worst} >= {tol}");
        }
    }

    fn landing_tolerance(s: Schedule, eps: &[Point]) -> f64 {
        let max_eps = eps.iter().map(|e| e[0].hypot(e[1])).fold(0.0, f64::max);
        // alpha(t_max) z differs from z by (1 - alpha(t_max)) |z| <= 1e-3 |z|
        (1.0 - s.alpha(s.t_max())) * 2.0 + BETA_MIN * max_eps + 0.01
    }

    #[test]
    fn marginal_field_particles_land_on_data_points() {
        let data = vec![
            [1.0, 1.0],
            [-1.0, 0.5],
            [0.0, -1.2],
            [1.5, -0.5],
            [-0.8, -0.9],
        ];
        let mut rng = seeded(22);
        for s in Schedule::ALL {
            let m = EmpiricalMarginal::new(data.clone(), GaussianPath::new(s));
            let eps: Vec<Point> = (0..100).map(|_| normal_pair(&mut rng)).collect();
            let mut xs = eps.clone();
            let mut f = MarginalField { marginal: &m };
            Integrator::new().integrate_on(&mut f, Solver::Rk4, &mut xs, &time_grid(s, 200));
            let tol = landing_tolerance(s, &eps);
            let worst = xs
                .iter()
                .map(|x| nearest_dist(*x, &data))
                .fold(0.0, f64::max);
            assert!(worst < tol, "{s:?}: {worst} >= {tol}");
            // every data point receives particles (no collapse onto one point)
            for z in &data {
                assert!(
                    xs.iter().any(|x| nearest_dist(*x, &[*z]) < tol),
                    "{s:?}: {z:?} empty"
                );
            }
        }
    }
}
