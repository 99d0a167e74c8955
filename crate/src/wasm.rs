//! The only `#[wasm_bindgen]` surface of the crate.
//!
//! Rust owns the state; JavaScript holds handles and passes point sets as interleaved
//! `Float32Array`s `[x0, y0, x1, y1, ...]` (copied across the boundary).

use crate::data::{self, Preset};
use crate::rng;
use wasm_bindgen::prelude::*;

/// Interleaves points into `[x0, y0, ...]` as f32.
fn interleave(points: &[crate::Point]) -> Vec<f32> {
    points
        .iter()
        .flat_map(|p| [p[0] as f32, p[1] as f32])
        .collect()
}

/// The crate version, so the page can show that the wasm core answered.
#[wasm_bindgen]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `n` points of the preset `name` (see `data::Preset::name`), seeded, interleaved.
#[wasm_bindgen]
pub fn preset_points(name: &str, n: usize, seed: u32) -> Result<Vec<f32>, JsError> {
    let preset = Preset::parse(name).ok_or_else(|| JsError::new(&format!("unknown preset {name}")))?;
    let mut rng = rng::seeded(u64::from(seed));
    Ok(interleave(&data::sample_preset(preset, n, &mut rng)))
}

/// Draws a scatter plot of interleaved `points` on `canvas` with plotters-canvas.
#[wasm_bindgen]
pub fn draw_scatter(
    canvas: web_sys::HtmlCanvasElement,
    points: &[f32],
    half_width: f32,
) -> Result<(), JsError> {
    crate::plot::scatter(canvas, points, half_width).map_err(|e| JsError::new(&e))
}
