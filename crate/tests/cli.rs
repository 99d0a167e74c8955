//! The command line (`fmp::cli::run`, which the `fmp` example wraps): output formats, error
//! lines and exit codes. Native only, like the command line itself.
#![cfg(not(target_arch = "wasm32"))]

use fmp::cli::run;
use fmp::marginal::EmpiricalMarginal;
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
        "train --preset circles --points 300 --steps 60 --width 16 --batch 64 --ode-steps 10 --solver midpoint --samples {samples}"
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
            Some("x,y,u_x,u_y,score_x,score_y,log_density,divergence")
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
            ];
            for (got, want) in v.iter().zip(expected) {
                assert!((got - want).abs() <= 1e-12 * (1.0 + want.abs()), "{line}");
            }
            rows += 1;
        }
        assert_eq!(rows, queries.len());
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
