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
mod tests {
    use super::*;
    use crate::rng::{self, seeded};

    #[test]
    fn holdout_split_is_a_deterministic_partition() {
        for (n, share, held) in [(1000, 0.2, 200), (10, 0.25, 3), (7, 0.0, 0), (7, 1.0, 7)] {
            let (train, heldout) = holdout_split(n, share, 5);
            assert_eq!(heldout.len(), held, "{n} {share}");
            assert_eq!(train.len() + heldout.len(), n);
            let mut all: Vec<usize> = train.iter().chain(&heldout).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            assert!(train.windows(2).all(|w| w[0] < w[1]));
            assert!(heldout.windows(2).all(|w| w[0] < w[1]));
            assert_eq!((train, heldout), holdout_split(n, share, 5));
        }
        assert_ne!(holdout_split(100, 0.2, 1), holdout_split(100, 0.2, 2));
        assert_eq!(holdout_split(10, f64::NAN, 1).1.len(), 0);
        assert_eq!(holdout_split(10, 7.0, 1).1.len(), 10);
        assert_eq!(holdout_split(0, 0.5, 1), (vec![], vec![]));
    }

    fn dist(p: Point, q: Point) -> f64 {
        (p[0] - q[0]).hypot(p[1] - q[1])
    }

    fn dist_to_circle(p: Point, c: Point, r: f64) -> f64 {
        (dist(p, c) - r).abs()
    }

    /// Distance from p to an arc of the circle (c, r) between angles a0 < a1 (sampled finely).
    fn dist_to_curve(p: Point, f: impl Fn(f64) -> Point, a0: f64, a1: f64) -> f64 {
        (0..=4000)
            .map(|k| dist(p, f(a0 + (a1 - a0) * k as f64 / 4000.0)))
            .fold(f64::INFINITY, f64::min)
    }

    fn raw(preset: Preset, n: usize, seed: u64) -> Vec<Point> {
        let mut rng = seeded(seed);
        (0..n).map(|i| raw_point(preset, i, &mut rng).0).collect()
    }

