//! Seeds: CSV files streamed to COPY while they are read and checked, inside the node's
//! transaction.
//!
//! A thread reads the file in chunks of whole rows ([`SeedReader`]) and hands each one over
//! as soon as it is checked, so the server loads one chunk while the next is read. The
//! table is created with the types of the first chunk; a later chunk that changes a
//! column's type (rare: the first chunk is a mebibyte of rows) stops the COPY, the reader
//! finishes the file for the final types and the load starts again from a savepoint.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use mart_adapter::seed::{
    analyze_table, blank_null_words, copy_from_stdin, copy_payload, create_seed_table,
    truncate_table, SeedColumn, SeedError, SeedReader, SEED_BATCH_ROWS,
};
use mart_adapter::{drop_relation, RelationKind};
use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_graph::NodeId;
use mart_postgres::{Connection, PgError, COPY_CHUNK_BYTES};
use tokio::sync::{mpsc, oneshot};

use crate::materialize::db_error;
use crate::schedule::RunContext;
use crate::Event;

/// The first chunk, whose values type the table: large enough that a later chunk rarely
/// changes a type, small enough that COPY starts within milliseconds.
const FIRST_CHUNK_BYTES: usize = 1 << 20;

/// Chunks read ahead of COPY.
const CHUNKS_AHEAD: usize = 8;

/// The savepoint a retyped load rolls back to.
const SAVEPOINT: &str = "mart_seed";

/// Loads one seed: types from `column_types` or inferred, the table created (or emptied
/// when it already has the same columns and no --full-refresh), then one COPY fed while
/// the file is read, with progress every [`SEED_BATCH_ROWS`] rows of a long file.
pub(crate) async fn load(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<(String, Option<u64>), Diagnostic> {
    let node = ctx.node(id)?;
    let path = &node.original_file_path;
    let csv = tokio::fs::read(ctx.manifest.root.join(path))
        .await
        .map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot read seed: {e}")).with_path(path)
        })?;
    let payload_len = copy_payload(&csv).len();
    let csv = Bytes::from(csv);
    let load = Load {
        ctx,
        id,
        path,
        relation: &node.relation,
        delimiter: node.config.delimiter,
        column_types: Arc::new(node.config.column_types.clone()),
        // dbt-postgres quotes seed columns unless `quote_columns: false`; unquoted,
        // PostgreSQL folds their ASCII capitals to lower case, and so does mart (it always
        // quotes, so names with spaces still load, where dbt's unquoted DDL fails).
        fold_names: node
            .config
            .raw
            .get("quote_columns")
            .and_then(|v| v.as_bool())
            == Some(false),
        payload: csv.slice(..payload_len),
        csv,
    };
    let mut known_types = None;
    let rows = loop {
        match load.attempt(connection, known_types.take()).await? {
            Attempt::Loaded(rows) => break rows,
            Attempt::Retyped(columns) => known_types = Some(columns),
        }
    };
    connection
        .execute(&analyze_table(load.relation))
        .await
        .map_err(|e| db_error(&e, None).with_path(path))?;
    Ok((format!("INSERT {rows}"), Some(rows)))
}

/// One seed's load.
struct Load<'a> {
    ctx: &'a RunContext,
    id: &'a NodeId,
    path: &'a str,
    relation: &'a mart_adapter::Relation,
    delimiter: u8,
    column_types: Arc<BTreeMap<String, String>>,
    fold_names: bool,
    /// The file as read, for error spans.
    csv: Bytes,
    /// What COPY reads: the file without its trailing line breaks.
    payload: Bytes,
}

enum Attempt {
    Loaded(u64),
    /// A later chunk changed a type: the columns of the whole file, to start again with.
    Retyped(Vec<SeedColumn>),
}

/// What the reading thread hands over after the columns.
enum Read {
    /// Bytes for COPY; the rows read so far and where in the payload the chunk ends.
    Chunk {
        data: Bytes,
        rows: usize,
        end: usize,
    },
    Retyped(Vec<SeedColumn>),
    Failed(SeedError),
}

