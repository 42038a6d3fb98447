//! A second run leaves alone the views that are already what it would create, and
//! re-creates every view that differs in any way: model SQL, config, descriptions,
//! changes made outside mart, upstream columns. Whether a view was re-created is read
//! from the catalog: `create or replace view` writes a new pg_rewrite row (new xmin).

#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

const RAW: &str = "select 1 as id, 'a'::text as name";

fn project(tag: &str) -> TestProject {
    let project = TestProject::with_files(
        tag,
        &[
            (
                "models/base.sql",
                "{{ config(materialized='table') }}\nselect * from {{ ref('raw') }}\n",
            ),
            ("models/raw.sql", RAW),
            ("models/over_base.sql", "select * from {{ ref('base') }}\n"),
            (
                "models/hooked.sql",
                "{{ config(post_hook='select 1') }}\nselect 1 as x\n",
            ),
        ],
    );
    project.mart_expect(&["run"], 0);
    project
}

/// The transaction that last wrote view `name`'s rule.
fn rule_xmin(project: &TestProject, name: &str) -> String {
    project.rows(&format!(
        "select r.xmin::text from pg_rewrite r where r.ev_class = '\"{}\".\"{name}\"'::regclass",
        project.schema
    ))[0]
        .clone()
}

/// The message of model `name` in the last run_results.json.
fn message(project: &TestProject, name: &str) -> String {
    let text = std::fs::read_to_string(project.dir.join("target/run_results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unique_id"] == format!("model.fx.{name}"))
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn unchanged_views_are_kept_and_reported_as_success() {
    let project = project("vs_kept");
    let before = rule_xmin(&project, "raw");
    let out = project.mart_expect(&["run"], 0);
    assert_eq!(rule_xmin(&project, "raw"), before);
    assert_eq!(message(&project, "raw"), "VIEW UNCHANGED");
    assert!(
        out.stdout.contains("OK kept sql view model"),
        "{}",
        out.stdout
    );
    // Tables are rebuilt as always; a view with hooks is always built.
    assert_eq!(message(&project, "base"), "SELECT 1");
    assert_eq!(message(&project, "hooked"), "CREATE VIEW");
    // --full-refresh re-creates every view.
    project.mart_expect(&["run", "--full-refresh", "-s", "raw"], 0);
    assert_ne!(rule_xmin(&project, "raw"), before);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
}

#[test]
fn changed_sql_config_or_description_re_creates() {
    let project = project("vs_changed");
    let before = rule_xmin(&project, "raw");
    project.write("models/raw.sql", "select 2 as id, 'a'::text as name");
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_ne!(rule_xmin(&project, "raw"), before);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
    assert_eq!(
        project.rows(&format!("select id from \"{}\".raw", project.schema)),
        ["2"]
    );
    // A description persisted as a comment: re-created, and the comment follows.
    project.write(
        "models/schema.yml",
        "models:\n  - name: raw\n    description: first\n    config:\n      persist_docs: {relation: true}\n",
    );
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
    project.write(
        "models/schema.yml",
        "models:\n  - name: raw\n    description: second\n    config:\n      persist_docs: {relation: true}\n",
    );
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
    let comment = format!(
        "select obj_description('\"{}\".raw'::regclass, 'pg_class')",
        project.schema
    );
    assert_eq!(project.rows(&comment), ["second"]);
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_eq!(message(&project, "raw"), "VIEW UNCHANGED");
    // The comment changed outside mart: the view is built again, comment and all.
    project.execute(&format!(
        "comment on view \"{}\".raw is 'edited'",
        project.schema
    ));
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
    assert_eq!(project.rows(&comment), ["second"]);
}

#[test]
fn views_dropped_or_replaced_outside_mart_are_re_created() {
    let project = project("vs_outside");
    let schema = &project.schema;
    project.execute(&format!(
        "create or replace view \"{schema}\".raw as select 9 as id, 'z'::text as name"
    ));
    project.mart_expect(&["run", "-s", "raw"], 0);
    assert_eq!(message(&project, "raw"), "CREATE VIEW");
    assert_eq!(
        project.rows(&format!("select id from \"{schema}\".raw")),
        ["1"]
    );
    project.execute(&format!("drop view \"{schema}\".over_base"));
    project.mart_expect(&["run", "-s", "over_base"], 0);
    assert_eq!(message(&project, "over_base"), "CREATE VIEW");
    assert_eq!(
        project.rows(&format!("select id from \"{schema}\".over_base")),
        ["1"]
    );
}

#[test]
fn upstream_rebuilds_keep_downstream_views_correct() {
    let project = project("vs_upstream");
    let schema = &project.schema;
    // The table gains a column: `select *` over it must show it, so the view is re-created.
    project.write(
        "models/raw.sql",
        "select 1 as id, 'a'::text as name, 5 as extra",
    );
    project.mart_expect(&["run"], 0);
    assert_eq!(message(&project, "over_base"), "CREATE VIEW");
    assert_eq!(
        project.rows(&format!(
            "select id, name, extra from \"{schema}\".over_base"
        )),
        ["1|a|5"]
    );
    // Nothing changed: the table is rebuilt, its dependent view recreated from the same
    // compiled SQL, so the view node has nothing left to do.
    project.mart_expect(&["run"], 0);
    assert_eq!(message(&project, "base"), "SELECT 1");
    assert_eq!(message(&project, "over_base"), "VIEW UNCHANGED");
    assert_eq!(
        project.rows(&format!(
            "select id, name, extra from \"{schema}\".over_base"
        )),
        ["1|a|5"]
    );
    // A column added outside mart to the table a `select *` view reads.
    project.execute(&format!(
        "alter table \"{schema}\".base add column late int default 7"
    ));
    project.mart_expect(&["run", "-s", "over_base"], 0);
    assert_eq!(message(&project, "over_base"), "CREATE VIEW");
    assert_eq!(
        project.rows(&format!("select late from \"{schema}\".over_base")),
        ["7"]
    );
}

/// Regression: the run's catalog is read once when the run starts; a model whose template
/// changed a relation (here, replaced table `t` by a view) must not leave a later node
/// building on what the catalog said before.
#[test]
fn relations_changed_by_templates_are_read_again() {
    let project = TestProject::with_files(
        "vs_template_ddl",
        &[
            (
                "models/dropper.sql",
                "{% if execute %}{% do run_query('drop table if exists \"' ~ this.schema ~ '\".\"t\"; \
                 drop view if exists \"' ~ this.schema ~ '\".\"t\"; \
                 create view \"' ~ this.schema ~ '\".\"t\" as select 0 as x') %}{% endif %}\nselect 1 as y\n",
            ),
            (
                "models/t.sql",
                "{{ config(materialized='table') }}\n-- depends_on: {{ ref('dropper') }}\nselect 1 as x\n",
            ),
        ],
    );
    project.mart_expect(&["run"], 0);
    project.mart_expect(&["run"], 0);
    assert_eq!(message(&project, "t"), "SELECT 1");
    assert_eq!(
        project.rows(&format!(
            "select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = '{}' and c.relname = 't'",
            project.schema
        )),
        ["r"]
    );
}
