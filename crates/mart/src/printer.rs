//! Everything mart writes to the terminal: dbt-style node lines and summaries, as text
//! (coloured only on a terminal) or as JSON lines.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mart_compiler::Manifest;
use mart_diagnostics::{render_human, render_json_line, Diagnostic, Diagnostics, Severity};
use mart_graph::ResourceType;
use mart_project::secrets::scrub;
use mart_runner::{Event, NodeResult, NodeStatus, Reporter};

use crate::args::{GlobalArgs, LogFormat, LogLevel};
use crate::warn_error::{Treatment, WarnErrorPolicy};

mod batches;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";
/// Width of a node line before its `[status]`, as dbt pads it.
const LINE_WIDTH: usize = 80;

/// The warnings any printer of this process printed as errors (`--warn-error`,
/// `--warn-error-options`): the command fails when there are some.
static WARNINGS: AtomicUsize = AtomicUsize::new(0);

/// The process's `--warn-error` / `--warn-error-options` policy, set once at start.
static POLICY: std::sync::OnceLock<WarnErrorPolicy> = std::sync::OnceLock::new();

/// The colours of statuses.
#[derive(Clone, Copy, Debug)]
pub enum Color {
    Green,
    Yellow,
    Red,
}

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    color: bool,
    json: bool,
    /// stdout is a terminal: someone is watching, so long steps say they are alive.
    terminal: bool,
    /// The least important lines shown (`--log-level`; `--quiet` is `error`).
    level: LogLevel,
}

impl Printer {
    pub fn new(global: &GlobalArgs) -> Self {
        let terminal = std::io::stdout().is_terminal();
        let color = !global.no_color && std::env::var_os("NO_COLOR").is_none() && terminal;
        Self {
            color,
            json: global.log_format == LogFormat::Json,
            terminal,
            level: if global.quiet {
                LogLevel::Error
            } else {
                global.log_level
            },
        }
    }

