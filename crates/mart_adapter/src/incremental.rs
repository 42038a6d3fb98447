//! Statements of the incremental materialization (dbt-postgres semantics).
//!
//! An incremental run has two steps:
//! 1. [`temp_table_statements`]: the model's new rows go into a session-local
//!    `create temporary table` in `pg_temp` (a killed run leaves nothing behind: the table
//!    dies with the session, and the next run on the same session drops it first);
//! 2. after comparing the columns of the temporary table with the target's
//!    ([`schema_changes`]), [`apply_statements`] changes the target in ONE transaction:
//!    the `on_schema_change` alters, the strategy's DML, and the drop of the temporary table.
//!
//! The first run, `--full-refresh` and a view in the way are built with
//! [`crate::table_statements`] instead.

use std::fmt;

use crate::quote::quote_ident;
use crate::relation::{suffixed_identifier, Relation};
use crate::TMP_SUFFIX;

/// How new rows are applied to the existing table (`incremental_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `insert into target select ... from tmp`.
    Append,
    /// PostgreSQL 15 `merge into target using tmp on (unique_key) ...`.
    Merge,
    /// `delete from target where (unique_key) in (select ... from tmp)`, then insert.
    DeleteInsert,
}

impl Strategy {
    /// Reads `incremental_strategy`; when it is not set, dbt-postgres's default applies:
    /// `delete+insert` with a `unique_key`, `append` without one.
    pub fn parse(value: Option<&str>, has_unique_key: bool) -> Result<Strategy, String> {
        match value.map(str::trim) {
            None | Some("") | Some("default") if has_unique_key => Ok(Strategy::DeleteInsert),
            None | Some("") | Some("default") => Ok(Strategy::Append),
            Some("append") => Ok(Strategy::Append),
            Some("merge") => Ok(Strategy::Merge),
            Some("delete+insert") => Ok(Strategy::DeleteInsert),
            Some(other) => Err(format!(
                "unknown incremental_strategy '{other}': expected append, merge or delete+insert"
            )),
        }
    }

    /// Whether the strategy needs a `unique_key`.
    pub fn needs_unique_key(self) -> bool {
        matches!(self, Strategy::Merge | Strategy::DeleteInsert)
    }

    /// The command tag dbt reports for the strategy (`INSERT` or `MERGE`).
    pub fn command(self) -> &'static str {
        match self {
            Strategy::Merge => "MERGE",
            Strategy::Append | Strategy::DeleteInsert => "INSERT",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Strategy::Append => "append",
            Strategy::Merge => "merge",
            Strategy::DeleteInsert => "delete+insert",
        })
    }
}

/// What to do when the model's columns differ from the existing table's (`on_schema_change`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSchemaChange {
    /// Load only the columns both have (the default).
    Ignore,
    /// Stop with an error listing the differences.
    Fail,
    /// `alter table ... add column` for new columns; removed ones stay (filled with null).
    AppendNewColumns,
    /// Add new columns, drop removed ones, alter changed types.
    SyncAllColumns,
}

impl OnSchemaChange {
    pub fn parse(value: Option<&str>) -> Result<OnSchemaChange, String> {
        match value.map(str::trim) {
            None | Some("") | Some("ignore") => Ok(OnSchemaChange::Ignore),
            Some("fail") => Ok(OnSchemaChange::Fail),
            Some("append_new_columns") => Ok(OnSchemaChange::AppendNewColumns),
            Some("sync_all_columns") => Ok(OnSchemaChange::SyncAllColumns),
            Some(other) => Err(format!(
                "unknown on_schema_change '{other}': expected ignore, fail, append_new_columns or sync_all_columns"
            )),
        }
    }
}

/// A column: name and type as `format_type` prints it.
pub type Column = (String, String);

/// How the model's columns (source) differ from the target's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaChanges {
    /// In the source, not in the target (source order).
    pub added: Vec<Column>,
    /// In the target, not in the source (target order).
    pub removed: Vec<Column>,
    /// In both with another type: (name, target type, source type).
    pub type_changed: Vec<(String, String, String)>,
}

