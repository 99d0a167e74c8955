//! The figures [`Fields`] measures: how well particles or a network match the exact `p_t`,
//! the CFM-FM gap, residuals and errors where the mass is, guided and few-step samples.

use super::convert::{interleave, nonempty_points_of, points_of, solver_of};
use super::fields::Fields;
use crate::guidance::{self, ExactGuided, LearnedGuided};
use crate::kinds::FlowKind;
use crate::limits;
use crate::mlp::MlpField;
use crate::ode::{self, Integrator};
use crate::{rng, sde, straight, Point};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
impl Fields {
    /// How well the interleaved `particles` match the exact `p_t` (`t` past the clamp is taken
    /// at it): `[energy distance to as many fresh seeded samples of p_t, the floor: the mean
    /// energy distance between two fresh samples of that size over four pairs]` (`sde::marginal_match`, as `fmp flow
    /// --at-times`; sets over 1,000 points are subsampled). Errors: an empty cloud or set, bad
    /// points.
    pub fn marginal_match(
        &self,
        particles: &[f32],
        t: f64,
        seed: u32,
    ) -> Result<Vec<f64>, JsError> {
        if self.marginal.points().is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let ps = nonempty_points_of(particles, "the particles")?;
        let (ed, floor) = sde::marginal_match(&self.marginal, &ps, t, u64::from(seed));
        Ok(vec![ed, floor])
    }

    /// `n` seeded samples of the exact `p_t` (`x = alpha_t z + beta_t eps`, `z` uniform over the
    /// cloud; `t` past the clamp is taken at it), interleaved: the reference that the page
    /// compares particles with. Errors: an empty cloud, `n` outside `1..=100000`.
    pub fn sample_marginal(&self, t: f64, n: usize, seed: u32) -> Result<Vec<f32>, JsError> {
        Ok(interleave(&self.samples_of_p_t(t, n, seed)?))
    }

    /// The exact density of the first coordinate under `p_t`, averaged over each of `bins`
    /// equal bins on `[lo, hi]` (the bin's probability over its width,
    /// `EmpiricalMarginal::mass_first_coordinate`): what the Langevin histogram's bars estimate,
    /// at any `t` (its reference line). Zeros for an empty cloud.
    pub fn density_first_coordinate(&self, lo: f64, hi: f64, bins: usize, t: f64) -> Vec<f32> {
        let w = (hi - lo) / bins.max(1) as f64;
        (0..bins.min(10_000))
            .map(|i| {
                let a = lo + i as f64 * w;
                (self.marginal.mass_first_coordinate(a, a + w, t) / w) as f32
            })
            .collect()
    }

    /// The gap `C = L_CFM - L_FM` of the current cloud and schedule, `[C, stderr]`: Monte Carlo
    /// over `samples` draws (`1..=1_000_000`) of the training distribution (`t ~ U[0, 0.999)`,
    /// `z` uniform over the cloud, `x ~ p_t(.|z)`), seeded with `seed`, each contributing
    /// `|u_t(x|z) - u_t(x)|^2` (`trainer::cfm_fm_gap`). The CFM loss of any network approaches
    /// `L_FM + C`, so `C` is the floor of the CFM loss curve. About 2.72 for the page's moons
    /// with the linear schedule, 4.27 cosine, 4.4 square-root (20,000 draws: stderr about 0.02,
    /// 0.03 and 0.14). Costs `samples x` points kernel evaluations (20,000 draws over 1,000
    /// points: 0.5 to 0.8 s natively on a busy 2-core machine; run it in a worker). `[0, 0]` for
    /// an empty cloud.
    pub fn cfm_fm_gap(&self, samples: usize, seed: u32) -> Result<Vec<f64>, JsError> {
        if !(1..=1_000_000).contains(&samples) {
            return Err(JsError::new(&format!(
                "cfm_fm_gap: samples must be in 1..=1000000 (got {samples})"
            )));
        }
        let (c, err) = crate::trainer::cfm_fm_gap(&self.marginal, samples, u64::from(seed));
        Ok(vec![c, err])
    }

    /// The mean absolute continuity residual `|d/dt log p_t + u . grad log p_t + div u|` of the
    /// field `what` against the exact `p_t`, averaged over `samples` (`1..=100000`) seeded draws
    /// `x ~ p_t` (where the mass is, unlike the stage grid, which is mostly empty space; `t`
    /// past the clamp is evaluated at it). `what`: "exact" (closed form, about 0 up to
    /// rounding), "uniform" (the uniform-weight field, closed form) or "learned" (the network,
    /// divergence by central differences of step 1e-3, as the "residual_learned" grid). Errors:
    /// an unknown `what`, an empty cloud, "learned" without a network, `samples` out of range.
    /// Costs `samples x` points kernel evaluations (twice that for "learned").
    pub fn residual_on_samples(
        &mut self,
        what: &str,
        t: f64,
        samples: usize,
        seed: u32,
    ) -> Result<f64, JsError> {
        if !matches!(what, "exact" | "uniform" | "learned") {
            return Err(JsError::new(&format!(
                "unknown field {what} (exact, uniform or learned)"
            )));
        }
        if what == "learned" && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        let xs = self.samples_of_p_t(t, samples, seed)?;
        let t = self.marginal.path().schedule.clamp_t(t);
        let values: Vec<f64> = match (what, self.mlp.as_ref()) {
            ("exact", _) => xs
                .iter()
                .map(|x| self.marginal.continuity_residual(*x, t))
                .collect(),
            ("uniform", _) => xs
                .iter()
                .map(|x| self.marginal.uniform_continuity_residual(*x, t))
                .collect(),
            (_, Some(mlp)) => {
                self.residuals
                    .of_field(&self.marginal, &mut MlpField::new(mlp), &xs, t, 1e-3)
            }
            (_, None) => return Err(JsError::new("no network yet")),
        };
        Ok(values.iter().map(|v| v.abs()).sum::<f64>() / values.len() as f64)
    }

