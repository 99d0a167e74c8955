//! Tests of the wasm surface, run in headless Chromium by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn preset_points_are_interleaved_and_seeded() {
    let a = fmp::wasm::preset_points("moons", 300, 5).unwrap();
    let b = fmp::wasm::preset_points("moons", 300, 5).unwrap();
    assert_eq!(a.len(), 600);
    assert_eq!(a, b);
    assert!(a.iter().all(|v| v.is_finite()));
    assert!(fmp::wasm::preset_points("nope", 3, 1).is_err());
}

#[wasm_bindgen_test]
fn scatter_draws_pixels_on_a_canvas() {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(120);
    canvas.set_height(120);
    let points = fmp::wasm::preset_points("circles", 200, 1).unwrap();
    fmp::wasm::draw_scatter(canvas.clone(), &points, 3.0).unwrap();
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let pixels = ctx.get_image_data(0.0, 0.0, 120.0, 120.0).unwrap().data();
    // Blue-ish dots on a near-white background.
    let blue = pixels
        .chunks_exact(4)
        .filter(|p| p[2] > 150 && p[0] < 120)
        .count();
    assert!(blue > 50, "only {blue} dot pixels");
}
