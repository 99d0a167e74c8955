//! The limits of every setting, in one table: the page's and those only the command line has.
//! The command line (`cli`, native only) checks each flag against this table and prints its
//! usage from it; the wasm trainer and field constructors check the network shape (and the
//! trainer the batch and learning rate) against it. The page reads the whole table from the
//! core's catalog (`catalog()`, key `"limits"`: [`crate::catalog::catalog_json`]; `www/limits.js`
//! installs it): its property table's ranges (`www/state.js` `buildProps` and the lessons'
//! settings), `MAX_POINTS`, `WORLD`, the CSV import's bounds (`www/io.js`) and the divergence
//! test (`www/train.worker.js`) are these numbers, so the page and the command line cannot
//! disagree.
//!
//! | setting            | range                | page          | why (when not the page's number)              |
//! |--------------------|----------------------|---------------|-----------------------------------------------|
//! | learning rate      | `1e-5..=10`          | `lr`          |                                               |
//! | batch              | `1..=4096`           | `batch`       |                                               |
//! | width              | `4..=512`            | `width`       |                                               |
//! | depth              | `1..=8`              | `depth`       |                                               |
//! | ODE steps          | `2..=400`            | `odeSteps`    |                                               |
//! | flow steps         | `1..=400`            | (none)        | see [`FLOW_STEPS`]                            |
//! | particles          | `100..=5000`         | `particles`   | also `fmp flow --particles`                   |
//! | seed               | `0..=2^31-1`         | `seed`        |                                               |
//! | data points        | `1..=5000`           | `MAX_POINTS`  |                                               |
//! | time features      | `0..=16`             | (default 2)   | see [`TIME_FEATURES`]                         |
//! | training steps     | `1..=1,000,000`      | (unbounded)   | see [`TRAIN_STEPS`]                           |
//! | query points       | `1..=100,000`        | (none)        | see [`QUERY_POINTS`]                          |
//! | time `t`           | `0..=1`              | `t`           |                                               |
//! | noise `sigma`      | `0..=3`              | `sigma`       |                                               |
//! | guidance `w`       | `0..=8`              | `guidance`    |                                               |
//! | class `y`          | `1..=4`              | `sampleClass` | also the labels of a CSV's third column       |
//! | coordinates        | `abs <= 1e6`         | (import)      | see [`MAX_COORD`]                             |
//! | CSV file size      | `<= 5,000,000` bytes | (import)      |                                               |
//! | model file size    | `<= 7,505,928` bytes | (none)        | see [`MAX_MODEL_BYTES`]                       |
//! | config file size   | `<= 65,536` bytes    | (none)        | see [`MAX_CONFIG_BYTES`]                      |
//! | divergence         | mean CFM loss `> 1e4`| `DIVERGED`    |                                               |
//!
//! Data outside the stage: the page's CSV import rescales a cloud with any coordinate beyond
//! [`RESCALE_ABOVE`] (`0.95 WORLD`) into [`RESCALE_TO`] (`0.85 WORLD`) with
//! [`crate::data::fit_to_box`]; `fmp train --data` does the same ([`crate::data::fit_to_stage`]),
//! so a file trains on the same cloud in both. Coordinates beyond [`MAX_COORD`] (and
//! non-finite ones) are refused by the CSV parser itself ([`crate::data::parse_points_csv`],
//! which both use), with the line.

use std::fmt;

/// An inclusive range of integers, with the name the messages use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntLimit {
    /// What is limited (e.g. `"width"`).
    pub name: &'static str,
    /// The key of the same setting in the page's `buildProps` (or its constant), if it has one.
    pub page: Option<&'static str>,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
}

impl IntLimit {
    /// Whether `v` is in `min..=max`.
    pub fn contains(&self, v: u64) -> bool {
        (self.min..=self.max).contains(&v)
    }
}

impl fmt::Display for IntLimit {
    /// `min..=max`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.min, self.max)
    }
}

/// An inclusive range of finite reals, with the name the messages use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RealLimit {
    /// What is limited (e.g. `"learning rate"`).
    pub name: &'static str,
    /// The key of the same setting in the page's `buildProps`, if it has one.
    pub page: Option<&'static str>,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
}

