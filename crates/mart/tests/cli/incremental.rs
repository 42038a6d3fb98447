//! The incremental materialization end to end: strategies, on_schema_change, full refresh.

use crate::harness::TestProject;
use crate::lecture;

/// A project with one model `m` and a source table `src` (created by `src_ddl`) in the
/// project's schema; the model reads it as `{{ target.schema }}.src`.
fn project(tag: &str, model: &str, src_ddl: &str) -> TestProject {
    let project = TestProject::with_files(tag, &[("models/m.sql", model)]);
    project.execute(&format!(
        "create schema if not exists \"{s}\"; set search_path to \"{s}\"; {src_ddl}",
        s = project.schema
    ));
    project
}

fn rows(project: &TestProject, sql: &str) -> Vec<String> {
    project.rows(sql)
}

fn sql(project: &TestProject, statements: &str) {
    project.execute(&format!(
        "set search_path to \"{}\"; {statements}",
        project.schema
    ));
}

fn target(project: &TestProject, columns: &str) -> Vec<String> {
    rows(
        project,
        &format!(
            "select {columns} from \"{}\".m order by 1, 2",
            project.schema
        ),
    )
}

fn columns(project: &TestProject) -> Vec<String> {
    rows(
        project,
        &format!(
            "select column_name || ' ' || data_type from information_schema.columns \
             where table_schema = '{}' and table_name = 'm' order by ordinal_position",
            project.schema
        ),
    )
}

fn kind(project: &TestProject) -> String {
    project
        .relations()
        .into_iter()
        .find(|(s, n, _)| s.is_empty() && n == "m")
        .map(|(_, _, k)| k)
        .unwrap_or_default()
}

const SRC: &str = "create table src (id int, date_id date, v text, w int); \
    insert into src values (1, '2024-01-01', 'a', 10), (2, '2024-01-01', 'b', 20), \
    (3, '2024-01-02', 'c', 30)";

#[test]
fn append_with_is_incremental_filter() {
    let p = project(
        "inc_append",
        "{{ config(materialized='incremental') }}\
         select id, v from \"{{ target.schema }}\".src\n\
         {% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}",
        SRC,
    );
    let first = p.mart_expect(&["run"], 0);
    assert!(first.stdout.contains("SELECT 3"), "{}", first.stdout);
    assert_eq!(kind(&p), "r");
    sql(&p, "insert into src values (4, '2024-01-03', 'd', 40)");
    let second = p.mart_expect(&["run"], 0);
    assert!(second.stdout.contains("INSERT 1"), "{}", second.stdout);
    assert_eq!(target(&p, "id, v"), ["1|a", "2|b", "3|c", "4|d"]);
    // Nothing new: nothing inserted, no leftovers in the schema.
    let third = p.mart_expect(&["run"], 0);
    assert!(third.stdout.contains("INSERT 0"), "{}", third.stdout);
    assert_eq!(target(&p, "id, v"), ["1|a", "2|b", "3|c", "4|d"]);
    let names: Vec<String> = p.relations().into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(names, ["m", "src"]);
}

#[test]
fn merge_single_key_updates_and_inserts() {
    let p = project(
        "inc_merge",
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\
         select id, v, w from \"{{ target.schema }}\".src",
        SRC,
    );
    p.mart_expect(&["run"], 0);
    sql(
        &p,
        "update src set v = 'B', w = 21 where id = 2; insert into src values (4, '2024-01-03', 'd', 40)",
    );
    let out = p.mart_expect(&["run"], 0);
    assert!(out.stdout.contains("MERGE 4"), "{}", out.stdout);
    assert_eq!(
        target(&p, "id, v, w"),
        ["1|a|10", "2|B|21", "3|c|30", "4|d|40"]
    );
}

#[test]
fn merge_composite_key_with_update_and_exclude_columns() {
    let p = project(
        "inc_merge_cols",
        "{{ config(materialized='incremental', unique_key=['id', 'date_id'], \
         incremental_strategy='merge', merge_update_columns=['v']) }}\
         select id, date_id, v, w from \"{{ target.schema }}\".src",
        SRC,
    );
    p.write(
        "models/m2.sql",
        "{{ config(materialized='incremental', unique_key=['id', 'date_id'], \
         incremental_strategy='merge', merge_exclude_columns=['v']) }}\
         select id, date_id, v, w from \"{{ target.schema }}\".src",
    );
    p.mart_expect(&["run"], 0);
    sql(
        &p,
        "update src set v = upper(v), w = w + 1; \
         insert into src values (1, '2024-01-02', 'e', 50)",
    );
    p.mart_expect(&["run"], 0);
    // merge_update_columns=['v']: w keeps its old values on matched rows.
    assert_eq!(
        target(&p, "id, date_id, v, w"),
        [
            "1|2024-01-01|A|10",
            "1|2024-01-02|e|50",
            "2|2024-01-01|B|20",
            "3|2024-01-02|C|30"
        ]
    );
    // merge_exclude_columns=['v']: v keeps its old values on matched rows.
    assert_eq!(
        rows(
            &p,
            &format!(
                "select id, date_id, v, w from \"{}\".m2 order by 1, 2",
                p.schema
            )
        ),
        [
            "1|2024-01-01|a|11",
            "1|2024-01-02|e|50",
            "2|2024-01-01|b|21",
            "3|2024-01-02|c|31"
        ]
    );
}

