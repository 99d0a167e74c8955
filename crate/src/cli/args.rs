//! What a flag's value must be, and the flags several commands share.
//!
//! Every flag that takes a value is checked by one of the value parsers here, given to clap as
//! `value_parser = ...` in the command's `#[derive(Args)]` struct: [`Int`] and [`Real`] hold the
//! range of [`crate::limits`], [`Name`] the listed names, [`CsvFile`] the limit on the points of
//! a file, [`OutFile`] refuses an empty name, [`TimesList`] takes times in `0..=1`. Each says what
//! it expects (`an integer in 4..=512`), which starts the flag's help line ([`Expect::help`]) and
//! its one-line error: `--width must be an integer in 4..=512 (got 0)`, the value shown by
//! [`shown`]. Clap checks the values as it reads them, in command-line order, so the first bad
//! argument is the one reported.
//!
//! The flags written once here: the flow's setup that `train` (its samples) and `flow` share
//! ([`FlowSetup`]: `--schedule`, `--solver`, `--seed`; `--schedule` alone is [`ScheduleFlag`],
//! which `field` takes too) and the query of `field` and `eval` ([`Query`]: `--t`, `--at`).

use std::ffi::OsStr;
use std::fmt::Display;
use std::marker::PhantomData;

use clap::builder::TypedValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use super::Failure;
use crate::data::Preset;
use crate::limits::{self, IntLimit, RealLimit};
use crate::ode::Solver;
use crate::path::Schedule;
use crate::trainer::Coupling;

/// What a flag expects, in the words of its help line and its error.
pub(super) trait Expect {
    /// E.g. `an integer in 4..=512`.
    fn expects(&self) -> String;

    /// The flag's help line: what it expects, then `note` (its default, remarks).
    fn help(&self, note: impl Display) -> String {
        format!("{}; {note}", self.expects())
    }
}

/// The one-line error of a value `flag` refuses (`--width must be an integer in 4..=512 (got
/// 0)`), as a clap error carrying the message in [`ContextKind::Custom`].
fn refuse(
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &OsStr,
    expects: &impl Expect,
) -> clap::Error {
    let flag = arg
        .and_then(clap::Arg::get_long)
        .map_or_else(|| "a flag".to_string(), |long| format!("--{long}"));
    let message = format!(
        "{flag} must be {} (got {})",
        expects.expects(),
        shown(&value.to_string_lossy())
    );
    let mut e = clap::Error::new(ErrorKind::ValueValidation).with_cmd(cmd);
    e.insert(ContextKind::Custom, ContextValue::String(message));
    e
}

/// A decimal integer within its range.
#[derive(Clone, Copy, Debug)]
pub(super) struct Int(pub IntLimit);

impl Expect for Int {
    fn expects(&self) -> String {
        format!("an integer in {}", self.0)
    }
}

impl TypedValueParser for Int {
    type Value = u64;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<u64, clap::Error> {
        value
            .to_str()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| self.0.contains(*v))
            .ok_or_else(|| refuse(cmd, arg, value, self))
    }
}

/// A finite number within its range.
#[derive(Clone, Copy, Debug)]
pub(super) struct Real(pub RealLimit);

impl Expect for Real {
    fn expects(&self) -> String {
        format!("a number in {}", self.0)
    }
}

impl TypedValueParser for Real {
    type Value = f64;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<f64, clap::Error> {
        value
            .to_str()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| self.0.contains(*v))
            .ok_or_else(|| refuse(cmd, arg, value, self))
    }
}

/// A value known by name: one of a fixed list.
pub(super) trait Named: Copy + Send + Sync + 'static {
    /// Every value, in the order the help lists them.
    fn all() -> Vec<Self>;
    /// The name on the command line.
    fn name(self) -> &'static str;
}

/// [`Named`] for the core's enums with `ALL` and `name`.
macro_rules! named {
    ($($t:ty),*) => {$(
        impl Named for $t {
            fn all() -> Vec<Self> {
                <$t>::ALL.to_vec()
            }
            fn name(self) -> &'static str {
                <$t>::name(self)
            }
        }
    )*};
}

named!(Preset, Schedule, Solver, Coupling);

/// One of the names of `T`.
pub(super) struct Name<T>(PhantomData<fn() -> T>);

/// The parser of the names of `T`.
pub(super) const fn name<T>() -> Name<T> {
    Name(PhantomData)
}

impl<T> Clone for Name<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Name<T> {}

impl<T: Named> Expect for Name<T> {
    fn expects(&self) -> String {
        let names: Vec<&str> = T::all().into_iter().map(T::name).collect();
        format!("one of {}", names.join(", "))
    }
}

impl<T: Named> TypedValueParser for Name<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        T::all()
            .into_iter()
            .find(|v| OsStr::new(v.name()) == value)
            .ok_or_else(|| refuse(cmd, arg, value, self))
    }
}

/// A CSV file to read (a non-empty name), with the limit on its number of points.
#[derive(Clone, Copy, Debug)]
pub(super) struct CsvFile(pub IntLimit);

impl Expect for CsvFile {
    fn expects(&self) -> String {
        format!("a CSV file of at most {} points", self.0.max)
    }
}

impl TypedValueParser for CsvFile {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        non_empty(value).ok_or_else(|| refuse(cmd, arg, value, self))
    }
}

