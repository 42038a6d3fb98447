use std::sync::Arc;

use mart_adapter::Relation;
use mart_diagnostics::SourceFile;

use super::*;

struct Models;

impl Resolver for Models {
    fn resolve_ref(&self, call: &RefCall, _from: Option<&str>) -> Option<ResolvedRef> {
        match call.name.as_str() {
            "dim_user" => Some(ResolvedRef::Relation(Relation::new(
                Some("db".into()),
                "analytics",
                "dim_user",
            ))),
            "src_user" => Some(ResolvedRef::Ephemeral {
                cte_name: "__dbt__cte__src_user".into(),
            }),
            _ => None,
        }
    }
    fn resolve_source(&self, call: &SourceCall) -> Option<Relation> {
        (call.source == "raw").then(|| Relation::new(None, "raw_data", call.table.clone()))
    }
    fn ref_names(&self) -> Vec<String> {
        vec!["dim_user".into(), "src_user".into()]
    }
}

fn file(path: &str, text: &str) -> Arc<SourceFile> {
    Arc::new(SourceFile::new(path, text))
}

/// Macro files of the root project `learn`.
fn root_macros(files: &[Arc<SourceFile>]) -> Vec<mart_project::MacroFile> {
    files
        .iter()
        .map(|file| mart_project::MacroFile {
            package: "learn".into(),
            file: file.clone(),
        })
        .collect()
}

fn env(macros: &[Arc<SourceFile>]) -> JinjaEnv {
    let mut vars = serde_json::Map::new();
    vars.insert("date_id".into(), serde_json::json!("2024-08-20"));
    let settings = EnvSettings {
        project_name: "learn".into(),
        target: serde_json::json!({"name": "dev", "schema": "analytics", "type": "postgres"}),
        vars,
        ..EnvSettings::default()
    };
    JinjaEnv::new(&settings, &root_macros(macros)).unwrap()
}

fn compile_scope() -> Arc<RenderScope> {
    let mut scope = RenderScope::new(Phase::Compile);
    scope.resolver = Some(Arc::new(Models));
    scope.this = Some(Relation::new(Some("db".into()), "analytics", "fact"));
    Arc::new(scope)
}

#[test]
fn parse_phase_records_refs_sources_and_configs() {
    let jinja = env(&[]);
    let scope = Arc::new(RenderScope::new(Phase::Parse));
    let model = file(
        "models/m.sql",
        "{{ config(materialized='table', tags=['a']) }}select * from {{ ref('dim_user') }} join {{ source('raw', 'events') }} join {{ ref('pkg', 'other', v=2) }}",
    );
    jinja.render(&model, &scope).unwrap();
    let recorded = scope.take_recorded();
    assert_eq!(
        recorded.refs,
        vec![
            RefCall {
                package: None,
                name: "dim_user".into(),
                version: None,
            },
            RefCall {
                package: Some("pkg".into()),
                name: "other".into(),
                version: Some("2".into()),
            }
        ]
    );
    assert_eq!(
        recorded.sources,
        vec![SourceCall {
            source: "raw".into(),
            table: "events".into()
        }]
    );
    assert_eq!(recorded.configs[0]["materialized"], "table");
    assert_eq!(recorded.configs[0]["tags"], serde_json::json!(["a"]));
}

