//! The continuity equation as a teaching device: how well does a vector field `u` transport
//! the exact marginal path `p_t` of the cloud?
//!
//! In log form, `p_t` and `u_t` satisfy `d/dt log p_t + u . grad log p_t + div u = 0`
//! everywhere. The residual of that equation is computed here for any field `u` against the
//! exact `p_t` ([`EmpiricalMarginal`]): `d/dt log p_t` and `grad log p_t` in closed form, `u` from
//! the field, and `div u` by central differences of step `h` (so it also works for the learned
//! network, whose divergence has no closed form). For the exact marginal field the residual is
//! about 0; for [`UniformField`], which averages the conditional fields with uniform instead of
//! posterior weights, it is clearly not.

use crate::marginal::EmpiricalMarginal;
use crate::ode::VectorField;
use crate::Point;

/// A deliberately wrong field: the conditional fields averaged with uniform weights,
/// `u(x) = A_t mean(z) + B_t x` ([`EmpiricalMarginal::u_uniform`]).
#[derive(Clone, Copy, Debug)]
pub struct UniformField<'a>(pub &'a EmpiricalMarginal);

impl VectorField for UniformField<'_> {
    fn velocity(&mut self, t: f64, xs: &[Point], out: &mut [Point]) {
        for (x, o) in xs.iter().zip(out.iter_mut()) {
            *o = self.0.u_uniform(*x, t);
        }
    }

    fn path(&self) -> Option<crate::path::GaussianPath> {
        Some(self.0.path())
    }
}

/// Reusable buffers for [`Residuals::of_field`].
#[derive(Clone, Debug, Default)]
pub struct Residuals {
    stencil: Vec<Point>,
    velocity: Vec<Point>,
}

impl Residuals {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The continuity residual of `field` against the exact `p_t` of `marginal` at each of
    /// `points` and time `t`, with `div u` by central differences of step `h` (one batched
    /// field call of `5 n` points: each point and its four neighbours at distance `h`).
    pub fn of_field(
        &mut self,
        marginal: &EmpiricalMarginal,
        field: &mut dyn VectorField,
        points: &[Point],
        t: f64,
        h: f64,
    ) -> Vec<f64> {
        self.stencil.clear();
        for p in points {
            self.stencil.extend([
                *p,
                [p[0] + h, p[1]],
                [p[0] - h, p[1]],
                [p[0], p[1] + h],
                [p[0], p[1] - h],
            ]);
        }
        self.velocity.resize(self.stencil.len(), [0.0; 2]);
        field.velocity(t, &self.stencil, &mut self.velocity);
        points
            .iter()
            .zip(self.velocity.chunks_exact(5))
            .map(|(x, v)| {
                let div = (v[1][0] - v[2][0] + v[3][1] - v[4][1]) / (2.0 * h);
                let e = marginal.eval(*x, t);
                e.dlogp_dt + v[0][0] * e.score[0] + v[0][1] * e.score[1] + div
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ode::MarginalField;
    use crate::path::{GaussianPath, Schedule};
    use crate::rng;

    fn cloud(n: usize, seed: u64) -> Vec<Point> {
        let mut r = rng::seeded(seed);
        (0..n)
            .map(|_| {
                let [a, b] = rng::normal_pair(&mut r);
                [1.5 * a, 0.7 * b]
            })
            .collect()
    }

    #[test]
    fn finite_difference_residuals_match_the_closed_forms() {
        let mut residuals = Residuals::new();
        for schedule in Schedule::ALL {
            let marginal = EmpiricalMarginal::new(cloud(40, 1), GaussianPath::new(schedule));
            let mut r = rng::seeded(9);
            let points: Vec<Point> = (0..30).map(|_| rng::normal_pair(&mut r)).collect();
            for t in [0.1, 0.5, 0.9] {
                let exact = residuals.of_field(
                    &marginal,
                    &mut MarginalField {
                        marginal: &marginal,
                    },
                    &points,
                    t,
                    1e-5,
                );
                let uniform =
                    residuals.of_field(&marginal, &mut UniformField(&marginal), &points, t, 1e-4);
                for (i, x) in points.iter().enumerate() {
                    // The exact pair: the closed form is ~0, and so is the FD version.
                    let closed = marginal.continuity_residual(*x, t);
                    // The size of the terms that cancel: the tolerances are relative to it.
                    let e = marginal.eval(*x, t);
                    let scale = 1.0
                        + e.divergence.abs()
                        + e.dlogp_dt.abs()
                        + (e.u[0] * e.score[0] + e.u[1] * e.score[1]).abs();
                    assert!(closed.abs() < 1e-8 * scale, "{schedule:?} t={t}: {closed}");
                    assert!(
                        (exact[i] - closed).abs() < 1e-4 * scale,
                        "{schedule:?} t={t}: FD {} vs closed {closed}",
                        exact[i]
                    );
                    // The uniform-weight field: FD agrees with its closed form (div = 2 B_t).
                    let wrong = marginal.uniform_continuity_residual(*x, t);
                    assert!((uniform[i] - wrong).abs() < 1e-4 * scale);
                }
                let mean_abs = uniform.iter().map(|v| v.abs()).sum::<f64>() / uniform.len() as f64;
                assert!(
                    mean_abs > 0.1,
                    "{schedule:?} t={t}: uniform residual {mean_abs}"
                );
            }
        }
    }
}
