//! [`Fields`]: field evaluation for the page and the flow worker, its settings, and the
//! arrows and grids of the stage. Its figures are in `measures.rs`, its flows in `flows.rs`
//! (more `#[wasm_bindgen] impl Fields` blocks).

use super::convert::{
    diffusion_of, interleave, js_error, labels_of, mlp_of, points_of, schedule_of,
};
use super::flows::Flows;
use crate::continuity::{Residuals, UniformField};
use crate::data;
use crate::guidance::{ClassMarginals, ExactGuided, LearnedGuided};
use crate::kinds::{FieldKind, FlowKind, GridKind};
use crate::limits;
use crate::marginal::EmpiricalMarginal;
use crate::mlp::{ForwardCache, Mlp, MlpField};
use crate::ode::{ConditionalField, MarginalField, VectorField};
use crate::path::GaussianPath;
use crate::sde::{self, Diffusion, SdeDrift};
use crate::Point;
use wasm_bindgen::prelude::*;

/// Field evaluation for the page and the flow worker: the exact marginal of the cloud, the
/// conditional field of a given `z` ([`Fields::conditional_velocity`]), the uniform-weight field,
/// and the learned network from weight snapshots.
#[wasm_bindgen]
pub struct Fields {
    /// The exact marginal of the cloud, on the current schedule.
    pub(super) marginal: EmpiricalMarginal,
    /// The learned network, from the last weight snapshot.
    pub(super) mlp: Option<Mlp>,
    cache: ForwardCache,
    /// Scratch: query points, and field values at them.
    pub(super) xs: Vec<Point>,
    pub(super) out: Vec<Point>,
    pub(super) aux: Vec<Point>,
    weights: Vec<f64>,
    pub(super) residuals: Residuals,
    /// The flows in progress (`flows.rs`).
    pub(super) flows: Flows,
    /// The noise of the "sde_drift" arrows and the "fokker_planck" grid.
    diffusion: Diffusion,
    /// The guidance lesson: the cloud's labels (empty: unlabelled), its exact class fields
    /// (rebuilt when the cloud, the schedule or the labels change), and the class and scale of
    /// the guided arrows ([`Fields::set_guidance`]).
    pub(super) labels: Vec<u8>,
    pub(super) classes: Option<ClassMarginals>,
    guide: (u8, f64),
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Fields {
    /// An empty cloud, linear schedule, no network yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Fields {
        Fields {
            marginal: EmpiricalMarginal::new(Vec::new(), GaussianPath::default()),
            mlp: None,
            cache: ForwardCache::new(),
            xs: Vec::new(),
            out: Vec::new(),
            aux: Vec::new(),
            weights: Vec::new(),
            residuals: Residuals::new(),
            flows: Flows::new(),
            diffusion: Diffusion::default(),
            labels: Vec::new(),
            classes: None,
            guide: (1, 1.0),
        }
    }

    /// Sets the data cloud (interleaved points).
    pub fn set_points(&mut self, points: &[f32]) -> Result<(), JsError> {
        self.marginal.set_points(points_of(points)?);
        // Labels belong to the old points until set again.
        self.labels.clear();
        self.classes = None;
        Ok(())
    }

    /// The labels of the cloud's points (one each, `1..=4`; empty: unlabelled), for the
    /// guidance lesson's exact class fields. Set after [`Fields::set_points`].
    pub fn set_labels(&mut self, labels: &[u8]) -> Result<(), JsError> {
        self.labels = if labels.is_empty() {
            Vec::new()
        } else {
            labels_of(labels, self.marginal.points().len())?
        };
        self.classes = None;
        Ok(())
    }

    /// Sets the schedule by name.
    pub fn set_schedule(&mut self, name: &str) -> Result<(), JsError> {
        self.marginal
            .set_path(GaussianPath::new(schedule_of(name)?));
        self.classes = None;
        Ok(())
    }

