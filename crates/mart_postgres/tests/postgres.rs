//! Integration tests against a real PostgreSQL (127.0.0.1:5432, user postgres, trust auth;
//! override with MART_TEST_PG_HOST / MART_TEST_PG_PORT / MART_TEST_PG_USER /
//! MART_TEST_PG_PASSWORD / MART_TEST_PG_DBNAME). Every test works in its own schema
//! `mart_test_<pid>_<n>_<tag>`, dropped when the test ends (also when it panics).

// Test helpers outside #[test] functions panic on purpose, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mart_adapter::seed::{
    copy_from_stdin, copy_payload, create_seed_table, infer_seed_columns, truncate_table,
};
use mart_adapter::{
    create_schema, quote_ident, suffixed_identifier, table_statements, view_replace_statements,
    view_statements, Relation, RelationKind, BACKUP_SUFFIX, TMP_SUFFIX,
};
use mart_postgres::{Connection, ConnectionConfig, PgErrorKind};

fn config() -> ConnectionConfig {
    let env = |key: &str, default: &str| std::env::var(key).unwrap_or_else(|_| default.to_string());
    ConnectionConfig {
        host: env("MART_TEST_PG_HOST", "127.0.0.1"),
        port: env("MART_TEST_PG_PORT", "5432").parse().unwrap(),
        user: env("MART_TEST_PG_USER", "postgres"),
        password: std::env::var("MART_TEST_PG_PASSWORD").ok(),
        dbname: env("MART_TEST_PG_DBNAME", "postgres"),
        connect_timeout: Some(Duration::from_secs(5)),
        application_name: "mart_postgres_tests".to_string(),
        sslmode: None,
    }
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A schema of this test's own, dropped (cascade) on drop, from a fresh connection on a
/// thread of its own so it also runs while unwinding from a failed assertion.
struct TestSchema {
    name: String,
}

impl TestSchema {
    async fn new(conn: &Connection, tag: &str) -> TestSchema {
        let name = format!(
            "mart_test_{}_{}_{tag}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        conn.execute(&format!(
            "drop schema if exists {} cascade",
            quote_ident(&name)
        ))
        .await
        .unwrap();
        conn.execute(&create_schema(&name)).await.unwrap();
        TestSchema { name }
    }

    fn relation(&self, identifier: &str) -> Relation {
        Relation::new(None, self.name.clone(), identifier)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let conn = Connection::connect(&config()).await.unwrap();
                conn.execute(&format!(
                    "drop schema if exists {} cascade",
                    quote_ident(&name)
                ))
                .await
                .unwrap();
            });
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop test schema {}", self.name);
        }
    }
}

async fn kind_of(conn: &Connection, schema: &str, ident: String) -> Option<RelationKind> {
    conn.relation_kind(schema, &ident).await.unwrap()
}

async fn connect() -> Connection {
    Connection::connect(&config()).await.unwrap()
}

async fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Option<String>>> {
    conn.query(sql).await.unwrap().rows
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[tokio::test]
async fn connect_execute_and_query() {
    let conn = connect().await;
    let schema = TestSchema::new(&conn, "basic").await;
    let t = schema.relation("t");
    assert_eq!(
        conn.execute(&format!("create table {t} (id int, v text)"))
            .await
            .unwrap(),
        0
    );
    let inserted = conn
        .execute(&format!(
            "insert into {t} values (1, 'a'), (2, null), (3, '')"
        ))
        .await
        .unwrap();
    assert_eq!(inserted, 3);

    let result = conn
        .query(&format!("select id, v as \"Value\" from {t} order by id"))
        .await
        .unwrap();
    assert_eq!(result.columns, ["id", "Value"]);
    assert_eq!(
        result.rows,
        vec![
            vec![s("1"), s("a")],
            vec![s("2"), None],
            vec![s("3"), s("")]
        ]
    );
    assert_eq!(result.rows_affected, 3);
    assert_eq!(
        conn.result_types(&format!(
            "select id, v, 1.5::numeric(4,2), now(), true, current_date from {t}"
        ))
        .await
        .unwrap(),
        ["int4", "text", "numeric", "timestamptz", "bool", "date"]
    );

    // Column names even without rows; the last result set of several statements.
    let empty = conn
        .query(&format!("select id from {t} where false"))
        .await
        .unwrap();
    assert_eq!(empty.columns, ["id"]);
    assert!(empty.rows.is_empty());
    let last = conn.query("select 1 as a; select 2 as b").await.unwrap();
    assert_eq!(last.columns, ["b"]);
    assert_eq!(last.rows, vec![vec![s("2")]]);
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn transaction_is_all_or_nothing_and_errors_carry_the_statement() {
    let mut conn = connect().await;
    let schema = TestSchema::new(&conn, "tx").await;
    let t = schema.relation("t");
    let failing = format!("select * from {}", schema.relation("nope"));
    let statements = vec![
        format!("create table {t} (id int)"),
        format!("insert into {t} values (1)"),
        failing.clone(),
    ];
    let err = conn.execute_in_transaction(&statements).await.unwrap_err();
    assert_eq!(err.kind(), PgErrorKind::Db);
    assert_eq!(err.sqlstate(), Some("42P01"));
    assert_eq!(err.statement(), Some(failing.as_str()));
    let position = err.position().expect("position");
    assert_eq!(err.byte_offset(), Some(failing.find('"').unwrap()));
    assert_eq!(position as usize, failing.find('"').unwrap() + 1);
    assert!(err.to_string().ends_with("(SQLSTATE 42P01)"), "{err}");
    assert_eq!(conn.relation_kind(&schema.name, "t").await.unwrap(), None);

    // The connection is usable again and a good list commits.
    conn.execute_in_transaction(&statements[..2]).await.unwrap();
    assert_eq!(
        rows(&conn, &format!("select id from {t}")).await,
        vec![vec![s("1")]]
    );
    conn.execute_in_transaction(&[]).await.unwrap();
}

#[tokio::test]
async fn error_position_with_multibyte_text() {
    let conn = connect().await;
    let sql = "select '한국어 데이터' as k, nope_col from (select 1) x";
    let err = conn.execute(sql).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("42703"));
    assert_eq!(err.byte_offset(), Some(sql.find("nope_col").unwrap()));
    // Syntax error at the end of input: position one past the last character.
    let sql = "select 1 +";
    let err = conn.query(sql).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("42601"));
    assert_eq!(err.byte_offset(), Some(sql.len()));
}

#[tokio::test]
async fn dropped_transaction_is_rolled_back_before_the_next_call() {
    let mut conn = connect().await;
    let schema = TestSchema::new(&conn, "dropped_tx").await;
    let t = schema.relation("t");
    let statements = vec![
        format!("create table {t} (id int)"),
        "select pg_sleep(3)".to_string(),
    ];
    let cancel = conn.cancel_handle();
    let timed_out = tokio::time::timeout(
        Duration::from_millis(300),
        conn.execute_in_transaction(&statements),
    )
    .await;
    assert!(
        timed_out.is_err(),
        "the transaction should still be running"
    );
    cancel.cancel().await.unwrap();
    // The next call rolls the abandoned transaction back first.
    assert_eq!(conn.relation_kind(&schema.name, "t").await.unwrap(), None);
    conn.execute(&format!("create table {t} (id int)"))
        .await
        .unwrap();
    assert_eq!(
        conn.relation_kind(&schema.name, "t").await.unwrap(),
        Some(RelationKind::Table)
    );
}