    /// Opens `--log-path`'s `mart.log` for this process (appending); every later line,
    /// whatever its level, is copied there.
    pub fn open_log_file(dir: &std::path::Path) -> Result<(), Diagnostic> {
        std::fs::create_dir_all(dir)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("mart.log"))
            })
            .map(|file| {
                let _ = LOG_FILE.set(std::sync::Mutex::new(file));
            })
            .map_err(|e| {
                Diagnostic::error(
                    mart_diagnostics::Code::Io,
                    format!("cannot open {}: {e}", dir.join("mart.log").display()),
                )
                .with_help("pass a writable folder with --log-path")
            })
    }

    fn shows(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// Sets the process's warnings policy (the first call wins).
    pub fn set_warn_error_policy(policy: WarnErrorPolicy) {
        let _ = POLICY.set(policy);
    }

    fn policy() -> &'static WarnErrorPolicy {
        static NONE: std::sync::OnceLock<WarnErrorPolicy> = std::sync::OnceLock::new();
        POLICY
            .get()
            .unwrap_or_else(|| NONE.get_or_init(WarnErrorPolicy::default))
    }

    /// Whether a test that warns fails the command (`--warn-error`, or
    /// `--warn-error-options` naming LogTestResult or `all`).
    pub fn warn_error(&self) -> bool {
        Self::policy().treat(Some(crate::warn_error::TEST_WARNING)) == Treatment::Error
    }

    /// How many warnings were printed as errors (`--warn-error`, `--warn-error-options`).
    pub fn warnings_as_errors(&self) -> usize {
        WARNINGS.load(Ordering::Relaxed)
    }

    /// Stops the command when `--warn-error` turned a printed warning into an error. The
    /// diagnostics are empty: the warnings were already printed, and the exit status
    /// comes from [`Printer::warnings_as_errors`].
    pub fn stop_on_warnings(&self) -> Result<(), Diagnostics> {
        match self.warnings_as_errors() {
            0 => Ok(()),
            _ => Err(Diagnostics::default()),
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
        self.line_at(LogLevel::Info, message);
    }

    /// A line shown only under `--log-level debug`.
    pub fn debug(&self, message: &str) {
        self.line_at(LogLevel::Debug, message);
    }

    /// A line of `level`: shown when `--log-level` lets it through, always logged to file.
    fn line_at(&self, level: LogLevel, message: &str) {
        let text = format!("{}  {message}", clock());
        log_to_file(&text);
        if !self.shows(level) {
            return;
        }
        if !self.json {
            stdout_line(&text);
        } else if message.is_empty() {
            self.event("EmptyLine", "Z017", level, "", serde_json::json!({}));
        } else {
            self.event(
                "Note",
                "Z050",
                level,
                message,
                serde_json::json!({"msg": message}),
            );
        }
    }

    /// `3 of 8 START sql view model analytics.v ........ [RUN]`, dbt's progress line.
    pub fn progress_line(&self, index: usize, total: usize, text: &str, status: &str) {
        let left = format!("{index} of {total} {text} ");
        let dots = LINE_WIDTH.saturating_sub(left.chars().count()).max(3);
        self.info(&format!("{left}{} {status}", ".".repeat(dots)));
    }

    /// `text` in `color` on a terminal.
    pub fn painted(&self, color: Color, text: &str) -> String {
        self.paint(
            match color {
                Color::Green => GREEN,
                Color::Yellow => YELLOW,
                Color::Red => RED,
            },
            text,
        )
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
        let promoted;
        let d = if d.severity == Severity::Warning {
            match Self::policy().treat(d.event.as_deref()) {
                Treatment::Silence => return,
                Treatment::Warn => d,
                Treatment::Error => {
                    WARNINGS.fetch_add(1, Ordering::Relaxed);
                    promoted = Diagnostic {
                        severity: Severity::Error,
                        ..d.clone()
                    };
                    &promoted
                }
            }
        } else {
            d
        };
        log_to_file(&render_human(d, false));
        let level = match d.severity {
            Severity::Error => LogLevel::Error,
            Severity::Warning => LogLevel::Warn,
            Severity::Note => LogLevel::Info,
        };
        if !self.shows(level) {
            return;
        }
        if self.json {
            let (name, code) = match d.severity {
                Severity::Error => ("MainEncounteredError", "Z002"),
                Severity::Warning | Severity::Note => ("Note", "Z050"),
            };
            let data: serde_json::Value =
                serde_json::from_str(&render_json_line(d)).unwrap_or_default();
            let line = event_line(name, code, level, &d.message, data);
            let _ = writeln!(std::io::stderr().lock(), "{}", scrub(&line));
            return;
        }
        let text = {
            let color = self.color && std::io::stderr().is_terminal();
            format!("{}\n", render_human(d, color))
        };
        // A closed stderr leaves nothing better to do than carry on to the exit code.
        let _ = writeln!(std::io::stderr().lock(), "{}", scrub(&text));
    }

    /// One line of `--log-format json`, shaped like dbt's structured events so that log
    /// tooling written for dbt reads it: `info` (`name`, `code`, `msg`, `level`,
    /// `invocation_id`, `pid`, `thread`, `ts`) and the event's `data`.
    fn event(&self, name: &str, code: &str, level: LogLevel, msg: &str, data: serde_json::Value) {
        stdout_line(&event_line(name, code, level, msg, data));
    }

    /// The command's invocation id, for every JSON log line after this.
    pub fn set_invocation_id(id: &str) {
        let _ = INVOCATION_ID.set(id.to_string());
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
        let partial = count(NodeStatus::PartialSuccess);
        let (pass, warn, error, skip) = (
            count(NodeStatus::Success),
            count(NodeStatus::Warn),
            count(NodeStatus::Error) + count(NodeStatus::Fail) + partial,
            count(NodeStatus::Skipped),
        );
        if self.json {
            let total = results.len();
            self.event(
                "StatsLine",
                "Z023",
                LogLevel::Info,
                &format!("Done. PASS={pass} WARN={warn} ERROR={error} SKIP={skip} TOTAL={total}"),
                serde_json::json!({"stats": {"pass": pass, "warn": warn, "error": error, "skip": skip, "total": total}, "elapsed": elapsed.as_secs_f64()}),
            );
            return;
        }
        self.info("");
        self.info(&format!(
            "Finished running {} {what} in {:.2}s.",
            results.len(),
            elapsed.as_secs_f64()
        ));
        self.info("");
        let failed = error - partial;
        if partial > 0 {
            let partials = format!(
                "{partial} partial success{}",
                if partial == 1 { "" } else { "es" }
            );
            self.info(&match failed {
                0 => self.paint(
                    YELLOW,
                    &format!(
                        "Completed with {partials} and {warn} warning{}",
                        plural(warn)
                    ),
                ),
                _ => self.paint(
                    RED,
                    &format!(
                        "Completed with {failed} error{}, {partials}, and {warn} warning{}:",
                        plural(failed),
                        plural(warn)
                    ),
                ),
            });
        } else if error == 0 && warn == 0 {
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
            let (kind, level) = match result.status {
                NodeStatus::Warn => ("Warning", LogLevel::Warn),
                _ => ("Failure", LogLevel::Error),
            };
            // What went wrong shows at its own level, so `--quiet` still shows failures.
            let say = |line: &str| self.line_at(level, line);
            say("");
            match node
                .filter(|n| matches!(n.resource_type, ResourceType::Test | ResourceType::UnitTest))
            {
                Some(test) => {
                    let what = if test.resource_type == ResourceType::UnitTest {
                        "unit_test"
                    } else {
                        "test"
                    };
                    say(&format!(
                        "{kind} in {what} {name} ({})",
                        test.original_file_path
                    ));
                    if result.error.is_none() {
                        // A unit test's message is its diff table, one line each.
                        for line in result.message.lines() {
                            say(format!("  {line}").trim_end());
                        }
                    }
                    if let Some(path) = manifest.compiled_path(&result.id) {
                        let path = path.strip_prefix(&manifest.root).unwrap_or(&path);
                        say("");
                        say(&format!("  compiled code at {}", path.display()));
                    }
                }
                None => say(&format!("{kind} in {name} ({})", result.id)),
            }
            if let Some(d) = &result.error {
                for line in render_human(d, self.color).lines() {
                    say(line);
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
/// dbt's structured event as one JSON line (see [`Printer::event`]).
fn event_line(
    name: &str,
    code: &str,
    level: LogLevel,
    msg: &str,
    data: serde_json::Value,
) -> String {
    let level_word = match level {
        LogLevel::Debug => "debug",
        LogLevel::Info | LogLevel::None => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    serde_json::json!({
        "info": {
            "name": name,
            "code": code,
            "msg": msg,
            "level": level_word,
            "invocation_id": INVOCATION_ID.get().map_or("", String::as_str),
            "pid": std::process::id(),
            "thread": "MainThread",
            "ts": mart_artifacts::timestamp(SystemTime::now()),
            "category": "",
            "extra": {},
        },
        "data": data,
    })
    .to_string()
}

fn stdout_line(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{}", scrub(text));
}

/// The command's invocation id, once known (JSON log lines carry it).
static INVOCATION_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `--log-path`'s file, once opened.
static LOG_FILE: std::sync::OnceLock<std::sync::Mutex<std::fs::File>> = std::sync::OnceLock::new();

/// Appends a line to `--log-path`'s file (secrets masked, colours left out); nothing
/// without the flag. A full disk does not stop the command.
fn log_to_file(text: &str) {
    if let Some(file) = LOG_FILE.get() {
        if let Ok(mut file) = file.lock() {
            let _ = writeln!(file, "{}", scrub(&strip_colors(text)));
        }
    }
}

fn strip_colors(text: &str) -> String {
    [GREEN, RED, YELLOW, RESET]
        .iter()
        .fold(text.to_string(), |t, code| t.replace(code, ""))
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
    /// An event as dbt's structured log line: node starts and results with dbt's event
    /// names and codes, `node_info` in `data`.
    fn json_event(&self, event: &Event) {
        let p = &self.printer;
        let node_info = |id: &mart_graph::NodeId, status: &str| {
            let node = self.manifest.node(id);
            serde_json::json!({
                "unique_id": id.as_str(),
                "node_name": node.map_or("", |n| n.name.as_str()),
                "resource_type": node.map_or("", |n| n.resource_type.as_str()),
                "node_path": node.map_or("", |n| n.path.as_str()),
                "node_status": status,
                "materialized": node.map(|n| n.config.materialized.to_string()).unwrap_or_default(),
                "node_relation": node.map(|n| serde_json::json!({
                    "database": n.relation.database, "schema": n.relation.schema,
                    "alias": n.relation.identifier, "relation_name": n.relation.to_string(),
                })),
            })
        };
        match event {
            Event::Start { index, total, id } => {
                let description = self.describe(id);
                p.event(
                    "LogStartLine",
                    "Q011",
                    LogLevel::Info,
                    &format!("{index} of {total} START {description}"),
                    serde_json::json!({"description": description, "index": index, "total": total, "node_info": node_info(id, "started")}),
                );
            }
            Event::Finish { index, total, result } => {
                let node = self.manifest.node(&result.id);
                let kind = node.map(|n| n.resource_type);
                let status = mart_artifacts::status_word(result.status, kind);
                let description = self.describe(&result.id);
                let level = match result.status {
                    NodeStatus::Error | NodeStatus::Fail | NodeStatus::PartialSuccess => LogLevel::Error,
                    NodeStatus::Warn => LogLevel::Warn,
                    _ => LogLevel::Info,
                };
                let (name, code) = match (result.status, kind) {
                    (NodeStatus::Skipped, _) => ("SkippingDetails", "Q034"),
                    (_, Some(ResourceType::Test)) => ("LogTestResult", "Q007"),
                    (_, Some(ResourceType::Seed)) => ("LogSeedResult", "Q016"),
                    (_, Some(ResourceType::Snapshot)) => ("LogSnapshotResult", "Q015"),
                    _ => ("LogModelResult", "Q012"),
                };
                p.event(
                    name,
                    code,
                    level,
                    &format!("{index} of {total} {} {description}", status.to_uppercase()),
                    serde_json::json!({
                        "description": description, "index": index, "total": total,
                        "status": status, "execution_time": result.duration.as_secs_f64(),
                        "num_failures": result.failures, "rows_affected": result.rows_affected,
                        "message": result.message,
                        "node_info": node_info(&result.id, status),
                    }),
                );
            }
            Event::Progress { id, done, percent } => p.event(
                "Note",
                "Z050",
                LogLevel::Info,
                &format!("{done} rows loaded ({percent}% of the file)"),
                serde_json::json!({"node_info": node_info(id, "started"), "done": done, "percent": percent}),
            ),
            Event::Log { id, message } => p.event(
                "JinjaLogInfo",
                "I062",
                LogLevel::Info,
                message,
                serde_json::json!({"msg": message, "node_info": node_info(id, "started")}),
            ),
            Event::Notice { message } => {
                p.event("Note", "Z050", LogLevel::Info, message, serde_json::json!({"msg": message}))
            }
            // JSON logs carry dbt's events only.
            Event::Heartbeat { .. } => {}
            Event::BatchStart { .. } | Event::BatchFinish { .. } => self.report_batch(event),
        }
    }

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
                    _ if node.config.is_microbatch() => format!("sql microbatch model {relation}"),
                    _ => format!("sql {} model {relation}", node.config.materialized),
                }
            }
            None => id.to_string(),
        }
    }

    fn line(&self, index: usize, total: usize, text: &str, status: &str) {
        self.printer.progress_line(index, total, text, status);
    }
}

impl Reporter for RunPrinter {
    fn report(&self, event: &Event) {
        let p = &self.printer;
        if p.json {
            self.json_event(event);
            return;
        }
        match event {
            Event::BatchStart { .. } | Event::BatchFinish { .. } => self.report_batch(event),
            Event::Log { message, .. } | Event::Notice { message } => p.info(message),
            Event::Heartbeat {
                id,
                elapsed,
                statement,
                waiting_for,
            } => self.heartbeat(id, *elapsed, statement.as_deref(), waiting_for.as_deref()),
            Event::Progress { id, done, percent } => {
                let name = self
                    .manifest
                    .node(id)
                    .map_or(id.as_str(), |n| n.name.as_str());
                p.info(&format!(
                    "  {name}: {done} rows loaded ({percent}% of the file)"
                ));
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
                // dbt names a test's outcome without its kind: `PASS unique_orders_id`.
                let outcome_of = if is_test {
                    what.split_once(' ').map_or(what.as_str(), |(_, name)| name)
                } else {
                    what.as_str()
                };
                match result.status {
                    NodeStatus::Success if is_test => {
                        let status = format!("[{} in {secs:.2}s]", p.paint(GREEN, "PASS"));
                        self.line(
                            *index,
                            *total,
                            &format!("{} {outcome_of}", p.paint(GREEN, "PASS")),
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
                        self.line(*index, *total, &format!("{label} {outcome_of}"), &status);
                    }
                    NodeStatus::Success => {
                        let verb = if what.starts_with("seed") {
                            "loaded"
                        } else if what.starts_with("snapshot") {
                            "snapshotted"
                        } else if result.message == mart_runner::UNCHANGED_MESSAGE {
                            "kept"
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
                    NodeStatus::PartialSuccess => {
                        let status =
                            format!("[{} in {secs:.2}s]", p.paint(YELLOW, &result.message));
                        self.line(
                            *index,
                            *total,
                            &format!("{} {what}", p.paint(YELLOW, "PARTIALLY created")),
                            &status,
                        );
                    }
                    NodeStatus::Error => {
                        let status = format!("[{} in {secs:.2}s]", p.paint(RED, "ERROR"));
                        self.line(
                            *index,
                            *total,
                            &format!(
                                "{} {outcome_of}",
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
