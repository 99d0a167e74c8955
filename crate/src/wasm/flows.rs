//! The particle integrator of [`Fields`]: a running flow is a [`ParticleFlow`] handle that
//! JavaScript holds (ODE, SDE, Langevin, guided), begun and advanced a few steps at a time by
//! the flow worker against the Fields' current field, and the straight reference paths. Any
//! number of flows can run at once; JavaScript frees a handle when its flow is done.

use super::convert::{diffusion_of, interleave, js_error, points_of, solver_of};
use super::fields::Fields;
use crate::kinds::FlowKind;
use crate::sampling::{Flow, Motion, Scratch, Sources};
use crate::{limits, ode, rng, straight};
use wasm_bindgen::prelude::*;

/// A running flow, held by JavaScript ([`crate::sampling::Flow`]: its particles, the field
/// kind it follows, how it moves them and where on its time grid it is). The field itself is
/// the [`Fields`]' at each [`Fields::flow_advance`] (the cloud, the schedule and the network
/// loaded then). JavaScript frees it (`free()`) when it is done with it.
#[wasm_bindgen]
pub struct ParticleFlow(Flow);

#[wasm_bindgen]
impl ParticleFlow {
    /// How many particles it moves.
    pub fn particles(&self) -> usize {
        self.0.points().len()
    }

    /// Steps taken so far (a Langevin flow counts frames, without end).
    pub fn steps_done(&self) -> usize {
        self.0.steps_done()
    }

    /// Whether every step of its time grid is taken (never for Langevin).
    pub fn done(&self) -> bool {
        self.0.done()
    }
}

/// What the flows of a [`Fields`] share: the steps' scratch space.
pub(super) struct Flows {
    scratch: Scratch,
}

impl Flows {
    /// The scratch space, empty.
    pub(super) fn new() -> Flows {
        Flows {
            scratch: Scratch::new(),
        }
    }
}

#[wasm_bindgen]
impl Fields {
    /// Starts integrating field `kind` ("learned", "marginal" or "uniform") from interleaved
    /// `xs` from `t = 0` to the clamp `t_max` (shown as `t = 1`) in `steps` steps (at least 1)
    /// of `solver` ("euler", "midpoint", "rk4" or "exact-step", the closed-form step: the one
    /// for the exact field); returns the running flow, which [`Fields::flow_advance`] moves.
    /// The steps follow `ode::time_grid` of the current schedule (finer near the data; the
    /// times: [`Fields::flow_times`]), the same grid as the command line's.
    pub fn flow_begin(
        &self,
        kind: &str,
        xs: &[f32],
        solver: &str,
        steps: usize,
    ) -> Result<ParticleFlow, JsError> {
        let kind: FlowKind = kind.parse().map_err(js_error)?;
        if kind == FlowKind::Learned && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        let times = ode::time_grid(self.marginal.path().schedule, steps.max(1));
        let motion = Motion::Ode(solver_of(solver)?);
        Ok(ParticleFlow(Flow::new(kind, motion, points_of(xs)?, times)))
    }

    /// Like [`Fields::flow_begin`] for the guided field of scale `w` (guidance lesson): kind
    /// "marginal" follows the exact guided field, "learned" the network's; particle `i` has
    /// class `labels[i]` (one per particle; the cloud must be labelled for "marginal").
    #[allow(clippy::too_many_arguments)]
    pub fn flow_begin_guided(
        &mut self,
        kind: &str,
        xs: &[f32],
        labels: &[u8],
        w: f64,
        solver: &str,
        steps: usize,
    ) -> Result<ParticleFlow, JsError> {
        if !limits::GUIDANCE.contains(w) {
            return Err(JsError::new(&format!("w must be in {}", limits::GUIDANCE)));
        }
        if labels.len() * 2 != xs.len() {
            return Err(JsError::new("flow_begin_guided: one label per particle"));
        }
        if kind.parse::<FlowKind>() == Ok(FlowKind::Marginal) {
            self.class_marginals()?;
        }
        let flow = self.flow_begin(kind, xs, solver, steps)?;
        Ok(ParticleFlow(flow.0.guided(labels.to_vec(), w)))
    }

    /// Like [`Fields::flow_begin`], but the particles follow the SDE of `sde` by Euler-Maruyama
    /// on the same time grid: `x' = x + h (u + (sigma_t^2 / 2) s) + sigma_t sqrt(h) xi`,
    /// `sigma_t = sigma beta_t` (`sigma` in `0..=3`), the score `s` converted from the field
    /// (exact for "marginal", the network's own for "learned"); without `score_correction` the
    /// drift is `u` alone. The noise is seeded with `seed`: the same call gives the same paths.
    pub fn flow_begin_sde(
        &self,
        kind: &str,
        xs: &[f32],
        steps: usize,
        sigma: f64,
        score_correction: bool,
        seed: u32,
    ) -> Result<ParticleFlow, JsError> {
        let diffusion = diffusion_of(sigma, score_correction)?;
        let ode = self.flow_begin(kind, xs, "euler", steps)?;
        let motion = Motion::Sde(diffusion, rng::seeded(u64::from(seed)));
        Ok(ParticleFlow(ode.0.moved_by(motion)))
    }

    /// Starts Langevin dynamics at the frozen time `t` for field `kind` ("marginal": the exact
    /// score; "learned": the network's) from interleaved `xs`, with `sigma_t = sigma beta_t`
    /// (`sigma` in `0..=3`), seeded: every [`Fields::flow_advance`] step is one frame of
    /// `LANGEVIN_SUBSTEPS = 4` steps of `ds = 0.01` (`sde::langevin`), without end.
    pub fn langevin_begin(
        &self,
        kind: &str,
        xs: &[f32],
        t: f64,
        sigma: f64,
        seed: u32,
    ) -> Result<ParticleFlow, JsError> {
        diffusion_of(sigma, true)?;
        if !limits::TIME.contains(t) {
            return Err(JsError::new(&format!("t must be in {}", limits::TIME)));
        }
        let start = self.flow_begin(kind, xs, "euler", 1)?;
        let motion = Motion::Langevin {
            t,
            sigma,
            rng: rng::seeded(u64::from(seed)),
        };
        Ok(ParticleFlow(start.0.moved_by(motion)))
    }

    /// The times of the flow grid of `steps` steps (at least 1) for the current schedule:
    /// `steps + 1` increasing times from 0 to `t_max` (`ode::time_grid`); frame `k` of
    /// [`Fields::flow_advance`] is at time `k + 1` of this list.
    pub fn flow_times(&self, steps: usize) -> Vec<f64> {
        ode::time_grid(self.marginal.path().schedule, steps.max(1))
    }

    /// Advances `flow` by up to `max_steps` steps along the current field; returns the
    /// positions after each step, concatenated (empty when the flow is done, or when it
    /// follows the network and none is loaded).
    pub fn flow_advance(&mut self, flow: &mut ParticleFlow, max_steps: usize) -> Vec<f32> {
        let sources = Sources {
            marginal: &self.marginal,
            classes: self.classes.as_ref(),
            network: self.mlp.as_ref(),
        };
        let mut frames = Vec::new();
        for _ in 0..max_steps {
            if !flow.0.step(sources, &mut self.flows.scratch) {
                break;
            }
            frames.extend(interleave(flow.0.points()));
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
