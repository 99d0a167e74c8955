//! Installing what is missing, building the app, and running the browser-based steps.

use crate::{cargo, root, run, serve, Failure, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The rustc sysroot of the toolchain that builds the project.
fn sysroot() -> Result<PathBuf> {
    let out = Command::new("rustc")
        .current_dir(root())
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| Failure(format!("cannot run rustc: {e}")))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Installs the wasm32 target when its standard library is absent: rustup first; on this
/// project's own CI machines (rustc 1.95.0 with ../shared/toolchain beside the clone), the
/// archived component as a fallback.
pub fn ensure_wasm_target() -> Result {
    let lib = sysroot()?.join("lib/rustlib").join(WASM_TARGET).join("lib");
    if lib.is_dir() {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target");
    let rustup = Command::new("rustup")
        .current_dir(root())
        .args(["target", "add", WASM_TARGET])
        .status();
    if lib.is_dir() && matches!(rustup, Ok(s) if s.success()) {
        return Ok(());
    }
    let archive = root().join("../shared/toolchain/rust-std-1.95.0-wasm32-unknown-unknown.tar.xz");
    let version = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    if archive.is_file() && version.starts_with("rustc 1.95.0 ") {
        let rustlib = sysroot()?.join("lib/rustlib");
        let tmp = root().join("target/rust-std-extract");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| Failure(e.to_string()))?;
        run(
            "unpacking the archived wasm32 standard library",
            Command::new("tar")
                .arg("-C")
                .arg(&tmp)
                .arg("-xJf")
                .arg(&archive),
        )?;
        // The archive holds rust-std-*/rust-std-wasm32-unknown-unknown/lib/rustlib/<target>.
        let found = find_dir(&tmp, WASM_TARGET)
            .ok_or_else(|| Failure("the archive has no wasm32 standard library".into()))?;
        run(
            "installing it into the sysroot",
            Command::new("cp").arg("-r").arg(&found).arg(&rustlib),
        )?;
    }
    if lib.is_dir() {
        Ok(())
    } else {
        Err(Failure(format!(
            "the {WASM_TARGET} target is not installed and could not be installed: run `rustup target add {WASM_TARGET}`"
        )))
    }
}

/// The first directory named `name` under `dir` (depth-first).
fn find_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == name) && path.join("lib").is_dir() {
                return Some(path);
            }
            if let Some(found) = find_dir(&path, name) {
                return Some(found);
            }
        }
    }
    None
}

/// Where the pinned wasm-bindgen tools are built (once, then reused).
fn tools_dir() -> PathBuf {
    root().join("target/tools/release")
}

/// Builds the pinned bindgen and test-runner binaries (a no-op when up to date).
fn ensure_tools() -> Result {
    let built = tools_dir().join("wbg-bindgen").is_file()
        && tools_dir().join("wasm-bindgen-test-runner").is_file();
    run(
        if built {
            "checking the pinned wasm-bindgen tools"
        } else {
            "building the pinned wasm-bindgen tools (first time: about 90 s)"
        },
        cargo().args([
            "build",
            "--quiet",
            "--release",
            "--locked",
            "--manifest-path",
            "xtask/wbg/Cargo.toml",
            "--target-dir",
            "target/tools",
        ]),
    )
}

/// The two wasm builds of the app: `(label, extra target features, target dir, bindings dir)`.
/// The first (simd128, from .cargo/config.toml) runs everywhere; the second adds relaxed SIMD,
/// and the training workers load it where the browser validates it (www/wasm.js).
const BUILDS: [(&str, &str, &str, &str); 2] = [
    ("simd128", "", "target", "www/pkg"),
    (
        "relaxed SIMD",
        "-C target-feature=+simd128,+relaxed-simd",
        "target/relaxed",
        "www/pkg-relaxed",
    ),
];

/// Builds the crate for wasm32 twice (release; simd128, and simd128 with relaxed SIMD) and
/// generates the JavaScript bindings of each (`www/pkg`, `www/pkg-relaxed`); `with_bench` adds
/// the crate's `bench` feature (the `bench_*` exports), for the benchmarks only.
pub fn build_app(with_bench: bool) -> Result {
    ensure_wasm_target()?;
    ensure_tools()?;
    if std::env::var_os("RUSTFLAGS").is_some() {
        eprintln!(
            "xtask: warning: RUSTFLAGS is set and replaces the simd128 flag of .cargo/config.toml"
        );
    }
    for (label, flags, target_dir, out_dir) in BUILDS {
        let mut build = cargo();
        build.args(["build", "-p", "fmp", "--release", "--target", WASM_TARGET]);
        build.args(["--target-dir", target_dir]);
        if !flags.is_empty() {
            // Replaces the target's rustflags of .cargo/config.toml for this build.
            build.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
        }
        if with_bench {
            build.args(["--features", "bench"]);
        }
        let feature = if with_bench { ", feature bench" } else { "" };
        run(
            &format!("building the crate for wasm32 ({label}, release{feature})"),
            &mut build,
        )?;
        let wasm = root()
            .join(target_dir)
            .join(WASM_TARGET)
            .join("release/fmp.wasm");
        run(
            &format!("generating the JavaScript bindings into {out_dir}"),
            Command::new(tools_dir().join("wbg-bindgen"))
                .current_dir(root())
                // With TypeScript declarations (fmp.d.ts): tsc checks the page against them.
                .args(["--target", "web", "--out-dir", out_dir])
                .arg(&wasm),
        )?;
    }
    Ok(())
}

