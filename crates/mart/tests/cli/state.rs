//! Slim CI: `--state` with the `state:` and `result:` selectors, `--defer` /
//! `--favor-state` and `mart clone`, against a production build kept as the state.

use crate::harness::TestProject;

const MODELS_YML: &str = "models:
  - name: documented
    description: first
    config:
      persist_docs: {relation: true}
  - name: undocumented
    description: first
  - name: contracted
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
";

/// A project whose nodes each change in one way dbt tells apart; built into the main
/// schema ("prod", target folder `prod_state`), the state of the CI runs.
fn production() -> TestProject {
    let project = TestProject::with_files(
        "state",
        &[
            ("seeds/countries.csv", "code,name\nkr,Korea\nfr,France\n"),
            (
                "macros/cents.sql",
                "{% macro cents(col) %}({{ col }} / 100.0){% endmacro %}\n",
            ),
            (
                "models/stg_orders.sql",
                "select 1 as id, 250 as amount_cents, 'kr' as country\n",
            ),
            (
                "models/orders.sql",
                "select id, {{ cents('amount_cents') }} as amount, country from {{ ref('stg_orders') }}\n",
            ),
            ("models/dim_static.sql", "select 'kr' as code, 'south' as region\n"),
            (
                "models/by_country.sql",
                "{{ config(materialized='table') }}\nselect c.name, d.region, sum(o.amount) as total\nfrom {{ ref('orders') }} o\njoin {{ ref('countries') }} c on c.code = o.country\njoin {{ ref('dim_static') }} d on d.code = o.country\ngroup by 1, 2\n",
            ),
            ("models/documented.sql", "select 1 as x\n"),
            ("models/undocumented.sql", "select 1 as x\n"),
            ("models/contracted.sql", "select 1 as id\n"),
            ("models/schema.yml", MODELS_YML),
        ],
    );
    project.write(
        "profiles.yml",
        &format!(
            "fx:\n  target: prod\n  outputs:\n{}{}{}",
            output("prod", &project.schema),
            output("ci", &format!("{}_ci", project.schema)),
            output("clone", &format!("{}_clone", project.schema)),
        ),
    );
    project.mart_expect(&["build", "--target-path", "prod_state"], 0);
    project
}

fn output(name: &str, schema: &str) -> String {
    format!(
        "    {name}:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n      dbname: postgres\n      schema: {schema}\n      threads: 2\n"
    )
}

/// The pull request: a body, a seed, a macro, a config, a persisted description and a
/// contract change, and a new model.
fn modify(project: &TestProject) {
    project.write(
        "models/stg_orders.sql",
        "select 1 as id, 300 as amount_cents, 'kr' as country\n",
    );
    project.write(
        "seeds/countries.csv",
        "code,name\nkr,Korea\nfr,France\njp,Japan\n",
    );
    project.write(
        "macros/cents.sql",
        "{% macro cents(col) %}({{ col }} / 100.00){% endmacro %}\n",
    );
    project.write("models/fresh.sql", "select 2 as y\n");
    project.write(
        "models/schema.yml",
        &MODELS_YML
            .replace("description: first", "description: second")
            .replace(
                "  - name: undocumented\n    description: second\n",
                "  - name: undocumented\n    description: second\n    config:\n      materialized: table\n",
            )
            .replace(
                "        data_type: integer\n",
                "        data_type: integer\n        constraints: [{type: not_null}]\n",
            ),
    );
}

/// A target folder of the project, absolute (`--state` is read from the working
/// folder, as dbt reads it).
fn folder(project: &TestProject, name: &str) -> String {
    project.dir.join(name).to_string_lossy().into_owned()
}

