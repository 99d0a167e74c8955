//! The particle integrator of [`Fields`]: flows in slots, advanced a few steps a frame by the
//! flow worker (ODE, SDE, Langevin, guided), and the straight reference paths.

use super::convert::{diffusion_of, interleave, js_error, points_of, solver_of};
use super::fields::Fields;
use crate::continuity::UniformField;
use crate::guidance::{ExactGuided, LearnedGuided};
use crate::kinds::FlowKind;
use crate::limits;
use crate::mlp::MlpField;
use crate::ode::{self, Integrator, MarginalField, Solver, VectorField};
use crate::sde::{self, Diffusion};
use crate::{rng, straight, Point};
use wasm_bindgen::prelude::*;

/// How many trajectory computations a [`Fields`] can hold at once (the page's flow worker:
/// learned, exact and uniform ODE flows, learned and exact SDE flows, Langevin, one for
/// measurements, and the learned and exact guided flows).
const FLOW_SLOTS: usize = 9;

/// Langevin steps per frame of [`Fields::flow_advance`] (each of `ds = LANGEVIN_DS`).
const LANGEVIN_SUBSTEPS: usize = 4;

/// The Langevin step `ds` (see `sde::langevin`: the bias is of order `ds sigma^2`).
const LANGEVIN_DS: f64 = 0.01;

/// How a flow moves its particles.
enum Motion {
    /// An ODE solver on the time grid.
    Ode(Solver),
    /// Euler-Maruyama on the time grid, with its own seeded noise.
    Sde(Diffusion, rng::SeededRng),
    /// Langevin dynamics at a frozen time (no end: every advance is a frame).
    Langevin {
        t: f64,
        sigma: f64,
        rng: rng::SeededRng,
    },
}

/// A trajectory computation in progress.
struct Flow {
    kind: FlowKind,
    motion: Motion,
    xs: Vec<Point>,
    step: usize,
    /// `ode::time_grid` of the schedule at `flow_begin`: `steps + 1` times from 0 to `t_max`.
    times: Vec<f64>,
    /// A guided flow ([`Fields::flow_begin_guided`]): each particle's label, and the scale.
    guide: Option<(Vec<u8>, f64)>,
}

/// The flows of a [`Fields`]: [`FLOW_SLOTS`] slots, each empty or holding one computation, and
/// the ODE integrator's scratch space.
pub(super) struct Flows {
    slots: [Option<Flow>; FLOW_SLOTS],
    integrator: Integrator,
}

impl Flows {
    /// Every slot empty.
    pub(super) fn new() -> Flows {
        Flows {
            slots: Default::default(),
            integrator: Integrator::new(),
        }
    }
}

#[wasm_bindgen]
impl Fields {
    /// Starts integrating field `kind` ("learned", "marginal" or "uniform") from interleaved
    /// `xs` from `t = 0` to the clamp `t_max` (shown as `t = 1`) in `steps` steps (at least 1)
    /// of `solver` ("euler", "midpoint", "rk4" or "exact-step", the closed-form step: the one
    /// for the exact field), in `slot` (`0..9`: `FLOW_SLOTS = 9` slots; each holds one
    /// computation, so several can interleave; beginning a flow in a busy slot replaces it). The steps follow `ode::time_grid` of the current schedule (finer near
    /// the data; the times: [`Fields::flow_times`]), the same grid as the command line's.
    pub fn flow_begin(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        solver: &str,
        steps: usize,
    ) -> Result<(), JsError> {
        let kind: FlowKind = kind.parse().map_err(js_error)?;
        if kind == FlowKind::Learned && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        let slot = self
            .flows
            .slots
            .get_mut(slot)
            .ok_or_else(|| JsError::new("flow slot out of range"))?;
        *slot = Some(Flow {
            kind,
            motion: Motion::Ode(solver_of(solver)?),
            xs: points_of(xs)?,
            step: 0,
            times: ode::time_grid(self.marginal.path().schedule, steps.max(1)),
            guide: None,
        });
        Ok(())
    }

    /// Like [`Fields::flow_begin`] for the guided field of scale `w` (guidance lesson): kind
    /// "marginal" follows the exact guided field, "learned" the network's; particle `i` has
    /// class `labels[i]` (one per particle; the cloud must be labelled for "marginal").
    #[allow(clippy::too_many_arguments)]
    pub fn flow_begin_guided(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        labels: &[u8],
        w: f64,
        solver: &str,
        steps: usize,
    ) -> Result<(), JsError> {
        if !limits::GUIDANCE.contains(w) {
            return Err(JsError::new(&format!("w must be in {}", limits::GUIDANCE)));
        }
        if labels.len() * 2 != xs.len() {
            return Err(JsError::new("flow_begin_guided: one label per particle"));
        }
        if kind.parse::<FlowKind>() == Ok(FlowKind::Marginal) {
            self.class_marginals()?;
        }
        self.flow_begin(slot, kind, xs, solver, steps)?;
        if let Some(Some(flow)) = self.flows.slots.get_mut(slot) {
            flow.guide = Some((labels.to_vec(), w));
        }
        Ok(())
    }

