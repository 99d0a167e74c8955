//! Tests of the wasm surface, run in headless Chromium by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]
// `#[wasm_bindgen_test]` functions are not `#[test]`s, so clippy's allow-unwrap-in-tests
// does not cover them.
#![allow(clippy::unwrap_used)]

use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule};
use fmp::wasm::Fields;

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

fn as_points(flat: &[f32]) -> Vec<fmp::Point> {
    flat.chunks_exact(2)
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect()
}

#[wasm_bindgen_test]
fn inspector_weights_sum_to_one_and_match_the_core() {
    let cloud = fmp::wasm::preset_points("8gaussians", 400, 3).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    fields.set_schedule("cosine").unwrap();
    let core = EmpiricalMarginal::new(as_points(&cloud), GaussianPath::new(Schedule::Cosine));
    let mut expected = vec![0.0; 400];
    for (x, y, t) in [(0.1, -0.2, 0.0), (1.0, 1.5, 0.5), (-2.0, 0.3, 0.97)] {
        let w = fields.posterior(x, y, t);
        let sum: f64 = w.iter().map(|v| f64::from(*v)).sum();
        assert!((sum - 1.0).abs() < 1e-5, "weights sum to {sum}");
        core.weights([x, y], t, &mut expected);
        for (a, b) in w.iter().zip(&expected) {
            assert!((f64::from(*a) - b).abs() < 1e-6);
        }
    }
    // t = 0: every point is equally likely.
    let w0 = fields.posterior(0.3, 0.3, 0.0);
    assert!(w0.iter().all(|v| (v - 1.0 / 400.0).abs() < 1e-6));
}

#[wasm_bindgen_test]
fn residual_grids_separate_the_exact_and_the_uniform_field() {
    let cloud = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    let mean_abs = |g: Vec<f32>| g.iter().map(|v| f64::from(v.abs())).sum::<f64>() / g.len() as f64;
    for t in [0.2, 0.5, 0.8] {
        let exact = mean_abs(fields.grid("residual", t, 16, 3.0).unwrap());
        let uniform = mean_abs(fields.grid("residual_uniform", t, 16, 3.0).unwrap());
        assert!(exact < 1e-6, "exact residual {exact} at t = {t}");
        assert!(
            uniform > 0.1,
            "uniform-weight residual {uniform} at t = {t}"
        );
    }
    assert!(
        fields.grid("residual_learned", 0.5, 4, 3.0).is_err(),
        "no network yet"
    );
}
