//! Property tests (proptest): the CSV reader never panics and names a line in every error,
//! CSV export reads back exactly, the stage fit stays finite and inside its box, and the
//! trainer gives finite losses for every network shape the page and the command line allow.
//! (The command line's argument parser has its own in `cli`'s unit tests.) Native only.
#![cfg(not(target_arch = "wasm32"))]

use fmp::data::{self, CsvError};
use fmp::limits;
use fmp::mlp::MlpConfig;
use fmp::path::Schedule;
use fmp::trainer::{TrainConfig, Trainer};
use proptest::prelude::*;

/// Text that looks like CSV often enough to reach every branch: numbers (small, huge,
/// non-finite, malformed), separators, headers, blank lines, `\r\n`, a byte-order mark.
fn csvish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => (-5.0f64..5.0).prop_map(|v| v.to_string()),
        2 => any::<f64>().prop_map(|v| v.to_string()),
        1 => any::<f32>().prop_map(|v| v.to_string()),
        3 => Just(",".to_string()),
        3 => Just("\n".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just(" ".to_string()),
        1 => proptest::sample::select(vec![
            "x", "y", "nan", "inf", "-inf", "1e300", "-1e6", "1000000.5", "\u{feff}", "\t",
            "1e", "--1", ".", "\r",
        ])
        .prop_map(String::from),
        1 => ".{0,4}",
    ];
    proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

/// What every error must look like for `text`: a line of the text (1-based) with a one-line
/// message, or the whole input (line 0) when no line holds a point.
fn check_error(text: &str, e: &CsvError) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert!(!shown.contains('\n') && !shown.is_empty(), "{:?}", shown);
    if e.line == 0 {
        prop_assert_eq!(shown.as_str(), "no points found");
    } else {
        // `str::lines` numbering; a final line without a newline counts.
        prop_assert!(e.line <= text.lines().count(), "{:?} in {:?}", e, text);
        let prefix = format!("line {}: ", e.line);
        prop_assert!(shown.starts_with(&prefix), "{}", shown);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text parses to finite points within the coordinate limit, or fails naming a line.
    #[test]
    fn csv_parses_or_names_a_line(text in prop_oneof![csvish(), any::<String>()]) {
        match data::parse_points_csv(&text) {
            Ok(points) => {
                prop_assert!(!points.is_empty());
                for v in points.iter().flatten() {
                    prop_assert!(v.is_finite() && v.abs() <= limits::MAX_COORD, "{}", v);
                }
            }
            Err(e) => check_error(&text, &e)?,
        }
    }

    /// Any bytes decode, or fail at the line holding the first byte that is not UTF-8: all
    /// earlier lines are valid, that one is not.
    #[test]
    fn utf8_errors_name_the_line_of_the_first_bad_byte(
        bytes in proptest::collection::vec(
            prop_oneof![4 => b'0'..=b'9', 1 => Just(b'\n'), 1 => Just(b','), 1 => any::<u8>()],
            0..60,
        )
    ) {
        match data::decode_utf8(&bytes) {
            Ok(text) => prop_assert_eq!(text.as_bytes(), &bytes[..]),
            Err(e) => {
                prop_assert!(std::str::from_utf8(&bytes).is_err());
                let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
                prop_assert!(e.line >= 1 && e.line <= lines.len(), "{:?}", e);
                for ok in &lines[..e.line - 1] {
                    prop_assert!(std::str::from_utf8(ok).is_ok());
                }
                prop_assert!(std::str::from_utf8(lines[e.line - 1]).is_err());
                prop_assert!(!e.to_string().contains('\n'));
            }
        }
    }

    /// Export then import is the identity on finite points within the coordinate limit (f32
    /// values, as the page holds them, and any f64 in range).
    #[test]
    fn csv_roundtrip_is_exact(
        points in proptest::collection::vec(
            prop_oneof![
                (any::<f32>(), any::<f32>()).prop_map(|(x, y)| [f64::from(x), f64::from(y)]),
                (-1e6f64..=1e6, -1e6f64..=1e6).prop_map(|(x, y)| [x, y]),
                (-4.0f64..4.0, -4.0f64..4.0).prop_map(|(x, y)| [x, y]),
            ]
            .prop_filter("finite, within the limit", |p| {
                p.iter().all(|v| v.is_finite() && v.abs() <= limits::MAX_COORD)
            }),
            1..50,
        )
    ) {
        let text = data::points_to_csv(&points);
        prop_assert_eq!(data::parse_points_csv(&text), Ok(points));
    }

    /// The stage fit: finite, inside the box, and a no-op on clouds already inside the stage.
    #[test]
    fn fit_to_stage_is_finite_and_inside(
        points in proptest::collection::vec(
            (-1e300f64..1e300, -1e300f64..1e300).prop_map(|(x, y)| [x, y]),
            1..30,
        ),
        scale in prop_oneof![Just(1.0), Just(1e-300), Just(1e-6), Just(1e-299)],
    ) {
        let points: Vec<[f64; 2]> = points.iter().map(|p| [p[0] * scale, p[1] * scale]).collect();
        let (fitted, rescaled) = data::fit_to_stage(points.clone());
        prop_assert_eq!(fitted.len(), points.len());
        let reaches_out = points.iter().flatten().any(|v| v.abs() > limits::RESCALE_ABOVE);
        prop_assert_eq!(rescaled, reaches_out);
        if rescaled {
            for v in fitted.iter().flatten() {
                prop_assert!(v.is_finite() && v.abs() <= limits::RESCALE_TO * (1.0 + 1e-12), "{}", v);
            }
        } else {
            prop_assert_eq!(fitted, points);
        }
    }
}

/// A batch size: mostly small, sometimes one of the large ones the page allows.
fn batch() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 1usize..=64,
        1 => proptest::sample::select(vec![256usize, 1024, limits::BATCH.max as usize]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every shape within the limits (width capped at 64 for speed) trains: two plain steps and
    /// one reporting step give finite losses and a cosine in [-1, 1], never a panic.
    #[test]
    fn every_allowed_shape_trains_with_finite_losses(
        batch in batch(),
        width in limits::WIDTH.min as usize..=64,
        depth in limits::DEPTH.min as usize..=limits::DEPTH.max as usize,
        time_features in
            limits::TIME_FEATURES.min as usize..=limits::TIME_FEATURES.max as usize,
        schedule in proptest::sample::select(Schedule::ALL.to_vec()),
        lr in prop_oneof![Just(limits::LR.min), Just(1e-2), 1e-5f64..0.1],
        seed in 0..=limits::SEED.max,
        cloud in proptest::collection::vec(
            (-limits::WORLD..=limits::WORLD, -limits::WORLD..=limits::WORLD).prop_map(|(x, y)| [x, y]),
            1..40,
        ),
    ) {
        let mut config = TrainConfig {
            mlp: MlpConfig { width, depth, time_features, classes: 0 },
            batch,
            schedule,
            seed,
            ..TrainConfig::default()
        };
        config.adam.lr = lr as f32;
        let mut trainer = Trainer::new(config, cloud);
        for _ in 0..2 {
            let loss = trainer.step();
            prop_assert!(loss.is_finite(), "{}", loss);
        }
        let r = trainer.step_reporting();
        prop_assert!(r.cfm_loss.is_finite() && r.fm_loss.is_finite(), "{:?}", r);
        prop_assert!(r.grad_cosine.abs() <= 1.0 + 1e-9, "{:?}", r);
        prop_assert!(trainer.model().params().iter().all(|p| p.is_finite()));
        prop_assert_eq!(trainer.steps_done(), 3);
    }
}
