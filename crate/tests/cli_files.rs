//! The command line against hostile files and outputs (issue 25, items 6-9; issue 24, item
//! 12): FIFOs and devices refused before they are opened, bounded reads, a saved model's config
//! checked against its tensors, non-finite models refused, outputs checked before any work and
//! overwritten only with `--force`, and `flow`'s solver and one-step figure. Native only.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fmp::cli::{run, Output};
use fmp::path::Schedule;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// A fresh path in the temp directory, unique to this test process and `name` (removed if a
/// previous run left it).
fn temp_path(name: &str) -> String {
    let path = std::env::temp_dir().join(format!("fmp-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}

fn temp_file(name: &str, contents: &str) -> String {
    let path = temp_path(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

/// `line` run in a thread: its output, or a failure if it has not finished within 20 s (a
/// read that blocks on a FIFO never would).
fn run_bounded(line: &str) -> Output {
    let (tx, rx) = mpsc::channel();
    let a = args(line);
    std::thread::spawn(move || {
        let _ = tx.send(run(&a));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("`fmp {line}` did not finish within 20 s"))
}

/// The one error line of a refused run (exit code 2).
fn refused(line: &str) -> String {
    let out = run_bounded(line);
    assert_eq!(out.code, 2, "{line}: {out:?}");
    assert!(out.stdout.is_empty(), "{line}: {out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{line}: {out:?}");
    out.stderr.trim_end().to_string()
}

/// A FIFO at a fresh temp path.
fn fifo(name: &str) -> String {
    let path = temp_path(name);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    path
}

/// A small network saved by `train --save` into a fresh folder.
fn saved_model(name: &str, extra: &str) -> String {
    let dir = temp_path(name);
    let out = run(&args(&format!(
        "train --steps 30 --points 200 --width 8 --depth 2 --ode-steps 5 --save {dir} {extra}"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    dir
}

fn query_file() -> String {
    temp_file("query.csv", "x,y\n0.5,0.25\n-1,2\n")
}

fn file(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(dir).join(name)
}

#[test]
fn fifos_and_devices_are_refused_before_they_are_read() {
    let pipe = fifo("pipe.csv");
    let q = query_file();
    let want = format!("error: {pipe} is a FIFO (named pipe), not a regular file");
    for line in [
        format!("train --data {pipe} --steps 5"),
        format!("field --data {pipe} --t 0.5 --at {q}"),
        format!("field --data {q} --t 0.5 --at {pipe}"),
        format!("eval --model {pipe} --t 0.5 --at {q}"),
    ] {
        assert_eq!(refused(&line), want, "{line}");
    }
    for line in [
        format!("eval --model /dev/zero --t 0.5 --at {q}"),
        "train --data /dev/zero --steps 5".to_string(),
    ] {
        assert_eq!(
            refused(&line),
            "error: /dev/zero is a device, not a regular file",
            "{line}"
        );
    }
    // Inside a --model folder: the network and the config.
    let dir = saved_model("fifo-model", "");
    let config = file(&dir, "config.json");
    std::fs::remove_file(&config).expect("remove config");
    let status = std::process::Command::new("mkfifo")
        .arg(&config)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    assert!(refused(&format!("eval --model {dir} --t 0.5 --at {q}"))
        .ends_with("config.json is a FIFO (named pipe), not a regular file"));
    let model = file(&dir, "model.safetensors");
    std::fs::remove_file(&model).expect("remove model");
    std::os::unix::fs::symlink("/dev/zero", &model).expect("symlink");
    assert!(refused(&format!("eval --model {dir} --t 0.5 --at {q}"))
        .ends_with("model.safetensors is a device, not a regular file"));
}

#[test]
fn a_model_larger_than_the_largest_network_is_not_read() {
    let big = temp_path("big.safetensors");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(fmp::limits::MAX_MODEL_BYTES + 1)
        .expect("sparse file");
    let q = query_file();
    assert_eq!(
        refused(&format!("eval --model {big} --t 0.5 --at {q}")),
        format!(
            "error: {big}: the file is larger than {} bytes, the most a playground network may \
             have",
            fmp::limits::MAX_MODEL_BYTES
        )
    );
}

/// Rewrites the config of `dir` with `edit` applied to its text.
fn edit_config(dir: &str, edit: impl Fn(&str) -> String) {
    let path = file(dir, "config.json");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(&path, edit(&text)).expect("write config");
}

#[test]
fn the_config_is_checked_against_the_tensors() {
    let q = query_file();
    let moons = temp_file(
        "moons.csv",
        &fmp::data::points_to_csv(&fmp::data::sample_preset(
            fmp::data::Preset::TwoMoons,
            200,
            &mut fmp::rng::seeded(1),
        )),
    );
    let out_csv = temp_path("config-out.csv");
    for (name, edit, want) in [
        (
            "width",
            Box::new(|c: &str| c.replace("\"width\":8", "\"width\":64"))
                as Box<dyn Fn(&str) -> String>,
            "architecture.width is 64, but the tensors are a network of width 8, depth 2",
        ),
        (
            "json",
            Box::new(|_: &str| "{not json".to_string()),
            "is not JSON",
        ),
        (
            "format",
            Box::new(|c: &str| c.replace("fmp-mlp-1", "fmp-mlp-0")),
            "format is \"fmp-mlp-0\", expected \"fmp-mlp-1\"",
        ),
        (
            "steps",
            Box::new(|c: &str| c.replace("\"steps\":5,", "\"steps\":1000000000000,")),
            "sampling.steps is 1000000000000, expected an integer in 1..=400",
        ),
    ] {
        let dir = saved_model(&format!("config-{name}"), "");
        edit_config(&dir, edit);
        let e = refused(&format!("eval --model {dir} --t 0.5 --at {q}"));
        assert!(
            e.starts_with(&format!("error: {dir}/config.json: ")) && e.contains(want),
            "{name}: {e}"
        );
        let e = refused(&format!(
            "flow --data {moons} --field learned --model {dir} --out {out_csv}"
        ));
        assert!(e.contains(want), "{name}: {e}");
    }
    // A linear network flows only with --schedule linear (the default), a cosine one only with
    // --schedule cosine.
    let dir = saved_model("config-schedule", "");
    assert_eq!(
        refused(&format!(
            "flow --data {moons} --field learned --model {dir} --schedule cosine --out {out_csv}"
        )),
        format!(
            "error: --schedule cosine does not match the schedule of {dir}, linear: give \
             --schedule linear"
        )
    );
    let cosine = saved_model("config-cosine", "--schedule cosine");
    assert!(refused(&format!(
        "flow --data {moons} --field learned --model {cosine} --out {out_csv}"
    ))
    .contains("give --schedule cosine"));
    let out = run_bounded(&format!(
        "flow --data {moons} --field learned --model {cosine} --schedule cosine --particles 100 \
         --steps 4 --out {out_csv}"
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Tampered metadata: classes = 2 on an unlabelled network (input 3 + 2 * 2) reads as a
    // 2-class network with 1 time feature, which its config contradicts.
    let model = file(&dir, "model.safetensors");
    let bytes = std::fs::read(&model).expect("model");
    let mlp = fmp::export::read_safetensors(&bytes).expect("read");
    let config = std::fs::read_to_string(file(&dir, "config.json")).expect("config");
    let tampered = fmp::export::safetensors_bytes(
        &mlp,
        &[
            ("format", fmp::export::FORMAT),
            ("fmp_config", config.trim_end()),
            ("classes", "2"),
        ],
    )
    .expect("bytes");
    std::fs::write(&model, &tampered).expect("write");
    let e = refused(&format!("eval --model {dir} --t 0.5 --at {q}"));
    assert!(
        e.contains("architecture.time_features is 2, but the tensors are a network of width 8, depth 2, time features 1, classes 2"),
        "{e}"
    );
    // A bare model.safetensors is checked against its fmp_config metadata.
    let e = refused(&format!(
        "eval --model {} --t 0.5 --at {q}",
        model.display()
    ));
    assert!(
        e.contains("the fmp_config metadata of") && e.contains("time features 1, classes 2"),
        "{e}"
    );
}

/// `dir`'s network with every parameter replaced by `f(index, value)`, written back with its
/// metadata.
fn tamper_weights(dir: &str, f: impl Fn(usize, f32) -> f32) {
    let model = file(dir, "model.safetensors");
    let bytes = std::fs::read(&model).expect("model");
    let mlp = fmp::export::read_safetensors(&bytes).expect("read");
    let params: Vec<f32> = mlp
        .params()
        .iter()
        .enumerate()
        .map(|(i, &v)| f(i, v))
        .collect();
    let mlp = fmp::mlp::Mlp::from_params(mlp.config(), params).expect("shape");
    let config = std::fs::read_to_string(file(dir, "config.json")).expect("config");
    let out = fmp::export::safetensors_bytes(
        &mlp,
        &[
            ("format", fmp::export::FORMAT),
            ("fmp_config", config.trim_end()),
        ],
    )
    .expect("bytes");
    std::fs::write(&model, out).expect("write");
}

#[test]
fn non_finite_models_and_results_are_refused() {
    let q = query_file();
    let data = temp_path("finite-moons.csv");
    let out_csv = temp_path("finite-out.csv");
    let dir = saved_model("nan", "");
    std::fs::copy(file(&dir, "drawing.csv"), &data).expect("copy drawing");
    let n =
        fmp::export::read_safetensors(&std::fs::read(file(&dir, "model.safetensors")).expect("m"))
            .expect("read")
            .params()
            .len();
    // A NaN bias (the last parameter) and an infinite weight (the first).
    tamper_weights(&dir, |i, v| if i == n - 1 { f32::NAN } else { v });
    let e = refused(&format!("eval --model {dir} --t 0.5 --at {q}"));
    assert!(
        e.contains("the model is not finite (out.bias holds NaN)"),
        "{e}"
    );
    let e = refused(&format!(
        "flow --data {data} --field learned --model {dir} --out {out_csv}"
    ));
    assert!(
        e.contains("the model is not finite") && !e.contains("diverged"),
        "{e}"
    );
    let inf = saved_model("inf", "");
    tamper_weights(&inf, |i, v| if i == 0 { f32::INFINITY } else { v });
    assert!(refused(&format!("eval --model {inf} --t 0.5 --at {q}"))
        .contains("(hidden.0.weight holds inf)"));
    // Finite weights whose products overflow: the results are refused.
    let huge = saved_model("huge", "");
    tamper_weights(&huge, |_, _| 3e38);
    let e = refused(&format!("eval --model {huge} --t 0.5 --at {q}"));
    assert!(
        e.contains("the model is not finite: u_theta(0.5,0.25, t = 0.5)"),
        "{e}"
    );
    let e = refused(&format!(
        "flow --data {data} --field learned --model {huge} --particles 100 --out {out_csv}"
    ));
    assert!(
        e.contains("the model is not finite: its field sends particles to infinity")
            && !e.contains("diverged"),
        "{e}"
    );
    assert!(!std::path::Path::new(&out_csv).exists());
}

#[test]
fn outputs_are_checked_before_any_work_and_kept_without_force() {
    let existing = temp_file("existing.csv", "keep me\n");
    let start = Instant::now();
    assert_eq!(
        refused(&format!("train --steps 3000 --samples {existing}")),
        format!("error: {existing} exists; give --force to overwrite it")
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let moons = temp_file("out-moons.csv", "0,0\n1,1\n0.5,0.2\n");
    assert_eq!(
        refused(&format!(
            "flow --data {moons} --field learned --train-steps 3000 --out {existing}"
        )),
        format!("error: {existing} exists; give --force to overwrite it")
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        std::fs::read_to_string(&existing).expect("kept"),
        "keep me\n"
    );
    // A FIFO is no output, even with --force; nor is a missing folder.
    let pipe = fifo("out-pipe.csv");
    assert_eq!(
        refused(&format!(
            "flow --data {moons} --field exact --out {pipe} --force"
        )),
        format!("error: {pipe} is a FIFO (named pipe), not a regular file")
    );
    let nowhere = format!("{}/out.csv", temp_path("no-such-folder"));
    assert!(refused(&format!("train --steps 3000 --samples {nowhere}")).ends_with("does not exist"));
    // --save into a folder that holds files: refused, then overwritten with --force.
    let dir = saved_model("save-twice", "");
    let drawing = std::fs::read_to_string(file(&dir, "drawing.csv")).expect("drawing");
    assert_eq!(
        refused(&format!("train --steps 3000 --preset spiral --save {dir}")),
        format!(
            "error: {dir} holds files; give --force to overwrite its model.safetensors, \
             config.json, drawing.csv"
        )
    );
    assert_eq!(
        std::fs::read_to_string(file(&dir, "drawing.csv")).expect("kept"),
        drawing
    );
    let out = run(&args(&format!(
        "train --steps 5 --points 50 --preset spiral --save {dir} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(
        std::fs::read_to_string(file(&dir, "drawing.csv")).expect("new"),
        drawing
    );
    assert!(refused(&format!("train --steps 5 --save {existing}")).contains("not a folder"));
    // With --force an existing file is written.
    let out = run(&args(&format!(
        "flow --data {moons} --field exact --particles 100 --steps 2 --out {existing} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(std::fs::read_to_string(&existing)
        .expect("new")
        .starts_with("x,y\n"));
}

/// The value of `"key":` in a flat JSON object line, as raw text.
fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[test]
fn flow_reports_the_solver_that_ran_and_takes_one_step() {
    let dir = saved_model("one-step", "");
    let drawing = file(&dir, "drawing.csv").to_string_lossy().into_owned();
    let out_csv = temp_path("one-step-out.csv");
    let out = run(&args(&format!(
        "flow --data {drawing} --field exact --sigma 1 --particles 100 --steps 5 --out {out_csv}"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        json_field(&out.stdout, "solver"),
        Some("\"euler-maruyama\"")
    );
    // One Euler step of the saved network is the core's one-step figure on the same noise.
    let out = run(&args(&format!(
        "flow --data {drawing} --field learned --model {dir} --solver euler --steps 1 \
         --particles 200 --seed 5 --out {out_csv} --force"
    )));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_field(&out.stdout, "steps"), Some("1"));
    let w2: f64 = json_field(&out.stdout, "w2")
        .and_then(|v| v.parse().ok())
        .expect("w2");
    let model =
        fmp::export::read_safetensors(&std::fs::read(file(&dir, "model.safetensors")).expect("m"))
            .expect("read");
    let data =
        fmp::data::parse_points_csv(&std::fs::read_to_string(&drawing).expect("d")).expect("csv");
    let mut rng = fmp::rng::seeded(5);
    let noise: Vec<[f64; 2]> = (0..200).map(|_| fmp::rng::normal_pair(&mut rng)).collect();
    let want = fmp::straight::w2_after_euler(&model, Schedule::Linear, &noise, 1, &data);
    assert!((w2 - want).abs() < 1e-9, "{w2} vs {want}");
    assert!(refused(&format!(
        "flow --data {drawing} --field exact --steps 0 --out {out_csv}"
    ))
    .contains("--steps must be an integer in 1..=400 (got 0)"));
}