impl Load<'_> {
    /// Creates (or empties) the table and streams the file to COPY. With `known_types`
    /// (from an earlier attempt) the types are final; else the first chunk's are tried.
    async fn attempt(
        &self,
        connection: &mut Connection,
        known_types: Option<Vec<SeedColumn>>,
    ) -> Result<Attempt, Diagnostic> {
        let (columns_tx, columns_rx) = oneshot::channel();
        let (chunks_tx, mut chunks) = mpsc::channel(CHUNKS_AHEAD);
        let reading = Reading {
            payload: self.payload.clone(),
            delimiter: self.delimiter,
            column_types: self.column_types.clone(),
            known_types,
        };
        // Dropping the receivers (an error here) stops the thread at its next chunk.
        tokio::task::spawn_blocking(move || reading.run(columns_tx, chunks_tx));
        let stopped = || {
            Diagnostic::error(
                Code::Io,
                "the seed's reader stopped before the end of the file",
            )
            .with_path(self.path)
        };
        let mut columns = columns_rx
            .await
            .map_err(|_| stopped())?
            .map_err(|e| self.invalid(e))?;
        if self.fold_names {
            for column in &mut columns {
                column.name = column.name.to_ascii_lowercase();
            }
        }
        let pg = |e: PgError| db_error(&e, None).with_path(self.path);
        connection
            .execute(&format!("savepoint {SAVEPOINT}"))
            .await
            .map_err(pg)?;
        for statement in self.replace_statements(connection, &columns).await? {
            connection.execute(&statement).await.map_err(pg)?;
        }
        let copy = copy_from_stdin(self.relation, &columns, self.delimiter);
        let mut writer = connection.copy_writer(&copy).await.map_err(pg)?;
        let mut pending_progress = None;
        while let Some(read) = chunks.recv().await {
            match read {
                Read::Chunk { data, rows, end } => {
                    // Told once more rows follow; the last count comes after COPY ends.
                    if let Some((done, end)) = pending_progress.take() {
                        self.progress(done, end);
                    }
                    writer
                        .send(data)
                        .await
                        .map_err(|e| self.error(&e, &columns))?;
                    if rows.is_multiple_of(SEED_BATCH_ROWS) {
                        pending_progress = Some((rows as u64, end));
                    }
                }
                Read::Retyped(columns) => {
                    drop(writer);
                    connection
                        .execute(&format!("rollback to savepoint {SAVEPOINT}"))
                        .await
                        .map_err(pg)?;
                    return Ok(Attempt::Retyped(columns));
                }
                // Dropping the writer aborts the COPY; the node's transaction rolls back.
                Read::Failed(e) => return Err(self.invalid(e)),
            }
        }
        let rows = writer
            .finish()
            .await
            .map_err(|e| self.error(&e, &columns))?;
        if rows > SEED_BATCH_ROWS as u64 {
            self.progress(rows, self.payload.len());
        }
        connection
            .execute(&format!("release savepoint {SAVEPOINT}"))
            .await
            .map_err(pg)?;
        Ok(Attempt::Loaded(rows))
    }

    /// `truncate` when the table exists with the same columns (and no --full-refresh),
    /// else drop what is there and create the table.
    async fn replace_statements(
        &self,
        connection: &Connection,
        columns: &[SeedColumn],
    ) -> Result<Vec<String>, Diagnostic> {
        let relation = self.relation;
        let existing = self
            .ctx
            .catalog
            .kind(connection, &relation.schema, &relation.identifier)
            .await
            .map_err(|e| db_error(&e, None))?;
        let same_columns = match existing {
            Some(RelationKind::Table) if !self.ctx.options.full_refresh => {
                let existing = connection
                    .columns(&relation.schema, &relation.identifier)
                    .await
                    .map_err(|e| db_error(&e, None))?;
                same_columns(&existing, columns)
            }
            _ => false,
        };
        if same_columns {
            return Ok(vec![truncate_table(relation)]);
        }
        let mut statements = Vec::new();
        if let Some(kind) = existing {
            statements.push(drop_relation(relation, kind));
        }
        statements.push(create_seed_table(relation, columns));
        Ok(statements)
    }

    fn progress(&self, done: u64, end: usize) {
        let percent = (end as u64 * 100)
            .checked_div(self.payload.len() as u64)
            .unwrap_or(100);
        self.ctx.reporter.report(&Event::Progress {
            id: self.id.clone(),
            done,
            percent,
        });
    }

    /// A malformed file: its error names the line (and column).
    fn invalid(&self, e: SeedError) -> Diagnostic {
        Diagnostic::error(Code::PropertyFile, e.to_string())
            .with_path(self.path)
            .with_help("fix the CSV file; nothing was loaded")
    }

    /// A COPY error names the seed's file, line and column.
    fn error(&self, e: &PgError, columns: &[SeedColumn]) -> Diagnostic {
        let path = self.path;
        let mut d = db_error(e, None).with_note(format!("while loading seed {path}"));
        // COPY numbers the physical lines of its input (the whole file) from 1.
        if let Some((line, column)) = e.context().and_then(copy_error_location) {
            let column_text = column
                .as_deref()
                .and_then(|name| {
                    let position = columns.iter().position(|c| c.name == name)?;
                    Some(format!(
                        ", column {} ('{name}', {})",
                        position + 1,
                        columns[position].data_type
                    ))
                })
                .unwrap_or_default();
            d.message = format!("line {line}{column_text}: {}", e.message());
            let file = Arc::new(SourceFile::new(
                path,
                String::from_utf8_lossy(&self.csv).into_owned(),
            ));
            d = d.with_span(Span::line(file, line as usize)).with_help(
                "fix the value in the CSV file, or its type in column_types; nothing was loaded",
            );
        } else {
            d = d.with_path(path);
        }
        d
    }
}

