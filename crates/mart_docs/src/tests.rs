//! Page generation on the tiny fixture project in tests/fixtures/tiny.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mart_compiler::{Compiler, Manifest};
use mart_graph::NodeId;
use mart_jinja::JinjaEnv;
use mart_project::{parse_target, Project};

use super::*;

/// The tiny fixture's files, with a catalog for `orders` as the database would report it.
fn site() -> Vec<SiteFile> {
    with_tiny_site(|site| site.files())
}

/// `f` of the tiny fixture's site.
fn with_tiny_site<R>(f: impl FnOnce(&Site<'_>) -> R) -> R {
    let mut catalog = Catalog::default();
    for (name, data_type) in [
        ("order_id", "integer"),
        ("customer", "text"),
        ("amount", "numeric"),
    ] {
        catalog.insert(
            "analytics",
            "orders",
            CatalogColumn {
                name: name.to_string(),
                data_type: data_type.to_string(),
            },
        );
    }
    with_site_of(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny"),
        &catalog,
        f,
    )
}

/// The files of the project in `root`.
fn site_of(root: &Path, catalog: &Catalog) -> Vec<SiteFile> {
    with_site_of(root, catalog, |site| site.files())
}

/// `f` of the site of the project in `root`, every node compiled, macros listed.
fn with_site_of<R>(root: &Path, catalog: &Catalog, f: impl FnOnce(&Site<'_>) -> R) -> R {
    let project = Project::load(root).unwrap();
    let profile = Arc::new(mart_diagnostics::SourceFile::new(
        "profiles.yml",
        "shop:\n  target: dev\n  outputs:\n    dev: {type: postgres, host: h, user: u, dbname: db, schema: analytics}\n",
    ));
    let target = parse_target(&profile, "shop", None).unwrap();
    let settings = Manifest::env_settings(&project.config, &[], &target, &serde_json::Map::new());
    let env = JinjaEnv::new(&settings, &project.all_macro_files()).unwrap();
    let manifest = Manifest::build(&project, &target, &env).unwrap();
    let compiler = Compiler::new(&manifest, &env, None);
    let ids: Vec<NodeId> = manifest
        .nodes
        .values()
        .filter(|n| n.file.is_some())
        .map(|n| n.id.clone())
        .collect();
    let compiled: BTreeMap<NodeId, String> = compiler
        .compile_all(&ids, |_| Ok(()))
        .into_iter()
        .map(|c| c.unwrap())
        .map(|c| (c.id, c.sql))
        .collect();
    let macros: Vec<MacroDoc> = env
        .macros()
        .filter(|(package, _, _)| *package != mart_jinja::INTERNAL_PACKAGE)
        .map(|(_, name, file)| MacroDoc {
            name: name.to_string(),
            path: file.path.to_string_lossy().into_owned(),
            sql: file.text.to_string(),
            description: String::new(),
        })
        .collect();
    let input = DocsInput {
        manifest: &manifest,
        compiled: &compiled,
        catalog,
        macros: &macros,
    };
    f(&Site::new(&input))
}

/// An empty folder of its own for a test's project.
fn empty_dir(name: &str) -> std::path::PathBuf {
    let root = std::env::temp_dir().join(format!("mart_docs_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    root
}

fn write_file(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn file<'a>(files: &'a [SiteFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path} in {:?}", paths(files)))
        .text
}

fn paths(files: &[SiteFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// The page's `<main>`, one tag or text run per line, for readable snapshots.
fn main_of(html: &str) -> String {
    let start = html.find("<main>").unwrap();
    let end = html.find("</main>").unwrap();
    html[start..end].replace("><", ">\n<")
}

#[test]
fn the_site_has_an_index_lineage_search_and_a_page_per_node() {
    let files = site();
    assert_eq!(
        paths(&files),
        [
            "index.html",
            "lineage.html",
            "assets/site.css",
            "assets/site.js",
            "search/0.js",
            "folders/model.models~2fstaging.html",
            "folders/model.models~2fmarts.html",
            "folders/source.source~3araw.html",
            "folders/seed.seeds.html",
            "folders/test.models~2fstaging.html",
            "folders/test.models~2fmarts.html",
            "folders/macro.macros.html",
            "nodes/model.shop.orders.html",
            "nodes/model.shop.stg_orders.html",
            "nodes/seed.shop.customers.html",
            "nodes/test.shop.accepted_values_orders_customer__ann__bob.4f4bc1dbf8.html",
            "nodes/test.shop.not_null_orders_order_id.cf6c17daed.html",
            "nodes/test.shop.relationships_orders_customer__name__ref_customers_.5a979ed278.html",
            "nodes/test.shop.source_unique_raw_orders_id.56401af608.html",
            "nodes/test.shop.unique_orders_order_id.fed79b3a6e.html",
            "nodes/source.shop.raw.orders.html",
            "nodes/macro.shop.cents.html",
        ]
    );
    insta::assert_snapshot!("index", main_of(file(&files, "index.html")));
    insta::assert_snapshot!("search", file(&files, "search/0.js"));
}

#[test]
fn a_model_page_has_columns_lineage_tests_and_sql() {
    let files = site();
    insta::assert_snapshot!(
        "orders_page",
        main_of(file(&files, "nodes/model.shop.orders.html"))
    );
}

#[test]
fn descriptions_with_markup_show_as_text() {
    let files = site();
    for path in [
        "nodes/model.shop.orders.html",
        "folders/model.models~2fmarts.html",
    ] {
        let page = file(&files, path);
        assert!(
            page.contains("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; more"),
            "{path}"
        );
        assert!(!page.contains("<script>alert"), "{path}");
    }
}

#[test]
fn column_lineage_links_upstream_columns_and_says_unknown() {
    let files = site();
    let page = file(&files, "nodes/model.shop.orders.html");
    // order_id comes from the ephemeral staging model, customer from the seed.
    assert!(page.contains(r#"<a href="../nodes/model.shop.stg_orders.html">stg_orders</a>.id"#));
    assert!(page.contains(r#"<a href="../nodes/seed.shop.customers.html">customers</a>.name"#));
    assert!(page.contains("unknown (a subquery in the expression)"));
    // The staging model reads the source table.
    let staging = file(&files, "nodes/model.shop.stg_orders.html");
    assert!(staging
        .contains(r#"<a href="../nodes/source.shop.raw.orders.html">orders</a>.amount_cents"#));
    // Without a catalog entry, a column's type comes from the SQL where it tells.
    assert!(staging.contains(r#"<td class="name">status</td><td>text</td>"#));
    assert!(staging.contains(r#"<td class="name">amount</td><td></td>"#));
}

#[test]
fn search_shards_hold_at_most_500_entries() {
    let lines: Vec<String> = (0..1201)
        .map(|i| format!("m{i:04}\tmodel\tmodels\tnodes/m{i}.html"))
        .collect();
    let shards = crate::pages::shard_lines(&lines);
    assert_eq!(shards.len(), 3);
    let entries: Vec<usize> = shards
        .iter()
        .map(|s| {
            let json = s
                .strip_prefix("martSearch.add(")
                .and_then(|s| s.strip_suffix(");\n"))
                .unwrap();
            let text: String = serde_json::from_str(json).unwrap();
            text.lines().count()
        })
        .collect();
    assert_eq!(entries, [500, 500, 201]);
    assert!(shards.iter().all(|s| s.len() < 40_000));
}

#[test]
fn write_site_replaces_an_earlier_site() {
    let dir = std::env::temp_dir().join(format!("mart_docs_write_{}", std::process::id()));
    std::fs::create_dir_all(dir.join("nodes")).unwrap();
    std::fs::write(dir.join("nodes/stale.html"), "old").unwrap();
    let (files, bytes) = with_tiny_site(|site| (site.files(), write_site(&dir, site).unwrap()));
    assert_eq!(
        bytes,
        files.iter().map(|f| f.text.len() as u64).sum::<u64>()
    );
    assert!(!dir.join("nodes/stale.html").exists());
    // Written on every core: each file holds exactly its text.
    for f in &files {
        assert_eq!(
            std::fs::read_to_string(dir.join(&f.path)).unwrap(),
            f.text,
            "{}",
            f.path
        );
    }
    let page = dir.join("nodes/model.shop.orders.html");
    // A second write leaves unchanged files alone and rewrites changed ones.
    std::fs::write(dir.join("index.html"), "edited").unwrap();
    let modified = std::fs::metadata(&page).unwrap().modified().unwrap();
    with_tiny_site(|site| write_site(&dir, site).unwrap());
    assert_eq!(
        std::fs::metadata(&page).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("index.html")).unwrap(),
        file(&files, "index.html")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_large_project_draws_layers_and_folders_instead_of_every_node() {
    let root = empty_dir("large");
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write("dbt_project.yml", "name: big\nprofile: shop\n");
    // 150 staging models in three folders, 300 marts in two, each mart reading two of them.
    for i in 0..150 {
        write(
            &format!("models/stg/g{}/stg_{i:03}.sql", i % 3),
            "select 1 as id, 2 as amount",
        );
    }
    for i in 0..300 {
        write(
            &format!("models/mart/g{}/mart_{i:03}.sql", i % 2),
            &format!(
                "select a.id, b.amount from {{{{ ref('stg_{:03}') }}}} a join {{{{ ref('stg_{:03}') }}}} b on a.id = b.id",
                i % 150,
                (i * 7) % 150
            ),
        );
    }
    // Tests are listed on their nodes, not drawn.
    write(
        "models/stg/g0/_stg.yml",
        "version: 2\nmodels:\n  - name: stg_000\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
    );
    let files = site_of(&root, &Catalog::default());
    std::fs::remove_dir_all(&root).unwrap();
    let lineage = file(&files, "lineage.html");
    assert!(lineage.contains("450 nodes in 5 folders"));
    let boxes: Vec<&str> = lineage
        .split(r#"data-name=""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(
        boxes,
        [
            "models/stg",
            "models/mart",
            "models/stg/g0",
            "models/stg/g1",
            "models/stg/g2",
            "models/mart/g0",
            "models/mart/g1",
        ]
    );

    // The layers in the order data flows, with the edges between them counted (588: the
    // marts whose two refs name one model read it once); folders in their layer's column.
    assert!(lineage.contains("<title>models/stg feeds models/mart (588 edges)</title>"));
    assert!(lineage.contains(r#"<text class="detail" x="18" y="44">150 nodes · 3 folders</text>"#));
    assert!(lineage.contains(r#"<text class="layer" x="232" y="24">models/mart</text>"#));
    assert!(lineage.contains("50 models · 0 in · 196 out"));
    // Index: the staging layer is listed before the marts it feeds.
    let index = file(&files, "index.html");
    let at = |text: &str| index.find(text).unwrap();
    assert!(at(">models/stg/g2</a>") < at(">models/mart/g0</a>"));
    // A folder page draws its nodes and the neighbouring folders as one box each.
    let folder = file(&files, "folders/model.models~2fmart~2fg0.html");
    assert!(folder.contains(r#"data-name="models/stg/g0""#));
    assert!(folder.contains(
        "models/mart/g0 expanded into its 150 models, among the 3 folders they read from and feed."
    ));
    // mart_006 reads stg_006 and stg_042, both in models/stg/g0: one edge that counts two.
    assert!(folder.contains("<title>models/stg/g0 feeds mart_006 (2 edges)</title>"));
    assert!(folder.contains(r#"data-name="mart_000""#));
    // A node page draws its neighbourhood, with the columns its SQL derives.
    let node = file(&files, "nodes/model.big.mart_007.html");
    assert!(node.contains(r#"class="n model focus" data-name="mart_007""#));
    assert!(node.contains(r#"<a href="../nodes/model.big.stg_049.html">stg_049</a>.amount"#));
    let tested = file(&files, "nodes/model.big.stg_000.html");
    assert!(tested.contains(">not_null_stg_000_id</a>"));
    assert!(!tested.contains(r#"data-name="not_null_stg_000_id""#));
}

#[test]
fn the_project_lineage_flows_from_seeds_through_their_sources_with_unconnected_nodes_apart() {
    let root = empty_dir("flow");
    let write = |path: &str, text: &str| write_file(&root, path, text);
    write("dbt_project.yml", "name: flow\nprofile: shop\n");
    write("seeds/raw_users.csv", "id,name\n1,a\n");
    write("seeds/country_codes.csv", "code\nKR\n");
    // The source is declared over the seed's table (the target's schema).
    write(
        "models/src/_sources.yml",
        "version: 2\nsources:\n  - name: raw\n    schema: analytics\n    tables:\n      - name: raw_users\n",
    );
    write(
        "models/src/src_users.sql",
        "select id, name from {{ source('raw', 'raw_users') }}",
    );
    write(
        "models/mart/mart_users_with_a_name_long_enough_to_be_shortened_in_its_box.sql",
        "select id from {{ ref('src_users') }}",
    );
    let files = site_of(&root, &Catalog::default());
    std::fs::remove_dir_all(&root).unwrap();
    let lineage = file(&files, "lineage.html");
    let x_of = |name: &str| -> usize {
        let at = lineage
            .find(&format!(r#"data-name="{name}""#))
            .unwrap_or_else(|| panic!("no box {name}"));
        let rest = &lineage[at..];
        let x = &rest[rest.find(r#"<rect x=""#).unwrap() + 9..];
        x[..x.find('"').unwrap()].parse().unwrap()
    };
    // seed -> source -> src model -> mart: four columns, left to right.
    let xs = [
        x_of("raw_users"),
        x_of("src_users"),
        x_of("mart_users_with_a_name_long_enough_to_be_shortened_in_its_box"),
    ];
    assert!(xs[0] < xs[1] && xs[1] < xs[2], "{xs:?}");
    assert!(
        lineage.contains(r#"class="loads"><title>raw_users loads the table of raw_users</title>"#)
    );
    assert!(lineage.contains("a seed loads the table a source reads"));
    // The headings name the layers; the seed no model reads sits apart.
    assert!(lineage.contains(r#"<text class="layer" x="10" y="24">seeds</text>"#));
    assert!(lineage.contains(">src</text>") && lineage.contains(">mart</text>"));
    assert!(lineage.contains("Not connected to the boxes above (1)"));
    // The long name is cut in the middle, whole on hover; every box says its kind.
    assert!(lineage.contains(">mart_users_with_a_name_lo…d_in_its_box</text>"));
    assert!(
        lineage.contains("<title>mart_users_with_a_name_long_enough_to_be_shortened_in_its_box\n")
    );
    assert!(lineage.contains(r#"<text class="tag" x="#) && lineage.contains(">seed</text>"));
    // The source's page lists the seed upstream.
    let source = file(&files, "nodes/source.flow.raw.raw_users.html");
    assert!(source.contains(r#"<a href="../nodes/seed.flow.raw_users.html">raw_users</a>"#));
}

#[test]
fn a_folder_both_upstream_and_downstream_of_another_counts_once_among_its_neighbours() {
    let root = empty_dir("both_sides");
    write_file(&root, "dbt_project.yml", "name: sides\nprofile: shop\n");
    write_file(&root, "models/a/y/y1.sql", "select 1 as id");
    write_file(&root, "models/a/x/x1.sql", "select id from {{ ref('y1') }}");
    write_file(&root, "models/a/y/y2.sql", "select id from {{ ref('x1') }}");
    let files = site_of(&root, &Catalog::default());
    std::fs::remove_dir_all(&root).unwrap();
    let folder = file(&files, "folders/model.models~2fa~2fx.html");
    // models/a/y feeds x1 (left of it) and reads it (right of it, the same layer).
    assert_eq!(folder.matches(r#"data-name="models/a/y""#).count(), 2);
    assert!(folder.contains(
        "models/a/x expanded into its 1 model, among the 1 folder they read from and feed."
    ));
}
