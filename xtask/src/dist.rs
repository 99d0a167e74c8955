//! `cargo xtask dist`: a self-contained static build of the app in `target/dist/`, for any
//! static host (GitHub Pages: `.github/workflows/pages.yml`).
//!
//! - The release wasm goes through `wasm-opt -O3` from the npm package `binaryen` (pinned in
//!   `tests/package.json`; Debian's binaryen 108 writes wasm that fails to load).
//! - Content-hashed names: everything but `index.html` lives in `app-<hash>/`, where `<hash>`
//!   is a hash of every file's name and bytes, so a host may cache those files forever and a
//!   new build is a new folder. `index.html` (never cached for long) points into it. The pages'
//!   relative imports (modules, workers, the wasm) work unchanged inside the folder.
//! - The Content-Security-Policy of `index.html` is kept as it is (`'self'` covers the folder).
//! - Precompressed copies: `<file>.gz` beside each HTML, JS, CSS and wasm file (gzip -9), for
//!   hosts that serve them (nginx `gzip_static`, Caddy `precompressed`).
//! - Left out: `pkg/*.d.ts` (types for the checks) and the benchmark page.
//! - `_headers` (the format of Netlify and Cloudflare Pages) asks the host for the
//!   cross-origin isolation headers of the dev server (`serve::ISOLATION_HEADERS`), under which
//!   the training workers share memory; a host that does not send them (GitHub Pages) still
//!   runs the app, with transferred buffers (www/team.js).
//!
//! It prints the first-visit transfer size (gzip) of HTML, JS, CSS and wasm together, with
//! the wasm before and after wasm-opt. [`dist_smoke`] serves the build with a plain server and
//! runs the smoke test against it (a step of `cargo xtask test`).