    /// Sets the learned network from a weight snapshot (`TrainerHandle::weights` of a network
    /// of this shape); a wrong length is an error and keeps the previous network.
    pub fn set_model(
        &mut self,
        width: usize,
        depth: usize,
        time_features: usize,
        weights: Vec<f32>,
    ) -> Result<(), JsError> {
        self.mlp = Some(mlp_of(width, depth, time_features, weights)?);
        Ok(())
    }

    /// Whether a network has been set.
    pub fn has_model(&self) -> bool {
        self.mlp.is_some()
    }

    /// Sets the noise of the "sde_drift" arrows ([`Fields::velocity`]) and the
    /// "fokker_planck" grid: `sigma_t = sigma beta_t`, `sigma` in `0..=3`, with or without the
    /// score correction in the drift (see `sde`). Errors on a `sigma` out of range.
    pub fn set_diffusion(&mut self, sigma: f64, score_correction: bool) -> Result<(), JsError> {
        self.diffusion = diffusion_of(sigma, score_correction)?;
        Ok(())
    }

    /// The class and scale of the guided arrows ("class", "guided", "learned_class",
    /// "learned_guided" in [`Fields::velocity`]).
    pub fn set_guidance(&mut self, class: u8, w: f64) -> Result<(), JsError> {
        if !limits::CLASS.contains(u64::from(class)) || !limits::GUIDANCE.contains(w) {
            return Err(JsError::new(&format!(
                "guidance: class must be in {} and w in {} (got {class}, {w})",
                limits::CLASS,
                limits::GUIDANCE
            )));
        }
        self.guide = (class, w);
        Ok(())
    }

    /// The field `kind` at interleaved points `xs` and time `t`, interleaved (`t` past the clamp
    /// `t_max` is evaluated at it). `kind`:
    /// - "learned", "marginal", "uniform": vector fields (the network, the exact marginal field,
    ///   the uniform-weight field);
    /// - "score": the exact marginal score `grad log p_t(x) = (alpha_t zbar(x) - x) / beta_t^2`
    ///   (up to `1 / BETA_MIN^2 = 1e6` times a distance at the clamp);
    /// - "score_learned": the network's score, from its field by
    ///   `s = (alpha_t u - alpha_dot_t x) / (beta_t^2 alpha_dot_t - beta_dot_t beta_t alpha_t)`
    ///   (`path::GaussianPath::score_from_velocity`; the same conversion turns the exact field
    ///   into "score"); finite from `t = 0` (where it is `-x`) to the clamp;
    /// - "denoiser": the posterior mean `zbar(x) = E[z | x_t = x]`, returned as positions (the
    ///   point each `x` is heading for; the cloud's mean at `t = 0`);
    /// - "sde_drift": the drift of the exact SDE at the noise of [`Fields::set_diffusion`],
    ///   `u_t + (sigma_t^2 / 2) grad log p_t` (with the correction; `u_t` without).
    ///
    /// - "class", "guided": the exact field of the class of [`Fields::set_guidance`], and the
    ///   guided field at its scale (over the labels of [`Fields::set_labels`]);
    /// - "learned_class", "learned_guided": the network's.
    ///
    /// The names are [`crate::kinds::FieldKind`]'s (the catalog's `fields`). "conditional" is
    /// an error: see [`Fields::conditional_velocity`]. Errors: an unknown kind (the message
    /// lists the valid ones), a learned kind without a network, bad points.
    pub fn velocity(&mut self, kind: &str, xs: &[f32], t: f64) -> Result<Vec<f32>, JsError> {
        let kind: FieldKind = kind.parse().map_err(js_error)?;
        if kind.needs_network() && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        self.load(xs)?;
        let (y, w) = self.guide;
        match kind {
            FieldKind::Learned => self.eval_into_out(FlowKind::Learned, t)?,
            FieldKind::Marginal => self.eval_into_out(FlowKind::Marginal, t)?,
            FieldKind::Uniform => self.eval_into_out(FlowKind::Uniform, t)?,
            FieldKind::Score => {
                for (o, x) in self.out.iter_mut().zip(&self.xs) {
                    *o = self.marginal.eval(*x, t).score;
                }
            }
            FieldKind::Denoiser => {
                self.marginal
                    .posterior_mean_batch(&self.xs, t, &mut self.out);
            }
            FieldKind::SdeDrift => {
                let mut field = MarginalField {
                    marginal: &self.marginal,
                };
                SdeDrift {
                    field: &mut field,
                    path: self.marginal.path(),
                    diffusion: self.diffusion,
                }
                .velocity(t, &self.xs, &mut self.out);
            }
            FieldKind::Class | FieldKind::Guided => {
                let w = if kind == FieldKind::Class { 1.0 } else { w };
                self.class_marginals()?;
                let m = self.classes.as_ref().expect("built by class_marginals");
                let labels = vec![y; self.xs.len()];
                ExactGuided::new(m, &labels, w).velocity(t, &self.xs, &mut self.out);
            }
            FieldKind::LearnedClass | FieldKind::LearnedGuided => {
                let w = if kind == FieldKind::LearnedClass {
                    1.0
                } else {
                    w
                };
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                let labels = vec![y; self.xs.len()];
                LearnedGuided::new(mlp, self.marginal.path(), &labels, w).velocity(
                    t,
                    &self.xs,
                    &mut self.out,
                );
            }
            FieldKind::ScoreLearned => {
                self.eval_into_out(FlowKind::Learned, t)?;
                let path = self.marginal.path();
                for (o, x) in self.out.iter_mut().zip(&self.xs) {
                    *o = path.score_from_velocity(*o, *x, t);
                }
            }
        }
        Ok(interleave(&self.out))
    }

