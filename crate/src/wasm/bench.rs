//! The in-browser benchmark exports (only in a build with the cargo feature `bench`).

use super::train::TrainerHandle;
use crate::gemm;
use wasm_bindgen::prelude::*;

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
