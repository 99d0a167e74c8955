//! A static file server for `www/`, on the loopback address only.
//!
//! Requests are parsed by httparse (the parser under hyper); each connection gets a thread and
//! one response, then `Connection: close`, so no idle keep-alive connection can hold up
//! another (a thread pool shared with idle keep-alive connections did, in tiny_http).
//! [`resolve`] maps a request path to a file: it percent-decodes the path, then accepts only
//! plain path segments (no `.`/`..`, no empty segments, no backslashes or NUL), so nothing
//! outside the root can be named, encoded or not. Only regular files are served: opening a
//! FIFO would block until something writes to it.
//!
//! Misbehaving clients cannot starve the server ([`Limits`]). At most `max_connections`
//! connections are held at once; a new one past the cap, or an accept that fails because the
//! process is out of file descriptors, evicts the connection that can best be spared (one
//! already answered, else the one that has waited longest for its request head, which gets a
//! `503`). So idle connections cannot lock out a real request, and the accept loop never
//! retries a failing accept without waiting; once accepts fail for want of descriptors, the
//! cap drops to a few below the connections held then, so requests can still open files.
//!
//! The whole request head must arrive within `head_deadline` of the accept, however slowly it
//! trickles in (`408` otherwise). After an answer the server shuts down its sending side and
//! briefly reads and discards what the client still sends, so an error answer (such as `431`
//! to an over-size head) is not lost to a TCP reset.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

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
/// path is malformed, names nothing, or could name anything outside `root`. `/` maps to
/// `index.html`. The result is canonical (symlinks resolved).
pub fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_prefix('/')?;
    let mut decoded = percent_decode(path)?;
    if decoded.is_empty() {
        decoded = "index.html".to_string();
    }
    let mut file = root.to_path_buf();
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
/// Time allowed to write a whole file (a loopback client reads megabytes in milliseconds).
const RESPONSE_TIME: Duration = Duration::from_secs(60);
/// Time allowed to write a short error answer.
const ERROR_TIME: Duration = Duration::from_secs(1);
/// After an answer, how long and how much we read and discard before closing, so unread
/// request bytes do not make the close a reset that destroys the answer.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// See [`LINGER_TIME`].
const LINGER_BYTES: usize = 1 << 20;
/// How long the accept loop waits for a descriptor to be freed when it has none left.
const DESCRIPTOR_WAIT: Duration = Duration::from_millis(10);
/// Descriptors kept free for reading files once the process has run out of them.
const SPARE_DESCRIPTORS: usize = 16;

/// What a client may hold of the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections held at once; past it, the connection that can best be spared is closed.
    pub max_connections: usize,
    /// Time from the accept by which the whole request head must have arrived.
    pub head_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 256,
            head_deadline: Duration::from_secs(10),
        }
    }
}

/// Where a connection is in its one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the request head; may be evicted.
    Head,
    /// Writing the answer; not evicted.
    Responding,
    /// Answered, discarding what the client still sends; evicted first.
    Lingering,
    /// Told to go (its reading side is shut down); about to close.
    Evicted,
}

/// A connection the server holds.
struct Conn {
    id: u64,
    accepted: Instant,
    phase: Phase,
    /// Shared with the connection's thread, so the accept loop can shut it down.
    stream: Arc<TcpStream>,
}

