//! The command line (`cargo run --release --example fmp -- ...`), as a library function so that
//! tests call it directly: [`run`] takes the arguments and returns stdout, stderr and the exit
//! code. Native only (it reads files and the wall clock).
//!
//! ```text
//! fmp train [--preset NAME | --data FILE.csv] [--points N] [--steps N] [--seed S]
//!           [--width W] [--depth D] [--time-features K] [--batch B] [--lr LR]
//!           [--schedule linear|cosine|sqrt] [--solver euler|midpoint|rk4] [--ode-steps K]
//!           [--samples OUT.csv]
//! fmp field --data FILE.csv --t T --at QUERY.csv [--schedule linear|cosine|sqrt]
//! ```
//! `train` fits the default network (flags override [`TrainConfig::default`]) to a preset
//! (default two moons, `--points` points, default 2,048) or to a CSV cloud used as given, then
//! integrates as many points as the data has (at most 2,048; a larger cloud is subsampled for the
//! metrics) from `N(0, I)` through the learned field and prints one JSON line: steps, steps/s,
//! final CFM and FM losses (averaged over the last reported steps), energy distance and exact
//! W2 to the data. `field` prints the exact marginal at time `t` at each query point as CSV
//! `x,y,u_x,u_y,score_x,score_y,log_density,divergence`.
//! Every error (bad flag or value, unreadable or malformed file, empty cloud, non-finite value)
//! is one line on stderr naming the file and line, with exit code 2.

use std::time::Instant;

use crate::data::{self, Preset};
use crate::json;
use crate::marginal::EmpiricalMarginal;
use crate::metrics;
use crate::mlp::MlpField;
use crate::ode::{Integrator, Solver};
use crate::path::{GaussianPath, Schedule};
use crate::rng;
use crate::trainer::{TrainConfig, Trainer};
use crate::Point;

/// What a command run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error (one line on failure).
    pub stderr: String,
    /// Exit code: 0 on success, 2 on a usage or input error.
    pub code: i32,
}

/// Usage text, printed on `--help`.
const USAGE: &str =
    "usage: fmp train [--preset NAME | --data FILE.csv] [--points N] [--steps N] [--seed S] \
[--width W] [--depth D] [--time-features K] [--batch B] [--lr LR] [--schedule linear|cosine|sqrt] \
[--solver euler|midpoint|rk4] [--ode-steps K] [--samples OUT.csv]\n       \
fmp field --data FILE.csv --t T --at QUERY.csv [--schedule linear|cosine|sqrt]";

/// Number of final steps run with [`Trainer::step_reporting`] to report the losses.
const REPORT_STEPS: usize = 20;

/// Run the command line `args` (without the program name).
pub fn run(args: &[String]) -> Output {
    let result = match args.first().map(String::as_str) {
        Some("train") => train(&args[1..]),
        Some("field") => field(&args[1..]),
        Some("--help") | Some("-h") => Ok(format!("{USAGE}\n")),
        Some(other) => Err(format!(
            "unknown command '{other}' (expected train or field)"
        )),
        None => Err("missing command (expected train or field)".to_string()),
    };
    match result {
        Ok(stdout) => Output {
            stdout,
            stderr: String::new(),
            code: 0,
        },
        Err(message) => Output {
            stdout: String::new(),
            stderr: format!("error: {message}\n"),
            code: 2,
        },
    }
}

/// Flags as `(name, value)` pairs; every flag takes exactly one value.
fn parse_flags<'a>(
    args: &'a [String],
    allowed: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut flags: Vec<(&str, &str)> = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if !allowed.contains(&flag.as_str()) {
            return Err(format!("unknown flag '{flag}'"));
        }
        let value = it
            .next()
            .ok_or_else(|| format!("flag {flag} needs a value"))?;
        if flags.iter().any(|(f, _)| *f == flag) {
            return Err(format!("flag {flag} given twice"));
        }
        flags.push((flag, value));
    }
    Ok(flags)
}

fn get<'a>(flags: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    flags.iter().find(|(f, _)| *f == name).map(|(_, v)| *v)
}

fn parse_num<T: std::str::FromStr>(
    flags: &[(&str, &str)],
    name: &str,
    default: T,
) -> Result<T, String> {
    match get(flags, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .map_err(|_| format!("{name}: cannot parse '{v}'")),
    }
}

fn parse_finite(flags: &[(&str, &str)], name: &str, default: f64) -> Result<f64, String> {
    let v = parse_num(flags, name, default)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name}: must be finite"))
    }
}

fn parse_schedule(flags: &[(&str, &str)]) -> Result<Schedule, String> {
    match get(flags, "--schedule") {
        None => Ok(Schedule::default()),
        Some(v) => Schedule::parse(v)
            .ok_or_else(|| format!("--schedule: unknown '{v}' (linear, cosine or sqrt)")),
    }
}

/// Read and parse a point cloud (never empty: [`data::parse_points_csv`] rejects a file
/// without points); errors name the file (and the line).
fn read_points(file: &str) -> Result<Vec<Point>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    data::parse_points_csv(&text).map_err(|e| format!("{file}: {e}"))
}

/// A JSON number, or `null` if not finite.
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

