//! Everything mart writes to the terminal: dbt-style node lines and summaries, as text
//! (coloured only on a terminal) or as JSON lines.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mart_compiler::Manifest;
use mart_diagnostics::{render_human, render_json_line, Diagnostic};
use mart_graph::ResourceType;
use mart_project::secrets::scrub;
use mart_runner::{Event, NodeResult, NodeStatus, Reporter};

use crate::args::{GlobalArgs, LogFormat};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";
/// Width of a node line before its `[status]`, as dbt pads it.
const LINE_WIDTH: usize = 80;

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    color: bool,
    json: bool,
    /// stdout is a terminal: someone is watching, so long steps say they are alive.
    terminal: bool,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let color = !global.no_color && std::env::var_os("NO_COLOR").is_none() && terminal;
        Self {
            color,
            json: global.log_format == LogFormat::Json,
            terminal,
        }
    }

    fn paint(&self, color: &'static str, text: &str) -> String {
        if self.color {
            format!("{color}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// One informational line, timestamped like dbt's.
    pub fn info(&self, message: &str) {
        if !self.json {
            stdout_line(&format!("{}  {message}", clock()));
        } else if !message.is_empty() {
            self.json_line(serde_json::json!({"level": "info", "msg": message}));
        }
    }

    /// A sign of life during a long step: on a terminal only, never in JSON logs.
    pub fn heartbeat(&self, message: &str) {
        if self.terminal && !self.json {
            self.info(message);
        }
    }

    /// Output that is the command's result (ls, compiled SQL): no timestamp, no JSON wrapper.
    pub fn result(&self, text: &str) {
        stdout_line(text);
    }

    pub fn diagnostic(&self, d: &Diagnostic) {
        let text = if self.json {
            render_json_line(d)
        } else {
            let color = self.color && std::io::stderr().is_terminal();
            format!("{}\n", render_human(d, color))
        };
        // A closed stderr leaves nothing better to do than carry on to the exit code.
        let _ = writeln!(std::io::stderr().lock(), "{}", scrub(&text));
    }

    fn json_line(&self, mut value: serde_json::Value) {
        if let Some(map) = value.as_object_mut() {
            map.insert("ts".into(), serde_json::Value::from(clock()));
        }
        stdout_line(&value.to_string());
    }

    /// dbt's closing lines: totals, then the errors again, then PASS/ERROR/SKIP counts.
    pub fn summary(
        &self,
        manifest: &Manifest,
        results: &[NodeResult],
        what: &str,
        elapsed: Duration,
    ) {
        let count = |s: NodeStatus| results.iter().filter(|r| r.status == s).count();
        // dbt counts failed tests with the errors.
        let (pass, warn, error, skip) = (
            count(NodeStatus::Success),
            count(NodeStatus::Warn),
            count(NodeStatus::Error) + count(NodeStatus::Fail),
            count(NodeStatus::Skipped),
        );
        if self.json {
            self.json_line(serde_json::json!({
                "level": "info", "event": "summary", "pass": pass, "warn": warn, "error": error, "skip": skip,
                "total": results.len(), "elapsed_s": elapsed.as_secs_f64(),
            }));
            return;
        }
        self.info("");
        self.info(&format!(
            "Finished running {} {what} in {:.2}s.",
            results.len(),
            elapsed.as_secs_f64()
        ));
        self.info("");
        if error == 0 && warn == 0 {
            self.info(&self.paint(GREEN, "Completed successfully"));
        } else if error == 0 {
            self.info(&self.paint(
                YELLOW,
                &format!("Completed with {warn} warning{}:", plural(warn)),
            ));
        } else {
            self.info(&self.paint(
                RED,
                &match warn {
                    0 => format!("Completed with {error} error{}:", plural(error)),
                    _ => format!(
                        "Completed with {error} error{} and {warn} warning{}:",
                        plural(error),
                        plural(warn)
                    ),
                },
            ));
        }
        let problems = results.iter().filter(|r| {
            matches!(
                r.status,
                NodeStatus::Error | NodeStatus::Fail | NodeStatus::Warn
            )
        });
        for result in problems {
            let node = manifest.node(&result.id);
            let name = node.map_or(result.id.as_str(), |n| n.name.as_str());
            let kind = match result.status {
                NodeStatus::Warn => "Warning",
                _ => "Failure",
            };
            self.info("");
            match node
                .filter(|n| matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest))
            {
                Some(test) => {
                    let what = if test.resource_type == ResourceType::UnitTest {
                        "unit_test"
                    } else {
                        "test"
                    };
                    self.info(&format!(
                        "{kind} in {what} {name} ({})",
                        test.original_file_path
                    ));
                    if result.error.is_none() {
                        // A unit test's message is its diff table, one line each.
                        for line in result.message.lines() {
                            self.info(format!("  {line}").trim_end());
                        }
                    }
                    if let Some(path) = manifest.compiled_path(&result.id) {
                        let path = path.strip_prefix(&manifest.root).unwrap_or(&path);
                        self.info("");
                        self.info(&format!("  compiled code at {}", path.display()));
                    }
                }
                None => self.info(&format!("{kind} in {name} ({})", result.id)),
            }
            if let Some(d) = &result.error {
                for line in render_human(d, self.color).lines() {
                    self.info(line);
                }
            }
        }
        self.info("");
        self.info(&format!(
            "Done. PASS={pass} WARN={warn} ERROR={error} SKIP={skip} TOTAL={}",
            results.len()
        ));
    }
}

/// Writes a line to stdout, secrets masked; a closed pipe (`mart ls | head`) is not an
/// error worth a panic.
fn stdout_line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}", scrub(text));
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// HH:MM:SS (UTC), the stamp before each line.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Prints run progress for one command.
pub struct RunPrinter {
    pub printer: Printer,
    pub manifest: Arc<Manifest>,
    /// Lock waits already told (node, what it waits for): off a terminal each is told once.
    pub told_waits: std::sync::Mutex<std::collections::HashSet<(mart_graph::NodeId, String)>>,
}

