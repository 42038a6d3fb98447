//! Materialization blocks of the project and of installed packages, the root project's
//! override of `table`, blocks that fail, dbt's rule for packages overriding built-in
//! materializations, and `store_failures_as` for data tests.

// Test support: a missing artifact should fail the test loudly.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::harness::TestProject;

/// A block that creates an empty table, then fills it in statement('main'), with hooks
/// and persisted docs.
const INSERT_TABLE: &str = "\
{% materialization insert_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks) }}
  {%- if existing is not none -%}{% do adapter.drop_relation(existing) %}{%- endif -%}
  {% call statement('create_empty') -%}
    create table {{ target_relation }} as select * from ({{ sql }}) s limit 0
  {%- endcall %}
  {% call statement('main') -%}
    insert into {{ target_relation }} select * from ({{ sql }}) s
  {%- endcall %}
  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
";

/// The root project's `table`: every table gets a `built_by` column.
const ROOT_TABLE: &str = "\
{% materialization table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {% do drop_relation_if_exists(load_cached_relation(this)) %}
  {% call statement('main') -%}
    create table {{ target_relation }} as select s.*, 'root'::text as built_by from ({{ sql }}) s
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
";

/// Blocks that go wrong in the three ways dbt checks, and one that never commits.
const BROKEN: &str = "\
{% materialization raises, default %}
  {% call statement('main') %}create table {{ this }} as select 1 as id{% endcall %}
  {{ exceptions.raise_compiler_error('raises on purpose after creating ' ~ this.identifier) }}
{% endmaterialization %}
{% materialization no_return, default %}
  {% call statement('main') %}create table {{ this }} as select 1 as id{% endcall %}
{% endmaterialization %}
{% materialization no_commit, default %}
  {% call statement('main') %}create table {{ this }} as select 1 as id{% endcall %}
  {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmaterialization %}
{% materialization no_main, default %}
  {% call statement('other') %}create table {{ this }} as select 1 as id{% endcall %}
  {{ return({'relations': [this]}) }}
{% endmaterialization %}
";

/// An installed package: a postgres-only view materialization, and a `table` that must
/// not replace the built-in one while dbt's flag keeps package overrides off.
const PACKAGE_MACROS: &str = "\
{% materialization plain_view, adapter='postgres' %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {% call statement('main') -%}
    create or replace view {{ target_relation }} as {{ sql }}
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
{% materialization table, default %}
  {% do drop_relation_if_exists(load_cached_relation(this)) %}
  {% call statement('main') -%}
    create table {{ this }} as select s.*, 'package'::text as built_by from ({{ sql }}) s
  {%- endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmaterialization %}
";

fn project(tag: &str, root_table: bool) -> TestProject {
    let mut files = vec![
        ("macros/insert_table.sql", INSERT_TABLE),
        ("macros/broken.sql", BROKEN),
        ("dbt_packages/pkg/dbt_project.yml", "name: pkg\nversion: '1.0'\nprofile: fx\n"),
        ("dbt_packages/pkg/macros/materializations.sql", PACKAGE_MACROS),
        (
            "models/m_insert.sql",
            "{{ config(materialized='insert_table', post_hook=\"insert into {{ this }} values (99, 'hook')\", persist_docs={'relation': true}) }}\nselect 1 as id, 'a'::text as name union all select 2, 'b'",
        ),
        (
            "models/_models.yml",
            "models:\n  - name: m_insert\n    description: Filled by insert_table\n",
        ),
        (
            "models/m_view.sql",
            "{{ config(materialized='plain_view') }}\nselect id * 10 as id from {{ ref('m_insert') }}",
        ),
        (
            "models/m_table.sql",
            "{{ config(materialized='table') }}\nselect id from {{ ref('m_insert') }} where id < 3",
        ),
        ("models/m_raises.sql", "{{ config(materialized='raises') }}\nselect 1 as id"),
        ("models/m_after_raises.sql", "select * from {{ ref('m_raises') }}"),
        ("models/m_no_return.sql", "{{ config(materialized='no_return') }}\nselect 1 as id"),
        ("models/m_no_main.sql", "{{ config(materialized='no_main') }}\nselect 1 as id"),
        ("models/m_no_commit.sql", "{{ config(materialized='no_commit') }}\nselect 1 as id"),
    ];
    if root_table {
        files.push(("macros/root_table.sql", ROOT_TABLE));
    }
    TestProject::with_files(tag, &files)
}

