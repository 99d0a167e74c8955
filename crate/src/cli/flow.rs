//! `fmp flow`: carries noise from `t = 0` to the clamp through the exact marginal field of a
//! cloud or a network (trained here with the app defaults, or saved by `train --save`), along
//! the ODE, the SDE (`--sigma`) or a class's guided field (`--class`); writes the particles and
//! prints one JSON line ([`FlowReport`]).

use serde::Serialize;

use super::args::{
    file_shown, name, required, CsvFile, Expect, FlowSetup, Int, Named, OutFile, Real, Switch,
    Times, TimesList,
};
use super::files::{self, read_labelled};
use super::model::load_model;
use super::train::{train_default, DEFAULT_ODE_STEPS, DEFAULT_STEPS};
use super::{json_line, Failure};
use crate::data;
use crate::guidance::ClassMarginals;
use crate::kinds::FlowKind;
use crate::limits;
use crate::marginal::EmpiricalMarginal;
use crate::metrics;
use crate::ode::{self, Solver};
use crate::path::{GaussianPath, Schedule};
use crate::rng;
use crate::sampling::{Flow, Motion, Scratch, Sources};
use crate::sde::{self, Diffusion};
use crate::trainer::TrainConfig;
use crate::Point;

/// Default `--particles` (the page's default).
const DEFAULT_PARTICLES: u64 = 2000;
/// The solver `flow --sigma` reports: the SDE runs by Euler-Maruyama whatever `--solver`
/// would say ([`Motion::Sde`]).
const SDE_SOLVER: &str = "euler-maruyama";
/// Radius of `near_share`.
const NEAR_RADIUS: f64 = 0.01;

/// The field `flow` follows: `--field exact|learned`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FieldKind {
    /// The exact marginal field of the cloud.
    Exact,
    /// A network's.
    Learned,
}

impl Named for FieldKind {
    fn all() -> Vec<Self> {
        vec![FieldKind::Exact, FieldKind::Learned]
    }
    fn name(self) -> &'static str {
        match self {
            FieldKind::Exact => "exact",
            FieldKind::Learned => "learned",
        }
    }
}

/// The flags of `fmp flow`, as given (`None`: not given).
#[derive(clap::Args, Clone, Debug)]
#[command(
    about = "carries noise to t = 1 (the clamp) through the exact or a trained field, writes \
             the particles, prints one JSON line (share within 0.01 of a data point, W2).",
    override_usage = "fmp flow --data FILE.csv --field exact|learned --out OUT.csv [FLAGS]"
)]
pub(super) struct FlowFlags {
    /// The cloud (required).
    #[arg(long, value_name = "FILE.csv", value_parser = CsvFile(limits::POINTS),
          help = CsvFile(limits::POINTS).help("required; rescaled into the stage as by train"))]
    data: Option<String>,
    /// The field (required).
    #[arg(long, value_name = "NAME", value_parser = name::<FieldKind>(),
          help = name::<FieldKind>()
              .help("required: the exact marginal field or a trained network"))]
    field: Option<FieldKind>,
    /// Where to write the particles (required).
    #[arg(long, value_name = "OUT.csv", value_parser = OutFile,
          help = OutFile.help("required; the particles at t = 1 (the clamp)"))]
    out: Option<String>,
    /// `--schedule`, `--solver`, `--seed`.
    #[command(flatten)]
    setup: FlowSetup,
    /// Steps on the time grid.
    #[arg(long, value_name = "N", value_parser = Int(limits::FLOW_STEPS),
          help = Int(limits::FLOW_STEPS).help(format!(
              "default {DEFAULT_ODE_STEPS}; on the page's time grid (the page's least is {}; \
               1 is the one-step figure)",
              limits::ODE_STEPS.min
          )))]
    steps: Option<u64>,
    /// Particles.
    #[arg(long, value_name = "M", value_parser = Int(limits::PARTICLES),
          help = Int(limits::PARTICLES).help(format!("default {DEFAULT_PARTICLES}")))]
    particles: Option<u64>,
    /// Training steps of the learned field.
    #[arg(long, value_name = "N", value_parser = Int(limits::TRAIN_STEPS),
          help = Int(limits::TRAIN_STEPS)
              .help(format!("default {DEFAULT_STEPS}; learned only, app defaults")))]
    train_steps: Option<u64>,
    /// The SDE's noise level.
    #[arg(long, value_name = "S", value_parser = Real(limits::SIGMA),
          help = Real(limits::SIGMA).help(
              "the SDE with sigma_t = S beta_t by Euler-Maruyama on the same grid (0: Euler's \
               ODE), noise seeded with --seed + 1 as on the page; not with --solver"
          ))]
    sigma: Option<f64>,
    /// The SDE's drift without the score term.
    #[arg(long, help = Switch.help(
        "with --sigma: the drift is u_t alone, without (sigma_t^2 / 2) grad log p_t"
    ))]
    no_score_correction: bool,
    /// The class of a guided flow.
    #[arg(long, value_name = "Y", value_parser = Int(limits::CLASS),
          help = Int(limits::CLASS)
              .help("sample class Y of a labelled CSV (a third column) along the guided field"))]
    class: Option<u64>,
    /// The guidance scale.
    #[arg(long, value_name = "W", value_parser = Real(limits::GUIDANCE),
          help = Real(limits::GUIDANCE)
              .help("with --class; default 1: (1 - W) u_t(x) + W u_t(x|Y), exact or learned"))]
    guidance: Option<f64>,
    /// A saved network instead of training one.
    #[arg(long, value_name = "PATH", value_parser = OutFile,
          help = OutFile.help(
              "with --field learned: a folder written by train --save (or its \
               model.safetensors) instead of training; its schedule must be --schedule's"
          ))]
    model: Option<String>,
    /// Times at which to keep the particles.
    #[arg(long, value_name = "T1,T2,..", value_parser = TimesList,
          help = TimesList.help(
              "write the particles at the grid times nearest these (CSV t,x,y) and report the \
               energy distance to fresh samples of p_t there"
          ))]
    at_times: Option<Times>,
    /// Overwrite `--out` if it exists.
    #[arg(long, help = Switch.help("overwrite --out if it exists"))]
    force: bool,
}

