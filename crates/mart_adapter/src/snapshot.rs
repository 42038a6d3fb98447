//! Statements of snapshots (SCD type 2, dbt-postgres semantics).
//!
//! A snapshot run first stages the snapshot's query into a session-local temporary table
//! ([`crate::incremental::temp_table_statements`]), so that its columns are known. Then, in
//! ONE transaction:
//! - the first run creates the snapshot table from it with the meta columns
//!   ([`first_build_statements`]);
//! - later runs ([`update_statements`]) add source columns the table lacks, stage the changes
//!   (new and changed rows, closed versions, hard deletes) into a second temporary table,
//!   close the changed current versions (`dbt_valid_to`) and insert the new ones.
//!
//! Meta columns are dbt's (`dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from`,
//! `dbt_valid_to`, and `dbt_is_deleted` with `hard_deletes: new_record`), renameable with
//! `snapshot_meta_column_names`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::incremental::{drop_temp, Column};
use crate::quote::quote_ident;
use crate::relation::{suffixed_identifier, Relation};

/// How a changed row is detected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotStrategy {
    /// The row's `updated_at` column is newer than the current version's `dbt_valid_from`.
    Timestamp { updated_at: String },
    /// One of these columns differs (NULLs compared as values); versions are stamped with
    /// the snapshot time.
    Check { columns: Vec<String> },
}

/// What happens to current versions whose key is gone from the source (`hard_deletes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HardDeletes {
    /// They stay current.
    Ignore,
    /// Their `dbt_valid_to` is set to the snapshot time.
    Invalidate,
    /// Invalidated, and a new version with `dbt_is_deleted = 'True'` is inserted.
    NewRecord,
}

impl HardDeletes {
    /// Reads `hard_deletes`, falling back to the legacy `invalidate_hard_deletes: true`.
    pub fn parse(value: Option<&str>, legacy_invalidate: bool) -> Result<HardDeletes, String> {
        match value.map(str::trim) {
            None | Some("") if legacy_invalidate => Ok(HardDeletes::Invalidate),
            None | Some("") | Some("ignore") => Ok(HardDeletes::Ignore),
            Some("invalidate") => Ok(HardDeletes::Invalidate),
            Some("new_record") => Ok(HardDeletes::NewRecord),
            Some(other) => Err(format!(
                "unknown hard_deletes '{other}': expected ignore, invalidate or new_record"
            )),
        }
    }
}

/// The names of the meta columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaColumns {
    pub scd_id: String,
    pub updated_at: String,
    pub valid_from: String,
    pub valid_to: String,
    pub is_deleted: String,
}

impl Default for MetaColumns {
    fn default() -> Self {
        Self {
            scd_id: "dbt_scd_id".into(),
            updated_at: "dbt_updated_at".into(),
            valid_from: "dbt_valid_from".into(),
            valid_to: "dbt_valid_to".into(),
            is_deleted: "dbt_is_deleted".into(),
        }
    }
}

impl MetaColumns {
    /// dbt's defaults with the renames of `snapshot_meta_column_names` (keyed by the
    /// default names); an unknown key is an error.
    pub fn with_names(renames: &BTreeMap<String, String>) -> Result<MetaColumns, String> {
        let mut meta = MetaColumns::default();
        for (key, name) in renames {
            let slot = match key.as_str() {
                "dbt_scd_id" => &mut meta.scd_id,
                "dbt_updated_at" => &mut meta.updated_at,
                "dbt_valid_from" => &mut meta.valid_from,
                "dbt_valid_to" => &mut meta.valid_to,
                "dbt_is_deleted" => &mut meta.is_deleted,
                other => {
                    return Err(format!(
                        "unknown snapshot_meta_column_names key '{other}': expected dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to or dbt_is_deleted"
                    ))
                }
            };
            *slot = name.clone();
        }
        Ok(meta)
    }

    /// The meta columns a snapshot table has, in the order they are created.
    pub fn names(&self, hard_deletes: HardDeletes) -> Vec<&str> {
        let mut names = vec![
            self.scd_id.as_str(),
            self.updated_at.as_str(),
            self.valid_from.as_str(),
            self.valid_to.as_str(),
        ];
        if hard_deletes == HardDeletes::NewRecord {
            names.push(&self.is_deleted);
        }
        names
    }
}

