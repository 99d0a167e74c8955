//! The command line: `cargo run --release --example fmp -- train|field ...`
//! (see `fmp::cli` for the flags and output formats). Native only.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let out = fmp::cli::run_os(std::env::args_os().skip(1));
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    std::process::exit(out.code);
}

/// The command line reads files and the clock: nothing to run on wasm32.
#[cfg(target_arch = "wasm32")]
fn main() {}
