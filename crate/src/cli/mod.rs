//! The command line (`cargo run --release --example fmp -- ...`), as a library function so that
//! tests call it directly: [`run`] takes the arguments and returns stdout, stderr and the exit
//! code. Native only (it reads files and the wall clock).
//!
//! Four commands, one file each: `fmp train [FLAGS]` (`train.rs`), `fmp field --data FILE.csv
//! --t T --at QUERY.csv [--schedule NAME]` (`field.rs`), `fmp flow --data FILE.csv --field
//! exact|learned --out OUT.csv [FLAGS]` (`flow.rs`) and `fmp eval --model PATH --t T --at
//! QUERY.csv` (`eval.rs`). Each command's flags are a clap `#[derive(Args)]` struct; the flags
//! several commands share are written once (`args.rs`); every value is checked against its
//! range in [`crate::limits`] (the page's numbers, plus those only the command line has) as it
//! is read. `fmp --help` prints every command's flags, each with its range, from those
//! structs (`help.rs`).
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
//! evaluated at the clamp t = 0.999 (beta = 0.001)`; exit code 0). `eval` prints `u_theta(x, t)`
//! of a network saved by `train --save` at query points, as CSV `x,y,u_x,u_y`.
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
//! learned one, 50 steps, 2,000 particles, seed 0, 5,000 training steps. `--steps` takes
//! [`limits::FLOW_STEPS`] (`1..=400`: one Euler step is the straight-paths lesson's one-step
//! figure); with `--sigma` the SDE runs by Euler-Maruyama and the report says
//! `"solver":"euler-maruyama"`.
//!
//! ## JSON lines
//! Each command's report is a `#[derive(Serialize)]` struct printed by serde_json on one line:
//! keys in the struct's order, numbers as Rust prints them (the shortest text that reads back,
//! `2` rather than `2.0`), a number that is not finite as `null`, and `null` for a figure that
//! does not apply (`"train_steps":null` for the exact field).
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
//! - Only regular files are read: a FIFO, a device or a folder given as `--data`, `--at` or
//!   `--model` (or found inside `--model`'s folder) is refused before it is opened
//!   (`error: /dev/zero is a device, not a regular file`), and every read stops after its
//!   limit plus one byte, so a file that grows cannot exhaust memory.
//! - A saved model (`--model`, `model.rs`): at most [`limits::MAX_MODEL_BYTES`]; its config
//!   (`config.json`, or the `fmp_config` metadata of a bare `model.safetensors`) must agree
//!   with the tensors (width, depth, time features, classes), name a known schedule, solver and
//!   sampling steps in [`limits::FLOW_STEPS`]; `flow` needs `--schedule` to be the model's.
//!   Non-finite weights are refused, and so are results that are not finite (`eval`'s
//!   `u_theta`, `field`'s values, `flow`'s particles with a saved model): exit code 2, `the
//!   model is not finite`.
//! - Outputs (`--samples`, `--save`, `--out`) are checked before any work: the folder of a
//!   file exists, an existing output is a regular file (a `--save` target a folder) and is
//!   overwritten only with `--force` (a `--save` folder that holds any file too).
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

mod args;
mod eval;
mod field;
mod files;
mod flow;
mod help;
mod model;
mod train;

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches};

#[cfg(doc)]
use crate::{data, limits, metrics, ode, trainer::TrainConfig};

use args::shown;

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

/// A failed run: exit code and a one-line message (without the `error: ` prefix).
#[derive(Debug)]
struct Failure {
    code: i32,
    message: String,
}

impl Failure {
    /// A failure of training (exit code 1).
    fn diverged(message: String) -> Self {
        Failure {
            code: EXIT_DIVERGED,
            message,
        }
    }
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

/// The command line as clap reads it: one subcommand.
#[derive(clap::Parser, Debug)]
#[command(name = "fmp")]
struct Cli {
    #[command(subcommand)]
    command: Subcommand,
}

/// The commands, with their flags as given. (The variants have no doc comments: clap would
/// take them for the commands' summaries, which their flag structs give.)
#[derive(clap::Subcommand, Debug)]
enum Subcommand {
    Train(train::TrainFlags),
    Field(field::FieldFlags),
    Flow(flow::FlowFlags),
    Eval(eval::EvalFlags),
}

/// The clap command of the whole line: no help flag (`--help` and `-h` anywhere are read before
/// clap, see [`parse`]), and every value may start with a hyphen (`--seed -1` is a seed out of
/// range, not a flag `-1`; a flag's value is the next argument, whatever it is).
fn clap_command() -> clap::Command {
    Cli::command()
        .disable_help_flag(true)
        .mut_subcommands(|sub| {
            sub.disable_help_flag(true).mut_args(|arg| {
                if arg.get_action().takes_values() {
                    arg.allow_hyphen_values(true)
                } else {
                    arg
                }
            })
        })
}

/// A checked command line.
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Help,
    Train(train::TrainArgs),
    Field(field::FieldArgs),
    Flow(flow::FlowArgs),
    Eval(eval::EvalArgs),
}

