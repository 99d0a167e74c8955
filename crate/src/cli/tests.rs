//! Tests of the parsing and the help of the command line (its runs: `tests/cli.rs`).

use super::train::Source;
use super::*;
use crate::data::Preset;
use crate::limits::{self, IntLimit, RealLimit};
use crate::ode::Solver;
use crate::path::Schedule;
use proptest::prelude::*;

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A range of a flag: integers or numbers.
#[derive(Clone, Copy, Debug)]
enum Range {
    Int(IntLimit),
    Real(RealLimit),
}

/// Every flag with a range, by command: the ranges of [`crate::limits`] (and `--reflow`'s).
fn ranged_flags() -> Vec<(&'static str, &'static str, Range)> {
    use Range::{Int, Real};
    let reflow = IntLimit {
        name: "reflow",
        page: None,
        min: 0,
        max: 5,
    };
    vec![
        ("train", "--points", Int(limits::POINTS)),
        ("train", "--steps", Int(limits::TRAIN_STEPS)),
        ("train", "--width", Int(limits::WIDTH)),
        ("train", "--depth", Int(limits::DEPTH)),
        ("train", "--time-features", Int(limits::TIME_FEATURES)),
        ("train", "--batch", Int(limits::BATCH)),
        ("train", "--lr", Real(limits::LR)),
        ("train", "--seed", Int(limits::SEED)),
        ("train", "--ode-steps", Int(limits::ODE_STEPS)),
        ("train", "--reflow", Int(reflow)),
        ("field", "--t", Real(limits::TIME)),
        ("flow", "--seed", Int(limits::SEED)),
        ("flow", "--steps", Int(limits::FLOW_STEPS)),
        ("flow", "--particles", Int(limits::PARTICLES)),
        ("flow", "--train-steps", Int(limits::TRAIN_STEPS)),
        ("flow", "--sigma", Real(limits::SIGMA)),
        ("flow", "--class", Int(limits::CLASS)),
        ("flow", "--guidance", Real(limits::GUIDANCE)),
        ("eval", "--t", Real(limits::TIME)),
    ]
}

impl Range {
    fn expects(self) -> String {
        match self {
            Range::Int(l) => format!("an integer in {l}"),
            Range::Real(l) => format!("a number in {l}"),
        }
    }
}

/// `command flag value` with what the command requires (unless `flag` is one of those).
fn line_with(command: &str, flag: &str, v: &str) -> Vec<String> {
    let mut args = strings(&[command, flag, v]);
    let required: &[(&str, &str)] = match command {
        "field" => &[("--data", "d.csv"), ("--at", "q.csv"), ("--t", "0.5")],
        "eval" => &[("--model", "m"), ("--at", "q.csv"), ("--t", "0.5")],
        "flow" => &[
            ("--data", "d.csv"),
            ("--field", "learned"),
            ("--out", "o.csv"),
        ],
        _ => &[],
    };
    for (f, value) in required {
        if *f != flag {
            args.extend(strings(&[f, value]));
        }
    }
    // A guidance scale belongs to a class.
    if flag == "--guidance" {
        args.extend(strings(&["--class", "1"]));
    }
    args
}

/// The flags of each command, as clap has them.
fn flags_of(command_name: &str) -> Vec<clap::Arg> {
    clap_command()
        .find_subcommand(command_name)
        .map(|s| s.get_arguments().cloned().collect())
        .unwrap_or_default()
}

/// What `flag` of `command` expects, from the error of an empty value (which every value
/// refuses), independently of the help text.
fn expects_of(command: &str, flag: &clap::Arg) -> String {
    if !flag.get_action().takes_values() {
        return "given without a value".to_string();
    }
    let name = help::flag_name(flag);
    let f = parse(&line_with(command, &name, "")).expect_err("empty value");
    let prefix = format!("{name} must be ");
    f.message
        .strip_prefix(&prefix)
        .and_then(|m| m.strip_suffix(" (got \"\")"))
        .unwrap_or_else(|| panic!("{}", f.message))
        .to_string()
}

