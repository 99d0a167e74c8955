//! Data sets: six seeded 2D presets, normalization, and CSV import/export.
//!
//! Every preset is a generator with one signature, [`sample_preset`]`(preset, n, rng)`: `n`
//! points drawn from the shape (with a little Gaussian noise, as is usual for these toy sets),
//! then standardized per axis (mean 0, standard deviation 1), so all presets live
//! on the same scale as `p_init = N(0, I)`. Raw shapes, before standardization:
//! - two moons: upper unit half circle and the lower one shifted by `(1, 0.5)`, noise 0.06;
//! - circles: concentric circles of radius 1 and 0.5, noise 0.04;
//! - 8 Gaussians: centres on the unit circle at angles `k pi / 4`, standard deviation 0.1;
//! - checkerboard: uniform on the 8 dark cells of a 4 x 4 board on `[-2, 2]^2`;
//! - spiral: two arms `r = theta / (3 pi)`, `theta in [0.5, 3 pi]` (the second arm rotated by
//!   `pi`), roughly uniform along the arc, noise 0.025;
//! - smiley: unit circle face, two eyes (blobs at `(+-0.35, 0.3)`), a mouth arc of radius 0.55.
//!
//! A drawing or an imported CSV is just another data set: [`fit_to_box`] maps it to model
//! coordinates, and [`fit_to_stage`] applies the page's import rule (a cloud reaching beyond
//! the stage is rescaled into it). CSV: one `x,y` pair per line; blank lines are skipped; an
//! optional header is allowed on the first non-blank line only; fields may carry surrounding
//! whitespace; `\r\n` line endings work; every coordinate must be finite and at most
//! [`MAX_COORD`] in absolute value. Errors carry the 1-based line number, also for bytes that
//! are not UTF-8 ([`decode_utf8`]).
//!
//! Labels (the guidance lesson): every point may carry a class `y` in `1..=`[`MAX_CLASSES`].
//! Each preset labels its parts ([`sample_preset_labelled`]): moons and spiral by arm, circles
//! outer 1 / inner 2, 8 Gaussians by adjacent pairs (4 classes), checkerboard by the column
//! parity of its cell, smiley face 1, left eye 2, right eye 3, mouth 4. A CSV may add a third
//! column, the label ([`parse_labelled_csv`]); a line without one is class 1, so the unlabelled
//! format still reads.

use crate::limits::{format_number, MAX_COORD, RESCALE_ABOVE, RESCALE_TO};
use crate::rng::{index, normal_pair, uniform, SeededRng};
use crate::Point;
use std::f64::consts::{PI, TAU};
use std::fmt;

/// The built-in data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Two interleaved half circles.
    TwoMoons,
    /// Two concentric circles.
    Circles,
    /// Eight Gaussian blobs on a circle.
    EightGaussians,
    /// Uniform on the dark cells of a 4 x 4 checkerboard.
    Checkerboard,
    /// A two-armed spiral.
    Spiral,
    /// A smiley face.
    Smiley,
}

impl Preset {
    /// All presets, in UI order.
    pub const ALL: [Preset; 6] = [
        Preset::TwoMoons,
        Preset::Circles,
        Preset::EightGaussians,
        Preset::Checkerboard,
        Preset::Spiral,
        Preset::Smiley,
    ];

    /// Short stable name (URL and API): `"moons"`, `"circles"`, `"8gaussians"`, `"checkerboard"`,
    /// `"spiral"`, `"smiley"`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::TwoMoons => "moons",
            Preset::Circles => "circles",
            Preset::EightGaussians => "8gaussians",
            Preset::Checkerboard => "checkerboard",
            Preset::Spiral => "spiral",
            Preset::Smiley => "smiley",
        }
    }

    /// Inverse of [`Preset::name`].
    pub fn parse(s: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Human-readable label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Preset::TwoMoons => "Two moons",
            Preset::Circles => "Circles",
            Preset::EightGaussians => "8 Gaussians",
            Preset::Checkerboard => "Checkerboard",
            Preset::Spiral => "Spiral",
            Preset::Smiley => "Smiley",
        }
    }
}

fn noisy(p: Point, sigma: f64, rng: &mut SeededRng) -> Point {
    let e = normal_pair(rng);
    [p[0] + sigma * e[0], p[1] + sigma * e[1]]
}

