//! Views that are already what the run would create are not created again.
//!
//! PostgreSQL stores a view deparsed, so its text cannot be compared with the compiled
//! SQL. Instead, when mart creates a view it records, in the same transaction, a hash of
//! what it built from (the compiled SQL, the node's config and descriptions, mart's
//! version) with the catalog's fingerprint of the result (`mart_adapter`'s view state:
//! definition, owner, grants, comments, columns, and the columns of what it reads). A
//! later run skips the view only when both still match: the same inputs once gave
//! exactly this catalog state. A view changed or dropped outside mart, a changed model,
//! grant or description, or an upstream relation with other columns: re-created.
//!
//! The records live in `target/view_states.json`, one per `database.schema.view`. Runs
//! that share the target (Airflow tasks) merge into it and replace it atomically; a
//! record lost in a race only means the view is re-created once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mart_adapter::relation_query;
use mart_compiler::Node;
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::ResourceType;
use mart_postgres::Connection;
use mart_project::Materialization;
use sha2::{Digest, Sha256};

use crate::materialize::{compile_to_file, db_error};
use crate::schedule::RunContext;
use crate::Ran;

/// What mart recorded when it last created a view.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ViewRecord {
    /// [`inputs_hash`] of the build.
    pub inputs: String,
    /// The catalog's view state right after it.
    pub state: String,
}

/// The message of a view left as it was (run output and run_results.json).
pub const UNCHANGED_MESSAGE: &str = "VIEW UNCHANGED";

const FILE_NAME: &str = "view_states.json";

/// The records read when the run started, and those the run made.
#[derive(Default)]
pub struct ViewRecords {
    previous: Mutex<BTreeMap<String, ViewRecord>>,
    made: Mutex<BTreeMap<String, ViewRecord>>,
}

impl ViewRecords {
    /// Reads `target/view_states.json`; a missing or unreadable file records nothing.
    pub(crate) fn load(&self, target_dir: &Path) {
        let read = std::fs::read(target_dir.join(FILE_NAME))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        *lock(&self.previous) = read;
    }