fn ls(project: &TestProject, selector: &str) -> Vec<String> {
    let state = folder(project, "prod_state");
    let out = project.mart_expect(&["ls", "-q", "-s", selector, "--state", &state], 0);
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn state_modified_tells_each_kind_of_change_apart() {
    let project = production();
    assert_eq!(ls(&project, "state:modified"), Vec::<String>::new());
    assert_eq!(ls(&project, "state:new"), Vec::<String>::new());
    modify(&project);
    let expected: &[(&str, &[&str])] = &[
        (
            "state:modified",
            &[
                "fx.contracted",
                "fx.countries",
                "fx.documented",
                "fx.fresh",
                "fx.orders",
                "fx.stg_orders",
                "fx.undocumented",
            ],
        ),
        (
            "state:modified.body",
            &["fx.countries", "fx.fresh", "fx.stg_orders"],
        ),
        ("state:modified.configs", &["fx.fresh", "fx.undocumented"]),
        ("state:modified.relation", &["fx.fresh"]),
        (
            "state:modified.persisted_descriptions",
            &["fx.documented", "fx.fresh"],
        ),
        ("state:modified.macros", &["fx.orders"]),
        ("state:modified.contract", &["fx.contracted", "fx.fresh"]),
        ("state:new", &["fx.fresh"]),
        ("state:unmodified", &["fx.by_country", "fx.dim_static"]),
        ("state:modified.macros+", &["fx.by_country", "fx.orders"]),
        ("state:old,resource_type:seed", &["fx.countries"]),
    ];
    for (selector, names) in expected {
        assert_eq!(&ls(&project, selector), names, "mart ls -s {selector}");
    }
    // DBT_STATE is read as dbt reads it.
    let out = project.mart_with_env(
        &["ls", "-q", "-s", "state:new"],
        &[("DBT_STATE", &folder(&project, "prod_state"))],
    );
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "fx.fresh\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_state_selector_without_a_state_or_with_a_missing_one_is_an_error() {
    let project = production();
    let out = project.mart_expect(&["ls", "-s", "state:modified"], 2);
    assert!(
        out.stderr.contains("'state:modified' compares with an earlier run: pass --state DIR (or set DBT_STATE), DIR holding that run's manifest.json"),
        "{}",
        out.stderr
    );
    let out = project.mart_expect(&["ls", "-s", "state:modified", "--state", "nowhere"], 2);
    assert!(
        out.stderr
            .contains("the state folder has no nowhere/manifest.json"),
        "{}",
        out.stderr
    );
    let state = folder(&project, "prod_state");
    let out = project.mart_expect(&["ls", "-s", "state:changed", "--state", &state], 2);
    assert!(
        out.stderr
            .contains("unknown state 'changed' in 'state:changed'"),
        "{}",
        out.stderr
    );
}

#[test]
fn build_deferred_builds_the_modified_nodes_and_reads_the_rest_from_the_state() {
    let project = production();
    modify(&project);
    let ci = format!("{}_ci", project.schema);
    let state = folder(&project, "prod_state");
    project.mart_expect(
        &[
            "build",
            "-s",
            "state:modified+",
            "--defer",
            "--state",
            &state,
            "--target",
            "ci",
            "--target-path",
            "ci_target",
        ],
        0,
    );
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.dir.join("ci_target/run_results.json")).unwrap(),
    )
    .unwrap();
    let mut built: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unique_id"].as_str().unwrap())
        .collect();
    built.sort();
    assert_eq!(
        built,
        [
            "model.fx.by_country",
            "model.fx.contracted",
            "model.fx.documented",
            "model.fx.fresh",
            "model.fx.orders",
            "model.fx.stg_orders",
            "model.fx.undocumented",
            "seed.fx.countries",
        ]
    );
    // dim_static is not selected and the CI schema has none: read from production.
    let compiled = std::fs::read_to_string(
        project
            .dir
            .join("ci_target/compiled/fx/models/by_country.sql"),
    )
    .unwrap();
    assert!(
        compiled.contains(&format!(
            "join \"postgres\".\"{}\".\"dim_static\" d",
            project.schema
        )) || compiled.contains(&format!("join \"{}\".\"dim_static\" d", project.schema)),
        "{compiled}"
    );
    assert!(
        compiled.contains(&format!("\"{ci}\".\"orders\"")),
        "{compiled}"
    );
    assert_eq!(
        project.rows(&format!(
            "select name, region, total from \"{ci}\".by_country"
        )),
        ["Korea|south|3.0000000000000000"]
    );
    assert_eq!(
        project.rows(&format!(
            "select table_name from information_schema.tables where table_schema = '{ci}' order by 1"
        )),
        [
            "by_country",
            "contracted",
            "countries",
            "documented",
            "fresh",
            "orders",
            "stg_orders",
            "undocumented"
        ]
    );
}

