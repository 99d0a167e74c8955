//! Tests of [`super`] (the module's own file holds the code; these check it against
//! closed forms, finite differences and hand-computed steps).

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