/// A file or folder to write or load (a non-empty name).
#[derive(Clone, Copy, Debug)]
pub(super) struct OutFile;

impl Expect for OutFile {
    fn expects(&self) -> String {
        "a file name".to_string()
    }
}

impl TypedValueParser for OutFile {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        non_empty(value).ok_or_else(|| refuse(cmd, arg, value, self))
    }
}

/// The value as a string, unless it is empty (or not UTF-8, which [`super::run_os`] refuses
/// before).
fn non_empty(value: &OsStr) -> Option<String> {
    value.to_str().filter(|v| !v.is_empty()).map(str::to_string)
}

/// A switch: given without a value (for its help line; clap's `SetTrue` reads it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Switch;

impl Expect for Switch {
    fn expects(&self) -> String {
        "given without a value".to_string()
    }
}

/// The times of `flow --at-times`, each in `0..=1`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Times(pub Vec<f64>);

/// Times in `0..=1`, separated by commas (at most 100).
#[derive(Clone, Copy, Debug)]
pub(super) struct TimesList;

impl Expect for TimesList {
    fn expects(&self) -> String {
        format!("times in {}, separated by commas", limits::TIME)
    }
}

impl TypedValueParser for TimesList {
    type Value = Times;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Times, clap::Error> {
        value
            .to_str()
            .and_then(parse_times)
            .map(Times)
            .ok_or_else(|| refuse(cmd, arg, value, self))
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

/// `--schedule`, of `train`, `field` and `flow`.
#[derive(clap::Args, Clone, Copy, Debug)]
pub(super) struct ScheduleFlag {
    /// The schedule of the Gaussian path (default linear).
    #[arg(long, value_name = "NAME", value_parser = name::<Schedule>(),
          help = name::<Schedule>().help(format!("default {}", Schedule::default().name())))]
    pub schedule: Option<Schedule>,
}

impl ScheduleFlag {
    /// The schedule given, or the default.
    pub fn get(self) -> Schedule {
        self.schedule.unwrap_or_default()
    }
}

/// The flow's setup, shared by `train` (how it samples its network) and `flow`.
#[derive(clap::Args, Clone, Copy, Debug)]
pub(super) struct FlowSetup {
    /// `--schedule`.
    #[command(flatten)]
    pub schedule: ScheduleFlag,
    /// The ODE solver (the default depends on the field).
    #[arg(long, value_name = "NAME", value_parser = name::<Solver>(),
          help = name::<Solver>().help(format!(
              "default {}; flow --field exact: {}",
              Solver::default().name(),
              Solver::PosteriorStep.name()
          )))]
    pub solver: Option<Solver>,
    /// The seed of every random draw (default 0).
    #[arg(long, value_name = "S", value_parser = Int(limits::SEED),
          help = Int(limits::SEED).help(
              "default 0; of the data, the network, the noise (flow: the particles' noise \
               and the training)"
          ))]
    pub seed: Option<u64>,
}

impl FlowSetup {
    /// The seed given, or 0 (the app's default, [`crate::trainer::TrainConfig::default`]).
    pub fn seed(self) -> u64 {
        self.seed.unwrap_or(0)
    }
}

/// The query of `field` and `eval`: a time and a file of points.
#[derive(clap::Args, Clone, Debug)]
pub(super) struct Query {
    /// The time `t` (required).
    #[arg(long = "t", value_name = "T", value_parser = Real(limits::TIME),
          help = Real(limits::TIME).help("required"))]
    pub t: Option<f64>,
    /// The query points (required).
    #[arg(long, value_name = "QUERY.csv", value_parser = CsvFile(limits::QUERY_POINTS),
          help = CsvFile(limits::QUERY_POINTS).help("required; the query points, used as given"))]
    pub at: Option<String>,
}

impl Query {
    /// The time and the query file, both required by `command`.
    pub fn required(self, command: &str) -> Result<(f64, String), Failure> {
        let at = required(self.at, command, "--at QUERY.csv")?;
        let t = required(self.t, command, "--t T")?;
        Ok((t, at))
    }
}

/// A required flag's value, or the error `{command} needs {flag}`.
pub(super) fn required<T>(value: Option<T>, command: &str, flag: &str) -> Result<T, Failure> {
    value.ok_or_else(|| format!("{command} needs {flag}").into())
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
pub(super) fn shown(v: &str) -> String {
    shown_max(v, 40)
}

/// A file name as messages show it (escaped if need be, never cut).
pub(super) fn file_shown(v: &str) -> String {
    shown_max(v, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_values_stay_short_and_on_one_line() {
        assert_eq!(shown("512"), "512");
        assert_eq!(shown(""), "\"\"");
        assert_eq!(shown("a b\nc"), "\"a b\\nc\"");
        assert_eq!(shown(&"9".repeat(100)), format!("{}...", "9".repeat(40)));
        assert_eq!(file_shown(&"x".repeat(100)), "x".repeat(100));
    }

    #[test]
    fn times_are_a_short_list_in_0_to_1() {
        assert_eq!(parse_times("0.25, 0.5,1"), Some(vec![0.25, 0.5, 1.0]));
        for bad in ["", "0.5,", "1.5", "nan", "-0.1", &vec!["0"; 101].join(",")] {
            assert_eq!(parse_times(bad), None, "{bad}");
        }
        assert!(parse_times(&vec!["0"; 100].join(",")).is_some());
    }
}