#[test]
fn compile_phase_resolves_relations_vars_and_this() {
    let jinja = env(&[]);
    let model = file(
        "models/m.sql",
        "select * from {{ ref('dim_user') }} u join {{ ref('src_user') }} s using (id) join {{ source('raw', 'events') }} e using (id)\nwhere d = '{{ var('date_id') }}' and x = {{ var('missing', 3) }}{% if is_incremental() %} and 1=0{% endif %} -- {{ this }} {{ target.name }} {{ execute }}",
    );
    let sql = jinja.render(&model, &compile_scope()).unwrap();
    insta::assert_snapshot!(sql, @r#"
    select * from "db"."analytics"."dim_user" u join __dbt__cte__src_user s using (id) join "raw_data"."events" e using (id)
    where d = '2024-08-20' and x = 3 -- "db"."analytics"."fact" dev True
    "#);
}

#[test]
fn macros_are_global_and_see_the_callers_scope() {
    let macros = file(
        "macros/util.sql",
        "{% macro safe_divide(a, b) %}case when {{ b }} = 0 then null else {{ a }}::numeric / {{ b }} end{% endmacro %}\n{% macro users() %}{{ ref('dim_user') }}{% endmacro %}\n{% macro answer() %}{{ return(40 + 2) }}{% endmacro %}",
    );
    let jinja = env(&[macros]);
    assert!(["safe_divide", "answer"]
        .iter()
        .all(|m| jinja.macro_package(None, None, m) == Some("learn")));
    let model = file(
        "models/m.sql",
        "select {{ safe_divide('x', 'y') }}, {{ answer() + 1 }} from {{ users() }}",
    );
    let sql = jinja.render(&model, &compile_scope()).unwrap();
    assert_eq!(
        sql,
        r#"select case when y = 0 then null else x::numeric / y end, 43 from "db"."analytics"."dim_user""#
    );
}

#[test]
fn unknown_ref_in_compile_phase_points_at_the_line() {
    let jinja = env(&[]);
    let model = file("models/m.sql", "select 1\nfrom {{ ref('dim_usr') }}");
    let err = jinja.render(&model, &compile_scope()).unwrap_err();
    assert_eq!(
        err.message,
        "ref('dim_usr') names no model, seed or snapshot; did you mean 'dim_user'?"
    );
    assert_eq!(err.span.unwrap().line_col().0, 2);
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let jinja = env(&[]);
    let model = file("models/m.sql", "select 1\n{% if x %}\nfrom t\n");
    let err = jinja.render(&model, &compile_scope()).unwrap_err();
    assert_eq!(err.code, mart_diagnostics::Code::TemplateSyntax);
    assert_eq!(err.file_path().unwrap().to_str(), Some("models/m.sql"));
    assert!(
        err.message.contains("unexpected end of input"),
        "{}",
        err.message
    );
}

#[test]
fn raise_compiler_error_and_missing_var_are_errors() {
    let jinja = env(&[]);
    let err = jinja
        .render(
            &file(
                "models/m.sql",
                "{{ exceptions.raise_compiler_error('bad input') }}",
            ),
            &compile_scope(),
        )
        .unwrap_err();
    assert_eq!(err.message, "bad input");
    let err = jinja
        .render(&file("models/m.sql", "{{ var('nope') }}"), &compile_scope())
        .unwrap_err();
    assert!(
        err.message.contains("required var 'nope' is not set"),
        "{}",
        err.message
    );
}

#[test]
fn duplicate_macros_are_reported_with_both_places() {
    let a = file("macros/a.sql", "{% macro m() %}1{% endmacro %}");
    let b = file("macros/b.sql", "\n{% macro m() %}2{% endmacro %}");
    let settings = EnvSettings::default();
    let err = JinjaEnv::new(&settings, &root_macros(&[a, b]))
        .err()
        .unwrap();
    assert_eq!(err.0[0].message, "macro 'm' is defined twice");
    assert_eq!(err.0[0].span.as_ref().unwrap().line_col(), (2, 10));
}

#[test]
fn config_get_reads_recorded_and_known_config() {
    let jinja = env(&[]);
    let mut scope = RenderScope::new(Phase::Compile);
    scope
        .config
        .insert("schema".into(), serde_json::json!("marts"));
    let scope = Arc::new(scope);
    let sql = jinja
        .render(
            &file("models/m.sql", "{{ config(materialized='table') }}{{ config.get('materialized') }} {{ config.get('schema') }} {{ config.get('alias', 'none') }}"),
            &scope,
        )
        .unwrap();
    assert_eq!(sql, "table marts none");
}

#[test]
fn expressions_render_with_extra_variables() {
    let macros = file(
        "macros/schema.sql",
        "{% macro generate_schema_name(custom_schema_name, node) %}{{ custom_schema_name or target.schema }}_x{% endmacro %}",
    );
    let jinja = env(&[macros]);
    let out = jinja
        .render_expression(
            "generate_schema_name(custom_schema_name, node)",
            &[
                ("custom_schema_name", Value::from("raw")),
                ("node", Value::from(())),
            ],
            &compile_scope(),
        )
        .unwrap();
    assert_eq!(out, "raw_x");
}

#[test]
fn property_values_render_target_and_vars() {
    let jinja = env(&[]);
    let yml = file(
        "models/sources.yml",
        "sources:\n  - name: raw\n    schema: \"{{ target.schema }}_raw_{{ var('date_id') }}\"\n",
    );
    let schema = jinja
        .render_property(&yml, "{{ target.schema }}_raw_{{ var('date_id') }}")
        .unwrap();
    assert_eq!(schema, "analytics_raw_2024-08-20");
    assert_eq!(jinja.render_property(&yml, "raw").unwrap(), "raw");
}

#[test]
fn property_value_errors_point_at_the_value_in_the_file() {
    let jinja = env(&[]);
    let yml = file(
        "models/sources.yml",
        "sources:\n  - name: raw\n    schema: \"{{ var('nope') }}\"\n",
    );
    let err = jinja
        .render_property(&yml, "{{ var('nope') }}")
        .unwrap_err();
    assert!(
        err.message.contains("required var 'nope' is not set"),
        "{}",
        err.message
    );
    assert_eq!(
        err.file_path().unwrap().to_str(),
        Some("models/sources.yml")
    );
    assert_eq!(err.span.unwrap().line_col().0, 3);
    let err = jinja.render_property(&yml, "{{ ref('a') }}").unwrap_err();
    assert_eq!(
        err.message,
        "this function is only available while rendering a node"
    );
}

#[test]
fn generic_tests_are_macros_and_materializations_are_skipped() {
    let macros = file(
        "macros/tests.sql",
        "{% test is_even(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} % 2 = 1\n{% endtest %}\n{%- materialization my_view, adapter='postgres' -%}{{ ref('x') }}{%- endmaterialization -%}\n{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n{% macro broken() %}{{ 1 + }}{% endmacro %}",
    );
    let settings = EnvSettings::default();
    let err = JinjaEnv::new(&settings, &root_macros(std::slice::from_ref(&macros)))
        .err()
        .unwrap();
    // Positions after the skipped blocks are those of the file as written.
    assert_eq!(err.0[0].span.as_ref().unwrap().line_col().0, 6);
    let fixed = file(
        "macros/tests.sql",
        &macros
            .text
            .replace("{% macro broken() %}{{ 1 + }}{% endmacro %}", ""),
    );
    let jinja = env(&[fixed]);
    assert!(["cents", "test_is_even"]
        .iter()
        .all(|m| jinja.macro_package(None, None, m) == Some("learn")));
    let sql = jinja
        .render(
            &file("models/m.sql", "select {{ cents('a') }}"),
            &compile_scope(),
        )
        .unwrap();
    assert_eq!(sql, "select (a * 100)");
}

#[test]
fn relation_include_and_render_agree() {
    let jinja = env(&[]);
    let model = file(
        "models/m.sql",
        "{{ this.include(database=False) }} | {{ this.include(schema=False) }} | {{ this.include(database=False, schema=False).render() }} | {{ this.render() }} | {{ this.identifier }}",
    );
    let sql = jinja.render(&model, &compile_scope()).unwrap();
    // As in dbt, leaving out the schema keeps the database.
    assert_eq!(
        sql,
        r#""analytics"."fact" | "db"."fact" | "fact" | "db"."analytics"."fact" | fact"#
    );
}

/// Records every statement and answers `select` with one row; fails on `boom`.
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<String>>);