#[test]
fn delete_insert_by_date_id_replaces_that_date_and_is_idempotent() {
    // No incremental_strategy: with a unique_key dbt-postgres defaults to delete+insert.
    let p = project(
        "inc_delins",
        "{{ config(materialized='incremental', unique_key='date_id') }}\
         select id, date_id, v from \"{{ target.schema }}\".src \
         where date_id = '{{ var(\"date_id\") }}'::date",
        SRC,
    );
    p.mart_expect(&["run", "--vars", "{date_id: 2024-01-01}"], 0);
    p.mart_expect(&["run", "--vars", "{date_id: 2024-01-02}"], 0);
    assert_eq!(
        target(&p, "id, date_id, v"),
        ["1|2024-01-01|a", "2|2024-01-01|b", "3|2024-01-02|c"]
    );
    sql(
        &p,
        "delete from src where id = 1; update src set v = 'B' where id = 2; \
         insert into src values (5, '2024-01-01', 'e', 0)",
    );
    let expected = ["2|2024-01-01|B", "3|2024-01-02|c", "5|2024-01-01|e"];
    for _ in 0..2 {
        let out = p.mart_expect(&["run", "--vars", "{date_id: 2024-01-01}"], 0);
        assert!(out.stdout.contains("INSERT 2"), "{}", out.stdout);
        assert_eq!(target(&p, "id, date_id, v"), expected);
    }
}

#[test]
fn on_schema_change_ignore_loads_the_shared_columns() {
    let p = project(
        "inc_osc_ignore",
        "{{ config(materialized='incremental') }}select id, v from \"{{ target.schema }}\".src where id = 1",
        SRC,
    );
    p.mart_expect(&["run"], 0);
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental') }}select id, w from \"{{ target.schema }}\".src where id = 2",
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(columns(&p), ["id integer", "v text"]);
    assert_eq!(target(&p, "id, v"), ["1|a", "2|-"]);
}

#[test]
fn on_schema_change_fail_lists_the_columns_and_changes_nothing() {
    let p = project(
        "inc_osc_fail",
        "{{ config(materialized='incremental', on_schema_change='fail') }}\
         select id, v from \"{{ target.schema }}\".src where id = 1",
        SRC,
    );
    p.mart_expect(&["run"], 0);
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', on_schema_change='fail') }}\
         select id::bigint as id, w from \"{{ target.schema }}\".src where id = 2",
    );
    let out = p.mart_expect(&["run"], 1);
    for needle in [
        "models/m.sql",
        "on_schema_change='fail'",
        "columns in the model, not in the table: w integer",
        "columns in the table, not in the model: v text",
        "columns whose type changed: id integer -> bigint",
    ] {
        assert!(out.stdout.contains(needle), "{needle}\n{}", out.stdout);
    }
    assert_eq!(columns(&p), ["id integer", "v text"]);
    assert_eq!(target(&p, "id, v"), ["1|a"]);
}

#[test]
fn on_schema_change_append_new_columns() {
    let p = project(
        "inc_osc_append",
        "{{ config(materialized='incremental', on_schema_change='append_new_columns') }}\
         select id, v from \"{{ target.schema }}\".src where id = 1",
        SRC,
    );
    p.mart_expect(&["run"], 0);
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', on_schema_change='append_new_columns') }}\
         select id, w from \"{{ target.schema }}\".src where id = 2",
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(columns(&p), ["id integer", "v text", "w integer"]);
    assert_eq!(target(&p, "id, v, w"), ["1|a|-", "2|-|20"]);
}

#[test]
fn on_schema_change_sync_all_columns() {
    let p = project(
        "inc_osc_sync",
        "{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}\
         select id, v, w from \"{{ target.schema }}\".src where id = 1",
        SRC,
    );
    p.mart_expect(&["run"], 0);
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', on_schema_change='sync_all_columns') }}\
         select id, w::bigint as w, date_id from \"{{ target.schema }}\".src where id = 2",
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(columns(&p), ["id integer", "w bigint", "date_id date"]);
    assert_eq!(target(&p, "id, w, date_id"), ["1|10|-", "2|20|2024-01-01"]);
}

