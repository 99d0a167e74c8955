//! `wasm-bindgen` at the pinned version (rustc rejects a binary named `wasm-bindgen`).
fn main() {
    if let Err(err) = wasm_bindgen_cli::wasm_bindgen::run_cli_with_args(std::env::args_os()) {
        eprintln!("error: {err:?}");
        std::process::exit(1);
    }
}