#[tokio::test]
async fn table_swap_keeps_the_old_table_when_the_build_fails() {
    let mut conn = connect().await;
    let schema = TestSchema::new(&conn, "swap").await;
    let target = schema.relation("orders");

    conn.execute_in_transaction(&table_statements(
        &target,
        "select 1 as id union all select 2",
        None,
        false,
    ))
    .await
    .unwrap();
    let select = format!("select id from {target} order by id");
    assert_eq!(rows(&conn, &select).await, vec![vec![s("1")], vec![s("2")]]);

    // A failing rebuild leaves the old table with its rows, and no tmp/backup behind.
    let existing = kind_of(&conn, &schema.name, "orders".into()).await;
    assert_eq!(existing, Some(RelationKind::Table));
    let err = conn
        .execute_in_transaction(&table_statements(
            &target,
            "select 1/0 as id",
            existing,
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("22012"));
    assert!(err.statement().unwrap().contains("1/0"));
    assert_eq!(rows(&conn, &select).await, vec![vec![s("1")], vec![s("2")]]);
    assert_eq!(
        kind_of(
            &conn,
            &schema.name,
            suffixed_identifier("orders", TMP_SUFFIX)
        )
        .await,
        None
    );
    assert_eq!(
        kind_of(
            &conn,
            &schema.name,
            suffixed_identifier("orders", BACKUP_SUFFIX)
        )
        .await,
        None
    );

    // Leftovers of a killed run do not break the next one.
    conn.execute(&format!(
        "create table {} (x int); create table {} (y int)",
        schema.relation(&suffixed_identifier("orders", TMP_SUFFIX)),
        schema.relation(&suffixed_identifier("orders", BACKUP_SUFFIX))
    ))
    .await
    .unwrap();
    conn.execute_in_transaction(&table_statements(&target, "select 3 as id", existing, true))
        .await
        .unwrap();
    assert_eq!(rows(&conn, &select).await, vec![vec![s("3")]]);
    assert_eq!(
        kind_of(
            &conn,
            &schema.name,
            suffixed_identifier("orders", TMP_SUFFIX)
        )
        .await,
        None
    );
    assert_eq!(
        kind_of(
            &conn,
            &schema.name,
            suffixed_identifier("orders", BACKUP_SUFFIX)
        )
        .await,
        None
    );
    let persistence = rows(
        &conn,
        &format!("select relpersistence from pg_class where oid = '{target}'::regclass"),
    )
    .await;
    assert_eq!(persistence, vec![vec![s("u")]], "unlogged table");

    // A table replacing a view, with a long multi-byte name.
    let long = "주문_일별_집계_".repeat(5);
    let long_target = schema.relation(&long);
    conn.execute_in_transaction(&view_statements(&long_target, "select 'v' as source", None))
        .await
        .unwrap();
    // PostgreSQL keeps only 63 bytes of the name.
    let stored: String = rows(&conn, &format!("select relname from pg_class where relname like '주문%' and relnamespace = '{}'::regnamespace", schema.name)).await[0][0].clone().unwrap();
    let long_target = schema.relation(&stored);
    let existing = kind_of(&conn, &schema.name, stored.clone()).await;
    assert_eq!(existing, Some(RelationKind::View));
    conn.execute_in_transaction(&table_statements(
        &long_target,
        "select 't' as source",
        existing,
        false,
    ))
    .await
    .unwrap();
    assert_eq!(
        kind_of(&conn, &schema.name, stored.clone()).await,
        Some(RelationKind::Table)
    );
    assert_eq!(
        rows(&conn, &format!("select source from {long_target}")).await,
        vec![vec![s("t")]]
    );
}

#[tokio::test]
async fn view_replaces_table_and_view_with_42p16_fallback() {
    let mut conn = connect().await;
    let schema = TestSchema::new(&conn, "views").await;
    let target = schema.relation("v");
    conn.execute(&format!("create table {target} as select 1 as a"))
        .await
        .unwrap();

    let existing = conn.relation_kind(&schema.name, "v").await.unwrap();
    assert_eq!(existing, Some(RelationKind::Table));
    conn.execute_in_transaction(&view_statements(&target, "select 2 as a", existing))
        .await
        .unwrap();
    assert_eq!(
        conn.relation_kind(&schema.name, "v").await.unwrap(),
        Some(RelationKind::View)
    );

    // Same columns: create or replace works in place.
    conn.execute_in_transaction(&view_statements(
        &target,
        "select 3 as a;",
        Some(RelationKind::View),
    ))
    .await
    .unwrap();
    assert_eq!(
        rows(&conn, &format!("select a from {target}")).await,
        vec![vec![s("3")]]
    );

    // Renamed column: 42P16, then the fallback drops and recreates.
    let statements = view_statements(
        &target,
        "select 4 as b -- comment",
        Some(RelationKind::View),
    );
    let err = conn.execute_in_transaction(&statements).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("42P16"), "{err}");
    assert_eq!(
        rows(&conn, &format!("select a from {target}")).await,
        vec![vec![s("3")]]
    );
    conn.execute_in_transaction(&view_replace_statements(
        &target,
        "select 4 as b -- comment",
    ))
    .await
    .unwrap();
    assert_eq!(
        rows(&conn, &format!("select b from {target}")).await,
        vec![vec![s("4")]]
    );

    // A materialized view is replaced too.
    let mv = schema.relation("mv");
    conn.execute(&format!("create materialized view {mv} as select 1 as a"))
        .await
        .unwrap();
    let existing = conn.relation_kind(&schema.name, "mv").await.unwrap();
    assert_eq!(existing, Some(RelationKind::MaterializedView));
    conn.execute_in_transaction(&view_statements(&mv, "select 5 as z", existing))
        .await
        .unwrap();
    assert_eq!(
        rows(&conn, &format!("select z from {mv}")).await,
        vec![vec![s("5")]]
    );
}

