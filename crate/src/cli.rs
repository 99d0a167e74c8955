//! The command line (`cargo run --release --example fmp -- ...`), as a library function so that
//! tests call it directly: [`run`] takes the arguments and returns stdout, stderr and the exit
//! code. Native only (it reads files and the wall clock).
//!
//! Three commands, `fmp train [FLAGS]`, `fmp field --data FILE.csv --t T --at QUERY.csv
//! [--schedule NAME]` and `fmp flow --data FILE.csv --field exact|learned --out OUT.csv
//! [FLAGS]`; `fmp --help` prints every flag with its range, generated from one flag table per
//! command whose ranges are [`crate::limits`] (the page's numbers, plus those only the command
//! line has).
//!
//! `train` fits the default network (flags override [`TrainConfig::default`]) to a preset
//! (default two moons, `--points` points, default 2,048) or to a CSV cloud, then integrates as
//! many points as the data has (at most 2,048; a larger cloud is subsampled for the metrics)
//! from `N(0, I)` through the learned field and prints one JSON line: steps, steps/s, final CFM
//! and FM losses (averaged over the last reported steps), energy distance and exact W2 to the
//! data. `field` prints the exact marginal at time `t` at each query point as CSV
//! `x,y,u_x,u_y,score_x,score_y,log_density,divergence,t_used`, where `t_used` is `t` clamped to
//! the schedule's `t_max` (where `beta = BETA_MIN`, [`crate::path`]): for a `t` beyond it
//! (`--t 1`) the field is that of the clamp, and a note on stderr says so (`note: t = 1 is
//! evaluated at the clamp t = 0.999 (beta = 0.001)`; exit code 0).
//!
//! Flows (`train`'s samples, `flow`) run on [`ode::time_grid`] from 0 to `t_max`, the page's
//! grid, with the page's solvers.
//!
//! Straight paths: `train --coupling ot` pairs noise and data in each batch by exact
//! assignment ([`crate::trainer::Coupling`]); `--reflow K` then trains K fresh networks, each on
//! pairs from the previous one's ODE. Its JSON line adds `straightness` and `crossings` (1,000
//! RK4 trajectories; crossing pairs among the first 100) and `w2_at_steps`, the W2 to the data
//! after 1, 2, 4, 8, 16, 32 and 64 Euler steps from the same noise.
//!
//! `flow` carries `--particles` samples of `N(0, I)` (seeded with `--seed`, the page's
//! `noise_points(particles, seed)`) from `t = 0` to `t = 1` (the clamp `t_max`, as the page shows
//! it) through the exact marginal field of the cloud (`--field exact`) or a network trained on
//! it for `--train-steps` steps with the app defaults ([`TrainConfig::default`], the schedule
//! and seed given), writes the particles to `--out` as CSV and prints one JSON line: the
//! share of particles within 0.01 of a data point (`near_share`), the exact W2 to the data
//! (both reduced to `min(particles, points, 2048)` points by [`metrics::w2_capped`]), and
//! `t_end` / `beta_end`, the clamp. The cloud is rescaled as `train` does (`data_rescaled`).
//! Defaults: schedule linear, solver `exact-step` for the exact field and `rk4` for the
//! learned one, 50 steps, 2,000 particles, seed 0, 5,000 training steps.
//!
//! ## Checks and exit codes
//! - Every flag value is checked as it is read, in command-line order (so the first bad
//!   argument is the one reported): integers are decimal and within their range, numbers are
//!   finite and within theirs, names are one of the listed ones.
//! - A CSV file (`--data`, `--at`) has at most [`limits::MAX_FILE_BYTES`] bytes, is UTF-8 (else
//!   the error names the line of the first invalid byte), and parses with
//!   [`data::parse_points_csv`] (finite coordinates within `+-`[`limits::MAX_COORD`], errors
//!   name the line); a data cloud has at most [`limits::POINTS`] points (the page's
//!   `MAX_POINTS`), a query file at most [`limits::QUERY_POINTS`].
//! - Data outside the stage: `train` does what the page's CSV import does
//!   ([`data::fit_to_stage`]): a cloud with a coordinate beyond `0.95 WORLD` is rescaled into
//!   `0.85 WORLD`, so a file trains on the same cloud here and on the page. The output says so
//!   (`"data_rescaled":true`), and the metrics and `--samples` are then in the rescaled
//!   coordinates. `field` uses the data and the queries as given: it reports the exact field
//!   of the cloud in the file, at the points in the other.
//! - Divergence: training stops as soon as a CFM loss is not finite or the mean CFM loss of a
//!   run of [`limits::DIVERGENCE_WINDOW`] steps exceeds [`limits::DIVERGED_LOSS`] (the page's
//!   test), or when the trained field sends samples to infinity.
//!
//! Exit code 0 on success; 1 when training diverged (`error: training diverged at step N (loss
//! L); lower --lr`); 2 for a bad argument or input. Every error is one line on stderr, starting
//! with `error: `, naming the flag and its range, or the file and the line.

use std::ffi::OsString;
use std::io::Read;
use std::time::Instant;

use crate::data::{self, Preset};
use crate::json;
use crate::limits::{self, IntLimit, RealLimit};
use crate::marginal::EmpiricalMarginal;
use crate::metrics;
use crate::mlp::MlpField;
use crate::ode::{self, Integrator, Solver};
use crate::path::{GaussianPath, Schedule};
use crate::rng;
use crate::sde::{self, Diffusion};
use crate::straight;
use crate::trainer::{Coupling, TrainConfig, Trainer};
use crate::Point;

/// What a command run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error (one line on failure; a one-line note on success when `field`'s `t` is
    /// past the clamp).
    pub stderr: String,
    /// Exit code: 0 on success, 1 when training diverged, 2 on a usage or input error.
    pub code: i32,
}

/// Exit code of a usage or input error.
const EXIT_USAGE: i32 = 2;
/// Exit code of a diverged training run.
const EXIT_DIVERGED: i32 = 1;

/// Number of final steps run with [`Trainer::step_reporting`] to report the losses.
const REPORT_STEPS: usize = 20;

/// Default `--steps`.
const DEFAULT_STEPS: u64 = 5000;
/// Default `--points`.
const DEFAULT_POINTS: u64 = 2048;
/// Default `--ode-steps` (and `flow --steps`).
const DEFAULT_ODE_STEPS: u64 = 50;
/// Default `flow --particles` (the page's default).
const DEFAULT_PARTICLES: u64 = 2000;
/// Radius of `flow`'s `near_share`.
const NEAR_RADIUS: f64 = 0.01;

/// A failed run: exit code and a one-line message (without the `error: ` prefix).
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            code: EXIT_USAGE,
            message,
        }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

/// What a flag takes.
#[derive(Clone, Copy)]
enum Kind {
    /// A decimal integer in range.
    Int(IntLimit),
    /// A finite number in range.
    Real(RealLimit),
    /// One of a list of names.
    Choice(fn() -> Vec<&'static str>),
    /// A CSV file to read, with the limit on its number of points.
    Csv(IntLimit),
    /// A file to write.
    Out,
    /// A switch: no value.
    Switch,
    /// Times in `0..=1`, separated by commas.
    Times,
}

/// One row of a command's flag table.
struct Flag {
    name: &'static str,
    /// Placeholder of the value in the usage text.
    meta: &'static str,
    kind: Kind,
    /// The rest of the usage line: default, remarks.
    note: String,
}

fn preset_names() -> Vec<&'static str> {
    Preset::ALL.iter().map(|p| p.name()).collect()
}

fn schedule_names() -> Vec<&'static str> {
    Schedule::ALL.iter().map(|s| s.name()).collect()
}

fn coupling_names() -> Vec<&'static str> {
    Coupling::ALL.iter().map(|c| c.name()).collect()
}