use crate::{root, run, serve, setup, Failure, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files of `www/` that are not part of the app.
const LEFT_OUT: [&str; 2] = ["bench.html", "bench.worker.js"];

/// The files the page loads, relative to `www/` (recursively; `pkg/*.d.ts` and LEFT_OUT
/// dropped), sorted.
fn app_files(www: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = www.join(&rel);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = rel.join(&name);
            if entry.path().is_dir() {
                stack.push(path);
            } else if !(LEFT_OUT.contains(&name.as_str())
                || name.ends_with(".d.ts")
                || name == ".gitignore")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// FNV-1a, 64 bits: enough to tell builds apart in a folder name.
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

/// The gzip size of `bytes` (gzip -9), and writes `<path>.gz` when `path` is given.
fn gzip(bytes_of: &Path, write: bool) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(bytes_of)
        .output()
        .map_err(|e| Failure(format!("gzip: {e} (install gzip)")))?;
    if !out.status.success() {
        return Err(Failure(format!("gzip {} failed", bytes_of.display())));
    }
    if write {
        let gz = PathBuf::from(format!("{}.gz", bytes_of.display()));
        std::fs::write(&gz, &out.stdout).map_err(|e| Failure(format!("{}: {e}", gz.display())))?;
    }
    Ok(out.stdout.len() as u64)
}

/// Builds `target/dist/` (see the module docs) and returns its path.
pub fn dist() -> Result<PathBuf> {
    setup::build_app(false)?;
    setup::ensure_npm()?;
    let www = root().join("www");
    let out = root().join("target/dist");
    let _ = std::fs::remove_dir_all(&out);
    // Both builds through wasm-opt: (the file under www/, the optimised copy, extra features).
    let wasms = [
        ("pkg/fmp_bg.wasm", "target/fmp_bg.opt.wasm", None),
        (
            "pkg-relaxed/fmp_bg.wasm",
            "target/fmp_bg.relaxed.opt.wasm",
            Some("--enable-relaxed-simd"),
        ),
    ];
    for (raw, opt, feature) in wasms {
        let mut cmd = Command::new(root().join("tests/node_modules/.bin/wasm-opt"));
        cmd.current_dir(root()).arg("-O3");
        if let Some(f) = feature {
            cmd.arg(f);
        }
        run(
            &format!("wasm-opt -O3 {raw} (npm binaryen)"),
            cmd.arg(www.join(raw)).arg("-o").arg(root().join(opt)),
        )?;
    }
    let raw_wasm = www.join("pkg/fmp_bg.wasm");
    let opt_wasm = root().join("target/fmp_bg.opt.wasm");

    let files = app_files(&www)?;
    let read = |rel: &Path| -> Result<Vec<u8>> {
        let src = match wasms.iter().find(|(raw, _, _)| rel == Path::new(raw)) {
            Some((_, opt, _)) => root().join(opt),
            None => www.join(rel),
        };
        std::fs::read(&src).map_err(|e| Failure(format!("{}: {e}", src.display())))
    };
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for rel in &files {
        fnv1a(&mut hash, rel.to_string_lossy().as_bytes());
        fnv1a(&mut hash, &read(rel)?);
    }
    let folder = format!("app-{:012x}", hash & 0xffff_ffff_ffff);
    let app = out.join(&folder);
    let mut written = Vec::new();
    for rel in &files {
        let bytes = read(rel)?;
        let dest = if rel == Path::new("index.html") {
            // The entry page stays at the root and points into the hashed folder.
            let html = String::from_utf8(bytes)
                .map_err(|_| Failure("www/index.html is not UTF-8".into()))?
                .replace(
                    "href=\"style.css\"",
                    &format!("href=\"{folder}/style.css\""),
                )
                .replace("src=\"main.js\"", &format!("src=\"{folder}/main.js\""));
            if !html.contains(&format!("{folder}/main.js"))
                || !html.contains(&format!("{folder}/style.css"))
            {
                return Err(Failure(
                    "www/index.html no longer loads main.js and style.css as dist expects".into(),
                ));
            }
            let dest = out.join("index.html");
            std::fs::create_dir_all(&out)
                .map_err(|e| Failure(format!("{}: {e}", out.display())))?;
            std::fs::write(&dest, html).map_err(|e| Failure(format!("{}: {e}", dest.display())))?;
            dest
        } else {
            let dest = app.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Failure(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&dest, bytes)
                .map_err(|e| Failure(format!("{}: {e}", dest.display())))?;
            dest
        };
        written.push(dest);
    }

    let headers: String = serve::ISOLATION_HEADERS
        .iter()
        .map(|(name, value)| format!("  {name}: {value}\n"))
        .collect();
    let headers_file = out.join("_headers");
    std::fs::write(&headers_file, format!("/*\n{headers}"))
        .map_err(|e| Failure(format!("{}: {e}", headers_file.display())))?;

    // Precompressed copies and the first-visit transfer size.
    let mut total_gz = 0;
    let mut total_raw = 0;
    for path in &written {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ["html", "js", "css", "wasm"].contains(&ext) {
            total_gz += gzip(path, true)?;
            total_raw += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        }
    }
    let wasm_raw_gz = gzip(&raw_wasm, false)?;
    let wasm_opt_gz = gzip(&opt_wasm, false)?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "{{\"dist\":\"{}\",\"folder\":\"{folder}\",\"files\":{},\"first_visit_bytes\":{total_raw},\
\"first_visit_gzip_bytes\":{total_gz},\"first_visit_gzip_bytes_without_wasm_opt\":{},\
\"wasm_bytes\":{},\"wasm_opt_bytes\":{},\"wasm_gzip_bytes\":{wasm_raw_gz},\"wasm_opt_gzip_bytes\":{wasm_opt_gz}}}",
        out.display(),
        written.len(),
        total_gz - wasm_opt_gz + wasm_raw_gz,
        size(&raw_wasm),
        size(&opt_wasm),
    );
    Ok(out)
}

/// The smoke test of the static build: `cargo xtask dist`, served by Python's plain
/// `http.server` (no special headers, no precompressed copies used), then
/// `tests/e2e/smoke.test.mjs` against it.
pub fn dist_smoke() -> Result {
    let dist = dist()?;
    setup::ensure_chromium()?;
    // A free port: bind one, let it go, hand it to Python.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure(format!("no free port: {e}")))?;
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ])
        .current_dir(&dist)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| Failure(format!("python3 -m http.server: {e}")))?;
    // Wait until it answers (at most 10 s).
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed().as_secs() > 10 {
            let _ = server.kill();
            return Err(Failure("python3 -m http.server did not start".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let outcome = run(
        "smoke test of target/dist behind python3 -m http.server",
        Command::new("node")
            .current_dir(root().join("tests"))
            .env("FMP_URL", format!("http://127.0.0.1:{port}/"))
            .args([
                "--test",
                "--test-reporter=spec",
                "--test-timeout=180000",
                "--test-force-exit",
            ])
            .arg("e2e/smoke.test.mjs"),
    );
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_of_known_strings() {
        let h = |s: &str| {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            fnv1a(&mut h, s.as_bytes());
            h
        };
        assert_eq!(h(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(h("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