const SEED: &str = "id,\"First Name\",\"Quote\"\"d\",Amount,flag,\"When At\",day,score,note\n\
1,\"Smith, John\",\"say \"\"hi\"\"\",1.50,true,2024-01-01 10:00:00,2024-01-01,5,\"multi\nline\"\n\
2,,\"\",-3,F,,2024-02-29,\"\",plain\n\
3,\"  spaced  \",x,,yes,2024-01-01T00:00:00.5,,7,\"\"\n\
\n";

#[tokio::test]
async fn seed_round_trip() {
    let conn = connect().await;
    let schema = TestSchema::new(&conn, "seed").await;
    let target = schema.relation("Seed Table");
    let inferred = infer_seed_columns(SEED.as_bytes(), b',', &BTreeMap::new()).unwrap();
    assert_eq!(inferred.row_count, 3);
    let types: Vec<(&str, &str)> = inferred
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "integer"),
            ("First Name", "text"),
            ("Quote\"d", "text"),
            ("Amount", "double precision"),
            ("flag", "text"),
            ("When At", "timestamp"),
            ("day", "date"),
            ("score", "integer"),
            ("note", "text"),
        ]
    );

    conn.execute(&create_seed_table(&target, &inferred.columns))
        .await
        .unwrap();
    let copy = copy_from_stdin(&target, &inferred.columns, b',');
    let copied = conn
        .copy_in(&copy, copy_payload(SEED.as_bytes()))
        .await
        .unwrap();
    assert_eq!(copied, 3);

    let expected = vec![
        vec![
            s("1"),
            s("Smith, John"),
            s("say \"hi\""),
            s("1.5"),
            s("true"),
            s("2024-01-01 10:00:00"),
            s("2024-01-01"),
            s("5"),
            s("multi\nline"),
        ],
        vec![
            s("2"),
            None,
            // A quoted empty field is NULL too, as dbt reads it.
            None,
            s("-3"),
            s("F"),
            None,
            s("2024-02-29"),
            None,
            s("plain"),
        ],
        vec![
            s("3"),
            s("  spaced  "),
            s("x"),
            None,
            s("yes"),
            s("2024-01-01 00:00:00.5"),
            None,
            s("7"),
            None,
        ],
    ];
    let select = format!("select * from {target} order by id");
    let result = conn.query(&select).await.unwrap();
    assert_eq!(
        result.columns,
        [
            "id",
            "First Name",
            "Quote\"d",
            "Amount",
            "flag",
            "When At",
            "day",
            "score",
            "note"
        ]
    );
    assert_eq!(result.rows, expected);

    // Full-refresh-less reload: truncate + copy gives the same rows, not twice as many.
    conn.execute(&truncate_table(&target)).await.unwrap();
    // The raw file ends with a blank line, which COPY would read as a row: copy_payload
    // trims it.
    let err = conn.copy_in(&copy, SEED.as_bytes()).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("22P04"));
    assert_eq!(
        conn.copy_in(&copy, copy_payload(SEED.as_bytes()))
            .await
            .unwrap(),
        3
    );
    assert_eq!(conn.query(&select).await.unwrap().rows, expected);

    let columns = conn.columns(&schema.name, "Seed Table").await.unwrap();
    assert_eq!(
        columns[5],
        (
            "When At".to_string(),
            "timestamp without time zone".to_string()
        )
    );
}

