//! A static file server for `www/`, on the loopback address only: hyper (HTTP/1.1, kept-alive
//! connections) on a small tokio runtime, with tower-http's [`ServeFile`] writing the files.
//!
//! [`resolve`] maps a request path to a file: it percent-decodes the path, then accepts only
//! plain path segments (no `.`/`..`, no empty segments, no backslashes or NUL), so nothing
//! outside the root can be named, encoded or not, and a symlink counts by where it points.
//! Only regular files are served, checked before the file is opened: opening a FIFO would
//! block until something writes to it. Every answer carries [`ISOLATION_HEADERS`],
//! `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`; a file's type is
//! [`content_type`]'s. Methods other than GET and HEAD get `405`.
//!
//! Misbehaving clients cannot starve the server ([`Limits`]). At most `max_connections`
//! connections are held at once; a new one past the cap, or an accept that fails because the
//! process is out of file descriptors, evicts the connection that can best be spared (one kept
//! alive after an answer, else the one that has waited longest for a request head, which gets a
//! `503`). So idle connections cannot lock out a real request, and the accept loop never
//! retries a failing accept without waiting; once accepts fail for want of descriptors, the
//! cap drops to a few below the connections held then, so requests can still open files.
//!
//! A request head must arrive whole within `head_deadline` of the accept or of the previous
//! answer, however slowly it trickles in (`408` otherwise; after an answer, just a close, as
//! for any kept-alive connection gone quiet), and an answer must be taken within
//! [`RESPONSE_TIME`]. hyper answers a head over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines
//! with `431`. Before closing, the server shuts down its sending side and briefly reads and
//! discards what the client still sends, so an error answer (such as that `431`) is not lost
//! to a TCP reset.

use std::convert::Infallible;
use std::fs;
use std::future::{poll_fn, Future};
use std::io;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tower_http::services::ServeFile;

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

/// The headers that make the page cross-origin isolated (so the training workers share
/// memory, www/team.js); a static host should send the same (`dist` writes them to `_headers`).
pub const ISOLATION_HEADERS: [(&str, &str); 2] = [
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
];

/// The largest request head we read (a browser's is about 1 KB).
const MAX_HEAD: usize = 16 * 1024;
/// The most header lines a request head may have.
const MAX_HEADERS: usize = 64;
/// Time allowed to write a whole answer (a loopback client reads megabytes in milliseconds).
const RESPONSE_TIME: Duration = Duration::from_secs(60);
/// Time allowed to write a short error answer of our own.
const ERROR_TIME: Duration = Duration::from_secs(1);
/// Before closing, how long and how much we read and discard, so unread request bytes do not
/// make the close a reset that destroys the answer.
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
    /// Time from the accept (or the previous answer) by which a whole request head must have
    /// arrived.
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

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head; may be evicted.
    Head,
    /// Answering a request; not evicted.
    Responding,
    /// Done, discarding what the client still sends before closing; evicted first.
    Lingering,
    /// Told to go (evicted, or out of time); answers nothing more.
    Closing,
}

/// A connection the server holds.
struct Conn {
    id: u64,
    phase: Phase,
    /// When it entered `phase` (for `Head`: the accept, or the end of the previous answer).
    since: Instant,
    /// Whether it has answered a request.
    answered: bool,
    /// Wakes the connection's task when it is evicted.
    evict: Arc<Notify>,
}

impl Conn {
    /// How readily it is evicted (lower first), `None` if it must not be.
    fn spare_rank(&self) -> Option<u8> {
        match self.phase {
            Phase::Lingering => Some(0),
            Phase::Head if self.answered => Some(0),
            Phase::Head => Some(1),
            Phase::Responding | Phase::Closing => None,
        }
    }
}

