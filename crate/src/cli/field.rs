//! `fmp field`: the exact marginal field of a CSV cloud at query points, as CSV
//! `x,y,u_x,u_y,score_x,score_y,log_density,divergence,t_used` (`t_used`: `t` clamped to the
//! schedule's `t_max`). The cloud and the queries are used as given.

use super::args::{required, CsvFile, Expect, Query, ScheduleFlag};
use super::files::read_points;
use super::Failure;
use crate::limits;
use crate::marginal::EmpiricalMarginal;
use crate::path::{GaussianPath, Schedule};

/// The flags of `fmp field`, as given.
#[derive(clap::Args, Clone, Debug)]
#[command(
    about = "prints the exact marginal field of a CSV cloud at query points, as CSV; a t past \
             the schedule's clamp (where beta = 0.001) is evaluated there (column t_used).",
    override_usage = "fmp field --data FILE.csv --t T --at QUERY.csv [--schedule NAME]"
)]
pub(super) struct FieldFlags {
    /// The cloud (required).
    #[arg(long, value_name = "FILE.csv", value_parser = CsvFile(limits::POINTS),
          help = CsvFile(limits::POINTS).help("required; used as given"))]
    data: Option<String>,
    /// `--t`, `--at`.
    #[command(flatten)]
    query: Query,
    /// `--schedule`.
    #[command(flatten)]
    schedule: ScheduleFlag,
}

/// A checked `field` command.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FieldArgs {
    pub data: String,
    pub at: String,
    pub t: f64,
    pub schedule: Schedule,
}

impl FieldFlags {
    /// The command, with every required flag.
    pub(super) fn check(self) -> Result<FieldArgs, Failure> {
        let data = required(self.data, "field", "--data FILE.csv")?;
        let (t, at) = self.query.required("field")?;
        Ok(FieldArgs {
            data,
            at,
            t,
            schedule: self.schedule.get(),
        })
    }
}

/// The note `field` writes on stderr when `t` is past the clamp (else `None`).
pub(super) fn clamp_note(schedule: Schedule, t: f64) -> Option<String> {
    let t_used = schedule.clamp_t(t);
    (t_used < t).then(|| {
        format!(
            "note: t = {t} is evaluated at the clamp t = {t_used} (beta = {})\n",
            crate::path::BETA_MIN
        )
    })
}

/// Runs `fmp field`: the CSV text.
pub(super) fn run(a: &FieldArgs) -> Result<String, Failure> {
    let marginal = EmpiricalMarginal::new(
        read_points(&a.data, limits::POINTS)?,
        GaussianPath::new(a.schedule),
    );
    let queries = read_points(&a.at, limits::QUERY_POINTS)?;
    let t_used = a.schedule.clamp_t(a.t);
    let mut out = String::from("x,y,u_x,u_y,score_x,score_y,log_density,divergence,t_used\n");
    for x in queries {
        let e = marginal.eval(x, a.t);
        let values = [
            e.u[0],
            e.u[1],
            e.score[0],
            e.score[1],
            e.log_density,
            e.divergence,
        ];
        if values.iter().any(|v| !v.is_finite()) {
            return Err(format!(
                "the exact field is not finite at the query point ({},{}) (t = {t_used}); the \
                 points are too far apart for f64",
                x[0], x[1]
            )
            .into());
        }
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{t_used}\n",
            x[0], x[1], e.u[0], e.u[1], e.score[0], e.score[1], e.log_density, e.divergence
        ));
    }
    Ok(out)
}