impl QueryRunner for Recording {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String> {
        self.0.lock().unwrap().push(sql.trim().to_string());
        if sql.contains("boom") {
            return Err("ERROR: syntax error at or near \"boom\"".into());
        }
        Ok(QueryTable {
            columns: vec!["n".into()],
            rows: vec![vec![Some("7".into())]],
            ..QueryTable::default()
        })
    }
}

fn scope_with(runner: &Arc<Recording>) -> Arc<RenderScope> {
    let mut scope = RenderScope::new(Phase::Compile);
    scope.resolver = Some(Arc::new(Models));
    scope.query_runner = Some(runner.clone());
    Arc::new(scope)
}

#[test]
fn call_macro_passes_keyword_arguments_and_runs_statement_blocks() {
    let macros = file(
        "macros/ops.sql",
        "{% macro grow(rows, label='x') %}\n{% call statement('make', fetch_result=True) %}insert into {{ ref('dim_user') }} select {{ rows }} -- {{ label }}{% endcall %}\n{% set n = load_result('make').table.columns[0].values()[0] %}\n{% do run_query('select ' ~ (n + 1)) %}\n{{ log('loaded ' ~ load_result('make').data[0][0], info=True) }}{{ log('missing ' ~ (load_result('nope') is none), info=True) }}\n{% endmacro %}",
    );
    let jinja = env(&[macros]);
    let runner = Arc::new(Recording::default());
    let scope = scope_with(&runner);
    let mut args = serde_json::Map::new();
    args.insert("rows".into(), serde_json::json!(5));
    args.insert("label".into(), serde_json::json!("five"));
    jinja.call_macro("grow", &args, &scope).unwrap();
    assert_eq!(
        *runner.0.lock().unwrap(),
        vec![
            r#"insert into "db"."analytics"."dim_user" select 5 -- five"#.to_string(),
            "select 8".to_string()
        ]
    );
    assert_eq!(scope.take_recorded().logs, vec!["loaded 7", "missing True"]);
}

