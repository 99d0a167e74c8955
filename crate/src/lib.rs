//! # Flow Matching Playground: the core
//!
//! Conditional flow matching (Lipman et al. 2023) in the notation of MIT 6.S184, for 2D point
//! clouds. Pure Rust, no browser types except in `wasm` (the only `#[wasm_bindgen]` surface)
//! and `plot` (plotters-canvas charts); both exist only on wasm32. The command line
//! ([`cli`]) exists only natively; the throughput benchmark ([`mod@bench`]) natively, and on wasm32
//! only with the cargo feature `bench` (which adds the export `wasm::bench_all`). The limits
//! of every setting, the same for the page and the command line, are one table ([`limits`]).
//!
//! ## Conventions (stated once, used everywhere)
//! - Time runs from `t = 0` (noise, `p_init = N(0, I)`) to `t = 1` (data).
//! - Points live in R^2 and are `[f64; 2]` ([`Point`]) in the exact math, `f32` in the network.
//!   Across the wasm boundary, point sets are interleaved `[x0, y0, x1, y1, ...]` buffers.
//! - Gaussian conditional path `p_t(x|z) = N(alpha_t z, beta_t^2 I)`, with
//!   `alpha_0 = 0, alpha_1 = 1, beta_0 = 1, beta_1 = 0` ([`path`]).
//! - Conditional field `u_t(x|z) = A_t z + B_t x`, `A_t = alpha_dot - (beta_dot / beta) alpha`,
//!   `B_t = beta_dot / beta`; exact marginal `u_t(x) = sum_i w_i(x, t) u_t(x|z_i)` with posterior
//!   weights `w_i = softmax_i(-|x - alpha_t z_i|^2 / (2 beta_t^2))` ([`marginal`]).
//! - Where `1 / beta_t` appears, `t` is clamped to `[0, t_max]`, the time where `beta_t` falls
//!   to [`path::BETA_MIN`] (one noise level for every schedule: [`path::Schedule::t_max`]).
//! - Every random draw comes from a seeded RNG passed in by the caller: runs reproduce.
//!
//! ## Example
//! The exact marginal field of a small cloud is the posterior-weighted average of the
//! conditional fields, and a network trained by conditional flow matching approaches it:
//! ```
//! use fmp::marginal::EmpiricalMarginal;
//! use fmp::mlp::MlpConfig;
//! use fmp::path::{GaussianPath, Schedule};
//! use fmp::trainer::{TrainConfig, Trainer};
//!
//! let data = vec![[1.0, 0.0], [-1.0, 0.5], [0.0, -1.0]];
//! let path = GaussianPath::new(Schedule::Linear);
//! let marginal = EmpiricalMarginal::new(data.clone(), path);
//!
//! // u_t(x) = sum_i w_i(x, t) u_t(x | z_i), with the posterior weights w_i summing to 1.
//! let (x, t) = ([0.3, -0.2], 0.6);
//! let mut w = vec![0.0; data.len()];
//! marginal.weights(x, t, &mut w);
//! assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! let mut expected = [0.0; 2];
//! for (wi, z) in w.iter().zip(&data) {
//!     let u = path.u_cond(x, *z, t);
//!     expected[0] += wi * u[0];
//!     expected[1] += wi * u[1];
//! }
//! let u = marginal.u_marg(x, t);
//! assert!((u[0] - expected[0]).abs() < 1e-12 && (u[1] - expected[1]).abs() < 1e-12);
//!
//! // A few hundred CFM steps of a small network on the same cloud lower the exact FM loss
//! // (its distance to that field), although each step only sees conditional targets.
//! let config = TrainConfig {
//!     mlp: MlpConfig { width: 32, depth: 2, time_features: 1, classes: 0 },
//!     batch: 64,
//!     ..TrainConfig::default()
//! };
//! let mut trainer = Trainer::new(config, data);
//! let before = trainer.step_reporting().fm_loss;
//! for _ in 0..300 {
//!     trainer.step();
//! }
//! let after = (0..10).map(|_| trainer.step_reporting().fm_loss).sum::<f64>() / 10.0;
//! assert!(after < 0.5 * before, "FM loss {before} -> {after}");
//! ```

pub mod adam;
#[cfg(any(not(target_arch = "wasm32"), feature = "bench"))]
pub mod bench;
pub mod catalog;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod continuity;
pub mod data;
pub mod export;
pub mod gemm;
pub mod guidance;
mod json;
pub mod kinds;
pub mod limits;
pub mod marginal;
pub mod metrics;
pub mod mlp;
pub mod ode;
pub mod parallel;
pub mod path;
pub mod rng;
pub mod sampling;
pub mod sde;
pub mod straight;
pub mod trainer;

#[cfg(target_arch = "wasm32")]
mod plot;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// A point of the plane, in data (model) coordinates.
pub type Point = [f64; 2];
