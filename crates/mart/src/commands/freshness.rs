//! `mart source freshness`: for each selected source table with a freshness rule, the age
//! of its newest `loaded_at_field` value against `warn_after` / `error_after`, as dbt
//! judges it; results in sources.json. Exit code 1 when a source is stale past
//! `error_after` or its query fails.

use std::time::{Instant, SystemTime};

use mart_adapter::freshness_query;
use mart_artifacts::{build_sources, FreshnessResult};
use mart_compiler::SourceNode;
use mart_diagnostics::{Code, Diagnostic, Diagnostics};
use mart_postgres::Connection;
use mart_project::{FreshnessRule, FreshnessStatus};

use crate::args::{FreshnessArgs, GlobalArgs};
use crate::printer::Color;
use crate::session::Session;
use crate::Outcome;

pub fn run(global: &GlobalArgs, args: &FreshnessArgs) -> Result<Outcome, Diagnostics> {
    let session = Session::load(global)?;
    let printer = session.printer;
    printer.info(&format!("Running with mart {}", env!("CARGO_PKG_VERSION")));
    printer.info(&session.found_line());
    let selected = session.select(&args.selection)?;
    let mut checks: Vec<(&SourceNode, FreshnessRule)> = Vec::new();
    let mut errors = Diagnostics::default();
    for source in selected
        .iter()
        .filter_map(|id| session.manifest.sources.get(id))
    {
        match source.table.freshness_rule() {
            Ok(Some(rule)) => checks.push((source, rule)),
            Ok(None) => {}
            Err(message) => errors.push(rule_error(source, message)),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    if checks.is_empty() {
        printer.info("Nothing to do: no selected source has a freshness rule (warn_after or error_after, with loaded_at_field).");
        return Ok(Outcome::Success);
    }
    printer.info("");
    let started = Instant::now();
    let runtime = super::runtime(2)?;
    let config = session.connection_config();
    let connection = runtime
        .block_on(Connection::connect(&config))
        .map_err(|e| Diagnostic::error(Code::Connection, e.to_string()))?;
    let total = checks.len();
    let mut results = Vec::with_capacity(total);
    for (index, (source, rule)) in checks.into_iter().enumerate() {
        let name = format!("{}.{}", source.table.source_name, source.table.name);
        printer.progress_line(
            index + 1,
            total,
            &format!("START freshness of {name}"),
            "[RUN]",
        );
        let started_at = SystemTime::now();
        let clock = Instant::now();
        let sql = freshness_query(
            &source.relation,
            &rule.loaded_at_field,
            rule.filter.as_deref(),
        );
        let answer = runtime.block_on(connection.query(&sql));
        let duration = clock.elapsed();
        let mut result = FreshnessResult {
            unique_id: source.id.to_string(),
            status: "runtime error",
            max_loaded_at: None,
            snapshotted_at: None,
            age_seconds: None,
            rule,
            error: None,
            started_at,
            duration,
        };
        let secs = duration.as_secs_f64();
        match answer {
            Ok(rows) => {
                let cell = |i: usize| rows.rows.first().and_then(|r| r.get(i).cloned().flatten());
                result.max_loaded_at = cell(0);
                result.snapshotted_at = cell(1);
                result.age_seconds = cell(2).and_then(|a| a.parse().ok());
                // No rows (or only NULLs): nothing was ever loaded, which is as stale as
                // data gets.
                let status = result
                    .age_seconds
                    .map_or(FreshnessStatus::Error, |age| result.rule.judge(age));
                let (word, color, status_text) = match status {
                    FreshnessStatus::Pass => ("pass", Color::Green, "PASS"),
                    FreshnessStatus::Warn => ("warn", Color::Yellow, "WARN"),
                    FreshnessStatus::Error => ("error", Color::Red, "ERROR STALE"),
                };
                result.status = word;
                printer.progress_line(
                    index + 1,
                    total,
                    &format!(
                        "{} freshness of {name}",
                        printer.painted(color, status_text)
                    ),
                    &format!("[{} in {secs:.2}s]", printer.painted(color, status_text)),
                );
            }
            Err(e) => {
                result.error = Some(e.to_string());
                printer.progress_line(
                    index + 1,
                    total,
                    &format!(
                        "{} freshness of {name}",
                        printer.painted(Color::Red, "ERROR")
                    ),
                    &format!("[{} in {secs:.2}s]", printer.painted(Color::Red, "ERROR")),
                );
                printer.diagnostic(
                    &Diagnostic::error(Code::Database, e.to_string())
                        .with_path(&source.table.file.path)
                        .with_note(format!(
                            "while checking the freshness of source {name}: {sql}"
                        )),
                );
            }
        }
        results.push(result);
    }
    let elapsed = started.elapsed();
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| session.manifest.target_dir.join("sources.json"));
    let sources = build_sources(&results, elapsed, &session.invocation.generated_now());
    mart_artifacts::write_json(&path, &sources).map_err(|e| {
        Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
            .with_help("check that the target directory is writable")
    })?;
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    let failed = count("error") + count("runtime error");
    printer.info("");
    printer.info(&format!(
        "Finished checking the freshness of {total} source{} in {:.2}s: PASS={} WARN={} ERROR={}",
        if total == 1 { "" } else { "s" },
        elapsed.as_secs_f64(),
        count("pass"),
        count("warn"),
        failed
    ));
    Ok(if failed > 0 {
        Outcome::NodeFailure
    } else {
        Outcome::Success
    })
}

/// A malformed freshness rule, at the source table's entry in its property file.
fn rule_error(source: &SourceNode, message: String) -> Diagnostic {
    let file = &source.table.file;
    let d = Diagnostic::error(
        Code::PropertyFile,
        format!(
            "source {}.{}: {message}",
            source.table.source_name, source.table.name
        ),
    );
    d.with_span(mart_project::entry_span(file, &source.table.name))
        .with_help("write freshness as {warn_after: {count: 12, period: hour}, error_after: {count: 24, period: hour}, filter: ...} next to loaded_at_field")
}