/// Reflow rounds of `train --reflow` (each trains a network as long as the first).
const REFLOW: IntLimit = IntLimit {
    name: "reflow",
    page: None,
    min: 0,
    max: 5,
};

/// Particles of the straightness, crossing and few-step figures of `train`.
const STRAIGHT_PARTICLES: usize = 1000;

fn solver_names() -> Vec<&'static str> {
    Solver::ALL.iter().map(|s| s.name()).collect()
}

/// The flags of `train`, in usage order.
fn train_flags() -> Vec<Flag> {
    let c = TrainConfig::default();
    let flag = |name, meta, kind, note: String| Flag {
        name,
        meta,
        kind,
        note,
    };
    vec![
        flag(
            "--preset",
            "NAME",
            Kind::Choice(preset_names),
            "default moons".into(),
        ),
        flag(
            "--data",
            "FILE.csv",
            Kind::Csv(limits::POINTS),
            format!(
                "instead of --preset; a cloud reaching beyond +-{:.3} is rescaled into \
                 +-{:.3}, as the page's import does; a third column of labels (1..={}) trains \
                 a class-conditional network with label dropout {} and reports guided figures",
                limits::RESCALE_ABOVE,
                limits::RESCALE_TO,
                data::MAX_CLASSES,
                crate::trainer::P_UNCOND
            ),
        ),
        flag(
            "--points",
            "N",
            Kind::Int(limits::POINTS),
            format!("default {DEFAULT_POINTS}; presets only"),
        ),
        flag(
            "--steps",
            "N",
            Kind::Int(limits::TRAIN_STEPS),
            format!("default {DEFAULT_STEPS}"),
        ),
        flag(
            "--seed",
            "S",
            Kind::Int(limits::SEED),
            format!("default {}", c.seed),
        ),
        flag(
            "--width",
            "W",
            Kind::Int(limits::WIDTH),
            format!("default {}", c.mlp.width),
        ),
        flag(
            "--depth",
            "D",
            Kind::Int(limits::DEPTH),
            format!("default {}", c.mlp.depth),
        ),
        flag(
            "--time-features",
            "K",
            Kind::Int(limits::TIME_FEATURES),
            format!("default {}", c.mlp.time_features),
        ),
        flag(
            "--batch",
            "B",
            Kind::Int(limits::BATCH),
            format!("default {}", c.batch),
        ),
        flag(
            "--lr",
            "LR",
            Kind::Real(limits::LR),
            format!("default {}", c.adam.lr),
        ),
        flag(
            "--schedule",
            "NAME",
            Kind::Choice(schedule_names),
            format!("default {}", c.schedule.name()),
        ),
        flag(
            "--solver",
            "NAME",
            Kind::Choice(solver_names),
            format!("default {}", Solver::default().name()),
        ),
        flag(
            "--ode-steps",
            "K",
            Kind::Int(limits::ODE_STEPS),
            format!("default {DEFAULT_ODE_STEPS}"),
        ),
        flag(
            "--samples",
            "OUT.csv",
            Kind::Out,
            "write the generated samples there".into(),
        ),
        flag(
            "--coupling",
            "NAME",
            Kind::Choice(coupling_names),
            "default independent; ot pairs noise and data in each batch by exact assignment".into(),
        ),
        flag(
            "--reflow",
            "K",
            Kind::Int(REFLOW),
            "default 0; K times: pairs from the network's ODE (RK4, 100 steps), a fresh network \
             trained --steps steps on their straight paths"
                .into(),
        ),
        flag(
            "--save",
            "DIR",
            Kind::Out,
            "write the trained network there: model.safetensors, config.json, drawing.csv \
             (python/fmp_model.py loads them)"
                .into(),
        ),
    ]
}

/// The flags of `eval`, in usage order.
fn eval_flags() -> Vec<Flag> {
    vec![
        Flag {
            name: "--model",
            meta: "PATH",
            kind: Kind::Out,
            note: "required: a folder written by train --save, or its model.safetensors".into(),
        },
        Flag {
            name: "--t",
            meta: "T",
            kind: Kind::Real(limits::TIME),
            note: "required".into(),
        },
        Flag {
            name: "--at",
            meta: "QUERY.csv",
            kind: Kind::Csv(limits::QUERY_POINTS),
            note: "required; the query points".into(),
        },
    ]
}

/// The flags of `field`, in usage order.
fn field_flags() -> Vec<Flag> {
    vec![
        Flag {
            name: "--data",
            meta: "FILE.csv",
            kind: Kind::Csv(limits::POINTS),
            note: "required; used as given".into(),
        },
        Flag {
            name: "--t",
            meta: "T",
            kind: Kind::Real(limits::TIME),
            note: "required".into(),
        },
        Flag {
            name: "--at",
            meta: "QUERY.csv",
            kind: Kind::Csv(limits::QUERY_POINTS),
            note: "required; the query points, used as given".into(),
        },
        Flag {
            name: "--schedule",
            meta: "NAME",
            kind: Kind::Choice(schedule_names),
            note: format!("default {}", Schedule::default().name()),
        },
    ]
}

fn field_kinds() -> Vec<&'static str> {
    vec!["exact", "learned"]
}

/// The flags of `flow`, in usage order.
fn flow_flags() -> Vec<Flag> {
    let flag = |name, meta, kind, note: String| Flag {
        name,
        meta,
        kind,
        note,
    };
    vec![
        flag(
            "--data",
            "FILE.csv",
            Kind::Csv(limits::POINTS),
            "required; rescaled into the stage as by train".into(),
        ),
        flag(
            "--field",
            "NAME",
            Kind::Choice(field_kinds),
            "required: the exact marginal field or a trained network".into(),
        ),
        flag(
            "--out",
            "OUT.csv",
            Kind::Out,
            "required; the particles at t = 1 (the clamp)".into(),
        ),
        flag(
            "--schedule",
            "NAME",
            Kind::Choice(schedule_names),
            format!("default {}", Schedule::default().name()),
        ),
        flag(
            "--solver",
            "NAME",
            Kind::Choice(solver_names),
            format!(
                "default {} for exact, {} for learned",
                Solver::PosteriorStep.name(),
                Solver::Rk4.name()
            ),
        ),
        flag(
            "--steps",
            "N",
            Kind::Int(limits::ODE_STEPS),
            format!("default {DEFAULT_ODE_STEPS}; on the page's time grid"),
        ),
        flag(
            "--particles",
            "M",
            Kind::Int(limits::PARTICLES),
            format!("default {DEFAULT_PARTICLES}"),
        ),
        flag(
            "--seed",
            "S",
            Kind::Int(limits::SEED),
            "default 0; of the particles and of the training".into(),
        ),
        flag(
            "--train-steps",
            "N",
            Kind::Int(limits::TRAIN_STEPS),
            format!("default {DEFAULT_STEPS}; learned only, app defaults"),
        ),
        flag(
            "--sigma",
            "S",
            Kind::Real(limits::SIGMA),
            "the SDE with sigma_t = S beta_t by Euler-Maruyama on the same grid (0: Euler's ODE), \
             noise seeded with --seed + 1 as on the page; not with --solver"
                .into(),
        ),
        flag(
            "--no-score-correction",
            "",
            Kind::Switch,
            "with --sigma: the drift is u_t alone, without (sigma_t^2 / 2) grad log p_t".into(),
        ),
        flag(
            "--class",
            "Y",
            Kind::Int(limits::CLASS),
            "sample class Y of a labelled CSV (a third column) along the guided field".into(),
        ),
        flag(
            "--guidance",
            "W",
            Kind::Real(limits::GUIDANCE),
            "with --class; default 1: (1 - W) u_t(x) + W u_t(x|Y), exact or learned".into(),
        ),
        flag(
            "--model",
            "PATH",
            Kind::Out,
            "with --field learned: a folder written by train --save (or its model.safetensors) \
             instead of training; its schedule must be --schedule's"
                .into(),
        ),
        flag(
            "--at-times",
            "T1,T2,..",
            Kind::Times,
            "write the particles at the grid times nearest these (CSV t,x,y) and report the \
             energy distance to fresh samples of p_t there"
                .into(),
        ),
    ]
}

