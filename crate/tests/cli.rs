//! The command line (`fmp::cli::run`, which the `fmp` example wraps): output formats, error
//! lines and exit codes. Native only, like the command line itself.
#![cfg(not(target_arch = "wasm32"))]

use fmp::cli::run;
use fmp::marginal::EmpiricalMarginal;
use fmp::ode::{time_grid, Integrator, MarginalField, Solver};
use fmp::path::{GaussianPath, Schedule};

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// A file in the temp directory, unique to this test process and `name`.
fn temp_file(name: &str, contents: &str) -> String {
    let path = std::env::temp_dir().join(format!("fmp-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("write temp file");
    path.to_string_lossy().into_owned()
}

/// The value of `"key":` in a flat JSON object line, as raw text.
fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[test]
fn train_prints_one_json_line_with_the_keys() {
    let samples = temp_file("samples.csv", "");
    let out = run(&args(&format!(
        "train --preset circles --points 300 --steps 60 --width 16 --batch 64 --ode-steps 10 --solver midpoint --samples {samples} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    let line = lines[0];
    assert!(line.starts_with('{') && line.ends_with('}'));
    for key in [
        "steps",
        "steps_per_s",
        "cfm_loss",
        "fm_loss",
        "energy_distance",
        "w2",
        "eval_points",
        "data_subsampled",
    ] {
        let v = json_field(line, key).unwrap_or_else(|| panic!("missing {key} in {line}"));
        assert!(!v.is_empty() && v != "null", "{key} = {v}");
    }
    assert_eq!(json_field(line, "steps"), Some("60"));
    assert_eq!(json_field(line, "eval_points"), Some("300"));
    assert_eq!(json_field(line, "data_subsampled"), Some("false"));
    assert_eq!(json_field(line, "data"), Some("\"circles\""));
    let cfm: f64 = json_field(line, "cfm_loss")
        .and_then(|v| v.parse().ok())
        .expect("cfm");
    let fm: f64 = json_field(line, "fm_loss")
        .and_then(|v| v.parse().ok())
        .expect("fm");
    assert!(cfm > fm && fm > 0.0, "{cfm} {fm}");
    // The samples file holds one point per evaluation point.
    let text = std::fs::read_to_string(&samples).expect("samples written");
    let points = fmp::data::parse_points_csv(&text).expect("valid CSV");
    assert_eq!(points.len(), 300);
}

#[test]
fn malformed_csv_gives_exit_2_naming_file_and_line() {
    let file = temp_file("bad.csv", "x,y\n0.5,1.0\n0.25,oops\n");
    let out = run(&args(&format!("train --data {file} --steps 5")));
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains(&file), "{}", out.stderr);
    assert!(out.stderr.contains("line 3"), "{}", out.stderr);

    let nonfinite = temp_file("nan.csv", "1,2\n3,inf\n");
    let out = run(&args(&format!(
        "field --data {nonfinite} --t 0.5 --at {nonfinite}"
    )));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);

    let empty = temp_file("empty.csv", "x,y\n\n");
    let out = run(&args(&format!("train --data {empty}")));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains(&empty), "{}", out.stderr);
    assert!(out.stderr.contains("no points"), "{}", out.stderr);

    for bad in [
        "train --bogus 1",
        "train --steps many",
        "train --steps",
        "train --schedule quadratic",
        "train --preset nothing",
        "field --t 0.5",
        "launch",
        "",
    ] {
        let out = run(&args(bad));
        assert_eq!(out.code, 2, "{bad}");
        assert_eq!(out.stderr.lines().count(), 1, "{bad}: {}", out.stderr);
        assert!(out.stderr.starts_with("error: "), "{bad}");
    }
}

#[test]
fn field_output_matches_the_exact_marginal() {
    let data = [[0.0, 0.0], [1.0, -0.5], [-0.3, 0.8]];
    let queries = [[0.1, 0.2], [-1.0, 0.4], [2.0, 2.0]];
    let to_csv = |p: &[[f64; 2]]| fmp::data::points_to_csv(p);
    let data_file = temp_file("data.csv", &to_csv(&data));
    let at_file = temp_file("at.csv", &to_csv(&queries));
    for (schedule, t) in [
        (Schedule::Linear, 0.3),
        (Schedule::Cosine, 0.9),
        (Schedule::Sqrt, 0.0),
    ] {
        let out = run(&args(&format!(
            "field --data {data_file} --t {t} --at {at_file} --schedule {}",
            schedule.name()
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let mut lines = out.stdout.lines();
        assert_eq!(
            lines.next(),
            Some("x,y,u_x,u_y,score_x,score_y,log_density,divergence,t_used")
        );
        let marginal = EmpiricalMarginal::new(data.to_vec(), GaussianPath::new(schedule));
        let mut rows = 0;
        for (line, q) in lines.zip(&queries) {
            let v: Vec<f64> = line
                .split(',')
                .map(|s| s.parse().expect("number"))
                .collect();
            let e = marginal.eval(*q, t);
            let expected = [
                q[0],
                q[1],
                e.u[0],
                e.u[1],
                e.score[0],
                e.score[1],
                e.log_density,
                e.divergence,
                t,
            ];
            for (got, want) in v.iter().zip(expected) {
                assert!((got - want).abs() <= 1e-12 * (1.0 + want.abs()), "{line}");
            }
            rows += 1;
        }
        assert_eq!(rows, queries.len());
        assert_eq!(out.stderr, "", "no note below the clamp");
    }
}

#[test]
fn field_at_t_1_says_it_is_the_clamp() {
    let data = [[0.0, 0.0], [1.0, -0.5], [-0.3, 0.8]];
    let data_file = temp_file("clamp-data.csv", &fmp::data::points_to_csv(&data));
    for schedule in Schedule::ALL {
        let t_max = schedule.t_max();
        let out = run(&args(&format!(
            "field --data {data_file} --t 1 --at {data_file} --schedule {}",
            schedule.name()
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!("note: t = 1 is evaluated at the clamp t = {t_max} (beta = 0.001)\n")
        );
        let marginal = EmpiricalMarginal::new(data.to_vec(), GaussianPath::new(schedule));
        for (line, z) in out.stdout.lines().skip(1).zip(&data) {
            let v: Vec<f64> = line
                .split(',')
                .map(|s| s.parse().expect("number"))
                .collect();
            assert_eq!(v[8], t_max, "{line}");
            // the field of the clamp, finite, and at a data point the posterior is one-hot
            let e = marginal.eval(*z, t_max);
            assert!(v.iter().all(|x| x.is_finite()), "{line}");
            assert!(
                (v[2] - e.u[0]).abs() <= 1e-12 * (1.0 + e.u[0].abs()),
                "{line}"
            );
        }
    }
}

#[test]
fn train_subsamples_a_large_cloud_for_the_metrics_and_says_so() {
    let out = run(&args(
        "train --points 2100 --steps 25 --width 8 --batch 16 --ode-steps 2 --lr 0.005",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim_end();
    assert_eq!(json_field(line, "data_points"), Some("2100"));
    assert_eq!(json_field(line, "eval_points"), Some("2048"));
    assert_eq!(json_field(line, "data_subsampled"), Some("true"));
    assert_eq!(json_field(line, "lr"), Some("0.005"));
}

/// The one-line error of `line`, after asserting exit code 2, an empty stdout and one line.
fn usage_error(line: &[String]) -> String {
    let out = run(line);
    assert_eq!(out.code, 2, "{line:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{line:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{line:?}: {}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{line:?}");
    out.stderr.trim_end().to_string()
}

/// `command flag value` plus what `field` requires (unless `flag` is one of those), then a
/// sentinel flag that is always out of range: a line whose first error is the sentinel's
/// proves that `flag value` passed.
fn with_sentinel(command: &str, flag: &str, value: &str) -> (Vec<String>, &'static str) {
    let mut line = vec![command.to_string(), flag.to_string(), value.to_string()];
    if command == "field" {
        for (f, v) in [("--data", "d.csv"), ("--at", "q.csv"), ("--t", "0.5")] {
            if f != flag {
                line.extend([f.to_string(), v.to_string()]);
            }
        }
    }
    let sentinel = match (command, flag) {
        ("field", _) => "--schedule",
        (_, "--width") => "--depth",
        _ => "--width",
    };
    line.extend([sentinel.to_string(), "0".to_string()]);
    (line, sentinel)
}

#[test]
fn every_flag_takes_its_bounds_and_refuses_anything_else_with_one_line() {
    use fmp::limits::{self, IntLimit, RealLimit};
    let ints: [(&str, &str, IntLimit); 8] = [
        ("train", "--points", limits::POINTS),
        ("train", "--steps", limits::TRAIN_STEPS),
        ("train", "--seed", limits::SEED),
        ("train", "--width", limits::WIDTH),
        ("train", "--depth", limits::DEPTH),
        ("train", "--time-features", limits::TIME_FEATURES),
        ("train", "--batch", limits::BATCH),
        ("train", "--ode-steps", limits::ODE_STEPS),
    ];
    for (command, flag, limit) in ints {
        for inside in [limit.min, limit.max] {
            let (line, sentinel) = with_sentinel(command, flag, &inside.to_string());
            let err = usage_error(&line);
            assert!(err.starts_with(&format!("error: {sentinel} ")), "{err}");
        }
        let range = format!("{}..={}", limit.min, limit.max);
        let mut outside: Vec<String> = [limit.min.checked_sub(1), Some(limit.max + 1)]
            .into_iter()
            .flatten()
            .map(|v| v.to_string())
            .collect();
        outside.extend(
            [
                "18446744073709551615",
                "18446744073709551616",
                "100000000",
                "4294967296",
                "-1",
                "1e3",
                "2.0",
                "many",
                "",
                " 5",
            ]
            .map(String::from)
            .into_iter()
            .filter(|v| v.parse::<u64>().map_or(true, |n| !limit.contains(n))),
        );
        for v in outside {
            let (mut line, _) = with_sentinel(command, flag, &v);
            line.truncate(3);
            let err = usage_error(&line);
            let got = if v.is_empty() || v.contains(' ') {
                format!("{v:?}")
            } else {
                v.clone()
            };
            assert_eq!(
                err,
                format!("error: {flag} must be an integer in {range} (got {got})"),
                "{flag} {v}"
            );
        }
    }
    /// Command, flag, limit, values just inside, values outside.
    type RealCase<'a> = (&'a str, &'a str, RealLimit, &'a [&'a str], &'a [&'a str]);
    let reals: [RealCase; 2] = [
        (
            "train",
            "--lr",
            limits::LR,
            &["1e-5", "0.00001", "10", "1e1"],
            &[
                "9.99e-6", "10.0001", "0", "-1", "1e30", "nan", "inf", "-inf", "x",
            ],
        ),
        (
            "field",
            "--t",
            limits::TIME,
            &["0", "1", "0.5", "-0"],
            &["-0.001", "1.001", "1e300", "NaN", "infinity", "t"],
        ),
    ];
    for (command, flag, limit, inside, outside) in reals {
        for v in inside {
            let (line, sentinel) = with_sentinel(command, flag, v);
            let err = usage_error(&line);
            assert!(err.starts_with(&format!("error: {sentinel} ")), "{err}");
        }
        for v in outside {
            let (mut line, _) = with_sentinel(command, flag, v);
            line.truncate(3);
            assert_eq!(
                usage_error(&line),
                format!("error: {flag} must be a number in {limit} (got {v})")
            );
        }
    }
    assert_eq!(limits::LR.to_string(), "1e-5..=10");
    // Names: only the listed ones.
    for (flag, v) in [
        ("--preset", "Moons"),
        ("--schedule", "quadratic"),
        ("--solver", "rk5"),
    ] {
        let err = usage_error(&args(&format!("train {flag} {v}")));
        assert!(
            err.starts_with(&format!("error: {flag} must be one of "))
                && err.ends_with(&format!("(got {v})")),
            "{err}"
        );
    }
    // Values that would break the line are escaped and cut short.
    let long = format!("1{}", "0".repeat(500));
    let err = usage_error(&["train".into(), "--steps".into(), long]);
    assert!(err.len() < 120, "{err}");
    let err = usage_error(&["train".into(), "--width".into(), "6\n4".into()]);
    assert!(err.ends_with("(got \"6\\n4\")"), "{err}");
}

#[test]
fn the_extreme_shapes_run() {
    // The smallest network, the longest time features and ODE integration, batch 1.
    let out = run(&args(
        "train --points 1 --steps 1 --width 4 --depth 8 --time-features 16 --batch 1 \
         --ode-steps 400 --seed 2147483647 --lr 0.00001 --solver euler",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The widest layer with the largest batch and the most points.
    let out = run(&args(
        "train --points 5000 --steps 2 --width 512 --depth 1 --time-features 0 --batch 4096 \
         --ode-steps 2 --seed 0 --lr 0.001",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_field(&out.stdout, "data_points"), Some("5000"));
}

#[test]
fn huge_coordinates_are_refused_with_the_line_like_on_the_page() {
    let file = temp_file("huge.csv", "x,y\n1,2\n3,1e300\n");
    for line in [
        format!("train --data {file}"),
        format!("field --data {file} --t 0.5 --at {file}"),
    ] {
        let err = usage_error(&args(&line));
        assert_eq!(
            err,
            format!(
                "error: {file}: line 3: '1e300' is beyond +-1e6, the largest coordinate allowed"
            )
        );
    }
    // The limit itself passes.
    let edge = temp_file("edge.csv", "x,y\n-1e6,2\n3,1000000\n0,0\n");
    let out = run(&args(&format!("field --data {edge} --t 0.5 --at {edge}")));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_cloud_beyond_the_stage_is_rescaled_like_the_page_does() {
    // A ring of radius 20 around (1000, -20): the page's import fits it into +-0.85 WORLD.
    let ring: Vec<[f64; 2]> = (0..200)
        .map(|i| {
            let a = i as f64 / 7.0;
            [1000.0 + 20.0 * a.cos(), -20.0 + 20.0 * a.sin()]
        })
        .collect();
    let file = temp_file("ring.csv", &fmp::data::points_to_csv(&ring));
    let samples = temp_file("ring-samples.csv", "");
    let out = run(&args(&format!(
        "train --data {file} --steps 200 --width 16 --batch 64 --ode-steps 10 --samples {samples} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_field(&out.stdout, "data_rescaled"), Some("true"));
    let w2: f64 = json_field(&out.stdout, "w2")
        .and_then(|v| v.parse().ok())
        .expect("w2");
    // Measured against the rescaled ring (radius 2.975): the samples are near it, not 1000 away.
    assert!(w2 < 3.0, "{}", out.stdout);
    let text = std::fs::read_to_string(&samples).expect("samples");
    let points = fmp::data::parse_points_csv(&text).expect("csv");
    assert!(points.iter().flatten().all(|v| v.abs() < 3.5 * 3.0));
    // The same rule as the library's: a cloud inside the stage is kept as it is.
    let (fitted, rescaled) = fmp::data::fit_to_stage(ring.clone());
    assert!(rescaled);
    let max = fitted.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!((max - 0.85 * 3.5).abs() < 1e-9, "{max}");
    let inside = temp_file("inside.csv", "x,y\n3.3,-3.3\n0,1\n");
    let out = run(&args(&format!(
        "train --data {inside} --steps 5 --width 4 --batch 4 --ode-steps 2"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_field(&out.stdout, "data_rescaled"), Some("false"));
}

#[test]
fn divergence_is_an_error_exit_never_null_losses() {
    // Out of range: refused before training.
    let err = usage_error(&args("train --lr 1e30 --steps 50"));
    assert_eq!(err, "error: --lr must be a number in 1e-5..=10 (got 1e30)");
    // The largest allowed rate blows the default network up within a few steps.
    let out = run(&args("train --lr 10 --points 300 --steps 300"));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(out.stderr.lines().count(), 1);
    let msg = out.stderr.trim_end();
    assert!(
        msg.starts_with("error: training diverged at step ") && msg.ends_with("; lower --lr"),
        "{msg}"
    );
    let step: usize = msg["error: training diverged at step ".len()..]
        .split(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("step number");
    assert!((1..=300).contains(&step), "{msg}");
    assert!(msg.contains("(loss "), "{msg}");
    // A healthy run prints finite numbers only.
    let out = run(&args(
        "train --points 200 --steps 30 --width 8 --batch 32 --ode-steps 4",
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("null"), "{}", out.stdout);
    assert_ne!(json_field(&out.stdout, "energy_distance"), Some("0"));
}

#[test]
fn a_file_that_is_not_utf8_names_the_line() {
    let path = std::env::temp_dir().join(format!("fmp-cli-{}-latin1.csv", std::process::id()));
    std::fs::write(&path, b"x,y\n1,2\n\n3,4\n5,\xe96\n7,8\n").expect("write");
    let file = path.to_string_lossy().into_owned();
    let err = usage_error(&args(&format!("train --data {file}")));
    assert_eq!(
        err,
        format!("error: {file}: line 5: not valid UTF-8 (byte 0xe9 at column 3); save the file as UTF-8")
    );
    // A non-UTF-8 argument is an error too, not a panic.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        let out = fmp::cli::run_os([
            "train".into(),
            "--data".into(),
            std::ffi::OsString::from_vec(b"a\xffb.csv".to_vec()),
        ]);
        assert_eq!(out.code, 2);
        assert!(
            out.stderr
                .starts_with("error: argument 3 is not valid UTF-8"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn clouds_are_limited_like_on_the_page() {
    let rows = |n: usize| {
        let mut s = String::from("x,y\n");
        for i in 0..n {
            s.push_str(&format!(
                "{},{}\n",
                (i % 70) as f64 * 0.05,
                (i / 70) as f64 * 0.05
            ));
        }
        s
    };
    let too_many = temp_file("5001.csv", &rows(5001));
    let err = usage_error(&args(&format!("train --data {too_many}")));
    assert_eq!(
        err,
        format!("error: {too_many}: it holds 5001 points; the most is 5000")
    );
    let err = usage_error(&args(&format!(
        "field --data {too_many} --t 0 --at {too_many}"
    )));
    assert!(
        err.ends_with("it holds 5001 points; the most is 5000"),
        "{err}"
    );
    // 5000 points are fine (as data, and many more as queries).
    let most = temp_file("5000.csv", &rows(5000));
    let query = temp_file("query.csv", "0,0\n");
    let out = run(&args(&format!("field --data {most} --t 0.5 --at {query}")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(&args(&format!(
        "field --data {query} --t 0.5 --at {too_many}"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 5002);
    // The page refuses files over 5 MB; so does the command line, before parsing.
    let big = temp_file("big.csv", &"0,0\n".repeat(1_250_001));
    let err = usage_error(&args(&format!("train --data {big}")));
    assert!(
        err.ends_with("larger than 5000000 bytes, the most a CSV file may have"),
        "{err}"
    );
    let _ = std::fs::remove_file(big);
    // A directory is an unreadable file, not a crash.
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    usage_error(&args(&format!("train --data {dir}")));
}

#[test]
fn help_lists_every_range() {
    let out = run(&args("--help"));
    assert_eq!(out.code, 0);
    for needle in [
        "--width W",
        "an integer in 4..=512",
        "an integer in 1..=8",
        "an integer in 1..=4096",
        "a number in 1e-5..=10",
        "an integer in 2..=400",
        "an integer in 0..=2147483647",
        "an integer in 1..=1000000",
        "an integer in 0..=16",
        "an integer in 1..=5000",
        "a number in 0..=1",
        "at most 5000000 bytes",
        "within +-1e6",
        "1 training diverged, 2 bad argument",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle} missing:\n{}",
            out.stdout
        );
    }
    assert_eq!(run(&args("train --steps 5 -h")).code, 0);
}

/// The page's default cloud (`preset_points("moons", 1000, 1)`) in a CSV file.
fn moons_file(name: &str) -> (Vec<[f64; 2]>, String) {
    let data =
        fmp::data::sample_preset(fmp::data::Preset::TwoMoons, 1000, &mut fmp::rng::seeded(1));
    let file = temp_file(name, &fmp::data::points_to_csv(&data));
    (data, file)
}

#[test]
fn flow_exact_lands_on_the_data_like_the_page() {
    let (data, file) = moons_file("flow-moons.csv");
    for schedule in Schedule::ALL {
        let out_file = temp_file(&format!("flow-out-{}.csv", schedule.name()), "");
        let out = run(&args(&format!(
            "flow --data {file} --field exact --schedule {} --steps 50 --out {out_file} --force",
            schedule.name()
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let line = out.stdout.trim_end();
        assert_eq!(out.stdout.lines().count(), 1);
        assert!(
            line.starts_with("{\"command\":\"flow\"") && line.ends_with('}'),
            "{line}"
        );
        assert_eq!(json_field(line, "solver"), Some("\"exact-step\""));
        assert_eq!(json_field(line, "particles"), Some("2000"));
        assert_eq!(json_field(line, "data_points"), Some("1000"));
        assert_eq!(json_field(line, "data_rescaled"), Some("false"));
        assert_eq!(json_field(line, "train_steps"), Some("null"));
        assert_eq!(json_field(line, "w2_points"), Some("1000"));
        let num = |key: &str| -> f64 {
            json_field(line, key)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{key} in {line}"))
        };
        assert_eq!(num("t_end"), schedule.t_max());
        assert!((num("beta_end") - 1e-3).abs() < 1e-12);
        assert!(num("near_share") >= 0.99, "{line}");
        assert!(num("w2") < 0.2, "{line}");
        // The particles are the page's: noise_points(2000, 0) on the same grid and solver.
        let written =
            fmp::data::parse_points_csv(&std::fs::read_to_string(&out_file).expect("out"))
                .expect("csv");
        let mut rng = fmp::rng::seeded(0);
        let mut xs: Vec<[f64; 2]> = (0..2000).map(|_| fmp::rng::normal_pair(&mut rng)).collect();
        let marginal = EmpiricalMarginal::new(data.clone(), GaussianPath::new(schedule));
        Integrator::new().integrate_on(
            &mut MarginalField {
                marginal: &marginal,
            },
            Solver::PosteriorStep,
            &mut xs,
            &time_grid(schedule, 50),
        );
        assert_eq!(written, xs, "{schedule:?}");
    }
}

#[test]
fn flow_learned_trains_with_the_app_defaults_and_generalizes() {
    let (_, file) = moons_file("flow-learned.csv");
    let out_file = temp_file("flow-learned-out.csv", "");
    let out = run(&args(&format!(
        "flow --data {file} --field learned --train-steps 300 --particles 500 --steps 20 \
         --seed 4 --out {out_file} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim_end();
    assert_eq!(json_field(line, "solver"), Some("\"rk4\""));
    assert_eq!(json_field(line, "train_steps"), Some("300"));
    assert_eq!(json_field(line, "seed"), Some("4"));
    assert_eq!(json_field(line, "w2_points"), Some("500"));
    let near: f64 = json_field(line, "near_share")
        .and_then(|v| v.parse().ok())
        .expect("near");
    let w2: f64 = json_field(line, "w2")
        .and_then(|v| v.parse().ok())
        .expect("w2");
    // Between the points, not on them, yet near the moons.
    assert!(near < 0.5, "{line}");
    assert!(w2 < 0.5, "{line}");
    let written = fmp::data::parse_points_csv(&std::fs::read_to_string(&out_file).expect("out"))
        .expect("csv");
    assert_eq!(written.len(), 500);
    // Every solver runs on the learned field, the closed-form step included (DDIM).
    let out = run(&args(&format!(
        "flow --data {file} --field learned --train-steps 20 --particles 100 --steps 5 \
         --solver exact-step --schedule cosine --out {out_file} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn flow_errors_are_one_line() {
    let (_, file) = moons_file("flow-errors.csv");
    let missing = std::env::temp_dir().join("fmp-cli-no-such-dir/out.csv");
    let missing = missing.to_string_lossy();
    for (line, want) in [
        (
            format!("flow --data {file} --field exact --out o.csv --train-steps 5"),
            "error: --train-steps is for --field learned".to_string(),
        ),
        (
            format!("flow --data {file} --field exact"),
            "error: flow needs --out OUT.csv".to_string(),
        ),
        (
            format!("flow --data {file} --field exact --out o.csv --steps 401"),
            "error: --steps must be an integer in 1..=400 (got 401)".to_string(),
        ),
        (
            format!("flow --data {file} --field exact --out o.csv --particles 5001"),
            "error: --particles must be an integer in 100..=5000 (got 5001)".to_string(),
        ),
        (
            format!("flow --data {file} --field exact --out o.csv --solver rk5"),
            "error: --solver must be one of euler, midpoint, rk4, exact-step (got rk5)".to_string(),
        ),
    ] {
        assert_eq!(usage_error(&args(&line)), want, "{line}");
    }
    // An unwritable output names the file; a missing input too.
    let err = usage_error(&args(&format!(
        "flow --data {file} --field exact --steps 2 --particles 100 --out {missing}"
    )));
    assert!(err.starts_with(&format!("error: {missing}: ")), "{err}");
    let err = usage_error(&args(
        "flow --data /nonexistent/d.csv --field exact --out o.csv",
    ));
    assert!(err.starts_with("error: /nonexistent/d.csv: "), "{err}");
}

/// `fmp flow --sigma S --at-times ...` (issue 12): the exact SDE keeps the marginals at every
/// requested time (energy distance to fresh samples of `p_t` within a few times the floor of two
/// fresh samples), without the score correction it does not, and the CSV holds the particles
/// at the grid times nearest those asked for.
#[test]
fn flow_sigma_keeps_the_marginals_only_with_the_score_correction() {
    let (_, file) = moons_file("flow-sde.csv");
    let out_file = temp_file("flow-sde-out.csv", "");
    let ratios = |extra: &str| -> Vec<f64> {
        let out = run(&args(&format!(
            "flow --data {file} --field exact --particles 600 --steps 50 --seed 3 \
             --sigma 2 --at-times 0.25,0.5,0.75,1 --out {out_file} --force {extra}"
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let line = out.stdout.trim_end().to_string();
        assert_eq!(json_field(&line, "sigma"), Some("2"));
        let rows = &line[line.find("\"at_times\":[").expect("at_times")..];
        let nums = |key: &str| -> Vec<f64> {
            rows.match_indices(&format!("\"{key}\":"))
                .map(|(i, _)| {
                    let v = &rows[i + key.len() + 3..];
                    v[..v.find([',', '}']).expect("end")]
                        .parse()
                        .expect("number")
                })
                .collect()
        };
        let (ed, floor, used) = (nums("energy_distance"), nums("floor"), nums("t_used"));
        assert_eq!(ed.len(), 4, "{line}");
        for (u, want) in used.iter().zip([0.25, 0.5, 0.75, 1.0]) {
            assert!((u - want).abs() < 0.03, "{line}");
        }
        let csv = std::fs::read_to_string(&out_file).expect("out");
        assert!(csv.starts_with("t,x,y\n"));
        assert_eq!(csv.lines().count(), 1 + 4 * 600);
        ed.iter().zip(&floor).map(|(e, f)| e / f).collect()
    };
    let kept = ratios("");
    assert!(
        kept.iter().all(|r| *r < 4.0),
        "with the correction: {kept:?}"
    );
    let lost = ratios("--no-score-correction");
    eprintln!("sigma 2 on moons, energy distance / floor: with {kept:?}, without {lost:?}");
    assert!(lost[1] > 5.0, "without the correction: {lost:?}");
    assert_eq!(
        run(&args(&format!(
            "flow --data {file} --field exact --sigma 4 --out {out_file}"
        )))
        .code,
        2
    );
}

/// Straight paths (issue 13, core): on moons, OT coupling and one reflow straighten the learned
/// paths and improve one-step sampling against the independent coupling; the JSON line
/// carries the figures. Margins measured: after 1,500 steps, straightness 0.9 -> below 0.2.
#[test]
fn ot_coupling_and_reflow_straighten_the_paths() {
    let figures = |extra: &str| -> (f64, f64, f64) {
        let out = run(&args(&format!(
            "train --steps 1500 --points 1000 --ode-steps 20 {extra}"
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let line = out.stdout.trim_end();
        let num = |key: &str| -> f64 {
            json_field(line, key)
                .and_then(|v| v.trim_matches('"').parse().ok())
                .unwrap_or_else(|| panic!("{key} in {line}"))
        };
        let w2_1 = line[line.find("\"w2_at_steps\":{\"1\":").expect("w2_at_steps") + 19..]
            .split([',', '}'])
            .next()
            .and_then(|v| v.parse().ok())
            .expect("w2 at 1 step");
        eprintln!(
            "{extra}: straightness {}, crossings {}, w2 at 1 step {w2_1}",
            num("straightness"),
            num("crossings")
        );
        (num("straightness"), num("crossings"), w2_1)
    };
    let (s_ind, c_ind, w_ind) = figures("");
    let (s_ot, c_ot, w_ot) = figures("--coupling ot");
    let (s_re, c_re, w_re) = figures("--reflow 1");
    assert!(
        s_ot < 0.3 * s_ind && s_re < 0.5 * s_ind,
        "S: {s_ind} vs OT {s_ot}, reflow {s_re}"
    );
    assert!(
        w_ot < 0.5 * w_ind && w_re < w_ind,
        "W2 at 1 step: {w_ind} vs OT {w_ot}, reflow {w_re}"
    );
    assert!(
        c_ot < c_ind && c_re < c_ind,
        "crossings: {c_ind} vs OT {c_ot}, reflow {c_re}"
    );
}

/// `fmp flow --model DIR --solver euler` (issue 13): flows a saved network instead of training
/// one, and its W2 is the core's few-step figure of that network (`straight::w2_after_euler`,
/// what the page's NFE chart shows) on the same noise (the page's `noise_points(m, seed)`),
/// computed here independently of the command line.
#[test]
fn flow_with_a_saved_model_is_the_nfe_figure() {
    let dir = std::env::temp_dir().join(format!("fmp-cli-{}-saved", std::process::id()));
    let dir = dir.to_string_lossy().into_owned();
    let out = run(&args(&format!(
        "train --steps 200 --points 500 --save {dir}"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let drawing = format!("{dir}/drawing.csv");
    let data = fmp::data::parse_points_csv(&std::fs::read_to_string(&drawing).expect("drawing"))
        .expect("parse drawing");
    let bytes = std::fs::read(format!("{dir}/model.safetensors")).expect("model");
    let model = fmp::export::read_safetensors(&bytes).expect("read model");
    let seed = 7u64;
    let mut rng = fmp::rng::seeded(seed);
    let noise: Vec<[f64; 2]> = (0..500).map(|_| fmp::rng::normal_pair(&mut rng)).collect();
    let samples = temp_file("flow-model-out.csv", "");
    for steps in [2, 4, 16] {
        let out = run(&args(&format!(
            "flow --data {drawing} --field learned --model {dir} --solver euler --steps {steps} \
             --particles 500 --seed {seed} --out {samples} --force"
        )));
        assert_eq!(out.code, 0, "{}", out.stderr);
        let w2: f64 = json_field(&out.stdout, "w2")
            .and_then(|v| v.parse().ok())
            .expect("w2");
        let want = fmp::straight::w2_after_euler(&model, Schedule::Linear, &noise, steps, &data);
        assert!((w2 - want).abs() < 1e-9, "{steps} steps: {w2} vs {want}");
        assert_eq!(json_field(&out.stdout, "train_steps"), Some("null"));
    }
    for (line, want) in [
        (
            format!("flow --data {drawing} --field exact --model {dir} --out {samples}"),
            "error: --model is for --field learned",
        ),
        (
            format!(
                "flow --data {drawing} --field learned --model {dir} --train-steps 5 --out {samples}"
            ),
            "error: --model flows with a saved network: give --model or --train-steps, not both",
        ),
    ] {
        assert_eq!(usage_error(&args(&line)), want, "{line}");
    }
}

/// Guidance (issue 14): `fmp train --data` with a third column of labels trains a
/// class-conditional network and reports, for w = 0, 1, 2, 4, the share of class-y samples
/// nearest a point of class y (fidelity) and their spread, for the exact guided field and the
/// network's. On two moons (600 points, 1,500 steps): at w = 1 the learned samples land in their
/// class for at least 95 % (measured: 100 %), at w = 0 (unconditional) for about half; fidelity
/// rises with w and the spread falls (guidance trades diversity for fidelity).
#[test]
fn labelled_training_reports_fidelity_rising_with_guidance() {
    let (points, labels) = fmp::data::sample_preset_labelled(
        fmp::data::Preset::TwoMoons,
        600,
        &mut fmp::rng::seeded(3),
    );
    let file = temp_file(
        "labelled-moons.csv",
        &fmp::data::labelled_to_csv(&points, &labels),
    );
    let out = run(&args(&format!(
        "train --data {file} --steps 1500 --ode-steps 20"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.trim_end();
    assert_eq!(json_field(line, "classes"), Some("2"));
    assert_eq!(json_field(line, "p_uncond"), Some("0.15"));
    let list = |side: &str, key: &str| -> Vec<f64> {
        let at = line
            .find(&format!("\"{side}\":{{\"fidelity\""))
            .expect(side);
        let rest = &line[at..];
        let start = rest.find(&format!("\"{key}\":[")).expect(key) + key.len() + 4;
        rest[start..start + rest[start..].find(']').expect("]")]
            .split(',')
            .map(|v| v.parse().expect("number"))
            .collect()
    };
    for side in ["exact", "learned"] {
        let (fid, spread) = (list(side, "fidelity"), list(side, "spread"));
        eprintln!("{side}: fidelity {fid:?}, spread {spread:?}");
        assert!(fid[1] >= 0.95, "{side}: fidelity at w = 1 is {}", fid[1]);
        assert!(
            fid[0] < 0.8 && fid[0] < fid[1] && fid[1] <= fid[3],
            "{side}: {fid:?}"
        );
        assert!(
            spread[3] < spread[1] && spread[1] < spread[0],
            "{side}: {spread:?}"
        );
    }
    // The guided flow of one class, exactly: every sample of class 2 lands in class 2 at w = 1.
    let samples = temp_file("labelled-flow.csv", "");
    let out = run(&args(&format!(
        "flow --data {file} --field exact --class 2 --guidance 1 --particles 300 --out {samples} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_field(&out.stdout, "class"), Some("2"));
    let fid: f64 = json_field(&out.stdout, "fidelity")
        .and_then(|v| v.parse().ok())
        .expect("fidelity");
    assert!(fid >= 0.99, "exact class-2 fidelity {fid}");
    // Labels out of range name their line; --class on an unlabelled file says what is missing.
    let bad = temp_file("labelled-bad.csv", "x,y,label\n0,0,1\n1,1,7\n");
    assert!(usage_error(&args(&format!("train --data {bad}")))
        .ends_with("line 3: label '7' must be an integer in 1..=4"));
    let (_, plain) = moons_file("labelled-plain.csv");
    assert!(usage_error(&args(&format!(
        "flow --data {plain} --field exact --class 1 --out {samples} --force"
    )))
    .contains("--class needs labels"));
}
