//! The command line: `cargo run --release --example fmp -- train|field ...`
//! (see `fmp::cli` for the flags and output formats).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = fmp::cli::run(&args);
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    std::process::exit(out.code);
}
