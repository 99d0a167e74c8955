//! `fmp train`: fits a network to a preset or a CSV cloud, samples it through the learned field
//! and prints one JSON line ([`TrainReport`]): the losses, the speed, the distances of the
//! samples to the data, the straight-path figures and, on labelled data, the guided ones.
//! Also the training loop `flow --field learned` uses ([`train_default`]) and the page's
//! divergence test ([`DivergenceWatch`]).

use std::time::Instant;

use serde::Serialize;

use super::args::{name, CsvFile, Expect, FlowSetup, Int, OutFile, Real, Switch};
use super::files::{self, read_labelled};
use super::{json_line, Failure};
use crate::adam::AdamParams;
use crate::data::{self, Preset};
use crate::guidance::{self, ClassMarginals, ExactGuided, LearnedGuided};
use crate::limits::{self, IntLimit};
use crate::metrics;
use crate::mlp::{Mlp, MlpConfig, MlpField};
use crate::ode::{self, Integrator, Solver};
use crate::path::{GaussianPath, Schedule};
use crate::rng;
use crate::straight;
use crate::trainer::{Coupling, TrainConfig, Trainer, P_UNCOND};
use crate::Point;

/// Default `--steps` (and `flow --train-steps`).
pub(super) const DEFAULT_STEPS: u64 = 5000;
/// Default `--points`.
const DEFAULT_POINTS: u64 = 2048;
/// Default `--ode-steps` (and `flow --steps`).
pub(super) const DEFAULT_ODE_STEPS: u64 = 50;

/// Number of final steps run with [`Trainer::step_reporting`] to report the losses.
const REPORT_STEPS: usize = 20;

/// Reflow rounds of `train --reflow` (each trains a network as long as the first).
const REFLOW: IntLimit = IntLimit {
    name: "reflow",
    page: None,
    min: 0,
    max: 5,
};

/// Particles of the straightness, crossing and few-step figures.
const STRAIGHT_PARTICLES: usize = 1000;

/// Particles of the guided figures on labelled data (the classes in turn).
const GUIDE_PARTICLES: usize = 400;

/// The guidance scales of those figures.
const GUIDE_W: [f64; 4] = [0.0, 1.0, 2.0, 4.0];