impl RealLimit {
    /// Whether `v` is finite and in `min..=max`.
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && (self.min..=self.max).contains(&v)
    }

    /// Whether the `f32` value `v` is in range, with the bounds rounded to `f32` the same way
    /// (the page's `1e-5` reaches the wasm trainer as `f32`, slightly below `1e-5_f64`).
    pub fn contains_f32(&self, v: f32) -> bool {
        v.is_finite() && (self.min as f32..=self.max as f32).contains(&v)
    }
}

/// A number as the limits are written: `1e-5`, `10`, `0.5`, `1e6`.
pub fn format_number(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

impl fmt::Display for RealLimit {
    /// `min..=max`, e.g. `1e-5..=10`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}..={}",
            format_number(self.min),
            format_number(self.max)
        )
    }
}

/// Base learning rate of Adam (the page's `lr`).
pub const LR: RealLimit = RealLimit {
    name: "learning rate",
    page: Some("lr"),
    min: 1e-5,
    max: 10.0,
};

/// Minibatch size (the page's `batch`).
pub const BATCH: IntLimit = IntLimit {
    name: "batch",
    page: Some("batch"),
    min: 1,
    max: 4096,
};

/// Units per hidden layer (the page's `width`).
pub const WIDTH: IntLimit = IntLimit {
    name: "width",
    page: Some("width"),
    min: 4,
    max: 512,
};

/// Hidden layers (the page's `depth`).
pub const DEPTH: IntLimit = IntLimit {
    name: "depth",
    page: Some("depth"),
    min: 1,
    max: 8,
};

/// Sinusoidal time-feature pairs of the network input (command line only; the page always
/// uses the default, 2). 0 is raw `t` only. Pair `k` is `sin, cos(2 pi k t)`, a period of
/// `1 / k` in `t`: 16 pairs resolve changes of the field over a sixteenth of the time axis,
/// far finer than the Gaussian paths vary (the default 2 already trains every preset), and the
/// input stays small (at most 35 values). More pairs would only add first-layer weights that
/// fit minibatch noise; the old unbounded value overflowed the input size and panicked.
pub const TIME_FEATURES: IntLimit = IntLimit {
    name: "time features",
    page: None,
    min: 0,
    max: 16,
};

/// Steps of the ODE solver when sampling (the page's `odeSteps`).
pub const ODE_STEPS: IntLimit = IntLimit {
    name: "ODE steps",
    page: Some("odeSteps"),
    min: 2,
    max: 400,
};

/// Steps of `fmp flow --steps` and of the sampling steps a saved model's config may ask for
/// (`sampling.steps`, checked by the command line and `python/fmp_model.py`): the page's
/// [`ODE_STEPS`] and also 1, the single Euler step of the straight-paths lesson (its W2 after
/// 1 step, `w2_at_steps["1"]` of `fmp train`, is reproduced by `fmp flow --model DIR --solver
/// euler --steps 1`). The page keeps 2 as its least: one step of its animation shows nothing.
pub const FLOW_STEPS: IntLimit = IntLimit {
    name: "flow steps",
    page: None,
    min: 1,
    max: ODE_STEPS.max,
};

/// Particles of the page's flow animation (the page's `particles`) and of `fmp flow
/// --particles` (`fmp train` samples as many points as the data has, at most
/// [`crate::metrics::W2_MAX_POINTS`]).
pub const PARTICLES: IntLimit = IntLimit {
    name: "particles",
    page: Some("particles"),
    min: 100,
    max: 5000,
};

/// Seed of the initialisation and every random draw (the page's `seed`): below `2^31`, so a
/// seed survives JSON, URLs and JavaScript's integer arithmetic.
pub const SEED: IntLimit = IntLimit {
    name: "seed",
    page: Some("seed"),
    min: 0,
    max: (1 << 31) - 1,
};

/// Points of a data cloud (the page's `MAX_POINTS`: the drawing, a link, a CSV import; the
/// command line's `--points` and `--data`).
pub const POINTS: IntLimit = IntLimit {
    name: "points",
    page: Some("MAX_POINTS"),
    min: 1,
    max: 5000,
};

/// Training steps of one command-line run (the page trains until paused). A bound on the
/// count, not on the time: the default network trains about 1,500 steps/s natively (measured
/// on a busy 2-core machine), so the longest default run takes about 11 minutes; a step of
/// the largest allowed network (width 512, depth 8, batch 4096) takes about a second.
pub const TRAIN_STEPS: IntLimit = IntLimit {
    name: "steps",
    page: None,
    min: 1,
    max: 1_000_000,
};