/// Spiral arm `arm` (0 or 1) at angle `theta`: `r = theta / (3 pi)`, arm 1 rotated by `pi`.
fn spiral_point(theta: f64, arm: usize) -> Point {
    let r = theta / (3.0 * PI);
    let s = if arm == 0 { 1.0 } else { -1.0 };
    [s * r * theta.cos(), s * r * theta.sin()]
}

const SPIRAL_THETA: (f64, f64) = (0.5, 3.0 * PI);
const SMILEY_EYES: [Point; 2] = [[-0.35, 0.3], [0.35, 0.3]];
/// Mouth arc: centre, radius, angle range (the lower part of a circle).
const SMILEY_MOUTH: (Point, f64, f64, f64) = ([0.0, 0.05], 0.55, 1.15 * PI, 1.85 * PI);

/// One raw (unstandardized) point of `preset`; `i` alternates between the parts of two-part
/// shapes so they get equal shares.
/// Point `i` of `preset` before standardization, and its label (see the module docs).
fn raw_point(preset: Preset, i: usize, rng: &mut SeededRng) -> (Point, u8) {
    match preset {
        Preset::TwoMoons => {
            let th = PI * uniform(rng);
            let p = if i % 2 == 0 {
                [th.cos(), th.sin()]
            } else {
                [1.0 - th.cos(), 0.5 - th.sin()]
            };
            (noisy(p, 0.06, rng), 1 + (i % 2) as u8)
        }
        Preset::Circles => {
            let th = TAU * uniform(rng);
            let r = if i % 2 == 0 { 1.0 } else { 0.5 };
            (
                noisy([r * th.cos(), r * th.sin()], 0.04, rng),
                1 + (i % 2) as u8,
            )
        }
        Preset::EightGaussians => {
            let k = index(rng, 8);
            let th = (k as f64) * PI / 4.0;
            (noisy([th.cos(), th.sin()], 0.1, rng), 1 + (k / 2) as u8)
        }
        Preset::Checkerboard => {
            let c = index(rng, 8);
            let row = c / 2;
            let col = 2 * (c % 2) + row % 2;
            let p = [
                col as f64 - 2.0 + uniform(rng),
                row as f64 - 2.0 + uniform(rng),
            ];
            (p, 1 + (col % 2) as u8)
        }
        Preset::Spiral => {
            // arc length grows like theta^2: sqrt of a uniform spreads points evenly along it
            let (lo, hi) = SPIRAL_THETA;
            let th = (lo * lo + (hi * hi - lo * lo) * uniform(rng)).sqrt();
            (
                noisy(spiral_point(th, i % 2), 0.025, rng),
                1 + (i % 2) as u8,
            )
        }
        Preset::Smiley => {
            let u = uniform(rng);
            if u < 0.4 {
                let th = TAU * uniform(rng);
                (noisy([th.cos(), th.sin()], 0.03, rng), 1)
            } else if u < 0.6 {
                let right = u >= 0.5;
                let eye = SMILEY_EYES[usize::from(right)];
                (noisy(eye, 0.06, rng), 2 + u8::from(right))
            } else {
                let (c, r, a0, a1) = SMILEY_MOUTH;
                let th = a0 + (a1 - a0) * uniform(rng);
                (
                    noisy([c[0] + r * th.cos(), c[1] + r * th.sin()], 0.03, rng),
                    4,
                )
            }
        }
    }
}

/// `n` points of `preset`, standardized per axis (mean 0, standard deviation 1). The same
/// generator state gives the same points.
pub fn sample_preset(preset: Preset, n: usize, rng: &mut SeededRng) -> Vec<Point> {
    sample_preset_labelled(preset, n, rng).0
}

/// [`sample_preset`] with each point's label (the same points for the same generator state).
pub fn sample_preset_labelled(
    preset: Preset,
    n: usize,
    rng: &mut SeededRng,
) -> (Vec<Point>, Vec<u8>) {
    let (raw, labels): (Vec<Point>, Vec<u8>) = (0..n).map(|i| raw_point(preset, i, rng)).unzip();
    (standardize(&raw), labels)
}

/// The most classes a labelled drawing has: defined with the other limits
/// ([`crate::limits::MAX_CLASSES`]), named here too because the labels are data's.
pub use crate::limits::MAX_CLASSES;