/// Every connection the server holds, and a signal for each one that closes.
#[derive(Default)]
struct Registry {
    conns: Mutex<Vec<Conn>>,
    closed: Condvar,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Evicts the connection that can best be spared: one already answered, else the one that has
/// waited longest for its request head. Shutting down its reading side wakes its thread, which
/// closes the connection (answering `503` if it was still waiting for the head). `false` when
/// every connection is busy answering.
fn evict_one(conns: &mut [Conn]) -> bool {
    let victim = conns
        .iter_mut()
        .filter(|c| matches!(c.phase, Phase::Head | Phase::Lingering))
        .min_by_key(|c| (c.phase == Phase::Head, c.accepted));
    match victim {
        Some(conn) => {
            conn.phase = Phase::Evicted;
            let _ = conn.stream.shutdown(Shutdown::Read);
            true
        }
        None => false,
    }
}

/// Waits (briefly) for a file descriptor after an accept failed for want of one, evicting a
/// connection unless one is already on its way out. Never returns at once, so the accept loop
/// cannot spin.
///
/// Lowers `cap` to [`SPARE_DESCRIPTORS`] below the connections held now, so that from here on
/// the server holds fewer connections than the process may have descriptors, and a request
/// can still open its file.
fn wait_for_descriptor(registry: &Registry, cap: &mut usize) {
    let mut conns = registry.lock();
    *cap = (*cap).min(conns.len().saturating_sub(SPARE_DESCRIPTORS).max(1));
    if !conns.iter().any(|c| c.phase == Phase::Evicted) {
        evict_one(&mut conns);
    }
    let _ = registry.closed.wait_timeout(conns, DESCRIPTOR_WAIT);
}

/// Whether an accept failed because the process or system is out of file descriptors
/// (EMFILE, ENFILE: 24 and 23 on Linux, macOS and the BSDs).
fn out_of_descriptors(error: &io::Error) -> bool {
    cfg!(unix) && matches!(error.raw_os_error(), Some(23 | 24))
}

/// A connection's entry in the [`Registry`]; dropping it removes the entry (closing the socket
/// once the thread has dropped its handle) and wakes an accept loop waiting for a descriptor.
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Registration {
    /// Moves the connection to `phase`; `false` (and no move) if it has been evicted.
    fn enter(&self, phase: Phase) -> bool {
        let mut conns = self.registry.lock();
        match conns.iter_mut().find(|c| c.id == self.id) {
            Some(conn) if conn.phase != Phase::Evicted => {
                conn.phase = phase;
                true
            }
            _ => false,
        }
    }

    fn evicted(&self) -> bool {
        let conns = self.registry.lock();
        !matches!(conns.iter().find(|c| c.id == self.id), Some(c) if c.phase != Phase::Evicted)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = {
            let mut conns = self.registry.lock();
            let index = conns.iter().position(|c| c.id == self.id);
            index.map(|i| conns.swap_remove(i))
        };
        drop(removed);
        self.registry.closed.notify_all();
    }
}

/// A bound server; call [`Server::run`] to answer requests.
pub struct Server {
    listener: TcpListener,
    root: Arc<PathBuf>,
    limits: Limits,
}

impl Server {
    /// Binds `127.0.0.1:port` (port 0 picks a free port) to serve files from `root`.
    pub fn bind(root: &Path, port: u16) -> io::Result<Server> {
        Server::bind_with(root, port, Limits::default())
    }