/// Query points of `fmp field --at` (command line only). Each query sums over every data
/// point: 100,000 queries against the largest cloud (5,000 points) are half a billion kernel
/// evaluations, some seconds.
pub const QUERY_POINTS: IntLimit = IntLimit {
    name: "query points",
    page: None,
    min: 1,
    max: 100_000,
};

/// Time of the probability path (the page's `t`; `fmp field --t`).
pub const TIME: RealLimit = RealLimit {
    name: "t",
    page: Some("t"),
    min: 0.0,
    max: 1.0,
};

/// The noise level of the diffusion lesson (the page's `sigma`; `fmp flow --sigma`; the
/// lesson's `Fields::set_diffusion` and its SDE flows): `sigma_t = sigma beta_t` (see
/// [`crate::sde`]). Past 3 the Euler-Maruyama steps of the
/// page's grid (50 steps) and Langevin's `ds = 0.01` lose accuracy (bias of order
/// `ds sigma^2`), and the paths are noise with little left to see.
pub const SIGMA: RealLimit = RealLimit {
    name: "sigma",
    page: Some("sigma"),
    min: 0.0,
    max: 3.0,
};

/// The guidance scale `w` of the guidance lesson (the page's `guidance`; `fmp flow --guidance`):
/// `(1 - w) u_t(x) + w u_t(x|y)`. Beyond 8 the guided field is mostly the class field's
/// difference from the unconditional one, scaled up: particles overshoot the class.
pub const GUIDANCE: RealLimit = RealLimit {
    name: "guidance",
    page: Some("guidance"),
    min: 0.0,
    max: 8.0,
};

/// The most classes a labelled drawing has (the page's class picker; the conditional
/// network's one-hot input). [`crate::data`] re-exports it beside the labels it bounds.
pub const MAX_CLASSES: usize = 4;

/// The class a guided flow samples (the page's `sampleClass`; `fmp flow --class`), and the
/// labels a drawing may carry ([`MAX_CLASSES`]).
pub const CLASS: IntLimit = IntLimit {
    name: "class",
    page: Some("sampleClass"),
    min: 1,
    max: MAX_CLASSES as u64,
};

/// Every integer limit the page's catalog carries ([`crate::catalog`]), for documentation and
/// tests ([`FLOW_STEPS`], of the command line and the Python loader only, is not among them).
pub const INT_LIMITS: [IntLimit; 11] = [
    BATCH,
    WIDTH,
    DEPTH,
    TIME_FEATURES,
    ODE_STEPS,
    PARTICLES,
    SEED,
    POINTS,
    TRAIN_STEPS,
    QUERY_POINTS,
    CLASS,
];

/// Every real limit, for documentation and tests.
pub const REAL_LIMITS: [RealLimit; 4] = [LR, TIME, SIGMA, GUIDANCE];

/// Half the side of the page's stage, the world box `[-WORLD, WORLD]^2` (the page's `WORLD`).
pub const WORLD: f64 = 3.5;

/// A CSV cloud with any coordinate beyond this (in absolute value) is rescaled into the stage
/// (`0.95 WORLD`, as the page's import does).
pub const RESCALE_ABOVE: f64 = 0.95 * WORLD;

/// Half-width of the box a rescaled cloud is fitted into (`0.85 WORLD`, as the page's import).
pub const RESCALE_TO: f64 = 0.85 * WORLD;

/// The largest coordinate a CSV file may hold, in absolute value (page and command line: the
/// parser refuses larger ones, naming the line). Such a cloud would be rescaled into the stage
/// anyway, so the bound only rules out files in the wrong units or corrupt ones, and keeps
/// every intermediate value of the exact field (squared distances, `1e12`) and of the page's
/// `f32` copy (which turns `1e39` into infinity and keeps a spacing of at most `1/16` at `1e6`)
/// finite and meaningful. It also covers the command line's `field`, which uses the cloud as
/// given.
pub const MAX_COORD: f64 = 1e6;

/// The largest CSV file read, in bytes (the page's import refuses files over 5 MB).
pub const MAX_FILE_BYTES: u64 = 5_000_000;