/// The reading thread's part of one attempt.
struct Reading {
    payload: Bytes,
    delimiter: u8,
    column_types: Arc<BTreeMap<String, String>>,
    known_types: Option<Vec<SeedColumn>>,
}

impl Reading {
    /// Sends the columns (or the first error), then every chunk, until the end of the
    /// file, an error, a retyping chunk or the loader hanging up.
    fn run(
        self,
        columns_tx: oneshot::Sender<Result<Vec<SeedColumn>, SeedError>>,
        chunks: mpsc::Sender<Read>,
    ) {
        let mut columns_tx = Some(columns_tx);
        if let Err(e) = self.read(&mut columns_tx, &chunks) {
            match columns_tx.take() {
                Some(tx) => {
                    let _ = tx.send(Err(e));
                }
                None => {
                    let _ = chunks.blocking_send(Read::Failed(e));
                }
            }
        }
    }

    fn read(
        &self,
        columns_tx: &mut Option<oneshot::Sender<Result<Vec<SeedColumn>, SeedError>>>,
        chunks: &mpsc::Sender<Read>,
    ) -> Result<(), SeedError> {
        let payload = &self.payload;
        let mut reader = SeedReader::new(payload, self.delimiter, &self.column_types)?;
        let speculating = self.known_types.is_none();
        let mut planned = self.known_types.clone();
        let mut max_bytes = FIRST_CHUNK_BYTES;
        while let Some(chunk) = reader.next_chunk(max_bytes, SEED_BATCH_ROWS)? {
            max_bytes = COPY_CHUNK_BYTES;
            let columns = planned.get_or_insert_with(|| reader.columns());
            if let Some(tx) = columns_tx.take() {
                if tx.send(Ok(columns.clone())).is_err() {
                    return Ok(());
                }
            } else if speculating && !same_types(columns, &reader.columns()) {
                // Types only narrow: once a chunk changed one, the table's is wrong.
                while reader.next_chunk(usize::MAX, usize::MAX)?.is_some() {}
                let _ = chunks.blocking_send(Read::Retyped(reader.columns()));
                return Ok(());
            }
            let range = chunk.range.clone();
            let data = if chunk.null_words {
                Bytes::from(blank_null_words(
                    &payload[range.clone()],
                    self.delimiter,
                    range.start == 0,
                )?)
            } else {
                payload.slice(range.clone())
            };
            let read = Read::Chunk {
                data,
                rows: chunk.rows,
                end: range.end,
            };
            if chunks.blocking_send(read).is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

fn same_types(a: &[SeedColumn], b: &[SeedColumn]) -> bool {
    a.iter().zip(b).all(|(a, b)| a.data_type == b.data_type)
}

/// `COPY t, line 5, column amount: "x"` -> (5, Some("amount")).
fn copy_error_location(context: &str) -> Option<(u64, Option<String>)> {
    let line_at = context.find(", line ")? + ", line ".len();
    let rest = &context[line_at..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let line = digits.parse().ok()?;
    let column = rest[digits.len()..]
        .strip_prefix(", column ")
        .map(|c| c.split(": ").next().unwrap_or(c).to_string());
    Some((line, column))
}

/// Same names and types, in order: then truncate-and-reload keeps dependent views.
fn same_columns(existing: &[(String, String)], wanted: &[SeedColumn]) -> bool {
    existing.len() == wanted.len()
        && existing.iter().zip(wanted).all(|((name, ty), c)| {
            *name == c.name && canonical_type(ty) == canonical_type(&c.data_type)
        })
}

/// Type names as PostgreSQL's format_type() prints them, for the common spellings.
fn canonical_type(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let canonical = match lower.as_str() {
        "int" | "int4" => "integer",
        "int8" => "bigint",
        "int2" => "smallint",
        "bool" => "boolean",
        "float8" | "double" => "double precision",
        "float4" => "real",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        "varchar" => "character varying",
        other => return other.replace("varchar(", "character varying("),
    };
    canonical.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_contexts() {
        assert_eq!(
            copy_error_location("COPY Seed Table, line 5, column amount: \"x\""),
            Some((5, Some("amount".to_string())))
        );
        assert_eq!(copy_error_location("COPY t, line 12"), Some((12, None)));
        assert_eq!(copy_error_location("PL/pgSQL function f()"), None);
    }
}
