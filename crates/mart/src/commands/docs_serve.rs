//! The HTTP server of `mart docs serve`: GET and HEAD of the files of the docs site, on
//! 127.0.0.1. It is reachable by anything that runs on the machine, web pages included,
//! so it bounds what a client can cost it (request head size and time, connections) and
//! answers only requests addressed to localhost (DNS rebinding: a page of `evil.example`
//! whose name now resolves to 127.0.0.1 sends `Host: evil.example`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The request line and headers together may be this long.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Connections answered at once; beyond, new ones get 503.
const MAX_CONNECTIONS: usize = 64;
/// The whole request head must arrive within this time (not per read: a client sending a
/// byte now and then cannot hold a connection).
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Writing a response may take this long before the client is given up on.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// After an error answer, what the client still sends is read and dropped for this long,
/// so that closing does not reset the connection before the client has read the answer.
const LINGER: Duration = Duration::from_secs(2);

/// Serves the files of `dir` on `listener` until the process ends.
pub(crate) fn serve(listener: &TcpListener, dir: &Path) {
    let port = listener.local_addr().map_or(0, |a| a.port());
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            // Answered from here: a fresh socket's send buffer takes the few bytes.
            let mut stream = stream;
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write_error(&mut stream, Status::Unavailable);
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        let dir = dir.to_path_buf();
        let active = Arc::clone(&active);
        std::thread::spawn(move || {
            // A client that hangs up early is its own business.
            let _ = answer(&dir, port, stream, HEAD_TIMEOUT);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    UriTooLong,
    MisdirectedRequest,
    HeadersTooLarge,
    Unavailable,
}

impl Status {
    fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::BadRequest => "400 Bad Request",
            Status::NotFound => "404 Not Found",
            Status::MethodNotAllowed => "405 Method Not Allowed",
            Status::RequestTimeout => "408 Request Timeout",
            Status::UriTooLong => "414 URI Too Long",
            Status::MisdirectedRequest => "421 Misdirected Request",
            Status::HeadersTooLarge => "431 Request Header Fields Too Large",
            Status::Unavailable => "503 Service Unavailable",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Status::Ok => "",
            Status::BadRequest => "malformed request\n",
            Status::NotFound => "not found\n",
            Status::MethodNotAllowed => "GET only\n",
            Status::RequestTimeout => "the request took too long\n",
            Status::UriTooLong => "request line too long\n",
            Status::MisdirectedRequest => {
                "this server answers only for localhost, 127.0.0.1 and [::1]\n"
            }
            Status::HeadersTooLarge => "request headers too large\n",
            Status::Unavailable => "too many connections; try again\n",
        }
    }
}

/// The parts of a request head the server looks at.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    target: String,
    host: Option<String>,
}

/// Answers one request on `stream` with a file of `dir` (or an error) and closes it.
fn answer(dir: &Path, port: u16, mut stream: TcpStream, timeout: Duration) -> std::io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let request = read_head(&mut stream, Instant::now() + timeout)
        .and_then(|head| parse_head(&head))
        .and_then(|request| match request.host.as_deref() {
            None => Err(Status::BadRequest),
            Some(host) if !is_local_host(host, port) => Err(Status::MisdirectedRequest),
            Some(_) => Ok(request),
        });
    let request = match request {
        Ok(request) => request,
        Err(status) => {
            write_error(&mut stream, status)?;
            linger(&mut stream);
            return Ok(());
        }
    };
    if request.method != "GET" && request.method != "HEAD" {
        write_error(&mut stream, Status::MethodNotAllowed)?;
        linger(&mut stream);
        return Ok(());
    }
    let file = request_path(dir, &request.target).and_then(|path| {
        let body = std::fs::read(&path).ok()?;
        Some((content_type(&path), body))
    });
    let Some((content_type, body)) = file else {
        return write_error(&mut stream, Status::NotFound);
    };
    write_head(&mut stream, Status::Ok, content_type, body.len())?;
    if request.method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Reads the request line and headers, up to the empty line, within [`MAX_HEAD_BYTES`]
/// and by `deadline`. What follows the head (a body) is not read.
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, Status> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(Status::RequestTimeout);
        }
        // Never more than the cap, so a long line costs at most the cap in memory.
        let room = (MAX_HEAD_BYTES - head.len()).min(chunk.len());
        let read = match stream.read(&mut chunk[..room]) {
            Ok(0) => return Err(Status::BadRequest),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Status::RequestTimeout)
            }
            Err(_) => return Err(Status::BadRequest),
        };
        let searched_from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = find_head_end(&head[searched_from..]) {
            head.truncate(searched_from + end);
            return Ok(head);
        }
        if head.len() >= MAX_HEAD_BYTES {
            // The line that did not fit says which limit it broke.
            return Err(if head.contains(&b'\n') {
                Status::HeadersTooLarge
            } else {
                Status::UriTooLong
            });
        }
    }
}