#[test]
fn every_range_flag_takes_its_bounds_and_refuses_one_beyond() {
    for (command, flag, range) in ranged_flags() {
        let (inside, outside): (Vec<String>, Vec<String>) = match range {
            Range::Int(l) => (
                vec![l.min.to_string(), l.max.to_string()],
                [l.min.checked_sub(1), l.max.checked_add(1)]
                    .into_iter()
                    .flatten()
                    .map(|v| v.to_string())
                    .chain(["-1".into(), "18446744073709551616".into()])
                    .collect(),
            ),
            Range::Real(l) => (
                vec![limits::format_number(l.min), limits::format_number(l.max)],
                vec![
                    format!("{}", l.min - l.min.abs().max(1e-9) * 1e-6),
                    format!("{}", l.max * (1.0 + 1e-9)),
                    "nan".into(),
                    "inf".into(),
                ],
            ),
        };
        for v in &inside {
            assert!(
                parse(&line_with(command, flag, v)).is_ok(),
                "{command} {flag} {v}"
            );
        }
        for v in &outside {
            let f = parse(&line_with(command, flag, v)).expect_err(v);
            assert_eq!(f.code, 2);
            assert_eq!(
                f.message,
                format!("{flag} must be {} (got {v})", range.expects())
            );
        }
    }
    // The table above holds every flag with a range.
    for command in ["train", "field", "flow", "eval"] {
        for arg in flags_of(command) {
            let expects = expects_of(command, &arg);
            let name = help::flag_name(&arg);
            let listed = ranged_flags()
                .into_iter()
                .find(|(c, f, _)| *c == command && *f == name);
            match listed {
                Some((_, _, range)) => assert_eq!(expects, range.expects(), "{command} {name}"),
                None => assert!(
                    !expects.starts_with("an integer") && !expects.starts_with("a number"),
                    "{command} {name}: {expects}"
                ),
            }
        }
    }
}

#[test]
fn flow_parses_with_defaults_and_refuses_contradictions() {
    let Ok(Command::Flow(a)) = parse(&strings(&[
        "flow", "--data", "d.csv", "--field", "exact", "--out", "o.csv",
    ])) else {
        panic!("valid line refused")
    };
    assert_eq!(
        (
            a.learned,
            a.schedule,
            a.solver,
            a.steps,
            a.particles,
            a.seed
        ),
        (false, Schedule::Linear, Solver::PosteriorStep, 50, 2000, 0)
    );
    let Ok(Command::Flow(a)) = parse(&strings(&[
        "flow",
        "--field",
        "learned",
        "--data",
        "d.csv",
        "--out",
        "o.csv",
        "--schedule",
        "sqrt",
        "--steps",
        "7",
        "--particles",
        "100",
        "--seed",
        "3",
        "--train-steps",
        "9",
    ])) else {
        panic!("valid line refused")
    };
    assert_eq!(
        (a.learned, a.schedule, a.solver, a.steps, a.particles),
        (true, Schedule::Sqrt, Solver::Rk4, 7, 100)
    );
    assert_eq!((a.seed, a.train_steps), (3, 9));
    let exact = [
        "flow", "--data", "d.csv", "--field", "exact", "--out", "o.csv",
    ];
    for (bad, message) in [
        (
            [&exact[..], &["--train-steps", "5"]].concat(),
            "--train-steps is for --field learned",
        ),
        (
            vec!["flow", "--data", "d.csv", "--field", "exact"],
            "flow needs --out OUT.csv",
        ),
        (
            vec!["flow", "--data", "d.csv", "--out", "o.csv"],
            "flow needs --field exact|learned",
        ),
        (
            vec!["flow", "--field", "exact", "--out", "o.csv"],
            "flow needs --data FILE.csv",
        ),
        (
            vec![
                "flow", "--data", "d.csv", "--field", "both", "--out", "o.csv",
            ],
            "--field must be one of exact, learned (got both)",
        ),
        (
            [&exact[..], &["--particles", "99"]].concat(),
            "--particles must be an integer in 100..=5000 (got 99)",
        ),
        (
            [&exact[..], &["--guidance", "2"]].concat(),
            "--guidance needs --class",
        ),
        (
            [&exact[..], &["--class", "1", "--sigma", "1"]].concat(),
            "--class samples the guided ODE: give --class or --sigma, not both",
        ),
        (
            [&exact[..], &["--sigma", "1", "--solver", "rk4"]].concat(),
            "--sigma integrates by Euler-Maruyama: give --sigma or --solver, not both",
        ),
        (
            [&exact[..], &["--no-score-correction"]].concat(),
            "--no-score-correction needs --sigma",
        ),
    ] {
        let f = parse(&strings(&bad)).expect_err("refused");
        assert_eq!((f.code, f.message.as_str()), (2, message), "{bad:?}");
    }
}

