//! The charts drawn with plotters on a canvas ([`crate::plot`]), and the step counts of the NFE
//! chart.

use super::convert::{js_error, schedule_of};
use crate::straight;
use wasm_bindgen::prelude::*;

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
    crate::plot::loss_chart(canvas, steps, cfm, fm, gap).map_err(js_error)
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
    crate::plot::w2_sigma_chart(canvas, steps, w2, sigmas).map_err(js_error)
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
    crate::plot::nfe_chart(canvas, steps, w2, rgb).map_err(js_error)
}

/// The Euler step counts of the NFE chart (`straight::NFE`).
#[wasm_bindgen]
pub fn nfe_steps() -> Vec<u32> {
    straight::NFE.iter().map(|&n| n as u32).collect()
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
    crate::plot::density_chart(canvas, xs, curve, lo, hi).map_err(js_error)
}

/// The `alpha_t`, `beta_t` chart of schedule `name` with a marker at `t`.
#[wasm_bindgen]
pub fn draw_schedule_chart(
    canvas: web_sys::HtmlCanvasElement,
    name: &str,
    t: f64,
) -> Result<(), JsError> {
    crate::plot::schedule_chart(canvas, schedule_of(name)?, t).map_err(js_error)
}
