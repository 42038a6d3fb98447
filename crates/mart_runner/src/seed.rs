//! Seeds: CSV files loaded with COPY, in batches, inside the node's transaction.

use std::sync::Arc;

use mart_adapter::seed::{
    analyze_table, blank_null_words, copy_batch_from_stdin, copy_payload, create_seed_table,
    infer_seed_columns, truncate_table, SeedBatch, SeedColumn, SeedSchema,
};
use mart_adapter::{drop_relation, RelationKind};
use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_graph::NodeId;
use mart_postgres::{Connection, PgError};

use crate::materialize::db_error;
use crate::schedule::RunContext;
use crate::Event;

/// Loads one seed: types from `column_types` or inferred, the table created (or emptied
/// when it already has the same columns and no --full-refresh), then COPY, one statement
/// per batch, with progress after each batch of a long file.
pub(crate) async fn load(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<(String, Option<u64>), Diagnostic> {
    let node = ctx.node(id)?;
    let path = &node.original_file_path;
    let delimiter = node.config.delimiter;
    let csv = tokio::fs::read(ctx.manifest.root.join(path))
        .await
        .map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot read seed: {e}")).with_path(path)
        })?;
    let invalid = |e: mart_adapter::seed::SeedError| {
        Diagnostic::error(Code::PropertyFile, e.to_string())
            .with_path(path)
            .with_help("fix the CSV file; nothing was loaded")
    };
    let mut schema =
        infer_seed_columns(&csv, delimiter, &node.config.column_types).map_err(invalid)?;
    // dbt-postgres quotes seed columns unless `quote_columns: false`; unquoted, PostgreSQL
    // folds their ASCII capitals to lower case, and so does mart (it always quotes, so
    // names with spaces still load, where dbt's unquoted DDL fails).
    if node
        .config
        .raw
        .get("quote_columns")
        .and_then(|v| v.as_bool())
        == Some(false)
    {
        for column in &mut schema.columns {
            column.name = column.name.to_ascii_lowercase();
        }
    }
    // dbt reads blank fields and `null` as NULL; COPY needs them empty.
    let csv = if schema.has_null_words {
        blank_null_words(&csv, delimiter).map_err(invalid)?
    } else {
        csv
    };
    let relation = &node.relation;
    let existing = connection
        .relation_kind(&relation.schema, &relation.identifier)
        .await
        .map_err(|e| db_error(&e, None))?;
    let same_columns = match existing {
        Some(RelationKind::Table) if !ctx.options.full_refresh => {
            let columns = connection
                .columns(&relation.schema, &relation.identifier)
                .await
                .map_err(|e| db_error(&e, None))?;
            same_columns(&columns, &schema.columns)
        }
        _ => false,
    };
    let mut statements = Vec::new();
    if same_columns {
        statements.push(truncate_table(relation));
    } else {
        if let Some(kind) = existing {
            statements.push(drop_relation(relation, kind));
        }
        statements.push(create_seed_table(relation, &schema.columns));
    }
    let load = Load {
        ctx,
        id,
        node_relation: relation,
        schema: &schema,
        delimiter,
        csv: &csv,
    };
    // Inside the node's transaction: a failed batch leaves the old table as it was.
    let rows = load
        .copy_all(connection, &statements)
        .await
        .map_err(|(e, batch)| load.error(&e, batch))?;
    connection
        .execute(&analyze_table(relation))
        .await
        .map_err(|e| db_error(&e, None).with_path(path))?;
    Ok((format!("INSERT {rows}"), Some(rows)))
}

/// One seed's COPY batches.
struct Load<'a> {
    ctx: &'a RunContext,
    id: &'a NodeId,
    node_relation: &'a mart_adapter::Relation,
    schema: &'a SeedSchema,
    delimiter: u8,
    csv: &'a [u8],
}

impl Load<'_> {
    /// The statements, then every batch; on an error, the failing batch (if a COPY failed).
    async fn copy_all(
        &self,
        connection: &mut Connection,
        statements: &[String],
    ) -> Result<u64, (PgError, Option<SeedBatch>)> {
        for statement in statements {
            connection.execute(statement).await.map_err(|e| (e, None))?;
        }
        let payload = copy_payload(self.csv);
        let batches = &self.schema.batches;
        let total = self.schema.row_count as u64;
        let mut rows = 0;
        for (i, batch) in batches.iter().enumerate() {
            let end = batches.get(i + 1).map_or(payload.len(), |b| b.start);
            let data = &payload[batch.start.min(payload.len())..end.min(payload.len())];
            let copy = copy_batch_from_stdin(
                self.node_relation,
                &self.schema.columns,
                self.delimiter,
                i == 0,
            );
            rows += connection
                .copy_in(&copy, data)
                .await
                .map_err(|e| (e, Some(*batch)))?;
            if batches.len() > 1 {
                self.ctx.reporter.report(&Event::Progress {
                    id: self.id.clone(),
                    done: rows,
                    total,
                });
            }
        }
        Ok(rows)
    }

    /// A COPY error names the seed's file, line and column.
    fn error(&self, e: &PgError, batch: Option<SeedBatch>) -> Diagnostic {
        let node = self.ctx.manifest.node(self.id);
        let path = node.map_or("", |n| n.original_file_path.as_str());
        let mut d = db_error(e, None).with_note(format!("while loading seed {path}"));
        let location = batch.zip(e.context().and_then(copy_error_location));
        if let Some((batch, (pg_line, column))) = location {
            // COPY numbers the physical lines of its input from 1.
            let line = batch.line + pg_line.saturating_sub(1);
            let column_text = column
                .as_deref()
                .and_then(|name| {
                    let position = self.schema.columns.iter().position(|c| c.name == name)?;
                    Some(format!(
                        ", column {} ('{name}', {})",
                        position + 1,
                        self.schema.columns[position].data_type
                    ))
                })
                .unwrap_or_default();
            d.message = format!("line {line}{column_text}: {}", e.message());
            let file = Arc::new(SourceFile::new(
                path,
                String::from_utf8_lossy(self.csv).into_owned(),
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