#[test]
fn parse_fills_the_config_and_refuses_contradictions() {
    let Ok(Command::Train(a)) = parse(&strings(&[
        "train",
        "--width",
        "8",
        "--depth",
        "2",
        "--time-features",
        "0",
        "--batch",
        "3",
        "--lr",
        "0.5",
        "--schedule",
        "cosine",
        "--solver",
        "euler",
        "--ode-steps",
        "7",
        "--seed",
        "9",
        "--steps",
        "11",
        "--preset",
        "spiral",
        "--points",
        "40",
    ])) else {
        panic!("valid line refused")
    };
    assert_eq!(a.source, Source::Preset(Preset::Spiral, 40));
    assert_eq!(
        (
            a.config.mlp.width,
            a.config.mlp.depth,
            a.config.mlp.time_features
        ),
        (8, 2, 0)
    );
    assert_eq!(
        (a.config.batch, a.config.adam.lr, a.config.seed),
        (3, 0.5, 9)
    );
    assert_eq!(
        (a.config.schedule, a.solver),
        (Schedule::Cosine, Solver::Euler)
    );
    assert_eq!((a.steps, a.ode_steps), (11, 7));
    // Nothing given: the app's defaults.
    let Ok(Command::Train(a)) = parse(&strings(&["train"])) else {
        panic!("valid line refused")
    };
    assert_eq!(a.config, crate::trainer::TrainConfig::default());
    assert_eq!(a.source, Source::Preset(Preset::TwoMoons, 2048));
    assert_eq!((a.steps, a.ode_steps, a.solver), (5000, 50, Solver::Rk4));
    for bad in [
        &["train", "--data", "a.csv", "--preset", "moons"][..],
        &["train", "--data", "a.csv", "--points", "10"],
        &["train", "--width", "8", "--width", "8"],
        &["field", "--data", "a.csv", "--t", "0.5"],
        &["field", "--at", "a.csv", "--t", "0.5"],
        &["field", "--data", "a.csv", "--at", "b.csv"],
        &["eval", "--at", "a.csv", "--t", "0.5"],
        &["train", "--samples", ""],
    ] {
        assert_eq!(
            parse(&strings(bad)).expect_err("refused").code,
            2,
            "{bad:?}"
        );
    }
    assert_eq!(
        parse(&strings(&["train", "--width", "-h"])).ok(),
        Some(Command::Help)
    );
}

#[test]
fn clap_refusals_are_one_line_naming_the_flag() {
    for (line, message) in [
        (
            &["train", "--width", "8", "--width", "8"][..],
            "--width given twice",
        ),
        (
            &["train", "--steps"],
            "--steps needs a value, an integer in 1..=1000000",
        ),
        (
            &["train", "--steps", "--width"],
            "--steps must be an integer in 1..=1000000 (got --width)",
        ),
        (&["launch"], "unknown command launch (expected train, field, flow or eval; fmp --help lists the flags)"),
        (&[], "missing command (expected train, field, flow or eval; fmp --help lists the flags)"),
    ] {
        let f = parse(&strings(line)).expect_err("refused");
        assert_eq!((f.code, f.message.as_str()), (2, message), "{line:?}");
    }
    let f = parse(&strings(&["field", "--bogus", "1"])).expect_err("refused");
    assert_eq!(
        f.message,
        "unknown flag --bogus (expected --data, --t, --at, --schedule)"
    );
}