/// Every connection the server holds, and a signal for each one that closes.
#[derive(Default)]
struct Registry {
    conns: Mutex<Vec<Conn>>,
    closed: Notify,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Evicts the connection that can best be spared: one done or kept alive after an answer, else the
/// one that has waited longest for its request head. Its task then closes it (answering
/// `503` unless it had answered). `false` when every connection is busy answering.
fn evict_one(conns: &mut [Conn]) -> bool {
    let victim = conns
        .iter_mut()
        .filter(|c| c.spare_rank().is_some())
        .min_by_key(|c| (c.spare_rank(), c.since));
    match victim {
        Some(conn) => {
            conn.phase = Phase::Closing;
            conn.evict.notify_one();
            true
        }
        None => false,
    }
}

/// Waits (briefly) for a file descriptor after an accept failed for want of one, evicting a
/// connection unless one is already on its way out. Never returns at once, unless a connection
/// closed, so the accept loop cannot spin.
///
/// Lowers `cap` to [`SPARE_DESCRIPTORS`] below the connections held now, so that from here on
/// the server holds fewer connections than the process may have descriptors, and a request
/// can still open its file.
async fn wait_for_descriptor(registry: &Registry, cap: &mut usize) {
    // Created first, so it sees every close from here on.
    let closed = registry.closed.notified();
    {
        let mut conns = registry.lock();
        *cap = (*cap).min(conns.len().saturating_sub(SPARE_DESCRIPTORS).max(1));
        if !conns.iter().any(|c| c.phase == Phase::Closing) {
            evict_one(&mut conns);
        }
    }
    let _ = timeout(DESCRIPTOR_WAIT, closed).await;
}

/// Whether an accept or open failed because the process or system is out of file descriptors
/// (EMFILE, ENFILE: 24 and 23 on Linux, macOS and the BSDs).
fn out_of_descriptors(error: &io::Error) -> bool {
    cfg!(unix) && matches!(error.raw_os_error(), Some(23 | 24))
}

/// A connection's entry in the [`Registry`], for its task and its service.
#[derive(Clone)]
struct Handle {
    registry: Arc<Registry>,
    id: u64,
}

impl Handle {
    /// Runs `f` on the connection's entry; `None` if it has none (any more).
    fn with<R>(&self, f: impl FnOnce(&mut Conn) -> R) -> Option<R> {
        let mut conns = self.registry.lock();
        conns.iter_mut().find(|c| c.id == self.id).map(f)
    }

    /// Moves the connection from `from` to `to`; `false` (and no move) if it was elsewhere.
    fn pass(&self, from: Phase, to: Phase) -> bool {
        let now = Instant::now();
        self.with(|c| {
            let passes = c.phase == from;
            if passes {
                c.phase = to;
                c.since = now;
            }
            passes
        }) == Some(true)
    }

    /// When the connection's task must next look at it: the end of the time for its phase
    /// (`head` for a request head, [`RESPONSE_TIME`] for an answer), or, in another phase,
    /// `head` from now (no phase it can move to ends before that).
    fn deadline(&self, head: Duration) -> Instant {
        let now = Instant::now();
        self.with(|c| match c.phase {
            Phase::Head => c.since + head,
            Phase::Responding => c.since + RESPONSE_TIME,
            Phase::Lingering | Phase::Closing => now + head,
        })
        .unwrap_or(now + head)
    }

    /// If the connection has outstayed its phase's time ([`Handle::deadline`]): marks it as
    /// going and tells how to close it. A late head gets `408` unless the connection has
    /// answered before (then it was kept alive and has gone quiet); a late answer is cut off.
    fn past_deadline(&self, head: Duration) -> Option<Ending> {
        let now = Instant::now();
        self.with(|c| match c.phase {
            Phase::Head if now >= c.since + head && !c.answered => {
                // Lingers after its 408, like any other answered connection.
                c.phase = Phase::Lingering;
                c.since = now;
                Some(Ending::Answer(StatusCode::REQUEST_TIMEOUT))
            }
            Phase::Head if now >= c.since + head => {
                c.phase = Phase::Closing;
                Some(Ending::Quietly)
            }
            Phase::Responding if now >= c.since + RESPONSE_TIME => {
                c.phase = Phase::Closing;
                Some(Ending::Quietly)
            }
            _ => None,
        })
        .flatten()
    }

    /// Moves the connection to `Lingering`; `false` (and no move) if it was evicted.
    fn linger(&self) -> bool {
        let now = Instant::now();
        self.with(|c| {
            let stays = c.phase != Phase::Closing;
            if stays {
                c.phase = Phase::Lingering;
                c.since = now;
            }
            stays
        }) == Some(true)
    }

