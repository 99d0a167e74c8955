//! The only `#[wasm_bindgen]` surface of the crate.
//!
//! Rust owns the state; JavaScript holds handles ([`TrainerHandle`] in the training worker,
//! [`Fields`] in the page and the flow worker) and passes point sets as interleaved
//! `Float32Array`s `[x0, y0, x1, y1, ...]`, copied across the boundary. Grids of scalars are
//! `n x n`, row-major, row 0 at the top (`y = +half`), column 0 at the left (`x = -half`),
//! sampled at cell centres.

use crate::continuity::{Residuals, UniformField};
use crate::data::{self, Preset};
use crate::gemm;
use crate::guidance::{self, ClassMarginals, ExactGuided, LearnedGuided};
use crate::limits;
use crate::marginal::EmpiricalMarginal;
use crate::mlp::{ForwardCache, Mlp, MlpConfig, MlpField};
use crate::ode::{self, ConditionalField, Integrator, MarginalField, Solver, VectorField};
use crate::parallel::Shard;
use crate::path::{GaussianPath, Schedule};
use crate::sde::{self, Diffusion, SdeDrift};
use crate::straight;
use crate::trainer::{Coupling, TrainConfig, Trainer};
use crate::{rng, Point};
use wasm_bindgen::prelude::*;

/// Interleaves points into `[x0, y0, ...]` as f32.
fn interleave(points: &[Point]) -> Vec<f32> {
    points
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect()
}

/// Reads interleaved f32 points, rejecting an odd length or a non-finite value.
fn points_of(flat: &[f32]) -> Result<Vec<Point>, JsError> {
    if flat.len() % 2 != 0 {
        return Err(JsError::new("points: odd number of coordinates"));
    }
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(JsError::new("points: a coordinate is not a finite number"));
    }
    Ok(flat
        .chunks_exact(2)
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect())
}

/// A network shape within [`limits`] (the page's ranges, and the command line's for the time
/// features), so that no caller can ask for an allocation that aborts.
fn check_shape(width: usize, depth: usize, time_features: usize) -> Result<(), JsError> {
    for (value, limit) in [
        (width, limits::WIDTH),
        (depth, limits::DEPTH),
        (time_features, limits::TIME_FEATURES),
    ] {
        if !limit.contains(value as u64) {
            return Err(JsError::new(&format!(
                "{} must be in {} (got {value})",
                limit.name, limit
            )));
        }
    }
    Ok(())
}

/// A network of a checked shape ([`check_shape`]) from a flat weight buffer (`Mlp::params`
/// layout; a wrong length is an error). Whether it is class-conditional, and for how many
/// classes, follows from the length: each class adds one input, `width` weights.
fn mlp_of(
    width: usize,
    depth: usize,
    time_features: usize,
    weights: Vec<f32>,
) -> Result<Mlp, JsError> {
    check_shape(width, depth, time_features)?;
    let config = |classes| MlpConfig {
        width,
        depth,
        time_features,
        classes,
    };
    let classes = (0..=data::MAX_CLASSES)
        .find(|&k| config(k).num_params() == weights.len())
        .unwrap_or(0);
    Mlp::from_params(config(classes), weights).map_err(|e| JsError::new(&e))
}

/// The points and the app-default training configuration of a run (shape `(width, depth,
/// time_features)`, batch, learning rate, schedule, seed), each checked against [`limits`]
/// (the independent coupling and no classes: the constructors set those).
fn checked_run(
    points: &[f32],
    (width, depth, time_features): (usize, usize, usize),
    batch: usize,
    lr: f32,
    schedule: &str,
    seed: u32,
) -> Result<(Vec<Point>, TrainConfig), JsError> {
    let data = points_of(points)?;
    if data.is_empty() {
        return Err(JsError::new("the cloud is empty: draw some points first"));
    }
    check_shape(width, depth, time_features)?;
    if !limits::BATCH.contains(batch as u64) {
        return Err(JsError::new(&format!("batch must be in {}", limits::BATCH)));
    }
    if !limits::LR.contains_f32(lr) {
        return Err(JsError::new(&format!(
            "learning rate must be in {}",
            limits::LR
        )));
    }
    let mut config = TrainConfig {
        mlp: MlpConfig {
            width,
            depth,
            time_features,
            classes: 0,
        },
        batch,
        schedule: schedule_of(schedule)?,
        seed: u64::from(seed),
        ..TrainConfig::default()
    };
    config.adam.lr = lr;
    Ok((data, config))
}

/// Labels checked: exactly `n` of them, each in [`limits::CLASS`].
fn labels_of(labels: &[u8], n: usize) -> Result<Vec<u8>, JsError> {
    if labels.len() != n {
        return Err(JsError::new(&format!(
            "{} labels for {n} points",
            labels.len()
        )));
    }
    match labels
        .iter()
        .find(|&&y| !limits::CLASS.contains(u64::from(y)))
    {
        Some(bad) => Err(JsError::new(&format!(
            "label {bad} out of range: {} must be in {}",
            limits::CLASS.name,
            limits::CLASS
        ))),
        None => Ok(labels.to_vec()),
    }
}

fn schedule_of(name: &str) -> Result<Schedule, JsError> {
    Schedule::parse(name).ok_or_else(|| JsError::new(&format!("unknown schedule {name}")))
}

/// The noise of an SDE, `sigma` checked against [`limits::SIGMA`].
fn diffusion_of(sigma: f64, score_correction: bool) -> Result<Diffusion, JsError> {
    if !limits::SIGMA.contains(sigma) {
        return Err(JsError::new(&format!(
            "the noise level sigma must be in {} (got {sigma})",
            limits::SIGMA
        )));
    }
    Ok(Diffusion {
        sigma,
        score_correction,
    })
}

fn solver_of(name: &str) -> Result<Solver, JsError> {
    Solver::parse(name).ok_or_else(|| JsError::new(&format!("unknown solver {name}")))
}

/// What the core offers, as JSON: `{"presets":[{"id","label"},..],"schedules":[..],
/// "solvers":[..],"defaults":{"width","depth","time_features","batch","lr"}}` (see
/// `catalog::catalog_json`; the ids are the names every other export takes).
#[wasm_bindgen]
pub fn catalog() -> String {
    crate::catalog::catalog_json()
}

/// A fresh random seed from the operating system (getrandom), for the "New seed" button;
/// everything downstream of a seed is deterministic, so the seed goes into shared links.
#[wasm_bindgen]
pub fn fresh_seed() -> Result<u32, JsError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| JsError::new(&format!("no randomness: {e}")))?;
    // Seeds stay below 2^31 so they survive JSON, URLs and the settings table.
    Ok(u32::from_le_bytes(bytes) >> 1)
}

/// `n` points of the preset `name` (see `data::Preset::name`), seeded, interleaved.
#[wasm_bindgen]
pub fn preset_points(name: &str, n: usize, seed: u32) -> Result<Vec<f32>, JsError> {
    let preset =
        Preset::parse(name).ok_or_else(|| JsError::new(&format!("unknown preset {name}")))?;
    let mut rng = rng::seeded(u64::from(seed));
    Ok(interleave(&data::sample_preset(preset, n, &mut rng)))
}

/// `n` samples of `p_init = N(0, I)`, seeded, interleaved.
#[wasm_bindgen]
pub fn noise_points(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = rng::seeded(u64::from(seed));
    let points: Vec<Point> = (0..n).map(|_| rng::normal_pair(&mut rng)).collect();
    interleave(&points)
}

/// Parses CSV text (`x,y` per line, optional header) into interleaved points; the error
/// names the line.
#[wasm_bindgen]
pub fn parse_csv(text: &str) -> Result<Vec<f32>, JsError> {
    data::parse_points_csv(text)
        .map(|p| interleave(&p))
        .map_err(|e| JsError::new(&e.to_string()))
}

/// The labels of [`preset_points`]`(name, n, seed)`'s points, in order (`data::sample_preset_labelled`).
#[wasm_bindgen]
pub fn preset_labels(name: &str, n: usize, seed: u32) -> Result<Vec<u8>, JsError> {
    let preset =
        Preset::parse(name).ok_or_else(|| JsError::new(&format!("unknown preset {name}")))?;
    let mut rng = rng::seeded(u64::from(seed));
    Ok(data::sample_preset_labelled(preset, n, &mut rng).1)
}

/// Parses CSV text with an optional third column of labels (`x,y` or `x,y,label` per line,
/// `data::parse_labelled_csv`) into triples `x, y, label`; the label is 0 for every point of a
/// file without labels. The error names the line.
#[wasm_bindgen]
pub fn parse_labelled_csv(text: &str) -> Result<Vec<f32>, JsError> {
    let (points, labels) =
        data::parse_labelled_csv(text).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(points
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let y = labels.as_ref().map_or(0, |l| l[i]);
            [p[0] as f32, p[1] as f32, f32::from(y)]
        })
        .collect())
}

