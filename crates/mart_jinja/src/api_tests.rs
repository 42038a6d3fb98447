//! Templates using relations, `api`, the adapter's database-free methods and agate tables.

use std::sync::{Arc, Mutex};

use mart_adapter::Relation;
use mart_diagnostics::SourceFile;

use crate::{
    EnvSettings, JinjaEnv, Phase, QueryRunner, QueryTable, RefCall, RenderScope, ResolvedRef,
    Resolver, SourceCall,
};

struct Models;

impl Resolver for Models {
    fn resolve_ref(&self, call: &RefCall, _from: Option<&str>) -> Option<ResolvedRef> {
        (call.name == "stg").then(|| ResolvedRef::Ephemeral {
            cte_name: "__dbt__cte__stg".into(),
        })
    }
    fn resolve_source(&self, _call: &SourceCall) -> Option<Relation> {
        None
    }
    fn ref_names(&self) -> Vec<String> {
        vec!["stg".into()]
    }
}

/// Records the statements it is given and answers each with the same table.
struct Answering {
    table: QueryTable,
    statements: Mutex<Vec<String>>,
}

impl QueryRunner for Answering {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String> {
        self.statements.lock().unwrap().push(sql.trim().to_string());
        Ok(self.table.clone())
    }
}

fn typed_table() -> QueryTable {
    let text = |s: &str| Some(s.to_string());
    QueryTable {
        columns: vec!["id".into(), "name".into(), "amount".into(), "ok".into()],
        column_types: vec![
            "int8".into(),
            "text".into(),
            "numeric".into(),
            "bool".into(),
        ],
        rows: vec![
            vec![text("1"), text("a"), text("1.50"), text("t")],
            vec![text("2"), None, text("3"), text("t")],
        ],
        rows_affected: Some(2),
    }
}

/// Renders `template` as a model in the compile phase; returns the output, the logs and
/// the statements the runner was given.
fn render(template: &str) -> Result<(String, Vec<String>, Vec<String>), String> {
    render_with(typed_table(), template)
}

fn render_with(
    table: QueryTable,
    template: &str,
) -> Result<(String, Vec<String>, Vec<String>), String> {
    let settings = EnvSettings {
        project_name: "p".into(),
        target: serde_json::json!({"name": "dev", "schema": "analytics", "database": "warehouse"}),
        vars: serde_json::Map::new(),
        ..EnvSettings::default()
    };
    let jinja = JinjaEnv::new(&settings, &[]).unwrap();
    let runner = Arc::new(Answering {
        table,
        statements: Mutex::new(Vec::new()),
    });
    let mut scope = RenderScope::new(Phase::Compile);
    scope.resolver = Some(Arc::new(Models));
    scope.query_runner = Some(runner.clone());
    scope.this = Some(Relation::new(Some("warehouse".into()), "analytics", "fact"));
    let scope = Arc::new(scope);
    let file = Arc::new(SourceFile::new("models/m.sql", template));
    let out = jinja.render(&file, &scope).map_err(|d| d.message)?;
    let logs = scope.take_recorded().logs;
    let statements = runner.statements.lock().unwrap().clone();
    Ok((out, logs, statements))
}

fn output(template: &str) -> String {
    render(template).unwrap().0
}

#[test]
fn relations_have_dbt_attributes_policies_and_methods() {
    let out = output(
        "{% set r = api.Relation.create(database='db', schema='s', identifier='t', type='table') %}\
         {{ r }}|{{ r.type }} {{ r.is_table }} {{ r.is_view }}|{{ r.include(database=false) }}|\
         {{ r.quote(identifier=false) }}|{{ r.incorporate(path={'identifier': 'u'}, type='view') }} \
         {{ r.incorporate(path={'identifier': 'u'}, type='view').is_view }}|\
         {{ r.incorporate(path={'schema': none, 'database': none}) }}|{{ r.without_identifier() }}|\
         {{ r.replace_path(schema='x') }}|{{ r.path.schema }} {{ r.name }} {{ r.table }}|\
         {{ r.information_schema('columns') }}|{{ r.include(identifier=false).render() }}",
    );
    assert_eq!(
        out,
        r#""db"."s"."t"|table True False|"s"."t"|"db"."s".t|"db"."s"."u" True|"t"|"db"."s"|"db"."x"."t"|s t t|"db".INFORMATION_SCHEMA.columns|"db"."s""#
    );
}