#[tokio::test]
async fn seed_with_semicolons_crlf_bom_and_given_types() {
    let conn = connect().await;
    let schema = TestSchema::new(&conn, "seed_crlf").await;
    let target = schema.relation("codes");
    let csv = "\u{feff}code;label;n\r\n007;\"a;b\";1\r\n010;\"line\r\nbreak\";\r\n";
    let mut given = BTreeMap::new();
    given.insert("n".to_string(), "smallint".to_string());
    let inferred = infer_seed_columns(csv.as_bytes(), b';', &given).unwrap();
    let types: Vec<&str> = inferred
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(types, ["integer", "text", "smallint"]);
    conn.execute(&create_seed_table(&target, &inferred.columns))
        .await
        .unwrap();
    let copy = copy_from_stdin(&target, &inferred.columns, b';');
    assert_eq!(
        conn.copy_in(&copy, copy_payload(csv.as_bytes()))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        rows(&conn, &format!("select * from {target} order by code")).await,
        vec![
            vec![s("7"), s("a;b"), s("1")],
            vec![s("10"), s("line\r\nbreak"), None]
        ]
    );
    let columns = conn.columns(&schema.name, "codes").await.unwrap();
    assert_eq!(columns[0], ("code".to_string(), "integer".to_string()));
}

#[tokio::test]
async fn copy_errors_are_reported_and_the_connection_survives() {
    let conn = connect().await;
    let schema = TestSchema::new(&conn, "copy_err").await;
    let target = schema.relation("t");
    conn.execute(&format!("create table {target} (id int, v text)"))
        .await
        .unwrap();
    let copy = format!("copy {target} (id, v) from stdin with (format csv, header true)");

    let err = conn
        .copy_in(&copy, &b"id,v\n1,a\nnot a number,b\n"[..])
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("22P02"));
    assert_eq!(err.statement(), Some(copy.as_str()));
    assert!(
        err.context().unwrap_or_default().contains("line 3"),
        "{:?}",
        err.context()
    );

    struct Failing(usize);
    impl tokio::io::AsyncRead for Failing {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            if self.0 == 0 {
                self.0 += 1;
                buf.put_slice(b"id,v\n1,a\n");
                std::task::Poll::Ready(Ok(()))
            } else {
                std::task::Poll::Ready(Err(std::io::Error::other("disk on fire")))
            }
        }
    }
    let err = conn.copy_in(&copy, Failing(0)).await.unwrap_err();
    assert_eq!(err.kind(), PgErrorKind::Io);
    assert!(err.to_string().contains("disk on fire"), "{err}");

    assert_eq!(
        rows(&conn, &format!("select count(*) from {target}")).await,
        vec![vec![s("0")]]
    );
    let err = conn
        .copy_in(
            &format!("copy {} from stdin", schema.relation("missing")),
            &b""[..],
        )
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("42P01"));
}

/// A CopyWriter takes chunks cut anywhere (mid-row too); dropped unfinished it aborts the
/// COPY, and a rollback to a savepoint taken before it lets the transaction go on.
#[tokio::test]
async fn copy_writer_streams_chunks_and_aborts_when_dropped() {
    let mut conn = connect().await;
    let schema = TestSchema::new(&conn, "copy_writer").await;
    let target = schema.relation("t");
    conn.execute(&format!("create table {target} (id int, v text)"))
        .await
        .unwrap();
    let copy = format!("copy {target} (id, v) from stdin with (format csv, header true)");
    let mut writer = conn.copy_writer(&copy).await.unwrap();
    for chunk in ["id,v\n1,", "a\n2,\"b\n", "c\"\n3,d", ""] {
        writer
            .send(bytes::Bytes::from_static(chunk.as_bytes()))
            .await
            .unwrap();
    }
    assert_eq!(writer.finish().await.unwrap(), 3);

    conn.begin().await.unwrap();
    conn.execute("savepoint before_copy").await.unwrap();
    let mut writer = conn.copy_writer(&copy).await.unwrap();
    writer
        .send(bytes::Bytes::from_static(b"id,v\n4,e\n"))
        .await
        .unwrap();
    drop(writer);
    conn.execute("rollback to savepoint before_copy")
        .await
        .unwrap();
    conn.execute(&format!("insert into {target} values (5, 'f')"))
        .await
        .unwrap();
    conn.commit().await.unwrap();
    assert_eq!(
        rows(
            &conn,
            &format!("select string_agg(id::text || v, ' ' order by id) from {target}")
        )
        .await,
        vec![vec![s("1a 2b\nc 3d 5f")]]
    );
}