/// Installs Chromium and ChromeDriver from Debian's packages when absent (root on Debian
/// only); elsewhere stops with a message that names what to install.
pub fn ensure_chromium() -> Result {
    let have = |p: &str| Path::new(p).exists();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !(is_root && have("/etc/debian_version")) {
        return Err(Failure(
            "Chromium and ChromeDriver are missing: install them (Debian: apt-get install chromium chromium-driver) so that /usr/bin/chromium and /usr/bin/chromedriver exist".into(),
        ));
    }
    run(
        "apt-get update",
        Command::new("apt-get").arg("update").arg("-q"),
    )?;
    run(
        "installing chromium and chromium-driver",
        Command::new("apt-get")
            .args(["install", "-y", "-q", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Runs the crate's wasm-bindgen tests in headless Chromium through ChromeDriver, once per
/// wasm build ([`BUILDS`]).
pub fn wasm_tests() -> Result {
    ensure_wasm_target()?;
    ensure_tools()?;
    ensure_chromium()?;
    // Once per wasm build of the app (simd128; relaxed SIMD), so each matrix kernel is tested.
    for (label, flags, target_dir, _) in BUILDS {
        let mut cmd = cargo();
        cmd.args([
            "test",
            "-p",
            "fmp",
            "--target",
            WASM_TARGET,
            "--test",
            "web",
            "--target-dir",
            target_dir,
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            tools_dir().join("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        if !flags.is_empty() {
            cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", flags);
        }
        run(
            &format!("wasm tests ({label}, headless Chromium)"),
            &mut cmd,
        )?;
    }
    Ok(())
}

/// `npm ci` in tests/ when its packages are missing or older than the lock file.
pub fn ensure_npm() -> Result {
    let tests = root().join("tests");
    let stamp = tests.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = match (modified(&stamp), modified(&tests.join("package-lock.json"))) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    run(
        "npm ci (tests/)",
        Command::new("npm")
            .current_dir(&tests)
            .args(["ci", "--no-audit", "--no-fund"]),
    )
}

/// Starts the app server on a free loopback port in a background thread.
fn start_server() -> Result<u16> {
    let server = serve::Server::bind(&root().join("www"), 0)
        .map_err(|e| Failure(format!("cannot start the test server: {e}")))?;
    let port = server.port();
    std::thread::spawn(move || {
        if let Err(e) = server.run() {
            eprintln!("the test server stopped: {e}");
        }
    });
    Ok(port)
}

/// Builds (see [`build_app`]) and serves the app (with Chromium and the npm packages of tests/
/// in place) and returns a `node` command in tests/ that knows the app's address (`FMP_URL`).
fn node_against_served_app(with_bench: bool) -> Result<Command> {
    build_app(with_bench)?;
    ensure_chromium()?;
    ensure_npm()?;
    let port = start_server()?;
    let mut node = Command::new("node");
    node.current_dir(root().join("tests"))
        .env("FMP_URL", format!("http://127.0.0.1:{port}/"));
    Ok(node)
}

/// A command for a tool installed in tests/node_modules/.bin, run from the repository root.
fn npm_bin(name: &str) -> Command {
    let mut cmd = Command::new(root().join("tests/node_modules/.bin").join(name));
    cmd.current_dir(root());
    cmd
}

/// The JavaScript checks: eslint over www/ and tests/, tsc over the page and the workers
/// (against the generated www/pkg/fmp.d.ts, so the app is built first), and the Node unit
/// tests of the pure modules (tests/unit).
pub fn js_checks() -> Result {
    build_app(false)?;
    ensure_npm()?;
    run(
        "eslint (www/, tests/)",
        npm_bin("eslint").args([
            "-c",
            "tests/eslint.config.mjs",
            "--max-warnings",
            "0",
            "www",
            "tests/e2e",
            "tests/bench",
            "tests/unit",
            "tests/eslint.config.mjs",
        ]),
    )?;
    for project in ["tests/tsconfig.www.json", "tests/tsconfig.workers.json"] {
        run(
            &format!("tsc --noEmit -p {project}"),
            npm_bin("tsc").args(["--noEmit", "-p", project]),
        )?;
    }
    run(
        "JavaScript unit tests (node --test tests/unit)",
        Command::new("node")
            .current_dir(root().join("tests"))
            .args(["--test", "--test-reporter=spec", "unit/"]),
    )
}

/// Runs Node's test runner over tests/e2e/*.test.mjs against the served app.
pub fn e2e_tests() -> Result {
    // The export round trip (tests/e2e/export.test.mjs) runs Python and the command line.
    let python = ensure_python()?;
    let cli = build_cli()?;
    run(
        "end-to-end tests (node --test, playwright-core, Chromium)",
        node_against_served_app(false)?
            .env("FMP_PYTHON", python)
            .env("FMP_CLI", cli)
            // A test that fails with a browser still open must not hang the run.
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "--test-timeout=180000",
                "--test-force-exit",
            ])
            .arg("e2e/"),
    )
}

/// The Python packages of the export round trip (`python/`), pinned.
const PYTHON_PACKAGES: [&str; 3] = ["numpy==2.4.6", "safetensors==0.8.0", "scipy==1.17.1"];

/// A virtual environment in `target/pyenv` with [`PYTHON_PACKAGES`] (see [`ensure_venv`]);
/// returns its `python`.
pub fn ensure_python() -> Result<PathBuf> {
    ensure_venv("target/pyenv", &PYTHON_PACKAGES)
}

/// A virtual environment in `dir` (relative to the root) with `packages` (pinned
/// `name==version`), created and filled from PyPI when missing (Debian's `python3-venv` is
/// installed first when root needs it); returns its `python`.
fn ensure_venv(dir: &str, packages: &[&str]) -> Result<PathBuf> {
    let venv = root().join(dir);
    let python = venv.join("bin/python");
    if !python.exists() {
        let venv_works = Command::new("python3")
            .args(["-c", "import ensurepip, venv"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !venv_works {
            run("apt-get update", Command::new("apt-get").arg("update"))?;
            run(
                "installing python3-venv",
                Command::new("apt-get").args(["install", "-y", "python3-venv"]),
            )?;
        }
        run(
            &format!("python3 -m venv {dir}"),
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
        )?;
    }
    let have = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, sys; sys.exit(0 if all(m.version(p.split('==')[0]) == p.split('==')[1] for p in sys.argv[1:]) else 1)",
        ])
        .args(packages)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        run(
            &format!("pip install {} ({dir})", packages.join(" ")),
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(packages),
        )?;
    }
    Ok(python)
}

/// Builds the native command line (`fmp`, release) and returns its path.
pub fn build_cli() -> Result<PathBuf> {
    run(
        "building the command line (fmp, release)",
        cargo().args(["build", "--release", "-p", "fmp", "--example", "fmp"]),
    )?;
    Ok(root().join("target/release/examples/fmp"))
}

/// Native benchmarks, then the in-browser benchmarks against the served release build (with
/// the `bench` feature); `check` sets `FMP_BENCH_CHECK=1` for the browser benchmark script.
pub fn bench(check: bool) -> Result {
    eprintln!("xtask: native benchmarks (about 40 s)");
    let native = printed_output(
        "native benchmarks",
        cargo().args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "fmp",
            "--example",
            "bench",
        ]),
    )?;
    let jax = jax_bench()?;
    let mut node = node_against_served_app(true)?;
    node.arg("bench/bench.mjs")
        .env("FMP_NATIVE_BENCH", native)
        .env("FMP_JAX_BENCH", jax);
    if check {
        node.env("FMP_BENCH_CHECK", "1");
    }
    run("browser benchmarks (about 60 s)", &mut node)
}

/// JAX for the reference benchmark, pinned (from PyPI, into `target/jaxenv`; jaxlib is the
/// CPU build, what `jax[cpu]` installs).
const JAX_PACKAGES: [&str; 2] = ["jax==0.10.2", "jaxlib==0.10.2"];

/// The canonical training benchmark in JAX (`tests/bench/jax_bench.py`: jit, one thread, on
/// core 0 through `taskset` where it exists); returns its JSON lines (also printed). JAX is
/// installed into `target/jaxenv` on first use.
fn jax_bench() -> Result<String> {
    let python = ensure_venv("target/jaxenv", &JAX_PACKAGES)?;
    eprintln!("xtask: JAX benchmark, one thread (about 30 s)");
    let script = root().join("tests/bench/jax_bench.py");
    let pinned = Command::new("taskset").arg("-V").output().is_ok();
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&python);
        c
    } else {
        Command::new(&python)
    };
    printed_output("the JAX benchmark", cmd.arg(&script).args(["3", "3"]))
}

/// Runs `cmd` for its standard output (JSON lines), which it prints and returns; on failure
/// prints its standard error and fails, naming `what`.
fn printed_output(what: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| Failure(format!("{what}: {e}")))?;
    let lines = String::from_utf8_lossy(&out.stdout).to_string();
    print!("{lines}");
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return Err(Failure(format!("{what} failed")));
    }
    Ok(lines)
}

/// The soak run (not in CI): the app at its defaults for 8 minutes, then at the heaviest
/// allowed settings for 3, printing memory and frame figures every minute.
pub fn soak() -> Result {
    run(
        "soak run (about 12 minutes)",
        node_against_served_app(false)?.arg("bench/soak.mjs"),
    )
}
