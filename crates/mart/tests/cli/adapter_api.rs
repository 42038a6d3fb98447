//! The adapter's catalog methods, api.Relation / api.Column and agate-shaped query results
//! against the real PostgreSQL, through `mart run-operation`.

// Test helpers: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used)]

use crate::harness::{Output, TestProject};

/// The text after `OUT ` of every line that has it: what the macro logged for the test.
fn logged(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .filter_map(|l| l.split_once("OUT ").map(|(_, rest)| rest.to_string()))
        .collect()
}

fn project_with_macro(tag: &str, macro_text: &str) -> TestProject {
    let project = TestProject::with_files(tag, &[("macros/probe.sql", macro_text)]);
    project.execute(&format!("create schema \"{}\"", project.schema));
    project
}

#[test]
fn adapter_reads_relations_columns_and_schemas_from_the_catalog() {
    let project = project_with_macro(
        "adapter_catalog",
        "{% macro probe() %}\n\
         {% set t = adapter.get_relation(database=target.database, schema=target.schema, identifier='t') %}\n\
         {{ log('OUT get_relation ' ~ t.render() ~ ' ' ~ t.type ~ ' ' ~ t.is_table, info=True) }}\n\
         {{ log('OUT view ' ~ adapter.get_relation(target.database, target.schema, 'v').type ~ ' mv ' ~ adapter.get_relation(target.database, target.schema, 'mv').type, info=True) }}\n\
         {{ log('OUT missing ' ~ (adapter.get_relation(target.database, target.schema, 'nope') is none) ~ ' mixed ' ~ adapter.get_relation(target.database, target.schema, 'MixedCase').identifier, info=True) }}\n\
         {% for c in adapter.get_columns_in_relation(t) %}{{ log('OUT col ' ~ c.name ~ ' | ' ~ c.data_type ~ ' | ' ~ c.dtype ~ ' | ' ~ c.char_size ~ ' | ' ~ c.is_string(), info=True) }}{% endfor %}\n\
         {% set loaded = adapter.load_relation(api.Relation.create(database=target.database, schema=target.schema, identifier='v')) %}\n\
         {{ log('OUT load ' ~ loaded.type ~ ' ' ~ loaded.is_view ~ ' ' ~ (adapter.load_relation(api.Relation.create(schema=target.schema, identifier='gone')) is none), info=True) }}\n\
         {% set missing = adapter.get_missing_columns(t, api.Relation.create(schema=target.schema, identifier='v')) %}\n\
         {{ log('OUT missing_columns ' ~ (missing | map(attribute='name') | join(',')), info=True) }}\n\
         {% for r in adapter.list_relations_without_caching(api.Relation.create(database=target.database, schema=target.schema)) %}{{ log('OUT list ' ~ r.identifier ~ ' ' ~ r.type, info=True) }}{% endfor %}\n\
         {{ log('OUT schema_exists ' ~ adapter.check_schema_exists(target.database, target.schema) ~ ' ' ~ adapter.check_schema_exists(database=target.database, schema='no_such_schema_x'), info=True) }}\n\
         {{ log('OUT in_list ' ~ (target.schema in adapter.list_schemas(target.database)) ~ ' exists ' ~ adapter.already_exists(target.schema, 't'), info=True) }}\n\
         {% endmacro %}\n",
    );
    let s = &project.schema;
    project.execute(&format!(
        "create table \"{s}\".t (id int, name varchar(10), amount numeric(10,2), created timestamp, note text, code char(3), ratio float8);\
         create view \"{s}\".v as select id from \"{s}\".t;\
         create materialized view \"{s}\".mv as select 1 as x;\
         create table \"{s}\".\"MixedCase\" (id int)"
    ));
    let out = project.mart_expect(&["run-operation", "probe"], 0);
    assert_eq!(
        logged(&out),
        [
            format!("get_relation \"postgres\".\"{s}\".\"t\" table True"),
            "view view mv materialized_view".to_string(),
            "missing True mixed MixedCase".to_string(),
            "col id | integer | integer | None | False".to_string(),
            "col name | character varying(10) | character varying | 10 | True".to_string(),
            "col amount | numeric(10,2) | numeric | None | False".to_string(),
            "col created | timestamp without time zone | timestamp without time zone | None | False".to_string(),
            "col note | text | text | None | True".to_string(),
            "col code | character varying(3) | character | 3 | True".to_string(),
            "col ratio | double precision | double precision | None | False".to_string(),
            "load view True True".to_string(),
            "missing_columns name,amount,created,note,code,ratio".to_string(),
            "list MixedCase table".to_string(),
            "list t table".to_string(),
            "list v view".to_string(),
            "list mv materialized_view".to_string(),
            "schema_exists True False".to_string(),
            "in_list True exists True".to_string(),
        ]
    );
}