/// The flags of `fmp train`, as given (`None`: not given, the default applies).
#[derive(clap::Args, Clone, Debug)]
#[command(
    about = "fits a network to a preset or a CSV cloud, samples it, prints one JSON line.",
    override_usage = "fmp train [FLAGS]"
)]
pub(super) struct TrainFlags {
    /// The preset data set.
    #[arg(long, value_name = "NAME", value_parser = name::<Preset>(),
          help = name::<Preset>().help(format!("default {}", Preset::TwoMoons.name())))]
    preset: Option<Preset>,
    /// A CSV cloud instead of a preset.
    #[arg(long, value_name = "FILE.csv", value_parser = CsvFile(limits::POINTS),
          help = CsvFile(limits::POINTS).help(format!(
              "instead of --preset; a cloud reaching beyond +-{:.3} is rescaled into +-{:.3}, \
               as the page's import does; a third column of labels (1..={}) trains a \
               class-conditional network with label dropout {P_UNCOND} and reports guided \
               figures",
              limits::RESCALE_ABOVE,
              limits::RESCALE_TO,
              data::MAX_CLASSES,
          )))]
    data: Option<String>,
    /// Points of the preset.
    #[arg(long, value_name = "N", value_parser = Int(limits::POINTS),
          help = Int(limits::POINTS).help(format!("default {DEFAULT_POINTS}; presets only")))]
    points: Option<u64>,
    /// Training steps.
    #[arg(long, value_name = "N", value_parser = Int(limits::TRAIN_STEPS),
          help = Int(limits::TRAIN_STEPS).help(format!("default {DEFAULT_STEPS}")))]
    steps: Option<u64>,
    /// Units per hidden layer.
    #[arg(long, value_name = "W", value_parser = Int(limits::WIDTH),
          help = Int(limits::WIDTH).help(format!("default {}", TrainConfig::default().mlp.width)))]
    width: Option<u64>,
    /// Hidden layers.
    #[arg(long, value_name = "D", value_parser = Int(limits::DEPTH),
          help = Int(limits::DEPTH).help(format!("default {}", TrainConfig::default().mlp.depth)))]
    depth: Option<u64>,
    /// Sinusoidal time-feature pairs.
    #[arg(long, value_name = "K", value_parser = Int(limits::TIME_FEATURES),
          help = Int(limits::TIME_FEATURES)
              .help(format!("default {}", TrainConfig::default().mlp.time_features)))]
    time_features: Option<u64>,
    /// Minibatch size.
    #[arg(long, value_name = "B", value_parser = Int(limits::BATCH),
          help = Int(limits::BATCH).help(format!("default {}", TrainConfig::default().batch)))]
    batch: Option<u64>,
    /// Adam's base learning rate.
    #[arg(long, value_name = "LR", value_parser = Real(limits::LR),
          help = Real(limits::LR).help(format!("default {}", TrainConfig::default().adam.lr)))]
    lr: Option<f64>,
    /// `--schedule`, `--solver`, `--seed`.
    #[command(flatten)]
    setup: FlowSetup,
    /// Steps of the sampling ODE.
    #[arg(long, value_name = "K", value_parser = Int(limits::ODE_STEPS),
          help = Int(limits::ODE_STEPS).help(format!("default {DEFAULT_ODE_STEPS}")))]
    ode_steps: Option<u64>,
    /// Where to write the samples.
    #[arg(long, value_name = "OUT.csv", value_parser = OutFile,
          help = OutFile.help("write the generated samples there"))]
    samples: Option<String>,
    /// How a batch pairs noise and data.
    #[arg(long, value_name = "NAME", value_parser = name::<Coupling>(),
          help = name::<Coupling>().help(format!(
              "default {}; ot pairs noise and data in each batch by exact assignment",
              Coupling::default().name()
          )))]
    coupling: Option<Coupling>,
    /// Reflow rounds.
    #[arg(long, value_name = "K", value_parser = Int(REFLOW),
          help = Int(REFLOW).help(
              "default 0; K times: pairs from the network's ODE (RK4, 100 steps), a fresh \
               network trained --steps steps on their straight paths"
          ))]
    reflow: Option<u64>,
    /// Where to save the network.
    #[arg(long, value_name = "DIR", value_parser = OutFile,
          help = OutFile.help(
              "write the trained network there: model.safetensors, config.json, drawing.csv \
               (python/fmp_model.py loads them); a folder that holds files needs --force"
          ))]
    save: Option<String>,
    /// Overwrite `--samples` and the files of `--save`.
    #[arg(long, help = Switch.help(
        "overwrite --samples if it exists, and the files of a --save folder that holds some"
    ))]
    force: bool,
}

/// Where `train` gets its data.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Source {
    /// A preset and its number of points.
    Preset(Preset, usize),
    /// A CSV file.
    File(String),
}

/// A checked `train` command.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct TrainArgs {
    pub source: Source,
    pub config: TrainConfig,
    pub steps: usize,
    pub solver: Solver,
    pub ode_steps: usize,
    pub samples: Option<String>,
    pub save: Option<String>,
    pub reflow: usize,
    /// `--force`: overwrite `--samples` and `--save`'s files.
    pub force: bool,
}