    /// The conditional field `u_t(x|z)` of the data point `z = (zx, zy)` (any point; the
    /// current schedule) at interleaved points `xs` and time `t`, interleaved.
    pub fn conditional_velocity(
        &mut self,
        xs: &[f32],
        t: f64,
        zx: f64,
        zy: f64,
    ) -> Result<Vec<f32>, JsError> {
        if !(zx.is_finite() && zy.is_finite()) {
            return Err(JsError::new(
                "conditional_velocity: z is not a finite point",
            ));
        }
        self.load(xs)?;
        let mut field = ConditionalField {
            path: self.marginal.path(),
            z: [zx, zy],
        };
        field.velocity(t, &self.xs, &mut self.out);
        Ok(interleave(&self.out))
    }

    /// An `n x n` grid of a scalar over `[-half, half]^2` at time `t` (layout in the module
    /// docs). `what` (the names of [`crate::kinds::GridKind`], the catalog's `grids`): "logp" (log p_t), "divergence" (closed-form divergence of the exact field,
    /// `div u_t = 2 B_t + A_t (alpha_t / beta_t^2) (sum_i w_i |z_i|^2 - |zbar|^2)`: `2 B_t < 0`
    /// where the posterior is one-hot, larger where data points compete), "error"
    /// (|u_theta - u_t|), "residual" (continuity residual of the exact pair),
    /// "residual_uniform" (of the uniform-weight field), "residual_learned" (of the learned
    /// field, divergence by central differences; see `continuity::Residuals`), "fokker_planck"
    /// (the Fokker-Planck residual of the exact `p_t` under the SDE of [`Fields::set_diffusion`]:
    /// about 0 with the score correction, `-(sigma_t^2 / 2) Lap p / p` without;
    /// `sde::fokker_planck_residual`).
    pub fn grid(&mut self, what: &str, t: f64, n: usize, half: f64) -> Result<Vec<f32>, JsError> {
        self.grid_cells(what, t, n, half, 0, n * n)
    }

