//! `fmp eval`: `u_theta(x, t)` of a network saved by `train --save` at query points, as CSV
//! `x,y,u_x,u_y`.

use super::args::{required, Expect, OutFile, Query};
use super::files::read_points;
use super::model::load_model;
use super::Failure;
use crate::limits;
use crate::mlp::ForwardCache;

/// The flags of `fmp eval`, as given.
#[derive(clap::Args, Clone, Debug)]
#[command(
    about = "prints u_theta(x, t) of a network saved by train --save at query points, as CSV.",
    override_usage = "fmp eval --model PATH --t T --at QUERY.csv"
)]
pub(super) struct EvalFlags {
    /// The saved network (required).
    #[arg(long, value_name = "PATH", value_parser = OutFile,
          help = OutFile.help("required: a folder written by train --save, or its model.safetensors"))]
    model: Option<String>,
    /// `--t`, `--at`.
    #[command(flatten)]
    query: Query,
}

/// A checked `eval` command.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct EvalArgs {
    pub model: String,
    pub at: String,
    pub t: f64,
}

impl EvalFlags {
    /// The command, with every required flag.
    pub(super) fn check(self) -> Result<EvalArgs, Failure> {
        let model = required(self.model, "eval", "--model PATH")?;
        let (t, at) = self.query.required("eval")?;
        Ok(EvalArgs { model, at, t })
    }
}

/// Runs `fmp eval`: the CSV text.
pub(super) fn run(a: &EvalArgs) -> Result<String, Failure> {
    let mlp = load_model(&a.model)?.mlp;
    let queries = read_points(&a.at, limits::QUERY_POINTS)?;
    let mut out = vec![[0.0; 2]; queries.len()];
    mlp.predict(&queries, a.t, &mut out, &mut ForwardCache::new());
    if let Some((x, u)) = queries
        .iter()
        .zip(&out)
        .find(|(_, u)| !u[0].is_finite() || !u[1].is_finite())
    {
        return Err(format!(
            "{}: the model is not finite: u_theta({},{}, t = {}) is ({},{}) (its weights overflow)",
            super::args::file_shown(&a.model),
            x[0],
            x[1],
            a.t,
            u[0],
            u[1]
        )
        .into());
    }
    let mut csv = String::from("x,y,u_x,u_y\n");
    for (x, u) in queries.iter().zip(&out) {
        csv.push_str(&format!("{},{},{},{}\n", x[0], x[1], u[0], u[1]));
    }
    Ok(csv)
}