/// Interleaved points and their labels as CSV `x,y,label` (`data::labelled_to_csv`).
#[wasm_bindgen]
pub fn to_labelled_csv(points: &[f32], labels: &[u8]) -> Result<String, JsError> {
    Ok(data::labelled_to_csv(&points_of(points)?, labels))
}

/// Interleaved points as CSV text with an `x,y` header.
#[wasm_bindgen]
pub fn to_csv(points: &[f32]) -> Result<String, JsError> {
    Ok(data::points_to_csv(&points_of(points)?))
}

/// Centres and uniformly scales interleaved points into `[-half, half]^2`.
#[wasm_bindgen]
pub fn fit_to_box(points: &[f32], half: f64) -> Result<Vec<f32>, JsError> {
    Ok(interleave(&data::fit_to_box(&points_of(points)?, half)))
}

/// `[alpha_t, beta_t, alpha_dot, beta_dot]` of a schedule at `t`.
#[wasm_bindgen]
pub fn schedule_at(name: &str, t: f64) -> Result<Vec<f64>, JsError> {
    let s = schedule_of(name)?;
    Ok(vec![s.alpha(t), s.beta(t), s.alpha_dot(t), s.beta_dot(t)])
}

/// The clamp of schedule `name`: the time `t_max` where `beta_t` falls to `BETA_MIN` (0.001,
/// the same noise level for every schedule; see `path`). Every field is evaluated at
/// `min(t, t_max)`, so `t = 1` is shown at `t_max`: linear 0.999, cosine 0.99936338,
/// square-root 0.999999.
#[wasm_bindgen]
pub fn schedule_t_max(name: &str) -> Result<f64, JsError> {
    Ok(schedule_of(name)?.t_max())
}

/// `BETA_MIN`, the noise level of the clamp (0.001; see [`schedule_t_max`]).
#[wasm_bindgen]
pub fn beta_min() -> f64 {
    crate::path::BETA_MIN
}

/// The loss chart: CFM and exact FM losses (and their difference) against steps, log scale,
/// with C (`gap`, NaN for none), the floor of the CFM loss, as a dashed line.
#[wasm_bindgen]
pub fn draw_loss_chart(
    canvas: web_sys::HtmlCanvasElement,
    steps: &[f32],
    cfm: &[f32],
    fm: &[f32],
    gap: f32,
) -> Result<(), JsError> {
    crate::plot::loss_chart(canvas, steps, cfm, fm, gap).map_err(|e| JsError::new(&e))
}

/// The trained network as a zip for Python (`export::files`, `export::zip`): `model.safetensors`
/// (the weights of a network of this shape, as `TrainerHandle::weights` gives them),
/// `config.json` (the shape, `schedule`, the training settings, and how the page sampled:
/// `solver`, `ode_steps`, with `w2` to the drawing over `w2_samples` samples, NaN for none) and
/// `drawing.csv` (the interleaved `drawing`; with its `labels`, one per point, as `x,y,label` for a
/// class-conditional network). Errors: a wrong weight count or shape, an unknown
/// schedule, bad points.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn export_model(
    width: usize,
    depth: usize,
    time_features: usize,
    weights: Vec<f32>,
    schedule: &str,
    steps: f64,
    lr: f64,
    batch: usize,
    seed: u32,
    solver: &str,
    ode_steps: usize,
    w2: f64,
    w2_samples: usize,
    drawing: &[f32],
    labels: &[u8],
) -> Result<Vec<u8>, JsError> {
    let mlp = mlp_of(width, depth, time_features, weights)?;
    let schedule = schedule_of(schedule)?;
    let info = crate::export::ExportInfo {
        schedule,
        steps: steps.max(0.0) as u64,
        lr,
        batch,
        seed: u64::from(seed),
        solver: solver.to_string(),
        ode_steps,
        w2: w2.is_finite().then_some((w2, w2_samples)),
    };
    // A class-conditional network's drawing keeps its classes (x,y,label).
    let csv = if mlp.config().classes > 0 && !labels.is_empty() {
        data::labelled_to_csv(&points_of(drawing)?, labels)
    } else {
        data::points_to_csv(&points_of(drawing)?)
    };
    let files = crate::export::files(&mlp, &info, &csv).map_err(|e| JsError::new(&e))?;
    Ok(crate::export::zip(&files))
}

/// The index of the time in `times` nearest to `tau` (`sde::nearest_time`: the grid frame the
/// marginal-match table reads, as `fmp flow --at-times` does).
#[wasm_bindgen]
pub fn nearest_time(times: &[f64], tau: f64) -> usize {
    sde::nearest_time(times, tau)
}

/// The diffusion lesson's W2 chart: W2 of learned SDE samples to the drawing against training
/// `steps`, one line per noise level (`w2`: `sigmas` values per step, row-major).
#[wasm_bindgen]
pub fn draw_w2_sigma_chart(
    canvas: web_sys::HtmlCanvasElement,
    steps: &[f32],
    w2: &[f32],
    sigmas: usize,
) -> Result<(), JsError> {
    crate::plot::w2_sigma_chart(canvas, steps, w2, sigmas).map_err(|e| JsError::new(&e))
}

/// The NFE chart of the straight-paths lesson: W2 to the drawing after each of `steps` Euler
/// steps, one line per model (`w2`: `steps.len()` values per model, model after model; `rgb`:
/// three bytes of colour per model).
#[wasm_bindgen]
pub fn draw_nfe_chart(
    canvas: web_sys::HtmlCanvasElement,
    steps: &[f32],
    w2: &[f32],
    rgb: &[u8],
) -> Result<(), JsError> {
    crate::plot::nfe_chart(canvas, steps, w2, rgb).map_err(|e| JsError::new(&e))
}

/// The largest block of a batch the OT coupling assigns exactly (`trainer::OT_BLOCK`).
#[wasm_bindgen]
pub fn ot_block() -> usize {
    crate::trainer::OT_BLOCK
}

/// The Euler step counts of the NFE chart (`straight::NFE`).
#[wasm_bindgen]
pub fn nfe_steps() -> Vec<u32> {
    straight::NFE.iter().map(|&n| n as u32).collect()
}

/// Straightness (`metrics::straightness`) of `n` trajectories stored as frames (`frames`:
/// `times.len()` frames of `n` interleaved points, frame after frame, as the flow worker
/// keeps them).
#[wasm_bindgen]
pub fn straightness_of(frames: &[f32], n: usize, times: &[f64]) -> Result<f64, JsError> {
    Ok(crate::metrics::straightness(
        &frames_of(frames, n, times.len())?,
        times,
    ))
}

/// Crossing pairs among the first 100 of `n` trajectories stored as `k` frames
/// (`straight::crossings_thinned`).
#[wasm_bindgen]
pub fn crossings_of(frames: &[f32], n: usize, k: usize) -> Result<u32, JsError> {
    Ok(straight::crossings_thinned(&frames_of(frames, n, k)?) as u32)
}

/// `k` frames of `n` points each out of a flat buffer (which must hold exactly that).
fn frames_of(flat: &[f32], n: usize, k: usize) -> Result<Vec<Vec<Point>>, JsError> {
    if n == 0 || flat.len() != 2 * n * k {
        return Err(JsError::new(&format!(
            "frames: {} numbers for {k} frames of {n} points",
            flat.len()
        )));
    }
    flat.chunks(2 * n).map(points_of).collect()
}

/// The Langevin density check: a histogram of `xs` on `[lo, hi]` in `curve.len()` bins against
/// the exact density `curve` at the bin centres.
#[wasm_bindgen]
pub fn draw_density_chart(
    canvas: web_sys::HtmlCanvasElement,
    xs: &[f32],
    curve: &[f32],
    lo: f32,
    hi: f32,
) -> Result<(), JsError> {
    crate::plot::density_chart(canvas, xs, curve, lo, hi).map_err(|e| JsError::new(&e))
}

/// The `alpha_t`, `beta_t` chart of schedule `name` with a marker at `t`.
#[wasm_bindgen]
pub fn draw_schedule_chart(
    canvas: web_sys::HtmlCanvasElement,
    name: &str,
    t: f64,
) -> Result<(), JsError> {
    crate::plot::schedule_chart(canvas, schedule_of(name)?, t).map_err(|e| JsError::new(&e))
}

/// The fraction of interleaved `samples` within `radius` of some point of `data`
/// (memorization: see `metrics::near_fraction`).
#[wasm_bindgen]
pub fn near_fraction(samples: &[f32], data: &[f32], radius: f64) -> Result<f64, JsError> {
    Ok(crate::metrics::near_fraction(
        &points_of(samples)?,
        &points_of(data)?,
        radius,
    ))
}

/// Interleaved points that must not be empty (`what` names them in the error).
fn nonempty_points_of(flat: &[f32], what: &str) -> Result<Vec<Point>, JsError> {
    let points = points_of(flat)?;
    if points.is_empty() {
        return Err(JsError::new(&format!("{what}: no points")));
    }
    Ok(points)
}