#[test]
fn call_macro_errors_point_at_the_macro_file_or_suggest_a_name() {
    let macros = file(
        "macros/ops.sql",
        "{% macro explode() %}\nselect 1;\n{% do run_query('boom') %}\n{% endmacro %}",
    );
    let jinja = env(&[macros]);
    let runner = Arc::new(Recording::default());
    let err = jinja
        .call_macro("explode", &serde_json::Map::new(), &scope_with(&runner))
        .unwrap_err();
    assert_eq!(
        err.message,
        "run_query failed: ERROR: syntax error at or near \"boom\""
    );
    let span = err.span.unwrap();
    assert_eq!(span.file.path.to_string_lossy(), "macros/ops.sql");
    assert_eq!(span.line_col().0, 3);
    let err = jinja
        .call_macro("explod", &serde_json::Map::new(), &scope_with(&runner))
        .unwrap_err();
    assert_eq!(err.message, "no macro named 'explod' in this project");
    assert_eq!(err.help.as_deref(), Some("did you mean 'explode'?"));
}

#[test]
fn var_with_a_none_default_is_none() {
    let jinja = env(&[]);
    let model = file(
        "models/m.sql",
        "{% set d = var('missing', none) %}{{ d is none }} {{ var('date_id', none) }}",
    );
    let sql = jinja.render(&model, &compile_scope()).unwrap();
    assert_eq!(sql, "True 2024-08-20");
}

#[test]
fn dbt_library_macros_dispatch_to_their_postgres_forms() {
    let jinja = env(&[]);
    let scope = compile_scope();
    let model = file(
        "models/m.sql",
        "{{ dbt.type_string() }}|{{ type_int() }}|{{ dbt.dateadd('day', 1, 'd') }}",
    );
    assert_eq!(
        jinja.render(&model, &scope).unwrap(),
        "TEXT|integer|d + ((interval '1 day') * (1))"
    );
}

#[test]
fn invocation_context_and_graph() {
    let settings = EnvSettings {
        invocation_id: "0000-id".into(),
        run_started_at: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400)),
        ..EnvSettings::default()
    };
    let jinja = JinjaEnv::new(&settings, &[]).unwrap();
    jinja.set_selected_resources(vec!["model.p.a".into(), "model.p.b".into()]);
    jinja.set_graph(Box::new(|| {
        serde_json::json!({"nodes": {"model.p.a": {"name": "a", "config": {"materialized": "view"}}}, "sources": {}})
    }));
    let model = file(
        "models/m.sql",
        "{{ invocation_id }}|{{ run_started_at.strftime('%Y-%m-%d %H:%M %Z') }}|{{ selected_resources | join(',') }}|{% for id, node in graph.nodes.items() %}{{ id }}={{ node.config.materialized }}{% endfor %}|{{ graph.sources | length }}",
    );
    assert_eq!(
        jinja.render(&model, &compile_scope()).unwrap(),
        "0000-id|1970-01-02 00:00 UTC|model.p.a,model.p.b|model.p.a=view|0"
    );
}