    /// [`Server::bind`] with other [`Limits`].
    pub fn bind_with(root: &Path, port: u16, limits: Limits) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(("127.0.0.1", port))?,
            root: Arc::new(root.to_path_buf()),
            limits,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Answers requests, a thread per connection, until the process ends.
    pub fn run(self) {
        let registry = Arc::new(Registry::default());
        let mut next_id = 0u64;
        let mut cap = self.limits.max_connections.max(1);
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    next_id += 1;
                    self.admit(&registry, next_id, stream, cap);
                }
                Err(e) if out_of_descriptors(&e) => wait_for_descriptor(&registry, &mut cap),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A client that reset before we accepted it; the pause keeps an unforeseen
                // lasting error from making this loop spin.
                Err(_) => thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Registers a new connection (evicting others to stay within `cap`) and starts its
    /// thread.
    fn admit(&self, registry: &Arc<Registry>, id: u64, stream: TcpStream, cap: usize) {
        let stream = Arc::new(stream);
        let accepted = Instant::now();
        {
            let mut conns = registry.lock();
            let held = conns.iter().filter(|c| c.phase != Phase::Evicted).count();
            for _ in cap..=held {
                if !evict_one(&mut conns) {
                    drop(conns);
                    refuse(&stream);
                    return;
                }
            }
            conns.push(Conn {
                id,
                accepted,
                phase: Phase::Head,
                stream: Arc::clone(&stream),
            });
        }
        let registration = Registration {
            registry: Arc::clone(registry),
            id,
        };
        let root = Arc::clone(&self.root);
        let head_deadline = accepted + self.limits.head_deadline;
        // If no thread can be started the closure is dropped, and the connection with it.
        let _ = thread::Builder::new()
            .name("serve connection".to_string())
            .spawn(move || {
                // A client that went away is not our problem.
                let _ = answer(&root, &stream, &registration, head_deadline);
                // The socket closes here, before the registration wakes the accept loop.
                drop(stream);
                drop(registration);
            });
    }
}

/// Answers `503` to a connection past the cap when every held connection is busy answering,
/// without a thread and without waiting.
fn refuse(stream: &TcpStream) {
    let body = b"server busy";
    let mut reply = response_head(503, "text/plain", body.len()).into_bytes();
    reply.extend_from_slice(body);
    if stream.set_nonblocking(true).is_ok() {
        let _ = (&mut &*stream).write(&reply);
    }
}

/// Why no request head was read.
#[derive(Debug)]
enum NoHead {
    /// The client closed, or the connection failed: nothing to answer.
    Closed,
    /// Evicted while waiting.
    Evicted,
    /// Answer with this status (400, 408 or 431).
    Status(u16),
}

/// The time left until `deadline`, `None` once it has passed.
fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

/// Reads a request head by `deadline`; returns its method and target.
fn read_head(
    stream: &TcpStream,
    deadline: Instant,
    registration: &Registration,
) -> Result<(String, String), NoHead> {
    let mut reader = stream;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = remaining(deadline).ok_or(NoHead::Status(408))?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|_| NoHead::Closed)?;
        let n = match reader.read(&mut chunk) {
            Ok(0) if registration.evicted() => return Err(NoHead::Evicted),
            Ok(0) => return Err(NoHead::Closed),
            Ok(n) => n,
            // A timeout: the top of the loop decides whether the deadline has passed.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(_) => return Err(NoHead::Closed),
        };
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let method = request.method.unwrap_or("").to_string();
                return Ok((method, request.path.unwrap_or("").to_string()));
            }
            Ok(httparse::Status::Partial) if head.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
                return Err(NoHead::Status(431))
            }
            Err(_) => return Err(NoHead::Status(400)),
        }
    }
}

/// The contents of the regular file `target` names under `root`, and its path; or the status
/// to answer instead: 404, or 503 when the process is out of file descriptors.
fn load(root: &Path, target: &str) -> Result<(Vec<u8>, PathBuf), u16> {
    let file = resolve(root, target).ok_or(404u16)?;
    // Regular files only, checked before opening: opening a FIFO blocks until a writer comes,
    // and a socket or device is not a page.
    if !fs::metadata(&file).map_err(|_| 404u16)?.is_file() {
        return Err(404);
    }
    match fs::read(&file) {
        Ok(body) => Ok((body, file)),
        Err(e) if out_of_descriptors(&e) => Err(503),
        Err(_) => Err(404),
    }
}

