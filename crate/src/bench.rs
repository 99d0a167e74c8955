//! Throughput measurements, the same code natively and in a browser worker.
//!
//! The clock is passed in (`now()` in seconds: `Instant` natively, `Date.now() / 1000` in a
//! browser worker), so nothing here touches `std::time` (unavailable on wasm32).
//!
//! The canonical training benchmark: two moons, 2,048 standardized points, linear schedule,
//! input `(x, y, t)` with raw `t`, 3 hidden SiLU layers, Adam lr 1e-3, no FM loss; config S is
//! width 64 / batch 256, config L width 256 / batch 1024. A step is minibatch sampling, forward,
//! backward and Adam. After a warm-up, steps are counted in windows of fixed duration and the
//! median window rate is reported.

use crate::adam::AdamParams;
use crate::data::{sample_preset, sample_preset_labelled, Preset};
use crate::gemm::{self, Kernel, Op};
use crate::marginal::EmpiricalMarginal;
use crate::mlp::MlpConfig;
use crate::path::Schedule;
use crate::trainer::{Coupling, TrainConfig, Trainer};
use crate::{rng, Point};

/// Number of data points of the canonical benchmark.
const BENCH_POINTS: usize = 2048;
/// Warm-up steps before timing.
const WARMUP_STEPS: usize = 200;