impl TrainFlags {
    /// The command: the data source (`--preset` or `--data`), the configuration (the app's
    /// defaults, [`TrainConfig::default`], with the flags given).
    pub(super) fn check(self) -> Result<TrainArgs, Failure> {
        let source = match (self.preset, self.data) {
            (Some(_), Some(_)) => return Err("give --preset or --data, not both".into()),
            (None, Some(_)) if self.points.is_some() => {
                return Err("--points is for presets; a --data file brings its own points".into())
            }
            (None, Some(file)) => Source::File(file),
            (preset, None) => Source::Preset(
                preset.unwrap_or(Preset::TwoMoons),
                self.points.unwrap_or(DEFAULT_POINTS) as usize,
            ),
        };
        let d = TrainConfig::default();
        let or = |v: Option<u64>, default: usize| v.map_or(default, |v| v as usize);
        let config = TrainConfig {
            mlp: MlpConfig {
                width: or(self.width, d.mlp.width),
                depth: or(self.depth, d.mlp.depth),
                time_features: or(self.time_features, d.mlp.time_features),
                ..d.mlp
            },
            batch: or(self.batch, d.batch),
            adam: AdamParams {
                lr: self.lr.map_or(d.adam.lr, |lr| lr as f32),
                ..d.adam
            },
            schedule: self.setup.schedule.get(),
            seed: self.setup.seed(),
            coupling: self.coupling.unwrap_or_default(),
            ..d
        };
        Ok(TrainArgs {
            source,
            config,
            steps: self.steps.unwrap_or(DEFAULT_STEPS) as usize,
            solver: self.setup.solver.unwrap_or_default(),
            ode_steps: self.ode_steps.unwrap_or(DEFAULT_ODE_STEPS) as usize,
            samples: self.samples,
            save: self.save,
            reflow: self.reflow.unwrap_or(0) as usize,
            force: self.force,
        })
    }
}

/// The error of a diverged run at `step`.
fn diverged(step: usize, loss: f64) -> Failure {
    Failure::diverged(format!(
        "training diverged at step {step} (loss {loss:.3e}); lower --lr"
    ))
}

/// The page's divergence test over a run of CFM losses (see the module docs of `cli`).
#[derive(Default)]
pub(super) struct DivergenceWatch {
    sum: f64,
    count: usize,
}

impl DivergenceWatch {
    /// Records the loss of step `step` (1-based).
    pub(super) fn record(&mut self, step: usize, loss: f64) -> Result<(), Failure> {
        if !loss.is_finite() {
            return Err(diverged(step, loss));
        }
        self.sum += loss;
        self.count += 1;
        if self.count == limits::DIVERGENCE_WINDOW {
            self.flush(step)?;
        }
        Ok(())
    }

    /// Tests the mean of the losses recorded since the last test.
    pub(super) fn flush(&mut self, step: usize) -> Result<(), Failure> {
        if self.count > 0 {
            let mean = self.sum / self.count as f64;
            *self = DivergenceWatch::default();
            if !mean.is_finite() || mean > limits::DIVERGED_LOSS {
                return Err(diverged(step, mean));
            }
        }
        Ok(())
    }
}

/// A trainer for `config` on `data`: a class-conditional one ([`TrainConfig::labelled`]) when
/// the data has labels.
fn trainer(config: TrainConfig, data: Vec<Point>, labels: Option<Vec<u8>>) -> Trainer {
    match labels {
        Some(labels) => Trainer::new_labelled(config.labelled(), data, labels),
        None => Trainer::new(config, data),
    }
}

/// Trains `config`'s network on `data` (and `labels`) for `steps` steps, watching for
/// divergence: the training of `flow --field learned`.
pub(super) fn train_default(
    config: TrainConfig,
    data: Vec<Point>,
    labels: Option<Vec<u8>>,
    steps: usize,
) -> Result<Trainer, Failure> {
    let mut watch = DivergenceWatch::default();
    let mut trainer = trainer(config, data, labels);
    for k in 1..=steps {
        watch.record(k, trainer.step())?;
    }
    watch.flush(steps)?;
    Ok(trainer)
}

/// The JSON line of `train`.
#[derive(Serialize)]
struct TrainReport<'a> {
    command: &'static str,
    /// The preset's name or the file.
    data: &'a str,
    data_points: usize,
    data_rescaled: bool,
    eval_points: usize,
    data_subsampled: bool,
    width: usize,
    depth: usize,
    time_features: usize,
    batch: usize,
    lr: f32,
    schedule: &'static str,
    seed: u64,
    steps: usize,
    steps_per_s: f64,
    cfm_loss: f64,
    fm_loss: f64,
    grad_cosine: f64,
    solver: &'static str,
    ode_steps: usize,
    energy_distance: f64,
    w2: f64,
    coupling: &'static str,
    reflow: usize,
    #[serde(flatten)]
    straight: StraightFigures,
    #[serde(flatten)]
    guided: Option<GuidedFigures>,
}