impl Flag {
    /// What the value must be, e.g. `an integer in 4..=512`.
    fn expects(&self) -> String {
        match self.kind {
            Kind::Int(l) => format!("an integer in {l}"),
            Kind::Real(l) => format!("a number in {l}"),
            Kind::Choice(names) => format!("one of {}", names().join(", ")),
            Kind::Csv(l) => format!("a CSV file of at most {} points", l.max),
            Kind::Out => "a file name".to_string(),
            Kind::Switch => "given without a value".to_string(),
            Kind::Times => format!("times in {}, separated by commas", limits::TIME),
        }
    }

    /// The usage line.
    fn usage_line(&self) -> String {
        let head = format!("{} {}", self.name, self.meta);
        format!("  {head:<24} {}; {}\n", self.expects(), self.note)
    }
}

/// The usage text, printed by `--help`: generated from the flag tables.
fn usage() -> String {
    let mut s = String::from(
        "usage: fmp train [FLAGS]\n       \
         fmp field --data FILE.csv --t T --at QUERY.csv [--schedule NAME]\n       \
         fmp flow --data FILE.csv --field exact|learned --out OUT.csv [FLAGS]\n       \
         fmp eval --model PATH --t T --at QUERY.csv\n       \
         fmp --help\n\
         train: fits a network to a preset or a CSV cloud, samples it, prints one JSON line.\n\
         field: prints the exact marginal field of a CSV cloud at query points, as CSV; a t past \
         the schedule's clamp (where beta = 0.001) is evaluated there (column t_used).\n\
         flow: carries noise to t = 1 (the clamp) through the exact or a trained field, writes \
         the particles, prints one JSON line (share within 0.01 of a data point, W2).\n\
         eval: prints u_theta(x, t) of a network saved by train --save at query points, as CSV.\n\
         \ntrain flags:\n",
    );
    for f in train_flags() {
        s.push_str(&f.usage_line());
    }
    s.push_str("\nfield flags:\n");
    for f in field_flags() {
        s.push_str(&f.usage_line());
    }
    s.push_str("\nflow flags:\n");
    for f in flow_flags() {
        s.push_str(&f.usage_line());
    }
    s.push_str("\neval flags:\n");
    for f in eval_flags() {
        s.push_str(&f.usage_line());
    }
    s.push_str(&format!(
        "\nCSV files: x,y per line (optional header), UTF-8, at most {} bytes, coordinates \
         finite and within +-{}.\nTraining stops with an error when a loss is not finite or the \
         mean loss of {} steps exceeds {}.\nExit status: 0 success, 1 training diverged, 2 bad \
         argument or input (one line on stderr).\n",
        limits::MAX_FILE_BYTES,
        limits::format_number(limits::MAX_COORD),
        limits::DIVERGENCE_WINDOW,
        limits::format_number(limits::DIVERGED_LOSS),
    ));
    s
}

/// A value as messages show it: as is when plain, else quoted with control characters
/// escaped; at most `max` characters.
fn shown_max(v: &str, max: usize) -> String {
    let plain = !v.is_empty() && v.chars().all(|c| c.is_ascii_graphic() && c != '"');
    let escaped: String = if plain {
        v.to_string()
    } else {
        v.chars().flat_map(char::escape_debug).collect()
    };
    let cut = match escaped.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &escaped[..i]),
        None => escaped,
    };
    if plain {
        cut
    } else {
        format!("\"{cut}\"")
    }
}

/// A flag value as messages show it (at most 40 characters).
fn shown(v: &str) -> String {
    shown_max(v, 40)
}

/// A file name as messages show it (escaped if need be, never cut).
fn file_shown(v: &str) -> String {
    shown_max(v, usize::MAX)
}

/// A checked flag value.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Int(u64),
    Real(f64),
    Text(&'a str),
}

/// The flags given, checked against `table` in command-line order.
#[derive(Debug)]
struct Given<'a>(Vec<(&'static str, Value<'a>)>);

impl<'a> Given<'a> {
    fn parse(args: &'a [String], table: &[Flag]) -> Result<Self, Failure> {
        let mut given = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let flag = table.iter().find(|f| f.name == arg).ok_or_else(|| {
                let names: Vec<&str> = table.iter().map(|f| f.name).collect();
                format!(
                    "unknown flag {} (expected {})",
                    shown(arg),
                    names.join(", ")
                )
            })?;
            if given.iter().any(|(name, _)| *name == flag.name) {
                return Err(format!("{} given twice", flag.name).into());
            }
            if let Kind::Switch = flag.kind {
                given.push((flag.name, Value::Int(1)));
                continue;
            }
            let raw = it
                .next()
                .ok_or_else(|| format!("{} needs a value, {}", flag.name, flag.expects()))?;
            let bad = || {
                format!(
                    "{} must be {} (got {})",
                    flag.name,
                    flag.expects(),
                    shown(raw)
                )
            };
            let value = match flag.kind {
                Kind::Int(limit) => Value::Int(
                    raw.parse::<u64>()
                        .ok()
                        .filter(|v| limit.contains(*v))
                        .ok_or_else(bad)?,
                ),
                Kind::Real(limit) => Value::Real(
                    raw.parse::<f64>()
                        .ok()
                        .filter(|v| limit.contains(*v))
                        .ok_or_else(bad)?,
                ),
                Kind::Choice(names) if names().contains(&raw.as_str()) => Value::Text(raw),
                Kind::Choice(_) => return Err(bad().into()),
                Kind::Csv(_) | Kind::Out if raw.is_empty() => return Err(bad().into()),
                Kind::Csv(_) | Kind::Out => Value::Text(raw),
                Kind::Times if parse_times(raw).is_some() => Value::Text(raw),
                Kind::Times | Kind::Switch => return Err(bad().into()),
            };
            given.push((flag.name, value));
        }
        Ok(Given(given))
    }

    fn get(&self, name: &str) -> Option<Value<'a>> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn int(&self, name: &str, default: u64) -> u64 {
        match self.get(name) {
            Some(Value::Int(v)) => v,
            _ => default,
        }
    }

    fn real(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(Value::Real(v)) => Some(v),
            _ => None,
        }
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        match self.get(name) {
            Some(Value::Text(v)) => Some(v),
            _ => None,
        }
    }
}

/// The times of a `--at-times` list (`0.25,0.5,1`), each in `0..=1`; `None` for anything else
/// (an empty list, an empty item, a non-finite or out-of-range time, more than 100 times).
fn parse_times(raw: &str) -> Option<Vec<f64>> {
    let times: Option<Vec<f64>> = raw
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|t| limits::TIME.contains(*t))
        })
        .collect();
    times.filter(|t| !t.is_empty() && t.len() <= 100)
}

/// Where `train` gets its data.
#[derive(Clone, Debug, PartialEq)]
enum Source {
    /// A preset and its number of points.
    Preset(Preset, usize),
    /// A CSV file.
    File(String),
}

/// A checked `train` command.
#[derive(Clone, Debug, PartialEq)]
struct TrainArgs {
    source: Source,
    config: TrainConfig,
    steps: usize,
    solver: Solver,
    ode_steps: usize,
    samples: Option<String>,
    save: Option<String>,
    reflow: usize,
}

/// A checked `eval` command.
#[derive(Clone, Debug, PartialEq)]
struct EvalArgs {
    model: String,
    at: String,
    t: f64,
}

/// A checked `field` command.
#[derive(Clone, Debug, PartialEq)]
struct FieldArgs {
    data: String,
    at: String,
    t: f64,
    schedule: Schedule,
}