/// Energy distance between the interleaved point sets `a` and `b` (`metrics::energy_distance`,
/// V-statistic, 0 for equal clouds). Each set larger than 1,000 points
/// (`metrics::ENERGY_MAX_POINTS`) is first reduced to 1,000 by a seeded, hence deterministic,
/// draw without replacement (`metrics::subsample`): the same sets always give the same value.
/// Errors on an empty set, an odd length or a non-finite coordinate.
#[wasm_bindgen]
pub fn energy_distance(a: &[f32], b: &[f32]) -> Result<f64, JsError> {
    Ok(crate::metrics::energy_distance_capped(
        &nonempty_points_of(a, "energy_distance: a")?,
        &nonempty_points_of(b, "energy_distance: b")?,
    ))
}

/// Exact Wasserstein-2 distance between the interleaved point sets `a` and `b` (uniform
/// weights, optimal assignment: `metrics::w2_exact`). The sets may differ in size: both are
/// reduced to `n = min(len a, len b, 2048)` points (`metrics::W2_MAX_POINTS`) by the same
/// deterministic draw as [`energy_distance`]. The cost grows like `n^3` in the worst case:
/// natively 0.3 s for 1,000 noise samples against 1,000 moons points and 2.3 s for 2,048
/// (samples already near the data: 0.1 s and 0.4 s); pass fewer points for a quicker figure.
/// Errors on an empty set, an odd length or a non-finite
/// coordinate.
#[wasm_bindgen]
pub fn w2_to(a: &[f32], b: &[f32]) -> Result<f64, JsError> {
    crate::metrics::w2_capped(
        &nonempty_points_of(a, "w2_to: a")?,
        &nonempty_points_of(b, "w2_to: b")?,
    )
    .map_err(|e| JsError::new(&format!("w2_to: {e}")))
}

/// A deterministic split of `n` points into training and held-out ones, as a mask: one value
/// per point, 1 for held out, 0 for training. `round(share n)` points are held out, drawn
/// without replacement from a generator seeded with `seed` (`data::holdout_split`; `share` is
/// clamped to `[0, 1]`, NaN counts as 0). `n` may be at most the largest cloud (5,000).
#[wasm_bindgen]
pub fn holdout_split(n: usize, share: f64, seed: u32) -> Result<Vec<u32>, JsError> {
    if !limits::POINTS.contains(n as u64) && n != 0 {
        return Err(JsError::new(&format!(
            "holdout_split: n must be in 0..={} (got {n})",
            limits::POINTS.max
        )));
    }
    let (_, heldout) = data::holdout_split(n, share, u64::from(seed));
    let mut mask = vec![0u32; n];
    for i in heldout {
        mask[i] = 1;
    }
    Ok(mask)
}

/// The median over the interleaved `points` of the distance to the nearest other point (0 with
/// fewer than two points; `metrics::median_nn_spacing`, `O(n^2)`: about 0.027 for the page's
/// 1,000 moons points). Errors on an odd length or a non-finite coordinate.
#[wasm_bindgen]
pub fn median_nn_spacing(points: &[f32]) -> Result<f64, JsError> {
    Ok(crate::metrics::median_nn_spacing(&points_of(points)?))
}

/// Memorization: `[near_train_share, near_heldout_share]`, the shares of the interleaved
/// `samples` within `radius` of some point of `train` and of some point of `heldout`
/// (`metrics::memorization`; 0 for an empty set). Compare like with like: the exact flow over
/// 800 training points of the page's moons puts 100 % of its samples within 0.01 of a training
/// point and 2.5 % near the 200 held-out ones, and 26 % near 200 of the training points; a
/// network trained on the same 800 points, 1.7 % and 1.9 % (`tests/memorization.rs`). Errors
/// on an odd length or a non-finite coordinate.
#[wasm_bindgen]
pub fn memorization(
    samples: &[f32],
    train: &[f32],
    heldout: &[f32],
    radius: f64,
) -> Result<Vec<f64>, JsError> {
    let (a, b) = crate::metrics::memorization(
        &points_of(samples)?,
        &points_of(train)?,
        &points_of(heldout)?,
        radius,
    );
    Ok(vec![a, b])
}

/// Runs the benchmark figures of `bench::run_all` in this (worker) thread, timed by
/// `Date.now()`; returns the JSON lines joined by newlines. Blocks for about
/// `3 x windows x window_s` seconds plus warm-ups. Only in a build with the `bench` feature.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn bench_all(windows: usize, window_s: f64) -> String {
    let mut now = || js_sys::Date::now() / 1000.0;
    crate::bench::run_all("wasm", windows, window_s, &mut now).join("\n")
}

/// One training figure of the canonical configuration `config` (`S`, `L`, ...) with this
/// instance's kernel, timed by `Date.now()`: a JSON line. Only in a build with the `bench`
/// feature.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn bench_train(config: &str, windows: usize, window_s: f64) -> Result<String, JsError> {
    let mut now = || js_sys::Date::now() / 1000.0;
    crate::bench::train_figure("wasm", config, windows, window_s, &mut now)
        .ok_or_else(|| JsError::new(&format!("no benchmark configuration {config:?}")))
}

/// The GEMM GFLOP/s of this instance's kernel on the three products of an L step: JSON
/// lines. Only in a build with the `bench` feature.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn bench_gemm(windows: usize, window_s: f64) -> String {
    let mut now = || js_sys::Date::now() / 1000.0;
    crate::bench::gemm_figures("wasm", gemm::kernel(), windows, window_s, &mut now).join("\n")
}

/// The canonical benchmark trainer of configuration `config` (for the data-parallel
/// benchmark). Only in a build with the `bench` feature.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn bench_trainer(config: &str) -> Result<TrainerHandle, JsError> {
    crate::bench::canonical_trainer(config)
        .map(TrainerHandle::from)
        .ok_or_else(|| JsError::new(&format!("no benchmark configuration {config:?}")))
}

/// A trainer (lives in the training worker): CFM steps on the current cloud.
#[wasm_bindgen]
pub struct TrainerHandle {
    trainer: Trainer,
    /// A share's gradient copied in from JavaScript ([`TrainerHandle::add_gradient`]).
    share: Vec<f32>,
}

impl From<Trainer> for TrainerHandle {
    fn from(trainer: Trainer) -> Self {
        TrainerHandle {
            trainer,
            share: Vec::new(),
        }
    }
}