    /// How to close the connection now that it has been evicted.
    fn evicted(&self) -> Ending {
        if self.with(|c| c.answered) == Some(true) {
            Ending::Quietly
        } else {
            Ending::Answer(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// Owns a connection's entry: dropping it removes the entry and wakes an accept loop waiting
/// for a descriptor. Dropped after the socket is closed.
struct Registration(Handle);

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = {
            let mut conns = self.0.registry.lock();
            let index = conns.iter().position(|c| c.id == self.0.id);
            index.map(|i| conns.swap_remove(i))
        };
        drop(removed);
        self.0.registry.closed.notify_waiters();
    }
}

/// A bound server; call [`Server::run`] to answer requests.
pub struct Server {
    listener: StdListener,
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
            listener: StdListener::bind(("127.0.0.1", port))?,
            root: Arc::new(root.to_path_buf()),
            limits,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Answers requests until the process ends, on a tokio runtime of two worker threads; an
    /// error only if the runtime or the listener cannot be set up.
    pub fn run(self) -> io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("serve")
            .enable_io()
            .enable_time()
            .build()?;
        self.listener.set_nonblocking(true)?;
        runtime.block_on(async {
            let listener = TcpListener::from_std(self.listener)?;
            accept_loop(listener, self.root, self.limits).await;
            Ok(())
        })
    }
}

/// Accepts connections, each answered by a task of its own, for ever.
async fn accept_loop(listener: TcpListener, root: Arc<PathBuf>, limits: Limits) {
    let registry = Arc::new(Registry::default());
    let mut next_id = 0u64;
    let mut cap = limits.max_connections.max(1);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                next_id += 1;
                let handle = Handle {
                    registry: Arc::clone(&registry),
                    id: next_id,
                };
                admit(handle, stream, cap, Arc::clone(&root), limits);
            }
            Err(e) if out_of_descriptors(&e) => wait_for_descriptor(&registry, &mut cap).await,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A client that reset before we accepted it; the pause keeps an unforeseen
            // lasting error from making this loop spin.
            Err(_) => sleep(Duration::from_millis(1)).await,
        }
    }
}

/// Registers a new connection (evicting others to stay within `cap`) and starts its task.
fn admit(handle: Handle, stream: TcpStream, cap: usize, root: Arc<PathBuf>, limits: Limits) {
    let evict = Arc::new(Notify::new());
    {
        let mut conns = handle.registry.lock();
        let held = conns.iter().filter(|c| c.phase != Phase::Closing).count();
        for _ in cap..=held {
            if !evict_one(&mut conns) {
                drop(conns);
                // Past the cap with every held connection busy answering: refuse without
                // waiting.
                let _ = stream.try_write(&own_answer(StatusCode::SERVICE_UNAVAILABLE));
                return;
            }
        }
        conns.push(Conn {
            id: handle.id,
            phase: Phase::Head,
            since: Instant::now(),
            answered: false,
            evict: Arc::clone(&evict),
        });
    }
    tokio::spawn(connection(
        Registration(handle),
        stream,
        evict,
        root,
        limits,
    ));
}

/// How a connection's task closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// hyper is done with it: the client closed, or hyper answered a bad head (400, 431).
    Finished,
    /// Kept alive after an answer and gone quiet, or too slow to take its answer: close
    /// without a word.
    Quietly,
    /// Answer this ourselves (408 past the head deadline, 503 when evicted), then close.
    Answer(StatusCode),
}

/// Serves one connection with hyper until it ends, is evicted, or outstays a phase's time
/// ([`Handle::deadline`]); then closes it.
async fn connection(
    registration: Registration,
    stream: TcpStream,
    evict: Arc<Notify>,
    root: Arc<PathBuf>,
    limits: Limits,
) {
    let handle = registration.0.clone();
    let service = {
        let handle = handle.clone();
        service_fn(move |request| answer(Arc::clone(&root), handle.clone(), request))
    };
    let mut http = http1::Builder::new();
    http.title_case_headers(true)
        .max_headers(MAX_HEADERS)
        .max_header_size(MAX_HEAD)
        .header_read_timeout(None);
    let mut conn = http.serve_connection(TokioIo::new(stream), service);
    let ending = loop {
        let deadline = sleep_until(handle.deadline(limits.head_deadline));
        match race(&mut conn, race(evict.notified(), deadline)).await {
            Ok(_) => break Ending::Finished,
            Err(Ok(())) => break handle.evicted(),
            // The phase may have moved on since the deadline was taken.
            Err(Err(())) => {
                if let Some(ending) = handle.past_deadline(limits.head_deadline) {
                    break ending;
                }
            }
        }
    };
    let mut stream = conn.into_parts().io.into_inner();
    if let Ending::Answer(status) = ending {
        let _ = timeout(ERROR_TIME, stream.write_all(&own_answer(status))).await;
    }
    let _ = stream.shutdown().await;
    let linger = match ending {
        Ending::Finished => true,
        Ending::Answer(status) => status == StatusCode::REQUEST_TIMEOUT,
        Ending::Quietly => false,
    };
    if linger && handle.linger() {
        let _ = race(discard(&mut stream), evict.notified()).await;
    }
    // The socket closes before the registration wakes the accept loop.
    drop(stream);
    drop(registration);
}

