//! A project in a temp folder, a schema of its own on the local PostgreSQL, and the mart
//! binary run against them. Schemas are dropped when the project is dropped.

// Test support: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use mart_postgres::{Connection, ConnectionConfig};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout without the HH:MM:SS stamps and with durations as `N.NNs`, for snapshots.
    pub fn stable_stdout(&self) -> String {
        self.stdout
            .lines()
            .map(|l| {
                let l = if l.len() >= 10 && l.as_bytes()[2] == b':' && l.as_bytes()[5] == b':' {
                    &l[10..]
                } else {
                    l
                };
                stable_durations(l)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn stable_durations(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("s]").or_else(|| rest.find("s.")) {
        let head = &rest[..i];
        let start = head
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |p| p + 1);
        if start < head.len() && head[start..].contains('.') {
            out.push_str(&head[..start]);
            out.push_str("N.NN");
        } else {
            out.push_str(head);
        }
        out.push('s');
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

pub struct TestProject {
    pub dir: PathBuf,
    pub schema: String,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl TestProject {
    fn empty(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let schema = format!("mart_test_{}_{n}_{tag}", std::process::id());
        let dir = std::env::temp_dir().join(&schema);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, schema }
    }

    /// A copy of the repository's example project.
    pub fn example(tag: &str) -> Self {
        let project = Self::empty(tag);
        let root = repo_root();
        std::fs::copy(root.join("project.yml"), project.dir.join("project.yml")).unwrap();
        for dir in ["models", "seeds", "macros", "snapshots", "tests"] {
            copy_dir(&root.join(dir), &project.dir.join(dir));
        }
        project.write_profile("mart_example");
        project
    }

    /// A project of the given files; a dbt_project.yml named `fx` unless one is given.
    pub fn with_files(tag: &str, files: &[(&str, &str)]) -> Self {
        let project = Self::empty(tag);
        if !files.iter().any(|(p, _)| *p == "dbt_project.yml") {
            project.write(
                "dbt_project.yml",
                "name: fx\nprofile: fx\nmodels:\n  fx:\n    +materialized: view\n",
            );
        }
        for (path, text) in files {
            project.write(path, text);
        }
        project.write_profile("fx");
        project
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn write_profile(&self, profile: &str) {
        self.write(
            "profiles.yml",
            &format!(
                "{profile}:\n  target: test\n  outputs:\n    test:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: postgres\n      schema: {}\n      threads: 4\n",
                self.schema
            ),
        );
    }

    pub fn mart(&self, args: &[&str]) -> Output {
        self.mart_with_env(args, &[])
    }

    /// The mart command on this project, not started yet.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mart"));
        command
            .args(args)
            // The saved parse's stamp key (see mart_project::stamp_key) in a folder of the
            // tests, not the user's cache; a test may name another.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("mart_test_cache"),
            )
            .arg("--project-dir")
            .arg(&self.dir)
            .arg("--profiles-dir")
            .arg(&self.dir)
            .env("NO_COLOR", "1")
            .env_remove("MART_PROFILES_DIR");
        command
    }

    /// Starts mart in the background with its output captured, to signal or race it.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// [`TestProject::mart`] with extra environment variables.
    pub fn mart_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self
            .command(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs mart and fails the test with its output unless it exits with `code`.
    pub fn mart_expect(&self, args: &[&str], code: i32) -> Output {
        let out = self.mart(args);
        assert_eq!(
            out.code, code,
            "mart {args:?}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        out
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        block_on(async {
            let connection = Connection::connect(&config()).await.unwrap();
            connection.query(sql).await.unwrap().rows
        })
    }

    /// Rows of `sql` as `a|b|c` lines, NULL as `-`.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        self.query(sql)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| v.unwrap_or_else(|| "-".into()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// Runs `sql`, returning PostgreSQL's error message if it fails.
    pub fn try_execute(&self, sql: &str) -> Result<(), String> {
        block_on(async {
            let connection = Connection::connect(&config()).await.unwrap();
            connection
                .execute(sql)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }

    pub fn execute(&self, sql: &str) {
        block_on(async {
            let connection = Connection::connect(&config()).await.unwrap();
            connection.execute(sql).await.unwrap();
        });
    }

    /// Row count of `schema_suffix`-schema relation `name` (suffix "" for the main schema).
    pub fn count(&self, relation: &str) -> i64 {
        let rows = self.query(&format!("select count(*) from {relation}"));
        rows[0][0].as_deref().unwrap().parse().unwrap()
    }

    /// Relations of the test's schemas as (schema suffix, name, kind) sorted.
    pub fn relations(&self) -> Vec<(String, String, String)> {
        self.query(&format!(
            "select n.nspname, c.relname, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where (n.nspname = '{s}' or n.nspname like '{s}\\_%') and c.relkind in ('r', 'v') order by 1, 2",
            s = self.schema
        ))
        .into_iter()
        .map(|r| {
            let schema = r[0].clone().unwrap();
            let suffix = schema.strip_prefix(&self.schema).unwrap_or(&schema).to_string();
            (suffix, r[1].clone().unwrap(), r[2].clone().unwrap())
        })
        .collect()
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        let _ = std::panic::catch_unwind(|| {
            block_on(async {
                let connection = Connection::connect(&config()).await.unwrap();
                let rows = connection
                    .query(&format!("select nspname from pg_namespace where nspname = '{schema}' or nspname like '{schema}\\_%'"))
                    .await
                    .unwrap()
                    .rows;
                for row in rows {
                    let name = row[0].clone().unwrap();
                    connection
                        .execute(&format!("drop schema \"{name}\" cascade"))
                        .await
                        .unwrap();
                }
            })
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config() -> ConnectionConfig {
    ConnectionConfig {
        host: "127.0.0.1".into(),
        port: 5432,
        user: "postgres".into(),
        dbname: "postgres".into(),
        application_name: "mart-tests".into(),
        ..ConnectionConfig::default()
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