#[test]
fn full_refresh_rebuilds_unless_the_config_says_no() {
    let model = |config: &str| {
        format!(
            "{{{{ config(materialized='incremental'{config}) }}}}\
             select id, v from \"{{{{ target.schema }}}}\".src\n\
             {{% if is_incremental() %}} where id > (select max(id) from {{{{ this }}}}) {{% endif %}}"
        )
    };
    let p = project("inc_full_refresh", &model(""), SRC);
    p.mart_expect(&["run"], 0);
    sql(&p, "update src set v = 'A' where id = 1");
    p.mart_expect(&["run"], 0);
    assert_eq!(target(&p, "id, v"), ["1|a", "2|b", "3|c"]);
    let out = p.mart_expect(&["run", "--full-refresh"], 0);
    assert!(out.stdout.contains("SELECT 3"), "{}", out.stdout);
    assert_eq!(target(&p, "id, v"), ["1|A", "2|b", "3|c"]);

    // full_refresh: false wins over the flag.
    p.write("models/m.sql", &model(", full_refresh=false"));
    sql(&p, "update src set v = 'AA' where id = 1");
    let out = p.mart_expect(&["run", "--full-refresh"], 0);
    assert!(out.stdout.contains("INSERT 0"), "{}", out.stdout);
    assert_eq!(target(&p, "id, v"), ["1|A", "2|b", "3|c"]);

    // full_refresh: true rebuilds on every run.
    p.write("models/m.sql", &model(", full_refresh=true"));
    p.mart_expect(&["run"], 0);
    assert_eq!(target(&p, "id, v"), ["1|AA", "2|b", "3|c"]);
}

#[test]
fn a_view_in_the_way_is_replaced_and_bad_configs_are_errors() {
    let p = project(
        "inc_view",
        "select 1 as id",
        "create table src (id int); insert into src values (1), (2)",
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(kind(&p), "v");
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental') }}select id from \"{{ target.schema }}\".src",
    );
    p.mart_expect(&["run"], 0);
    assert_eq!(kind(&p), "r");
    assert_eq!(p.count(&format!("\"{}\".m", p.schema)), 2);

    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}\
         select id from \"{{ target.schema }}\".src",
    );
    let out = p.mart_expect(&["run"], 1);
    assert!(
        out.stdout.contains("models/m.sql:1:")
            && out
                .stdout
                .contains("unknown incremental_strategy 'insert_overwrite'"),
        "{}",
        out.stdout
    );
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', incremental_strategy='merge') }}\
         select id from \"{{ target.schema }}\".src",
    );
    let out = p.mart_expect(&["run"], 1);
    assert!(
        out.stdout.contains("'merge' needs a unique_key"),
        "{}",
        out.stdout
    );
    p.write(
        "models/m.sql",
        "{{ config(materialized='incremental', unique_key='nope') }}\
         select id from \"{{ target.schema }}\".src",
    );
    let out = p.mart_expect(&["run"], 1);
    assert!(
        out.stdout
            .contains("unique_key names columns the model does not select: nope"),
        "{}",
        out.stdout
    );
    assert_eq!(p.count(&format!("\"{}\".m", p.schema)), 2);
}

#[test]
fn lecture_scenario_new_user_event_row_appears_once() {
    let p = TestProject::example("inc_lecture");
    p.mart_expect(&lecture(&["seed"]), 0);
    p.mart_expect(&lecture(&["run"]), 0);
    let fact = format!("\"{}\".fact_user_event", p.schema);
    let before = p.count(&fact);
    p.execute(&format!(
        "insert into \"{}_raw_data\".user_event values (100, '2023-06-10', 100, 1, 0, 0)",
        p.schema
    ));
    // The fact merges the latest loaded day and the newer ones on its key.
    let last_day = p.count(&format!(
        "{fact} where datestamp = (select max(datestamp) from {fact})"
    ));
    let out = p.mart_expect(&lecture(&["run"]), 0);
    assert!(
        out.stdout.contains(&format!("MERGE {}", last_day + 1)),
        "{}",
        out.stdout
    );
    assert_eq!(p.count(&fact), before + 1);
    let new = rows(
        &p,
        &format!(
            "select user_id, datestamp, item_id, clicked, purchased, paidamount from {fact} \
             where user_id = 100 and datestamp = '2023-06-10'"
        ),
    );
    assert_eq!(new.len(), 1, "{new:?}");
    // A second run adds nothing.
    p.mart_expect(&lecture(&["run"]), 0);
    assert_eq!(p.count(&fact), before + 1);
}
