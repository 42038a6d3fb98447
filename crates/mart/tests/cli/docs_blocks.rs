//! Docs blocks (`{% docs %}` in `.md` files) and `doc()` in descriptions: the manifest's
//! `docs` map and rendered descriptions, the errors dbt gives, and the Markdown of the
//! docs site (escaped as the rest of the site).

// Test support: a missing file or key should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::TestProject;

const DOCS_MD: &str = "Text outside blocks is ignored.\n\n{% docs orders_doc %}\n# Orders\n\nOne row per *order*.\n\n| column | meaning |\n|---|---|\n| id | the key |\n\nRaw <script>alert(1)</script> [bad](javascript:alert(1)) [good](https://example.org/x)\n{% enddocs %}\n\n{% docs __overview__ %}\nWelcome to **fx**.\n{% enddocs %}\n";

fn project(tag: &str) -> TestProject {
    TestProject::with_files(
        tag,
        &[
            ("models/orders.sql", "select 1 as id"),
            ("models/docs/orders.md", DOCS_MD),
            ("macros/ids.md", "{% docs id_doc %}The order's id.{% enddocs %}"),
            ("seeds/countries.csv", "code\nkr\n"),
            (
                "models/_models.yml",
                "version: 2\nmodels:\n  - name: orders\n    description: \"{{ doc('orders_doc') }}\"\n    columns:\n      - name: id\n        description: \"Key. {{ doc(\\\"fx\\\", \\\"id_doc\\\") }}\"\nsources:\n  - name: raw\n    description: '{{ doc(\"id_doc\") }}'\n    tables:\n      - name: events\n        description: \"Events: {{ doc('id_doc') }}\"\n        columns:\n          - name: id\n            description: \"{{ doc('id_doc') }}\"\n",
            ),
            (
                "seeds/_seeds.yml",
                "version: 2\nseeds:\n  - name: countries\n    description: \"{{ doc('id_doc') }} (seed)\"\n",
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
fn doc_blocks_fill_descriptions_and_the_manifest_docs_map() {
    let project = project("docs_blocks_manifest");
    project.mart_expect(&["compile"], 0);
    let m = manifest(&project);
    insta::assert_snapshot!(
        "docs_map",
        serde_json::to_string_pretty(&m["docs"]).unwrap()
    );
    let described = serde_json::json!({
        "model": m["nodes"]["model.fx.orders"]["description"],
        "column": m["nodes"]["model.fx.orders"]["columns"]["id"]["description"],
        "seed": m["nodes"]["seed.fx.countries"]["description"],
        "source": m["sources"]["source.fx.raw.events"]["description"],
        "source_description": m["sources"]["source.fx.raw.events"]["source_description"],
        "source_column": m["sources"]["source.fx.raw.events"]["columns"]["id"]["description"],
    });
    insta::assert_snapshot!(
        "docs_descriptions",
        serde_json::to_string_pretty(&described).unwrap()
    );
}

#[test]
fn unknown_and_duplicate_docs_are_errors_with_file_and_line() {
    let project = project("docs_blocks_errors");
    project.write(
        "models/_models.yml",
        "version: 2\nmodels:\n  - name: orders\n    description: >\n      See {{ doc('order_doc') }}\n",
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!("unknown_doc_error", out.stderr);

    project.write(
        "models/_models.yml",
        "version: 2\nmodels:\n  - name: orders\n    description: \"{{ doc('elsewhere', 'orders_doc') }}\"\n",
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!("unknown_package_doc_error", out.stderr);

    project.write(
        "analyses/again.md",
        "\n{% docs orders_doc %}x{% enddocs %}\n",
    );
    project.write(
        "dbt_project.yml",
        "name: fx\nprofile: fx\nanalysis-paths: [analyses]\n",
    );
    let out = project.mart_expect(&["compile"], 2);
    insta::assert_snapshot!("duplicate_docs_error", out.stderr);
}

#[test]
fn docs_paths_limit_where_blocks_are_read() {
    let project = project("docs_blocks_paths");
    project.write(
        "dbt_project.yml",
        "name: fx\nprofile: fx\ndocs-paths: [docs]\n",
    );
    project.write(
        "docs/all.md",
        "{% docs orders_doc %}From docs/.{% enddocs %}\n{% docs id_doc %}Id.{% enddocs %}",
    );
    project.mart_expect(&["compile"], 0);
    let m = manifest(&project);
    let ids: Vec<&String> = m["docs"].as_object().unwrap().keys().collect();
    assert_eq!(
        ids,
        ["doc.dbt.__overview__", "doc.fx.id_doc", "doc.fx.orders_doc"]
    );
    assert_eq!(
        m["docs"]["doc.fx.orders_doc"]["original_file_path"],
        "docs/all.md"
    );
    assert_eq!(m["nodes"]["model.fx.orders"]["description"], "From docs/.");
}

#[test]
fn the_docs_site_renders_markdown_and_escapes_html() {
    let project = project("docs_blocks_site");
    project.mart_expect(&["docs", "generate"], 0);
    let docs = project.dir.join("target/docs");
    let page = std::fs::read_to_string(docs.join("nodes/model.fx.orders.html")).unwrap();
    let start = page.find(r#"<div class="description">"#).unwrap();
    let end = start + page[start..].find("</div>").unwrap();
    insta::assert_snapshot!("orders_description_html", &page[start..end]);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("javascript:"), "{page}");
    let index = std::fs::read_to_string(docs.join("index.html")).unwrap();
    assert!(
        index.contains("<p>Welcome to <strong>fx</strong>.</p>"),
        "{index}"
    );
}

#[test]
fn macro_descriptions_take_doc_and_edited_blocks_reach_the_next_parse() {
    let project = project("docs_blocks_macros");
    project.write(
        "macros/cents.sql",
        "{% macro cents(x) %}{{ x }} * 100{% endmacro %}",
    );
    project.write(
        "macros/_macros.yml",
        "version: 2\nmacros:\n  - name: cents\n    description: \"{{ doc('id_doc') }} In cents.\"\n",
    );
    project.mart_expect(&["compile"], 0);
    assert_eq!(
        manifest(&project)["macros"]["macro.fx.cents"]["description"],
        "The order's id. In cents."
    );
    // The saved parse is not current once a docs block changes.
    project.write("macros/ids.md", "{% docs id_doc %}Changed.{% enddocs %}");
    project.mart_expect(&["compile"], 0);
    let m = manifest(&project);
    assert_eq!(
        m["nodes"]["seed.fx.countries"]["description"],
        "Changed. (seed)"
    );
    assert_eq!(
        m["macros"]["macro.fx.cents"]["description"],
        "Changed. In cents."
    );
}