    /// The median of `|u_theta(x, t) - u_t(x)|` (the network against the exact field) over
    /// `samples` (`1..=100000`) seeded draws `x ~ p_t` (`t` past the clamp is evaluated at it).
    /// Errors: no network, an empty cloud, `samples` out of range.
    pub fn error_on_samples(&mut self, t: f64, samples: usize, seed: u32) -> Result<f64, JsError> {
        if self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        self.xs = self.samples_of_p_t(t, samples, seed)?;
        let t = self.marginal.path().schedule.clamp_t(t);
        self.out.resize(self.xs.len(), [0.0; 2]);
        self.eval_into_out(FlowKind::Learned, t)?;
        self.aux.resize(self.xs.len(), [0.0; 2]);
        self.marginal.u_marg_batch(&self.xs, t, &mut self.aux);
        let mut errors: Vec<f64> = self
            .out
            .iter()
            .zip(&self.aux)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .collect();
        errors.sort_by(f64::total_cmp);
        let n = errors.len();
        Ok(if n % 2 == 1 {
            errors[n / 2]
        } else {
            0.5 * (errors[n / 2 - 1] + errors[n / 2])
        })
    }

    /// The guided samples of `labels` (one per `noise` point) at scale `w`: `noise`
    /// (interleaved) carried to the clamp by `steps` steps of `solver` along the exact guided
    /// field (or the network's, `learned`), then their fidelity (the share whose nearest data
    /// point has the particle's label) and spread (RMS distance to their centroid; per class,
    /// averaged over the classes weighted by their particles). Returns `[fidelity, spread]`.
    #[allow(clippy::too_many_arguments)]
    pub fn guided_figures(
        &mut self,
        learned: bool,
        noise: &[f32],
        labels: &[u8],
        w: f64,
        solver: &str,
        steps: usize,
    ) -> Result<Vec<f64>, JsError> {
        let mut xs = points_of(noise)?;
        if labels.len() != xs.len() {
            return Err(JsError::new("guided_figures: one label per noise point"));
        }
        let solver = solver_of(solver)?;
        let times = ode::time_grid(self.marginal.path().schedule, steps.max(1));
        let path = self.marginal.path();
        let mut integrator = Integrator::new();
        if learned {
            let mlp = self
                .mlp
                .as_ref()
                .ok_or_else(|| JsError::new("no network yet"))?;
            let mut field = LearnedGuided::new(mlp, path, labels, w);
            integrator.integrate_on(&mut field, solver, &mut xs, &times);
        } else {
            self.class_marginals()?;
            let m = self.classes.as_ref().expect("built by class_marginals");
            let mut field = ExactGuided::new(m, labels, w);
            integrator.integrate_on(&mut field, solver, &mut xs, &times);
        }
        if xs.iter().flatten().any(|v| !v.is_finite()) {
            return Ok(vec![f64::NAN, f64::NAN]);
        }
        let (fid, spr) = guidance::measure(&xs, labels, self.marginal.points(), &self.labels);
        Ok(vec![fid, spr])
    }

    /// The network's few-step quality: the W2 to `reference` (interleaved) of the samples
    /// that `steps` Euler steps carry `noise` (interleaved) to, on the current schedule's grid
    /// (`straight::w2_after_euler`; NaN for a sample that is not finite). Errors without a
    /// network.
    pub fn w2_after_euler(
        &self,
        noise: &[f32],
        steps: usize,
        reference: &[f32],
    ) -> Result<f64, JsError> {
        let mlp = self
            .mlp
            .as_ref()
            .ok_or_else(|| JsError::new("no network yet"))?;
        Ok(straight::w2_after_euler(
            mlp,
            self.marginal.path().schedule,
            &points_of(noise)?,
            steps.max(1),
            &nonempty_points_of(reference, "w2_after_euler: reference")?,
        ))
    }
}

impl Fields {
    /// `samples` seeded draws of `p_t` (`EmpiricalMarginal::sample`), checked: `samples` in
    /// `1..=100000` (the query-point limit), a non-empty cloud.
    fn samples_of_p_t(&self, t: f64, samples: usize, seed: u32) -> Result<Vec<Point>, JsError> {
        if !limits::QUERY_POINTS.contains(samples as u64) {
            return Err(JsError::new(&format!(
                "samples must be in {} (got {samples})",
                limits::QUERY_POINTS
            )));
        }
        if self.marginal.points().is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let mut rng = rng::seeded(u64::from(seed));
        Ok(self.marginal.sample(t, samples, &mut rng))
    }
}
