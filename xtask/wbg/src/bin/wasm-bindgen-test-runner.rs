//! `wasm-bindgen-test-runner` at the pinned version, used as the wasm32 target runner.
fn main() {
    if let Err(err) = wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(std::env::args_os()) {
        eprintln!("error: {err:?}");
        std::process::exit(1);
    }
}
