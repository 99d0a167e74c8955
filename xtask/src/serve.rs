//! A static file server for `www/`, on the loopback address only.
//!
//! Requests are parsed by httparse (the parser under hyper); each connection gets a thread and
//! one response, then `Connection: close`, so no idle keep-alive connection can hold up
//! another (a thread pool shared with idle keep-alive connections did, in tiny_http).
//! [`resolve`] maps a request path to a file: it percent-decodes the path, then accepts only
//! plain path segments (no `.`/`..`, no empty segments, no backslashes or NUL), so nothing
//! outside the root can be named, encoded or not.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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

/// The largest request head we read (a browser's is about 1 KB).
const MAX_HEAD: usize = 16 * 1024;

/// A bound server; call [`Server::run`] to answer requests.
pub struct Server {
    listener: TcpListener,
    root: Arc<PathBuf>,
}

impl Server {
    /// Binds `127.0.0.1:port` (port 0 picks a free port) to serve files from `root`.
    pub fn bind(root: &Path, port: u16) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(("127.0.0.1", port))?,
            root: Arc::new(root.to_path_buf()),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Answers requests, a thread per connection, until the process ends.
    pub fn run(self) {
        for stream in self.listener.incoming().flatten() {
            let root = Arc::clone(&self.root);
            std::thread::spawn(move || {
                // A client that went away is not our problem.
                let _ = answer(&root, stream);
            });
        }
    }
}

/// Reads one request from `stream` and writes one response.
fn answer(root: &Path, mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let (method, target) = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let method = request.method.unwrap_or("").to_string();
                break (method, request.path.unwrap_or("").to_string());
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => continue,
            _ => return respond(&mut stream, 400, "text/plain", b"bad request", true),
        }
    };
    let body_wanted = method != "HEAD";
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, 405, "text/plain", b"method not allowed", true);
    }
    match resolve(root, &target).and_then(|file| Some((fs::read(&file).ok()?, file))) {
        Some((body, file)) => respond(&mut stream, 200, content_type(&file), &body, body_wanted),
        None => respond(&mut stream, 404, "text/plain", b"not found", body_wanted),
    }
}

/// Writes a complete response and closes the connection.
fn respond(
    stream: &mut TcpStream,
    code: u16,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
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
