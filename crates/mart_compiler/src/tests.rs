use std::path::PathBuf;

use mart_diagnostics::{render_human, Diagnostics};
use mart_graph::{NodeId, ResourceType};
use mart_jinja::JinjaEnv;
use mart_project::{parse_target, Project, Target};

use super::*;

/// A project written to a temp dir from (path, text) pairs; removed on drop.
pub(crate) struct Fixture {
    root: PathBuf,
}

impl Fixture {
    pub(crate) fn new(name: &str, files: &[(&str, &str)]) -> Self {
        let root =
            std::env::temp_dir().join(format!("mart_compiler_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        if !root.join("dbt_project.yml").exists() {
            std::fs::write(
                root.join("dbt_project.yml"),
                "name: learn\nprofile: learn\nmodels:\n  learn:\n    +materialized: view\n    src:\n      +materialized: ephemeral\n    dim:\n      +materialized: table\nseeds:\n  learn:\n    +schema: raw_data\n",
            )
            .unwrap();
        }
        Self { root }
    }

    pub(crate) fn build(&self) -> Result<(Manifest, JinjaEnv), Diagnostics> {
        let project = Project::load(&self.root)?;
        let target = target();
        let packages: Vec<_> = project.packages.iter().map(|p| p.config.clone()).collect();
        let env = JinjaEnv::new(
            &Manifest::env_settings(&project.config, &packages, &target, &serde_json::Map::new()),
            &project.all_macro_files(),
        )?;
        let manifest = Manifest::build(&project, &target, &env)?;
        Ok((manifest, env))
    }

    pub(crate) fn errors(&self) -> String {
        match self.build() {
            Ok(_) => panic!("expected errors"),
            Err(errors) => errors
                .iter()
                .map(|d| render_human(d, false))
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn target() -> Target {
    let file = std::sync::Arc::new(mart_diagnostics::SourceFile::new(
        "profiles.yml",
        "learn:\n  target: dev\n  outputs:\n    dev: {type: postgres, host: h, user: u, dbname: db, schema: analytics}\n",
    ));
    parse_target(&file, "learn", None).unwrap()
}

/// Every model's compiled SQL in topological order.
fn compiled(manifest: &Manifest, env: &JinjaEnv) -> String {
    let compiler = Compiler::new(manifest, env, None);
    let mut out = String::new();
    for id in manifest.dag.topological_order() {
        let Some(node) = manifest.node(&id) else {
            continue;
        };
        if node.file.is_none() {
            continue;
        }
        let sql = compiler.compile(&id, false).unwrap().sql;
        out.push_str(&format!(
            "-- {} ({}) -> {}\n{}\n\n",
            node.name,
            node.config.materialized,
            node.relation,
            sql.trim()
        ));
    }
    out
}

#[test]
fn compiles_layers_with_nested_ephemerals() {
    let fx = Fixture::new(
        "layers",
        &[
            ("seeds/user_event.csv", "user_id,datestamp\n1,2023-01-01\n"),
            ("models/src/src_user_event.sql", "WITH src AS (SELECT * FROM {{ ref('user_event') }})\nSELECT user_id, datestamp FROM src"),
            ("models/src/src_clean.sql", "select * from {{ ref('src_user_event') }} where user_id is not null"),
            ("models/dim/dim_user.sql", "{{ config(alias='users', schema='core') }}with u as (select distinct user_id from {{ ref('src_clean') }})\nselect * from u join {{ ref('src_user_event') }} e using (user_id)"),
            ("models/mart/daily.sql", "{{ config(materialized='table', tags=['daily']) }}select count(*) from {{ ref('dim_user') }}"),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let daily = manifest.node(&NodeId::new("model.learn.daily")).unwrap();
    assert_eq!(daily.config.tags, vec!["daily"]);
    assert_eq!(daily.depends_on, vec![NodeId::new("model.learn.dim_user")]);
    insta::assert_snapshot!(compiled(&manifest, &env), @r#"
    -- src_user_event (ephemeral) -> "db"."analytics"."src_user_event"
    WITH src AS (SELECT * FROM "db"."analytics_raw_data"."user_event")
    SELECT user_id, datestamp FROM src

    -- src_clean (ephemeral) -> "db"."analytics"."src_clean"
    with __dbt__cte__src_user_event as (
    WITH src AS (SELECT * FROM "db"."analytics_raw_data"."user_event")
    SELECT user_id, datestamp FROM src
    )
    select * from __dbt__cte__src_user_event where user_id is not null

    -- dim_user (table) -> "db"."analytics_core"."users"
    with __dbt__cte__src_user_event as (
    WITH src AS (SELECT * FROM "db"."analytics_raw_data"."user_event")
    SELECT user_id, datestamp FROM src
    ), __dbt__cte__src_clean as (
    select * from __dbt__cte__src_user_event where user_id is not null
    ), u as (select distinct user_id from __dbt__cte__src_clean)
    select * from u join __dbt__cte__src_user_event e using (user_id)

    -- daily (table) -> "db"."analytics"."daily"
    select count(*) from "db"."analytics_core"."users"
    "#);
}

#[test]
fn unknown_ref_names_file_line_and_suggestion() {
    let fx = Fixture::new(
        "unknown",
        &[
            ("models/orders.sql", "select 1"),
            (
                "models/report.sql",
                "select *\nfrom {{ ref('ordrs') }}\njoin {{ source('raw', 'evnts') }} using (id)",
            ),
            (
                "models/_sources.yml",
                "sources:\n  - name: raw\n    tables:\n      - name: events\n",
            ),
        ],
    );
    insta::assert_snapshot!(fx.errors(), @r"
    models/report.sql:2:9: error[MART401]: unknown ref 'ordrs'
      |
    2 | from {{ ref('ordrs') }}
      |         ^^^^^^^^^^^^
      = help: did you mean 'orders'?

    models/report.sql:3:9: error[MART402]: unknown source 'raw.evnts'
      |
    3 | join {{ source('raw', 'evnts') }} using (id)
      |         ^^^^^^^^^^^^^^^^^^^^^^
      = help: did you mean 'raw.events'?
    ");
}

#[test]
fn cycles_print_the_path() {
    let fx = Fixture::new(
        "cycle",
        &[
            ("models/a.sql", "select * from {{ ref('c') }}"),
            ("models/b.sql", "select * from {{ ref('a') }}"),
            ("models/c.sql", "select * from {{ ref('b') }}"),
        ],
    );
    insta::assert_snapshot!(fx.errors(), @r"
    models/b.sql:1:18: error[MART404]: dependency cycle: a -> b -> c -> a
      |
    1 | select * from {{ ref('a') }}
      |                  ^^^^^^^^
    models/c.sql:1:18: 'c' refs 'b' here
      |
    1 | select * from {{ ref('b') }}
      |                  ^^^^^^^^
    models/a.sql:1:18: 'a' refs 'c' here
      |
    1 | select * from {{ ref('c') }}
      |                  ^^^^^^^^
      = help: remove one of these ref()s so that no model depends on itself
    ");
}

#[test]
fn disabled_refs_and_bad_configs_are_errors() {
    let fx = Fixture::new(
        "disabled",
        &[
            ("models/old.sql", "{{ config(enabled=false) }}select 1"),
            ("models/new.sql", "select * from {{ ref('old') }}"),
            (
                "models/bad.sql",
                "{{ config(materialized=['table']) }}select 1",
            ),
        ],
    );
    insta::assert_snapshot!(fx.errors(), @r"
    models/bad.sql:1:11: error[MART104]: config 'materialized' must be a string, found a list
      |
    1 | {{ config(materialized=['table']) }}select 1
      |           ^^^^^^^^^^^^
      = help: fix 'materialized' in config(), the property file, or the project file's folder config

    models/new.sql:1:18: error[MART403]: 'new' refs 'old', which is disabled
      |
    1 | select * from {{ ref('old') }}
      |                  ^^^^^^^^^^
      = help: enable 'old' (config enabled: true) or remove this ref
    ");
}

#[test]
fn config_precedence_file_over_properties_over_project() {
    let fx = Fixture::new(
        "precedence",
        &[
            ("models/dim/a.sql", "select 1"),
            ("models/dim/b.sql", "select 1"),
            ("models/dim/c.sql", "{{ config(materialized='incremental') }}select 1"),
            ("models/dim/_props.yml", "models:\n  - name: b\n    config: {materialized: view}\n  - name: c\n    config: {materialized: view}\n"),
        ],
    );
    let (manifest, _) = fx.build().unwrap();
    let mat = |n: &str| {
        manifest
            .node(&NodeId::new(format!("model.learn.{n}")))
            .unwrap()
            .config
            .materialized
            .to_string()
    };
    assert_eq!(
        (mat("a"), mat("b"), mat("c")),
        ("table".into(), "view".into(), "incremental".into())
    );
}

#[test]
fn generate_schema_name_can_be_overridden() {
    let fx = Fixture::new(
        "schema_macro",
        &[
            ("models/dim/a.sql", "{{ config(schema='marts') }}select 1"),
            ("macros/schema.sql", "{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name or target.schema }}{% endmacro %}"),
        ],
    );
    let (manifest, _) = fx.build().unwrap();
    let node = manifest.node(&NodeId::new("model.learn.a")).unwrap();
    assert_eq!(node.relation.to_string(), r#""db"."marts"."a""#);
}

#[test]
fn source_properties_render_jinja() {
    let fx = Fixture::new(
        "source_jinja",
        &[
            ("models/a.sql", "select * from {{ source('raw', 'events') }}"),
            ("models/sources.yml", "sources:\n  - name: raw\n    schema: \"{{ target.schema }}_raw\"\n    tables:\n      - name: events\n        identifier: \"{{ var('events_table', 'user_event') }}\"\n"),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let compiler = Compiler::new(&manifest, &env, None);
    let sql = compiler
        .compile(&NodeId::new("model.learn.a"), false)
        .unwrap()
        .sql;
    assert_eq!(sql, r#"select * from "db"."analytics_raw"."user_event""#);
    let source = manifest
        .sources
        .get(&NodeId::new("source.learn.raw.events"))
        .unwrap();
    assert_eq!(source.table.schema, "analytics_raw");
}

#[test]
fn source_property_render_errors_point_at_the_yaml() {
    let fx = Fixture::new(
        "source_jinja_error",
        &[
            ("models/a.sql", "select * from {{ source('raw', 'events') }}"),
            ("models/sources.yml", "sources:\n  - name: raw\n    schema: \"{{ var('raw_schema') }}\"\n    tables:\n      - name: events\n"),
        ],
    );
    insta::assert_snapshot!(fx.errors(), @r#"
    models/sources.yml:3:17: error[MART202]: undefined value: required var 'raw_schema' is not set; pass it with --vars '{raw_schema: ...}', set it under vars: in the project file, or give var() a default
      |
    3 |     schema: "{{ var('raw_schema') }}"
      |                 ^^^^^^^^^^^^^^^^^
      = help: define the variable, pass it with --vars, or check its spelling
    "#);
}

#[test]
fn unchanged_artifacts_are_not_rewritten() {
    let dir = std::env::temp_dir().join(format!("mart_compiler_artifact_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("compiled/a.sql");
    write_artifact(&path, "select 1").unwrap();
    let written = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    write_artifact(&path, "select 1").unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        written
    );
    write_artifact(&path, "select 2").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "select 2");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn data_tests_become_nodes_with_dbt_names_dependencies_and_configs() {
    let fx = Fixture::new(
        "data_tests",
        &[
            ("models/dim/users.sql", "select 1 as id, 1 as team_id"),
            ("models/dim/teams.sql", "select 1 as team_id"),
            ("models/dim/off.sql", "{{ config(enabled=false) }}select 1 as id"),
            (
                "models/dim/_dim.yml",
                "models:\n  - name: users\n    columns:\n      - name: id\n        data_tests:\n          - unique\n          - not_null: {config: {severity: warn, enabled: false}}\n      - name: team_id\n        data_tests:\n          - relationships: {to: ref('teams'), field: team_id, where: 'id > 0', limit: 5}\n  - name: off\n    columns:\n      - name: id\n        data_tests: [unique]\n",
            ),
            (
                "snapshots/_snap.yml",
                "snapshots:\n  - name: users_history\n    columns:\n      - name: id\n        data_tests: [unique]\n",
            ),
            (
                "tests/assert_one_team.sql",
                "{{ config(severity='warn', tags=['rules']) }}select * from {{ ref('teams') }} where team_id <> 1",
            ),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let tests: Vec<&Node> = manifest
        .nodes
        .values()
        .filter(|n| n.resource_type == ResourceType::Test)
        .collect();
    // The disabled test, the test of the disabled model and the test of a snapshot that
    // has no node are left out.
    let names: Vec<&str> = tests.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "assert_one_team",
            "relationships_users_team_id__team_id__ref_teams_",
            "unique_users_id"
        ]
    );
    let relationships = tests[1];
    assert!(relationships
        .id
        .as_str()
        .starts_with("test.learn.relationships_users_team_id__team_id__ref_teams_."));
    assert_eq!(
        relationships.depends_on,
        vec![
            NodeId::from("model.learn.teams"),
            NodeId::from("model.learn.users")
        ]
    );
    assert_eq!(
        relationships.fqn,
        vec!["learn", "dim", relationships.name.as_str()]
    );
    assert_eq!(
        relationships.path,
        "relationships_users_team_id__team_id__ref_teams_.sql"
    );
    let info = relationships.test.as_ref().unwrap();
    assert_eq!(info.attached_node, Some(NodeId::from("model.learn.users")));
    assert_eq!(info.config.limit, Some(5));
    assert_eq!(info.config.severity, Severity::Error);
    assert_eq!(relationships.relation.schema, "analytics_dbt_test__audit");
    let compiled = Compiler::new(&manifest, &env, None)
        .compile(&relationships.id, false)
        .unwrap();
    assert!(
        compiled.sql.contains(
            "from (select * from \"db\".\"analytics\".\"users\" where id > 0) dbt_subquery"
        ),
        "{}",
        compiled.sql
    );
    assert_eq!(
        manifest.compiled_path(&relationships.id).unwrap(),
        manifest.target_dir.join(
            "compiled/learn/models/dim/_dim.yml/relationships_users_team_id__team_id__ref_teams_.sql"
        )
    );
    let singular = tests[0];
    assert_eq!(singular.id.as_str(), "test.learn.assert_one_team");
    assert_eq!(singular.config.tags, vec!["rules"]);
    assert_eq!(
        singular.test.as_ref().unwrap().config.severity,
        Severity::Warn
    );
    assert_eq!(singular.depends_on, vec![NodeId::from("model.learn.teams")]);
    // Tests are not ref-able.
    let dag_test = manifest.dag.node(&singular.id).unwrap();
    assert_eq!(dag_test.test_type.as_deref(), Some("singular"));
}

#[test]
fn a_bad_test_declaration_points_at_its_entry() {
    let fx = Fixture::new(
        "bad_test",
        &[
            ("models/m.sql", "select 1 as id"),
            (
                "models/_m.yml",
                "models:\n  - name: m\n    columns:\n      - name: id\n        data_tests:\n          - not_null: {severity: sometimes}\n",
            ),
        ],
    );
    insta::assert_snapshot!(fx.errors(), @r"
    models/_m.yml:6:24: error[MART104]: config 'severity' must be error or warn, found 'sometimes'
      |
    6 |           - not_null: {severity: sometimes}
      |                        ^^^^^^^^
      = help: fix 'severity' in config(), the property file, or the project file's folder config
    ");
}

/// The saved parse reads back node for node what the parse saved, compiles the same SQL,
/// and a damaged byte anywhere after the header makes it a miss.
#[test]
fn a_saved_parse_reads_back_what_was_saved() {
    let fx = Fixture::new(
        "saved_parse",
        &[
            ("seeds/user_event.csv", "user_id,datestamp\n1,2023-01-01\n"),
            ("models/src/src_user_event.sql", "select * from {{ source('raw', 'log') }} join {{ ref('user_event') }} using (user_id)"),
            ("models/dim/dim_user.sql", "{{ config(alias='users', tags=['d']) }}select distinct user_id from {{ ref('src_user_event') }}"),
            ("models/dim/_dim.yml", "sources:\n  - name: raw\n    tables:\n      - name: log\nmodels:\n  - name: dim_user\n    description: one row a user\n    columns:\n      - name: user_id\n        data_tests: [unique, not_null]\n"),
            ("tests/assert_users.sql", "select * from {{ ref('dim_user') }} where user_id < 0"),
            ("macros/cents.sql", "{% macro cents(c) %}({{ c }} / 100){% endmacro %}"),
        ],
    );
    let project = Project::load(&fx.root).unwrap();
    let target = target();
    let settings = Manifest::env_settings(&project.config, &[], &target, &serde_json::Map::new());
    let env = JinjaEnv::new(&settings, &project.all_macro_files()).unwrap();
    let fresh = Manifest::build(&project, &target, &env).unwrap();
    let path = parse_cache_path(&fx.root, &project.config, &settings);
    let stamp = mart_project::InputStamp::scan(&fx.root, &project.config);
    let saved_with = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        load_saved_parse(&path, "b1", &settings, &fx.root, &project.config)
    };
    let content_id = save_parse(&path, "b1", &settings, stamp, &fresh, &project.macro_files)
        .unwrap()
        .expect("the parse is saved");
    let bytes = std::fs::read(&path).unwrap();
    let saved = saved_with(&bytes).expect("the saved parse is current");
    assert_eq!(saved.content_id, content_id);
    let saved = saved.manifest;
    // Nothing is read until asked for; compiling a model reads it and what it refs, through
    // its ephemeral parent: dim_user, src_user_event, user_event.
    assert_eq!(saved.nodes.in_memory(), 0);
    let compiler = Compiler::new(&saved, &env, None);
    let dim_user = compiler
        .compile(&NodeId::new("model.learn.dim_user"), false)
        .unwrap();
    assert_eq!(saved.nodes.in_memory(), 3);
    // Its static analysis, and finding the seeds behind sources, read no other node (they
    // read every node of a 10,000-model project for a one-node run before).
    let report = compiler.analyse(&[dim_user], None, None, KeptAnalyses::none());
    assert_eq!(report.summary.analysed, 1);
    assert!(saved.seeds_of_sources().is_empty());
    assert_eq!(saved.nodes.in_memory(), 3);

    let debug = |m: &Manifest| {
        m.nodes
            .values()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(fresh.nodes.len(), 6);
    // Every id is found by its hash, and only those.
    for m in [&fresh, &saved] {
        for id in m.nodes.ids() {
            assert_eq!(m.nodes.get(id).map(|n| &n.id), Some(id));
        }
        assert!(m.nodes.get(&NodeId::new("model.learn.dim_users")).is_none());
    }
    assert_eq!(debug(&saved), debug(&fresh));
    let graph = |m: &Manifest| m.dag.nodes().cloned().collect::<Vec<_>>();
    assert_eq!(graph(&saved), graph(&fresh));
    assert_eq!(compiled(&saved, &env), compiled(&fresh, &env));
    assert_eq!(
        format!("{:?}", saved.sources),
        format!("{:?}", fresh.sources)
    );
    // Another build of mart never reads it.
    assert!(load_saved_parse(&path, "b2", &settings, &fx.root, &project.config).is_none());
    // One byte changed in the middle of the nodes, or the file cut short: a miss.
    let mut damaged = bytes.clone();
    let middle = damaged.len() - 40;
    damaged[middle] ^= 0x5a;
    assert!(saved_with(&damaged).is_none());
    assert!(saved_with(&bytes[..bytes.len() - 1]).is_none());
    assert!(saved_with(&bytes).is_some());
}

#[test]
fn installed_packages_load_as_projects_of_their_own() {
    let fx = Fixture::new(
        "packages",
        &[
            (
                "dbt_project.yml",
                "name: learn\nprofile: learn\nvars:\n  shared: root\n  pkg:\n    scoped: from_root\nmodels:\n  pkg:\n    staging:\n      +materialized: table\n",
            ),
            ("models/report.sql", "select * from {{ ref('pkg', 'stg_orders') }} join {{ ref('orders_seed') }} using (id) -- {{ pkg.cents('x') }} {{ cents('y') }}"),
            ("macros/cents.sql", "{% macro cents(c) %}root_{{ c }}{% endmacro %}"),
            (
                "dbt_packages/pkg/dbt_project.yml",
                "name: pkg\nvars:\n  scoped: package_default\n  own: package_own\nmodels:\n  pkg:\n    +materialized: view\n    +tags: [pkg]\n",
            ),
            ("dbt_packages/pkg/models/staging/stg_orders.sql", "select id, {{ cents('amount') }} as amount, '{{ var('scoped') }}' as scoped, '{{ var('own') }}' as own, '{{ var('shared') }}' as shared from {{ ref('orders_seed') }}"),
            ("dbt_packages/pkg/models/staging/_stg.yml", "models:\n  - name: stg_orders\n    columns:\n      - name: id\n        tests: [unique]\n"),
            ("dbt_packages/pkg/macros/cents.sql", "{% macro cents(c) %}pkg_{{ c }}{% endmacro %}"),
            ("dbt_packages/pkg/seeds/orders_seed.csv", "id,amount\n1,2\n"),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let stg = manifest.node(&NodeId::new("model.pkg.stg_orders")).unwrap();
    assert_eq!(stg.package, "pkg");
    assert_eq!(stg.original_file_path, "models/staging/stg_orders.sql");
    // The root project's folder config beats the package's own; the package's tags stay.
    assert_eq!(stg.config.materialized.to_string(), "table");
    assert_eq!(stg.config.tags, vec!["pkg"]);
    assert_eq!(stg.depends_on, vec![NodeId::new("seed.pkg.orders_seed")]);
    let report = manifest.node(&NodeId::new("model.learn.report")).unwrap();
    assert_eq!(
        report.depends_on,
        vec![
            NodeId::new("model.pkg.stg_orders"),
            NodeId::new("seed.pkg.orders_seed")
        ]
    );
    let test = manifest
        .nodes
        .values()
        .find(|n| n.resource_type == ResourceType::Test)
        .unwrap();
    assert_eq!(test.package, "pkg");
    assert_eq!(test.depends_on, vec![NodeId::new("model.pkg.stg_orders")]);
    let compiler = Compiler::new(&manifest, &env, None);
    let sql = |id: &str| compiler.compile(&NodeId::new(id), false).unwrap().sql;
    // A bare macro name resolves in the node's own package first; vars scoped to the
    // package in the root project beat the package's defaults.
    assert_eq!(
        sql("model.pkg.stg_orders"),
        "select id, pkg_amount as amount, 'from_root' as scoped, 'package_own' as own, 'root' as shared from \"db\".\"analytics\".\"orders_seed\""
    );
    assert_eq!(
        sql("model.learn.report"),
        "select * from \"db\".\"analytics\".\"stg_orders\" join \"db\".\"analytics\".\"orders_seed\" using (id) -- pkg_x root_y"
    );
    assert_eq!(
        manifest.compiled_path(&NodeId::new("model.pkg.stg_orders")),
        Some(
            fx.root
                .join("target/compiled/pkg/models/staging/stg_orders.sql")
        )
    );
}

#[test]
fn project_config_values_render_jinja_and_disable_package_nodes() {
    let fx = Fixture::new(
        "config_jinja",
        &[
            (
                "dbt_project.yml",
                "name: learn\nprofile: learn\nvars:\n  load_pkg: false\nmodels:\n  learn:\n    +schema: \"{{ target.schema }}_x\"\n    +post-hook: \"{{ this }} stays for run time\"\n  pkg:\n    +enabled: \"{{ var('load_pkg', true) }}\"\n",
            ),
            ("models/a.sql", "select 1"),
            ("dbt_packages/pkg/dbt_project.yml", "name: pkg\n"),
            ("dbt_packages/pkg/models/p.sql", "select 2"),
        ],
    );
    let (manifest, _) = fx.build().unwrap();
    let a = manifest.node(&NodeId::new("model.learn.a")).unwrap();
    assert_eq!(a.relation.schema, "analytics_analytics_x");
    assert_eq!(
        a.config.raw["post_hook"],
        serde_json::json!(["{{ this }} stays for run time"])
    );
    assert!(manifest.node(&NodeId::new("model.pkg.p")).is_none());
}

#[test]
fn namespaced_generic_tests_use_the_package_s_macro() {
    let fx = Fixture::new(
        "namespaced_tests",
        &[
            ("models/m.sql", "select 1 as id"),
            (
                "models/_m.yml",
                "models:\n  - name: m\n    data_tests:\n      - pkg.positive:\n          column_name: id\n      - positive:\n          column_name: id\n",
            ),
            // The project's own test of the same name never stands in for the package's.
            ("macros/tests.sql", "{% test positive(model, column_name) %}select 'root' from {{ model }}{% endtest %}"),
            ("dbt_packages/pkg/dbt_project.yml", "name: pkg\n"),
            ("dbt_packages/pkg/macros/tests.sql", "{% test positive(model, column_name) %}select 'pkg' from {{ model }} where {{ column_name }} <= 0{% endtest %}"),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let compiler = Compiler::new(&manifest, &env, None);
    let mut sql: Vec<String> = manifest
        .nodes
        .values()
        .filter(|n| n.resource_type == ResourceType::Test)
        .map(|n| compiler.compile(&n.id, false).unwrap().sql)
        .collect();
    sql.sort();
    assert_eq!(
        sql,
        [
            "select 'pkg' from \"db\".\"analytics\".\"m\" where id <= 0",
            "select 'root' from \"db\".\"analytics\".\"m\""
        ]
    );
}

#[test]
fn analyses_compile_and_build_nothing() {
    let fx = Fixture::new(
        "analyses",
        &[
            (
                "dbt_project.yml",
                "name: learn\nprofile: learn\nanalysis-paths: [analyses]\n",
            ),
            ("models/orders.sql", "select 1 as id"),
            (
                "analyses/orders.sql",
                "select count(*) from {{ ref('orders') }}",
            ),
        ],
    );
    let (manifest, env) = fx.build().unwrap();
    let id = NodeId::new("analysis.learn.orders");
    let analysis = manifest.node(&id).unwrap();
    assert_eq!(analysis.resource_type, ResourceType::Analysis);
    assert_eq!(analysis.depends_on, vec![NodeId::new("model.learn.orders")]);
    let compiled = Compiler::new(&manifest, &env, None)
        .compile(&id, false)
        .unwrap();
    assert_eq!(
        compiled.sql,
        "select count(*) from \"db\".\"analytics\".\"orders\""
    );
}