#[wasm_bindgen]
impl TrainerHandle {
    /// A fresh network and optimiser for `points` (interleaved), seeded.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        points: &[f32],
        width: usize,
        depth: usize,
        time_features: usize,
        batch: usize,
        lr: f32,
        schedule: &str,
        coupling: &str,
        seed: u32,
    ) -> Result<TrainerHandle, JsError> {
        let coupling = Coupling::parse(coupling)
            .ok_or_else(|| JsError::new(&format!("unknown coupling {coupling:?}")))?;
        let (data, config) = checked_run(
            points,
            (width, depth, time_features),
            batch,
            lr,
            schedule,
            seed,
        )?;
        Ok(Trainer::new(TrainConfig { coupling, ..config }, data).into())
    }

    /// A class-conditional network (the guidance lesson) for `points` with `labels` (one each,
    /// in `1..=4`): the labels go into a one-hot input (`data::MAX_CLASSES` of them), each
    /// dropped to the null label with probability `trainer::P_UNCOND` per sample, so the one
    /// network learns `u_t(x|y)` and `u_t(x)`. Independent coupling; otherwise as [`TrainerHandle::new`].
    #[allow(clippy::too_many_arguments)]
    pub fn labelled(
        points: &[f32],
        labels: &[u8],
        width: usize,
        depth: usize,
        time_features: usize,
        batch: usize,
        lr: f32,
        schedule: &str,
        seed: u32,
    ) -> Result<TrainerHandle, JsError> {
        let (data, config) = checked_run(
            points,
            (width, depth, time_features),
            batch,
            lr,
            schedule,
            seed,
        )?;
        let labels = labels_of(labels, data.len())?;
        Ok(Trainer::new_labelled(config.labelled(), data, labels).into())
    }

    /// Continues a labelled run on a new labelled cloud (as [`TrainerHandle::set_points`]).
    pub fn set_labelled_points(&mut self, points: &[f32], labels: &[u8]) -> Result<(), JsError> {
        let data = points_of(points)?;
        if data.is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let labels = labels_of(labels, data.len())?;
        self.trainer.set_labelled_data(data, labels);
        Ok(())
    }

    /// Reflow (Liu et al. 2023), first part: the partners `x1 = ODE_theta(x0)` of noise points
    /// `x0` (interleaved) under this network's accurate ODE solve (`straight::reflow_partners`;
    /// the page calls it on a few hundred points at a time, so its worker stays responsive).
    /// Errors when this network has not trained or sends a sample to infinity (diverged).
    pub fn reflow_partners(&self, x0: &[f32]) -> Result<Vec<f32>, JsError> {
        if self.trainer.steps_done() == 0 {
            return Err(JsError::new(
                "the network has not trained yet: train it first, then reflow",
            ));
        }
        let x1 = straight::reflow_partners(
            self.trainer.model(),
            self.trainer.config().schedule,
            &points_of(x0)?,
        )
        .ok_or_else(|| {
            JsError::new(
                "the network sends its samples to infinity (it diverged): lower the learning rate and retrain before a reflow",
            )
        })?;
        Ok(interleave(&x1))
    }

    /// Reflow, second part: a fresh network and optimiser of this trainer's configuration,
    /// trained on the straight paths between the pairs `(x0_i, x1_i)` (interleaved, as many
    /// of each; `Trainer::with_pairs`). The pairs are the coupling now: no re-pairing within
    /// batches.
    pub fn fresh_on_pairs(&self, x0: &[f32], x1: &[f32]) -> Result<TrainerHandle, JsError> {
        let (x0, x1) = (points_of(x0)?, points_of(x1)?);
        if x0.is_empty() || x0.len() != x1.len() {
            return Err(JsError::new(&format!(
                "reflow pairs: {} noise points and {} partners",
                x0.len(),
                x1.len()
            )));
        }
        let config = TrainConfig {
            coupling: Coupling::Independent,
            ..self.trainer.config()
        };
        Ok(Trainer::with_pairs(config, x0, x1).into())
    }

    /// The pairs a reflow round draws (`straight::REFLOW_PAIRS`).
    pub fn reflow_pairs() -> usize {
        straight::REFLOW_PAIRS
    }

    /// Whether this trainer learns from reflow pairs (not from the cloud).
    pub fn on_pairs(&self) -> bool {
        self.trainer.on_pairs()
    }

    /// Runs `steps` CFM steps; with `report`, the last one also measures the exact FM loss
    /// and the gradient cosine on its batch (costly: batch x data points). Returns
    /// `[steps_done, cfm_loss, fm_loss, grad_cosine, mean_cfm_loss]`: the mean is over all
    /// `steps`, the others are of the last step's batch (NaN without `report`). The FM loss
    /// and the cosine are NaN too when the run is not on independent pairs (the OT coupling,
    /// reflow pairs): its target is then the marginal field of that coupling, which has no
    /// closed form, not the drawing's exact field.
    pub fn train(&mut self, steps: u32, report: bool) -> Vec<f64> {
        let steps = steps.max(1);
        let plain = if report { steps - 1 } else { steps };
        let mut sum = 0.0;
        for _ in 0..plain {
            sum += self.trainer.step();
        }
        let independent =
            self.trainer.config().coupling == Coupling::Independent && !self.trainer.on_pairs();
        let (cfm, fm, cos) = if report && !independent {
            let cfm = self.trainer.step();
            sum += cfm;
            (cfm, f64::NAN, f64::NAN)
        } else if report {
            let r = self.trainer.step_reporting();
            sum += r.cfm_loss;
            (r.cfm_loss, r.fm_loss, r.grad_cosine)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        vec![
            self.trainer.steps_done() as f64,
            cfm,
            fm,
            cos,
            sum / f64::from(steps),
        ]
    }

    /// Continues training on a new cloud (interleaved points; must not be empty).
    pub fn set_points(&mut self, points: &[f32]) -> Result<(), JsError> {
        let data = points_of(points)?;
        if data.is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        self.trainer.set_data(data);
        Ok(())
    }

    /// Changes the learning rate without resetting the optimiser.
    pub fn set_lr(&mut self, lr: f32) {
        self.trainer.set_lr(lr);
    }

    /// All weights as one flat buffer (see `Mlp::params`), copied once, straight out of wasm
    /// memory into a new `Float32Array` (no intermediate `Vec`).
    pub fn weights(&self) -> js_sys::Float32Array {
        js_sys::Float32Array::from(self.trainer.model().params())
    }

    /// Steps done so far.
    pub fn steps_done(&self) -> f64 {
        self.trainer.steps_done() as f64
    }
}

/// Writes `values` to the start of `out` (a JavaScript array, e.g. on a SharedArrayBuffer);
/// errors when `out` is shorter.
fn write_to(out: &js_sys::Float32Array, values: &[f32]) -> Result<(), JsError> {
    if (out.length() as usize) < values.len() {
        return Err(JsError::new(&format!(
            "an array of {} floats cannot take {}",
            out.length(),
            values.len()
        )));
    }
    out.subarray(0, values.len() as u32).copy_from(values);
    Ok(())
}

/// Copies the first `len` floats of `from` into `into` (resized); errors when `from` is shorter.
fn read_from(from: &js_sys::Float32Array, len: usize, into: &mut Vec<f32>) -> Result<(), JsError> {
    if (from.length() as usize) < len {
        return Err(JsError::new(&format!(
            "expected {len} floats, got an array of {}",
            from.length()
        )));
    }
    into.resize(len, 0.0);
    from.subarray(0, len as u32).copy_to(into);
    Ok(())
}

impl TrainerHandle {
    /// Errors unless `lo..hi` is a range of samples of the drawn minibatch.
    fn check_share(&self, lo: usize, hi: usize) -> Result<(), JsError> {
        if lo > hi || hi > self.trainer.batch_size() {
            return Err(JsError::new(&format!("no share {lo}..{hi} in this batch")));
        }
        Ok(())
    }
}

/// Data-parallel steps, the leader's side (see `crate::parallel` for the protocol): the
/// training worker draws each batch, computes share 0, adds the other shares' gradients in
/// order, and takes the Adam step.
#[wasm_bindgen]
impl TrainerHandle {
    /// Part 1: draws the next minibatch; false (nothing drawn) for an empty cloud.
    pub fn begin_step(&mut self) -> bool {
        self.trainer.begin_step()
    }

    /// The minibatch size.
    pub fn batch_size(&self) -> usize {
        self.trainer.batch_size()
    }

    /// The network's shape for a `GradShard`: `[width, depth, time_features, classes]`.
    pub fn shape(&self) -> Vec<u32> {
        let c = self.trainer.model().config();
        [c.width, c.depth, c.time_features, c.classes]
            .map(|v| v as u32)
            .to_vec()
    }

    /// The number of weights (of a weight or gradient buffer).
    pub fn num_params(&self) -> usize {
        self.trainer.trained_params().len()
    }

    /// The network's input dimension: a share of `n` samples is `(input_dim + 2) n` floats
    /// (inputs, then targets).
    pub fn input_dim(&self) -> usize {
        self.trainer.model().config().input_dim()
    }

    /// The factor `2 / B` every share's gradient is scaled with.
    pub fn loss_scale(&self) -> f32 {
        self.trainer.loss_scale()
    }

    /// Whether a reporting step measures the exact FM loss (independent coupling on drawn
    /// pairs, as in `train`).
    pub fn reports_fm(&self) -> bool {
        self.trainer.config().coupling == Coupling::Independent && !self.trainer.on_pairs()
    }

    /// Writes samples `lo..hi` of the drawn minibatch to `out`: their network inputs
    /// (`input_dim x n`), then their targets (`2 x n`). Errors when `out` is too short or the
    /// range is outside the batch.
    pub fn write_share(
        &self,
        lo: usize,
        hi: usize,
        out: &js_sys::Float32Array,
    ) -> Result<(), JsError> {
        self.check_share(lo, hi)?;
        let (inputs, targets) = self.trainer.batch_share(lo, hi);
        write_to(out, inputs)?;
        write_to(&out.subarray(inputs.len() as u32, out.length()), targets)
    }

    /// Part 2: the gradient of samples `lo..hi` into the step's gradient (overwritten);
    /// returns their sum of squared residuals.
    pub fn share_gradient(&mut self, lo: usize, hi: usize) -> Result<f64, JsError> {
        self.check_share(lo, hi)?;
        Ok(self.trainer.share_gradient(lo, hi))
    }

    /// Part 3: adds a share's gradient (the first `num_params` floats of `share`).
    pub fn add_gradient(&mut self, share: &js_sys::Float32Array) -> Result<(), JsError> {
        read_from(share, self.num_params(), &mut self.share)?;
        self.trainer.add_gradient(&self.share);
        Ok(())
    }

    /// Optional, before part 4: `[L_FM, cosine(CFM gradient, FM gradient)]` of the drawn
    /// minibatch (a full-batch forward and backward).
    pub fn report_fm(&mut self) -> Vec<f64> {
        let (fm, cos) = self.trainer.report_fm();
        vec![fm, cos]
    }

    /// Part 4: the Adam step with the summed gradient.
    pub fn finish_step(&mut self) {
        self.trainer.finish_step();
    }

    /// Writes the trained weights (what the shards compute with) to `out`.
    pub fn write_trained(&self, out: &js_sys::Float32Array) -> Result<(), JsError> {
        write_to(out, self.trainer.trained_params())
    }
}

/// A helper training worker's network copy (see `crate::parallel`): the CFM gradient of its
/// share of every batch, with the weights the leader broadcast.
#[wasm_bindgen]
pub struct GradShard {
    shard: Shard,
    /// Scratch: weights and a share copied in from JavaScript.
    params: Vec<f32>,
    input: Vec<f32>,
}