/// A checked `flow` command.
#[derive(Clone, Debug, PartialEq)]
struct FlowArgs {
    data: String,
    out: String,
    learned: bool,
    schedule: Schedule,
    solver: Solver,
    steps: usize,
    particles: usize,
    seed: u64,
    train_steps: usize,
    /// `--model`: a saved network to flow with instead of training one.
    model: Option<String>,
    /// `--class Y --guidance W`: the guided flow of class `Y`.
    guided: Option<(u8, f64)>,
    /// The SDE's noise (`--sigma`, `--no-score-correction`), or `None` for the ODE.
    diffusion: Option<Diffusion>,
    /// `--at-times`: write the particles at the grid times nearest these.
    at_times: Option<Vec<f64>>,
}

/// A checked command line.
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Help,
    Train(TrainArgs),
    Field(FieldArgs),
    Flow(FlowArgs),
    Eval(EvalArgs),
}

/// Checks the whole command line (nothing is read or run).
fn parse(args: &[String]) -> Result<Command, Failure> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    match args.first().map(String::as_str) {
        Some("train") => parse_train(&args[1..]).map(Command::Train),
        Some("field") => parse_field(&args[1..]).map(Command::Field),
        Some("flow") => parse_flow(&args[1..]).map(Command::Flow),
        Some("eval") => parse_eval(&args[1..]).map(Command::Eval),
        Some(other) => Err(format!(
            "unknown command {} (expected train, field, flow or eval; fmp --help lists the flags)",
            shown(other)
        )
        .into()),
        None => Err(
            "missing command (expected train, field, flow or eval; fmp --help lists the flags)"
                .into(),
        ),
    }
}

fn parse_train(args: &[String]) -> Result<TrainArgs, Failure> {
    let given = Given::parse(args, &train_flags())?;
    let source = match (given.text("--preset"), given.text("--data")) {
        (Some(_), Some(_)) => return Err("give --preset or --data, not both".into()),
        (None, Some(_)) if given.get("--points").is_some() => {
            return Err("--points is for presets; a --data file brings its own points".into())
        }
        (None, Some(file)) => Source::File(file.to_string()),
        (preset, None) => {
            let preset = Preset::parse(preset.unwrap_or("moons")).unwrap_or(Preset::TwoMoons);
            Source::Preset(preset, given.int("--points", DEFAULT_POINTS) as usize)
        }
    };
    let mut config = TrainConfig::default();
    config.seed = given.int("--seed", config.seed);
    config.mlp.width = given.int("--width", config.mlp.width as u64) as usize;
    config.mlp.depth = given.int("--depth", config.mlp.depth as u64) as usize;
    config.mlp.time_features =
        given.int("--time-features", config.mlp.time_features as u64) as usize;
    config.batch = given.int("--batch", config.batch as u64) as usize;
    if let Some(lr) = given.real("--lr") {
        config.adam.lr = lr as f32;
    }
    if let Some(s) = given.text("--schedule").and_then(Schedule::parse) {
        config.schedule = s;
    }
    if let Some(c) = given.text("--coupling").and_then(Coupling::parse) {
        config.coupling = c;
    }
    Ok(TrainArgs {
        source,
        config,
        steps: given.int("--steps", DEFAULT_STEPS) as usize,
        solver: given
            .text("--solver")
            .and_then(Solver::parse)
            .unwrap_or_default(),
        ode_steps: given.int("--ode-steps", DEFAULT_ODE_STEPS) as usize,
        samples: given.text("--samples").map(str::to_string),
        save: given.text("--save").map(str::to_string),
        reflow: given.int("--reflow", 0) as usize,
    })
}

fn parse_eval(args: &[String]) -> Result<EvalArgs, Failure> {
    let given = Given::parse(args, &eval_flags())?;
    let required = |name: &str, meta: &str| format!("eval needs {name} {meta}");
    Ok(EvalArgs {
        model: given
            .text("--model")
            .ok_or_else(|| required("--model", "PATH"))?
            .to_string(),
        at: given
            .text("--at")
            .ok_or_else(|| required("--at", "QUERY.csv"))?
            .to_string(),
        t: given.real("--t").ok_or_else(|| required("--t", "T"))?,
    })
}

fn parse_field(args: &[String]) -> Result<FieldArgs, Failure> {
    let given = Given::parse(args, &field_flags())?;
    let required = |name: &str, meta: &str| format!("field needs {name} {meta}");
    Ok(FieldArgs {
        data: given
            .text("--data")
            .ok_or_else(|| required("--data", "FILE.csv"))?
            .to_string(),
        at: given
            .text("--at")
            .ok_or_else(|| required("--at", "QUERY.csv"))?
            .to_string(),
        t: given.real("--t").ok_or_else(|| required("--t", "T"))?,
        schedule: given
            .text("--schedule")
            .and_then(Schedule::parse)
            .unwrap_or_default(),
    })
}

fn parse_flow(args: &[String]) -> Result<FlowArgs, Failure> {
    let given = Given::parse(args, &flow_flags())?;
    let required = |name: &str, meta: &str| format!("flow needs {name} {meta}");
    let learned = given
        .text("--field")
        .ok_or_else(|| required("--field", "exact|learned"))?
        == "learned";
    if !learned && given.get("--train-steps").is_some() {
        return Err("--train-steps is for --field learned".into());
    }
    if !learned && given.get("--model").is_some() {
        return Err("--model is for --field learned".into());
    }
    if given.get("--guidance").is_some() && given.get("--class").is_none() {
        return Err("--guidance needs --class".into());
    }
    if given.get("--class").is_some() && given.get("--sigma").is_some() {
        return Err("--class samples the guided ODE: give --class or --sigma, not both".into());
    }
    if given.get("--model").is_some() && given.get("--train-steps").is_some() {
        return Err(
            "--model flows with a saved network: give --model or --train-steps, not both".into(),
        );
    }
    if given.get("--sigma").is_some() && given.get("--solver").is_some() {
        return Err(
            "--sigma integrates by Euler-Maruyama: give --sigma or --solver, not both".into(),
        );
    }
    if given.get("--no-score-correction").is_some() && given.get("--sigma").is_none() {
        return Err("--no-score-correction needs --sigma".into());
    }
    let default_solver = if learned {
        Solver::Rk4
    } else {
        Solver::PosteriorStep
    };
    Ok(FlowArgs {
        data: given
            .text("--data")
            .ok_or_else(|| required("--data", "FILE.csv"))?
            .to_string(),
        out: given
            .text("--out")
            .ok_or_else(|| required("--out", "OUT.csv"))?
            .to_string(),
        learned,
        schedule: given
            .text("--schedule")
            .and_then(Schedule::parse)
            .unwrap_or_default(),
        solver: given
            .text("--solver")
            .and_then(Solver::parse)
            .unwrap_or(default_solver),
        steps: given.int("--steps", DEFAULT_ODE_STEPS) as usize,
        particles: given.int("--particles", DEFAULT_PARTICLES) as usize,
        seed: given.int("--seed", 0),
        train_steps: given.int("--train-steps", DEFAULT_STEPS) as usize,
        model: given.text("--model").map(str::to_string),
        guided: given.get("--class").map(|_| {
            (
                given.int("--class", 1) as u8,
                given.real("--guidance").unwrap_or(1.0),
            )
        }),
        diffusion: given.real("--sigma").map(|sigma| Diffusion {
            sigma,
            score_correction: given.get("--no-score-correction").is_none(),
        }),
        at_times: given.text("--at-times").and_then(parse_times),
    })
}

/// Run the command line `args` (without the program name).
pub fn run(args: &[String]) -> Output {
    let mut note = None;
    let result = parse(args).and_then(|command| match command {
        Command::Help => Ok(usage()),
        Command::Train(a) => train(&a),
        Command::Field(a) => {
            note = clamp_note(a.schedule, a.t);
            field(&a)
        }
        Command::Flow(a) => flow(&a),
        Command::Eval(a) => eval(&a),
    });
    let mut out = finish(result);
    if let (0, Some(note)) = (out.code, note) {
        out.stderr = note;
    }
    out
}