/// Parameters of the largest network the limits allow: [`WIDTH`]`.max` units in each of
/// [`DEPTH`]`.max` hidden layers, an input of `3 + 2` [`TIME_FEATURES`]`.max` `+`
/// [`MAX_CLASSES`] values (`x, y, t`, the sinusoidal pairs, the one-hot label) and 2 outputs:
/// 1,860,098 weights and biases.
pub const MAX_PARAMS: u64 = {
    let (w, d) = (WIDTH.max, DEPTH.max);
    let input = 3 + 2 * TIME_FEATURES.max + MAX_CLASSES as u64;
    (input * w + w) + (d - 1) * (w * w + w) + (2 * w + 2)
};

/// The largest `model.safetensors` the command line (`--model`) and `python/fmp_model.py`
/// read, in bytes: the [`MAX_PARAMS`] `F32` values of the largest network (7,440,392 bytes)
/// plus 64 KiB for the header (the tensors' names, shapes and offsets and the metadata with
/// its config, about 2 KB). A larger file is no playground network; the readers stop after
/// this many bytes, so a device or a growing file cannot exhaust memory.
pub const MAX_MODEL_BYTES: u64 = 4 * MAX_PARAMS + MAX_CONFIG_BYTES;

/// The largest `config.json` read, in bytes (the config of an export is about 1 KB).
pub const MAX_CONFIG_BYTES: u64 = 65_536;

/// Training has diverged when the mean CFM loss over a run of steps exceeds this (or a loss is
/// not finite): the page's `DIVERGED`. On the stage even the zero field scores a CFM loss
/// below 60, so no model that is learning gets near it.
pub const DIVERGED_LOSS: f64 = 1e4;

/// The command line compares the mean CFM loss of each run of this many steps with
/// [`DIVERGED_LOSS`] (the page compares the mean of each chunk it trains, 1 to 2,000 steps of
/// about 20 ms), and every single loss with infinity.
pub const DIVERGENCE_WINDOW: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    /// `python/fmp_model.py` bounds what it reads by the same numbers (its own copy).
    #[test]
    fn the_python_loader_has_the_same_limits() {
        let py = include_str!("../../python/fmp_model.py");
        for (name, v) in [
            ("MAX_MODEL_BYTES", MAX_MODEL_BYTES),
            ("MAX_CONFIG_BYTES", MAX_CONFIG_BYTES),
            ("MAX_FILE_BYTES", MAX_FILE_BYTES),
            ("MAX_POINTS", POINTS.max),
            ("MAX_STEPS", FLOW_STEPS.max),
            ("MAX_SAMPLES", QUERY_POINTS.max),
        ] {
            let line = format!("\n{name} = {v}\n");
            assert!(py.contains(&line), "fmp_model.py lacks {line:?}");
        }
    }

    #[test]
    fn ranges_are_ordered_and_print_like_the_page() {
        for l in INT_LIMITS {
            assert!(l.min <= l.max, "{l:?}");
            assert!(l.contains(l.min) && l.contains(l.max) && !l.contains(l.max + 1));
        }
        for l in REAL_LIMITS {
            assert!(l.min <= l.max, "{l:?}");
            assert!(l.contains(l.min) && l.contains(l.max) && !l.contains(f64::NAN));
        }
        assert_eq!(WIDTH.to_string(), "4..=512");
        assert_eq!(SEED.to_string(), "0..=2147483647");
        assert_eq!(LR.to_string(), "1e-5..=10");
        assert_eq!(TIME.to_string(), "0..=1");
        assert_eq!(format_number(MAX_COORD), "1e6");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!((MAX_PARAMS, MAX_MODEL_BYTES), (1_860_098, 7_505_928));
        let largest = crate::mlp::MlpConfig {
            width: WIDTH.max as usize,
            depth: DEPTH.max as usize,
            time_features: TIME_FEATURES.max as usize,
            classes: MAX_CLASSES,
        };
        assert_eq!(largest.num_params() as u64, MAX_PARAMS);
        // The page's minimum learning rate arrives in the wasm trainer as f32.
        assert!(LR.contains_f32(1e-5_f32) && LR.contains_f32(10.0));
        assert!(!LR.contains_f32(9e-6) && !LR.contains_f32(f32::INFINITY));
    }
}