/// Reads one request from `stream` and writes one response.
fn answer(
    root: &Path,
    stream: &TcpStream,
    registration: &Registration,
    head_deadline: Instant,
) -> io::Result<()> {
    let request = read_head(stream, head_deadline, registration);
    if matches!(request, Err(NoHead::Closed)) {
        return Ok(());
    }
    if matches!(request, Err(NoHead::Evicted)) || !registration.enter(Phase::Responding) {
        // Make way at once: no lingering.
        let by = Instant::now() + ERROR_TIME;
        return respond(stream, 503, "text/plain", b"server busy", true, by);
    }
    let error_by = Instant::now() + ERROR_TIME;
    match request {
        Ok((method, _)) if method != "GET" && method != "HEAD" => respond(
            stream,
            405,
            "text/plain",
            b"method not allowed",
            true,
            error_by,
        )?,
        Ok((method, target)) => {
            let body_wanted = method != "HEAD";
            match load(root, &target) {
                Ok((body, file)) => {
                    let by = Instant::now() + RESPONSE_TIME;
                    respond(stream, 200, content_type(&file), &body, body_wanted, by)?;
                }
                Err(code) => {
                    let body: &[u8] = if code == 503 {
                        b"server busy"
                    } else {
                        b"not found"
                    };
                    respond(stream, code, "text/plain", body, body_wanted, error_by)?;
                }
            }
        }
        Err(NoHead::Status(code)) => {
            let body: &[u8] = match code {
                408 => b"request head too slow",
                431 => b"request head too large",
                _ => b"bad request",
            };
            respond(stream, code, "text/plain", body, true, error_by)?;
        }
        Err(NoHead::Closed | NoHead::Evicted) => return Ok(()),
    }
    linger(stream, registration);
    Ok(())
}