#[wasm_bindgen]
impl GradShard {
    /// A shard for networks of the shape `TrainerHandle::shape` gives.
    #[wasm_bindgen(constructor)]
    pub fn new(shape: &[u32]) -> Result<GradShard, JsError> {
        let [width, depth, time_features, classes] = <[u32; 4]>::try_from(shape)
            .map_err(|_| JsError::new("a shape is [width, depth, time features, classes]"))?
            .map(|v| v as usize);
        check_shape(width, depth, time_features)?;
        let config = MlpConfig {
            width,
            depth,
            time_features,
            classes,
        };
        Ok(GradShard {
            shard: Shard::new(config).map_err(|e| JsError::new(&e))?,
            params: Vec::new(),
            input: Vec::new(),
        })
    }

    /// The number of weights.
    pub fn num_params(&self) -> usize {
        self.shard.num_params()
    }

    /// Loads the leader's trained weights (the first `num_params` floats of `params`).
    pub fn set_params(&mut self, params: &js_sys::Float32Array) -> Result<(), JsError> {
        read_from(params, self.shard.num_params(), &mut self.params)?;
        self.shard
            .set_params(&self.params)
            .map_err(|e| JsError::new(&e))
    }

    /// The CFM gradient of a share of `n` samples, `share` holding their inputs then their
    /// targets (as `TrainerHandle::write_share` wrote them), scaled by the batch's `scale`;
    /// returns the share's sum of squared residuals (the gradient stays in the shard).
    pub fn gradient(
        &mut self,
        share: &js_sys::Float32Array,
        n: usize,
        scale: f32,
    ) -> Result<f64, JsError> {
        let dim = self.shard.input_dim();
        let len = dim
            .checked_add(2)
            .and_then(|d| d.checked_mul(n))
            .ok_or_else(|| JsError::new("a share of that size does not fit in memory"))?;
        read_from(share, len, &mut self.input)?;
        let (inputs, targets) = self.input.split_at(dim * n);
        self.shard
            .gradient(inputs, targets, scale)
            .map_err(|e| JsError::new(&e))
    }

    /// Writes the last share's gradient to `out`.
    pub fn write_grads(&self, out: &js_sys::Float32Array) -> Result<(), JsError> {
        write_to(out, self.shard.grads())
    }
}

/// Selects the matrix kernel of this wasm instance: `"matrixmultiply"` or `"packed"` (the
/// default: the SIMD kernel of `crate::gemm`). Returns the kernel's name (`matrixmultiply`,
/// `simd128` or `relaxed-simd`).
#[wasm_bindgen]
pub fn set_kernel(name: &str) -> Result<String, JsError> {
    let kernel = match name {
        "matrixmultiply" => gemm::Kernel::Matrixmultiply,
        "packed" => gemm::Kernel::Packed,
        other => return Err(JsError::new(&format!("unknown kernel {other:?}"))),
    };
    gemm::set_kernel(kernel);
    Ok(kernel.name().into())
}

/// The name of the matrix kernel this instance uses now.
#[wasm_bindgen]
pub fn kernel_name() -> String {
    gemm::kernel().name().into()
}

/// Field evaluation for the page and the flow worker: the exact marginal of the cloud, the
/// conditional field of a given `z` ([`Fields::conditional_velocity`]), the uniform-weight field,
/// and the learned network from weight snapshots.
#[wasm_bindgen]
pub struct Fields {
    marginal: EmpiricalMarginal,
    mlp: Option<Mlp>,
    cache: ForwardCache,
    xs: Vec<Point>,
    out: Vec<Point>,
    aux: Vec<Point>,
    weights: Vec<f64>,
    residuals: Residuals,
    flows: [Option<Flow>; FLOW_SLOTS],
    integrator: Integrator,
    /// The noise of the "sde_drift" arrows and the "fokker_planck" grid.
    diffusion: Diffusion,
    /// The guidance lesson: the cloud's labels (empty: unlabelled), its exact class fields
    /// (rebuilt when the cloud, the schedule or the labels change), and the class and scale of
    /// the guided arrows ([`Fields::set_guidance`]).
    labels: Vec<u8>,
    classes: Option<ClassMarginals>,
    guide: (u8, f64),
}

/// How many trajectory computations a [`Fields`] can hold at once (the page's flow worker:
/// learned, exact and uniform ODE flows, learned and exact SDE flows, Langevin, one for
/// measurements, and the learned and exact guided flows).
const FLOW_SLOTS: usize = 9;

/// Langevin steps per frame of [`Fields::flow_advance`] (each of `ds = LANGEVIN_DS`).
const LANGEVIN_SUBSTEPS: usize = 4;
/// The Langevin step `ds` (see `sde::langevin`: the bias is of order `ds sigma^2`).
const LANGEVIN_DS: f64 = 0.01;

/// How a flow moves its particles.
enum Motion {
    /// An ODE solver on the time grid.
    Ode(Solver),
    /// Euler-Maruyama on the time grid, with its own seeded noise.
    Sde(Diffusion, rng::SeededRng),
    /// Langevin dynamics at a frozen time (no end: every advance is a frame).
    Langevin {
        t: f64,
        sigma: f64,
        rng: rng::SeededRng,
    },
}

/// A trajectory computation in progress.
struct Flow {
    kind: Kind,
    motion: Motion,
    xs: Vec<Point>,
    step: usize,
    /// `ode::time_grid` of the schedule at `flow_begin`: `steps + 1` times from 0 to `t_max`.
    times: Vec<f64>,
    /// A guided flow ([`Fields::flow_begin_guided`]): each particle's label, and the scale.
    guide: Option<(Vec<u8>, f64)>,
}

/// Which vector field (the conditional one needs its `z`: [`Fields::conditional_velocity`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Learned,
    Marginal,
    Uniform,
}

impl Kind {
    fn parse(name: &str) -> Result<Kind, JsError> {
        Ok(match name {
            "learned" => Kind::Learned,
            "marginal" => Kind::Marginal,
            "uniform" => Kind::Uniform,
            "conditional" => {
                return Err(JsError::new(
                    "the conditional field needs its z: use conditional_velocity(xs, t, zx, zy)",
                ))
            }
            "score" | "score_learned" | "denoiser" => {
                return Err(JsError::new(&format!(
                    "{name} is not a flow field (learned, marginal or uniform)"
                )))
            }
            _ => {
                return Err(JsError::new(&format!(
                    "unknown field {name} (learned, marginal, uniform, score, score_learned or \
                     denoiser)"
                )))
            }
        })
    }
}

impl Default for Fields {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Fields {
    /// An empty cloud, linear schedule, no network yet.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Fields {
        Fields {
            marginal: EmpiricalMarginal::new(Vec::new(), GaussianPath::default()),
            mlp: None,
            cache: ForwardCache::new(),
            xs: Vec::new(),
            out: Vec::new(),
            aux: Vec::new(),
            weights: Vec::new(),
            residuals: Residuals::new(),
            flows: Default::default(),
            integrator: Integrator::new(),
            diffusion: Diffusion::default(),
            labels: Vec::new(),
            classes: None,
            guide: (1, 1.0),
        }
    }

    /// Sets the noise of the "sde_drift" arrows ([`Fields::velocity`]) and the
    /// "fokker_planck" grid: `sigma_t = sigma beta_t`, `sigma` in `0..=3`, with or without the
    /// score correction in the drift (see `sde`). Errors on a `sigma` out of range.
    pub fn set_diffusion(&mut self, sigma: f64, score_correction: bool) -> Result<(), JsError> {
        self.diffusion = diffusion_of(sigma, score_correction)?;
        Ok(())
    }

    /// How well the interleaved `particles` match the exact `p_t` (`t` past the clamp is taken
    /// at it): `[energy distance to as many fresh seeded samples of p_t, the floor: the mean
    /// energy distance between two fresh samples of that size over four pairs]` (`sde::marginal_match`, as `fmp flow
    /// --at-times`; sets over 1,000 points are subsampled). Errors: an empty cloud or set, bad
    /// points.
    pub fn marginal_match(
        &self,
        particles: &[f32],
        t: f64,
        seed: u32,
    ) -> Result<Vec<f64>, JsError> {
        if self.marginal.points().is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let ps = nonempty_points_of(particles, "the particles")?;
        let (ed, floor) = sde::marginal_match(&self.marginal, &ps, t, u64::from(seed));
        Ok(vec![ed, floor])
    }

    /// The exact density of the first coordinate under `p_t`, averaged over each of `bins`
    /// equal bins on `[lo, hi]` (the bin's probability over its width,
    /// `EmpiricalMarginal::mass_first_coordinate`): what the Langevin histogram's bars estimate,
    /// at any `t` (its reference line). Zeros for an empty cloud.
    pub fn density_first_coordinate(&self, lo: f64, hi: f64, bins: usize, t: f64) -> Vec<f32> {
        let w = (hi - lo) / bins.max(1) as f64;
        (0..bins.min(10_000))
            .map(|i| {
                let a = lo + i as f64 * w;
                (self.marginal.mass_first_coordinate(a, a + w, t) / w) as f32
            })
            .collect()
    }