/// Per-axis mean and (population) standard deviation.
fn mean_std(points: &[Point]) -> (Point, Point) {
    let n = points.len().max(1) as f64;
    let mut m = [0.0; 2];
    for p in points {
        m[0] += p[0] / n;
        m[1] += p[1] / n;
    }
    let mut v = [0.0; 2];
    for p in points {
        v[0] += (p[0] - m[0]).powi(2) / n;
        v[1] += (p[1] - m[1]).powi(2) / n;
    }
    (m, [v[0].sqrt(), v[1].sqrt()])
}

/// Shifts and scales each axis to mean 0 and standard deviation 1 (an axis with no spread is
/// only centred).
fn standardize(points: &[Point]) -> Vec<Point> {
    let (m, s) = mean_std(points);
    let inv = s.map(|s| if s > 1e-12 { 1.0 / s } else { 1.0 });
    points
        .iter()
        .map(|p| [(p[0] - m[0]) * inv[0], (p[1] - m[1]) * inv[1]])
        .collect()
}

/// Centres the bounding box of `points` on the origin and scales both axes by one factor so the
/// cloud just fits `[-half_width, half_width]^2` (a single point, or all points equal, maps to
/// the origin). Finite points give finite results, however large (halves are taken before
/// sums and differences, so nothing overflows).
pub fn fit_to_box(points: &[Point], half_width: f64) -> Vec<Point> {
    if points.is_empty() {
        return Vec::new();
    }
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in points {
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let c = [0.5 * lo[0] + 0.5 * hi[0], 0.5 * lo[1] + 0.5 * hi[1]];
    let half_extent = (0.5 * hi[0] - 0.5 * lo[0]).max(0.5 * hi[1] - 0.5 * lo[1]);
    if half_extent <= 0.0 {
        return vec![[0.0; 2]; points.len()];
    }
    // (p - c) / 2 lies within half_extent / 2: the quotient is in [-1/2, 1/2].
    let to_box = |v: f64, c: f64| (0.5 * v - 0.5 * c) / half_extent * (2.0 * half_width);
    points
        .iter()
        .map(|p| [to_box(p[0], c[0]), to_box(p[1], c[1])])
        .collect()
}

/// The page's CSV import rule: a cloud with any coordinate beyond
/// [`RESCALE_ABOVE`] (`0.95` of the stage's half-width) is
/// fitted into [`RESCALE_TO`] (`0.85` of it) with [`fit_to_box`];
/// any other cloud is kept as it is. Returns the cloud and whether it was rescaled.
pub fn fit_to_stage(points: Vec<Point>) -> (Vec<Point>, bool) {
    if points.iter().flatten().any(|v| v.abs() > RESCALE_ABOVE) {
        (fit_to_box(&points, RESCALE_TO), true)
    } else {
        (points, false)
    }
}

/// A CSV parse error at a 1-based line (`line == 0`: the input as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based line number, or 0 for the whole input.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for CsvError {}

/// A field as error messages show it: quoted, control characters escaped, at most 40
/// characters (a message stays one short line whatever the file holds).
fn quoted(field: &str) -> String {
    const MAX: usize = 40;
    let escaped: String = field.chars().flat_map(char::escape_debug).collect();
    match escaped.char_indices().nth(MAX) {
        Some((cut, _)) => format!("'{}...'", &escaped[..cut]),
        None => format!("'{escaped}'"),
    }
}

/// The text of a file's bytes, or an error at the 1-based line holding the first byte that is
/// not UTF-8 (with its column, 1-based, in bytes).
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, CsvError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        CsvError {
            line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
            message: format!(
                "not valid UTF-8 (byte 0x{:02x} at column {}); save the file as UTF-8",
                bytes[e.valid_up_to()],
                e.valid_up_to() - line_start + 1
            ),
        }
    })
}

/// Parses `x,y` lines into points (see the module docs for the accepted format). Never
/// panics: every error names its line, except "no points found" (line 0, the whole input).
pub fn parse_points_csv(text: &str) -> Result<Vec<Point>, CsvError> {
    parse_rows(text, false).map(|(points, _)| points)
}