    /// Like [`Fields::flow_begin`], but the particles follow the SDE of `sde` by Euler-Maruyama
    /// on the same time grid: `x' = x + h (u + (sigma_t^2 / 2) s) + sigma_t sqrt(h) xi`,
    /// `sigma_t = sigma beta_t` (`sigma` in `0..=3`), the score `s` converted from the field
    /// (exact for "marginal", the network's own for "learned"); without `score_correction` the
    /// drift is `u` alone. The noise is seeded with `seed`: the same call gives the same paths.
    #[allow(clippy::too_many_arguments)]
    pub fn flow_begin_sde(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        steps: usize,
        sigma: f64,
        score_correction: bool,
        seed: u32,
    ) -> Result<(), JsError> {
        let diffusion = diffusion_of(sigma, score_correction)?;
        self.flow_begin(slot, kind, xs, "euler", steps)?;
        if let Some(Some(flow)) = self.flows.slots.get_mut(slot) {
            flow.motion = Motion::Sde(diffusion, rng::seeded(u64::from(seed)));
        }
        Ok(())
    }

    /// Starts Langevin dynamics at the frozen time `t` for field `kind` ("marginal": the exact
    /// score; "learned": the network's) from interleaved `xs`, with `sigma_t = sigma beta_t`
    /// (`sigma` in `0..=3`), seeded: every [`Fields::flow_advance`] step is one frame of
    /// `LANGEVIN_SUBSTEPS = 4` steps of `ds = 0.01` (`sde::langevin`), without end.
    pub fn langevin_begin(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        t: f64,
        sigma: f64,
        seed: u32,
    ) -> Result<(), JsError> {
        diffusion_of(sigma, true)?;
        if !limits::TIME.contains(t) {
            return Err(JsError::new(&format!("t must be in {}", limits::TIME)));
        }
        self.flow_begin(slot, kind, xs, "euler", 1)?;
        if let Some(Some(flow)) = self.flows.slots.get_mut(slot) {
            flow.motion = Motion::Langevin {
                t,
                sigma,
                rng: rng::seeded(u64::from(seed)),
            };
        }
        Ok(())
    }

    /// The times of the flow grid of `steps` steps (at least 1) for the current schedule:
    /// `steps + 1` increasing times from 0 to `t_max` (`ode::time_grid`); frame `k` of
    /// [`Fields::flow_advance`] is at time `k + 1` of this list.
    pub fn flow_times(&self, steps: usize) -> Vec<f64> {
        ode::time_grid(self.marginal.path().schedule, steps.max(1))
    }

    /// Advances the flow in `slot` by up to `max_steps` steps; returns the positions after
    /// each step, concatenated (empty when that flow is done or was never begun).
    pub fn flow_advance(&mut self, slot: usize, max_steps: usize) -> Vec<f32> {
        let Some(Some(flow)) = self.flows.slots.get_mut(slot) else {
            return Vec::new();
        };
        let mut frames = Vec::new();
        let mlp = self.mlp.as_ref();
        let path = self.marginal.path();
        for _ in 0..max_steps {
            let endless = matches!(flow.motion, Motion::Langevin { .. });
            if !endless && flow.step + 1 >= flow.times.len() {
                break;
            }
            let times = &flow.times[flow.step.min(flow.times.len() - 1)..];
            let times = &times[..times.len().min(2)];
            let xs = &mut flow.xs;
            let mut marginal = MarginalField {
                marginal: &self.marginal,
            };
            let mut uniform = UniformField(&self.marginal);
            let mut learned = mlp.map(|mlp| MlpField::with_path(mlp, path));
            let guide = flow.guide.as_ref();
            let mut exact_guided = guide
                .zip(self.classes.as_ref())
                .map(|((labels, w), m)| ExactGuided::new(m, labels, *w));
            let mut learned_guided = guide
                .zip(mlp)
                .map(|((labels, w), mlp)| LearnedGuided::new(mlp, path, labels, *w));
            let field: &mut dyn VectorField = match (flow.kind, guide.is_some()) {
                (FlowKind::Marginal, false) => &mut marginal,
                (FlowKind::Uniform, _) => &mut uniform,
                (FlowKind::Learned, false) => match learned.as_mut() {
                    Some(f) => f,
                    None => break,
                },
                (FlowKind::Marginal, true) => match exact_guided.as_mut() {
                    Some(f) => f,
                    None => break,
                },
                (FlowKind::Learned, true) => match learned_guided.as_mut() {
                    Some(f) => f,
                    None => break,
                },
            };
            match &mut flow.motion {
                Motion::Ode(solver) => self
                    .flows
                    .integrator
                    .integrate_on(field, *solver, xs, times),
                Motion::Sde(diffusion, rng) => {
                    sde::euler_maruyama(field, path, *diffusion, xs, times, rng, &mut self.aux)
                }
                Motion::Langevin { t, sigma, rng } => sde::langevin(
                    field,
                    path,
                    *sigma,
                    xs,
                    *t,
                    LANGEVIN_DS,
                    LANGEVIN_SUBSTEPS,
                    rng,
                    &mut self.aux,
                ),
            }
            flow.step += 1;
            frames.extend(interleave(xs));
        }
        frames
    }

    /// The straight reference: each of the `noise` points (interleaved) paired with its
    /// partner in the cloud under the optimal coupling (`straight::ot_partners`), moved along
    /// the conditional path `alpha_t x1 + beta_t x0` of the pair; all `steps + 1` frames on
    /// [`Fields::flow_times`], frame after frame. Errors on an empty cloud.
    pub fn ot_flow(&self, noise: &[f32], steps: usize) -> Result<Vec<f32>, JsError> {
        if self.marginal.points().is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let x0 = points_of(noise)?;
        let x1 = straight::ot_partners(&x0, self.marginal.points());
        let schedule = self.marginal.path().schedule;
        let times = ode::time_grid(schedule, steps.max(1));
        Ok(straight::pair_paths(schedule, &x0, &x1, &times)
            .iter()
            .flat_map(|f| interleave(f))
            .collect())
    }
}