/// [`run`] for arguments as the operating system gives them: an argument that is not UTF-8 is
/// an error (exit code 2) naming its position.
pub fn run_os(args: impl IntoIterator<Item = OsString>) -> Output {
    let mut strings = Vec::new();
    for (i, arg) in args.into_iter().enumerate() {
        match arg.into_string() {
            Ok(s) => strings.push(s),
            Err(arg) => {
                return finish(Err(format!(
                    "argument {} is not valid UTF-8 ({})",
                    i + 1,
                    shown(&arg.to_string_lossy())
                )
                .into()))
            }
        }
    }
    run(&strings)
}

fn finish(result: Result<String, Failure>) -> Output {
    match result {
        Ok(stdout) => Output {
            stdout,
            stderr: String::new(),
            code: 0,
        },
        Err(f) => Output {
            stdout: String::new(),
            // One line whatever went into the message.
            stderr: format!("error: {}\n", f.message.replace(['\n', '\r'], " ")),
            code: f.code,
        },
    }
}

/// Read and parse a CSV point cloud of at most `limit.max` points; errors name the file (and
/// the line).
fn read_points(file: &str, limit: IntLimit) -> Result<Vec<Point>, Failure> {
    read_labelled(file, limit, false).map(|(points, _)| points)
}

/// The points of a CSV file and, with `labelled`, its labels (`None`: the file has none).
fn read_labelled(
    file: &str,
    limit: IntLimit,
    labelled: bool,
) -> Result<(Vec<Point>, Option<Vec<u8>>), Failure> {
    let name = file_shown(file);
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(limits::MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > limits::MAX_FILE_BYTES {
        return Err(format!(
            "{name}: the file is larger than {} bytes, the most a CSV file may have",
            limits::MAX_FILE_BYTES
        )
        .into());
    }
    let text = data::decode_utf8(&bytes).map_err(|e| format!("{name}: {e}"))?;
    let (points, labels) = if labelled {
        data::parse_labelled_csv(text)
    } else {
        data::parse_points_csv(text).map(|p| (p, None))
    }
    .map_err(|e| format!("{name}: {e}"))?;
    if points.len() as u64 > limit.max {
        return Err(format!(
            "{name}: it holds {} points; the most is {}",
            points.len(),
            limit.max
        )
        .into());
    }
    Ok((points, labels))
}

/// A JSON number, or `null` if not finite.
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

/// The error of a diverged run at `step`.
fn diverged(step: usize, loss: f64) -> Failure {
    Failure {
        code: EXIT_DIVERGED,
        message: format!("training diverged at step {step} (loss {loss:.3e}); lower --lr"),
    }
}

/// The page's divergence test over a run of CFM losses (see the module docs).
#[derive(Default)]
struct DivergenceWatch {
    sum: f64,
    count: usize,
}

impl DivergenceWatch {
    /// Records the loss of step `step` (1-based).
    fn record(&mut self, step: usize, loss: f64) -> Result<(), Failure> {
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
    fn flush(&mut self, step: usize) -> Result<(), Failure> {
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

fn train(a: &TrainArgs) -> Result<String, Failure> {
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
        config.mlp.classes = data::MAX_CLASSES;
        config.p_uncond = crate::trainer::P_UNCOND;
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
    let mut trainer = match &labels {
        Some(l) => Trainer::new_labelled(config, data, l.clone()),
        None => Trainer::new(config, data),
    };
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
    let reported = steps - plain;
    let denom = reported.max(1) as f64;

    // Reflow (k-rectified flow): pairs (x0, x1 = ODE_theta(x0)) from the current network, and a
    // fresh network trained on their straight paths, `a.reflow` times. The losses above are
    // of the first network.
    for round in 1..=a.reflow {
        let x0: Vec<Point> = (0..straight::REFLOW_PAIRS)
            .map(|_| rng::normal_pair(&mut sample_rng))
            .collect();
        let Some(x1) = straight::reflow_partners(trainer.model(), config.schedule, &x0) else {
            return Err(Failure {
                code: EXIT_DIVERGED,
                message: format!(
                    "reflow {round}: the network sends its samples to infinity; lower --lr"
                ),
            });
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
        return Err(Failure {
            code: EXIT_DIVERGED,
            message: format!(
                "training diverged: after {steps} steps (loss {:.3e}) the learned field sends \
                 samples to infinity; lower --lr",
                cfm / denom
            ),
        });
    }
    let energy = metrics::energy_distance(&samples, &reference);
    let w2 = metrics::w2_exact(&samples, &reference).map_err(|e| Failure {
        code: EXIT_DIVERGED,
        message: format!("w2: {e}"),
    })?;
    let straight = straight_figures(
        trainer.model(),
        config.schedule,
        a.ode_steps,
        &reference,
        &mut sample_rng,
    )?;
    let guided = match &labelled_data {
        Some((points, labels)) => guided_figures(
            trainer.model(),
            config.schedule,
            points,
            labels,
            (a.solver, a.ode_steps),
            &mut sample_rng,
        ),
        None => String::new(),
    };
    if let Some(out) = &a.samples {
        std::fs::write(out, data::points_to_csv(&samples))
            .map_err(|e| format!("{}: {e}", file_shown(out)))?;
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
        let files = crate::export::files(trainer.model(), &info, &drawing)?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", file_shown(dir)))?;
        for (name, bytes) in files {
            let path = std::path::Path::new(dir).join(name);
            std::fs::write(&path, bytes)
                .map_err(|e| format!("{}: {e}", file_shown(&path.to_string_lossy())))?;
        }
    }
    let c = config;
    Ok(format!(
        "{{\"command\":\"train\",\"data\":{},\"data_points\":{},\"data_rescaled\":{},\
\"eval_points\":{},\"data_subsampled\":{},\
\"width\":{},\"depth\":{},\"time_features\":{},\"batch\":{},\"lr\":{},\"schedule\":\"{}\",\"seed\":{},\
\"steps\":{},\"steps_per_s\":{},\"cfm_loss\":{},\"fm_loss\":{},\"grad_cosine\":{},\
\"solver\":\"{}\",\"ode_steps\":{},\"energy_distance\":{},\"w2\":{},\"coupling\":\"{}\",\"reflow\":{},{}{}}}\n",
        json::string(&source),
        n_data,
        rescaled,
        n_eval,
        n_eval < n_data,
        c.mlp.width,
        c.mlp.depth,
        c.mlp.time_features,
        c.batch,
        c.adam.lr,
        c.schedule.name(),
        seed,
        steps,
        json_num(steps_per_s),
        json_num(cfm / denom),
        json_num(fm / denom),
        json_num(cosine / denom),
        a.solver.name(),
        a.ode_steps,
        json_num(energy),
        json_num(w2),
        config.coupling.name(),
        a.reflow,
        straight,
        guided,
    ))
}

/// Particles of the guided figures of `train` on labelled data (the classes in turn).
const GUIDE_PARTICLES: usize = 400;

/// The guidance scales of those figures.
const GUIDE_W: [f64; 4] = [0.0, 1.0, 2.0, 4.0];

/// The guided figures of a class-conditional network on labelled `data`, as JSON members
/// (starting with a comma): `classes`, `p_uncond`, and `guidance` with, for each `w` of
/// [`GUIDE_W`], the fidelity and spread (`guidance::measure`) of [`GUIDE_PARTICLES`] samples
/// whose classes take turns, along the exact guided field (closed-form steps) and the
/// network's (`solver`, its steps), from the same noise; `data_spread` is the classes' own
/// spread, weighted alike.
fn guided_figures(
    model: &crate::mlp::Mlp,
    schedule: Schedule,
    data: &[Point],
    labels: &[u8],
    (solver, steps): (Solver, usize),
    rng: &mut rng::SeededRng,
) -> String {
    use crate::guidance::{self, ClassMarginals, ExactGuided, LearnedGuided};
    let path = GaussianPath::new(schedule);
    let marginals = ClassMarginals::new(data, labels, data::MAX_CLASSES, path);
    let present = marginals.present();
    let particle_labels = guidance::round_robin(&present, GUIDE_PARTICLES);
    let noise: Vec<Point> = (0..GUIDE_PARTICLES)
        .map(|_| rng::normal_pair(rng))
        .collect();
    let times = ode::time_grid(schedule, steps);
    let list = |v: &[f64]| v.iter().map(|x| json_num(*x)).collect::<Vec<_>>().join(",");
    let mut sides = Vec::new();
    for learned in [false, true] {
        let (mut fid, mut spr) = (Vec::new(), Vec::new());
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
            fid.push(f);
            spr.push(s);
        }
        sides.push(format!(
            "\"{}\":{{\"fidelity\":[{}],\"spread\":[{}]}}",
            if learned { "learned" } else { "exact" },
            list(&fid),
            list(&spr)
        ));
    }
    let (_, data_spread) = guidance::measure(data, labels, data, labels);
    format!(
        ",\"classes\":{},\"p_uncond\":{},\"guidance\":{{\"w\":[{}],\"particles\":{GUIDE_PARTICLES},{},{},\"data_spread\":{}}}",
        present.len(),
        crate::trainer::P_UNCOND,
        list(&GUIDE_W),
        sides[0],
        sides[1],
        json_num(data_spread)
    )
}

/// The straight-path figures of a network, as JSON members: `straightness` and `crossings`
/// (`metrics::straightness`, `metrics::crossings` among the first 100 paths) of 1,000 RK4
/// trajectories on the time grid of `ode_steps` steps, and `w2_at_steps`, the W2 to `reference`
/// after 1, 2, 4, 8, 16, 32 and 64 Euler steps from the same noise (`metrics::w2_capped`).
fn straight_figures(
    model: &crate::mlp::Mlp,
    schedule: Schedule,
    ode_steps: usize,
    reference: &[Point],
    rng: &mut rng::SeededRng,
) -> Result<String, Failure> {
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
    let s = metrics::straightness(&frames, &times);
    let crossings = straight::crossings_thinned(&frames);
    let w2s: Vec<String> = straight::NFE
        .iter()
        .map(|&n| {
            let w2 = straight::w2_after_euler(model, schedule, &noise, n, reference);
            format!("\"{n}\":{}", json_num(w2))
        })
        .collect();
    Ok(format!(
        "\"straightness\":{},\"crossings\":{crossings},\"w2_at_steps\":{{{}}}",
        json_num(s),
        w2s.join(",")
    ))
}

/// The note `field` writes on stderr when `t` is past the clamp (else `None`).
fn clamp_note(schedule: Schedule, t: f64) -> Option<String> {
    let t_used = schedule.clamp_t(t);
    (t_used < t).then(|| {
        format!(
            "note: t = {t} is evaluated at the clamp t = {t_used} (beta = {})\n",
            crate::path::BETA_MIN
        )
    })
}

fn field(a: &FieldArgs) -> Result<String, Failure> {
    let marginal = EmpiricalMarginal::new(
        read_points(&a.data, limits::POINTS)?,
        GaussianPath::new(a.schedule),
    );
    let queries = read_points(&a.at, limits::QUERY_POINTS)?;
    let t_used = a.schedule.clamp_t(a.t);
    let mut out = String::from("x,y,u_x,u_y,score_x,score_y,log_density,divergence,t_used\n");
    for x in queries {
        let e = marginal.eval(x, a.t);
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{t_used}\n",
            x[0], x[1], e.u[0], e.u[1], e.score[0], e.score[1], e.log_density, e.divergence
        ));
    }
    Ok(out)
}

/// `u_theta(x, t)` of an exported network at the query points, as CSV `x,y,u_x,u_y`.
fn eval(a: &EvalArgs) -> Result<String, Failure> {
    let mlp = load_model(&a.model)?;
    let queries = read_points(&a.at, limits::QUERY_POINTS)?;
    let mut out = vec![[0.0; 2]; queries.len()];
    mlp.predict(
        &queries,
        a.t,
        &mut out,
        &mut crate::mlp::ForwardCache::new(),
    );
    let mut csv = String::from("x,y,u_x,u_y\n");
    for (x, u) in queries.iter().zip(&out) {
        csv.push_str(&format!("{},{},{},{}\n", x[0], x[1], u[0], u[1]));
    }
    Ok(csv)
}

/// A network saved by `train --save` (the folder, or its model.safetensors).
fn load_model(model: &str) -> Result<crate::mlp::Mlp, Failure> {
    let path = std::path::Path::new(model);
    let file = if path.is_dir() {
        path.join("model.safetensors")
    } else {
        path.to_path_buf()
    };
    let shown = file_shown(&file.to_string_lossy());
    let meta = std::fs::metadata(&file).map_err(|e| format!("{shown}: {e}"))?;
    if meta.len() > limits::MAX_FILE_BYTES * 4 {
        return Err(format!("{shown}: too large for a playground network").into());
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("{shown}: {e}"))?;
    Ok(crate::export::read_safetensors(&bytes).map_err(|e| format!("{shown}: {e}"))?)
}

/// Trains the app-default network on `data` for `steps` steps, watching for divergence.
fn train_default(
    config: TrainConfig,
    data: Vec<Point>,
    labels: Option<Vec<u8>>,
    steps: usize,
) -> Result<Trainer, Failure> {
    let mut watch = DivergenceWatch::default();
    let mut trainer = match labels {
        // A class-conditional network with label dropout (the guidance lesson's).
        Some(labels) => {
            let config = TrainConfig {
                mlp: crate::mlp::MlpConfig {
                    classes: data::MAX_CLASSES,
                    ..config.mlp
                },
                p_uncond: crate::trainer::P_UNCOND,
                ..config
            };
            Trainer::new_labelled(config, data, labels)
        }
        None => Trainer::new(config, data),
    };
    for k in 1..=steps {
        watch.record(k, trainer.step())?;
    }
    watch.flush(steps)?;
    Ok(trainer)
}

fn flow(a: &FlowArgs) -> Result<String, Failure> {
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
            let m = crate::guidance::ClassMarginals::new(&data, labels, data::MAX_CLASSES, path);
            if m.class(y).is_none() {
                return Err(format!("{}: class {y} has no points", file_shown(&a.data)).into());
            }
            Some((y, w, m, vec![y; a.particles]))
        }
        None => None,
    };
    // The page's noise_points(particles, seed).
    let mut noise_rng = rng::seeded(a.seed);
    let mut xs: Vec<Point> = (0..a.particles)
        .map(|_| rng::normal_pair(&mut noise_rng))
        .collect();
    let times = ode::time_grid(a.schedule, a.steps);
    let marginal = EmpiricalMarginal::new(data.clone(), path);
    let network = match (&a.model, a.learned) {
        (Some(file), _) => Some(load_model(file)?),
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
    let mut learned = network.as_ref().map(|m| MlpField::with_path(m, path));
    let mut exact = ode::MarginalField {
        marginal: &marginal,
    };
    let mut learned_guided = guided
        .as_ref()
        .zip(network.as_ref())
        .map(|((_, w, _, l), n)| crate::guidance::LearnedGuided::new(n, path, l, *w));
    let mut exact_guided = guided
        .as_ref()
        .map(|(_, w, m, l)| crate::guidance::ExactGuided::new(m, l, *w));
    let field: &mut dyn ode::VectorField = match (
        learned_guided.as_mut(),
        exact_guided.as_mut(),
        learned.as_mut(),
    ) {
        (Some(f), _, _) => f,
        (None, Some(f), None) => f,
        (None, _, Some(f)) => f,
        (None, None, None) => &mut exact,
    };
    // The frames to keep: the grid indices nearest the --at-times (the end when none).
    let keep: Vec<usize> = match &a.at_times {
        Some(ts) => ts.iter().map(|&t| sde::nearest_time(&times, t)).collect(),
        None => vec![times.len() - 1],
    };
    let mut kept: Vec<(usize, Vec<Point>)> = Vec::new();
    let mut integrator = Integrator::new();
    // The page's SDE noise: seeded with the flow seed + 1 (the particles' noise has the seed).
    let mut sde_rng = rng::seeded(a.seed.wrapping_add(1));
    let mut buf = Vec::new();
    for k in 0..times.len() {
        if k > 0 {
            let step = &times[k - 1..=k];
            match a.diffusion {
                Some(d) => {
                    sde::euler_maruyama(field, path, d, &mut xs, step, &mut sde_rng, &mut buf)
                }
                None => integrator.integrate_on(field, a.solver, &mut xs, step),
            }
        }
        if keep.contains(&k) {
            kept.push((k, xs.clone()));
        }
    }
    if a.learned && xs.iter().flatten().any(|v| !v.is_finite()) {
        return Err(Failure {
            code: EXIT_DIVERGED,
            message: format!(
                "training diverged: after {} steps the learned field sends particles to \
                 infinity",
                a.train_steps
            ),
        });
    }
    let near = metrics::near_fraction(&xs, &data, NEAR_RADIUS);
    let w2 = metrics::w2_capped(&xs, &data).map_err(|e| format!("w2: {e}"))?;
    // Guided: the class, the scale, and the samples' fidelity and spread.
    let guided_json = match (&guided, &labels) {
        (Some((y, w, _, particle_labels)), Some(data_labels)) => {
            let (fid, spr) = crate::guidance::measure(&xs, particle_labels, &data, data_labels);
            format!(
                ",\"class\":{y},\"guidance\":{},\"fidelity\":{},\"spread\":{}",
                json_num(*w),
                json_num(fid),
                json_num(spr)
            )
        }
        _ => String::new(),
    };
    let (csv, at_times) = match &a.at_times {
        None => (data::points_to_csv(&xs), String::new()),
        Some(wanted) => {
            let mut csv = String::from("t,x,y\n");
            let mut rows = Vec::new();
            for (&tau, &k) in wanted.iter().zip(&keep) {
                let frame = &kept.iter().find(|(i, _)| *i == k).expect("kept frame").1;
                for p in frame {
                    csv.push_str(&format!("{},{},{}\n", times[k], p[0], p[1]));
                }
                let (ed, floor) = sde::marginal_match(&marginal, frame, times[k], a.seed);
                rows.push(format!(
                    "{{\"t\":{tau},\"t_used\":{},\"energy_distance\":{},\"floor\":{}}}",
                    times[k],
                    json_num(ed),
                    json_num(floor)
                ));
            }
            (csv, format!(",\"at_times\":[{}]", rows.join(",")))
        }
    };
    std::fs::write(&a.out, csv).map_err(|e| format!("{}: {e}", file_shown(&a.out)))?;
    let (sigma, correction) = match a.diffusion {
        Some(d) => (json_num(d.sigma), d.score_correction.to_string()),
        None => ("null".to_string(), "null".to_string()),
    };
    let t_end = times.last().copied().unwrap_or(0.0);
    let train_steps = if a.learned && a.model.is_none() {
        a.train_steps.to_string()
    } else {
        "null".to_string()
    };
    Ok(format!(
        "{{\"command\":\"flow\",\"data\":{},\"data_points\":{},\"data_rescaled\":{},\
\"field\":\"{}\",\"schedule\":\"{}\",\"solver\":\"{}\",\"steps\":{},\"particles\":{},\"seed\":{},\
\"train_steps\":{},\"t_end\":{},\"beta_end\":{},\"near_radius\":{},\"near_share\":{},\
\"w2\":{},\"w2_points\":{},\"sigma\":{},\"score_correction\":{}{}{}}}\n",
        json::string(&a.data),
        data.len(),
        rescaled,
        if a.learned { "learned" } else { "exact" },
        a.schedule.name(),
        a.solver.name(),
        a.steps,
        a.particles,
        a.seed,
        train_steps,
        t_end,
        a.schedule.beta(t_end),
        NEAR_RADIUS,
        json_num(near),
        json_num(w2),
        xs.len().min(data.len()).min(metrics::W2_MAX_POINTS),
        sigma,
        correction,
        at_times,
        guided_json,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_range_flag_takes_its_bounds_and_refuses_one_beyond() {
        for (command, table) in [
            ("train", train_flags()),
            ("field", field_flags()),
            ("flow", flow_flags()),
        ] {
            for flag in &table {
                let (inside, outside): (Vec<String>, Vec<String>) = match flag.kind {
                    Kind::Int(l) => (
                        vec![l.min.to_string(), l.max.to_string()],
                        [l.min.checked_sub(1), l.max.checked_add(1)]
                            .into_iter()
                            .flatten()
                            .map(|v| v.to_string())
                            .chain(["-1".into(), "18446744073709551616".into()])
                            .collect(),
                    ),
                    Kind::Real(l) => (
                        vec![limits::format_number(l.min), limits::format_number(l.max)],
                        vec![
                            format!("{}", l.min - l.min.abs().max(1e-9) * 1e-6),
                            format!("{}", l.max * (1.0 + 1e-9)),
                            "nan".into(),
                            "inf".into(),
                        ],
                    ),
                    _ => continue,
                };
                let line = |v: &str| {
                    let mut args = strings(&[command, flag.name, v]);
                    let required: &[(&str, &str)] = match command {
                        "field" => &[("--data", "d.csv"), ("--at", "q.csv"), ("--t", "0.5")],
                        "flow" => &[
                            ("--data", "d.csv"),
                            ("--field", "learned"),
                            ("--out", "o.csv"),
                        ],
                        _ => &[],
                    };
                    for (f, value) in required {
                        if *f != flag.name {
                            args.extend(strings(&[f, value]));
                        }
                    }
                    // A guidance scale belongs to a class.
                    if flag.name == "--guidance" {
                        args.extend(strings(&["--class", "1"]));
                    }
                    args
                };
                for v in &inside {
                    assert!(parse(&line(v)).is_ok(), "{command} {} {v}", flag.name);
                }
                for v in &outside {
                    let f = parse(&line(v)).expect_err(v);
                    assert_eq!(f.code, 2);
                    assert_eq!(
                        f.message,
                        format!("{} must be {} (got {v})", flag.name, flag.expects())
                    );
                }
            }
        }
    }

    #[test]
    fn flow_parses_with_defaults_and_refuses_contradictions() {
        let Ok(Command::Flow(a)) = parse(&strings(&[
            "flow", "--data", "d.csv", "--field", "exact", "--out", "o.csv",
        ])) else {
            panic!("valid line refused")
        };
        assert_eq!(
            (
                a.learned,
                a.schedule,
                a.solver,
                a.steps,
                a.particles,
                a.seed
            ),
            (false, Schedule::Linear, Solver::PosteriorStep, 50, 2000, 0)
        );
        let Ok(Command::Flow(a)) = parse(&strings(&[
            "flow",
            "--field",
            "learned",
            "--data",
            "d.csv",
            "--out",
            "o.csv",
            "--schedule",
            "sqrt",
            "--steps",
            "7",
            "--particles",
            "100",
            "--seed",
            "3",
            "--train-steps",
            "9",
        ])) else {
            panic!("valid line refused")
        };
        assert_eq!(
            (a.learned, a.schedule, a.solver, a.steps, a.particles),
            (true, Schedule::Sqrt, Solver::Rk4, 7, 100)
        );
        assert_eq!((a.seed, a.train_steps), (3, 9));
        for (bad, message) in [
            (
                &[
                    "flow",
                    "--data",
                    "d.csv",
                    "--field",
                    "exact",
                    "--out",
                    "o.csv",
                    "--train-steps",
                    "5",
                ][..],
                "--train-steps is for --field learned",
            ),
            (
                &["flow", "--data", "d.csv", "--field", "exact"],
                "flow needs --out OUT.csv",
            ),
            (
                &["flow", "--data", "d.csv", "--out", "o.csv"],
                "flow needs --field exact|learned",
            ),
            (
                &["flow", "--field", "exact", "--out", "o.csv"],
                "flow needs --data FILE.csv",
            ),
            (
                &[
                    "flow", "--data", "d.csv", "--field", "both", "--out", "o.csv",
                ],
                "--field must be one of exact, learned (got both)",
            ),
            (
                &[
                    "flow",
                    "--data",
                    "d.csv",
                    "--field",
                    "exact",
                    "--out",
                    "o.csv",
                    "--particles",
                    "99",
                ],
                "--particles must be an integer in 100..=5000 (got 99)",
            ),
        ] {
            let f = parse(&strings(bad)).expect_err("refused");
            assert_eq!((f.code, f.message.as_str()), (2, message), "{bad:?}");
        }
    }

    #[test]
    fn parse_fills_the_config_and_refuses_contradictions() {
        let Ok(Command::Train(a)) = parse(&strings(&[
            "train",
            "--width",
            "8",
            "--depth",
            "2",
            "--time-features",
            "0",
            "--batch",
            "3",
            "--lr",
            "0.5",
            "--schedule",
            "cosine",
            "--solver",
            "euler",
            "--ode-steps",
            "7",
            "--seed",
            "9",
            "--steps",
            "11",
            "--preset",
            "spiral",
            "--points",
            "40",
        ])) else {
            panic!("valid line refused")
        };
        assert_eq!(a.source, Source::Preset(Preset::Spiral, 40));
        assert_eq!(
            (
                a.config.mlp.width,
                a.config.mlp.depth,
                a.config.mlp.time_features
            ),
            (8, 2, 0)
        );
        assert_eq!(
            (a.config.batch, a.config.adam.lr, a.config.seed),
            (3, 0.5, 9)
        );
        assert_eq!(
            (a.config.schedule, a.solver),
            (Schedule::Cosine, Solver::Euler)
        );
        assert_eq!((a.steps, a.ode_steps), (11, 7));
        for bad in [
            &["train", "--data", "a.csv", "--preset", "moons"][..],
            &["train", "--data", "a.csv", "--points", "10"],
            &["train", "--width", "8", "--width", "8"],
            &["field", "--data", "a.csv", "--t", "0.5"],
            &["field", "--at", "a.csv", "--t", "0.5"],
            &["field", "--data", "a.csv", "--at", "b.csv"],
            &["train", "--samples", ""],
        ] {
            assert_eq!(
                parse(&strings(bad)).expect_err("refused").code,
                2,
                "{bad:?}"
            );
        }
        assert_eq!(
            parse(&strings(&["train", "--width", "-h"])).ok(),
            Some(Command::Help)
        );
    }

    #[test]
    fn shown_values_stay_short_and_on_one_line() {
        assert_eq!(shown("512"), "512");
        assert_eq!(shown(""), "\"\"");
        assert_eq!(shown("a b\nc"), "\"a b\\nc\"");
        assert_eq!(shown(&"9".repeat(100)), format!("{}...", "9".repeat(40)));
        assert_eq!(file_shown(&"x".repeat(100)), "x".repeat(100));
    }

    #[test]
    fn usage_lists_every_flag_with_its_range() {
        let text = usage();
        for (command, table) in [
            ("train", train_flags()),
            ("field", field_flags()),
            ("flow", flow_flags()),
            ("eval", eval_flags()),
        ] {
            // The command's own section: from "<command> flags:" to the next blank line.
            let section: Vec<&str> = text
                .lines()
                .skip_while(|l| *l != format!("{command} flags:"))
                .skip(1)
                .take_while(|l| !l.is_empty())
                .collect();
            assert_eq!(section.len(), table.len(), "{command}");
            for flag in &table {
                let line = section
                    .iter()
                    .find(|l| l.trim_start().starts_with(&format!("{} ", flag.name)))
                    .unwrap_or_else(|| panic!("{command} {} missing", flag.name));
                assert!(line.contains(&flag.expects()), "{line}");
            }
        }
        assert!(text.contains("--width W"));
        assert!(text.contains("an integer in 4..=512; default 64"), "{text}");
        assert!(
            text.contains("a number in 1e-5..=10; default 0.01"),
            "{text}"
        );
    }

    /// One argument: a flag of either command, a command, or a value (plain, in-range-ish,
    /// absurd or arbitrary).
    fn arg() -> impl Strategy<Value = String> {
        let names: Vec<String> = train_flags()
            .iter()
            .chain(&field_flags())
            .chain(&flow_flags())
            .map(|f| f.name.to_string())
            .chain(
                [
                    "train", "field", "flow", "exact", "learned", "--bogus", "-h",
                ]
                .map(String::from),
            )
            .collect();
        prop_oneof![
            4 => proptest::sample::select(names),
            2 => (0u64..600).prop_map(|v| v.to_string()),
            1 => any::<u64>().prop_map(|v| v.to_string()),
            1 => any::<f64>().prop_map(|v| v.to_string()),
            1 => proptest::sample::select(
                ["moons", "rk4", "sqrt", "-1", "1e30", "1e300", "NaN", "", "0.5", "4096",
                 "18446744073709551616", "1000001"]
                    .map(String::from)
                    .to_vec()
            ),
            1 => ".{0,12}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any argument vector parses or fails with exit code 2 and one line, never panics.
        #[test]
        fn any_arguments_parse_or_give_one_usage_line(args in proptest::collection::vec(arg(), 0..10)) {
            match parse(&args) {
                Ok(_) => {}
                Err(f) => {
                    prop_assert_eq!(f.code, 2);
                    let out = finish(Err(f));
                    prop_assert_eq!(out.stderr.lines().count(), 1);
                    prop_assert!(out.stderr.starts_with("error: "));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any argument vector that parses also runs, shrunk to a tiny size (steps, points,
        /// width, batch, ODE steps), to exit code 0, 1 or 2, never a panic.
        #[test]
        fn any_arguments_run_to_an_exit_code(args in proptest::collection::vec(arg(), 0..10)) {
            let result = parse(&args).and_then(|command| match command {
                Command::Help => Ok(usage()),
                Command::Train(mut a) => {
                    a.steps = a.steps.min(3);
                    a.ode_steps = a.ode_steps.min(3);
                    a.config.mlp.width = a.config.mlp.width.min(8);
                    a.config.batch = a.config.batch.min(8);
                    if let Source::Preset(_, n) = &mut a.source {
                        *n = (*n).min(30);
                    }
                    a.samples = None;
                    a.save = None;
                    a.reflow = a.reflow.min(1);
                    train(&a)
                }
                Command::Field(a) => field(&a),
                Command::Eval(a) => eval(&a),
                Command::Flow(mut a) => {
                    a.steps = a.steps.min(3);
                    a.particles = a.particles.min(20);
                    a.train_steps = a.train_steps.min(3);
                    a.out = std::env::temp_dir()
                        .join(format!("fmp-proptest-{}.csv", std::process::id()))
                        .to_string_lossy()
                        .into_owned();
                    flow(&a)
                }
            });
            let out = finish(result);
            prop_assert!([0, 1, 2].contains(&out.code), "{:?}", out);
            prop_assert!(out.code == 0 || out.stderr.lines().count() == 1, "{:?}", out);
        }
    }
}