impl RunPrinter {
    pub fn new(printer: Printer, manifest: Arc<Manifest>) -> Self {
        Self {
            printer,
            manifest,
            told_waits: Default::default(),
        }
    }

    /// `  still running model.fx.t3 (15 s): create index ...`; a lock wait names the lock
    /// and its holders, also off a terminal (once), where a silent wait looks like a hang.
    fn heartbeat(
        &self,
        id: &mart_graph::NodeId,
        elapsed: Duration,
        statement: Option<&str>,
        waiting_for: Option<&str>,
    ) {
        let name = self.describe(id);
        let secs = elapsed.as_secs();
        match waiting_for {
            Some(wait) => {
                let first = self
                    .told_waits
                    .lock()
                    .map(|mut told| told.insert((id.clone(), wait.to_string())))
                    .unwrap_or(true);
                let line = format!("  {name} has waited {secs} s for {wait}");
                if first {
                    self.printer.info(&line);
                } else {
                    self.printer.heartbeat(&line);
                }
            }
            None => self.printer.heartbeat(&match statement {
                Some(statement) => format!("  still running {name} ({secs} s): {statement}"),
                None => format!("  still running {name} ({secs} s)"),
            }),
        }
    }
}

impl RunPrinter {
    /// `sql table model analytics.dim_user` / `seed file analytics_raw_data.user_event`.
    fn describe(&self, id: &mart_graph::NodeId) -> String {
        match self.manifest.node(id) {
            Some(node) => {
                let relation = format!("{}.{}", node.relation.schema, node.relation.identifier);
                match node.resource_type {
                    ResourceType::Seed => format!("seed file {relation}"),
                    ResourceType::Test => format!("test {}", node.name),
                    ResourceType::UnitTest => {
                        let model = node.fqn.iter().rev().nth(1).map_or("", String::as_str);
                        format!("unit_test {model}::{}", node.name)
                    }
                    ResourceType::Snapshot => format!("snapshot {relation}"),
                    _ => format!("sql {} model {relation}", node.config.materialized),
                }
            }
            None => id.to_string(),
        }
    }

    fn line(&self, index: usize, total: usize, text: &str, status: &str) {
        let left = format!("{index} of {total} {text} ");
        let dots = LINE_WIDTH.saturating_sub(left.chars().count()).max(3);
        self.printer
            .info(&format!("{left}{} {status}", ".".repeat(dots)));
    }
}