/// Runs `fmp train`: the JSON line.
pub(super) fn run(a: &TrainArgs) -> Result<String, Failure> {
    // The outputs first: training takes seconds.
    if let Some(out) = &a.samples {
        files::check_output(out, a.force)?;
    }
    if let Some(dir) = &a.save {
        files::check_save_dir(dir, a.force)?;
    }
    let mut config = a.config;
    let seed = config.seed;
    let (source, data, rescaled, labels) = match &a.source {
        Source::File(file) => {
            let (points, labels) = read_labelled(file, limits::POINTS, true)?;
            let (points, rescaled) = data::fit_to_stage(points);
            (file.clone(), points, rescaled, labels)
        }
        Source::Preset(preset, n) => {
            let points = data::sample_preset(*preset, *n, &mut rng::seeded(seed.wrapping_add(1)));
            (preset.name().to_string(), points, false, None)
        }
    };
    // Labels: a class-conditional network with label dropout (classifier-free guidance).
    if labels.is_some() {
        if a.reflow > 0 {
            return Err("--reflow is for unlabelled data (the file has a column of labels)".into());
        }
        config = config.labelled();
    }

    // The reference cloud of the metrics: the data, or a random subset of W2_MAX_POINTS points.
    let n_data = data.len();
    let n_eval = n_data.min(metrics::W2_MAX_POINTS);
    let mut sample_rng = rng::seeded(seed.wrapping_add(2));
    let reference: Vec<Point> = if n_eval < n_data {
        let mut idx: Vec<usize> = (0..n_data).collect();
        for i in 0..n_eval {
            let j = i + rng::index(&mut sample_rng, n_data - i);
            idx.swap(i, j);
        }
        idx[..n_eval].iter().map(|&i| data[i]).collect()
    } else {
        data.clone()
    };

    // Train: plain steps (timed), then the last few with the exact FM loss; every loss is
    // watched for divergence.
    let steps = a.steps;
    let mut watch = DivergenceWatch::default();
    let drawing = match &labels {
        Some(l) => data::labelled_to_csv(&data, l),
        None => data::points_to_csv(&data),
    };
    let labelled_data = labels.as_ref().map(|l| (data.clone(), l.clone()));
    let mut trainer = trainer(config, data, labels);
    let plain = steps.saturating_sub(REPORT_STEPS);
    let start = Instant::now();
    for k in 1..=plain {
        watch.record(k, trainer.step())?;
    }
    let plain_s = start.elapsed().as_secs_f64();
    let (mut cfm, mut fm, mut cosine) = (0.0, 0.0, 0.0);
    for k in plain + 1..=steps {
        let r = trainer.step_reporting();
        watch.record(k, r.cfm_loss)?;
        if !r.fm_loss.is_finite() {
            return Err(diverged(k, r.fm_loss));
        }
        cfm += r.cfm_loss;
        fm += r.fm_loss;
        cosine += r.grad_cosine;
    }
    watch.flush(steps)?;
    let total_s = start.elapsed().as_secs_f64();
    let steps_per_s = if plain > 0 {
        plain as f64 / plain_s
    } else {
        steps as f64 / total_s
    };
    let denom = (steps - plain).max(1) as f64;

    // Reflow (k-rectified flow): pairs (x0, x1 = ODE_theta(x0)) from the current network, and a
    // fresh network trained on their straight paths, `a.reflow` times. The losses above are
    // of the first network.
    for round in 1..=a.reflow {
        let x0: Vec<Point> = (0..straight::REFLOW_PAIRS)
            .map(|_| rng::normal_pair(&mut sample_rng))
            .collect();
        let Some(x1) = straight::reflow_partners(trainer.model(), config.schedule, &x0) else {
            return Err(Failure::diverged(format!(
                "reflow {round}: the network sends its samples to infinity; lower --lr"
            )));
        };
        let pairs_config = TrainConfig {
            coupling: Coupling::Independent,
            ..config
        };
        let mut next = Trainer::with_pairs(pairs_config, x0, x1);
        let mut watch = DivergenceWatch::default();
        for k in 1..=steps {
            watch.record(k, next.step())?;
        }
        watch.flush(steps)?;
        trainer = next;
    }

    // Sample as many points as the reference has and compare.
    let mut samples: Vec<Point> = (0..n_eval)
        .map(|_| rng::normal_pair(&mut sample_rng))
        .collect();
    let mut field = MlpField::with_path(trainer.model(), GaussianPath::new(config.schedule));
    let times = ode::time_grid(config.schedule, a.ode_steps);
    Integrator::new().integrate_on(&mut field, a.solver, &mut samples, &times);
    if samples.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Failure::diverged(format!(
            "training diverged: after {steps} steps (loss {:.3e}) the learned field sends \
             samples to infinity; lower --lr",
            cfm / denom
        )));
    }
    let energy = metrics::energy_distance(&samples, &reference);
    let w2 = metrics::w2_exact(&samples, &reference)
        .map_err(|e| Failure::diverged(format!("w2: {e}")))?;
    let straight = straight_figures(
        trainer.model(),
        config.schedule,
        a.ode_steps,
        &reference,
        &mut sample_rng,
    );
    let guided = labelled_data.as_ref().map(|(points, labels)| {
        guided_figures(
            trainer.model(),
            config.schedule,
            (points, labels),
            (a.solver, a.ode_steps),
            &mut sample_rng,
        )
    });
    if let Some(out) = &a.samples {
        files::write(out, data::points_to_csv(&samples))?;
    }
    if let Some(dir) = &a.save {
        let info = crate::export::ExportInfo {
            schedule: config.schedule,
            steps: steps as u64,
            lr: config.adam.lr.to_string().parse().unwrap_or(f64::NAN),
            batch: config.batch,
            seed,
            solver: a.solver.name().to_string(),
            ode_steps: a.ode_steps,
            w2: Some((w2, samples.len())),
        };
        let saved = crate::export::files(trainer.model(), &info, &drawing)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: {e}", super::args::file_shown(dir)))?;
        for (name, bytes) in saved {
            files::write(
                &std::path::Path::new(dir).join(name).to_string_lossy(),
                bytes,
            )?;
        }
    }
    let c = config;
    json_line(&TrainReport {
        command: "train",
        data: &source,
        data_points: n_data,
        data_rescaled: rescaled,
        eval_points: n_eval,
        data_subsampled: n_eval < n_data,
        width: c.mlp.width,
        depth: c.mlp.depth,
        time_features: c.mlp.time_features,
        batch: c.batch,
        lr: c.adam.lr,
        schedule: c.schedule.name(),
        seed,
        steps,
        steps_per_s,
        cfm_loss: cfm / denom,
        fm_loss: fm / denom,
        grad_cosine: cosine / denom,
        solver: a.solver.name(),
        ode_steps: a.ode_steps,
        energy_distance: energy,
        w2,
        coupling: c.coupling.name(),
        reflow: a.reflow,
        straight,
        guided,
    })
}