/// Waits for the first of `a` and `b` to finish (`a` first if both can): `Ok` with `a`'s
/// output, `Err` with `b`'s.
async fn race<A: Future, B: Future>(a: A, b: B) -> Result<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| match a.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Ok(output)),
        Poll::Pending => b.as_mut().poll(cx).map(Err),
    })
    .await
}

/// Reads and discards what the client still sends, for a bounded time and amount, until it
/// closes: closing with unread bytes would send a reset, which can destroy the answer in
/// flight.
async fn discard(stream: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    let _ = timeout(LINGER_TIME, async {
        while drained < LINGER_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

/// An answer the server writes itself, outside hyper (408, 503), with `Connection: close`.
fn own_answer(status: StatusCode) -> Vec<u8> {
    let body = status.canonical_reason().unwrap_or("error");
    let retry = if status == StatusCode::SERVICE_UNAVAILABLE {
        "Retry-After: 1\r\n"
    } else {
        ""
    };
    let isolation: String = ISOLATION_HEADERS
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    format!(
        "HTTP/1.1 {} {body}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
         {isolation}{retry}Connection: close\r\n\r\n{body}",
        status.as_u16(),
        body.len()
    )
    .into_bytes()
}

/// The body of every answer: a file's, or a short text.
type AnyBody = UnsyncBoxBody<Bytes, io::Error>;

/// Marks its connection as answering while it lives; when hyper drops the answer's body (all
/// of it written, or the connection gone) the connection waits for a head again.
struct Answering(Handle);

impl Drop for Answering {
    fn drop(&mut self) {
        let now = Instant::now();
        self.0.with(|c| {
            if c.phase == Phase::Responding {
                c.phase = Phase::Head;
                c.since = now;
                c.answered = true;
            }
        });
    }
}

/// An answer's body, holding its connection's [`Answering`].
struct Guarded {
    body: AnyBody,
    _answering: Answering,
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A short text answer.
fn text(status: StatusCode, text: &'static str) -> Response<AnyBody> {
    let body = Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let plain = HeaderValue::from_static("text/plain; charset=utf-8");
    response.headers_mut().insert(header::CONTENT_TYPE, plain);
    response
}

/// Answers one request (hyper's service): the regular file the path names under `root`,
/// `404` for anything else, `405` for methods other than GET and HEAD.
async fn answer(
    root: Arc<PathBuf>,
    handle: Handle,
    request: Request<Incoming>,
) -> Result<Response<Guarded>, Infallible> {
    if !handle.pass(Phase::Head, Phase::Responding) {
        // Evicted or past its deadline just now: the connection's task answers and closes it.
        return std::future::pending().await;
    }
    let answering = Answering(handle);
    let mut response = if request.method() != Method::GET && request.method() != Method::HEAD {
        text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    } else {
        // Regular files only, checked before opening: opening a FIFO blocks until a writer
        // comes, and a socket or device is not a page.
        let file = resolve(&root, request.uri().path())
            .filter(|file| fs::metadata(file).is_ok_and(|m| m.is_file()));
        match file {
            None => text(StatusCode::NOT_FOUND, "not found"),
            Some(file) => match ServeFile::new(&file).try_call(request).await {
                Ok(response) => {
                    let mut response = response.map(BodyExt::boxed_unsync);
                    if response.status().is_success() {
                        let kind = HeaderValue::from_static(content_type(&file));
                        response.headers_mut().insert(header::CONTENT_TYPE, kind);
                    }
                    response
                }
                Err(e) if out_of_descriptors(&e) => {
                    text(StatusCode::SERVICE_UNAVAILABLE, "server busy")
                }
                Err(_) => text(StatusCode::NOT_FOUND, "not found"),
            },
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    for (name, value) in ISOLATION_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        let retry = HeaderValue::from_static("1");
        response.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    Ok(response.map(|body| Guarded {
        body,
        _answering: answering,
    }))
}
#[cfg(test)]
mod tests;