#[test]
fn relations_compare_and_pass_dbt_utils_checks() {
    let out = output(
        "{% set r = api.Relation.create(schema='s', identifier='t') %}\
         {{ r == api.Relation.create(schema='s', identifier='t') }} {{ r == r.incorporate(type='view') }} \
         {{ r is mapping }} {{ r.get('metadata')['type'] }} {{ r.get('nope', 'd') }} {{ r.type is none }}|\
         {{ api.Relation.add_ephemeral_prefix('m') }} {{ api.Relation.CTE }} {{ r.MaterializedView }}|\
         {{ ref('stg') }} {{ ref('stg').is_cte }} {{ ref('stg').name }} {{ ref('stg').schema is none }}|\
         {{ this }} {{ this.is_table }}",
    );
    assert_eq!(
        out,
        r#"True False True PostgresRelation d True|__dbt__cte__m cte materialized_view|__dbt__cte__stg True __dbt__cte__stg True|"warehouse"."analytics"."fact" False"#
    );
}

#[test]
fn bad_relation_arguments_are_errors() {
    let err =
        render("{{ api.Relation.create(schema='s', identifier='t', type='tabel') }}").unwrap_err();
    assert_eq!(
        err,
        "'tabel' is not a relation type; use one of table, view, cte, materialized_view, external or none"
    );
    let err = render("{{ this.include(databse=false) }}").unwrap_err();
    assert_eq!(
        err,
        "include() got an unexpected keyword argument 'databse'; did you mean 'database'?"
    );
    let err = render("{{ this.incorporate(path='x') }}").unwrap_err();
    assert_eq!(err, "expected a dict such as {'identifier': 'name'}, got x");
}

#[test]
fn api_column_follows_dbt_postgres() {
    let out = output(
        "{% set c = api.Column('name', 'character varying', char_size=10) %}\
         {{ c.name }} {{ c.column }} {{ c.quoted }} {{ c.dtype }} {{ c.data_type }} {{ c.char_size }}|\
         {{ c.is_string() }} {{ c.is_number() }} {{ c.string_size() }} \
         {{ c.can_expand_to(api.Column.create('x', 'varchar')) }} {{ c.literal(\"'a'\") }}|\
         {{ api.Column.create('n', 'STRING').dtype }} {{ api.Column.string_type(5) }} \
         {{ api.Column.numeric_type('numeric', 10, 2) }} {{ api.Column.numeric_type('numeric', none, none) }}|\
         {{ api.Column('a', 'numeric', numeric_precision=10, numeric_scale=2).data_type }} \
         {{ api.Column('i', 'integer').is_integer() }} {{ api.Column('f', 'float8').is_float() }}|\
         {{ api.Column.from_description('d', 'varchar(3)').data_type }}|{{ api.Column('t', 'text') }}",
    );
    assert_eq!(
        out,
        "name name \"name\" character varying character varying(10) 10|True False 10 True 'a'::character varying(10)|TEXT character varying(5) numeric(10,2) numeric|numeric(10,2) True True|character varying(3)|PostgresColumn(column='t', dtype='text', char_size=None, numeric_precision=None, numeric_scale=None)"
    );
}

#[test]
fn query_results_are_agate_shaped_and_typed() {
    let (out, logs, _) = render(
        "{% set t = run_query('select 1') %}\
         {{ t.column_names }}|{% for ty in t.column_types %}{{ ty.__class__.__name__ }} {% endfor %}|\
         {{ t.rows | length }} {{ t | length }}|{{ t.rows[0][0] }} {{ t.rows[0]['name'] }} {{ t.rows[1].name is none }}|\
         {{ t.columns['amount'].values() }} {{ t.columns[0].values() }} {{ t.columns['ok'].values_distinct() }}|\
         {{ t.rows[0].keys() }} {{ t.rows[0].values() }} {{ t.rows[0].items()[1] }}|\
         {% for row in t %}{{ row['id'] > 0 }} {% endfor %}|{{ t.rows[0]['amount'] + 1 }} {{ t[1]['id'] * 10 }}|\
         {{ t.select(['name']).column_names }} {{ t.columns.keys() }} {{ t.columns['id'].data_type }}|\
         {% for v in t.rows[0] %}{{ v }},{% endfor %}{% do t.print_table() %}",
    )
    .unwrap();
    assert_eq!(
        out,
        r#"["id", "name", "amount", "ok"]|Integer Text Number Boolean |2 2|1 a True|[1.5, 3] [1, 2] [True]|["id", "name", "amount", "ok"] [1, "a", 1.5, True] ["name", "a"]|True True |2.5 20|["name"] ["id", "name", "amount", "ok"] Integer|1,a,1.5,True,"#
    );
    assert_eq!(
        logs,
        vec!["| id | name | amount | ok   |\n| -- | ---- | ------ | ---- |\n|  1 | a    |    1.5 | True |\n|  2 |      |      3 | True |"]
    );
}

