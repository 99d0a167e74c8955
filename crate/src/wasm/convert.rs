//! Converters between JavaScript values and the core's types, each checking what it reads
//! against [`crate::limits`]; failures become `JsError`s whose message says what was wrong.

use crate::data;
use crate::limits;
use crate::mlp::{Mlp, MlpConfig};
use crate::ode::Solver;
use crate::path::Schedule;
use crate::sde::Diffusion;
use crate::trainer::TrainConfig;
use crate::Point;
use wasm_bindgen::prelude::*;

/// A core error (a `String` or an error type) as a JavaScript `Error` with the same message.
pub(super) fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// Interleaves points into `[x0, y0, ...]` as f32.
pub(super) fn interleave(points: &[Point]) -> Vec<f32> {
    points
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect()
}

/// Reads interleaved f32 points, rejecting an odd length or a non-finite value.
pub(super) fn points_of(flat: &[f32]) -> Result<Vec<Point>, JsError> {
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

/// Interleaved points that must not be empty (`what` names them in the error).
pub(super) fn nonempty_points_of(flat: &[f32], what: &str) -> Result<Vec<Point>, JsError> {
    let points = points_of(flat)?;
    if points.is_empty() {
        return Err(JsError::new(&format!("{what}: no points")));
    }
    Ok(points)
}

/// `k` frames of `n` points each out of a flat buffer (which must hold exactly that).
pub(super) fn frames_of(flat: &[f32], n: usize, k: usize) -> Result<Vec<Vec<Point>>, JsError> {
    if n == 0 || flat.len() != 2 * n * k {
        return Err(JsError::new(&format!(
            "frames: {} numbers for {k} frames of {n} points",
            flat.len()
        )));
    }
    flat.chunks(2 * n).map(points_of).collect()
}

/// A network shape within [`limits`] (the page's ranges, and the command line's for the time
/// features), so that no caller can ask for an allocation that aborts.
pub(super) fn check_shape(width: usize, depth: usize, time_features: usize) -> Result<(), JsError> {
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
pub(super) fn mlp_of(
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
    Mlp::from_params(config(classes), weights).map_err(js_error)
}

/// The points and the app-default training configuration of a run (shape `(width, depth,
/// time_features)`, batch, learning rate, schedule, seed), each checked against [`limits`]
/// (the independent coupling and no classes: the constructors set those).
pub(super) fn checked_run(
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
pub(super) fn labels_of(labels: &[u8], n: usize) -> Result<Vec<u8>, JsError> {
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

pub(super) fn schedule_of(name: &str) -> Result<Schedule, JsError> {
    Schedule::parse(name).ok_or_else(|| JsError::new(&format!("unknown schedule {name}")))
}

/// The noise of an SDE, `sigma` checked against [`limits::SIGMA`].
pub(super) fn diffusion_of(sigma: f64, score_correction: bool) -> Result<Diffusion, JsError> {
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

pub(super) fn solver_of(name: &str) -> Result<Solver, JsError> {
    Solver::parse(name).ok_or_else(|| JsError::new(&format!("unknown solver {name}")))
}

/// Writes `values` to the start of `out` (a JavaScript array, e.g. on a SharedArrayBuffer);
/// errors when `out` is shorter.
pub(super) fn write_to(out: &js_sys::Float32Array, values: &[f32]) -> Result<(), JsError> {
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
pub(super) fn read_from(
    from: &js_sys::Float32Array,
    len: usize,
    into: &mut Vec<f32>,
) -> Result<(), JsError> {
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
