//! Figures of point sets: distances between clouds, memorization, straightness and crossings
//! of stored trajectories ([`crate::metrics`], [`crate::straight`]).

use super::convert::{frames_of, nonempty_points_of, points_of};
use crate::{sde, straight};
use wasm_bindgen::prelude::*;

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

/// The index of the time in `times` nearest to `tau` (`sde::nearest_time`: the grid frame the
/// marginal-match table reads, as `fmp flow --at-times` does).
#[wasm_bindgen]
pub fn nearest_time(times: &[f64], tau: f64) -> usize {
    sde::nearest_time(times, tau)
}