impl SchemaChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.type_changed.is_empty()
    }

    /// One line per kind of difference, for error messages.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.added.is_empty() {
            lines.push(format!(
                "columns in the model, not in the table: {}",
                list(self.added.iter().map(|(n, t)| format!("{n} {t}")))
            ));
        }
        if !self.removed.is_empty() {
            lines.push(format!(
                "columns in the table, not in the model: {}",
                list(self.removed.iter().map(|(n, t)| format!("{n} {t}")))
            ));
        }
        if !self.type_changed.is_empty() {
            lines.push(format!(
                "columns whose type changed: {}",
                list(
                    self.type_changed
                        .iter()
                        .map(|(n, old, new)| format!("{n} {old} -> {new}"))
                )
            ));
        }
        lines
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Compares the target's columns with the source's (exact names, as in the catalog).
pub fn schema_changes(target: &[Column], source: &[Column]) -> SchemaChanges {
    let find = |cols: &[Column], name: &str| cols.iter().find(|(n, _)| n == name).cloned();
    let mut changes = SchemaChanges::default();
    for (name, source_type) in source {
        match find(target, name) {
            None => changes.added.push((name.clone(), source_type.clone())),
            Some((_, target_type)) if target_type != *source_type => {
                changes
                    .type_changed
                    .push((name.clone(), target_type, source_type.clone()))
            }
            Some(_) => {}
        }
    }
    for column in target {
        if find(source, &column.0).is_none() {
            changes.removed.push(column.clone());
        }
    }
    changes
}

/// The temporary relation of an incremental run: `"pg_temp"."<identifier>__mart_tmp"`
/// (63-byte safe).
pub fn temp_relation(target: &Relation) -> Relation {
    Relation::new(
        None,
        "pg_temp",
        suffixed_identifier(&target.identifier, TMP_SUFFIX),
    )
}

/// `drop table if exists TMP` (a leftover of an earlier failed run on this session), then
/// `create temporary table TMP as (sql)`. Run before [`apply_statements`].
pub fn temp_table_statements(tmp: &Relation, sql: &str) -> Vec<String> {
    vec![
        drop_temp(tmp),
        format!(
            "create temporary table {tmp} as {}",
            crate::ddl::wrap_body(sql)
        ),
    ]
}

/// `drop table if exists TMP`.
pub fn drop_temp(tmp: &Relation) -> String {
    format!("drop table if exists {tmp}")
}

/// The `alter table` statements `mode` calls for (none for `Ignore` and `Fail`).
pub fn schema_change_statements(
    target: &Relation,
    changes: &SchemaChanges,
    mode: OnSchemaChange,
) -> Vec<String> {
    let mut statements = Vec::new();
    if matches!(
        mode,
        OnSchemaChange::AppendNewColumns | OnSchemaChange::SyncAllColumns
    ) {
        for (name, data_type) in &changes.added {
            statements.push(format!(
                "alter table {target} add column {} {data_type}",
                quote_ident(name)
            ));
        }
    }
    if mode == OnSchemaChange::SyncAllColumns {
        for (name, _) in &changes.removed {
            statements.push(format!(
                "alter table {target} drop column {}",
                quote_ident(name)
            ));
        }
        for (name, _, data_type) in &changes.type_changed {
            let column = quote_ident(name);
            statements.push(format!(
                "alter table {target} alter column {column} type {data_type} using {column}::{data_type}"
            ));
        }
    }
    statements
}

/// The columns to load, in the target's order: those the source and the target share,
/// plus (when `mode` adds them) the source's new columns.
pub fn dest_columns(target: &[Column], source: &[Column], mode: OnSchemaChange) -> Vec<String> {
    let in_source = |name: &str| source.iter().any(|(n, _)| n == name);
    let mut columns: Vec<String> = target
        .iter()
        .filter(|(n, _)| in_source(n))
        .map(|(n, _)| n.clone())
        .collect();
    if matches!(
        mode,
        OnSchemaChange::AppendNewColumns | OnSchemaChange::SyncAllColumns
    ) {
        for (name, _) in source {
            if !target.iter().any(|(n, _)| n == name) {
                columns.push(name.clone());
            }
        }
    }
    columns
}

