//! catalog.json in dbt's catalog v1 schema: what the database says about the relations
//! of the manifest's nodes and sources (type, owner, comment, columns with their types
//! and positions), as `dbt docs generate` writes it.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use mart_compiler::Manifest;
use serde::{Deserialize, Serialize};

use crate::Invocation;

pub const CATALOG_SCHEMA: &str = "https://schemas.getdbt.com/dbt/catalog/v1.json";

/// One column of one relation, as the catalog query returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogRow {
    pub database: String,
    pub schema: String,
    pub table: String,
    /// `BASE TABLE`, `VIEW` or `MATERIALIZED VIEW`, as dbt-postgres names them.
    pub table_type: String,
    pub table_comment: Option<String>,
    pub owner: Option<String>,
    pub column: String,
    /// 1-based position (PostgreSQL's `attnum`).
    pub index: i64,
    pub column_type: String,
    pub column_comment: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogV1 {
    pub metadata: CatalogMetadata,
    pub nodes: BTreeMap<String, CatalogTable>,
    pub sources: BTreeMap<String, CatalogTable>,
    /// What the catalog query could not read; `null` when nothing failed.
    pub errors: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogMetadata {
    pub dbt_schema_version: String,
    pub dbt_version: String,
    pub generated_at: String,
    pub invocation_id: String,
    pub invocation_started_at: String,
    pub env: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogTable {
    pub metadata: TableMetadata,
    /// In column order.
    pub columns: IndexMap<String, ColumnMetadata>,
    pub stats: BTreeMap<String, StatsItem>,
    pub unique_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    pub schema: String,
    pub name: String,
    pub database: Option<String>,
    pub comment: Option<String>,
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ColumnMetadata {
    #[serde(rename = "type")]
    pub data_type: String,
    pub index: i64,
    pub name: String,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatsItem {
    pub id: String,
    pub label: String,
    pub value: serde_json::Value,
    pub include: bool,
    pub description: Option<String>,
}

/// The catalog of `manifest`'s relations from the catalog query's `rows`; relations no
/// node or source names are left out, and a relation several nodes name (a test storing
/// failures into a model's table cannot, but aliases can) is listed under each.
/// `database` is the connection's, for relations that do not name one.
pub fn build_catalog(
    manifest: &Manifest,
    rows: &[CatalogRow],
    database: &str,
    invocation: &Invocation,
    errors: Option<Vec<String>>,
) -> CatalogV1 {
    let tables = tables_of(rows);
    let lookup = |db: &Option<String>, schema: &str, identifier: &str| {
        let key = (
            db.as_deref().unwrap_or(database).to_lowercase(),
            schema.to_lowercase(),
            identifier.to_lowercase(),
        );
        tables.get(&key)
    };
    let nodes = manifest
        .nodes
        .values()
        .filter_map(|n| {
            let mut table = lookup(
                &n.relation.database,
                &n.relation.schema,
                &n.relation.identifier,
            )?
            .clone();
            table.unique_id = Some(n.id.to_string());
            Some((n.id.to_string(), table))
        })
        .collect();
    let sources = manifest
        .sources
        .values()
        .filter_map(|s| {
            let mut table = lookup(
                &s.relation.database,
                &s.relation.schema,
                &s.relation.identifier,
            )?
            .clone();
            table.unique_id = Some(s.id.to_string());
            Some((s.id.to_string(), table))
        })
        .collect();
    CatalogV1 {
        metadata: CatalogMetadata {
            dbt_schema_version: CATALOG_SCHEMA.into(),
            dbt_version: invocation.mart_version.clone(),
            generated_at: invocation.generated_at.clone(),
            invocation_id: invocation.invocation_id.clone(),
            invocation_started_at: crate::timestamp(invocation.started),
            env: BTreeMap::new(),
        },
        nodes,
        sources,
        errors,
    }
}

type TableKey = (String, String, String);

/// The rows grouped into tables, keyed by lower-cased (database, schema, name) as dbt
/// matches relations to nodes.
fn tables_of(rows: &[CatalogRow]) -> BTreeMap<TableKey, CatalogTable> {
    let mut tables: BTreeMap<TableKey, CatalogTable> = BTreeMap::new();
    for row in rows {
        let key = (
            row.database.to_lowercase(),
            row.schema.to_lowercase(),
            row.table.to_lowercase(),
        );
        let table = tables.entry(key).or_insert_with(|| CatalogTable {
            metadata: TableMetadata {
                kind: row.table_type.clone(),
                schema: row.schema.clone(),
                name: row.table.clone(),
                database: Some(row.database.clone()),
                comment: row.table_comment.clone(),
                owner: row.owner.clone(),
            },
            columns: IndexMap::new(),
            stats: no_stats(),
            unique_id: None,
        });
        table.columns.insert(
            row.column.clone(),
            ColumnMetadata {
                data_type: row.column_type.clone(),
                index: row.index,
                name: row.column.clone(),
                comment: row.column_comment.clone(),
            },
        );
    }
    for table in tables.values_mut() {
        table.columns.sort_by(|_, a, _, b| a.index.cmp(&b.index));
    }
    tables
}

/// PostgreSQL reports no table statistics to dbt: its one stat says so.
fn no_stats() -> BTreeMap<String, StatsItem> {
    BTreeMap::from([(
        "has_stats".to_string(),
        StatsItem {
            id: "has_stats".into(),
            label: "Has Stats?".into(),
            value: serde_json::Value::Bool(false),
            include: false,
            description: Some("Indicates whether there are statistics for this table".into()),
        },
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(table: &str, column: &str, index: i64) -> CatalogRow {
        CatalogRow {
            database: "postgres".into(),
            schema: "Analytics".into(),
            table: table.into(),
            table_type: "VIEW".into(),
            table_comment: Some("staged".into()),
            owner: Some("postgres".into()),
            column: column.into(),
            index,
            column_type: "integer".into(),
            column_comment: None,
        }
    }

    #[test]
    fn rows_group_into_tables_in_column_order() {
        let rows = [
            row("people", "b", 2),
            row("people", "a", 1),
            row("other", "x", 1),
        ];
        let tables = tables_of(&rows);
        let key = ("postgres".into(), "analytics".into(), "people".into());
        let people = &tables[&key];
        assert_eq!(people.columns.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(people.metadata.kind, "VIEW");
        assert_eq!(people.metadata.schema, "Analytics");
        assert_eq!(people.metadata.comment.as_deref(), Some("staged"));
        assert_eq!(tables.len(), 2);
        let json = serde_json::to_value(people).unwrap_or_default();
        assert_eq!(json["columns"]["a"]["type"], "integer");
        assert_eq!(json["metadata"]["type"], "VIEW");
        assert_eq!(json["stats"]["has_stats"]["value"], false);
    }
}