/// Parses `x,y` or `x,y,label` lines (a label is an integer in `1..=`[`MAX_CLASSES`]; a line
/// without one is class 1). The labels are `None` when no line has one (the unlabelled
/// format). Errors as [`parse_points_csv`]'s, and a bad label names its line.
pub fn parse_labelled_csv(text: &str) -> Result<(Vec<Point>, Option<Vec<u8>>), CsvError> {
    let labelled = text.lines().any(|l| l.split(',').count() == 3);
    parse_rows(text, true).map(|(points, labels)| (points, labelled.then_some(labels)))
}

/// The parser of both: `labelled` allows the third column.
fn parse_rows(text: &str, labelled: bool) -> Result<(Vec<Point>, Vec<u8>), CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut points = Vec::new();
    let mut labels = Vec::new();
    let mut seen_content = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let first = !seen_content;
        seen_content = true;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let err = |message: String| CsvError {
            line: line_no,
            message,
        };
        if first && fields.iter().all(|f| f.parse::<f64>().is_err()) {
            continue; // header
        }
        if fields.len() != 2 && !(labelled && fields.len() == 3) {
            return Err(err(format!(
                "expected {} comma-separated numbers, found {} fields",
                if labelled {
                    "2 (x,y) or 3 (x,y,label)"
                } else {
                    "2"
                },
                fields.len()
            )));
        }
        let label = match fields.get(2) {
            None => 1,
            Some(f) => match f.parse::<u8>() {
                Ok(y) if (1..=MAX_CLASSES as u8).contains(&y) => y,
                _ => {
                    return Err(err(format!(
                        "label {} must be an integer in 1..={MAX_CLASSES}",
                        quoted(f)
                    )))
                }
            },
        };
        let mut p = [0.0; 2];
        for (k, f) in fields.iter().take(2).enumerate() {
            let v: f64 = f
                .parse()
                .map_err(|_| err(format!("{} is not a number", quoted(f))))?;
            if !v.is_finite() {
                return Err(err(format!("{} is not a finite number", quoted(f))));
            }
            if v.abs() > MAX_COORD {
                return Err(err(format!(
                    "{} is beyond +-{}, the largest coordinate allowed",
                    quoted(f),
                    format_number(MAX_COORD)
                )));
            }
            p[k] = v;
        }
        points.push(p);
        labels.push(label);
    }
    if points.is_empty() {
        return Err(CsvError {
            line: 0,
            message: "no points found".to_string(),
        });
    }
    Ok((points, labels))
}

/// Writes labelled points as CSV with an `x,y,label` header (round trip with
/// [`parse_labelled_csv`]); `labels` shorter than `points` leave the rest class 1.
pub fn labelled_to_csv(points: &[Point], labels: &[u8]) -> String {
    let mut s = String::with_capacity(16 + 26 * points.len());
    s.push_str("x,y,label\n");
    for (i, p) in points.iter().enumerate() {
        s.push_str(&format!(
            "{},{},{}\n",
            p[0],
            p[1],
            labels.get(i).copied().unwrap_or(1)
        ));
    }
    s
}

/// Writes points as CSV with an `x,y` header; values in shortest round-trip form, so
/// [`parse_points_csv`] reads back exactly the same points.
pub fn points_to_csv(points: &[Point]) -> String {
    let mut s = String::with_capacity(16 + 24 * points.len());
    s.push_str("x,y\n");
    for p in points {
        s.push_str(&format!("{},{}\n", p[0], p[1]));
    }
    s
}

/// Splits `0..n` into training and held-out indices, `(train, heldout)`, both increasing:
/// `round(share n)` indices are held out (`share` clamped to `[0, 1]`, NaN as 0), drawn
/// uniformly without replacement by a partial Fisher-Yates shuffle seeded with `seed`, so the
/// same `(n, share, seed)` always gives the same split.
pub fn holdout_split(n: usize, share: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let share = if share.is_nan() {
        0.0
    } else {
        share.clamp(0.0, 1.0)
    };
    let k = ((share * n as f64).round() as usize).min(n);
    let mut rng = crate::rng::seeded(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + index(&mut rng, n - i);
        idx.swap(i, j);
    }
    let mut heldout = idx[..k].to_vec();
    let mut train = idx[k..].to_vec();
    heldout.sort_unstable();
    train.sort_unstable();
    (train, heldout)
}

#[cfg(test)]
mod tests;