fn read_json(project: &TestProject, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(project.dir.join("target").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// name -> (status, message) of the last run_results.json.
fn results(project: &TestProject) -> BTreeMap<String, (String, String)> {
    read_json(project, "run_results.json")["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["unique_id"].as_str().unwrap();
            let name = id.rsplit('.').next().unwrap().to_string();
            let message = r["message"].as_str().unwrap_or_default();
            // Errors: their first line.
            let message = message.lines().next().unwrap_or_default().to_string();
            (name, (r["status"].as_str().unwrap().to_string(), message))
        })
        .collect()
}

fn kinds(project: &TestProject) -> Vec<String> {
    project
        .relations()
        .into_iter()
        .map(|(suffix, name, kind)| match suffix.as_str() {
            "" => format!("{name}:{kind}"),
            _ => format!("{suffix} {name}:{kind}"),
        })
        .collect()
}

#[test]
fn blocks_of_the_project_and_a_package_and_a_root_table_override() {
    let p = project("custom_mat", true);
    let out = p.mart_expect(&["run"], 1);
    let expected: BTreeMap<String, (String, String)> = [
        ("m_insert", "success", "INSERT 0 2"),
        ("m_view", "success", "CREATE VIEW"),
        ("m_table", "success", "SELECT 2"),
        ("m_raises", "error", "raises on purpose after creating m_raises"),
        ("m_after_raises", "skipped", "skipped because 'm_raises' did not succeed"),
        (
            "m_no_return",
            "error",
            "the materialization did not explicitly return a list of relations to add to the cache",
        ),
        ("m_no_commit", "success", "SELECT 1"),
        (
            "m_no_main",
            "error",
            "materialization 'no_main' ran no statement('main'); dbt reports a model's result from that statement",
        ),
    ]
    .into_iter()
    .map(|(n, s, m)| (n.to_string(), (s.to_string(), m.to_string())))
    .collect();
    assert_eq!(results(&p), expected, "{}", out.stdout);
    assert!(
        out.stdout.contains("warning: materialization 'no_commit' of models/m_no_commit.sql never called adapter.commit(): as dbt does, mart rolled back what it built"),
        "{}",
        out.stdout
    );
    // What failed or never committed was rolled back: only the three built relations exist.
    assert_eq!(kinds(&p), ["m_insert:r", "m_table:r", "m_view:v"]);
    let schema = &p.schema;
    // The post-hook ran in the block, after the insert; the comment was persisted.
    assert_eq!(
        p.rows(&format!(
            "select id, name from \"{schema}\".m_insert order by id"
        )),
        ["1|a", "2|b", "99|hook"]
    );
    assert_eq!(
        p.rows(&format!(
            "select obj_description('\"{schema}\".m_insert'::regclass)"
        )),
        ["Filled by insert_table"]
    );
    assert_eq!(
        p.rows(&format!("select id from \"{schema}\".m_view order by id")),
        ["10", "20", "990"]
    );
    // The root project's table, not the built-in one nor the package's.
    assert_eq!(
        p.rows(&format!(
            "select id, built_by from \"{schema}\".m_table order by id"
        )),
        ["1|root", "2|root"]
    );
    // target/run holds the statement('main') of a block.
    let run = std::fs::read_to_string(p.dir.join("target/run/fx/models/m_insert.sql")).unwrap();
    assert!(run.starts_with("insert into"), "{run}");
    // A second run replaces the relations (the existing table is dropped by the block).
    p.mart_expect(&["run", "-s", "m_insert", "m_table"], 0);
    assert_eq!(p.count(&format!("\"{schema}\".m_insert")), 3);
}

#[test]
fn packages_override_built_in_materializations_only_when_the_flag_allows() {
    let p = project("custom_mat_pkg", false);
    p.mart_expect(&["run", "-s", "m_insert", "m_table"], 0);
    // dbt 1.10's default: a package's `table` block is ignored; mart's own table builds it.
    let schema = &p.schema;
    assert_eq!(
        p.rows(&format!(
            "select column_name from information_schema.columns where table_schema = '{schema}' and table_name = 'm_table'"
        )),
        ["id"]
    );
    p.write(
        "dbt_project.yml",
        "name: fx\nprofile: fx\nflags:\n  require_explicit_package_overrides_for_builtin_materializations: false\nmodels:\n  fx:\n    +materialized: view\n",
    );
    let out = p.mart_expect(&["run", "-s", "m_table"], 0);
    assert!(
        out.stdout.contains(
            "warning: installed package 'pkg' replaces the built-in materialization 'table'"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        p.rows(&format!(
            "select id, built_by from \"{schema}\".m_table order by id"
        )),
        ["1|package", "2|package"]
    );
}

#[test]
fn an_unknown_materialization_is_still_an_error_naming_it() {
    let p = TestProject::with_files(
        "custom_mat_unknown",
        &[
            ("macros/insert_table.sql", INSERT_TABLE),
            (
                "models/m.sql",
                "{{ config(materialized='insert_tabel') }}\nselect 1 as id",
            ),
        ],
    );
    let out = p.mart_expect(&["run"], 2);
    assert!(
        out.stderr
            .contains("unknown materialization 'insert_tabel' for a model"),
        "{}",
        out.stderr
    );
}

const PEOPLE: &str =
    "select 1 as id, 'a'::text as name union all select 1, null union all select 2, 'z'";

/// name -> (status, failures) of the last run_results.json.
fn test_outcomes(project: &TestProject) -> BTreeMap<String, (String, Option<u64>)> {
    read_json(project, "run_results.json")["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["unique_id"].as_str().unwrap();
            let name = id.split('.').nth(2).unwrap().to_string();
            (
                name,
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["failures"].as_u64(),
                ),
            )
        })
        .collect()
}

