//! `mart docs generate` and `mart docs serve` on the example project.

// Test support: a failed request should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::harness::TestProject;
use crate::lecture;

#[test]
fn docs_generate_reads_column_types_from_the_database() {
    let project = TestProject::example("docs_catalog");
    project.mart_expect(&lecture(&["seed"]), 0);
    project.mart_expect(&lecture(&["run"]), 0);
    let out = project.mart_expect(&["docs", "generate"], 0);
    assert!(
        out.stdout.contains("Wrote ")
            && out.stdout.contains(" files (")
            && out.stdout.contains("to target/mart/docs"),
        "{}",
        out.stdout
    );
    let docs = project.dir.join("target/mart/docs");
    let page =
        std::fs::read_to_string(docs.join("nodes/model.mart_example.dim_user.html")).unwrap();
    // The catalog's type, not the property file's `varchar(32)`.
    assert!(page.contains("<td>character varying(32)</td>"), "{page}");
    assert!(page.contains(r#"<a href="../nodes/model.mart_example.dim_user_variant.html">dim_user_variant</a>.variant_id"#));
    // Compiled SQL is written as `mart compile` writes it.
    assert!(project
        .dir
        .join("target/mart/compiled/mart_example/models/dim/dim_user.sql")
        .is_file());
}

#[test]
fn docs_generate_without_a_database_carries_on() {
    let project = TestProject::example("docs_offline");
    project.write(
        "profiles.yml",
        "mart_example:\n  target: t\n  outputs:\n    t: {type: postgres, host: 127.0.0.1, port: 1, user: postgres, dbname: postgres, schema: nowhere}\n",
    );
    let out = project.mart_expect(&["docs", "generate"], 0);
    assert!(
        out.stdout
            .contains("No catalog: the database did not answer"),
        "{}",
        out.stdout
    );
    let page = std::fs::read_to_string(
        project
            .dir
            .join("target/mart/docs/nodes/model.mart_example.dim_user.html"),
    )
    .unwrap();
    assert!(page.contains("<td>varchar(32)</td>"));
}

/// GET `path` from 127.0.0.1:`port`: the status line and the body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[test]
fn docs_serve_answers_on_localhost_with_the_site() {
    let project = TestProject::example("docs_serve");
    let missing = project.mart_expect(&["docs", "serve", "--port", "0"], 2);
    assert!(
        missing.stderr.contains("run `mart docs generate` first"),
        "{}",
        missing.stderr
    );
    project.mart_expect(&["docs", "generate", "--empty-catalog"], 0);
    let mut server = Command::new(env!("CARGO_BIN_EXE_mart"))
        .args(["docs", "serve", "--port", "0", "--project-dir"])
        .arg(&project.dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let (status, body) = get(port, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("<h1>mart_example</h1>"));
    let (status, body) = get(port, "/search/0.js");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.starts_with("martSearch.add("));
    assert_eq!(get(port, "/../project.yml").0, "HTTP/1.1 404 Not Found");
    assert_eq!(get(port, "/nodes/nothing.html").0, "HTTP/1.1 404 Not Found");
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `mart docs serve --port 0` on a project whose site is one page; killed when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
    _project: TestProject,
}

impl Server {
    fn start(tag: &str) -> Self {
        let project = TestProject::with_files(
            tag,
            &[
                ("models/m.sql", "select 1 as a\n"),
                ("target/docs/index.html", "<h1>site</h1>\n"),
            ],
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_mart"))
            .args(["docs", "serve", "--port", "0", "--project-dir"])
            .arg(&project.dir)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server {
            child,
            port,
            _project: project,
        }
    }

    /// Sends `request` (from another thread, so that a server answering early does not
    /// block it) and returns the status line of the answer.
    fn status_of(&self, request: Vec<u8>) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sending = std::thread::spawn(move || {
            let _ = writer.write_all(&request);
            let _ = writer.shutdown(std::net::Shutdown::Write);
        });
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        sending.join().unwrap();
        let response = String::from_utf8_lossy(&response);
        response.lines().next().unwrap_or("").to_string()
    }

    fn get_with_host(&self, host: &str) -> String {
        self.status_of(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes())
    }

    /// The server's resident memory in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn docs_serve_bounds_the_request_head() {
    let server = Server::start("docs_serve_big");
    let ok = "HTTP/1.1 200 OK";
    assert_eq!(server.get_with_host("localhost"), ok);
    let before = server.rss_kib();
    // A 64 MiB request line is refused after the first 16 KiB, and not kept.
    let mut line = b"GET /".to_vec();
    line.resize(64 << 20, b'a');
    line.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(server.status_of(line), "HTTP/1.1 414 URI Too Long");
    let mut headers = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    headers.resize(4 << 20, b'b');
    headers.extend_from_slice(b"\r\n\r\n");
    assert_eq!(
        server.status_of(headers),
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 8 * 1024, "the server grew by {grown} KiB");
    assert_eq!(
        server.status_of(b"BREW /\r\n\r\n".to_vec()),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(server.get_with_host("localhost"), ok);
}

#[test]
fn docs_serve_answers_only_requests_addressed_to_localhost() {
    let server = Server::start("docs_serve_host");
    let port = server.port;
    for host in [
        "localhost".to_string(),
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(server.get_with_host(&host), "HTTP/1.1 200 OK", "{host}");
    }
    // DNS rebinding: a page of another site whose name now points at 127.0.0.1.
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("localhost:{}", port.wrapping_add(1)),
    ] {
        assert_eq!(
            server.get_with_host(&host),
            "HTTP/1.1 421 Misdirected Request",
            "{host}"
        );
    }
    assert_eq!(
        server.status_of(b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(server.get_with_host("localhost"), "HTTP/1.1 200 OK");
}

#[test]
fn docs_serve_caps_concurrent_connections() {
    let server = Server::start("docs_serve_many");
    // 64 connections that send nothing hold every slot...
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    // ...so the next one is turned away at once rather than queued behind them.
    let mut extra = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    extra
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut response = String::new();
    extra.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{response}"
    );
    // Their slots free as they hang up.
    drop(idle);
    let started = std::time::Instant::now();
    loop {
        let status = server.get_with_host("localhost");
        if status == "HTTP/1.1 200 OK" {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "still {status} after the idle connections closed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