#[test]
fn usage_lists_every_flag_with_its_range() {
    let text = help::usage(&clap_command());
    for command in ["train", "field", "flow", "eval"] {
        // The command's own section: from "<command> flags:" to the next blank line.
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != format!("{command} flags:"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        let flags = flags_of(command);
        assert_eq!(section.len(), flags.len(), "{command}");
        for flag in &flags {
            let name = help::flag_name(flag);
            let line = section
                .iter()
                .find(|l| l.trim_start().starts_with(&format!("{name} ")))
                .unwrap_or_else(|| panic!("{command} {name} missing"));
            assert!(line.contains(&expects_of(command, flag)), "{line}");
        }
    }
    assert!(text.contains("--width W"));
    assert!(text.contains("an integer in 4..=512; default 64"), "{text}");
    assert!(
        text.contains("a number in 1e-5..=10; default 0.01"),
        "{text}"
    );
}

/// One argument: a flag of any command, a command, or a value (plain, in-range-ish, absurd or
/// arbitrary).
fn arg() -> impl Strategy<Value = String> {
    let names: Vec<String> = ["train", "field", "flow", "eval"]
        .iter()
        .flat_map(|c| flags_of(c))
        .map(|f| help::flag_name(&f))
        .chain(
            [
                "train", "field", "flow", "exact", "learned", "--bogus", "-h",
            ]
            .map(String::from),
        )
        .collect();
    prop_oneof![
        4 => proptest::sample::select(names),
        2 => (0u64..600).prop_map(|v| v.to_string()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| v.to_string()),
        1 => proptest::sample::select(
            ["moons", "rk4", "sqrt", "-1", "1e30", "1e300", "NaN", "", "0.5", "4096",
             "18446744073709551616", "1000001"]
                .map(String::from)
                .to_vec()
        ),
        1 => ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any argument vector parses or fails with exit code 2 and one line, never panics.
    #[test]
    fn any_arguments_parse_or_give_one_usage_line(args in proptest::collection::vec(arg(), 0..10)) {
        match parse(&args) {
            Ok(_) => {}
            Err(f) => {
                prop_assert_eq!(f.code, 2);
                let out = finish(Err(f));
                prop_assert_eq!(out.stderr.lines().count(), 1);
                prop_assert!(out.stderr.starts_with("error: "));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any argument vector that parses also runs, shrunk to a tiny size (steps, points,
    /// width, batch, ODE steps), to exit code 0, 1 or 2, never a panic.
    #[test]
    fn any_arguments_run_to_an_exit_code(args in proptest::collection::vec(arg(), 0..10)) {
        let result = parse(&args).and_then(|command| match command {
            Command::Help => Ok(help::usage(&super::clap_command())),
            Command::Train(mut a) => {
                a.steps = a.steps.min(3);
                a.ode_steps = a.ode_steps.min(3);
                a.config.mlp.width = a.config.mlp.width.min(8);
                a.config.batch = a.config.batch.min(8);
                if let Source::Preset(_, n) = &mut a.source {
                    *n = (*n).min(30);
                }
                a.samples = None;
                a.save = None;
                a.reflow = a.reflow.min(1);
                train::run(&a)
            }
            Command::Field(a) => field::run(&a),
            Command::Eval(a) => eval::run(&a),
            Command::Flow(mut a) => {
                a.steps = a.steps.min(3);
                a.particles = a.particles.min(20);
                a.train_steps = a.train_steps.min(3);
                a.force = true;
                a.out = std::env::temp_dir()
                    .join(format!("fmp-proptest-{}.csv", std::process::id()))
                    .to_string_lossy()
                    .into_owned();
                flow::run(&a)
            }
        });
        let out = finish(result);
        prop_assert!([0, 1, 2].contains(&out.code), "{:?}", out);
        prop_assert!(out.code == 0 || out.stderr.lines().count() == 1, "{:?}", out);
    }
}
