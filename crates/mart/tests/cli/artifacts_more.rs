//! dbt's artifacts beyond the basics: catalog.json from `docs generate`, a node's
//! `depends_on.macros` and full config, on-run-end's `results`, `--warn-error-options`,
//! `indirect_selection` in selectors.yml and the docs site's `__overview__`.

use serde_json::Value;

use crate::harness::TestProject;

const PROJECT: &str = "name: fx\nprofile: fx\n";

#[allow(clippy::unwrap_used)] // a test helper: a missing artifact fails the test
fn json(p: &TestProject, path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p.dir.join(path)).unwrap()).unwrap()
}

fn tiny() -> TestProject {
    TestProject::with_files(
        "artifacts_more",
        &[
            ("dbt_project.yml", PROJECT),
            ("seeds/people.csv", "id,name,born\n1,ann,2000-01-02\n2,bob,1999-03-04\n"),
            (
                "macros/helpers.sql",
                "{% macro double(x) %}({{ x }} * 2){% endmacro %}\n{% macro twice_now() %}{{ current_timestamp() }}{% endmacro %}\n",
            ),
            (
                "models/stg_people.sql",
                "select id, name, born, {{ double('id') }} as id2, {{ current_timestamp() }} as loaded_at from {{ ref('people') }}",
            ),
            (
                "models/people_table.sql",
                "{{ config(materialized='table') }}\nselect id, name::text as name, {{ twice_now() }} as t from {{ ref('stg_people') }}",
            ),
            (
                "models/people_inc.sql",
                "{{ config(materialized='incremental', unique_key='id') }}\nselect id, name from {{ ref('stg_people') }}\n{% if is_incremental() %} where id > (select max(id) from {{ this }}) {% endif %}",
            ),
            (
                "models/schema.yml",
                "models:\n  - name: stg_people\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n      - name: name\n        data_tests:\n          - accepted_values:\n              values: [ann, bob]\n",
            ),
        ],
    )
}

#[test]
fn docs_generate_writes_dbt_s_catalog_json() {
    let p = tiny();
    p.mart_expect(&["build"], 0);
    p.execute(&format!(
        "comment on table \"{s}\".people_table is 'the people'; comment on column \"{s}\".people_table.id is 'key'",
        s = p.schema
    ));
    p.mart_expect(&["docs", "generate"], 0);
    let catalog = json(&p, "target/catalog.json");
    assert_eq!(
        catalog["metadata"]["dbt_schema_version"],
        "https://schemas.getdbt.com/dbt/catalog/v1.json"
    );
    assert_eq!(catalog["errors"], Value::Null);
    let ids: Vec<&String> = catalog["nodes"].as_object().unwrap().keys().collect();
    assert_eq!(
        ids,
        [
            "model.fx.people_inc",
            "model.fx.people_table",
            "model.fx.stg_people",
            "seed.fx.people"
        ]
    );
    let table = &catalog["nodes"]["model.fx.people_table"];
    assert_eq!(
        table["metadata"],
        serde_json::json!({"type": "BASE TABLE", "schema": p.schema, "name": "people_table",
            "database": "postgres", "comment": "the people", "owner": "postgres"})
    );
    assert_eq!(
        table["columns"],
        serde_json::json!({
            "id": {"type": "integer", "index": 1, "name": "id", "comment": "key"},
            "name": {"type": "text", "index": 2, "name": "name", "comment": null},
            "t": {"type": "timestamp with time zone", "index": 3, "name": "t", "comment": null},
        })
    );
    assert_eq!(table["stats"]["has_stats"]["value"], false);
    assert_eq!(table["unique_id"], "model.fx.people_table");
    assert_eq!(
        catalog["nodes"]["model.fx.stg_people"]["metadata"]["type"],
        "VIEW"
    );
    assert_eq!(
        catalog["nodes"]["seed.fx.people"]["columns"]["born"]["type"],
        "date"
    );

    // --empty-catalog: no relations, no errors.
    p.mart_expect(&["docs", "generate", "--empty-catalog"], 0);
    let empty = json(&p, "target/catalog.json");
    assert_eq!(empty["nodes"], serde_json::json!({}));
    assert_eq!(empty["errors"], Value::Null);
}