/// The canonical training configurations, `("S", ..)` and `("L", ..)`, S with the minibatch
/// OT coupling, `("S-OT", ..)` (its cost against S is the straight-paths lesson's), and S as a
/// class-conditional network on the moons' two labelled halves with label dropout,
/// `("S-labels", ..)` (the guidance lesson's training, against S).
fn canonical_configs() -> [(&'static str, TrainConfig); 4] {
    let config = |width, batch, coupling| TrainConfig {
        mlp: MlpConfig {
            width,
            depth: 3,
            time_features: 0,
            classes: 0,
        },
        batch,
        adam: AdamParams::default(),
        schedule: Schedule::Linear,
        seed: 0,
        // The canonical task: constant Adam lr, no weight averaging.
        lr_decay: false,
        average: false,
        coupling,
        p_uncond: 0.0,
    };
    [
        ("S", config(64, 256, Coupling::Independent)),
        ("L", config(256, 1024, Coupling::Independent)),
        ("S-OT", config(64, 256, Coupling::Ot)),
        (
            "S-labels",
            TrainConfig {
                mlp: MlpConfig {
                    classes: crate::data::MAX_CLASSES,
                    ..config(64, 256, Coupling::Independent).mlp
                },
                p_uncond: crate::trainer::P_UNCOND,
                ..config(64, 256, Coupling::Independent)
            },
        ),
    ]
}

/// Result of a throughput measurement.
#[derive(Clone, Debug, PartialEq)]
struct Throughput {
    /// Median of the per-window rates.
    median: f64,
    /// Rate of every window, in order.
    windows: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Training steps per second: `warmup` steps, then `windows` windows of `window_s` seconds
/// (each counts whole steps and divides by its measured duration).
fn train_steps_per_s(
    config: TrainConfig,
    (data, labels): (Vec<Point>, Vec<u8>),
    warmup: usize,
    windows: usize,
    window_s: f64,
    now: &mut dyn FnMut() -> f64,
) -> Throughput {
    // A class-conditional configuration trains on the labels; any other on the points alone.
    let mut trainer = if config.mlp.classes > 0 {
        Trainer::new_labelled(config, data, labels)
    } else {
        Trainer::new(config, data)
    };
    for _ in 0..warmup {
        trainer.step();
    }
    let rates = (0..windows)
        .map(|_| {
            let start = now();
            let mut steps = 0u64;
            let mut elapsed = 0.0;
            while elapsed < window_s {
                trainer.step();
                steps += 1;
                elapsed = now() - start;
            }
            steps as f64 / elapsed
        })
        .collect::<Vec<_>>();
    Throughput {
        median: median(&rates),
        windows: rates,
    }
}

/// Exact-marginal evaluations per second, counting query points x data points: `u_marg_batch`
/// of `queries` at `t = 0.5` (repeated), in `windows` windows of `window_s` seconds.
fn marginal_evals_per_s(
    data: Vec<Point>,
    queries: &[Point],
    windows: usize,
    window_s: f64,
    now: &mut dyn FnMut() -> f64,
) -> Throughput {
    let n = data.len();
    let marginal = EmpiricalMarginal::new(data, Default::default());
    let mut out = vec![[0.0; 2]; queries.len()];
    let mut sink = 0.0;
    let rates = (0..windows)
        .map(|_| {
            let start = now();
            let mut calls = 0u64;
            let mut elapsed = 0.0;
            while elapsed < window_s {
                marginal.u_marg_batch(queries, 0.5, &mut out);
                sink += out[0][0];
                calls += 1;
                elapsed = now() - start;
            }
            (calls as f64 * queries.len() as f64 * n as f64) / elapsed
        })
        .collect::<Vec<_>>();
    // Keep the results observable so the work is not optimised away.
    if sink.is_nan() {
        return Throughput {
            median: f64::NAN,
            windows: rates,
        };
    }
    Throughput {
        median: median(&rates),
        windows: rates,
    }
}

/// The configuration named `name` of the canonical benchmark (`S`, `L`, `S-OT`, `S-labels`).
pub fn canonical_config(name: &str) -> Option<TrainConfig> {
    canonical_configs()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| c)
}

/// The canonical benchmark's data: 2,048 two-moons points (seed 0) and their moon labels.
pub fn canonical_data() -> (Vec<Point>, Vec<u8>) {
    sample_preset_labelled(Preset::TwoMoons, BENCH_POINTS, &mut rng::seeded(0))
}

/// The canonical trainer of configuration `name` on [`canonical_data`] (labelled for
/// `S-labels`), `None` for an unknown name.
pub fn canonical_trainer(name: &str) -> Option<Trainer> {
    let config = canonical_config(name)?;
    let (data, labels) = canonical_data();
    Some(if config.mlp.classes > 0 {
        Trainer::new_labelled(config, data, labels)
    } else {
        Trainer::new(config, data)
    })
}

/// One training figure (a JSON line) of configuration `name`, with the kernel of the process
/// named in it; `None` for an unknown name.
pub fn train_figure(
    place: &str,
    name: &str,
    windows: usize,
    window_s: f64,
    now: &mut dyn FnMut() -> f64,
) -> Option<String> {
    let config = canonical_config(name)?;
    let r = train_steps_per_s(
        config,
        canonical_data(),
        WARMUP_STEPS,
        windows,
        window_s,
        now,
    );
    Some(format!(
        "{{\"bench\":\"train\",\"where\":\"{place}\",\"config\":\"{name}\",\"kernel\":\"{}\",\"workers\":1,\"steps_per_s\":{:.1},\"windows\":{}}}",
        gemm::kernel().name(),
        r.median,
        json_list(&r.windows)
    ))
}

/// A product to time: its name, `(m, n, k)` and the operand forms (see [`crate::gemm`]).
type Product = (&'static str, (usize, usize, usize), Op, Op);

/// The three matrix products of an L step (width 256, batch 1024).
pub const L_PRODUCTS: [Product; 3] = [
    ("forward W A", (256, 1024, 256), Op::N, Op::N),
    ("weight grad dZ A^T", (256, 256, 1024), Op::N, Op::T),
    ("input grad W^T dZ", (256, 1024, 256), Op::T, Op::N),
];

/// GFLOP/s (`2 m n k` per product) of `kernel` on each of [`L_PRODUCTS`], medians of
/// `windows` windows of `window_s` seconds: one JSON line per product.
pub fn gemm_figures(
    place: &str,
    kernel: Kernel,
    windows: usize,
    window_s: f64,
    now: &mut dyn FnMut() -> f64,
) -> Vec<String> {
    let mut rng = rng::seeded(2);
    let mut scratch = gemm::Scratch::default();
    L_PRODUCTS
        .iter()
        .map(|&(name, (m, n, k), a_op, b_op)| {
            let mut draw = |len: usize| -> Vec<f32> {
                (0..len).map(|_| rng::uniform(&mut rng) as f32 - 0.5).collect()
            };
            let (a, b) = (draw(m * k), draw(k * n));
            let mut c = vec![0.0f32; m * n];
            let mut product = |c: &mut [f32]| {
                gemm::gemm(kernel, (m, n, k), (&a, a_op), (&b, b_op), c, &mut scratch)
            };
            product(&mut c);
            let rates: Vec<f64> = (0..windows)
                .map(|_| {
                    let start = now();
                    let mut calls = 0u64;
                    let mut elapsed = 0.0;
                    while elapsed < window_s {
                        product(&mut c);
                        calls += 1;
                        elapsed = now() - start;
                    }
                    calls as f64 * 2.0 * (m * n * k) as f64 / elapsed / 1e9
                })
                .collect();
            format!(
                "{{\"bench\":\"gemm\",\"where\":\"{place}\",\"kernel\":\"{}\",\"product\":\"{name}\",\"shape\":[{m},{n},{k}],\"gflops\":{:.2},\"windows\":{}}}",
                kernel.name(),
                median(&rates),
                json_list(&rates)
            )
        })
        .collect()
}

/// A list of rates as JSON, one decimal each.
fn json_list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
    format!("[{}]", items.join(","))
}

/// Runs every figure of the benchmark (canonical S and L training, then exact-marginal
/// evaluations: 2,000 queries x 1,000 two-moons points) with the clock `now` (seconds), and
/// returns one JSON line per figure, tagged with `place` ("native" or "wasm").
pub fn run_all(
    place: &str,
    windows: usize,
    window_s: f64,
    now: &mut dyn FnMut() -> f64,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, _) in canonical_configs() {
        lines.extend(train_figure(place, name, windows, window_s, now));
    }
    lines.extend(gemm_figures(
        place,
        gemm::kernel(),
        windows,
        window_s.min(1.0),
        now,
    ));
    let mut rng = rng::seeded(1);
    let points = sample_preset(Preset::TwoMoons, 1000, &mut rng);
    let queries: Vec<Point> = (0..2000).map(|_| rng::normal_pair(&mut rng)).collect();
    let r = marginal_evals_per_s(points, &queries, windows, window_s, now);
    lines.push(format!(
        "{{\"bench\":\"marginal\",\"where\":\"{place}\",\"evals_per_s\":{:.4e},\"windows\":{}}}",
        r.median,
        json_list(&r.windows)
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_the_clock() {
        // A fake clock that advances 1 ms per reading: each window of 0.01 s takes exactly
        // 10 steps (readings at 1..=10 ms after its start), so the rate is 10 / 0.01 = 1000.
        let mut t = 0.0;
        let mut clock = move || {
            t += 1e-3;
            t
        };
        let data = vec![[0.0, 1.0], [1.0, 0.0]];
        let (_, mut config) = canonical_configs()[0];
        config.batch = 8;
        config.mlp.width = 8;
        let r = train_steps_per_s(config, (data, vec![1, 2]), 2, 3, 0.01 - 1e-9, &mut clock);
        assert_eq!(r.windows.len(), 3);
        for w in &r.windows {
            assert!((w - 1000.0).abs() < 1e-6, "{w}");
        }
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