impl Reporter for RunPrinter {
    fn report(&self, event: &Event) {
        let p = &self.printer;
        if p.json {
            let value = match event {
                Event::Start { index, total, id } => serde_json::json!({
                    "level": "info", "event": "node_start", "index": index, "total": total, "unique_id": id.as_str(),
                }),
                Event::Finish {
                    index,
                    total,
                    result,
                } => serde_json::json!({
                    "level": match result.status { NodeStatus::Error | NodeStatus::Fail => "error", NodeStatus::Warn => "warn", _ => "info" },
                    "event": "node_finish", "index": index, "total": total, "unique_id": result.id.as_str(),
                    "status": mart_artifacts::status_word(result.status, self.manifest.node(&result.id).map(|n| n.resource_type)),
                    "failures": result.failures,
                    "message": result.message, "execution_time": result.duration.as_secs_f64(),
                    "rows_affected": result.rows_affected,
                }),
                Event::Progress { id, done, total } => serde_json::json!({
                    "level": "info", "event": "node_progress", "unique_id": id.as_str(), "done": done, "total": total,
                }),
                Event::Log { id, message } => serde_json::json!({
                    "level": "info", "event": "node_log", "unique_id": id.as_str(), "message": message,
                }),
                Event::Notice { message } => serde_json::json!({
                    "level": "info", "event": "run_notice", "message": message,
                }),
                // JSON logs carry dbt-style events only.
                Event::Heartbeat { .. } => return,
            };
            p.json_line(value);
            return;
        }
        match event {
            Event::Log { message, .. } | Event::Notice { message } => p.info(message),
            Event::Heartbeat {
                id,
                elapsed,
                statement,
                waiting_for,
            } => self.heartbeat(id, *elapsed, statement.as_deref(), waiting_for.as_deref()),
            Event::Progress { id, done, total } => {
                let name = self
                    .manifest
                    .node(id)
                    .map_or(id.as_str(), |n| n.name.as_str());
                p.info(&format!("  {name}: {done} of {total} rows loaded"));
            }
            Event::Start { index, total, id } => {
                self.line(
                    *index,
                    *total,
                    &format!("START {}", self.describe(id)),
                    "[RUN]",
                );
            }
            Event::Finish {
                index,
                total,
                result,
            } => {
                let what = self.describe(&result.id);
                let secs = result.duration.as_secs_f64();
                let is_test = self.manifest.node(&result.id).is_some_and(|n| {
                    matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest)
                });
                let failures = result.failures.unwrap_or(0);
                match result.status {
                    NodeStatus::Success if is_test => {
                        let status = format!("[{} in {secs:.2}s]", p.paint(GREEN, "PASS"));
                        self.line(
                            *index,
                            *total,
                            &format!("{} {what}", p.paint(GREEN, "PASS")),
                            &status,
                        );
                    }
                    NodeStatus::Warn | NodeStatus::Fail => {
                        let (word, color) = if result.status == NodeStatus::Warn {
                            ("WARN", YELLOW)
                        } else {
                            ("FAIL", RED)
                        };
                        let label = p.paint(color, &format!("{word} {failures}"));
                        let status = format!("[{label} in {secs:.2}s]");
                        self.line(*index, *total, &format!("{label} {what}"), &status);
                    }
                    NodeStatus::Success => {
                        let verb = if what.starts_with("seed") {
                            "loaded"
                        } else if what.starts_with("snapshot") {
                            "snapshotted"
                        } else {
                            "created"
                        };
                        let status = format!("[{} in {secs:.2}s]", p.paint(GREEN, &result.message));
                        self.line(
                            *index,
                            *total,
                            &format!("{} {verb} {what}", p.paint(GREEN, "OK")),
                            &status,
                        );
                    }
                    NodeStatus::Error => {
                        let status = format!("[{} in {secs:.2}s]", p.paint(RED, "ERROR"));
                        self.line(
                            *index,
                            *total,
                            &format!(
                                "{} {what}",
                                p.paint(RED, if is_test { "ERROR" } else { "ERROR creating" })
                            ),
                            &status,
                        );
                    }
                    NodeStatus::Skipped => {
                        let status = format!("[{}]", p.paint(YELLOW, "SKIP"));
                        self.line(
                            *index,
                            *total,
                            &format!(
                                "{} {what}",
                                p.paint(YELLOW, if is_test { "SKIP" } else { "SKIP relation" })
                            ),
                            &status,
                        );
                    }
                }
            }
        }
    }
}