#[test]
fn get_relation_refuses_a_name_that_differs_only_in_case() {
    let project = project_with_macro(
        "adapter_case",
        "{% macro probe() %}\n{% do adapter.get_relation(target.database, target.schema, 'mixedcase') %}\n{% endmacro %}\n",
    );
    let s = &project.schema;
    project.execute(&format!("create table \"{s}\".\"MixedCase\" (id int)"));
    let out = project.mart_expect(&["run-operation", "probe"], 1);
    assert!(
        out.stderr.contains(&format!(
            "adapter.get_relation() looked for \"{s}\".\"mixedcase\" and found only \"postgres\".\"{s}\".\"MixedCase\", whose name differs in case"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn adapter_changes_schemas_and_relations() {
    let project = project_with_macro(
        "adapter_ddl",
        "{% macro probe() %}\n\
         {% set extra = target.schema ~ '_extra' %}\n\
         {% set s = api.Relation.create(database=target.database, schema=extra) %}\n\
         {% do adapter.create_schema(s) %}\n\
         {% call statement('mk') %}create table {{ adapter.quote(extra) }}.a (name varchar(5), n int); insert into {{ adapter.quote(extra) }}.a values ('abc', 1){% endcall %}\n\
         {% set a = adapter.get_relation(target.database, extra, 'a') %}\n\
         {% set w = adapter.get_relation(target.database, target.schema, 'wide') %}\n\
         {% do adapter.expand_target_column_types(from_relation=w, to_relation=a) %}\n\
         {% for c in adapter.get_columns_in_relation(a) %}{{ log('OUT expanded ' ~ c.name ~ ' ' ~ c.data_type, info=True) }}{% endfor %}\n\
         {{ log('OUT kept ' ~ run_query('select name from ' ~ a).rows[0][0], info=True) }}\n\
         {% do adapter.rename_relation(a, a.incorporate(path={'identifier': 'b'})) %}\n\
         {% set b = adapter.get_relation(target.database, extra, 'b') %}\n\
         {% do adapter.truncate_relation(b) %}\n\
         {{ log('OUT renamed ' ~ b.identifier ~ ' rows ' ~ run_query('select count(*) from ' ~ b).rows[0][0], info=True) }}\n\
         {% do adapter.drop_relation(b) %}\n\
         {{ log('OUT dropped ' ~ (adapter.get_relation(target.database, extra, 'b') is none), info=True) }}\n\
         {% do adapter.drop_schema(s) %}\n\
         {{ log('OUT schema gone ' ~ (not adapter.check_schema_exists(target.database, extra)), info=True) }}\n\
         {% endmacro %}\n",
    );
    let s = &project.schema;
    project.execute(&format!(
        "create table \"{s}\".wide (name varchar(50), n bigint)"
    ));
    let out = project.mart_expect(&["run-operation", "probe"], 0);
    // As in dbt, the widened column moves to the end of the table.
    assert_eq!(
        logged(&out),
        [
            "expanded n integer",
            "expanded name character varying(50)",
            "kept abc",
            "renamed b rows 0",
            "dropped True",
            "schema gone True",
        ]
    );
}

#[test]
fn query_results_are_typed_agate_tables() {
    let project = project_with_macro(
        "adapter_agate",
        "{% macro probe() %}\n\
         {% set t = run_query(\"select 1::int as i, 2.50::numeric(5,2) as n, true as b, date '2024-01-02' as d, timestamp '2024-01-02 03:04:05' as ts, 'x'::text as s, null::int as z\") %}\n\
         {{ log('OUT types ' ~ (t.column_types | map(attribute='__name__') | join(',')), info=True) }}\n\
         {{ log('OUT values ' ~ t.rows[0].values(), info=True) }}\n\
         {{ log('OUT compare ' ~ (t.rows[0]['i'] > 0) ~ ' ' ~ (t.rows[0]['n'] * 2) ~ ' ' ~ (t.rows[0]['b'] is sameas true) ~ ' ' ~ (t.columns['z'].values()[0] is none), info=True) }}\n\
         {% call statement('c', fetch_result=True) %}select count(*) as count from generate_series(1, 3){% endcall %}\n\
         {% set r = load_result('c') %}\n\
         {{ log('OUT count ' ~ r['table'].rows[0]['count'] ~ ' ' ~ (r.table.rows[0]['count'] > 2) ~ ' ' ~ r.response.rows_affected ~ ' ' ~ r.response.code, info=True) }}\n\
         {% set several = run_query('select 1 as a; select 2 as b') %}\n\
         {{ log('OUT several ' ~ several.column_names ~ ' ' ~ several.rows[0]['b'], info=True) }}\n\
         {% endmacro %}\n",
    );
    let out = project.mart_expect(&["run-operation", "probe"], 0);
    assert_eq!(
        logged(&out),
        [
            "types Integer,Number,Boolean,Date,DateTime,Text,Integer",
            r#"values [1, 2.5, True, "2024-01-02", "2024-01-02 03:04:05", "x", None]"#,
            "compare True 5.0 True True",
            "count 3 True 1 SELECT",
            r#"several ["b"] 2"#,
        ]
    );
}
