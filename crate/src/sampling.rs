//! Sampling: the one place that chooses the field particles follow and moves them along it,
//! for the page's flow worker (`wasm::flows`) and the command line (`cli::flow`).
//!
//! A [`Flow`] holds particles, the field kind they follow ([`FlowKind`]: the exact marginal
//! field of the cloud, the wrong field with uniform weights, or the network's), optionally a
//! guidance (each particle's class and the scale `w`, [`crate::guidance`]), how they move
//! ([`Motion`]: an ODE solver, Euler-Maruyama for the SDE of a noise level, or Langevin at a
//! frozen time) and where on its time grid they are. The grid is [`crate::ode::time_grid`] of the
//! schedule from `t = 0` (noise) to `t_max` (the clamp, shown as `t = 1`); step `k` moves the
//! particles from `times[k]` to `times[k + 1]`. The field itself comes from [`Sources`] at
//! each step, so a flow follows the cloud and the network its owner holds at that moment.

use crate::continuity::UniformField;
use crate::guidance::{ClassMarginals, ExactGuided, LearnedGuided};
use crate::kinds::FlowKind;
use crate::marginal::EmpiricalMarginal;
use crate::mlp::{Mlp, MlpField};
use crate::ode::{Integrator, MarginalField, Solver, VectorField};
use crate::rng::SeededRng;
use crate::sde::{self, Diffusion};
use crate::Point;

/// Langevin steps per step of a Langevin flow (each of `ds = LANGEVIN_DS`).
pub const LANGEVIN_SUBSTEPS: usize = 4;

/// The Langevin step `ds` (see `sde::langevin`: the bias is of order `ds sigma^2`).
pub const LANGEVIN_DS: f64 = 0.01;

/// How a flow moves its particles.
pub enum Motion {
    /// An ODE solver on the time grid.
    Ode(Solver),
    /// Euler-Maruyama on the time grid for the SDE of `Diffusion` (`sigma_t = sigma beta_t`),
    /// with its own seeded noise.
    Sde(Diffusion, SeededRng),
    /// Langevin dynamics at the frozen time `t` with `sigma_t = sigma beta_t`: no end, every
    /// step is [`LANGEVIN_SUBSTEPS`] steps of [`LANGEVIN_DS`].
    Langevin {
        /// The frozen time.
        t: f64,
        /// The noise level (`sigma_t = sigma beta_t`).
        sigma: f64,
        /// The noise.
        rng: SeededRng,
    },
}

/// What a flow's field is made of, at the moment of a step: the cloud's exact marginal (its
/// path fixes the schedule), its class fields (for an exact guided flow) and the network.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    /// The exact marginal of the cloud (and the Gaussian path of the schedule).
    pub marginal: &'a EmpiricalMarginal,
    /// The exact class fields of a labelled cloud, if any.
    pub classes: Option<&'a ClassMarginals>,
    /// The network, if any.
    pub network: Option<&'a Mlp>,
}

/// The scratch space steps share (the ODE integrator's stages, the SDE's drift buffer).
#[derive(Default)]
pub struct Scratch {
    integrator: Integrator,
    buf: Vec<Point>,
}

impl Scratch {
    /// Empty scratch space.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Particles moving along a field (see the module docs).
pub struct Flow {
    kind: FlowKind,
    motion: Motion,
    xs: Vec<Point>,
    step: usize,
    times: Vec<f64>,
    /// Each particle's class and the guidance scale `w` of a guided flow.
    guide: Option<(Vec<u8>, f64)>,
}

impl Flow {
    /// Particles `xs` at `times[0]` following field `kind`, moved by `motion` on `times` (at
    /// least one time; a Langevin flow uses only its frozen time).
    pub fn new(kind: FlowKind, motion: Motion, xs: Vec<Point>, times: Vec<f64>) -> Flow {
        Flow {
            kind,
            motion,
            xs,
            step: 0,
            times,
            guide: None,
        }
    }

    /// The same flow guided to classes `labels` (one per particle) at scale `w`: the exact
    /// kind follows [`ExactGuided`], the learned one [`LearnedGuided`].
    pub fn guided(self, labels: Vec<u8>, w: f64) -> Flow {
        Flow {
            guide: Some((labels, w)),
            ..self
        }
    }

    /// The same flow, its particles moved by `motion` instead (an SDE or Langevin flow from
    /// an ODE flow's start, field and grid).
    pub fn moved_by(self, motion: Motion) -> Flow {
        Flow { motion, ..self }
    }

    /// The particles now.
    pub fn points(&self) -> &[Point] {
        &self.xs
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.step
    }

    /// Whether every step of the grid is taken (never for Langevin).
    pub fn done(&self) -> bool {
        !matches!(self.motion, Motion::Langevin { .. }) && self.step + 1 >= self.times.len()
    }

