//! `cargo xtask`: the project's commands.
//!
//! - `cargo xtask serve [--port N]`: build the app (wasm32, release, simd128) and serve `www/`.
//! - `cargo xtask test`: every check CI runs, in order, with a summary at the end.
//! - `cargo xtask bench [--check]`: native and in-browser benchmarks, one JSON line per figure
//!   (the app is built with the crate's `bench` feature, which adds the `bench_all` export);
//!   `--check` hands `FMP_BENCH_CHECK=1` to the browser benchmark script, which then exits
//!   non-zero when a figure misses its target.
//! - `cargo xtask dist`: a self-contained static build in `target/dist/` (wasm-opt, content-
//!   hashed folder, precompressed copies; see `dist.rs`), with its first-visit transfer size.
//! - `cargo xtask soak`: the app 8 minutes at its defaults and 3 at the heaviest settings,
//!   printing memory and frame figures every minute (not in CI).
//!
//! Tools that are missing are installed when that can be done safely (the wasm32 target, the
//! pinned wasm-bindgen tools, the npm packages of `tests/`, Debian's Chromium when root).

mod dist;
mod serve;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The repository root (the parent of `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A failure that ends the command, with one clear line for the user.
#[derive(Debug)]
struct Failure(String);

type Result<T = ()> = std::result::Result<T, Failure>;

/// Runs `cmd` with inherited output; fails with `what` when it exits non-zero.
fn run(what: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {what}");
    let status = cmd.status().map_err(|e| {
        Failure(format!(
            "{what}: could not start {:?}: {e}",
            cmd.get_program()
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("{what}: failed ({status})")))
    }
}

/// `cargo` with the same toolchain that runs xtask.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn usage() -> Failure {
    Failure(
        "usage: cargo xtask <serve [--port N] | build | dist | test | bench [--check] | soak>"
            .into(),
    )
}

fn parse_port(args: &[String]) -> Result<u16> {
    match args {
        [] => Ok(8080),
        [flag, value] if flag == "--port" => value
            .parse()
            .map_err(|_| Failure(format!("--port: not a port number: {value}"))),
        _ => Err(usage()),
    }
}

/// `bench [--check]`: whether `--check` was given.
fn parse_bench(args: &[String]) -> Result<bool> {
    match args {
        [] => Ok(false),
        [flag] if flag == "--check" => Ok(true),
        _ => Err(usage()),
    }
}

fn serve(args: &[String]) -> Result {
    let port = parse_port(args)?;
    setup::build_app(false)?;
    let server = serve::Server::bind(&root().join("www"), port)
        .map_err(|e| Failure(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
    println!(
        "Flow Matching Playground: http://127.0.0.1:{}/",
        server.port()
    );
    server
        .run()
        .map_err(|e| Failure(format!("the server stopped: {e}")))
}

/// One named step of `cargo xtask test`.
struct Step {
    name: &'static str,
    run: fn() -> Result,
}

fn test() -> Result {
    let steps = [
        Step {
            name: "cargo fmt --check",
            run: || {
                run(
                    "cargo fmt --check",
                    cargo().args(["fmt", "--all", "--check"]),
                )
            },
        },
        Step {
            name: "clippy (native)",
            run: || {
                run(
                    "clippy (native)",
                    cargo().args([
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )
            },
        },
        Step {
            name: "clippy (wasm32)",
            run: || {
                setup::ensure_wasm_target()?;
                run(
                    "clippy (wasm32)",
                    cargo().args([
                        "clippy",
                        "-p",
                        "fmp",
                        "--all-targets",
                        "--target",
                        "wasm32-unknown-unknown",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )
            },
        },
        Step {
            // The `bench` feature adds the in-browser benchmark exports: lint that build too.
            name: "clippy (native, feature bench)",
            run: || {
                run(
                    "clippy (native, feature bench)",
                    cargo().args([
                        "clippy",
                        "-p",
                        "fmp",
                        "--all-targets",
                        "--features",
                        "bench",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )
            },
        },
        Step {
            name: "clippy (wasm32, feature bench)",
            run: || {
                setup::ensure_wasm_target()?;
                run(
                    "clippy (wasm32, feature bench)",
                    cargo().args([
                        "clippy",
                        "-p",
                        "fmp",
                        "--all-targets",
                        "--features",
                        "bench",
                        "--target",
                        "wasm32-unknown-unknown",
                        "--",
                        "-D",
                        "warnings",
                    ]),
                )
            },
        },
        Step {
            // Also runs the crate's doctests (its library is an rlib).
            name: "native tests",
            run: || run("native tests", cargo().args(["test", "--workspace"])),
        },
        Step {
            name: "cargo doc (warnings denied)",
            run: || {
                run(
                    "cargo doc (warnings denied)",
                    cargo()
                        .args(["doc", "--no-deps", "-p", "fmp"])
                        .env("RUSTDOCFLAGS", "-D warnings"),
                )
            },
        },
        Step {
            name: "wasm tests (headless Chromium)",
            run: setup::wasm_tests,
        },
        Step {
            name: "JavaScript: eslint, tsc, unit tests",
            run: setup::js_checks,
        },
        Step {
            name: "Python loader tests (python/test_fmp_model.py)",
            run: || {
                let python = setup::ensure_python()?;
                run(
                    "Python loader tests (python/test_fmp_model.py)",
                    Command::new(python)
                        .current_dir(root())
                        .arg("python/test_fmp_model.py"),
                )
            },
        },
        Step {
            name: "end-to-end tests (Chromium)",
            run: setup::e2e_tests,
        },
        Step {
            name: "static build (cargo xtask dist) behind a plain server: smoke test",
            run: dist::dist_smoke,
        },
    ];
    let mut results = Vec::new();
    for step in &steps {
        let outcome = (step.run)();
        if let Err(Failure(msg)) = &outcome {
            eprintln!("xtask: FAILED: {msg}");
        }
        results.push((step.name, outcome.is_ok()));
    }
    let passed = results.iter().filter(|(_, ok)| *ok).count();
    let failed = results.len() - passed;
    println!();
    println!("xtask test summary:");
    for (name, ok) in &results {
        println!("  {} {name}", if *ok { "PASS" } else { "FAIL" });
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure(format!(
            "{failed} of {} steps failed",
            results.len()
        )))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((cmd, rest)) => match cmd.as_str() {
            "serve" => serve(rest),
            "build" => setup::build_app(false),
            "dist" if rest.is_empty() => dist::dist().map(|_| ()),
            "test" => test(),
            "bench" => parse_bench(rest).and_then(setup::bench),
            "soak" if rest.is_empty() => setup::soak(),
            _ => Err(usage()),
        },
        None => Err(usage()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("xtask: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