#[test]
fn manifest_lists_the_macros_each_node_and_macro_calls_and_full_configs() {
    let p = tiny();
    p.mart_expect(&["compile"], 0);
    let manifest = json(&p, "target/manifest.json");
    // Generic tests' unique ids end in a hash, as dbt's: find nodes by name.
    let id_of = |name: &str| -> String {
        manifest["nodes"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, n)| n["name"] == name)
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| name.to_string())
    };
    let macros = |id: &str| manifest["nodes"][id_of(id).as_str()]["depends_on"]["macros"].clone();
    assert_eq!(
        macros("stg_people"),
        serde_json::json!(["macro.fx.double", "macro.dbt.current_timestamp"])
    );
    assert_eq!(
        macros("people_table"),
        serde_json::json!(["macro.fx.twice_now"])
    );
    assert_eq!(
        macros("people_inc"),
        serde_json::json!(["macro.dbt.is_incremental"])
    );
    assert_eq!(
        macros("not_null_stg_people_id"),
        serde_json::json!(["macro.dbt.test_not_null"])
    );
    assert_eq!(
        macros("accepted_values_stg_people_name__ann__bob"),
        serde_json::json!([
            "macro.dbt.test_accepted_values",
            "macro.dbt.get_where_subquery"
        ])
    );
    assert_eq!(macros("people"), serde_json::json!([]));
    assert_eq!(
        manifest["macros"]["macro.fx.twice_now"]["depends_on"]["macros"],
        serde_json::json!(["macro.dbt.current_timestamp"])
    );
    // Models compiled by this command carry their SQL.
    let code = manifest["nodes"]["model.fx.people_table"]["compiled_code"]
        .as_str()
        .unwrap();
    assert!(
        code.contains(&format!(
            "from \"postgres\".\"{}\".\"stg_people\"",
            p.schema
        )),
        "{code}"
    );

    // Every key of dbt's config for each resource type, set or not.
    let keys = |id: &str| -> Vec<String> {
        let mut keys: Vec<String> = manifest["nodes"][id_of(id).as_str()]["config"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    let node_keys = "alias batch_size begin column_types concurrent_batches contract database docs enabled event_time full_refresh grants group incremental_strategy lookback materialized meta on_configuration_change on_schema_change packages persist_docs post-hook pre-hook quoting schema tags unique_key";
    let with = |extra: &str| {
        let mut all: Vec<String> = node_keys
            .split(' ')
            .chain(extra.split(' ').filter(|k| !k.is_empty()))
            .map(String::from)
            .collect();
        all.sort();
        all
    };
    assert_eq!(keys("people_inc"), with("access freshness"));
    assert_eq!(keys("people"), with("delimiter quote_columns"));
    assert_eq!(
        keys("unique_stg_people_id").join(" "),
        "alias database enabled error_if fail_calc group limit materialized meta schema severity store_failures store_failures_as tags warn_if where"
    );
    let config = &manifest["nodes"]["model.fx.people_inc"]["config"];
    assert_eq!(config["unique_key"], "id");
    assert_eq!(config["on_schema_change"], "ignore");
    assert_eq!(
        config["docs"],
        serde_json::json!({"show": true, "node_color": null})
    );
}

#[test]
fn on_run_end_sees_results_schemas_and_database_schemas() {
    let p = TestProject::with_files(
        "on_run_end_results",
        &[
            (
                "dbt_project.yml",
                "name: fx\nprofile: fx\non-run-end:\n  - \"create table {{ target.schema }}.run_results_log as {% for r in results %}select '{{ r.node.name }}'::text as id, '{{ r.status }}'::text as status, '{{ r.adapter_response.code }}'::text as code, {{ r.adapter_response.rows_affected or 'null' }}::int as rows_affected, '{{ r.failures if r.failures is not none else '-' }}'::text as failures, '{{ r.thread_id }}'::text as thread, {{ r.timing | length }} as timings, {{ 1 if r.execution_time >= 0 else 0 }} as timed, '{{ r.node.resource_type }}'::text as kind, '{{ r.message }}'::text as message {% if not loop.last %}union all {% endif %}{% endfor %}\"\n  - \"create table {{ target.schema }}.schemas_log as select '{{ schemas | join(',') }}'::text as schemas, '{% for d, s in database_schemas %}{{ d }}.{{ s }}{% endfor %}'::text as pairs\"\n",
            ),
            ("models/a.sql", "{{ config(materialized='table') }}select 1 as id union all select 2"),
            ("models/b.sql", "select * from {{ ref('a') }}"),
            (
                "models/a.yml",
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
            ),
        ],
    );
    p.mart_expect(&["build", "--threads", "1"], 0);
    let rows = p.rows(&format!(
        "select id, status, code, coalesce(rows_affected::text, '-'), failures, thread, timings, timed, kind, message from \"{}\".run_results_log order by id",
        p.schema
    ));
    assert_eq!(
        rows,
        [
            "a|success|SELECT|2|-|Thread-1|2|1|model|SELECT 2",
            "b|success|CREATE VIEW|-|-|Thread-1|2|1|model|CREATE VIEW",
            "not_null_a_id|pass||-|0|Thread-1|2|1|test|PASS",
        ]
    );
    assert_eq!(
        p.rows(&format!(
            "select schemas, pairs from \"{}\".schemas_log",
            p.schema
        )),
        [format!("{s}|postgres.{s}", s = p.schema)]
    );
}

#[test]
fn warn_error_options_names_dbt_s_warning_events() {
    let p = TestProject::with_files(
        "warn_error_options",
        &[
            ("dbt_project.yml", PROJECT),
            ("models/m.sql", "select 1 as id"),
        ],
    );
    // The selection matches nothing: NoNodesForSelectionCriteria.
    let options = |o: &str| {
        vec!["ls", "-s", "nothing_here", "--warn-error-options", o]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let run = |o: &str, code: i32| {
        let args = options(o);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.mart_expect(&args, code)
    };
    let error = run(r#"{"error": ["NoNodesForSelectionCriteria"]}"#, 1);
    assert!(error.stderr.contains("error[MART405]: the selection criterion 'nothing_here' (--select) does not match any enabled nodes"), "{}", error.stderr);
    let old_name = run(r#"{"include": "all"}"#, 1);
    assert!(
        old_name.stderr.contains("error[MART405]"),
        "{}",
        old_name.stderr
    );
    let kept = run(
        r#"{"error": "all", "warn": ["NoNodesForSelectionCriteria"]}"#,
        0,
    );
    assert!(kept.stderr.contains("warning[MART405]"), "{}", kept.stderr);
    let other = run(r#"{"error": ["NoNodeForYamlKey"]}"#, 0);
    assert!(
        other.stderr.contains("warning[MART405]"),
        "{}",
        other.stderr
    );
    let silenced = run(r#"{"silence": ["NoNodesForSelectionCriteria"]}"#, 0);
    assert!(!silenced.stderr.contains("MART405"), "{}", silenced.stderr);
    let unknown = run(r#"{"error": ["NoNodesForSelectionCriterion"]}"#, 2);
    assert!(
        unknown.stderr.contains("error[MART601]: --warn-error-options: \"NoNodesForSelectionCriterion\" in `error` is not a valid dbt error name"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown
            .stderr
            .contains("did you mean 'NoNodesForSelectionCriteria'?"),
        "{}",
        unknown.stderr
    );
    let both = p.mart_expect(
        &["ls", "--warn-error", "--warn-error-options", "{error: all}"],
        2,
    );
    assert!(
        both.stderr.contains("cannot be given together"),
        "{}",
        both.stderr
    );
}

#[test]
fn a_selector_definition_s_indirect_selection_overrides_the_flag() {
    let p = TestProject::with_files(
        "selector_indirect",
        &[
            ("dbt_project.yml", PROJECT),
            ("models/a.sql", "select 1 as id"),
            ("models/b.sql", "select id from {{ ref('a') }}"),
            (
                "models/a.yml",
                "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [not_null, {relationships: {to: ref('b'), field: id}}]\n",
            ),
            (
                "selectors.yml",
                "selectors:\n  - name: a_cautious\n    definition: {method: fqn, value: a, indirect_selection: cautious}\n  - name: a_default\n    definition: {method: fqn, value: a}\n  - name: a_wrong\n    definition: {method: fqn, value: a, indirect_selection: cautios}\n",
            ),
        ],
    );
    let ls = |args: &[&str]| {
        let mut all = vec!["ls", "--output", "name"];
        all.extend_from_slice(args);
        p.mart_expect(&all, 0).stdout
    };
    assert_eq!(ls(&["--selector", "a_cautious"]), "a\nnot_null_a_id\n");
    assert_eq!(
        ls(&["--selector", "a_cautious", "--indirect-selection", "empty"]),
        "a\nnot_null_a_id\n"
    );
    assert_eq!(
        ls(&["--selector", "a_default"]),
        "a\nnot_null_a_id\nrelationships_a_id__id__ref_b_\n"
    );
    assert_eq!(
        ls(&["--selector", "a_default", "--indirect-selection", "empty"]),
        "a\n"
    );
    let wrong = p.mart_expect(&["ls", "--selector", "a_wrong"], 2);
    assert!(
        wrong.stderr.contains("selector 'a_wrong': indirect_selection 'cautios' is not one of eager, cautious, buildable, empty (did you mean 'cautious'?)"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn the_docs_front_page_is_the_overview_block() {
    let p = TestProject::with_files(
        "docs_overview",
        &[
            ("dbt_project.yml", PROJECT),
            ("models/m.sql", "select 1 as id"),
        ],
    );
    p.mart_expect(&["docs", "generate", "--empty-catalog"], 0);
    let index = std::fs::read_to_string(p.dir.join("target/docs/index.html")).unwrap();
    assert!(index.contains("<h3>Welcome</h3>"), "{index}");
    let manifest = json(&p, "target/manifest.json");
    assert_eq!(
        manifest["docs"]["doc.dbt.__overview__"]["package_name"],
        "dbt"
    );
    assert_eq!(
        manifest["docs"]["doc.dbt.__overview__"]["block_contents"]
            .as_str()
            .map(|t| t.starts_with("### Welcome")),
        Some(true)
    );

    p.write(
        "models/overview.md",
        "{% docs __overview__ %}\n# The fx project\nIts *own* words.\n{% enddocs %}\n",
    );
    p.mart_expect(&["docs", "generate", "--empty-catalog"], 0);
    let index = std::fs::read_to_string(p.dir.join("target/docs/index.html")).unwrap();
    assert!(index.contains("<h1>The fx project</h1>"), "{index}");
    assert!(index.contains("<em>own</em>"), "{index}");
    assert!(!index.contains("<h3>Welcome</h3>"), "{index}");
    let manifest = json(&p, "target/manifest.json");
    assert_eq!(
        manifest["docs"]["doc.fx.__overview__"]["block_contents"],
        "# The fx project\nIts *own* words."
    );
    assert!(manifest["docs"]["doc.dbt.__overview__"].is_object());
}
