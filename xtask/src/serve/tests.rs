//! Tests of the server over real sockets: what it serves, what it refuses, and how it
//! holds up against idle, trickling, over-size and too many clients.

use super::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

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
    server.run().unwrap();
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

/// Writes `request` on a kept-alive connection and reads one answer: its status, its head
/// and a body of its Content-Length (none for HEAD).
fn exchange(stream: &mut BufReader<TcpStream>, request: &str) -> (u16, String, Vec<u8>) {
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(stream.read_line(&mut line).unwrap() > 0, "closed mid-head");
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .map_or(0, |n| n.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    if !request.starts_with("HEAD ") {
        stream.read_exact(&mut body).unwrap();
    }
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, body)
}

/// A connection to `port` for [`exchange`], failing reads after 5 s.
fn connect(port: u16) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    BufReader::new(stream)
}

#[test]
#[cfg(unix)]
fn symlinks_count_by_where_they_point() {
    let dir = temp_dir("symlinks");
    let (root, outside) = (dir.join("www"), dir.join("outside"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(root.join("index.html"), "<!doctype html>").unwrap();
    fs::write(outside.join("secret.txt"), "secret").unwrap();
    let link = std::os::unix::fs::symlink;
    link(outside.join("secret.txt"), root.join("leak.txt")).unwrap();
    link(outside.clone(), root.join("up")).unwrap();
    link(root.join("index.html"), root.join("inner.html")).unwrap();
    let port = start_with(&root, Limits::default());
    for target in ["/leak.txt", "/up/secret.txt", "/up"] {
        let (status, reply) = raw_get(port, target);
        assert_eq!(status, 404, "{target} answered {status}");
        assert!(!reply.contains("secret\r\n") && !reply.ends_with("secret"));
    }
    // A directory is not a file either.
    fs::create_dir_all(root.join("sub")).unwrap();
    assert_eq!(raw_get(port, "/sub").0, 404);
    let (status, reply) = raw_get(port, "/inner.html");
    assert_eq!(status, 200);
    assert!(reply.ends_with("<!doctype html>"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn every_answer_has_the_headers_and_files_their_types() {
    let dir = temp_dir("types");
    fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
    fs::write(dir.join("app.mjs"), "export {};").unwrap();
    fs::write(dir.join("fmp_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let port = start_with(&dir, Limits::default());
    for (target, status, kind) in [
        ("/", 200, "text/html; charset=utf-8"),
        ("/app.mjs", 200, "text/javascript; charset=utf-8"),
        ("/fmp_bg.wasm", 200, "application/wasm"),
        ("/missing.js", 404, "text/plain; charset=utf-8"),
    ] {
        let (got, reply) = raw_get(port, target);
        assert_eq!(got, status, "{target}");
        for header in [
            format!("Content-Type: {kind}"),
            "Cache-Control: no-store".to_string(),
            "X-Content-Type-Options: nosniff".to_string(),
            "Cross-Origin-Opener-Policy: same-origin".to_string(),
            "Cross-Origin-Embedder-Policy: require-corp".to_string(),
        ] {
            assert!(
                reply.contains(&format!("\r\n{header}\r\n")),
                "{target}: {reply}"
            );
        }
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn head_gets_the_length_without_the_body_and_other_methods_405() {
    let port = start();
    let size = fs::metadata(www_root().join("index.html")).unwrap().len();
    let mut stream = connect(port);
    let head = "HEAD /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let (status, reply, _) = exchange(&mut stream, head);
    assert_eq!(status, 200);
    assert!(
        reply.contains(&format!("\r\nContent-Length: {size}\r\n")),
        "{reply}"
    );
    // Nothing but the next answer follows on the same connection.
    let get = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let (status, _, body) = exchange(&mut stream, get);
    assert_eq!((status, body.len() as u64), (200, size));
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let request = format!(
            "{method} /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
        );
        let (status, reply, _) = exchange(&mut connect(port), &request);
        assert_eq!(status, 405, "{method}: {reply}");
        assert!(reply.contains("\r\nCross-Origin-Embedder-Policy: require-corp\r\n"));
    }
}

#[test]
fn a_kept_alive_connection_is_closed_once_quiet_for_the_head_deadline() {
    let limits = Limits {
        head_deadline: Duration::from_millis(500),
        ..Limits::default()
    };
    let port = start_with(&www_root(), limits);
    let mut stream = connect(port);
    let get = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Answers on one connection, each well within the deadline of the one before.
    for _ in 0..3 {
        assert_eq!(exchange(&mut stream, get).0, 200);
        std::thread::sleep(Duration::from_millis(200));
    }
    let start = Instant::now();
    let mut rest = Vec::new();
    let read = stream.read_to_end(&mut rest);
    let took = start.elapsed();
    assert!(
        read.is_ok() && rest.is_empty(),
        "{read:?}, {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert!(took < Duration::from_secs(2), "still open after {took:?}");
}

/// Not a test of speed (no timing is asserted): prints how fast a GET is answered with
/// many idle connections open, some fresh and some kept alive after an answer.
#[test]
fn load_check_with_200_idle_connections() {
    let port = start();
    let get = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // 100 that never sent a byte, then 100 kept alive after an answer.
    let mut idle: Vec<BufReader<TcpStream>> = (0..100).map(|_| connect(port)).collect();
    while idle.len() < 200 {
        let mut kept = connect(port);
        assert_eq!(exchange(&mut kept, get).0, 200);
        idle.push(kept);
    }
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            let start = Instant::now();
            let mut stream = connect(port);
            assert_eq!(exchange(&mut stream, get).0, 200);
            start.elapsed()
        })
        .collect();
    times.sort();
    eprintln!(
        "{} idle connections: a GET on a new connection took {:?} (min), {:?} (median), \
         {:?} (max) over {} runs",
        idle.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
}