    /// The cells `start .. start + count` (row-major, clipped to the grid) of the grid that
    /// [`Fields::grid`] computes, so that the page can spread a costly grid over frames.
    pub fn grid_cells(
        &mut self,
        what: &str,
        t: f64,
        n: usize,
        half: f64,
        start: usize,
        count: usize,
    ) -> Result<Vec<f32>, JsError> {
        let what: GridKind = what.parse().map_err(js_error)?;
        let cell = 2.0 * half / n as f64;
        let end = start.saturating_add(count).min(n * n);
        let points: Vec<Point> = (start.min(end)..end)
            .map(|k| {
                let (row, col) = (k / n, k % n);
                [
                    -half + (col as f64 + 0.5) * cell,
                    half - (row as f64 + 0.5) * cell,
                ]
            })
            .collect();
        let values: Vec<f64> = match what {
            GridKind::LogDensity => points
                .iter()
                .map(|x| self.marginal.eval(*x, t).log_density)
                .collect(),
            GridKind::Divergence => points
                .iter()
                .map(|x| self.marginal.eval(*x, t).divergence)
                .collect(),
            GridKind::Residual => points
                .iter()
                .map(|x| self.marginal.continuity_residual(*x, t))
                .collect(),
            GridKind::ResidualUniform => points
                .iter()
                .map(|x| self.marginal.uniform_continuity_residual(*x, t))
                .collect(),
            GridKind::FokkerPlanck => points
                .iter()
                .map(|x| sde::fokker_planck_residual(&self.marginal, *x, t, self.diffusion))
                .collect(),
            GridKind::Error => {
                self.xs = points.clone();
                self.out.resize(points.len(), [0.0; 2]);
                self.eval_into_out(FlowKind::Learned, t)?;
                self.aux.resize(points.len(), [0.0; 2]);
                self.marginal.u_marg_batch(&self.xs, t, &mut self.aux);
                self.out
                    .iter()
                    .zip(&self.aux)
                    .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
                    .collect()
            }
            GridKind::ResidualLearned => {
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                // The network is f32: a step of 1e-3 keeps rounding below 1e-4 of |div|.
                self.residuals
                    .of_field(&self.marginal, &mut MlpField::new(mlp), &points, t, 1e-3)
            }
        };
        Ok(values.iter().map(|v| *v as f32).collect())
    }

    /// The posterior weights `w_i(x, t)` of every data point at `(x, y)`.
    pub fn posterior(&mut self, x: f64, y: f64, t: f64) -> Vec<f32> {
        self.weights.resize(self.marginal.points().len(), 0.0);
        self.marginal.weights([x, y], t, &mut self.weights);
        self.weights.iter().map(|w| *w as f32).collect()
    }
}

impl Fields {
    /// Builds the exact class fields of the labelled cloud (on first use). A cloud whose labels
    /// are not set (yet: they follow the points) is all class 1, as an unlabelled drawing is.
    pub(super) fn class_marginals(&mut self) -> Result<&ClassMarginals, JsError> {
        if self.classes.is_none() {
            let ones = vec![1; self.marginal.points().len()];
            let labels = if self.labels.len() == ones.len() {
                &self.labels
            } else {
                &ones
            };
            self.classes = Some(ClassMarginals::new(
                self.marginal.points(),
                labels,
                data::MAX_CLASSES,
                self.marginal.path(),
            ));
        }
        Ok(self.classes.as_ref().expect("built above"))
    }

    /// Loads interleaved query points into the scratch buffer.
    fn load(&mut self, xs: &[f32]) -> Result<(), JsError> {
        self.xs = points_of(xs)?;
        self.out.resize(self.xs.len(), [0.0; 2]);
        Ok(())
    }

    /// Evaluates field `kind` at `self.xs`, time `t`, into `self.out`.
    pub(super) fn eval_into_out(&mut self, kind: FlowKind, t: f64) -> Result<(), JsError> {
        let (xs, out) = (&self.xs, &mut self.out);
        match kind {
            FlowKind::Marginal => self.marginal.u_marg_batch(xs, t, out),
            FlowKind::Uniform => UniformField(&self.marginal).velocity(t, xs, out),
            FlowKind::Learned => {
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                mlp.predict(xs, t, out, &mut self.cache);
            }
        }
        Ok(())
    }
}