    /// `n` seeded samples of the exact `p_t` (`x = alpha_t z + beta_t eps`, `z` uniform over the
    /// cloud; `t` past the clamp is taken at it), interleaved: the reference that the page
    /// compares particles with. Errors: an empty cloud, `n` outside `1..=100000`.
    pub fn sample_marginal(&self, t: f64, n: usize, seed: u32) -> Result<Vec<f32>, JsError> {
        Ok(interleave(&self.samples_of_p_t(t, n, seed)?))
    }

    /// Sets the data cloud (interleaved points).
    pub fn set_points(&mut self, points: &[f32]) -> Result<(), JsError> {
        self.marginal.set_points(points_of(points)?);
        // Labels belong to the old points until set again.
        self.labels.clear();
        self.classes = None;
        Ok(())
    }

    /// The labels of the cloud's points (one each, `1..=4`; empty: unlabelled), for the
    /// guidance lesson's exact class fields. Set after [`Fields::set_points`].
    pub fn set_labels(&mut self, labels: &[u8]) -> Result<(), JsError> {
        self.labels = if labels.is_empty() {
            Vec::new()
        } else {
            labels_of(labels, self.marginal.points().len())?
        };
        self.classes = None;
        Ok(())
    }

    /// The class and scale of the guided arrows ("class", "guided", "learned_class",
    /// "learned_guided" in [`Fields::velocity`]).
    pub fn set_guidance(&mut self, class: u8, w: f64) -> Result<(), JsError> {
        if !limits::CLASS.contains(u64::from(class)) || !limits::GUIDANCE.contains(w) {
            return Err(JsError::new(&format!(
                "guidance: class must be in {} and w in {} (got {class}, {w})",
                limits::CLASS,
                limits::GUIDANCE
            )));
        }
        self.guide = (class, w);
        Ok(())
    }

    /// Builds the exact class fields of the labelled cloud (on first use). A cloud whose labels
    /// are not set (yet: they follow the points) is all class 1, as an unlabelled drawing is.
    fn class_marginals(&mut self) -> Result<&ClassMarginals, JsError> {
        if self.classes.is_none() {
            let ones = vec![1; self.marginal.points().len()];
            let labels = if self.labels.len() == ones.len() {
                &self.labels
            } else {
                &ones
            };
            self.classes = Some(ClassMarginals::new(
                self.marginal.points(),
                labels,
                data::MAX_CLASSES,
                self.marginal.path(),
            ));
        }
        Ok(self.classes.as_ref().expect("built above"))
    }

    /// The guided samples of `labels` (one per `noise` point) at scale `w`: `noise`
    /// (interleaved) carried to the clamp by `steps` steps of `solver` along the exact guided
    /// field (or the network's, `learned`), then their fidelity (the share whose nearest data
    /// point has the particle's label) and spread (RMS distance to their centroid; per class,
    /// averaged over the classes weighted by their particles). Returns `[fidelity, spread]`.
    #[allow(clippy::too_many_arguments)]
    pub fn guided_figures(
        &mut self,
        learned: bool,
        noise: &[f32],
        labels: &[u8],
        w: f64,
        solver: &str,
        steps: usize,
    ) -> Result<Vec<f64>, JsError> {
        let mut xs = points_of(noise)?;
        if labels.len() != xs.len() {
            return Err(JsError::new("guided_figures: one label per noise point"));
        }
        let solver = solver_of(solver)?;
        let times = ode::time_grid(self.marginal.path().schedule, steps.max(1));
        let path = self.marginal.path();
        let mut integrator = Integrator::new();
        if learned {
            let mlp = self
                .mlp
                .as_ref()
                .ok_or_else(|| JsError::new("no network yet"))?;
            let mut field = LearnedGuided::new(mlp, path, labels, w);
            integrator.integrate_on(&mut field, solver, &mut xs, &times);
        } else {
            self.class_marginals()?;
            let m = self.classes.as_ref().expect("built by class_marginals");
            let mut field = ExactGuided::new(m, labels, w);
            integrator.integrate_on(&mut field, solver, &mut xs, &times);
        }
        if xs.iter().flatten().any(|v| !v.is_finite()) {
            return Ok(vec![f64::NAN, f64::NAN]);
        }
        let (fid, spr) = guidance::measure(&xs, labels, self.marginal.points(), &self.labels);
        Ok(vec![fid, spr])
    }

    /// Sets the schedule by name.
    pub fn set_schedule(&mut self, name: &str) -> Result<(), JsError> {
        self.marginal
            .set_path(GaussianPath::new(schedule_of(name)?));
        self.classes = None;
        Ok(())
    }

    /// Sets the learned network from a weight snapshot (`TrainerHandle::weights` of a network
    /// of this shape); a wrong length is an error and keeps the previous network.
    pub fn set_model(
        &mut self,
        width: usize,
        depth: usize,
        time_features: usize,
        weights: Vec<f32>,
    ) -> Result<(), JsError> {
        self.mlp = Some(mlp_of(width, depth, time_features, weights)?);
        Ok(())
    }

    /// Whether a network has been set.
    pub fn has_model(&self) -> bool {
        self.mlp.is_some()
    }