/// The straight-path figures of a network: `straightness` and `crossings`
/// ([`metrics::straightness`], [`straight::crossings_thinned`] among the first 100 paths) of
/// 1,000 RK4 trajectories on the time grid, and `w2_at_steps`, the W2 to the reference after
/// each of [`straight::NFE`] Euler steps from the same noise ([`straight::w2_after_euler`]).
#[derive(Serialize)]
struct StraightFigures {
    straightness: f64,
    crossings: usize,
    /// `{"1": w2, "2": w2, ...}`, in the order of [`straight::NFE`].
    #[serde(serialize_with = "as_map")]
    w2_at_steps: Vec<(usize, f64)>,
}

/// `pairs` as a JSON object, in their order.
fn as_map<S: serde::Serializer>(pairs: &[(usize, f64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// The straight-path figures of `model`, sampled on the time grid of `ode_steps` steps.
fn straight_figures(
    model: &Mlp,
    schedule: Schedule,
    ode_steps: usize,
    reference: &[Point],
    rng: &mut rng::SeededRng,
) -> StraightFigures {
    let noise: Vec<Point> = (0..STRAIGHT_PARTICLES)
        .map(|_| rng::normal_pair(rng))
        .collect();
    let path = GaussianPath::new(schedule);
    let times = ode::time_grid(schedule, ode_steps);
    let mut frames = vec![noise.clone()];
    let mut xs = noise.clone();
    let mut integrator = Integrator::new();
    let mut field = MlpField::with_path(model, path);
    for w in times.windows(2) {
        integrator.integrate_on(&mut field, Solver::Rk4, &mut xs, w);
        frames.push(xs.clone());
    }
    StraightFigures {
        straightness: metrics::straightness(&frames, &times),
        crossings: straight::crossings_thinned(&frames),
        w2_at_steps: straight::NFE
            .iter()
            .map(|&n| {
                (
                    n,
                    straight::w2_after_euler(model, schedule, &noise, n, reference),
                )
            })
            .collect(),
    }
}

/// The guided figures of a class-conditional network on labelled data: `classes`, `p_uncond`,
/// and `guidance`.
#[derive(Serialize)]
struct GuidedFigures {
    classes: usize,
    p_uncond: f64,
    guidance: GuidanceTable,
}

/// For each `w` of [`GUIDE_W`], the fidelity and spread ([`guidance::measure`]) of
/// [`GUIDE_PARTICLES`] samples whose classes take turns, along the exact guided field
/// (closed-form steps) and the network's, from the same noise; `data_spread` is the classes'
/// own spread, weighted alike.
#[derive(Serialize)]
struct GuidanceTable {
    w: [f64; GUIDE_W.len()],
    particles: usize,
    exact: GuidedSide,
    learned: GuidedSide,
    data_spread: f64,
}

/// Fidelity and spread for each `w` (`null` where the samples went to infinity).
#[derive(Serialize)]
struct GuidedSide {
    fidelity: Vec<f64>,
    spread: Vec<f64>,
}

/// The guided figures of `model` on `data` with `labels`; the network's flow with `solver` in
/// `steps` steps.
fn guided_figures(
    model: &Mlp,
    schedule: Schedule,
    (data, labels): (&[Point], &[u8]),
    (solver, steps): (Solver, usize),
    rng: &mut rng::SeededRng,
) -> GuidedFigures {
    let path = GaussianPath::new(schedule);
    let marginals = ClassMarginals::new(data, labels, data::MAX_CLASSES, path);
    let present = marginals.present();
    let particle_labels = guidance::round_robin(&present, GUIDE_PARTICLES);
    let noise: Vec<Point> = (0..GUIDE_PARTICLES)
        .map(|_| rng::normal_pair(rng))
        .collect();
    let times = ode::time_grid(schedule, steps);
    let side = |learned: bool| {
        let (mut fidelity, mut spread) = (Vec::new(), Vec::new());
        for w in GUIDE_W {
            let mut xs = noise.clone();
            let mut integrator = Integrator::new();
            if learned {
                let mut f = LearnedGuided::new(model, path, &particle_labels, w);
                integrator.integrate_on(&mut f, solver, &mut xs, &times);
            } else {
                let mut f = ExactGuided::new(&marginals, &particle_labels, w);
                integrator.integrate_on(&mut f, Solver::PosteriorStep, &mut xs, &times);
            }
            let (f, s) = if xs.iter().flatten().all(|v| v.is_finite()) {
                guidance::measure(&xs, &particle_labels, data, labels)
            } else {
                (f64::NAN, f64::NAN)
            };
            fidelity.push(f);
            spread.push(s);
        }
        GuidedSide { fidelity, spread }
    };
    let (exact, learned) = (side(false), side(true));
    let (_, data_spread) = guidance::measure(data, labels, data, labels);
    GuidedFigures {
        classes: present.len(),
        p_uncond: P_UNCOND,
        guidance: GuidanceTable {
            w: GUIDE_W,
            particles: GUIDE_PARTICLES,
            exact,
            learned,
            data_spread,
        },
    }
}
