//! Seeds end to end: inference, odd headers, NULLs as dbt reads them, delimiter, batches
//! with progress, and errors that name the line and column with nothing loaded.

use crate::harness::TestProject;

fn columns(p: &TestProject, table: &str) -> Vec<String> {
    p.rows(&format!(
        "select column_name || ' ' || data_type from information_schema.columns \
             where table_schema = '{}' and table_name = '{table}' order by ordinal_position",
        p.schema
    ))
}

#[test]
fn inference_odd_headers_nulls_and_delimiter() {
    let p = TestProject::with_files(
        "seed_types",
        &[
            (
                "seeds/people.csv",
                "id,\"First Name\",amount,flag,day,at,\"note \"\"x\"\"\"\n\
                 1,Ann,1.5,true,2024-01-01,2024-01-01 10:00:00,\"a, b\"\n\
                 2,,\"\",false,,,\"\"\n\
                 3,null,2,t,2024-02-29,2024-01-02T00:00:00,\"   \"\n",
            ),
            ("seeds/semi.csv", "code;label\n007;a;b\n"),
            ("seeds/upper.csv", "ID,Full Name\n1,x\n"),
            ("seeds/folded.csv", "ID,Full Name\n1,x\n"),
            (
                "seeds/_seeds.yml",
                "seeds:\n  - name: semi\n    config:\n      delimiter: \";\"\n  - name: people\n    config:\n      quote_columns: true\n  - name: folded\n    config:\n      quote_columns: false\n",
            ),
        ],
    );
    // A field too many on semi.csv: nothing is created.
    let out = p.mart_expect(&["seed"], 1);
    assert!(
        out.stdout
            .contains("line 2: expected 2 fields (as many as header columns) but found 3"),
        "{}",
        out.stdout
    );
    p.write("seeds/semi.csv", "code;label\n007;\"a;b\"\n");
    p.mart_expect(&["seed"], 0);
    assert_eq!(
        columns(&p, "people"),
        [
            "id integer",
            "First Name text",
            "amount double precision",
            "flag text",
            "day date",
            "at timestamp without time zone",
            "note \"x\" text"
        ]
    );
    assert_eq!(
        p.rows(&format!(
            "select * from \"{}\".people order by id",
            p.schema
        )),
        [
            "1|Ann|1.5|true|2024-01-01|2024-01-01 10:00:00|a, b",
            "2|-|-|false|-|-|-",
            "3|-|2|t|2024-02-29|2024-01-02 00:00:00|-",
        ]
    );
    // dbt-postgres quotes seed columns by default: names stay as written.
    assert_eq!(columns(&p, "upper"), ["ID integer", "Full Name text"]);
    // quote_columns: false: what PostgreSQL makes of unquoted names (dbt's DDL would fail
    // on the space; mart quotes the folded name).
    assert_eq!(columns(&p, "folded"), ["id integer", "full name text"]);
    // As dbt types it: leading zeros make no text.
    assert_eq!(columns(&p, "semi"), ["code integer", "label text"]);
    assert_eq!(
        p.rows(&format!("select * from \"{}\".semi", p.schema)),
        ["7|a;b"]
    );
}

#[test]
fn batches_progress_and_a_bad_value_in_a_later_batch() {
    let mut csv = String::from("id,code\n");
    for i in 0..600_000 {
        csv.push_str(&format!("{i},{}\n", i % 1000));
    }
    let p = TestProject::with_files(
        "seed_batches",
        &[
            ("seeds/big.csv", &csv),
            (
                "seeds/_seeds.yml",
                "seeds:\n  - name: big\n    config:\n      column_types: {code: integer}\n",
            ),
        ],
    );
    let out = p.mart_expect(&["seed"], 0);
    let progress: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("rows loaded"))
        .map(|l| l[l.find("big").unwrap()..].trim())
        .collect();
    assert_eq!(
        progress,
        [
            "big: 250000 rows loaded (40% of the file)",
            "big: 500000 rows loaded (83% of the file)",
            "big: 600000 rows loaded (100% of the file)"
        ]
    );
    assert_eq!(p.count(&format!("\"{}\".big", p.schema)), 600_000);

    // Row 300,001 (line 300,002, in the second batch) is no integer: the error names the
    // line and column, and the table keeps its rows.
    let bad = csv.replacen("300000,0\n", "300000,zero\n", 1);
    p.write("seeds/big.csv", &bad);
    let out = p.mart_expect(&["seed"], 1);
    assert!(
        out.stdout.contains("seeds/big.csv:300002:")
            && out.stdout.contains("line 300002, column 2 ('code', integer): invalid input syntax for type integer: \"zero\""),
        "{}",
        out.stdout
    );
    assert_eq!(p.count(&format!("\"{}\".big", p.schema)), 600_000);
}

#[test]
fn error_line_counts_quoted_line_breaks() {
    let p = TestProject::with_files(
        "seed_multiline",
        &[
            ("seeds/notes.csv", "id,note\n1,\"two\nlines\"\nx,plain\n"),
            (
                "seeds/_seeds.yml",
                "seeds:\n  - name: notes\n    config:\n      column_types: {id: integer}\n",
            ),
        ],
    );
    let out = p.mart_expect(&["seed"], 1);
    assert!(
        out.stdout.contains("seeds/notes.csv:4:")
            && out.stdout.contains("line 4, column 1 ('id', integer)"),
        "{}",
        out.stdout
    );
    assert!(p.relations().is_empty(), "nothing is half-loaded");
}