#[test]
fn favor_state_reads_the_state_even_when_the_target_has_the_relation() {
    let project = production();
    let ci = format!("{}_ci", project.schema);
    let state = folder(&project, "prod_state");
    project.mart_expect(
        &["build", "--target", "ci", "--target-path", "ci_target"],
        0,
    );
    let compile = |extra: &[&str]| {
        let mut args = vec![
            "compile",
            "-q",
            "-s",
            "orders",
            "--defer",
            "--state",
            &state,
            "--target",
            "ci",
            "--target-path",
            "ci_target",
        ];
        args.extend_from_slice(extra);
        project.mart_expect(&args, 0).stdout
    };
    // The CI schema has stg_orders: plain --defer keeps it.
    assert!(compile(&[]).contains(&format!("\"{ci}\".\"stg_orders\"")));
    assert!(compile(&["--favor-state"]).contains(&format!("\"{}\".\"stg_orders\"", project.schema)));
    let out = project.mart_expect(&["compile", "-s", "orders", "--defer", "--target", "ci"], 2);
    assert!(
        out.stderr
            .contains("--defer needs the manifest to defer to"),
        "{}",
        out.stderr
    );
}

#[test]
fn result_selects_what_failed_in_the_state_run() {
    let project = production();
    project.write(
        "models/broken.sql",
        "{{ config(materialized='table') }}\nselect 1 / 0 as x\n",
    );
    project.write(
        "models/after_broken.sql",
        "select * from {{ ref('broken') }}\n",
    );
    project.mart_expect(&["run", "--target-path", "failed_run"], 1);
    let failed = folder(&project, "failed_run");
    let out = project.mart_expect(&["ls", "-q", "-s", "result:error+", "--state", &failed], 0);
    assert_eq!(out.stdout, "fx.after_broken\nfx.broken\n");
    let out = project.mart_expect(&["ls", "-q", "-s", "result:skipped", "--state", &failed], 0);
    assert_eq!(out.stdout, "fx.after_broken\n");
    let out = project.mart_expect(
        &[
            "ls",
            "-q",
            "-s",
            "result:success,resource_type:model",
            "--state",
            &failed,
        ],
        0,
    );
    assert_eq!(
        out.stdout,
        "fx.by_country\nfx.contracted\nfx.dim_static\nfx.documented\nfx.orders\nfx.stg_orders\nfx.undocumented\n"
    );
}

#[test]
fn clone_creates_views_of_the_state_relations_and_keeps_existing_ones() {
    let project = production();
    let clone = format!("{}_clone", project.schema);
    let state = folder(&project, "prod_state");
    let args = [
        "clone",
        "--state",
        &state,
        "--target",
        "clone",
        "--target-path",
        "clone_target",
    ];
    project.mart_expect(&args, 0);
    assert_eq!(
        project.rows(&format!(
            "select table_name, table_type from information_schema.tables where table_schema = '{clone}' order by 1"
        )),
        [
            "by_country|VIEW",
            "contracted|VIEW",
            "countries|VIEW",
            "dim_static|VIEW",
            "documented|VIEW",
            "orders|VIEW",
            "stg_orders|VIEW",
            "undocumented|VIEW"
        ]
    );
    assert_eq!(
        project.rows(&format!("select name, total from \"{clone}\".by_country")),
        ["Korea|2.5000000000000000"]
    );
    let statuses = |project: &TestProject| -> Vec<String> {
        let results: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(project.dir.join("clone_target/run_results.json")).unwrap(),
        )
        .unwrap();
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["unique_id"] == "model.fx.orders")
            .map(|r| format!("{} {}", r["status"], r["message"]))
            .collect()
    };
    assert_eq!(statuses(&project), ["\"success\" \"CREATE VIEW\""]);
    // A relation the target has is kept, unless --full-refresh.
    project.execute(&format!(
        "drop view \"{clone}\".by_country; create table \"{clone}\".by_country as select 1 as kept"
    ));
    project.mart_expect(&args, 0);
    assert_eq!(
        statuses(&project),
        [format!(
            "\"success\" \"No-op: relation \\\"postgres\\\".\\\"{clone}\\\".\\\"orders\\\" already exists\""
        )]
    );
    assert_eq!(
        project.rows(&format!("select kept from \"{clone}\".by_country")),
        ["1"]
    );
    let mut full = args.to_vec();
    full.push("--full-refresh");
    project.mart_expect(&full, 0);
    assert_eq!(
        project.rows(&format!("select name from \"{clone}\".by_country")),
        ["Korea"]
    );
}
