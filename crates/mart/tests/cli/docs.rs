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