/// A checked `flow` command.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FlowArgs {
    pub data: String,
    pub out: String,
    pub learned: bool,
    pub schedule: Schedule,
    pub solver: Solver,
    pub steps: usize,
    pub particles: usize,
    pub seed: u64,
    pub train_steps: usize,
    /// `--model`: a saved network to flow with instead of training one.
    pub model: Option<String>,
    /// `--class Y --guidance W`: the guided flow of class `Y`.
    pub guided: Option<(u8, f64)>,
    /// The SDE's noise (`--sigma`, `--no-score-correction`), or `None` for the ODE.
    pub diffusion: Option<Diffusion>,
    /// `--at-times`: write the particles at the grid times nearest these.
    pub at_times: Option<Vec<f64>>,
    /// `--force`: overwrite `--out`.
    pub force: bool,
}

impl FlowFlags {
    /// The command, with every required flag and no contradiction.
    pub(super) fn check(self) -> Result<FlowArgs, Failure> {
        let learned = required(self.field, "flow", "--field exact|learned")? == FieldKind::Learned;
        let rules: [(bool, &str); 7] = [
            (
                !learned && self.train_steps.is_some(),
                "--train-steps is for --field learned",
            ),
            (
                !learned && self.model.is_some(),
                "--model is for --field learned",
            ),
            (
                self.guidance.is_some() && self.class.is_none(),
                "--guidance needs --class",
            ),
            (
                self.class.is_some() && self.sigma.is_some(),
                "--class samples the guided ODE: give --class or --sigma, not both",
            ),
            (
                self.model.is_some() && self.train_steps.is_some(),
                "--model flows with a saved network: give --model or --train-steps, not both",
            ),
            (
                self.sigma.is_some() && self.setup.solver.is_some(),
                "--sigma integrates by Euler-Maruyama: give --sigma or --solver, not both",
            ),
            (
                self.no_score_correction && self.sigma.is_none(),
                "--no-score-correction needs --sigma",
            ),
        ];
        if let Some((_, message)) = rules.into_iter().find(|(broken, _)| *broken) {
            return Err(message.into());
        }
        let default_solver = if learned {
            Solver::Rk4
        } else {
            Solver::PosteriorStep
        };
        Ok(FlowArgs {
            data: required(self.data, "flow", "--data FILE.csv")?,
            out: required(self.out, "flow", "--out OUT.csv")?,
            learned,
            schedule: self.setup.schedule.get(),
            solver: self.setup.solver.unwrap_or(default_solver),
            steps: self.steps.unwrap_or(DEFAULT_ODE_STEPS) as usize,
            particles: self.particles.unwrap_or(DEFAULT_PARTICLES) as usize,
            seed: self.setup.seed(),
            train_steps: self.train_steps.unwrap_or(DEFAULT_STEPS) as usize,
            model: self.model,
            guided: self.class.map(|y| (y as u8, self.guidance.unwrap_or(1.0))),
            diffusion: self.sigma.map(|sigma| Diffusion {
                sigma,
                score_correction: !self.no_score_correction,
            }),
            at_times: self.at_times.map(|t| t.0),
            force: self.force,
        })
    }
}

