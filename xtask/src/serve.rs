//! A static file server for `www/`, on the loopback address only.
//!
//! HTTP parsing is tiny_http's; this module only maps a request path to a file. The mapping
//! percent-decodes the path, then accepts only plain path segments (no `.`/`..`, no empty
//! segments, no backslashes or NUL), so nothing outside the root can be named, encoded or not.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Percent-decodes `s`; `None` on a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Maps a request URL (path and optional query) to a file under `root`, or `None` when the
/// path is malformed or could name anything outside `root`. `/` maps to `index.html`.
pub fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix('/')?;
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    if decoded.is_empty() {
        file.push("index.html");
        return Some(file);
    }
    for segment in decoded.split('/') {
        let bad = segment.is_empty()
            || segment == "."
            || segment == ".."
            || segment.contains(['\\', '\0', ':']);
        if bad {
            return None;
        }
        file.push(segment);
    }
    // Symlinks could still point outside: compare canonical paths.
    let canonical = file.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    canonical.starts_with(&root).then_some(canonical)
}

/// The Content-Type for a file name.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "csv" => "text/csv; charset=utf-8",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// How many requests are answered at once: a browser opens several connections, and one
/// client that reads slowly must not hold up the others.
const HANDLERS: usize = 8;

/// A bound server; call [`Server::run`] to answer requests.
pub struct Server {
    http: Arc<tiny_http::Server>,
    root: PathBuf,
}

impl Server {
    /// Binds `127.0.0.1:port` (port 0 picks a free port) to serve files from `root`.
    pub fn bind(root: &Path, port: u16) -> io::Result<Server> {
        let http = tiny_http::Server::http(("127.0.0.1", port)).map_err(io::Error::other)?;
        Ok(Server {
            http: Arc::new(http),
            root: root.to_path_buf(),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.http
            .server_addr()
            .to_ip()
            .map(|addr| addr.port())
            .unwrap_or(0)
    }

    /// Answers requests on `HANDLERS` threads until the process ends.
    pub fn run(self) {
        let this = Arc::new(self);
        let handlers: Vec<_> = (1..HANDLERS)
            .map(|_| {
                let this = Arc::clone(&this);
                std::thread::spawn(move || this.handle_requests())
            })
            .collect();
        this.handle_requests();
        for handler in handlers {
            let _ = handler.join();
        }
    }

    fn handle_requests(&self) {
        while let Ok(request) = self.http.recv() {
            let response = self.answer(request.method(), request.url());
            // A client that went away is not our problem.
            let _ = request.respond(response);
        }
    }

    fn answer(
        &self,
        method: &tiny_http::Method,
        url: &str,
    ) -> tiny_http::Response<io::Cursor<Vec<u8>>> {
        use tiny_http::{Header, Method, Response};
        let text = |code: u16, body: &str| Response::from_string(body).with_status_code(code);
        if !matches!(method, Method::Get | Method::Head) {
            return text(405, "method not allowed");
        }
        let Some(file) = resolve(&self.root, url) else {
            return text(404, "not found");
        };
        let Ok(body) = fs::read(&file) else {
            return text(404, "not found");
        };
        let mut response = Response::from_data(body);
        let headers = [
            ("Content-Type", content_type(&file)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ];
        for (name, value) in headers {
            if let Ok(header) = Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    fn www_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
    }

    /// Sends a raw request line (no client-side normalisation) and returns status and head.
    fn raw_get(port: u16, target: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        let reply = String::from_utf8_lossy(&reply).to_string();
        let status = reply.split(' ').nth(1).unwrap().parse().unwrap();
        (status, reply)
    }

    fn start() -> u16 {
        let server = Server::bind(&www_root(), 0).unwrap();
        let port = server.port();
        std::thread::spawn(move || server.run());
        port
    }

    #[test]
    fn refuses_every_path_outside_www() {
        let port = start();
        for target in [
            "/../Cargo.toml",
            "/../../etc/passwd",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E/Cargo.toml",
            "/..%2fCargo.toml",
            "/%2e%2e%2fCargo.toml",
            "/%2e%2e%5cCargo.toml",
            "/..\\Cargo.toml",
            "//etc/passwd",
            "/./../Cargo.toml",
            "/%252e%252e/Cargo.toml",
            "/index.html/../../Cargo.toml",
            "/%00index.html",
            "/%zz",
        ] {
            let (status, reply) = raw_get(port, target);
            assert_eq!(status, 404, "{target} answered {status}");
            assert!(!reply.contains("[workspace]"), "{target} leaked a file");
        }
    }

    #[test]
    fn serves_files_with_their_types() {
        let port = start();
        let (status, reply) = raw_get(port, "/");
        assert_eq!(status, 200);
        assert!(reply.contains("text/html"));
        let (status, reply) = raw_get(port, "/index.html?x=1");
        assert_eq!(status, 200);
        assert!(reply.to_lowercase().contains("<!doctype html>"));
        assert_eq!(raw_get(port, "/no-such-file.js").0, 404);
        assert_eq!(
            content_type(Path::new("pkg/fmp_bg.wasm")),
            "application/wasm"
        );
    }

    #[test]
    fn resolve_rejects_dot_segments_and_maps_root() {
        let root = www_root();
        assert!(resolve(&root, "/../Cargo.toml").is_none());
        assert!(resolve(&root, "/a/%2e%2e/%2e%2e/Cargo.toml").is_none());
        assert!(resolve(&root, "relative").is_none());
        assert!(resolve(&root, "/").unwrap().ends_with("index.html"));
    }
}