/// Shuts down our sending side (the client sees the end of the answer), then reads and
/// discards what the client still sends, for a bounded time and amount, until it closes:
/// closing with unread bytes would send a reset, which can destroy the answer in flight.
fn linger(stream: &TcpStream, registration: &Registration) {
    if !registration.enter(Phase::Lingering) || stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_TIME;
    let mut reader = stream;
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let Some(left) = remaining(deadline) else {
            return;
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match reader.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// The headers that make the page cross-origin isolated (so the training workers share
/// memory, www/team.js); a static host should send the same (`dist` writes them to `_headers`).
pub const ISOLATION_HEADERS: [(&str, &str); 2] = [
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
];

/// The status line and headers of an answer (with [`ISOLATION_HEADERS`]).
fn response_head(code: u16, content_type: &str, length: usize) -> String {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let retry = if code == 503 {
        "Retry-After: 1\r\n"
    } else {
        ""
    };
    let isolation: String = ISOLATION_HEADERS
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n{isolation}{retry}\
         Connection: close\r\n\r\n"
    )
}

/// Writes all of `bytes` by `deadline`.
fn write_by(stream: &TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    let mut writer = stream;
    while !bytes.is_empty() {
        let left = remaining(deadline).ok_or(io::ErrorKind::TimedOut)?;
        stream.set_write_timeout(Some(left))?;
        match writer.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes a complete response by `deadline` (the caller then closes the connection).
fn respond(
    stream: &TcpStream,
    code: u16,
    content_type: &str,
    body: &[u8],
    with_body: bool,
    deadline: Instant,
) -> io::Result<()> {
    let head = response_head(code, content_type, body.len());
    write_by(stream, head.as_bytes(), deadline)?;
    if with_body {
        write_by(stream, body, deadline)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};

    fn www_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
    }

    /// Sends a raw request line (no client-side normalisation) and returns status and reply.
    /// Fails instead of hanging when the reply takes over 5 s.
    fn raw_get(port: u16, target: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = Vec::new();
        stream
            .read_to_end(&mut reply)
            .unwrap_or_else(|e| panic!("GET {target}: no complete reply within 5 s: {e}"));
        let reply = String::from_utf8_lossy(&reply).to_string();
        let status = reply.split(' ').nth(1).unwrap().parse().unwrap();
        (status, reply)
    }

    /// [`raw_get`], asserting it is answered within `bound`.
    fn timed_get(port: u16, target: &str, bound: Duration) -> (u16, String, Duration) {
        let start = Instant::now();
        let (status, reply) = raw_get(port, target);
        let took = start.elapsed();
        assert!(took < bound, "GET {target} took {took:?}, over {bound:?}");
        (status, reply, took)
    }

    fn start_with(root: &Path, limits: Limits) -> u16 {
        let server = Server::bind_with(root, 0, limits).unwrap();
        let port = server.port();
        std::thread::spawn(move || server.run());
        port
    }

    fn start() -> u16 {
        start_with(&www_root(), Limits::default())
    }

    /// A fresh empty directory under the system's temporary directory.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fmp-serve-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
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
        // Cross-origin isolation, for the training workers' shared memory.
        assert!(reply.contains("Cross-Origin-Opener-Policy: same-origin\r\n"));
        assert!(reply.contains("Cross-Origin-Embedder-Policy: require-corp\r\n"));
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

    #[test]
    fn idle_connections_past_the_cap_do_not_lock_out_a_request() {
        const CAP: usize = 16;
        const IDLE: usize = 300;
        // A long head deadline, so only the cap can close the idle connections here.
        let limits = Limits {
            max_connections: CAP,
            head_deadline: Duration::from_secs(60),
        };
        let port = start_with(&www_root(), limits);
        let idle: Vec<TcpStream> = (0..IDLE)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        let (status, _, took) = timed_get(port, "/index.html", Duration::from_secs(2));
        assert_eq!(status, 200);
        // The server holds at most CAP of them: it has closed the rest, each with a 503.
        let until = Instant::now() + Duration::from_secs(2);
        let mut open = 0;
        for mut stream in idle {
            let left = until.saturating_duration_since(Instant::now());
            let left = left.max(Duration::from_millis(1));
            stream.set_read_timeout(Some(left)).unwrap();
            let mut reply = Vec::new();
            match stream.read_to_end(&mut reply) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    open += 1
                }
                _ => assert!(
                    reply.is_empty() || reply.starts_with(b"HTTP/1.1 503 "),
                    "an evicted connection got {}",
                    String::from_utf8_lossy(&reply)
                ),
            }
        }
        assert!(
            open <= CAP,
            "{open} of {IDLE} idle connections still open, over the cap of {CAP}"
        );
        eprintln!("GET answered in {took:?} with {IDLE} idle connections (cap {CAP}, {open} held)");
    }

    /// Makes [`low_descriptor_limit_server`] run (it is the child process of
    /// [`out_of_descriptors_neither_spins_nor_starves`]).
    const CHILD_ENV: &str = "FMP_SERVE_TEST_CHILD";

    #[test]
    #[ignore = "the server process of out_of_descriptors_neither_spins_nor_starves"]
    fn low_descriptor_limit_server() {
        if std::env::var_os(CHILD_ENV).is_none() {
            return;
        }
        let server = Server::bind(&www_root(), 0).unwrap();
        // libtest has printed "test ... " without a line end: start a line of our own.
        let mut stdout = std::io::stdout();
        write!(stdout, "\nPORT {}\n", server.port()).unwrap();
        stdout.flush().unwrap();
        server.run();
    }

    /// Kills and reaps the child process it holds when dropped, also when a test fails.
    struct KillOnDrop(std::process::Child);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The user and system CPU time of process `pid` so far, in clock ticks (1/100 s).
    #[cfg(target_os = "linux")]
    fn cpu_ticks(pid: u32) -> u64 {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn out_of_descriptors_neither_spins_nor_starves() {
        // The server runs in a child process (this test binary, running only the ignored test
        // above) limited to 64 file descriptors, below the default cap of 256: accepts fail
        // with EMFILE once about 60 connections are held.
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                "ulimit -n 64 && exec \"$0\" --exact serve::tests::low_descriptor_limit_server \
                 --ignored --nocapture --test-threads=1",
            )
            .arg(std::env::current_exe().unwrap())
            .env(CHILD_ENV, "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let stdout = child.0.stdout.take().unwrap();
        let (port_sender, port_receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let port = BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| line.strip_prefix("PORT ")?.parse::<u16>().ok());
            let _ = port_sender.send(port);
        });
        let port = port_receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server process printed no port within 30 s")
            .expect("the server process ended without printing its port");
        let idle: Vec<TcpStream> = (0..200)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        let before = cpu_ticks(child.0.id());
        std::thread::sleep(Duration::from_secs(1));
        let used = cpu_ticks(child.0.id()) - before;
        // A spinning accept loop uses about 100 ticks a second; a waiting one about 0.
        assert!(
            used < 25,
            "the server used {used}/100 s of CPU in 1 s with {} idle connections",
            idle.len()
        );
        let (status, _, took) = timed_get(port, "/index.html", Duration::from_secs(2));
        assert_eq!(status, 200);
        eprintln!(
            "64 descriptors, {} idle connections: {used}/100 s CPU in 1 s, GET in {took:?}",
            idle.len()
        );
    }

    #[test]
    fn a_trickling_request_head_is_cut_off_at_the_deadline() {
        // A byte every 100 ms: a timeout per read (of any length over 100 ms) never fires,
        // only a deadline for the whole head ends this.
        let limits = Limits {
            head_deadline: Duration::from_millis(500),
            ..Limits::default()
        };
        let port = start_with(&www_root(), limits);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let start = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let trickle = {
            let mut writer = stream.try_clone().unwrap();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
                // 6 s at most, the head never complete.
                for byte in head.iter().chain(std::iter::repeat(&b'a')).take(60) {
                    if stop.load(Ordering::Relaxed) || writer.write_all(&[*byte]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let mut reply = Vec::new();
        // Ends when the server closes, or fails after 5 s.
        let read = stream.read_to_end(&mut reply);
        let took = start.elapsed();
        stop.store(true, Ordering::Relaxed);
        trickle.join().unwrap();
        assert!(
            took < Duration::from_secs(2),
            "still connected after {took:?} ({read:?}) with a 500 ms head deadline"
        );
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 408 "), "got {reply:?}");
    }

    #[test]
    fn a_fifo_is_not_served() {
        let dir = temp_dir("fifo");
        fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        let fifo = dir.join("pipe.js");
        match Command::new("mkfifo").arg(&fifo).status() {
            Ok(status) if status.success() => {}
            other => {
                eprintln!("skipped: cannot make a FIFO with mkfifo ({other:?})");
                let _ = fs::remove_dir_all(&dir);
                return;
            }
        }
        let port = start_with(&dir, Limits::default());
        let bound = Duration::from_secs(2);
        assert_eq!(timed_get(port, "/pipe.js", bound).0, 404);
        assert_eq!(timed_get(port, "/", bound).0, 200);
        let _ = fs::remove_dir_all(&dir);
    }

    /// Sends `request` in full, then returns the reply, failing on any error (such as a reset).
    fn send_whole(port: u16, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let written = stream.write_all(request);
        let mut reply = Vec::new();
        let read = stream.read_to_end(&mut reply);
        let reply = String::from_utf8_lossy(&reply).to_string();
        assert!(
            written.is_ok() && read.is_ok(),
            "sending: {written:?}, reading: {read:?}, reply so far: {reply:?}"
        );
        reply
    }

    #[test]
    fn an_over_size_head_gets_an_answer_the_client_can_read() {
        let port = start();
        let mut request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".to_vec();
        request.resize(request.len() + 4 * MAX_HEAD, b'a');
        request.extend_from_slice(b"\r\n\r\n");
        let start = Instant::now();
        let reply = send_whole(port, &request);
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(
            reply.starts_with("HTTP/1.1 431 ") || reply.starts_with("HTTP/1.1 400 "),
            "got {reply:?}"
        );
        assert!(reply.contains("\r\nConnection: close\r\n"));
        // Too many headers, each small.
        let mut request = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            request.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        assert!(send_whole(port, &request).starts_with("HTTP/1.1 431 "));
    }
}