/// One snapshot, its source columns resolved against the staged query.
#[derive(Clone, Debug)]
pub struct Snapshot<'a> {
    pub target: &'a Relation,
    /// The staged query (a temporary table).
    pub source: &'a Relation,
    /// The staged query's columns, in order.
    pub source_columns: &'a [Column],
    pub unique_key: &'a [String],
    pub strategy: &'a SnapshotStrategy,
    pub hard_deletes: HardDeletes,
    pub meta: &'a MetaColumns,
}

/// dbt-postgres's snapshot time: `now()`, constant within the transaction.
const SNAPSHOT_TIME: &str = "now()::timestamp without time zone";

impl Snapshot<'_> {
    /// The version timestamp of a source row (`alias` is the source's table alias).
    fn updated_at(&self, alias: &str) -> String {
        match self.strategy {
            SnapshotStrategy::Timestamp { updated_at } => {
                format!("{alias}.{}", quote_ident(updated_at))
            }
            SnapshotStrategy::Check { .. } => SNAPSHOT_TIME.to_string(),
        }
    }

    /// dbt's `dbt_scd_id`: md5 of the key columns and the version timestamp, `|`-joined.
    fn scd_id(&self, alias: &str) -> String {
        let mut parts: Vec<String> = self
            .unique_key
            .iter()
            .map(|k| format!("{alias}.{}", quote_ident(k)))
            .collect();
        parts.push(self.updated_at(alias));
        hash(&parts)
    }

    /// `snap.k = src.k and ...`.
    fn key_join(&self) -> String {
        self.unique_key
            .iter()
            .map(|k| {
                let k = quote_ident(k);
                format!("snap.{k} = src.{k}")
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Every key column of `alias` is null (the outer join found no partner).
    fn key_missing(&self, alias: &str) -> String {
        self.unique_key
            .iter()
            .map(|k| format!("{alias}.{} is null", quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Whether the source row `src` is a new version of the current one `snap`.
    fn row_changed(&self) -> String {
        let changed = match self.strategy {
            SnapshotStrategy::Timestamp { updated_at } => format!(
                "snap.{} < src.{}",
                quote_ident(&self.meta.valid_from),
                quote_ident(updated_at)
            ),
            SnapshotStrategy::Check { columns } if columns.is_empty() => "false".to_string(),
            SnapshotStrategy::Check { columns } => columns
                .iter()
                .map(|c| {
                    let c = quote_ident(c);
                    format!("snap.{c} is distinct from src.{c}")
                })
                .collect::<Vec<_>>()
                .join(" or "),
        };
        if self.hard_deletes == HardDeletes::NewRecord {
            format!("({changed}) or {}", self.is_deleted("snap"))
        } else {
            format!("({changed})")
        }
    }

    /// `alias.dbt_is_deleted` is 'True' (NULL-safe: rows from before `new_record` was set
    /// have NULL there).
    fn is_deleted(&self, alias: &str) -> String {
        format!(
            "{alias}.{} is not distinct from 'True'",
            quote_ident(&self.meta.is_deleted)
        )
    }

    fn source_list(&self, alias: &str) -> String {
        self.source_columns
            .iter()
            .map(|(c, _)| format!("{alias}.{}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `md5(coalesce(cast(a as varchar), '') || '|' || ...)`, as dbt-postgres hashes.
fn hash(parts: &[String]) -> String {
    let joined = parts
        .iter()
        .map(|p| format!("coalesce(cast({p} as varchar), '')"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    format!("md5({joined})")
}

/// The first run: `create table T as` the staged rows with the meta columns (every row a
/// current version), then the staged table dropped. Run in ONE transaction.
pub fn first_build_statements(s: &Snapshot<'_>) -> Vec<String> {
    let m = s.meta;
    let updated_at = s.updated_at("src");
    let mut select = format!(
        "select {},\n    {} as {},\n    {updated_at} as {},\n    {updated_at} as {},\n    nullif({updated_at}, {updated_at}) as {}",
        s.source_list("src"),
        s.scd_id("src"),
        quote_ident(&m.scd_id),
        quote_ident(&m.updated_at),
        quote_ident(&m.valid_from),
        quote_ident(&m.valid_to),
    );
    if s.hard_deletes == HardDeletes::NewRecord {
        let _ = write!(
            select,
            ",\n    'False'::text as {}",
            quote_ident(&m.is_deleted)
        );
    }
    let _ = write!(select, "\nfrom {} as src", s.source);
    vec![
        format!("create table {} as\n{select}", s.target),
        drop_temp(s.source),
    ]
}

/// The staging table of a snapshot run: `"pg_temp"."<identifier>__mart_snap"`.
pub fn staging_relation(target: &Relation) -> Relation {
    Relation::new(
        None,
        "pg_temp",
        suffixed_identifier(&target.identifier, "__mart_snap"),
    )
}

/// The statements of a later run and the indexes of the `update` (versions closed) and the
/// `insert` (versions added) among them. `target_columns` are the snapshot table's.
/// Run in ONE transaction.
pub fn update_statements(
    s: &Snapshot<'_>,
    target_columns: &[Column],
) -> (Vec<String>, usize, usize) {
    let m = s.meta;
    let target = s.target;
    let stage = staging_relation(target);
    let has = |name: &str| target_columns.iter().any(|(n, _)| n == name);
    let mut statements = Vec::new();
    // Source columns the table lacks are added (earlier versions get NULL there).
    for (name, data_type) in s.source_columns {
        if !has(name) {
            statements.push(format!(
                "alter table {target} add column {} {data_type}",
                quote_ident(name)
            ));
        }
    }
    if s.hard_deletes == HardDeletes::NewRecord && !has(&m.is_deleted) {
        statements.push(format!(
            "alter table {target} add column {} text",
            quote_ident(&m.is_deleted)
        ));
    }
    let valid_to_type = target_columns
        .iter()
        .find(|(n, _)| *n == m.valid_to)
        .map_or("timestamp without time zone", |(_, t)| t.as_str());
    let (scd, upd, from, to, deleted) = (
        quote_ident(&m.scd_id),
        quote_ident(&m.updated_at),
        quote_ident(&m.valid_from),
        quote_ident(&m.valid_to),
        quote_ident(&m.is_deleted),
    );
    let new_record = s.hard_deletes == HardDeletes::NewRecord;
    let deleted_flag = |value: &str| {
        if new_record {
            format!(", {value} as {deleted}")
        } else {
            String::new()
        }
    };
    let updated_at = s.updated_at("src");
    let join = s.key_join();
    let changed = s.row_changed();
    let mut branches = vec![
        // New keys and new versions of changed rows.
        format!(
            "select 'insert'::text as mart_change_type, {cols},\n    {scd_id} as {scd}, {updated_at} as {upd}, {updated_at} as {from}, cast(null as {valid_to_type}) as {to}{flag}\nfrom {source} as src\nleft join current_rows as snap on {join}\nwhere ({snap_missing}) or ({changed})",
            cols = s.source_list("src"),
            scd_id = s.scd_id("src"),
            flag = deleted_flag("'False'::text"),
            source = s.source,
            snap_missing = s.key_missing("snap"),
        ),
        // The current versions those replace.
        format!(
            "select 'update'::text, {cols},\n    snap.{scd}, {updated_at}, {updated_at}, {updated_at}{flag}\nfrom {source} as src\njoin current_rows as snap on {join}\nwhere {changed}",
            cols = s.source_list("src"),
            flag = deleted_flag(&format!("snap.{deleted}")),
            source = s.source,
        ),
    ];
    if s.hard_deletes != HardDeletes::Ignore {
        let gone = format!(
            "{}{}",
            s.key_missing("src"),
            if new_record {
                format!(" and not ({})", s.is_deleted("snap"))
            } else {
                String::new()
            }
        );
        // Current versions whose key left the source are closed...
        branches.push(format!(
            "select 'delete'::text, {cols},\n    snap.{scd}, {SNAPSHOT_TIME}, {SNAPSHOT_TIME}, {SNAPSHOT_TIME}{flag}\nfrom current_rows as snap\nleft join {source} as src on {join}\nwhere {gone}",
            cols = s.source_list("src"),
            flag = deleted_flag(&format!("snap.{deleted}")),
            source = s.source,
        ));
        if new_record {
            // ...and, with new_record, followed by a version marked deleted that keeps the
            // last values.
            let kept: Vec<String> = s
                .source_columns
                .iter()
                .map(|(name, data_type)| {
                    let q = quote_ident(name);
                    match target_columns.iter().find(|(n, _)| n == name) {
                        Some((_, t)) if t == data_type => format!("snap.{q}"),
                        Some(_) => format!("cast(snap.{q} as {data_type})"),
                        None => format!("src.{q}"),
                    }
                })
                .collect();
            branches.push(format!(
                "select 'insert'::text, {cols},\n    {new_scd}, {SNAPSHOT_TIME}, {SNAPSHOT_TIME}, cast(null as {valid_to_type}), 'True'::text\nfrom current_rows as snap\nleft join {source} as src on {join}\nwhere {gone}",
                cols = kept.join(", "),
                new_scd = hash(&[format!("snap.{scd}"), SNAPSHOT_TIME.to_string()]),
                source = s.source,
            ));
        }
    }
    statements.push(drop_temp(&stage));
    statements.push(format!(
        "create temporary table {stage} as\nwith current_rows as (\n    select * from {target} where {to} is null\n)\n{}",
        branches.join("\nunion all\n")
    ));
    let update_index = statements.len();
    statements.push(format!(
        "update {target} as mart_dest\nset {to} = stage.{to}\nfrom {stage} as stage\nwhere stage.{scd} = mart_dest.{scd}\n  and stage.mart_change_type in ('update', 'delete')\n  and mart_dest.{to} is null"
    ));
    let mut columns: Vec<String> = s
        .source_columns
        .iter()
        .map(|(n, _)| quote_ident(n))
        .collect();
    columns.extend(m.names(s.hard_deletes).into_iter().map(quote_ident));
    let columns = columns.join(", ");
    let insert_index = statements.len();
    statements.push(format!(
        "insert into {target} ({columns})\nselect {columns}\nfrom {stage}\nwhere mart_change_type = 'insert'"
    ));
    statements.push(drop_temp(&stage));
    statements.push(drop_temp(s.source));
    (statements, update_index, insert_index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::temp_relation;

    fn cols(names: &[(&str, &str)]) -> Vec<Column> {
        names
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    fn render(strategy: &SnapshotStrategy, key: &[&str], hard_deletes: HardDeletes) -> String {
        let target = Relation::new(None, "snapshots", "user_history");
        let source = temp_relation(&target);
        let source_columns = cols(&[
            ("user_id", "integer"),
            ("region", "text"),
            ("age", "text"),
            ("updated_at", "timestamp without time zone"),
        ]);
        let unique_key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
        let meta = MetaColumns::default();
        let s = Snapshot {
            target: &target,
            source: &source,
            source_columns: &source_columns,
            unique_key: &unique_key,
            strategy,
            hard_deletes,
            meta: &meta,
        };
        let mut target_columns = source_columns.clone();
        target_columns.truncate(3); // `updated_at` is new in the source
        target_columns.extend(cols(&[
            ("dbt_scd_id", "text"),
            ("dbt_updated_at", "timestamp without time zone"),
            ("dbt_valid_from", "timestamp without time zone"),
            ("dbt_valid_to", "timestamp without time zone"),
        ]));
        let (statements, update, insert) = update_statements(&s, &target_columns);
        format!(
            "-- first build\n{};\n\n-- later runs (update #{update}, insert #{insert})\n{};\n",
            first_build_statements(&s).join(";\n"),
            statements.join(";\n")
        )
    }

    #[test]
    fn timestamp_single_key_ignore() {
        insta::assert_snapshot!(render(
            &SnapshotStrategy::Timestamp {
                updated_at: "updated_at".into()
            },
            &["user_id"],
            HardDeletes::Ignore
        ));
    }

    #[test]
    fn timestamp_invalidate() {
        insta::assert_snapshot!(render(
            &SnapshotStrategy::Timestamp {
                updated_at: "updated_at".into()
            },
            &["user_id"],
            HardDeletes::Invalidate
        ));
    }

    #[test]
    fn check_composite_key_new_record() {
        insta::assert_snapshot!(render(
            &SnapshotStrategy::Check {
                columns: vec!["age".into()]
            },
            &["user_id", "region"],
            HardDeletes::NewRecord
        ));
    }

    #[test]
    fn configs() {
        assert_eq!(HardDeletes::parse(None, true), Ok(HardDeletes::Invalidate));
        assert_eq!(HardDeletes::parse(None, false), Ok(HardDeletes::Ignore));
        assert_eq!(
            HardDeletes::parse(Some("new_record"), true),
            Ok(HardDeletes::NewRecord)
        );
        assert!(HardDeletes::parse(Some("drop"), false).is_err());
        let renames: BTreeMap<String, String> =
            [("dbt_valid_to".to_string(), "valid_until".to_string())].into();
        let meta = MetaColumns::with_names(&renames).unwrap();
        assert_eq!(
            meta.names(HardDeletes::NewRecord),
            [
                "dbt_scd_id",
                "dbt_updated_at",
                "dbt_valid_from",
                "valid_until",
                "dbt_is_deleted"
            ]
        );
        let bad: BTreeMap<String, String> = [("valid".to_string(), "x".to_string())].into();
        assert!(MetaColumns::with_names(&bad).is_err());
    }
}