#[test]
fn reload_truncates_full_refresh_recreates() {
    let p = TestProject::with_files(
        "seed_reload",
        &[("seeds/codes.csv", "code,label\n1,a\n2,b\n")],
    );
    let s = p.schema.clone();
    let oid = |p: &TestProject| p.rows(&format!("select '\"{s}\".codes'::regclass::oid"));
    p.mart_expect(&["seed"], 0);
    let first = oid(&p);
    p.execute(&format!(
        "create view \"{s}\".codes_view as select * from \"{s}\".codes"
    ));
    // Same columns: truncate and reload; the table (and the view on it) stay.
    p.write("seeds/codes.csv", "code,label\n1,a\n2,b\n3,c\n");
    p.mart_expect(&["seed"], 0);
    assert_eq!(oid(&p), first);
    assert_eq!(p.count(&format!("\"{s}\".codes_view")), 3);
    // --full-refresh recreates the table; the view dropped with it is recreated too
    // (where dbt would lose it).
    p.write("seeds/codes.csv", "code,label\n1,a\n2,b\n3,c\n4,d\n");
    let out = p.mart_expect(&["seed", "--full-refresh"], 0);
    assert!(
        out.stdout.contains(&format!(
            "recreated 1 dependent view dropped by the rebuild of \"postgres\".\"{s}\".\"codes\": \"{s}\".\"codes_view\""
        )),
        "{}",
        out.stdout
    );
    assert_ne!(oid(&p), first);
    assert_eq!(
        p.relations()
            .into_iter()
            .map(|(_, n, _)| n)
            .collect::<Vec<_>>(),
        ["codes", "codes_view"]
    );
    assert_eq!(p.count(&format!("\"{s}\".codes_view")), 4);
    p.execute(&format!("drop view \"{s}\".codes_view"));
    // Changed columns recreate it too.
    let second = oid(&p);
    p.write("seeds/codes.csv", "code,label,extra\n1,a,x\n");
    p.mart_expect(&["seed"], 0);
    assert_ne!(oid(&p), second);
    assert_eq!(p.rows(&format!("select * from \"{s}\".codes")), ["1|a|x"]);
}

/// A file whose rows after the first chunk (a mebibyte) change a column's type: the COPY
/// into the table typed from the first chunk stops, and the seed loads again with the
/// types of the whole file, as if they had been known from the start.
#[test]
fn a_type_changed_by_later_rows_reloads_with_the_whole_files_types() {
    let mut csv = String::from("id,amount,note\n");
    for i in 0..150_000 {
        let amount = if i == 140_000 {
            "2.5".to_string()
        } else {
            (i % 100).to_string()
        };
        let note = if i % 3 == 0 { "null" } else { "x" };
        csv.push_str(&format!("{i},{amount},{note}\n"));
    }
    assert!(
        csv.len() > 3 << 19,
        "the changing row comes after the first chunk"
    );
    let p = TestProject::with_files("seed_retype", &[("seeds/wide.csv", &csv)]);
    p.mart_expect(&["seed"], 0);
    let s = &p.schema;
    assert_eq!(
        columns(&p, "wide"),
        ["id integer", "amount double precision", "note text"]
    );
    assert_eq!(
        p.rows(&format!(
            "select count(*), count(note), sum(amount) from \"{s}\".wide"
        )),
        ["150000|100000|7425002.5"]
    );
    // Loaded again unchanged: same columns, so truncated and reloaded in place.
    p.mart_expect(&["seed"], 0);
    assert_eq!(p.count(&format!("\"{s}\".wide")), 150_000);
}

/// A bad row far into the file stops the COPY that already streamed the rows before it:
/// the error names the file and line, and nothing is loaded.
#[test]
fn a_bad_row_after_streamed_chunks_names_its_line_and_loads_nothing() {
    let mut csv = String::from("id,label\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{i},\"a, \"\"b\"\"\"\n"));
    }
    let bad = format!("{csv}100000\n100001,x\n");
    let p = TestProject::with_files(
        "seed_late_error",
        &[
            ("seeds/late.csv", &bad),
            ("seeds/header_only.csv", "id,label\n"),
            ("seeds/empty.csv", ""),
        ],
    );
    let out = p.mart_expect(&["seed", "-s", "late"], 1);
    assert!(
        out.stdout.contains("seeds/late.csv")
            && out
                .stdout
                .contains("line 100002: expected 2 fields (as many as header columns) but found 1"),
        "{}",
        out.stdout
    );
    assert!(p.relations().is_empty(), "nothing is half-loaded");
    // The empty file is an error; a header alone makes an empty table of integers.
    let out = p.mart_expect(&["seed", "-s", "empty"], 1);
    assert!(
        out.stdout.contains("seeds/empty.csv")
            && out
                .stdout
                .contains("the CSV file is empty: a seed needs a header line naming its columns"),
        "{}",
        out.stdout
    );
    p.mart_expect(&["seed", "-s", "header_only"], 0);
    assert_eq!(columns(&p, "header_only"), ["id integer", "label integer"]);
    assert_eq!(p.count(&format!("\"{}\".header_only", p.schema)), 0);
    // Fixed, the quoted values load as written.
    p.write("seeds/late.csv", &csv);
    p.mart_expect(&["seed", "-s", "late"], 0);
    assert_eq!(
        p.rows(&format!(
            "select count(*), min(label), max(label) from \"{}\".late",
            p.schema
        )),
        ["100000|a, \"b\"|a, \"b\""]
    );
}