#[test]
fn load_result_has_table_data_and_response() {
    let (out, _, statements) = render(
        "{% call statement('x', fetch_result=True) %}insert into t select 1{% endcall %}\
         {{ load_result('x')['table'].rows[0][0] }} {{ load_result('x').table.columns['name'].values() }}|\
         {{ load_result('x').data }}|{{ load_result('x').response.rows_affected }} \
         {{ load_result('x').response.code }} {{ load_result('x')['response']['_message'] }}|\
         {% call statement('y') %}create table t (id int){% endcall %}\
         {{ load_result('y').table.rows | length }} {{ load_result('y').response.code }} {{ load_result('y').response.rows_affected }}",
    )
    .unwrap();
    assert_eq!(
        out,
        r#"1 ["a", None]|[[1, "a", 1.5, True], [2, None, 3, True]]|2 INSERT INSERT 0 2|0 CREATE TABLE 2"#
    );
    assert_eq!(
        statements,
        ["insert into t select 1", "create table t (id int)"]
    );
}

#[test]
fn adapter_methods_without_the_catalog() {
    let out = output(
        "{{ adapter.type() }} {{ adapter.quote('Mixed') }} {{ adapter.quote_as_configured('x', 'identifier') }} \
         {{ adapter.quote_as_configured('x', 'column') }} {{ adapter.quote_seed_column('c', false) }} \
         {{ adapter.quote_seed_column('c', none) }} [{{ adapter.cache_added(this) }}{{ adapter.cache_renamed(this, this) }}\
         {{ adapter.commit() }}{{ adapter.verify_database('\"WAREHOUSE\"') }}] {{ adapter.date_function() }}",
    );
    assert_eq!(out, r#"postgres "Mixed" "x" x c "c" [] now()"#);
    let cases = [
        (
            "{{ adapter.verify_database('other') }}",
            "cross-database references are not allowed on postgres: got database 'other', but the target's database is 'warehouse'",
        ),
        (
            "{{ adapter.dispatch('x') }}",
            "unknown function: In dispatch: no macro named 'x' found within namespace 'None'; searched for 'postgres__x', 'default__x'",
        ),
        (
            "{{ adapter.frobnicate() }}",
            "adapter.frobnicate() is not supported by mart",
        ),
        (
            "{{ adapter.get_columns_in_relation('t') }}",
            "adapter.get_columns_in_relation(): 'relation' must be a relation, got string (t)",
        ),
        (
            "{{ adapter.drop_relation(api.Relation.create(schema='s', identifier='t')) }}",
            "adapter.drop_relation(): the relation \"s\".\"t\" has no type, so mart cannot tell what to drop; get it with adapter.get_relation() or give type= to api.Relation.create()",
        ),
    ];
    for (template, message) in cases {
        assert_eq!(render(template).unwrap_err(), message, "{template}");
    }
}

#[test]
fn adapter_ddl_methods_send_dbt_postgres_statements() {
    let (_, _, statements) = render(
        "{% set mv = api.Relation.create(schema='s', identifier='m', type='materialized_view') %}\
         {% set t = api.Relation.create(database='warehouse', schema='s', identifier='t', type='table') %}\
         {% do adapter.drop_relation(mv) %}{% do adapter.drop_relation(relation=t.incorporate(type='view')) %}\
         {% do adapter.truncate_relation(t) %}{% do adapter.rename_relation(t, t.incorporate(path={'identifier': 'T2'})) %}\
         {% do adapter.create_schema(t) %}{% do adapter.drop_schema(relation=t) %}",
    )
    .unwrap();
    assert_eq!(
        statements,
        [
            r#"drop materialized view if exists "s"."m" cascade"#,
            r#"drop view if exists "warehouse"."s"."t" cascade"#,
            r#"truncate table "warehouse"."s"."t""#,
            r#"alter table "warehouse"."s"."t" rename to "T2""#,
            r#"create schema if not exists "s""#,
            r#"drop schema if exists "s" cascade"#,
        ]
    );
}

#[test]
fn grants_table_becomes_a_dict_of_grantees_by_privilege() {
    let text = |s: &str| Some(s.to_string());
    let grants = QueryTable {
        columns: vec!["grantee".into(), "privilege_type".into()],
        rows: vec![
            vec![text("bi"), text("SELECT")],
            vec![text("etl"), text("INSERT")],
            vec![text("etl"), text("SELECT")],
        ],
        ..QueryTable::default()
    };
    let (out, _, _) = render_with(
        grants,
        "{{ adapter.standardize_grants_dict(run_query('show grants')) }}",
    )
    .unwrap();
    assert_eq!(out, r#"{"INSERT": ["etl"], "SELECT": ["bi", "etl"]}"#);
    let err = render("{{ adapter.standardize_grants_dict(run_query('select')) }}").unwrap_err();
    assert_eq!(
        err,
        "adapter.standardize_grants_dict(): each row needs the columns grantee and privilege_type"
    );
}