fn train(args: &[String]) -> Result<String, String> {
    let flags = parse_flags(
        args,
        &[
            "--preset",
            "--data",
            "--points",
            "--steps",
            "--seed",
            "--width",
            "--depth",
            "--time-features",
            "--batch",
            "--lr",
            "--schedule",
            "--solver",
            "--ode-steps",
            "--samples",
        ],
    )?;
    let defaults = TrainConfig::default();
    let seed: u64 = parse_num(&flags, "--seed", defaults.seed)?;
    let (source, data) = match (get(&flags, "--preset"), get(&flags, "--data")) {
        (Some(_), Some(_)) => return Err("give --preset or --data, not both".to_string()),
        (_, Some(file)) => (file.to_string(), read_points(file)?),
        (preset, None) => {
            let name = preset.unwrap_or("moons");
            let preset = Preset::parse(name).ok_or_else(|| {
                let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                format!("--preset: unknown '{name}' ({})", names.join(", "))
            })?;
            let n: usize = parse_num(&flags, "--points", 2048)?;
            if n == 0 {
                return Err("--points: must be at least 1".to_string());
            }
            let points = data::sample_preset(preset, n, &mut rng::seeded(seed.wrapping_add(1)));
            (preset.name().to_string(), points)
        }
    };
    let mut config = defaults;
    config.seed = seed;
    config.mlp.width = parse_num(&flags, "--width", config.mlp.width)?;
    config.mlp.depth = parse_num(&flags, "--depth", config.mlp.depth)?;
    config.mlp.time_features = parse_num(&flags, "--time-features", config.mlp.time_features)?;
    config.batch = parse_num(&flags, "--batch", config.batch)?;
    config.schedule = parse_schedule(&flags)?;
    let lr = parse_finite(&flags, "--lr", config.adam.lr as f64)?;
    if lr <= 0.0 {
        return Err("--lr: must be positive".to_string());
    }
    config.adam.lr = lr as f32;
    if config.mlp.width == 0 || config.mlp.depth == 0 || config.batch == 0 {
        return Err("--width, --depth and --batch must be at least 1".to_string());
    }
    let steps: usize = parse_num(&flags, "--steps", 5000)?;
    let solver = match get(&flags, "--solver") {
        None => Solver::default(),
        Some(v) => Solver::parse(v)
            .ok_or_else(|| format!("--solver: unknown '{v}' (euler, midpoint or rk4)"))?,
    };
    let ode_steps: usize = parse_num(&flags, "--ode-steps", 50)?;
    if ode_steps == 0 {
        return Err("--ode-steps: must be at least 1".to_string());
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

    // Train: plain steps (timed), then the last few with the exact FM loss.
    let mut trainer = Trainer::new(config, data);
    let plain = steps.saturating_sub(REPORT_STEPS);
    let start = Instant::now();
    for _ in 0..plain {
        trainer.step();
    }
    let plain_s = start.elapsed().as_secs_f64();
    let (mut cfm, mut fm, mut cosine) = (0.0, 0.0, 0.0);
    let reported = steps - plain;
    for _ in 0..reported {
        let r = trainer.step_reporting();
        cfm += r.cfm_loss;
        fm += r.fm_loss;
        cosine += r.grad_cosine;
    }
    let total_s = start.elapsed().as_secs_f64();
    let steps_per_s = if plain > 0 {
        plain as f64 / plain_s
    } else {
        steps as f64 / total_s
    };
    let denom = reported.max(1) as f64;

    // Sample as many points as the reference has and compare.
    let mut samples: Vec<Point> = (0..n_eval)
        .map(|_| rng::normal_pair(&mut sample_rng))
        .collect();
    let mut field = MlpField::new(trainer.model());
    Integrator::new().integrate(&mut field, solver, &mut samples, 0.0, 1.0, ode_steps);
    let energy = metrics::energy_distance(&samples, &reference);
    let w2 = metrics::w2_exact(&samples, &reference).map_err(|e| format!("w2: {e}"))?;
    if let Some(out) = get(&flags, "--samples") {
        std::fs::write(out, data::points_to_csv(&samples)).map_err(|e| format!("{out}: {e}"))?;
    }
    let c = config;
    Ok(format!(
        "{{\"command\":\"train\",\"data\":{},\"data_points\":{},\"eval_points\":{},\"data_subsampled\":{},\
\"width\":{},\"depth\":{},\"time_features\":{},\"batch\":{},\"lr\":{},\"schedule\":\"{}\",\"seed\":{},\
\"steps\":{},\"steps_per_s\":{},\"cfm_loss\":{},\"fm_loss\":{},\"grad_cosine\":{},\
\"solver\":\"{}\",\"ode_steps\":{},\"energy_distance\":{},\"w2\":{}}}\n",
        json::string(&source),
        n_data,
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
        solver.name(),
        ode_steps,
        json_num(energy),
        json_num(w2),
    ))
}

fn field(args: &[String]) -> Result<String, String> {
    let flags = parse_flags(args, &["--data", "--t", "--at", "--schedule"])?;
    let data_file = get(&flags, "--data").ok_or("field: --data FILE.csv is required")?;
    let at_file = get(&flags, "--at").ok_or("field: --at QUERY.csv is required")?;
    if get(&flags, "--t").is_none() {
        return Err("field: --t T is required".to_string());
    }
    let t = parse_finite(&flags, "--t", 0.0)?;
    if !(0.0..=1.0).contains(&t) {
        return Err(format!("--t: {t} is outside [0, 1]"));
    }
    let schedule = parse_schedule(&flags)?;
    let marginal = EmpiricalMarginal::new(read_points(data_file)?, GaussianPath::new(schedule));
    let queries = read_points(at_file)?;
    let mut out = String::from("x,y,u_x,u_y,score_x,score_y,log_density,divergence\n");
    for x in queries {
        let e = marginal.eval(x, t);
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            x[0], x[1], e.u[0], e.u[1], e.score[0], e.score[1], e.log_density, e.divergence
        ));
    }
    Ok(out)
}