/// Checks the whole command line (nothing is read or run).
fn parse(args: &[String]) -> Result<Command, Failure> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    let cmd = clap_command();
    let names: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
    let expected = match names.split_last() {
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
        None => "expected a command".to_string(),
    } + "; fmp --help lists the flags";
    let sub = match args.first() {
        None => return Err(format!("missing command ({expected})").into()),
        Some(a) if !names.contains(&a.as_str()) => {
            return Err(format!("unknown command {} ({expected})", shown(a)).into())
        }
        Some(a) => a,
    };
    let line = std::iter::once("fmp").chain(args.iter().map(String::as_str));
    let matches = cmd
        .clone()
        .try_get_matches_from(line)
        .map_err(|e| refused(&cmd, sub, &e))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| refused(&cmd, sub, &e))?;
    match cli.command {
        Subcommand::Train(f) => f.check().map(Command::Train),
        Subcommand::Field(f) => f.check().map(Command::Field),
        Subcommand::Flow(f) => f.check().map(Command::Flow),
        Subcommand::Eval(f) => f.check().map(Command::Eval),
    }
}

/// The one-line error of a line clap refused in subcommand `sub`.
fn refused(cmd: &clap::Command, sub: &str, e: &clap::Error) -> Failure {
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let args: Vec<&clap::Arg> = cmd
        .find_subcommand(sub)
        .map(|s| s.get_arguments().collect())
        .unwrap_or_default();
    // The flag as clap shows it (`--width <W>`), by its first word.
    let flag = text(ContextKind::InvalidArg).unwrap_or_default();
    let flag = flag.split(' ').next().unwrap_or_default().to_string();
    let message = match e.kind() {
        ErrorKind::ValueValidation => text(ContextKind::Custom),
        ErrorKind::UnknownArgument => text(ContextKind::InvalidArg).map(|arg| {
            let names: Vec<String> = args.iter().map(|a| help::flag_name(a)).collect();
            format!(
                "unknown flag {} (expected {})",
                shown(&arg),
                names.join(", ")
            )
        }),
        ErrorKind::ArgumentConflict => Some(format!("{flag} given twice")),
        ErrorKind::InvalidValue | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            let expects = args
                .iter()
                .find(|a| help::flag_name(a) == flag)
                .map(|a| help::expects(a))
                .unwrap_or_default();
            Some(format!("{flag} needs a value, {expects}"))
        }
        _ => None,
    };
    // Anything else: clap's own first line.
    message
        .unwrap_or_else(|| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        })
        .into()
}

/// Run the command line `args` (without the program name).
pub fn run(args: &[String]) -> Output {
    let mut note = None;
    let result = parse(args).and_then(|command| match command {
        Command::Help => Ok(help::usage(&clap_command())),
        Command::Train(a) => train::run(&a),
        Command::Field(a) => {
            note = field::clamp_note(a.schedule, a.t);
            field::run(&a)
        }
        Command::Flow(a) => flow::run(&a),
        Command::Eval(a) => eval::run(&a),
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

/// The output of a run: its stdout, or one error line and the failure's exit code.
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

/// One JSON line of `report` (see the module docs: numbers as Rust prints them, non-finite
/// ones as `null`).
fn json_line(report: &impl serde::Serialize) -> Result<String, Failure> {
    /// serde_json's compact output, with numbers printed by `Display`.
    struct PlainNumbers;

    impl serde_json::ser::Formatter for PlainNumbers {
        fn write_f32<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            value: f32,
        ) -> std::io::Result<()> {
            write!(writer, "{value}")
        }

        fn write_f64<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            value: f64,
        ) -> std::io::Result<()> {
            write!(writer, "{value}")
        }
    }

    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, PlainNumbers);
    report
        .serialize(&mut ser)
        .map_err(|e| format!("json: {e}"))?;
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| format!("json: {e}").into())
}

#[cfg(test)]
mod tests;
