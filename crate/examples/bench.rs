//! Native throughput benchmark: prints one JSON line per measurement.
//!
//! `cargo run --release --example bench [-- --window SECONDS --windows N]`
//! - `{"bench":"train","where":"native","config":"S"|"L"|"S-OT"|"S-labels","steps_per_s":..,"windows":[..]}`
//!   (canonical task, see `fmp::bench`);
//! - `{"bench":"marginal","where":"native","evals_per_s":..,"windows":[..]}`
//!   (2,000 queries x 1,000 data points per `u_marg_batch` call, counted as query x data).
//!
//! Native only; in a browser, the `bench` feature's `wasm::bench_all` runs the same figures.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use std::time::Instant;

    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: f64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let window_s = flag("--window", 3.0);
    let windows = flag("--windows", 3.0).max(1.0) as usize;
    let origin = Instant::now();
    let mut now = move || origin.elapsed().as_secs_f64();
    for line in fmp::bench::run_all("native", windows, window_s, &mut now) {
        println!("{line}");
    }
}

/// `std::time::Instant` panics on wasm32-unknown-unknown: nothing to run there.
#[cfg(target_arch = "wasm32")]
fn main() {}