#[tokio::test]
async fn relation_kinds_and_columns() {
    let conn = connect().await;
    let schema = TestSchema::new(&conn, "catalog").await;
    let n = |i: &str| schema.relation(i);
    conn.execute(&format!(
        "create table {} (id bigint, \"Mixed Case\" varchar(10), amount numeric(10,2), at timestamptz, tags text[]);
         create view {} as select 1 as x;
         create materialized view {} as select 1 as x;
         create sequence {};
         create table {} (d date) partition by range (d);",
        n("Tbl"),
        n("vw"),
        n("mv"),
        n("seq"),
        n("part"),
    ))
    .await
    .unwrap();
    conn.execute(&format!("alter table {} drop column amount", n("Tbl")))
        .await
        .unwrap();
    let kind = |ident: &'static str| conn.relation_kind(&schema.name, ident);
    assert_eq!(kind("Tbl").await.unwrap(), Some(RelationKind::Table));
    assert_eq!(kind("tbl").await.unwrap(), None, "names are exact");
    assert_eq!(kind("vw").await.unwrap(), Some(RelationKind::View));
    assert_eq!(
        kind("mv").await.unwrap(),
        Some(RelationKind::MaterializedView)
    );
    assert_eq!(kind("seq").await.unwrap(), Some(RelationKind::Other));
    assert_eq!(kind("part").await.unwrap(), Some(RelationKind::Table));
    assert_eq!(kind("missing").await.unwrap(), None);
    // Parameters, not string splicing.
    assert_eq!(
        conn.relation_kind("x' or '1'='1", "Tbl").await.unwrap(),
        None
    );

    let columns = conn.columns(&schema.name, "Tbl").await.unwrap();
    let expected: Vec<(String, String)> = [
        ("id", "bigint"),
        ("Mixed Case", "character varying(10)"),
        ("at", "timestamp with time zone"),
        ("tags", "text[]"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(columns, expected);
    assert!(conn
        .columns(&schema.name, "missing")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn cancel_stops_a_running_query_promptly() {
    let conn = connect().await;
    let handle = conn.cancel_handle();
    let started = Instant::now();
    let (result, cancelled) = tokio::join!(conn.execute("select pg_sleep(10)"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle.cancel().await
    });
    cancelled.unwrap();
    let err = result.unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert_eq!(err.sqlstate(), Some("57014"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    // From another task too, and the connection stays usable.
    let handle = conn.cancel_handle();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle.cancel().await
    });
    let err = conn.query("select pg_sleep(10)").await.unwrap_err();
    assert!(err.is_cancelled());
    canceller.await.unwrap().unwrap();
    assert_eq!(rows(&conn, "select 1").await, vec![vec![s("1")]]);
}

#[tokio::test]
async fn connection_errors_are_readable_and_never_show_the_password() {
    let secret = "pa55-very-secret";
    let cfg = ConnectionConfig {
        port: 1,
        password: Some(secret.to_string()),
        connect_timeout: Some(Duration::from_secs(3)),
        ..config()
    };
    let err = Connection::connect(&cfg).await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), PgErrorKind::Connect);
    assert!(
        text.contains(&format!("{}:1/{}", cfg.host, cfg.dbname)),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(
        !text.contains(secret) && !format!("{err:?}").contains(secret),
        "{text}"
    );
    assert!(!format!("{cfg:?}").contains(secret));

    let missing_db = ConnectionConfig {
        dbname: "mart_no_such_database".to_string(),
        password: Some(secret.to_string()),
        ..config()
    };
    let err = Connection::connect(&missing_db).await.unwrap_err();
    assert_eq!(err.kind(), PgErrorKind::Connect);
    assert_eq!(err.sqlstate(), Some("3D000"));
    assert!(err.to_string().contains("mart_no_such_database"), "{err}");
    assert!(!format!("{err:?}").contains(secret));

    let tls = ConnectionConfig {
        sslmode: Some("require".to_string()),
        ..config()
    };
    let err = Connection::connect(&tls).await.unwrap_err();
    assert_eq!(err.kind(), PgErrorKind::Tls);
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[tokio::test]
async fn other_database_connects() {
    let cfg = ConnectionConfig {
        dbname: "test".to_string(),
        ..config()
    };
    // The `test` database exists on the development machine; skip silently elsewhere.
    if let Ok(conn) = Connection::connect(&cfg).await {
        assert_eq!(
            rows(&conn, "select current_database()").await,
            vec![vec![s("test")]]
        );
    }
}