#[test]
fn store_failures_as_view_table_and_ephemeral() {
    let properties = |name_test: &str| {
        format!(
            "models:\n  - name: people\n    columns:\n      - name: id\n        data_tests:\n          - unique:\n              config: {{store_failures_as: table}}\n      - name: name\n        data_tests:\n          - not_null:\n              config: {{{name_test}}}\n          - accepted_values:\n              values: [a, b]\n              config: {{store_failures: true, store_failures_as: ephemeral}}\n          - relationships:\n              to: ref('people')\n              field: name\n              config: {{store_failures: true}}\n"
        )
    };
    let p = TestProject::with_files(
        "store_failures_as",
        &[
            ("models/people.sql", PEOPLE),
            ("models/_models.yml", &properties("store_failures_as: view")),
        ],
    );
    p.mart_expect(&["run"], 0);
    p.mart_expect(&["test"], 1);
    let outcomes = test_outcomes(&p);
    let fail = |n| ("fail".to_string(), Some(n));
    assert_eq!(outcomes["unique_people_id"], fail(1));
    assert_eq!(outcomes["not_null_people_name"], fail(1));
    assert_eq!(outcomes["accepted_values_people_name__a__b"], fail(1));
    assert_eq!(
        outcomes["relationships_people_name__name__ref_people_"],
        ("pass".to_string(), Some(0))
    );
    // view and table as asked; ephemeral stores nothing; store_failures alone: a table.
    assert_eq!(
        kinds(&p),
        [
            "people:v",
            "_dbt_test__audit not_null_people_name:v",
            "_dbt_test__audit relationships_people_name__name__ref_people_:r",
            "_dbt_test__audit unique_people_id:r",
        ]
    );
    let audit = format!("\"{}_dbt_test__audit\"", p.schema);
    assert_eq!(
        p.rows(&format!("select id from {audit}.not_null_people_name")),
        ["1"]
    );
    assert_eq!(
        p.rows(&format!(
            "select unique_field, n_records from {audit}.unique_people_id"
        )),
        ["1|2"]
    );
    // From view to table: the view is replaced.
    p.write(
        "models/_models.yml",
        &properties("store_failures_as: table"),
    );
    p.mart_expect(&["test", "-s", "not_null_people_name"], 1);
    assert!(kinds(&p).contains(&"_dbt_test__audit not_null_people_name:r".to_string()));
    // A value dbt does not know fails the test when it runs, as in dbt.
    p.write(
        "models/_models.yml",
        &properties("store_failures_as: tabel"),
    );
    let out = p.mart_expect(&["test", "-s", "not_null_people_name"], 1);
    assert!(
        out.stdout.contains(
            "'tabel' is not a valid value for store_failures_as; accepted values are: ephemeral, table, view"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        test_outcomes(&p)["not_null_people_name"],
        ("error".to_string(), None)
    );
}