    /// Merges the run's records into the file (atomic replace).
    pub(crate) fn save(&self, target_dir: &Path) -> Result<(), Diagnostic> {
        // Only what differs from the file as read: a run that changed no record (a one-node
        // Airflow task re-creating its view as it was) does not rewrite it.
        let made: BTreeMap<String, ViewRecord> = {
            let previous = lock(&self.previous);
            lock(&self.made)
                .iter()
                .filter(|(key, record)| previous.get(*key) != Some(*record))
                .map(|(key, record)| (key.clone(), record.clone()))
                .collect()
        };
        if made.is_empty() {
            return Ok(());
        }
        let path = target_dir.join(FILE_NAME);
        let mut all: BTreeMap<String, ViewRecord> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        all.extend(made);
        let text = serde_json::to_vec(&all).map_err(|e| save_error(&path, &e))?;
        let temporary = temporary_path(&path);
        std::fs::create_dir_all(target_dir)
            .and_then(|()| std::fs::write(&temporary, text))
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| save_error(&path, &e))
    }

    fn previous(&self, key: &str) -> Option<ViewRecord> {
        lock(&self.previous).get(key).cloned()
    }

    pub(crate) fn record(&self, key: String, record: ViewRecord) {
        lock(&self.made).insert(key, record);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A name of its own per process, so concurrent runs never write the same file.
fn temporary_path(path: &Path) -> PathBuf {
    path.with_extension(format!("json.{}.tmp", std::process::id()))
}

fn save_error(path: &Path, e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::error(Code::Io, format!("cannot write {}: {e}", path.display()))
        .with_help("check that the target directory is writable")
}

/// Whether a node is a view that a later run may leave as it was: hooks, an sql_header
/// or an enforced contract run SQL of the user's on every build, so those views are
/// always built.
fn skippable(node: &Node) -> bool {
    let config = &node.config;
    node.resource_type == ResourceType::Model
        && config.materialized == Materialization::View
        && config.pre_hook.is_empty()
        && config.post_hook.is_empty()
        && !config.contract.enforced
        && !config.raw.contains_key("sql_header")
}

/// [`skippable`], and not under --full-refresh (which re-creates every view).
fn may_skip(ctx: &RunContext, node: &Node) -> bool {
    skippable(node) && !node.config.full_refresh.unwrap_or(ctx.options.full_refresh)
}

/// The key of a view's record.
fn key(ctx: &RunContext, node: &Node) -> String {
    format!(
        "{}.{}.{}",
        ctx.connection.dbname, node.relation.schema, node.relation.identifier
    )
}

/// A hash of what a view is built from: its compiled SQL, its config (grants,
/// persist_docs...), the descriptions persist_docs writes, and mart's version (which
/// decides the statements).
fn inputs_hash(node: &Node, compiled_sql: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION"),
        compiled_sql,
        &serde_json::to_string(&node.config).unwrap_or_default(),
        &node.description,
    ] {
        hasher.update(part.len().to_le_bytes());
        hasher.update(part.as_bytes());
    }
    for column in node.columns.iter() {
        hasher.update(column.name.as_bytes());
        hasher.update([0]);
        hasher.update(column.description.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// When the view is unchanged, its result without touching the database; compiles the
/// node only when a record and the catalog state agree (then target/compiled is written
/// as by a build).
pub(crate) async fn unchanged(
    ctx: &RunContext,
    node: &Node,
    connection: &Connection,
) -> Result<Option<Ran>, Diagnostic> {
    if !may_skip(ctx, node) {
        return Ok(None);
    }
    let Some(record) = ctx.catalog.views.previous(&key(ctx, node)) else {
        return Ok(None);
    };
    let relation = &node.relation;
    let entry = ctx
        .catalog
        .entry(connection, &relation.schema, &relation.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    if entry.and_then(|e| e.view_state).as_deref() != Some(record.state.as_str()) {
        return Ok(None);
    }
    let (compiled, _) = compile_to_file(ctx, &node.id, false, connection)?;
    if inputs_hash(node, &compiled.sql) != record.inputs {
        return Ok(None);
    }
    Ok(Some(Ran::success(
        UNCHANGED_MESSAGE.to_string(),
        None,
        Some(compiled.sql),
    )))
}

/// After a view was built, inside its transaction: the record to keep once it commits.
pub(crate) async fn record_after_build(
    ctx: &RunContext,
    node: &Node,
    compiled_sql: &str,
    connection: &Connection,
) -> Result<Option<(String, ViewRecord)>, Diagnostic> {
    if !skippable(node) {
        return Ok(None);
    }
    let relation = &node.relation;
    let state = connection
        .query(&relation_query(&relation.schema, &relation.identifier))
        .await
        .map_err(|e| db_error(&e, None))?
        .rows
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().nth(3).flatten());
    Ok(state.map(|state| {
        (
            key(ctx, node),
            ViewRecord {
                inputs: inputs_hash(node, compiled_sql),
                state,
            },
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(inputs: &str) -> ViewRecord {
        ViewRecord {
            inputs: inputs.into(),
            state: "s".into(),
        }
    }

    fn read(dir: &Path) -> BTreeMap<String, ViewRecord> {
        serde_json::from_slice(&std::fs::read(dir.join(FILE_NAME)).unwrap_or_default())
            .unwrap_or_default()
    }

    #[test]
    fn save_merges_and_skips_unchanged_records() {
        let dir = std::env::temp_dir().join(format!("mart_view_records_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = ViewRecords::default();
        first.load(&dir);
        first.record("db.s.a".into(), record("1"));
        first.save(&dir).unwrap();
        // Another run (task) on the same target: its record joins the file.
        let second = ViewRecords::default();
        second.load(&dir);
        second.record("db.s.b".into(), record("2"));
        second.save(&dir).unwrap();
        assert_eq!(read(&dir).keys().collect::<Vec<_>>(), ["db.s.a", "db.s.b"]);
        // Nothing new: the file is left as it was.
        std::fs::write(dir.join(FILE_NAME), "{}").unwrap();
        let third = ViewRecords::default();
        third
            .previous
            .lock()
            .unwrap()
            .insert("db.s.a".into(), record("1"));
        third.record("db.s.a".into(), record("1"));
        third.save(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join(FILE_NAME)).unwrap(), "{}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