/// What a strategy needs to build its statements.
#[derive(Clone, Debug)]
pub struct Apply<'a> {
    pub strategy: Strategy,
    pub target: &'a Relation,
    pub tmp: &'a Relation,
    /// Columns loaded ([`dest_columns`]).
    pub columns: &'a [String],
    /// The unique_key columns (empty for append).
    pub unique_key: &'a [String],
    /// Columns a merge updates on a match (`merge_update_columns`, or every loaded
    /// column minus `merge_exclude_columns`).
    pub update_columns: &'a [String],
}

/// The strategy's statements; the index of the one whose row count is reported is
/// returned with them.
pub fn strategy_statements(apply: &Apply<'_>) -> (Vec<String>, usize) {
    let Apply {
        strategy,
        target,
        tmp,
        columns,
        unique_key,
        update_columns,
    } = apply;
    let cols = quoted_list(columns.iter());
    let insert = format!("insert into {target} ({cols})\nselect {cols} from {tmp}");
    match strategy {
        Strategy::Append => (vec![insert], 0),
        Strategy::DeleteInsert => {
            let keys = quoted_list(unique_key.iter());
            (
                vec![
                    format!("delete from {target}\nwhere ({keys}) in (select {keys} from {tmp})"),
                    insert,
                ],
                1,
            )
        }
        Strategy::Merge => {
            let on = unique_key
                .iter()
                .map(|k| {
                    let k = quote_ident(k);
                    format!("mart_dest.{k} = mart_src.{k}")
                })
                .collect::<Vec<_>>()
                .join(" and ");
            let mut sql =
                format!("merge into {target} as mart_dest\nusing {tmp} as mart_src\non ({on})");
            if !update_columns.is_empty() {
                let set = update_columns
                    .iter()
                    .map(|c| {
                        let c = quote_ident(c);
                        format!("{c} = mart_src.{c}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                sql.push_str(&format!("\nwhen matched then update set {set}"));
            }
            let values = columns
                .iter()
                .map(|c| format!("mart_src.{}", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ");
            sql.push_str(&format!(
                "\nwhen not matched then insert ({cols}) values ({values})"
            ));
            (vec![sql], 0)
        }
    }
}

fn quoted_list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(|n| quote_ident(n)).collect::<Vec<_>>().join(", ")
}

/// Everything an incremental run does to the target, in ONE transaction: the schema
/// alters, the strategy's statements and the drop of the temporary table. Returns the
/// statements and the index of the one whose row count is reported.
pub fn apply_statements(
    apply: &Apply<'_>,
    changes: &SchemaChanges,
    mode: OnSchemaChange,
) -> (Vec<String>, usize) {
    let mut statements = schema_change_statements(apply.target, changes, mode);
    let (dml, counted) = strategy_statements(apply);
    let counted = statements.len() + counted;
    statements.extend(dml);
    statements.push(drop_temp(apply.tmp));
    (statements, counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Relation {
        Relation::new(None, "analytics", "fact_user_event")
    }

    fn cols(c: &[(&str, &str)]) -> Vec<Column> {
        c.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    fn render(strategy: Strategy, unique_key: &[&str], update: &[&str]) -> String {
        let target = target();
        let tmp = temp_relation(&target);
        let columns = strings(&["id", "date_id", "Amount"]);
        let unique_key = strings(unique_key);
        let update_columns = strings(update);
        let (statements, counted) = apply_statements(
            &Apply {
                strategy,
                target: &target,
                tmp: &tmp,
                columns: &columns,
                unique_key: &unique_key,
                update_columns: &update_columns,
            },
            &SchemaChanges::default(),
            OnSchemaChange::Ignore,
        );
        format!("-- counted: {counted}\n{}", statements.join(";\n\n"))
    }

    #[test]
    fn parse_strategy_and_defaults() {
        assert_eq!(Strategy::parse(None, false), Ok(Strategy::Append));
        assert_eq!(Strategy::parse(None, true), Ok(Strategy::DeleteInsert));
        assert_eq!(Strategy::parse(Some("merge"), true), Ok(Strategy::Merge));
        assert_eq!(
            Strategy::parse(Some("delete+insert"), true),
            Ok(Strategy::DeleteInsert)
        );
        assert_eq!(Strategy::parse(Some("append"), true), Ok(Strategy::Append));
        let err = Strategy::parse(Some("insert_overwrite"), false).unwrap_err();
        assert!(err.contains("'insert_overwrite'"), "{err}");
        assert_eq!(OnSchemaChange::parse(None), Ok(OnSchemaChange::Ignore));
        assert_eq!(
            OnSchemaChange::parse(Some("sync_all_columns")),
            Ok(OnSchemaChange::SyncAllColumns)
        );
        assert!(OnSchemaChange::parse(Some("drop")).is_err());
    }

    #[test]
    fn temp_table() {
        let long = Relation::new(None, "s", "x".repeat(63));
        let tmp = temp_relation(&long);
        assert!(tmp.identifier.len() <= 63);
        insta::assert_snapshot!(temp_table_statements(
            &temp_relation(&target()),
            "select 1 as id -- c\n;"
        )
        .join(";\n\n"));
    }

    #[test]
    fn append() {
        insta::assert_snapshot!(render(Strategy::Append, &[], &[]));
    }

    #[test]
    fn delete_insert_single_key() {
        insta::assert_snapshot!(render(Strategy::DeleteInsert, &["date_id"], &[]));
    }

    #[test]
    fn delete_insert_composite_key() {
        insta::assert_snapshot!(render(Strategy::DeleteInsert, &["id", "date_id"], &[]));
    }

    #[test]
    fn merge_single_key() {
        insta::assert_snapshot!(render(
            Strategy::Merge,
            &["id"],
            &["id", "date_id", "Amount"]
        ));
    }

    #[test]
    fn merge_composite_key_update_columns() {
        insta::assert_snapshot!(render(Strategy::Merge, &["id", "date_id"], &["Amount"]));
    }

    #[test]
    fn merge_nothing_to_update() {
        insta::assert_snapshot!(render(Strategy::Merge, &["id"], &[]));
    }

    fn schema_case(mode: OnSchemaChange) -> String {
        let target_cols = cols(&[("id", "integer"), ("old", "text"), ("amount", "integer")]);
        let source_cols = cols(&[
            ("id", "integer"),
            ("amount", "numeric(10,2)"),
            ("New Col", "character varying(10)"),
        ]);
        let changes = schema_changes(&target_cols, &source_cols);
        let columns = dest_columns(&target_cols, &source_cols, mode);
        let t = target();
        let tmp = temp_relation(&t);
        let (statements, counted) = apply_statements(
            &Apply {
                strategy: Strategy::Append,
                target: &t,
                tmp: &tmp,
                columns: &columns,
                unique_key: &[],
                update_columns: &[],
            },
            &changes,
            mode,
        );
        format!(
            "-- {}\n-- counted: {counted}\n{}",
            changes.describe().join("\n-- "),
            statements.join(";\n\n")
        )
    }

    #[test]
    fn schema_change_ignore() {
        insta::assert_snapshot!(schema_case(OnSchemaChange::Ignore));
    }

    #[test]
    fn schema_change_fail() {
        // The runner stops before applying anything; the statements are those of ignore.
        insta::assert_snapshot!(schema_case(OnSchemaChange::Fail));
    }

    #[test]
    fn schema_change_append_new_columns() {
        insta::assert_snapshot!(schema_case(OnSchemaChange::AppendNewColumns));
    }

    #[test]
    fn schema_change_sync_all_columns() {
        insta::assert_snapshot!(schema_case(OnSchemaChange::SyncAllColumns));
    }

    #[test]
    fn no_schema_change() {
        let c = cols(&[("id", "integer")]);
        assert!(schema_changes(&c, &c).is_empty());
        assert_eq!(
            dest_columns(&c, &c, OnSchemaChange::Fail),
            vec!["id".to_string()]
        );
    }
}
