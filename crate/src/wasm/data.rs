//! Data in and out: the catalog, seeds, presets, noise, CSV, fitting into the stage, the
//! schedules' numbers, the held-out split and the model export.

use super::convert::{interleave, js_error, mlp_of, points_of, schedule_of};
use crate::data::{self, Preset};
use crate::limits;
use crate::{rng, Point};
use wasm_bindgen::prelude::*;

/// What the core offers, as JSON: the presets, schedules, solvers and couplings
/// (`[{"id","label"},..]`), the field kinds, flow kinds and grids of [`super::Fields`], the default
/// training settings and the limits of every setting (`crate::catalog::catalog_json` documents
/// each key; the ids are the names every other export takes).
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

/// The labels of [`preset_points`]`(name, n, seed)`'s points, in order (`data::sample_preset_labelled`).
#[wasm_bindgen]
pub fn preset_labels(name: &str, n: usize, seed: u32) -> Result<Vec<u8>, JsError> {
    let preset =
        Preset::parse(name).ok_or_else(|| JsError::new(&format!("unknown preset {name}")))?;
    let mut rng = rng::seeded(u64::from(seed));
    Ok(data::sample_preset_labelled(preset, n, &mut rng).1)
}

/// `n` samples of `p_init = N(0, I)`, seeded, interleaved.
#[wasm_bindgen]
pub fn noise_points(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = rng::seeded(u64::from(seed));
    let points: Vec<Point> = (0..n).map(|_| rng::normal_pair(&mut rng)).collect();
    interleave(&points)
}

/// Parses CSV text with an optional third column of labels (`x,y` or `x,y,label` per line,
/// `data::parse_labelled_csv`) into triples `x, y, label`; the label is 0 for every point of a
/// file without labels. The error names the line.
#[wasm_bindgen]
pub fn parse_labelled_csv(text: &str) -> Result<Vec<f32>, JsError> {
    let (points, labels) = data::parse_labelled_csv(text).map_err(js_error)?;
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
    let files = crate::export::files(&mlp, &info, &csv).map_err(js_error)?;
    Ok(crate::export::zip(&files))
}