/// The JSON line of `flow`.
#[derive(Serialize)]
struct FlowReport<'a> {
    command: &'static str,
    data: &'a str,
    data_points: usize,
    data_rescaled: bool,
    field: &'static str,
    schedule: &'static str,
    solver: &'static str,
    steps: usize,
    particles: usize,
    seed: u64,
    /// `null` unless a network was trained here.
    train_steps: Option<usize>,
    t_end: f64,
    beta_end: f64,
    near_radius: f64,
    near_share: f64,
    w2: f64,
    w2_points: usize,
    /// `null` for the ODE.
    sigma: Option<f64>,
    score_correction: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_times: Option<Vec<AtTime>>,
    #[serde(flatten)]
    guided: Option<GuidedFlow>,
}

/// The particles at a `--at-times` time against fresh samples of `p_t` there
/// ([`sde::marginal_match`]).
#[derive(Serialize)]
struct AtTime {
    /// The time asked for.
    t: f64,
    /// The grid time nearest it.
    t_used: f64,
    energy_distance: f64,
    /// The energy distance between two fresh samples.
    floor: f64,
}

/// The class, the scale, and the samples' fidelity and spread ([`crate::guidance::measure`]).
#[derive(Serialize)]
struct GuidedFlow {
    class: u8,
    guidance: f64,
    fidelity: f64,
    spread: f64,
}