    #[test]
    fn names_and_labels() {
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()), Some(p));
            assert!(!p.label().is_empty());
        }
        assert_eq!(Preset::parse("8gaussians"), Some(Preset::EightGaussians));
        assert_eq!(Preset::parse("Moons"), None);
    }

    #[test]
    fn presets_are_standardized_and_deterministic() {
        for p in Preset::ALL {
            let a = sample_preset(p, 1000, &mut seeded(1));
            let b = sample_preset(p, 1000, &mut seeded(1));
            let c = sample_preset(p, 1000, &mut seeded(2));
            assert_eq!(a, b, "{p:?}");
            assert_ne!(a, c, "{p:?}");
            assert_eq!(a.len(), 1000);
            assert!(a.iter().all(|q| q[0].is_finite() && q[1].is_finite()));
            let (m, s) = mean_std(&a);
            for k in 0..2 {
                assert!(
                    m[k].abs() < 1e-12 && (s[k] - 1.0).abs() < 1e-12,
                    "{p:?}: {m:?} {s:?}"
                );
            }
        }
        assert!(sample_preset(Preset::Smiley, 0, &mut seeded(1)).is_empty());
        assert_eq!(
            sample_preset(Preset::Circles, 1, &mut seeded(1)),
            vec![[0.0, 0.0]]
        );
    }

    #[test]
    fn moons_lie_on_two_half_circles() {
        let pts = raw(Preset::TwoMoons, 2000, 3);
        let (mut upper, mut lower) = (0, 0);
        for p in &pts {
            let d_up = dist_to_curve(*p, |t| [t.cos(), t.sin()], 0.0, PI);
            let d_lo = dist_to_curve(*p, |t| [1.0 - t.cos(), 0.5 - t.sin()], 0.0, PI);
            assert!(d_up.min(d_lo) < 5.0 * 0.06, "{p:?}");
            if d_up < d_lo {
                upper += 1
            } else {
                lower += 1
            }
        }
        assert!(upper > 900 && lower > 900, "{upper} {lower}");
    }

    #[test]
    fn circles_have_radii_one_and_half() {
        let pts = raw(Preset::Circles, 2000, 4);
        let outer = pts
            .iter()
            .filter(|p| dist_to_circle(**p, [0.0; 2], 1.0) < 0.2)
            .count();
        let inner = pts
            .iter()
            .filter(|p| dist_to_circle(**p, [0.0; 2], 0.5) < 0.2)
            .count();
        assert_eq!(outer + inner, 2000);
        assert!(outer.abs_diff(inner) < 100, "{outer} {inner}");
    }

    #[test]
    fn eight_gaussians_populate_eight_centres() {
        let pts = raw(Preset::EightGaussians, 4000, 5);
        let mut counts = [0usize; 8];
        for p in &pts {
            let (k, d) = (0..8)
                .map(|k| {
                    let th = k as f64 * PI / 4.0;
                    (k, dist(*p, [th.cos(), th.sin()]))
                })
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            assert!(d < 0.5, "{p:?}");
            counts[k] += 1;
        }
        assert!(counts.iter().all(|&c| c > 400 && c < 600), "{counts:?}");
    }

    #[test]
    fn checkerboard_uses_only_dark_cells() {
        let pts = raw(Preset::Checkerboard, 4000, 6);
        let mut cells = std::collections::HashSet::new();
        for p in &pts {
            assert!(p[0] >= -2.0 && p[0] < 2.0 && p[1] >= -2.0 && p[1] < 2.0);
            let (cx, cy) = (p[0].floor() as i64, p[1].floor() as i64);
            assert_eq!((cx + cy).rem_euclid(2), 0, "{p:?}");
            cells.insert((cx, cy));
        }
        assert_eq!(cells.len(), 8);
    }

    #[test]
    fn spiral_points_lie_on_the_two_arms() {
        let pts = raw(Preset::Spiral, 1000, 7);
        let (lo, hi) = SPIRAL_THETA;
        let mut arms = [0usize; 2];
        for p in &pts {
            let d: Vec<f64> = (0..2)
                .map(|a| dist_to_curve(*p, |t| spiral_point(t, a), lo, hi))
                .collect();
            assert!(d[0].min(d[1]) < 5.0 * 0.025, "{p:?}");
            arms[usize::from(d[1] < d[0])] += 1;
        }
        assert!(arms[0].abs_diff(arms[1]) < 100, "{arms:?}");
    }

    #[test]
    fn smiley_has_face_eyes_and_mouth() {
        let pts = raw(Preset::Smiley, 3000, 8);
        let (c, r, a0, a1) = SMILEY_MOUTH;
        let mut parts = [0usize; 4];
        for p in &pts {
            let d = [
                dist_to_circle(*p, [0.0; 2], 1.0) / 0.03,
                dist(*p, SMILEY_EYES[0]) / 0.06,
                dist(*p, SMILEY_EYES[1]) / 0.06,
                dist_to_curve(*p, |t| [c[0] + r * t.cos(), c[1] + r * t.sin()], a0, a1) / 0.03,
            ];
            let (k, best) =
                (0..4)
                    .map(|k| (k, d[k]))
                    .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            assert!(best < 5.0, "{p:?}");
            parts[k] += 1;
        }
        // 40% face, 10% per eye, 40% mouth
        assert!(parts[0] > 1050 && parts[3] > 1050, "{parts:?}");
        assert!(parts[1] > 220 && parts[2] > 220, "{parts:?}");
    }

    #[test]
    fn standardize_by_hand() {
        assert_eq!(
            standardize(&[[0.0, 0.0], [2.0, 4.0]]),
            vec![[-1.0, -1.0], [1.0, 1.0]]
        );
        assert_eq!(
            standardize(&[[1.0, 5.0], [3.0, 5.0]]),
            vec![[-1.0, 0.0], [1.0, 0.0]]
        );
        assert!(standardize(&[]).is_empty());
    }

    #[test]
    fn fit_to_box_by_hand() {
        // bbox [0, 4] x [10, 12]: centre (2, 11), half extent 2, scale 3 / 2
        let got = fit_to_box(&[[0.0, 10.0], [4.0, 12.0], [1.0, 11.0]], 3.0);
        assert_eq!(got, vec![[-3.0, -1.5], [3.0, 1.5], [-1.5, 0.0]]);
        assert_eq!(
            fit_to_box(&[[5.0, 5.0], [5.0, 5.0]], 2.0),
            vec![[0.0, 0.0]; 2]
        );
        assert!(fit_to_box(&[], 1.0).is_empty());
    }

    #[test]
    fn csv_accepts_header_whitespace_blank_lines_and_crlf() {
        let text = "\u{feff}\r\n  x , y \r\n1,2\r\n\r\n -0.5 ,\t3e2 \r\n4.25,-1";
        assert_eq!(
            parse_points_csv(text),
            Ok(vec![[1.0, 2.0], [-0.5, 300.0], [4.25, -1.0]])
        );
        assert_eq!(
            parse_points_csv("1,2\n3,4\n"),
            Ok(vec![[1.0, 2.0], [3.0, 4.0]])
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_points_csv("x,y\n1,2\nx,y\n").expect_err("second header");
        assert_eq!((e.line, e.to_string().starts_with("line 3: ")), (3, true));
        let e = parse_points_csv("1,2\n\n3,nan\n").expect_err("nan");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("finite"));
        let e = parse_points_csv("1,2\n3,inf\n").expect_err("inf");
        assert_eq!(e.line, 2);
        let e = parse_points_csv("1,2,3\n").expect_err("three fields");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("3 fields"));
        let e = parse_points_csv("1,2\n4\n").expect_err("one field");
        assert_eq!(e.line, 2);
        let e = parse_points_csv("1,2\n4,abc\n").expect_err("not a number");
        assert_eq!(
            e,
            CsvError {
                line: 2,
                message: "'abc' is not a number".into()
            }
        );
        let e = parse_points_csv("x,2\n").expect_err("half a header");
        assert_eq!(e.line, 1);
        assert_eq!(parse_points_csv("").expect_err("empty").line, 0);
        assert_eq!(
            parse_points_csv("x,y\n\n")
                .expect_err("header only")
                .to_string(),
            "no points found"
        );
    }

    #[test]
    fn csv_limits_coordinates_and_cuts_long_fields() {
        assert_eq!(
            parse_points_csv("1,-1e6\n1e6,0\n"),
            Ok(vec![[1.0, -1e6], [1e6, 0.0]])
        );
        let e = parse_points_csv("x,y\n1,2\n-1000000.5,0\n").expect_err("beyond");
        assert_eq!(e.line, 3);
        assert_eq!(
            e.message,
            "'-1000000.5' is beyond +-1e6, the largest coordinate allowed"
        );
        let e = parse_points_csv(&format!("1,{}\n", "9".repeat(400))).expect_err("huge");
        assert!(
            e.message.starts_with(&format!("'{}...'", "9".repeat(40))),
            "{e}"
        );
        let e = parse_points_csv("1,2\x0b3\n").expect_err("control character");
        assert_eq!(e.message, "'2\\u{b}3' is not a number");
    }

    #[test]
    fn decode_utf8_names_the_line_and_column() {
        assert_eq!(decode_utf8(b"1,2\n3,4"), Ok("1,2\n3,4"));
        let e = decode_utf8(b"x,y\n1,2\n\n3,\xff4\n").expect_err("0xff");
        assert_eq!(e.line, 4);
        assert_eq!(
            e.to_string(),
            "line 4: not valid UTF-8 (byte 0xff at column 3); save the file as UTF-8"
        );
        // A truncated multi-byte character at the very end.
        assert_eq!(decode_utf8(b"1,2\n\xc3").expect_err("cut").line, 2);
        assert_eq!(decode_utf8(b"\xe9").expect_err("first byte").line, 1);
    }

    #[test]
    fn fit_to_box_is_finite_at_the_ends_of_f64() {
        let got = fit_to_box(&[[f64::MAX, -f64::MAX], [-f64::MAX, f64::MAX]], 2.0);
        assert_eq!(got, vec![[2.0, -2.0], [-2.0, 2.0]]);
        let got = fit_to_box(&[[1e-320, 0.0], [0.0, 0.0]], 1.0);
        assert!(
            got.iter()
                .flatten()
                .all(|v| v.is_finite() && v.abs() <= 1.0),
            "{got:?}"
        );
    }

    #[test]
    fn fit_to_stage_rescales_only_beyond_the_stage() {
        let inside = vec![[3.3, -3.3], [0.0, 1.0]];
        assert_eq!(fit_to_stage(inside.clone()), (inside, false));
        let (got, rescaled) = fit_to_stage(vec![[3.4, 0.0], [-3.4, 1.0]]);
        assert!(rescaled);
        assert_eq!(
            got,
            vec![
                [RESCALE_TO, -0.5 * RESCALE_TO / 3.4],
                [-RESCALE_TO, 0.5 * RESCALE_TO / 3.4]
            ]
        );
    }

    #[test]
    fn csv_roundtrip_is_exact() {
        let pts = sample_preset(Preset::Spiral, 300, &mut seeded(9));
        let text = points_to_csv(&pts);
        assert!(text.starts_with("x,y\n"));
        assert_eq!(parse_points_csv(&text), Ok(pts));
    }

    #[test]
    fn labelled_csv_round_trips_and_reads_the_unlabelled_format() {
        let pts = vec![[0.5, -1.25], [1e-3, 2.0], [-0.1, 0.2]];
        let labels = vec![2, 4, 1];
        let text = labelled_to_csv(&pts, &labels);
        assert!(text.starts_with("x,y,label\n"));
        assert_eq!(parse_labelled_csv(&text), Ok((pts.clone(), Some(labels))));
        // Two columns: class 1; a mix of both is fine; no label at all: unlabelled.
        assert_eq!(
            parse_labelled_csv("x,y\n0.5,-1.25\n0.001,2,3\n"),
            Ok((pts[..2].to_vec(), Some(vec![1, 3])))
        );
        assert_eq!(
            parse_labelled_csv("x,y\n0.5,-1.25\n"),
            Ok((pts[..1].to_vec(), None))
        );
        // The plain parser still refuses a third column.
        assert!(parse_points_csv("1,2,3\n").is_err());
    }

    #[test]
    fn a_bad_label_names_its_line() {
        for (text, want) in [
            (
                "1,2,1\n3,4,5\n",
                "line 2: label '5' must be an integer in 1..=4",
            ),
            ("1,2,0\n", "line 1: label '0' must be an integer in 1..=4"),
            ("1,2,x\n", "line 1: label 'x' must be an integer in 1..=4"),
            (
                "1,2,1.5\n",
                "line 1: label '1.5' must be an integer in 1..=4",
            ),
            (
                "1,2,3,4\n",
                "line 1: expected 2 (x,y) or 3 (x,y,label) comma-separated numbers, found 4 fields",
            ),
        ] {
            assert_eq!(
                parse_labelled_csv(text).map_err(|e| e.to_string()),
                Err(want.to_string()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn presets_label_their_parts() {
        let count = |labels: &[u8], y: u8| labels.iter().filter(|&&l| l == y).count();
        let (pts, labels) = sample_preset_labelled(Preset::TwoMoons, 400, &mut rng::seeded(1));
        assert_eq!((count(&labels, 1), count(&labels, 2)), (200, 200));
        // The same points as the unlabelled sampler.
        assert_eq!(
            pts,
            sample_preset(Preset::TwoMoons, 400, &mut rng::seeded(1))
        );
        // Moon 1 is the upper half circle: its mean y is above moon 2's.
        let mean_y = |y: u8| {
            pts.iter()
                .zip(&labels)
                .filter(|(_, &l)| l == y)
                .map(|(p, _)| p[1])
                .sum::<f64>()
                / 200.0
        };
        assert!(mean_y(1) > mean_y(2) + 0.5);
        let (_, labels) = sample_preset_labelled(Preset::EightGaussians, 800, &mut rng::seeded(2));
        assert!(
            (1..=4).all(|y| count(&labels, y) > 150),
            "8 Gaussians: 4 classes"
        );
        let (_, labels) = sample_preset_labelled(Preset::Smiley, 800, &mut rng::seeded(3));
        assert!((1..=4).all(|y| count(&labels, y) > 50), "smiley: 4 parts");
        for preset in Preset::ALL {
            let (_, labels) = sample_preset_labelled(preset, 300, &mut rng::seeded(4));
            assert!(labels.iter().all(|&y| (1..=MAX_CLASSES as u8).contains(&y)));
            assert!(count(&labels, 1) > 0 && count(&labels, 2) > 0, "{preset:?}");
        }
    }
}