    /// The network's few-step quality: the W2 to `reference` (interleaved) of the samples
    /// that `steps` Euler steps carry `noise` (interleaved) to, on the current schedule's grid
    /// (`straight::w2_after_euler`; NaN for a sample that is not finite). Errors without a
    /// network.
    pub fn w2_after_euler(
        &self,
        noise: &[f32],
        steps: usize,
        reference: &[f32],
    ) -> Result<f64, JsError> {
        let mlp = self
            .mlp
            .as_ref()
            .ok_or_else(|| JsError::new("no network yet"))?;
        Ok(straight::w2_after_euler(
            mlp,
            self.marginal.path().schedule,
            &points_of(noise)?,
            steps.max(1),
            &nonempty_points_of(reference, "w2_after_euler: reference")?,
        ))
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

    /// Loads interleaved query points into the scratch buffer.
    fn load(&mut self, xs: &[f32]) -> Result<(), JsError> {
        self.xs = points_of(xs)?;
        self.out.resize(self.xs.len(), [0.0; 2]);
        Ok(())
    }

    /// Evaluates field `kind` at `self.xs`, time `t`, into `self.out`.
    fn eval_into_out(&mut self, kind: Kind, t: f64) -> Result<(), JsError> {
        let (xs, out) = (&self.xs, &mut self.out);
        match kind {
            Kind::Marginal => self.marginal.u_marg_batch(xs, t, out),
            Kind::Uniform => UniformField(&self.marginal).velocity(t, xs, out),
            Kind::Learned => {
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                mlp.predict(xs, t, out, &mut self.cache);
            }
        }
        Ok(())
    }

    /// The field `kind` at interleaved points `xs` and time `t`, interleaved (`t` past the clamp
    /// `t_max` is evaluated at it). `kind`:
    /// - "learned", "marginal", "uniform": vector fields (the network, the exact marginal field,
    ///   the uniform-weight field);
    /// - "score": the exact marginal score `grad log p_t(x) = (alpha_t zbar(x) - x) / beta_t^2`
    ///   (up to `1 / BETA_MIN^2 = 1e6` times a distance at the clamp);
    /// - "score_learned": the network's score, from its field by
    ///   `s = (alpha_t u - alpha_dot_t x) / (beta_t^2 alpha_dot_t - beta_dot_t beta_t alpha_t)`
    ///   (`path::GaussianPath::score_from_velocity`; the same conversion turns the exact field
    ///   into "score"); finite from `t = 0` (where it is `-x`) to the clamp;
    /// - "denoiser": the posterior mean `zbar(x) = E[z | x_t = x]`, returned as positions (the
    ///   point each `x` is heading for; the cloud's mean at `t = 0`);
    /// - "sde_drift": the drift of the exact SDE at the noise of [`Fields::set_diffusion`],
    ///   `u_t + (sigma_t^2 / 2) grad log p_t` (with the correction; `u_t` without).
    ///
    /// "conditional" is an error: see [`Fields::conditional_velocity`]. Errors: an unknown
    /// kind, "learned" or "score_learned" without a network, bad points.
    pub fn velocity(&mut self, kind: &str, xs: &[f32], t: f64) -> Result<Vec<f32>, JsError> {
        match kind {
            "score" => {
                self.load(xs)?;
                for (o, x) in self.out.iter_mut().zip(&self.xs) {
                    *o = self.marginal.eval(*x, t).score;
                }
            }
            "denoiser" => {
                self.load(xs)?;
                self.marginal
                    .posterior_mean_batch(&self.xs, t, &mut self.out);
            }
            "sde_drift" => {
                self.load(xs)?;
                let mut field = MarginalField {
                    marginal: &self.marginal,
                };
                SdeDrift {
                    field: &mut field,
                    path: self.marginal.path(),
                    diffusion: self.diffusion,
                }
                .velocity(t, &self.xs, &mut self.out);
            }
            "class" | "guided" => {
                self.load(xs)?;
                let (y, w) = self.guide;
                let w = if kind == "class" { 1.0 } else { w };
                self.class_marginals()?;
                let m = self.classes.as_ref().expect("built by class_marginals");
                let labels = vec![y; self.xs.len()];
                ExactGuided::new(m, &labels, w).velocity(t, &self.xs, &mut self.out);
            }
            "learned_class" | "learned_guided" => {
                self.load(xs)?;
                let (y, w) = self.guide;
                let w = if kind == "learned_class" { 1.0 } else { w };
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                let labels = vec![y; self.xs.len()];
                LearnedGuided::new(mlp, self.marginal.path(), &labels, w).velocity(
                    t,
                    &self.xs,
                    &mut self.out,
                );
            }
            "score_learned" => {
                self.load(xs)?;
                self.eval_into_out(Kind::Learned, t)?;
                let path = self.marginal.path();
                for (o, x) in self.out.iter_mut().zip(&self.xs) {
                    *o = path.score_from_velocity(*o, *x, t);
                }
            }
            _ => {
                let kind = Kind::parse(kind)?;
                self.load(xs)?;
                self.eval_into_out(kind, t)?;
            }
        }
        Ok(interleave(&self.out))
    }

    /// The conditional field `u_t(x|z)` of the data point `z = (zx, zy)` (any point; the
    /// current schedule) at interleaved points `xs` and time `t`, interleaved.
    pub fn conditional_velocity(
        &mut self,
        xs: &[f32],
        t: f64,
        zx: f64,
        zy: f64,
    ) -> Result<Vec<f32>, JsError> {
        if !(zx.is_finite() && zy.is_finite()) {
            return Err(JsError::new(
                "conditional_velocity: z is not a finite point",
            ));
        }
        self.load(xs)?;
        let mut field = ConditionalField {
            path: self.marginal.path(),
            z: [zx, zy],
        };
        field.velocity(t, &self.xs, &mut self.out);
        Ok(interleave(&self.out))
    }

    /// An `n x n` grid of a scalar over `[-half, half]^2` at time `t` (layout in the module
    /// docs). `what`: "logp" (log p_t), "divergence" (closed-form divergence of the exact field,
    /// `div u_t = 2 B_t + A_t (alpha_t / beta_t^2) (sum_i w_i |z_i|^2 - |zbar|^2)`: `2 B_t < 0`
    /// where the posterior is one-hot, larger where data points compete), "error"
    /// (|u_theta - u_t|), "residual" (continuity residual of the exact pair),
    /// "residual_uniform" (of the uniform-weight field), "residual_learned" (of the learned
    /// field, divergence by central differences; see `continuity::Residuals`), "fokker_planck"
    /// (the Fokker-Planck residual of the exact `p_t` under the SDE of [`Fields::set_diffusion`]:
    /// about 0 with the score correction, `-(sigma_t^2 / 2) Lap p / p` without;
    /// `EmpiricalMarginal::fokker_planck_residual`).
    pub fn grid(&mut self, what: &str, t: f64, n: usize, half: f64) -> Result<Vec<f32>, JsError> {
        self.grid_cells(what, t, n, half, 0, n * n)
    }

    /// The cells `start .. start + count` (row-major, clipped to the grid) of the grid that
    /// [`Fields::grid`] computes, so that the page can spread a costly grid over frames.
    pub fn grid_cells(
        &mut self,
        what: &str,
        t: f64,
        n: usize,
        half: f64,
        start: usize,
        count: usize,
    ) -> Result<Vec<f32>, JsError> {
        let cell = 2.0 * half / n as f64;
        let end = start.saturating_add(count).min(n * n);
        let points: Vec<Point> = (start.min(end)..end)
            .map(|k| {
                let (row, col) = (k / n, k % n);
                [
                    -half + (col as f64 + 0.5) * cell,
                    half - (row as f64 + 0.5) * cell,
                ]
            })
            .collect();
        let values: Vec<f64> = match what {
            "logp" => points
                .iter()
                .map(|x| self.marginal.eval(*x, t).log_density)
                .collect(),
            "divergence" => points
                .iter()
                .map(|x| self.marginal.eval(*x, t).divergence)
                .collect(),
            "residual" => points
                .iter()
                .map(|x| self.marginal.continuity_residual(*x, t))
                .collect(),
            "residual_uniform" => points
                .iter()
                .map(|x| self.marginal.uniform_continuity_residual(*x, t))
                .collect(),
            "fokker_planck" => points
                .iter()
                .map(|x| self.marginal.fokker_planck_residual(*x, t, self.diffusion))
                .collect(),
            "error" => {
                self.xs = points.clone();
                self.out.resize(points.len(), [0.0; 2]);
                self.eval_into_out(Kind::Learned, t)?;
                self.aux.resize(points.len(), [0.0; 2]);
                self.marginal.u_marg_batch(&self.xs, t, &mut self.aux);
                self.out
                    .iter()
                    .zip(&self.aux)
                    .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
                    .collect()
            }
            "residual_learned" => {
                let mlp = self
                    .mlp
                    .as_ref()
                    .ok_or_else(|| JsError::new("no network yet"))?;
                // The network is f32: a step of 1e-3 keeps rounding below 1e-4 of |div|.
                self.residuals
                    .of_field(&self.marginal, &mut MlpField::new(mlp), &points, t, 1e-3)
            }
            _ => return Err(JsError::new(&format!("unknown grid {what}"))),
        };
        Ok(values.iter().map(|v| *v as f32).collect())
    }

    /// The gap `C = L_CFM - L_FM` of the current cloud and schedule, `[C, stderr]`: Monte Carlo
    /// over `samples` draws (`1..=1_000_000`) of the training distribution (`t ~ U[0, 0.999)`,
    /// `z` uniform over the cloud, `x ~ p_t(.|z)`), seeded with `seed`, each contributing
    /// `|u_t(x|z) - u_t(x)|^2` (`trainer::cfm_fm_gap`). The CFM loss of any network approaches
    /// `L_FM + C`, so `C` is the floor of the CFM loss curve. About 2.72 for the page's moons
    /// with the linear schedule, 4.27 cosine, 4.4 square-root (20,000 draws: stderr about 0.02,
    /// 0.03 and 0.14). Costs `samples x` points kernel evaluations (20,000 draws over 1,000
    /// points: 0.5 to 0.8 s natively on a busy 2-core machine; run it in a worker). `[0, 0]` for
    /// an empty cloud.
    pub fn cfm_fm_gap(&self, samples: usize, seed: u32) -> Result<Vec<f64>, JsError> {
        if !(1..=1_000_000).contains(&samples) {
            return Err(JsError::new(&format!(
                "cfm_fm_gap: samples must be in 1..=1000000 (got {samples})"
            )));
        }
        let (c, err) = crate::trainer::cfm_fm_gap(&self.marginal, samples, u64::from(seed));
        Ok(vec![c, err])
    }

    /// `samples` seeded draws of `p_t` (`EmpiricalMarginal::sample`), checked: `samples` in
    /// `1..=100000` (the query-point limit), a non-empty cloud.
    fn samples_of_p_t(&self, t: f64, samples: usize, seed: u32) -> Result<Vec<Point>, JsError> {
        if !limits::QUERY_POINTS.contains(samples as u64) {
            return Err(JsError::new(&format!(
                "samples must be in {} (got {samples})",
                limits::QUERY_POINTS
            )));
        }
        if self.marginal.points().is_empty() {
            return Err(JsError::new("the cloud is empty"));
        }
        let mut rng = rng::seeded(u64::from(seed));
        Ok(self.marginal.sample(t, samples, &mut rng))
    }

    /// The mean absolute continuity residual `|d/dt log p_t + u . grad log p_t + div u|` of the
    /// field `what` against the exact `p_t`, averaged over `samples` (`1..=100000`) seeded draws
    /// `x ~ p_t` (where the mass is, unlike the stage grid, which is mostly empty space; `t`
    /// past the clamp is evaluated at it). `what`: "exact" (closed form, about 0 up to
    /// rounding), "uniform" (the uniform-weight field, closed form) or "learned" (the network,
    /// divergence by central differences of step 1e-3, as the "residual_learned" grid). Errors:
    /// an unknown `what`, an empty cloud, "learned" without a network, `samples` out of range.
    /// Costs `samples x` points kernel evaluations (twice that for "learned").
    pub fn residual_on_samples(
        &mut self,
        what: &str,
        t: f64,
        samples: usize,
        seed: u32,
    ) -> Result<f64, JsError> {
        if !matches!(what, "exact" | "uniform" | "learned") {
            return Err(JsError::new(&format!(
                "unknown field {what} (exact, uniform or learned)"
            )));
        }
        if what == "learned" && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        let xs = self.samples_of_p_t(t, samples, seed)?;
        let t = self.marginal.path().schedule.clamp_t(t);
        let values: Vec<f64> = match (what, self.mlp.as_ref()) {
            ("exact", _) => xs
                .iter()
                .map(|x| self.marginal.continuity_residual(*x, t))
                .collect(),
            ("uniform", _) => xs
                .iter()
                .map(|x| self.marginal.uniform_continuity_residual(*x, t))
                .collect(),
            (_, Some(mlp)) => {
                self.residuals
                    .of_field(&self.marginal, &mut MlpField::new(mlp), &xs, t, 1e-3)
            }
            (_, None) => return Err(JsError::new("no network yet")),
        };
        Ok(values.iter().map(|v| v.abs()).sum::<f64>() / values.len() as f64)
    }

    /// The median of `|u_theta(x, t) - u_t(x)|` (the network against the exact field) over
    /// `samples` (`1..=100000`) seeded draws `x ~ p_t` (`t` past the clamp is evaluated at it).
    /// Errors: no network, an empty cloud, `samples` out of range.
    pub fn error_on_samples(&mut self, t: f64, samples: usize, seed: u32) -> Result<f64, JsError> {
        if self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        self.xs = self.samples_of_p_t(t, samples, seed)?;
        let t = self.marginal.path().schedule.clamp_t(t);
        self.out.resize(self.xs.len(), [0.0; 2]);
        self.eval_into_out(Kind::Learned, t)?;
        self.aux.resize(self.xs.len(), [0.0; 2]);
        self.marginal.u_marg_batch(&self.xs, t, &mut self.aux);
        let mut errors: Vec<f64> = self
            .out
            .iter()
            .zip(&self.aux)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .collect();
        errors.sort_by(f64::total_cmp);
        let n = errors.len();
        Ok(if n % 2 == 1 {
            errors[n / 2]
        } else {
            0.5 * (errors[n / 2 - 1] + errors[n / 2])
        })
    }

    /// The posterior weights `w_i(x, t)` of every data point at `(x, y)`.
    pub fn posterior(&mut self, x: f64, y: f64, t: f64) -> Vec<f32> {
        self.weights.resize(self.marginal.points().len(), 0.0);
        self.marginal.weights([x, y], t, &mut self.weights);
        self.weights.iter().map(|w| *w as f32).collect()
    }

    /// Starts integrating field `kind` ("learned", "marginal" or "uniform") from interleaved
    /// `xs` from `t = 0` to the clamp `t_max` (shown as `t = 1`) in `steps` steps (at least 1)
    /// of `solver` ("euler", "midpoint", "rk4" or "exact-step", the closed-form step: the one
    /// for the exact field), in `slot` (`0..3`; each slot holds one computation, so several
    /// can interleave). The steps follow `ode::time_grid` of the current schedule (finer near
    /// the data; the times: [`Fields::flow_times`]), the same grid as the command line's.
    pub fn flow_begin(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        solver: &str,
        steps: usize,
    ) -> Result<(), JsError> {
        let kind = Kind::parse(kind)?;
        if kind == Kind::Learned && self.mlp.is_none() {
            return Err(JsError::new("no network yet"));
        }
        let slot = self
            .flows
            .get_mut(slot)
            .ok_or_else(|| JsError::new("flow slot out of range"))?;
        *slot = Some(Flow {
            kind,
            motion: Motion::Ode(solver_of(solver)?),
            xs: points_of(xs)?,
            step: 0,
            times: ode::time_grid(self.marginal.path().schedule, steps.max(1)),
            guide: None,
        });
        Ok(())
    }

    /// Like [`Fields::flow_begin`] for the guided field of scale `w` (guidance lesson): kind
    /// "marginal" follows the exact guided field, "learned" the network's; particle `i` has
    /// class `labels[i]` (one per particle; the cloud must be labelled for "marginal").
    #[allow(clippy::too_many_arguments)]
    pub fn flow_begin_guided(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        labels: &[u8],
        w: f64,
        solver: &str,
        steps: usize,
    ) -> Result<(), JsError> {
        if !limits::GUIDANCE.contains(w) {
            return Err(JsError::new(&format!("w must be in {}", limits::GUIDANCE)));
        }
        if labels.len() * 2 != xs.len() {
            return Err(JsError::new("flow_begin_guided: one label per particle"));
        }
        if kind == "marginal" {
            self.class_marginals()?;
        }
        self.flow_begin(slot, kind, xs, solver, steps)?;
        if let Some(Some(flow)) = self.flows.get_mut(slot) {
            flow.guide = Some((labels.to_vec(), w));
        }
        Ok(())
    }

    /// Like [`Fields::flow_begin`], but the particles follow the SDE of `sde` by Euler-Maruyama
    /// on the same time grid: `x' = x + h (u + (sigma_t^2 / 2) s) + sigma_t sqrt(h) xi`,
    /// `sigma_t = sigma beta_t` (`sigma` in `0..=3`), the score `s` converted from the field
    /// (exact for "marginal", the network's own for "learned"); without `score_correction` the
    /// drift is `u` alone. The noise is seeded with `seed`: the same call gives the same paths.
    #[allow(clippy::too_many_arguments)]
    pub fn flow_begin_sde(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        steps: usize,
        sigma: f64,
        score_correction: bool,
        seed: u32,
    ) -> Result<(), JsError> {
        let diffusion = diffusion_of(sigma, score_correction)?;
        self.flow_begin(slot, kind, xs, "euler", steps)?;
        if let Some(Some(flow)) = self.flows.get_mut(slot) {
            flow.motion = Motion::Sde(diffusion, rng::seeded(u64::from(seed)));
        }
        Ok(())
    }

    /// Starts Langevin dynamics at the frozen time `t` for field `kind` ("marginal": the exact
    /// score; "learned": the network's) from interleaved `xs`, with `sigma_t = sigma beta_t`
    /// (`sigma` in `0..=3`), seeded: every [`Fields::flow_advance`] step is one frame of
    /// `LANGEVIN_SUBSTEPS = 4` steps of `ds = 0.01` (`sde::langevin`), without end.
    pub fn langevin_begin(
        &mut self,
        slot: usize,
        kind: &str,
        xs: &[f32],
        t: f64,
        sigma: f64,
        seed: u32,
    ) -> Result<(), JsError> {
        diffusion_of(sigma, true)?;
        if !limits::TIME.contains(t) {
            return Err(JsError::new(&format!("t must be in {}", limits::TIME)));
        }
        self.flow_begin(slot, kind, xs, "euler", 1)?;
        if let Some(Some(flow)) = self.flows.get_mut(slot) {
            flow.motion = Motion::Langevin {
                t,
                sigma,
                rng: rng::seeded(u64::from(seed)),
            };
        }
        Ok(())
    }

    /// The times of the flow grid of `steps` steps (at least 1) for the current schedule:
    /// `steps + 1` increasing times from 0 to `t_max` (`ode::time_grid`); frame `k` of
    /// [`Fields::flow_advance`] is at time `k + 1` of this list.
    pub fn flow_times(&self, steps: usize) -> Vec<f64> {
        ode::time_grid(self.marginal.path().schedule, steps.max(1))
    }

    /// Advances the flow in `slot` by up to `max_steps` steps; returns the positions after
    /// each step, concatenated (empty when that flow is done or was never begun).
    pub fn flow_advance(&mut self, slot: usize, max_steps: usize) -> Vec<f32> {
        let Some(Some(flow)) = self.flows.get_mut(slot) else {
            return Vec::new();
        };
        let mut frames = Vec::new();
        let mlp = self.mlp.as_ref();
        let path = self.marginal.path();
        for _ in 0..max_steps {
            let endless = matches!(flow.motion, Motion::Langevin { .. });
            if !endless && flow.step + 1 >= flow.times.len() {
                break;
            }
            let times = &flow.times[flow.step.min(flow.times.len() - 1)..];
            let times = &times[..times.len().min(2)];
            let xs = &mut flow.xs;
            let mut marginal = MarginalField {
                marginal: &self.marginal,
            };
            let mut uniform = UniformField(&self.marginal);
            let mut learned = mlp.map(|mlp| MlpField::with_path(mlp, path));
            let guide = flow.guide.as_ref();
            let mut exact_guided = guide
                .zip(self.classes.as_ref())
                .map(|((labels, w), m)| ExactGuided::new(m, labels, *w));
            let mut learned_guided = guide
                .zip(mlp)
                .map(|((labels, w), mlp)| LearnedGuided::new(mlp, path, labels, *w));
            let field: &mut dyn VectorField = match (flow.kind, guide.is_some()) {
                (Kind::Marginal, false) => &mut marginal,
                (Kind::Uniform, _) => &mut uniform,
                (Kind::Learned, false) => match learned.as_mut() {
                    Some(f) => f,
                    None => break,
                },
                (Kind::Marginal, true) => match exact_guided.as_mut() {
                    Some(f) => f,
                    None => break,
                },
                (Kind::Learned, true) => match learned_guided.as_mut() {
                    Some(f) => f,
                    None => break,
                },
            };
            match &mut flow.motion {
                Motion::Ode(solver) => self.integrator.integrate_on(field, *solver, xs, times),
                Motion::Sde(diffusion, rng) => {
                    sde::euler_maruyama(field, path, *diffusion, xs, times, rng, &mut self.aux)
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
                    &mut self.aux,
                ),
            }
            flow.step += 1;
            frames.extend(interleave(xs));
        }
        frames
    }
}
