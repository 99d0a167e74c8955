//! Native throughput benchmark: prints one JSON line per measurement.
//!
//! `cargo run --release --example bench [-- --window SECONDS --windows N]`
//! - `{"bench":"train","where":"native","config":"S"|"L","steps_per_s":..,"windows":[..]}`
//!   (canonical task, see `fmp::bench`);
//! - `{"bench":"marginal","where":"native","evals_per_s":..,"windows":[..]}`
//!   (2,000 queries x 1,000 data points per `u_marg_batch` call, counted as query x data).

use std::time::Instant;

use fmp::bench::{self, BENCH_POINTS, WARMUP_STEPS};
use fmp::data::{sample_preset, Preset};
use fmp::rng;

fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
    format!("[{}]", items.join(","))
}

fn main() {
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

    let data = sample_preset(Preset::TwoMoons, BENCH_POINTS, &mut rng::seeded(0));
    for (name, config) in bench::canonical_configs() {
        let r = bench::train_steps_per_s(
            config,
            data.clone(),
            WARMUP_STEPS,
            windows,
            window_s,
            &mut now,
        );
        println!(
            "{{\"bench\":\"train\",\"where\":\"native\",\"config\":\"{name}\",\"steps_per_s\":{:.1},\"windows\":{}}}",
            r.median,
            json_list(&r.windows)
        );
    }

    let mut rng = rng::seeded(1);
    let points = sample_preset(Preset::TwoMoons, 1000, &mut rng);
    let queries: Vec<_> = (0..2000).map(|_| rng::normal_pair(&mut rng)).collect();
    let r = bench::marginal_evals_per_s(points, &queries, windows, window_s, &mut now);
    println!(
        "{{\"bench\":\"marginal\",\"where\":\"native\",\"evals_per_s\":{:.4e},\"windows\":{}}}",
        r.median,
        json_list(&r.windows)
    );
}
