//! Model versions, groups and access: one relation per version named as dbt names it,
//! refs with and without a version, access and group errors at their line, and the
//! `version:`, `access:` and `group:` selectors.

// Test support: a missing file or key should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

const PROPS: &str = "version: 2\ngroups:\n  - name: finance\n    owner: {name: Fin, email: fin@example.com}\n  - name: sales\n    owner: {email: sales@example.com}\nmodels:\n  - name: dim_customer\n    latest_version: 2\n    columns:\n      - name: id\n        data_tests: [not_null]\n      - name: name\n    versions:\n      - v: 1\n      - v: 2\n        columns:\n          - include: all\n            exclude: [name]\n      - v: 3\n        config:\n          alias: dim_customer_next\n  - name: ledger\n    access: private\n    group: finance\n";

fn project(tag: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            ("models/sub/dim_customer_v1.sql", "select 1 as id, 'a' as name"),
            ("models/sub/dim_customer_v2.sql", "select 1 as id"),
            ("models/sub/dim_customer_v3.sql", "select 1 as id, 3 as extra"),
            ("models/latest_user.sql", "select * from {{ ref('dim_customer') }}"),
            (
                "models/pinned_user.sql",
                "select * from {{ ref('dim_customer', v=1) }} join {{ ref('fx', 'dim_customer', version='3') }} using (id)",
            ),
            ("models/ledger.sql", "select 1 as x"),
            (
                "models/ledger_report.sql",
                "{{ config(group='finance') }}\nselect * from {{ ref('ledger') }}",
            ),
            ("models/_props.yml", PROPS),
        ],
    )
}

fn ls(project: &TestProject, select: &str) -> String {
    project.mart_expect(&["ls", "-q", "-s", select], 0).stdout
}

#[test]
fn each_version_is_a_relation_and_refs_pick_the_version() {
    let project = project("versions_build");
    project.mart_expect(&["build", "-q"], 0);
    let names: Vec<String> = project.relations().into_iter().map(|(_, n, _)| n).collect();
    assert_eq!(
        names,
        [
            "dim_customer_next",
            "dim_customer_v1",
            "dim_customer_v2",
            "latest_user",
            "ledger",
            "ledger_report",
            "pinned_user"
        ]
    );
    let compiled = |name: &str| {
        std::fs::read_to_string(
            project
                .dir
                .join(format!("target/compiled/fx/models/{name}.sql")),
        )
        .unwrap()
    };
    let s = &project.schema;
    assert_eq!(
        compiled("latest_user"),
        format!("select * from \"postgres\".\"{s}\".\"dim_customer_v2\"")
    );
    assert_eq!(
        compiled("pinned_user"),
        format!("select * from \"postgres\".\"{s}\".\"dim_customer_v1\" join \"postgres\".\"{s}\".\"dim_customer_next\" using (id)")
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.dir.join("target/manifest.json")).unwrap(),
    )
    .unwrap();
    let v1 = &manifest["nodes"]["model.fx.dim_customer.v1"];
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["latest_version"], 2);
    assert_eq!(v1["access"], "protected");
    assert_eq!(
        v1["fqn"],
        serde_json::json!(["fx", "sub", "dim_customer", "v1"])
    );
    assert_eq!(v1["name"], "dim_customer");
    assert_eq!(v1["alias"], "dim_customer_v1");
    // v2 keeps the columns its include/exclude allows.
    let v2_columns: Vec<&String> = manifest["nodes"]["model.fx.dim_customer.v2"]["columns"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(v2_columns, ["id"]);
    assert_eq!(
        manifest["nodes"]["model.fx.pinned_user"]["refs"],
        serde_json::json!([
            {"name": "dim_customer", "package": null, "version": 1},
            {"name": "dim_customer", "package": "fx", "version": 3}
        ])
    );
    assert_eq!(manifest["nodes"]["model.fx.ledger"]["access"], "private");
    assert_eq!(manifest["nodes"]["model.fx.ledger"]["group"], "finance");
    assert_eq!(
        manifest["groups"]["group.fx.finance"]["owner"],
        serde_json::json!({"name": "Fin", "email": "fin@example.com"})
    );
    assert_eq!(
        manifest["group_map"],
        serde_json::json!({"finance": ["model.fx.ledger", "model.fx.ledger_report"], "sales": []})
    );
}

#[test]
fn version_access_and_group_selectors_list_what_dbt_lists() {
    let project = project("versions_select");
    assert_eq!(
        ls(&project, "dim_customer"),
        "fx.not_null_dim_customer_v1_id\nfx.not_null_dim_customer_v2_id\nfx.not_null_dim_customer_v3_id\nfx.sub.dim_customer.v1\nfx.sub.dim_customer.v2\nfx.sub.dim_customer.v3\n"
    );
    assert_eq!(
        ls(&project, "dim_customer.v3 dim_customer_v1"),
        "fx.not_null_dim_customer_v1_id\nfx.not_null_dim_customer_v3_id\nfx.sub.dim_customer.v1\nfx.sub.dim_customer.v3\n"
    );
    assert_eq!(
        ls(&project, "version:latest"),
        "fx.not_null_dim_customer_v2_id\nfx.sub.dim_customer.v2\n"
    );
    assert_eq!(
        ls(&project, "version:prerelease"),
        "fx.not_null_dim_customer_v3_id\nfx.sub.dim_customer.v3\n"
    );
    assert_eq!(
        ls(&project, "version:old"),
        "fx.not_null_dim_customer_v1_id\nfx.sub.dim_customer.v1\n"
    );
    assert_eq!(
        ls(&project, "version:none,resource_type:model"),
        "fx.latest_user\nfx.ledger\nfx.ledger_report\nfx.pinned_user\n"
    );
    assert_eq!(ls(&project, "access:private"), "fx.ledger\n");
    assert_eq!(
        ls(&project, "group:finance"),
        "fx.ledger\nfx.ledger_report\n"
    );
    let out = project.mart_expect(&["ls", "-s", "version:newest"], 2);
    assert!(out.stderr.contains(
        "unknown version selector 'newest' in 'version:newest'; write version:latest, version:prerelease, version:old or version:none"
    ), "{}", out.stderr);
}

#[test]
fn refs_that_access_or_versions_forbid_are_errors_at_their_line() {
    let project = project("versions_errors");
    project.write(
        "models/outsider.sql",
        "select 1 as y\nfrom {{ ref('ledger') }}",
    );
    project.write(
        "models/bad_version.sql",
        "select * from {{ ref('dim_customer', v=7) }}",
    );
    let out = project.mart_expect(&["ls"], 2);
    assert!(out.stderr.contains(
        "models/outsider.sql:2:9: error[MART408]: model.fx.outsider may not ref model.fx.ledger: it is private to the 'finance' group"
    ), "{}", out.stderr);
    assert!(out.stderr.contains(
        "models/bad_version.sql:1:18: error[MART401]: 'bad_version' refs version 7 of 'dim_customer', which has versions 1, 2, 3"
    ), "{}", out.stderr);
    std::fs::remove_file(project.dir.join("models/outsider.sql")).unwrap();
    std::fs::remove_file(project.dir.join("models/bad_version.sql")).unwrap();
    project.write(
        "models/bad_group.sql",
        "{{ config(group='finanse') }}\nselect 1 as a",
    );
    let out = project.mart_expect(&["ls"], 2);
    assert!(out.stderr.contains(
        "models/bad_group.sql:1:11: error[MART104]: unknown group 'finanse'; groups are: finance, sales"
    ), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean 'finance'?"),
        "{}",
        out.stderr
    );
}
