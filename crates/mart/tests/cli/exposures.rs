//! Exposures: the manifest's `exposures` map, their place in the graph (`exposure:`
//! selection, `+exposure:x`, `resource_type:exposure`), errors with file and line, and a
//! page per exposure in the docs site.

// Test support: a missing file or key should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

const EXPOSURES_YML: &str = "version: 2\nexposures:\n  - name: weekly_kpis\n    label: Weekly KPIs\n    type: dashboard\n    maturity: high\n    url: https://bi.example/dash/1\n    description: \"{{ doc('kpi_doc') }}\"\n    owner:\n      name: Ann\n      email: ann@example.org\n    depends_on:\n      - ref('orders')\n      - source('raw', 'events')\n    tags: [kpi]\n    meta: {team: growth}\n  - name: churn\n    type: ml\n    owner: {name: Data Science}\n    depends_on: [\"ref('customers')\"]\n  - name: retired\n    type: notebook\n    owner: {email: old@example.org}\n    depends_on: [\"ref('nowhere')\"]\n    config: {enabled: false}\n";

fn project(tag: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            (
                "models/orders.sql",
                "select * from {{ source('raw', 'events') }}",
            ),
            ("models/customers.sql", "select 1 as id"),
            ("models/unrelated.sql", "select 1 as id"),
            ("models/marts/_exposures.yml", EXPOSURES_YML),
            (
                "models/kpi.md",
                "{% docs kpi_doc %}The **weekly** KPIs.{% enddocs %}",
            ),
            (
                "models/_sources.yml",
                "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: events\n",
            ),
        ],
    )
}

fn manifest(project: &TestProject) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(project.dir.join("target/manifest.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn exposures_are_in_the_manifest_in_dbt_shape() {
    let project = project("exposures_manifest");
    project.mart_expect(&["compile"], 0);
    let m = manifest(&project);
    let ids: Vec<&String> = m["exposures"].as_object().unwrap().keys().collect();
    assert_eq!(ids, ["exposure.fx.churn", "exposure.fx.weekly_kpis"]);
    let mut weekly = m["exposures"]["exposure.fx.weekly_kpis"].clone();
    assert!(weekly["created_at"].as_f64().unwrap() > 1.7e9);
    weekly.as_object_mut().unwrap().remove("created_at");
    insta::assert_snapshot!(
        "weekly_kpis_manifest",
        serde_json::to_string_pretty(&weekly).unwrap()
    );
    assert_eq!(
        m["child_map"]["model.fx.orders"],
        serde_json::json!(["exposure.fx.weekly_kpis"])
    );
    assert_eq!(
        m["parent_map"]["exposure.fx.weekly_kpis"],
        serde_json::json!(["model.fx.orders", "source.fx.raw.events"])
    );
}

#[test]
fn exposures_are_selected_like_dbt() {
    let project = project("exposures_ls");
    let ls = |args: &[&str]| project.mart_expect(&[&["ls"], args].concat(), 0).stdout;
    assert_eq!(
        ls(&["-s", "+exposure:weekly_kpis"]),
        "exposure:fx.weekly_kpis\nfx.orders\nsource:fx.raw.events\n"
    );
    assert_eq!(
        ls(&["--resource-type", "exposure"]),
        "exposure:fx.churn\nexposure:fx.weekly_kpis\n"
    );
    assert_eq!(
        ls(&["-s", "resource_type:exposure", "--output", "name"]),
        "churn\nweekly_kpis\n"
    );
    assert_eq!(ls(&["-s", "exposure:fx.churn"]), "exposure:fx.churn\n");
    assert_eq!(
        ls(&["-s", "customers+", "--output", "path"]),
        "models/customers.sql\nmodels/marts/_exposures.yml\n"
    );
}

#[test]
fn wrong_exposures_are_errors_with_file_and_line() {
    let project = project("exposures_errors");
    project.write(
        "models/marts/_exposures.yml",
        &EXPOSURES_YML.replace("ref('customers')", "ref('customer')"),
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!("exposure_unknown_ref", out.stderr);

    project.write(
        "models/marts/_exposures.yml",
        &EXPOSURES_YML.replace("type: ml", "type: dashbord"),
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!("exposure_wrong_type", out.stderr);
}

#[test]
fn the_docs_site_has_a_page_per_exposure_and_honours_docs_config() {
    let project = project("exposures_site");
    project.write(
        "models/_models.yml",
        "version: 2\nmodels:\n  - name: orders\n    docs: {node_color: '#aa3366'}\n  - name: unrelated\n    docs: {show: false}\n  - name: customers\n    docs: {node_color: 'red; background: url(x)'}\n",
    );
    let out = project.mart_expect(&["docs", "generate"], 0);
    assert!(
        out.stderr.contains("'customers': docs.node_color 'red; background: url(x)' is not a hex code (#rrggbb) or a colour name"),
        "stderr: {}\nstdout: {}",
        out.stderr,
        out.stdout
    );
    let docs = project.dir.join("target/docs");
    let page = std::fs::read_to_string(docs.join("nodes/exposure.fx.weekly_kpis.html")).unwrap();
    let start = page.find("<dl class=\"facts\">").unwrap();
    let end = start + page[start..].find("</div>").unwrap();
    insta::assert_snapshot!("weekly_kpis_page_facts", &page[start..end]);
    let orders = std::fs::read_to_string(docs.join("nodes/model.fx.orders.html")).unwrap();
    assert!(
        orders.contains(r#"<a href="../nodes/exposure.fx.weekly_kpis.html">"#),
        "{orders}"
    );
    assert!(orders.contains(r##"style="fill:#aa3366""##), "{orders}");
    assert!(!orders.contains("url(x)"), "{orders}");
    // Hidden: no page, not listed.
    assert!(!docs.join("nodes/model.fx.unrelated.html").exists());
    let index = std::fs::read_to_string(docs.join("index.html")).unwrap();
    assert!(!index.contains("unrelated"), "{index}");
    assert!(index.contains("Exposures"), "{index}");
}