/// Where the head ends in `bytes` (after `\r\n\r\n`, or `\n\n` from lax clients).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len()).find_map(|i| {
        if bytes[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else if bytes[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

fn parse_head(head: &[u8]) -> Result<Request, Status> {
    let text = std::str::from_utf8(head).map_err(|_| Status::BadRequest)?;
    let mut lines = text.lines();
    let mut parts = lines.next().unwrap_or("").split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Status::BadRequest);
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Err(Status::BadRequest);
    }
    let mut host = None;
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(Status::BadRequest)?;
        if name.trim().eq_ignore_ascii_case("host") {
            if host.is_some() {
                // Two Host headers: which one a proxy looked at is anyone's guess.
                return Err(Status::BadRequest);
            }
            host = Some(value.trim().to_string());
        }
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        host,
    })
}

/// Whether a Host header names this server on the loopback: `localhost`, `127.0.0.1` or
/// `[::1]`, without a port or with the one it listens on.
fn is_local_host(host: &str, port: u16) -> bool {
    let (name, host_port) = match host.rsplit_once(':') {
        Some((name, p)) if !p.contains(']') => (name, Some(p)),
        _ => (host, None),
    };
    let local = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|l| name.eq_ignore_ascii_case(l));
    local && host_port.is_none_or(|p| p.parse::<u16>() == Ok(port))
}

fn write_head(
    stream: &mut TcpStream,
    status: Status,
    content_type: &str,
    len: usize,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        status.line()
    )
}

fn write_error(stream: &mut TcpStream, status: Status) -> std::io::Result<()> {
    let body = status.body();
    write_head(stream, status, "text/plain; charset=utf-8", body.len())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Closes our side, then reads and drops what the client still sends for [`LINGER`] at
/// most (into a fixed buffer): closing with unread data would reset the connection, and
/// the client could lose the answer.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The file a request target names under `dir`: query and fragment dropped,
/// percent-decoded, a folder means its index.html. `None` for anything that would
/// leave `dir` (`..`, absolute parts).
fn request_path(dir: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    let mut file = dir.to_path_buf();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_stay_inside_the_site() {
        let dir = std::env::temp_dir().join(format!("mart_docs_serve_{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nodes")).unwrap();
        assert_eq!(request_path(&dir, "/"), Some(dir.join("index.html")));
        assert_eq!(
            request_path(&dir, "/nodes/model.shop.a~2fb.html?x=1#top"),
            Some(dir.join("nodes/model.shop.a~2fb.html"))
        );
        assert_eq!(
            request_path(&dir, "/index.html?q=dim%20user"),
            Some(dir.join("index.html"))
        );
        assert_eq!(
            request_path(&dir, "/nodes/"),
            Some(dir.join("nodes/index.html"))
        );
        assert_eq!(
            request_path(&dir, "/a%20b.html"),
            Some(dir.join("a b.html"))
        );
        assert_eq!(request_path(&dir, "/../secret"), None);
        assert_eq!(request_path(&dir, "/nodes/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(request_path(&dir, "/%zz"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_loopback_names_with_our_port_are_local() {
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
        ] {
            assert!(is_local_host(host, 8080), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost:8081",
            "127.0.0.1:x",
            "localhost.evil.example",
            "127.0.0.2",
            "",
        ] {
            assert!(!is_local_host(host, 8080), "{host}");
        }
    }

    #[test]
    fn heads_parse_and_malformed_ones_are_bad_requests() {
        assert_eq!(
            parse_head(b"GET /a.html HTTP/1.1\r\nhost: localhost\r\nAccept: */*\r\n\r\n"),
            Ok(Request {
                method: "GET".into(),
                target: "/a.html".into(),
                host: Some("localhost".into()),
            })
        );
        assert_eq!(parse_head(b"GET /\r\n\r\n"), Err(Status::BadRequest));
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"),
            Err(Status::BadRequest)
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n"),
            Err(Status::BadRequest)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nbody"), Some(16));
    }

    #[test]
    fn a_client_that_sends_too_slowly_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let started = Instant::now();
        let server = std::thread::spawn(move || {
            answer(
                Path::new("/nonexistent"),
                port,
                server,
                Duration::from_millis(300),
            )
        });
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(client);
        server.join().unwrap().unwrap();
        assert!(
            response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{response}"
        );
    }
}
