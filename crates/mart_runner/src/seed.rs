//! Seeds: CSV files loaded with COPY, in one transaction.

use mart_adapter::seed::{
    analyze_table, copy_from_stdin, copy_payload, create_seed_table, infer_seed_columns,
    truncate_table, SeedColumn,
};
use mart_adapter::{drop_relation, RelationKind};
use mart_diagnostics::{Code, Diagnostic};
use mart_graph::NodeId;
use mart_postgres::{Connection, PgError};

use crate::materialize::db_error;
use crate::schedule::RunContext;

/// Loads one seed: types from `column_types` or inferred, the table created (or emptied
/// when it already has the same columns and no --full-refresh), then COPY.
pub(crate) async fn load(
    ctx: &RunContext,
    id: &NodeId,
    connection: &mut Connection,
) -> Result<(String, Option<u64>), Diagnostic> {
    let node = ctx.manifest.node(id).ok_or_else(|| {
        Diagnostic::error(Code::UnknownRef, format!("'{id}' is not in the manifest"))
    })?;
    let path = &node.original_file_path;
    let csv = tokio::fs::read(ctx.manifest.root.join(path))
        .await
        .map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot read seed: {e}")).with_path(path)
        })?;
    let schema = infer_seed_columns(&csv, node.config.delimiter, &node.config.column_types)
        .map_err(|e| {
            Diagnostic::error(Code::PropertyFile, e.to_string())
                .with_path(path)
                .with_help("fix the CSV file; nothing was loaded")
        })?;
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
    let copy = copy_from_stdin(relation, &schema.columns, node.config.delimiter);
    let rows = in_transaction(connection, &statements, &copy, copy_payload(&csv))
        .await
        .map_err(|e| {
            db_error(&e, None)
                .with_path(path)
                .with_note(format!("while loading seed {path}"))
        })?;
    connection
        .execute(&analyze_table(relation))
        .await
        .map_err(|e| db_error(&e, None).with_path(path))?;
    Ok((format!("INSERT {rows}"), Some(rows)))
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

async fn in_transaction(
    connection: &mut Connection,
    statements: &[String],
    copy: &str,
    data: &[u8],
) -> Result<u64, PgError> {
    connection.execute("begin").await?;
    let outcome = async {
        for statement in statements {
            connection.execute(statement).await?;
        }
        let rows = connection.copy_in(copy, data).await?;
        connection.execute("commit").await?;
        Ok(rows)
    }
    .await;
    if outcome.is_err() {
        // The original error matters more than a failed rollback.
        let _ = connection.execute("rollback").await;
    }
    outcome
}
