//! Charts drawn with plotters-canvas on a page canvas (wasm32 only).
//!
//! Each function takes the canvas element and plain data; it draws the whole chart anew.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// Why a chart could not be drawn.
fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// A scatter plot of interleaved points `[x0, y0, x1, y1, ...]` in the square `[-h, h]^2`.
pub fn scatter(canvas: HtmlCanvasElement, points: &[f32], half_width: f32) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&RGBColor(250, 250, 252)).map_err(err)?;
    let range = -half_width..half_width;
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .build_cartesian_2d(range.clone(), range)
        .map_err(err)?;
    chart
        .draw_series(
            points
                .chunks_exact(2)
                .map(|p| Circle::new((p[0], p[1]), 2, RGBColor(37, 99, 235).filled())),
        )
        .map_err(err)?;
    root.present().map_err(err)
}
