//! The only `#[wasm_bindgen]` surface of the crate, split by job: `convert` (reading and
//! checking what JavaScript passes in), `data` (catalog, presets, noise, CSV, schedules,
//! export), `charts` (plotters on a canvas), `metrics` (figures of point sets), `train`
//! ([`TrainerHandle`], [`GradShard`], the matrix kernel), [`Fields`] (`fields`: settings,
//! arrows and grids; `measures`: its figures; `flows`: its particle integrator) and `bench`
//! (only with the cargo feature `bench`). Everything is re-exported here, so each export's
//! path is `fmp::wasm::NAME`, and its JavaScript name is the Rust one.
//!
//! Rust owns the state; JavaScript holds handles ([`TrainerHandle`] in the training worker,
//! [`Fields`] in the page and the flow worker) and passes point sets as interleaved
//! `Float32Array`s `[x0, y0, x1, y1, ...]`, copied across the boundary. Grids of scalars are
//! `n x n`, row-major, row 0 at the top (`y = +half`), column 0 at the left (`x = -half`),
//! sampled at cell centres. Names of presets, schedules, solvers, couplings, field kinds and
//! grids are strings, the ids of [`catalog`] (parsed by the core's enums; an unknown name is an
//! error that lists the valid ones).

#[cfg(feature = "bench")]
mod bench;
mod charts;
mod convert;
mod data;
mod fields;
mod flows;
mod measures;
mod metrics;
mod train;

#[cfg(feature = "bench")]
pub use bench::*;
pub use charts::*;
pub use data::*;
pub use fields::Fields;
pub use flows::ParticleFlow;
pub use metrics::*;
pub use train::*;