    /// Takes one step along the field of `sources`; false (and nothing moves) when the flow
    /// is done or its field needs what `sources` lacks (a network, class fields).
    pub fn step(&mut self, sources: Sources, scratch: &mut Scratch) -> bool {
        if self.done() {
            return false;
        }
        let path = sources.marginal.path();
        let times = &self.times[self.step.min(self.times.len() - 1)..];
        let times = &times[..times.len().min(2)];
        let mut marginal = MarginalField {
            marginal: sources.marginal,
        };
        let mut uniform = UniformField(sources.marginal);
        let mut learned = sources.network.map(|mlp| MlpField::with_path(mlp, path));
        let guide = self.guide.as_ref();
        let mut exact_guided = guide
            .zip(sources.classes)
            .map(|((labels, w), m)| ExactGuided::new(m, labels, *w));
        let mut learned_guided = guide
            .zip(sources.network)
            .map(|((labels, w), mlp)| LearnedGuided::new(mlp, path, labels, *w));
        let field: &mut dyn VectorField = match (self.kind, guide.is_some()) {
            (FlowKind::Marginal, false) => &mut marginal,
            (FlowKind::Uniform, _) => &mut uniform,
            (FlowKind::Learned, false) => match learned.as_mut() {
                Some(f) => f,
                None => return false,
            },
            (FlowKind::Marginal, true) => match exact_guided.as_mut() {
                Some(f) => f,
                None => return false,
            },
            (FlowKind::Learned, true) => match learned_guided.as_mut() {
                Some(f) => f,
                None => return false,
            },
        };
        let xs = &mut self.xs;
        match &mut self.motion {
            Motion::Ode(solver) => scratch.integrator.integrate_on(field, *solver, xs, times),
            Motion::Sde(diffusion, rng) => {
                sde::euler_maruyama(field, path, *diffusion, xs, times, rng, &mut scratch.buf)
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
                &mut scratch.buf,
            ),
        }
        self.step += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::{GaussianPath, Schedule};
    use crate::{ode, rng};

    fn cloud() -> EmpiricalMarginal {
        let points = vec![[1.0, 0.5], [-1.0, -0.5], [0.2, 1.2]];
        EmpiricalMarginal::new(points, GaussianPath::new(Schedule::Linear))
    }

    /// A flow's steps are the integrator's on the same grid, one interval at a time.
    #[test]
    fn an_ode_flow_is_the_integrator_on_its_grid() {
        let marginal = cloud();
        let sources = Sources {
            marginal: &marginal,
            classes: None,
            network: None,
        };
        let times = ode::time_grid(Schedule::Linear, 8);
        let xs = vec![[0.3, -0.2], [1.5, 0.1]];
        let mut flow = Flow::new(
            FlowKind::Marginal,
            Motion::Ode(Solver::Rk4),
            xs.clone(),
            times.clone(),
        );
        let mut scratch = Scratch::new();
        while flow.step(sources, &mut scratch) {}
        assert!(flow.done());
        assert_eq!(flow.steps_done(), 8);
        let mut want = xs;
        let mut field = MarginalField {
            marginal: &marginal,
        };
        let mut integrator = Integrator::new();
        for k in 0..8 {
            integrator.integrate_on(&mut field, Solver::Rk4, &mut want, &times[k..=k + 1]);
        }
        assert_eq!(flow.points(), &want[..]);
    }

    /// A learned flow without a network, or a guided exact flow without class fields, does
    /// not move; an SDE flow with sigma = 0 is the Euler ODE; Langevin has no end.
    #[test]
    fn missing_sources_stop_a_flow_and_the_motions_differ_as_documented() {
        let marginal = cloud();
        let sources = Sources {
            marginal: &marginal,
            classes: None,
            network: None,
        };
        let times = ode::time_grid(Schedule::Linear, 5);
        let xs = vec![[0.3, -0.2]];
        let mut scratch = Scratch::new();
        let mut learned = Flow::new(
            FlowKind::Learned,
            Motion::Ode(Solver::Euler),
            xs.clone(),
            times.clone(),
        );
        assert!(!learned.step(sources, &mut scratch));
        assert_eq!(learned.points(), &xs[..]);
        let mut guided = Flow::new(
            FlowKind::Marginal,
            Motion::Ode(Solver::Euler),
            xs.clone(),
            times.clone(),
        )
        .guided(vec![1], 2.0);
        assert!(!guided.step(sources, &mut scratch));
        let no_noise = Diffusion {
            sigma: 0.0,
            score_correction: true,
        };
        let mut sde = Flow::new(
            FlowKind::Marginal,
            Motion::Sde(no_noise, rng::seeded(1)),
            xs.clone(),
            times.clone(),
        );
        let mut euler = Flow::new(FlowKind::Marginal, Motion::Ode(Solver::Euler), xs, times);
        while sde.step(sources, &mut scratch) {
            assert!(euler.step(sources, &mut scratch));
        }
        assert_eq!(sde.points(), euler.points());
        let start = vec![[0.0, 0.0]; 4];
        let langevin = Motion::Langevin {
            t: 0.5,
            sigma: 1.0,
            rng: rng::seeded(2),
        };
        let mut frozen = Flow::new(FlowKind::Marginal, langevin, start, vec![0.5]);
        for _ in 0..50 {
            assert!(frozen.step(sources, &mut scratch));
        }
        assert!(!frozen.done());
    }
}