/// Runs `fmp flow`: writes the particles, returns the JSON line.
pub(super) fn run(a: &FlowArgs) -> Result<String, Failure> {
    files::check_output(&a.out, a.force)?;
    // A saved network, checked before the data is read: its schedule must be the flow's.
    let saved = match &a.model {
        Some(file) => {
            let saved = load_model(file)?;
            if saved.schedule != a.schedule {
                return Err(format!(
                    "--schedule {} does not match the schedule of {}, {}: give --schedule {}",
                    a.schedule.name(),
                    file_shown(file),
                    saved.schedule.name(),
                    saved.schedule.name()
                )
                .into());
            }
            Some(saved.mlp)
        }
        None => None,
    };
    let (points, labels) = read_labelled(&a.data, limits::POINTS, true)?;
    let (data, rescaled) = data::fit_to_stage(points);
    let path = GaussianPath::new(a.schedule);
    // --class Y --guidance W: the class fields of the labelled cloud, every particle of class Y.
    let guided = match a.guided {
        Some((y, w)) => {
            let labels = labels.as_ref().ok_or_else(|| {
                format!(
                    "--class needs labels: {} has no third column",
                    file_shown(&a.data)
                )
            })?;
            let m = ClassMarginals::new(&data, labels, data::MAX_CLASSES, path);
            if m.class(y).is_none() {
                return Err(format!("{}: class {y} has no points", file_shown(&a.data)).into());
            }
            Some((y, w, m, vec![y; a.particles]))
        }
        None => None,
    };
    // The page's noise_points(particles, seed).
    let mut noise_rng = rng::seeded(a.seed);
    let xs: Vec<Point> = (0..a.particles)
        .map(|_| rng::normal_pair(&mut noise_rng))
        .collect();
    let times = ode::time_grid(a.schedule, a.steps);
    let marginal = EmpiricalMarginal::new(data.clone(), path);
    let network = match (saved, a.learned) {
        (Some(mlp), _) => Some(mlp),
        (None, true) => {
            let config = TrainConfig {
                schedule: a.schedule,
                seed: a.seed,
                ..TrainConfig::default()
            };
            let labels = guided.as_ref().and(labels.clone());
            Some(
                train_default(config, data.clone(), labels, a.train_steps)?
                    .model()
                    .clone(),
            )
        }
        (None, false) => None,
    };
    if guided.is_some() && network.as_ref().is_some_and(|n| n.config().classes == 0) {
        return Err("--class with --field learned needs a class-conditional network (--model of one trained on labels)".into());
    }
    // The field and the stepping are the page's (crate::sampling): the network's field when
    // there is one, else the exact one; guided to the class when --class is given.
    let kind = if network.is_some() {
        FlowKind::Learned
    } else {
        FlowKind::Marginal
    };
    // The page's SDE noise: seeded with the flow seed + 1 (the particles' noise has the seed).
    let motion = match a.diffusion {
        Some(d) => Motion::Sde(d, rng::seeded(a.seed.wrapping_add(1))),
        None => Motion::Ode(a.solver),
    };
    let mut flow = Flow::new(kind, motion, xs, times.clone());
    if let Some((_, w, _, particle_labels)) = &guided {
        flow = flow.guided(particle_labels.clone(), *w);
    }
    let sources = Sources {
        marginal: &marginal,
        classes: guided.as_ref().map(|(_, _, m, _)| m),
        network: network.as_ref(),
    };
    // The frames to keep: the grid indices nearest the --at-times (the end when none).
    let keep: Vec<usize> = match &a.at_times {
        Some(ts) => ts.iter().map(|&t| sde::nearest_time(&times, t)).collect(),
        None => vec![times.len() - 1],
    };
    let mut kept: Vec<(usize, Vec<Point>)> = Vec::new();
    let mut scratch = Scratch::new();
    for k in 0..times.len() {
        if k > 0 {
            flow.step(sources, &mut scratch);
        }
        if keep.contains(&k) {
            kept.push((k, flow.points().to_vec()));
        }
    }
    let xs = flow.points().to_vec();
    let finite = |xs: &[Point]| xs.iter().flatten().all(|v| v.is_finite());
    if let (Some(file), false) = (&a.model, finite(&xs)) {
        return Err(format!(
            "{}: the model is not finite: its field sends particles to infinity (its weights \
             overflow)",
            file_shown(file)
        )
        .into());
    }
    if !finite(&xs) {
        if !a.learned {
            return Err("the exact flow sent particles to infinity".into());
        }
        return Err(Failure::diverged(format!(
            "training diverged: after {} steps the learned field sends particles to infinity",
            a.train_steps
        )));
    }
    let near = metrics::near_fraction(&xs, &data, NEAR_RADIUS);
    let w2 = metrics::w2_capped(&xs, &data).map_err(|e| format!("w2: {e}"))?;
    let guided_report = match (&guided, &labels) {
        (Some((y, w, _, particle_labels)), Some(data_labels)) => {
            let (fidelity, spread) =
                crate::guidance::measure(&xs, particle_labels, &data, data_labels);
            Some(GuidedFlow {
                class: *y,
                guidance: *w,
                fidelity,
                spread,
            })
        }
        _ => None,
    };
    let (csv, at_times) = match &a.at_times {
        None => (data::points_to_csv(&xs), None),
        Some(wanted) => {
            let mut csv = String::from("t,x,y\n");
            let mut rows = Vec::new();
            for (&tau, &k) in wanted.iter().zip(&keep) {
                let frame = kept
                    .iter()
                    .find(|(i, _)| *i == k)
                    .map(|(_, frame)| frame)
                    .ok_or("a kept frame is missing")?;
                for p in frame {
                    csv.push_str(&format!("{},{},{}\n", times[k], p[0], p[1]));
                }
                let (energy_distance, floor) =
                    sde::marginal_match(&marginal, frame, times[k], a.seed);
                rows.push(AtTime {
                    t: tau,
                    t_used: times[k],
                    energy_distance,
                    floor,
                });
            }
            (csv, Some(rows))
        }
    };
    files::write(&a.out, csv)?;
    let t_end = times.last().copied().unwrap_or(0.0);
    json_line(&FlowReport {
        command: "flow",
        data: &a.data,
        data_points: data.len(),
        data_rescaled: rescaled,
        field: if a.learned { "learned" } else { "exact" },
        schedule: a.schedule.name(),
        solver: match a.diffusion {
            Some(_) => SDE_SOLVER,
            None => a.solver.name(),
        },
        steps: a.steps,
        particles: a.particles,
        seed: a.seed,
        train_steps: (a.learned && a.model.is_none()).then_some(a.train_steps),
        t_end,
        beta_end: a.schedule.beta(t_end),
        near_radius: NEAR_RADIUS,
        near_share: near,
        w2,
        w2_points: xs.len().min(data.len()).min(metrics::W2_MAX_POINTS),
        sigma: a.diffusion.map(|d| d.sigma),
        score_correction: a.diffusion.map(|d| d.score_correction),
        at_times,
        guided: guided_report,
    })
}