#[test]
fn dispatch_follows_the_search_order_and_names_what_it_searched() {
    let mut settings = EnvSettings {
        project_name: "learn".into(),
        ..EnvSettings::default()
    };
    settings
        .dispatch
        .insert("pkg".into(), vec!["learn".into(), "pkg".into()]);
    let macro_file = |package: &str, path: &str, text: &str| mart_project::MacroFile {
        package: package.into(),
        file: file(path, text),
    };
    let jinja = JinjaEnv::new(
        &settings,
        &[
            macro_file(
                "pkg",
                "dbt_packages/pkg/macros/m.sql",
                "{% macro greet(x) %}{{ return(adapter.dispatch('greet', 'pkg')(x)) }}{% endmacro %}{% macro default__greet(x) %}pkg {{ x }}{% endmacro %}{% macro postgres__shout(x) %}PKG {{ x }}{% endmacro %}{% macro default__shout(x) %}pkg {{ x }}{% endmacro %}{% macro only_here() %}{% endmacro %}",
            ),
            macro_file(
                "learn",
                "macros/over.sql",
                "{% macro default__shout(x) %}root {{ x }}{% endmacro %}",
            ),
        ],
    )
    .unwrap();
    let scope = compile_scope();
    let render = |text: &str| {
        jinja
            .render(&file("models/m.sql", text), &scope)
            .map_err(|d| d.message)
    };
    assert_eq!(render("{{ pkg.greet('a') }}"), Ok("pkg a".into()));
    // The root project's default__ comes before the package's postgres__: packages are
    // searched in order, each for postgres__ then default__.
    assert_eq!(
        render("{{ adapter.dispatch('shout', 'pkg')('b') }}"),
        Ok("root b".into())
    );
    assert_eq!(
        render("{{ adapter.dispatch('nothing', 'pkg')() }}"),
        Err("unknown function: In dispatch: no macro named 'nothing' found within namespace 'pkg'; searched for 'learn.postgres__nothing', 'learn.default__nothing', 'pkg.postgres__nothing', 'pkg.default__nothing'".into())
    );
    assert_eq!(
        render("{{ adapter.dispatch('greet', 'nope')() }}"),
        Err("In dispatch: macro namespace 'nope' is not a package of this project; install it with `mart deps` or fix the name".into())
    );
    assert_eq!(
        render("{{ only_here() }}"),
        Err("unknown function: macro 'only_here' is defined in package 'pkg', not in this project; call it as pkg.only_here()".into())
    );
    assert_eq!(
        render("{{ pkg.only_hre() }}"),
        Err("unknown function: package 'pkg' has no macro named 'only_hre'; did you mean pkg.only_here?".into())
    );
}

#[test]
fn caller_varargs_and_kwargs_across_files() {
    let jinja = env(&[
        file(
            "macros/wrap.sql",
            "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}",
        ),
        file(
            "macros/rest.sql",
            "{% macro rest(a) %}{{ a }}|{{ varargs | join(',') }}|{{ kwargs.get('k', 'none') }}|{{ kwargs | length }}{% endmacro %}",
        ),
    ]);
    let model = file(
        "models/m.sql",
        "{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %} {{ rest(1, 2, 3, k='v', j=0) }} {{ rest(a=9) }}",
    );
    assert_eq!(
        jinja.render(&model, &compile_scope()).unwrap(),
        "<b>inner 2</b> 1|2,3|v|2 9||none|0"
    );
}

#[test]
fn a_render_records_the_macros_its_own_template_calls() {
    let jinja = env(&[file(
        "macros/m.sql",
        "{% macro outer(x) %}{{ inner(x) }}{% endmacro %}{% macro inner(x) %}{{ x }}{% endmacro %}",
    )]);
    let scope = Arc::new(RenderScope::new(Phase::Parse));
    let model = file(
        "models/m.sql",
        "select {{ outer(1) }}, {{ learn.inner(2) }}, {{ outer(3) }}{% if is_incremental() %}x{% endif %}",
    );
    jinja.render(&model, &scope).unwrap();
    // `inner` called inside `outer` is outer's; the direct call is the model's.
    assert_eq!(
        scope.take_recorded().macros,
        [
            "macro.learn.outer",
            "macro.learn.inner",
            "macro.dbt.is_incremental"
        ]
    );
    assert_eq!(
        jinja.macro_dependencies("learn", "outer", "{% macro outer(x) %}{{ inner(x) }}{{ outer(x) }}{{ current_timestamp() }}{% endmacro %}"),
        ["macro.learn.inner", "macro.dbt.current_timestamp"]
    );
}
