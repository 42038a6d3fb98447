//! Snapshots end to end: both strategies across an insert, an update and a delete in the
//! source, with each hard_deletes mode; composite keys, renamed meta columns, the YAML
//! form, target_schema, and models reading a snapshot.

use crate::harness::TestProject;

fn rows(project: &TestProject, sql: &str) -> Vec<String> {
    project
        .query(sql)
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| "-".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

fn sql(project: &TestProject, statements: &str) {
    project.execute(&format!(
        "set search_path to \"{}\"; {statements}",
        project.schema
    ));
}

/// A project whose snapshot `s` (config `config`) reads the table `src` of its schema.
fn project(tag: &str, config: &str) -> TestProject {
    let p = TestProject::with_files(
        tag,
        &[(
            "snapshots/s.sql",
            &format!(
                "{{% snapshot s %}}\n{{{{ config({config}) }}}}\nselect * from \"{{{{ target.schema }}}}\".src\n{{% endsnapshot %}}\n"
            ),
        )],
    );
    p.execute(&format!(
        "create schema if not exists \"{s}\"; set search_path to \"{s}\"; \
         create table src (id int, v text, updated_at timestamp); \
         insert into src values (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01')",
        s = p.schema
    ));
    p
}

/// The snapshot's rows: id, v, valid_from, valid_to ('now' for the snapshot time, '-' for
/// NULL) and the extra column `extra` when given, ordered by id and version.
fn history(p: &TestProject, extra: &str) -> Vec<String> {
    let stamp = |c: &str| {
        format!(
            "case when {c} is null then '-' when {c} > '2025-01-01' then 'now' else {c}::text end"
        )
    };
    rows(
        p,
        &format!(
            "select id, v, {}, {}{extra} from \"{}\".s order by s.id, s.dbt_valid_from, s.dbt_valid_to nulls last",
            stamp("dbt_valid_from"),
            stamp("dbt_valid_to"),
            p.schema
        ),
    )
}

/// Runs the snapshot and returns its status message.
fn snapshot(p: &TestProject) -> String {
    let out = p.mart_expect(&["snapshot"], 0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("OK snapshotted"))
        .unwrap_or_default()
        .to_string();
    line[line.rfind('[').unwrap_or(0)..]
        .split(" in ")
        .next()
        .unwrap_or("")
        .to_string()
}

/// Insert id 3, update id 1, delete id 2: one snapshot after each, and one more without a
/// change. Returns the history after the update and after the delete.
fn three_changes(p: &TestProject, extra: &str) -> (Vec<String>, Vec<String>) {
    assert_eq!(snapshot(p), "[INSERT 2");
    assert_eq!(snapshot(p), "[INSERT 0, UPDATE 0", "no change adds nothing");
    sql(p, "insert into src values (3, 'c', '2024-01-02')");
    assert_eq!(snapshot(p), "[INSERT 1, UPDATE 0");
    sql(
        p,
        "update src set v = 'a2', updated_at = '2024-01-03' where id = 1",
    );
    assert_eq!(snapshot(p), "[INSERT 1, UPDATE 1");
    let after_update = history(p, extra);
    sql(p, "delete from src where id = 2");
    snapshot(p);
    let after_delete = history(p, extra);
    assert_eq!(snapshot(p), "[INSERT 0, UPDATE 0", "no change adds nothing");
    assert_eq!(history(p, extra), after_delete);
    (after_update, after_delete)
}

const TIMESTAMP: &str = "unique_key='id', strategy='timestamp', updated_at='updated_at'";
const CHECK: &str = "unique_key='id', strategy='check', check_cols=['v']";

#[test]
fn timestamp_ignore_keeps_deleted_rows_current() {
    let p = project("snap_ts_ignore", TIMESTAMP);
    let (updated, deleted) = three_changes(&p, "");
    let expected_update = [
        "1|a|2024-01-01 00:00:00|2024-01-03 00:00:00",
        "1|a2|2024-01-03 00:00:00|-",
        "2|b|2024-01-01 00:00:00|-",
        "3|c|2024-01-02 00:00:00|-",
    ];
    assert_eq!(updated, expected_update);
    assert_eq!(deleted, expected_update);
    // dbt's scd id: md5 of the key and updated_at.
    assert_eq!(
        rows(
            &p,
            &format!(
                "select count(*) from \"{}\".s where dbt_scd_id = md5(id::text || '|' || updated_at::text) and dbt_updated_at = updated_at",
                p.schema
            )
        ),
        ["4"]
    );
}

#[test]
fn timestamp_invalidate_closes_deleted_rows() {
    let p = project(
        "snap_ts_invalidate",
        &format!("{TIMESTAMP}, hard_deletes='invalidate'"),
    );
    let (_, deleted) = three_changes(&p, "");
    assert_eq!(
        deleted,
        [
            "1|a|2024-01-01 00:00:00|2024-01-03 00:00:00",
            "1|a2|2024-01-03 00:00:00|-",
            "2|b|2024-01-01 00:00:00|now",
            "3|c|2024-01-02 00:00:00|-",
        ]
    );
    // A deleted row that comes back gets a new version.
    sql(&p, "insert into src values (2, 'b', '2024-01-01')");
    assert_eq!(snapshot(&p), "[INSERT 1, UPDATE 0");
    assert_eq!(
        rows(
            &p,
            &format!(
                "select count(*) from \"{}\".s where id = 2 and dbt_valid_to is null",
                p.schema
            )
        ),
        ["1"]
    );
}

#[test]
fn legacy_invalidate_hard_deletes_and_new_record() {
    let p = project(
        "snap_ts_legacy",
        &format!("{TIMESTAMP}, invalidate_hard_deletes=true"),
    );
    let (_, deleted) = three_changes(&p, "");
    assert_eq!(deleted[2], "2|b|2024-01-01 00:00:00|now");

    let p = project(
        "snap_ts_new_record",
        &format!("{TIMESTAMP}, hard_deletes='new_record'"),
    );
    let (_, deleted) = three_changes(&p, ", dbt_is_deleted");
    assert_eq!(
        deleted,
        [
            "1|a|2024-01-01 00:00:00|2024-01-03 00:00:00|False",
            "1|a2|2024-01-03 00:00:00|-|False",
            "2|b|2024-01-01 00:00:00|now|False",
            "2|b|now|-|True",
            "3|c|2024-01-02 00:00:00|-|False",
        ]
    );
    // Back again: the deletion record is closed and a live version added.
    sql(&p, "insert into src values (2, 'b2', '2024-01-05')");
    assert_eq!(snapshot(&p), "[INSERT 1, UPDATE 1");
    assert_eq!(
        rows(
            &p,
            &format!(
                "select v, dbt_is_deleted from \"{}\".s where id = 2 and dbt_valid_to is null",
                p.schema
            )
        ),
        ["b2|False"]
    );
}

#[test]
fn check_strategy_each_hard_deletes_mode() {
    for (mode, deleted_row) in [
        ("ignore", "2|b|now|-"),
        ("invalidate", "2|b|now|now"),
        ("new_record", "2|b|now|now"),
    ] {
        let p = project(
            &format!("snap_check_{mode}"),
            &format!("{CHECK}, hard_deletes='{mode}'"),
        );
        let (updated, deleted) = three_changes(&p, "");
        // Versions are stamped with the snapshot time; updated_at plays no part.
        assert_eq!(
            updated,
            ["1|a|now|now", "1|a2|now|-", "2|b|now|-", "3|c|now|-"],
            "{mode}"
        );
        assert_eq!(deleted[2], deleted_row, "{mode}");
        let expected_rows = if mode == "new_record" { 5 } else { 4 };
        assert_eq!(deleted.len(), expected_rows, "{mode}: {deleted:?}");
        // A change outside check_cols is no new version.
        sql(&p, "update src set updated_at = '2024-02-01' where id = 3");
        assert_eq!(snapshot(&p), "[INSERT 0, UPDATE 0", "{mode}");
    }
}

#[test]
fn composite_key_check_all_renamed_meta_columns_and_target_schema() {
    let p = TestProject::with_files(
        "snap_composite",
        &[
            (
                "snapshots/history.sql",
                "{% snapshot region_history %}\n{{ config(target_schema=target.schema ~ '_history', unique_key=['id', 'region'], strategy='check', check_cols='all', snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to'}) }}\nselect * from \"{{ target.schema }}\".src\n{% endsnapshot %}\n",
            ),
            (
                "models/current_regions.sql",
                "select id, region, v from {{ ref('region_history') }} where valid_to is null",
            ),
        ],
    );
    let s = &p.schema;
    p.execute(&format!(
        "create schema if not exists \"{s}\"; set search_path to \"{s}\"; \
         create table src (id int, region text, v text); \
         insert into src values (1, 'eu', 'a'), (1, 'us', 'b')"
    ));
    p.mart_expect(&["snapshot"], 0);
    sql(
        &p,
        "update src set v = 'b2' where region = 'us'; insert into src values (2, 'eu', 'c')",
    );
    p.mart_expect(&["snapshot"], 0);
    p.mart_expect(&["run"], 0);
    assert_eq!(
        rows(&p, &format!("select id, region, v, valid_to is null from \"{s}_history\".region_history order by 1, 2, 4, 3")),
        ["1|eu|a|t", "1|us|b|f", "1|us|b2|t", "2|eu|c|t"]
    );
    assert_eq!(
        rows(
            &p,
            &format!("select * from \"{s}\".current_regions order by 1, 2")
        ),
        ["1|eu|a", "1|us|b2", "2|eu|c"]
    );
    assert_eq!(
        rows(&p, &format!("select column_name from information_schema.columns where table_schema = '{s}_history' and table_name = 'region_history' order by ordinal_position")),
        ["id", "region", "v", "dbt_scd_id", "dbt_updated_at", "valid_from", "valid_to"]
    );
}

#[test]
fn yaml_snapshot_of_a_source_and_config_errors() {
    let p = TestProject::with_files(
        "snap_yaml",
        &[
            (
                "snapshots/_snapshots.yml",
                "snapshots:\n  - name: src_history\n    relation: source('raw', 'src')\n    config:\n      schema: snaps\n      unique_key: id\n      strategy: timestamp\n      updated_at: updated_at\n",
            ),
            (
                "models/_sources.yml",
                "sources:\n  - name: raw\n    schema: \"{{ target.schema }}\"\n    tables:\n      - name: src\n",
            ),
        ],
    );
    let s = &p.schema;
    p.execute(&format!(
        "create schema if not exists \"{s}\"; set search_path to \"{s}\"; \
         create table src (id int, v text, updated_at timestamp); insert into src values (1, 'a', '2024-01-01')"
    ));
    let ls = p.mart_expect(&["ls", "--resource-type", "snapshot"], 0);
    assert_eq!(ls.stdout.trim(), "fx.src_history");
    p.mart_expect(&["snapshot"], 0);
    assert_eq!(p.count(&format!("\"{s}_snaps\".src_history")), 1);

    // A timestamp snapshot without updated_at: the error names the snapshot and the key.
    p.write(
        "snapshots/bad.sql",
        "{% snapshot bad %}\n{{ config(unique_key='id', strategy='timestamp') }}\nselect 1 as id\n{% endsnapshot %}\n",
    );
    let out = p.mart_expect(&["snapshot", "-s", "bad"], 1);
    assert!(
        out.stdout
            .contains("snapshot 'bad': strategy 'timestamp' needs updated_at")
            && out.stdout.contains("snapshots/bad.sql"),
        "{}",
        out.stdout
    );
}
