//! CSV seeds: header and row checks, type inference, seed DDL and the COPY statement.
//!
//! The CSV dialect is PostgreSQL's `COPY ... (FORMAT csv)`: `"` quotes, `""` escapes a quote
//! inside a quoted field. NULLs are dbt's: an empty field (quoted or not), a field of only
//! blanks and the word `null` (any case) are NULL in every column. The bytes of the file are
//! streamed to COPY unchanged (after [`copy_payload`]) unless blanks or `null` words need
//! [`blank_null_words`], so every check here is about what COPY will make of them.
//!
//! [`SeedReader`] reads a file once, in chunks of whole rows, checking and inferring as it
//! goes: a loader streams each chunk to COPY while it reads the next, into a table created
//! from the types of the first chunk, and starts again (with the final types) in the rare
//! file whose later rows change a column's type.

mod infer;
mod reader;

use std::collections::BTreeMap;

use crate::quote::{quote_ident, quote_literal};
use crate::relation::{Relation, MAX_IDENTIFIER_BYTES};

pub use reader::{blank_null_words, copy_payload, SeedChunk, SeedReader};

/// One seed column: its name as in the header and its PostgreSQL type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedColumn {
    pub name: String,
    pub data_type: String,
}

/// What [`infer_seed_columns`] found: the columns in header order and the number of data rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSchema {
    pub columns: Vec<SeedColumn>,
    pub row_count: usize,
}

/// Rows between progress reports of a long seed.
pub const SEED_BATCH_ROWS: usize = 250_000;

/// dbt's NULL words: an empty or blank field, or `null` in any case.
fn is_null_word(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.is_empty() || trimmed.eq_ignore_ascii_case("null")
}

/// A CSV seed that COPY could not load as intended. Lines are 1-based physical lines of the
/// file; columns are 1-based positions in the header.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("the CSV file is empty: a seed needs a header line naming its columns")]
    Empty,
    #[error("invalid delimiter {}: use one ASCII character other than '\"', carriage return or newline", (*.0 as char).escape_default())]
    InvalidDelimiter(u8),
    #[error("line {line}: header column {column} is empty; give every seed column a name")]
    EmptyHeader { line: u64, column: usize },
    #[error("line {line}: column name '{name}' appears twice (columns {first} and {second}); column names must be unique")]
    DuplicateHeader {
        line: u64,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("line {line}: column names '{first}' and '{second}' are the same in their first {max} bytes, which is all PostgreSQL keeps; shorten one of them", max = MAX_IDENTIFIER_BYTES)]
    TruncatedHeaderCollision {
        line: u64,
        first: String,
        second: String,
    },
    #[error(
        "line {line}: expected {expected} fields (as many as header columns) but found {found}"
    )]
    WrongFieldCount {
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("line {line}, column {column}{}: the value is not valid UTF-8; save the file as UTF-8", .name.as_ref().map(|n| format!(" ('{n}')")).unwrap_or_default())]
    InvalidUtf8 {
        line: u64,
        column: usize,
        name: Option<String>,
    },
    #[error(
        "line {line}: blank line between rows; PostgreSQL's COPY reads it as a row, remove it"
    )]
    BlankLine { line: u64 },
    #[error("line {line}: the quoted field starting here is never closed")]
    UnterminatedQuote { line: u64 },
    #[error("line {line}: a line holding only \\. marks the end of data for PostgreSQL's COPY; quote it as \"\\.\"")]
    EndOfDataMarker { line: u64 },
    #[error("CSV error: {0}")]
    Csv(String),
}

/// Reads the header and every row of `csv` and returns the seed's columns and row count.
///
/// A column's type comes from `column_types` (keyed by the header name, case-sensitive;
/// keys naming no column are ignored) or is inferred from its non-empty values, first
/// match wins, as dbt-postgres types the same CSV: `integer` (fits i32; leading zeros
/// allowed), `bigint` (fits i64, where dbt would fail to load), `double precision` (any
/// other number), `boolean` (`true`/`false`, any case), `date` (YYYY-MM-DD, a real
/// calendar day), `timestamp` (YYYY-MM-DD HH:MM:SS, or with `T` and up to 6 fractional
/// digits; dates mixed in are fine), else `text`. Empty fields are NULL and do not take
/// part; an all-empty column is `integer`. (dbt also reads `2.0` and `1e5` as integers
/// and strips `$`, `%` and thousands separators; mart loads the text as written with
/// COPY, so those stay `double precision` and `text`.)
///
/// Rejected (with the line, and the column where it matters): an empty file, an empty or
/// duplicate header name, a row with the wrong number of fields, invalid UTF-8, a blank
/// line between rows (trailing blank lines are fine: see [`copy_payload`]), an unclosed
/// quote, and a single-column line `\.` (COPY's end-of-data marker).
pub fn infer_seed_columns(
    csv: &[u8],
    delimiter: u8,
    column_types: &BTreeMap<String, String>,
) -> Result<SeedSchema, SeedError> {
    let mut reader = SeedReader::new(copy_payload(csv), delimiter, column_types)?;
    let mut row_count = 0;
    while let Some(chunk) = reader.next_chunk(usize::MAX, usize::MAX)? {
        row_count = chunk.rows;
    }
    Ok(SeedSchema {
        columns: reader.columns(),
        row_count,
    })
}

/// `create table R ("col" type, ...)`.
pub fn create_seed_table(target: &Relation, columns: &[SeedColumn]) -> String {
    let columns: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), c.data_type))
        .collect();
    format!("create table {target} ({})", columns.join(", "))
}

/// `analyze R`: planner statistics right after the load, so the first models reading a
/// fresh seed are not planned on guesses (autovacuum gets to it only later).
pub fn analyze_table(target: &Relation) -> String {
    format!("analyze {target}")
}

/// `truncate table R`.
pub fn truncate_table(target: &Relation) -> String {
    format!("truncate table {target}")
}

/// `copy R ("col", ...) from stdin with (format csv, header true, delimiter 'x', force_null (...))`.
///
/// An empty field is NULL, quoted (`""`) or not, in every column, as in dbt.
pub fn copy_from_stdin(target: &Relation, columns: &[SeedColumn], delimiter: u8) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
    let force_null = &names;
    let delimiter = if delimiter.is_ascii_graphic() || delimiter == b' ' {
        quote_literal(&char::from(delimiter).to_string())
    } else {
        format!("E'\\x{delimiter:02x}'")
    };
    let mut sql = format!(
        "copy {target} ({}) from stdin with (format csv, header true, delimiter {delimiter}",
        names.join(", ")
    );
    if !force_null.is_empty() {
        sql.push_str(&format!(", force_null ({})", force_null.join(", ")));
    }
    sql.push(')');
    sql
}

fn header_names(record: &csv::ByteRecord, line: u64) -> Result<Vec<String>, SeedError> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (index, field) in record.iter().enumerate() {
        let column = index + 1;
        let name = std::str::from_utf8(field).map_err(|_| SeedError::InvalidUtf8 {
            line,
            column,
            name: None,
        })?;
        if name.trim().is_empty() {
            return Err(SeedError::EmptyHeader { line, column });
        }
        for (other_index, other) in names.iter().enumerate() {
            if other == name {
                return Err(SeedError::DuplicateHeader {
                    line,
                    name: name.to_string(),
                    first: other_index + 1,
                    second: column,
                });
            }
            if truncated(other) == truncated(name) {
                return Err(SeedError::TruncatedHeaderCollision {
                    line,
                    first: other.clone(),
                    second: name.to_string(),
                });
            }
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn truncated(name: &str) -> &str {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name;
    }
    let mut end = MAX_IDENTIFIER_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(csv: &str) -> Result<SeedSchema, SeedError> {
        infer_seed_columns(csv.as_bytes(), b',', &BTreeMap::new())
    }

    fn types(csv: &str) -> Vec<String> {
        infer(csv)
            .unwrap()
            .columns
            .into_iter()
            .map(|c| c.data_type)
            .collect()
    }

    #[test]
    fn given_types_win_and_unknown_keys_are_ignored() {
        let mut given = BTreeMap::new();
        given.insert("Code".to_string(), "varchar(10)".to_string());
        given.insert("missing".to_string(), "int".to_string());
        let schema = infer_seed_columns(b"Code,code\n007,1\n", b',', &given).unwrap();
        assert_eq!(
            schema.columns,
            vec![
                SeedColumn {
                    name: "Code".into(),
                    data_type: "varchar(10)".into()
                },
                SeedColumn {
                    name: "code".into(),
                    data_type: "integer".into()
                },
            ]
        );
    }

    #[test]
    fn quoting_delimiters_and_line_endings() {
        let csv = "id;\"na;me\";\"say \"\"hi\"\"\"\r\n1;\"a;b\";\"multi\r\nline\"\r\n2;;\"\"\r\n";
        let schema = infer_seed_columns(csv.as_bytes(), b';', &BTreeMap::new()).unwrap();
        assert_eq!(schema.row_count, 2);
        let names: Vec<_> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "na;me", "say \"hi\""]);
        assert_eq!(
            types("a,b\n\"1\",x\n"),
            ["integer", "text"],
            "quotes do not change inference"
        );
    }

    #[test]
    fn bom_header_only_and_trailing_blank_lines() {
        let schema = infer("\u{feff}a,b\n").unwrap();
        assert_eq!(schema.row_count, 0);
        assert_eq!(schema.columns[0].name, "a");
        assert_eq!(schema.columns[0].data_type, "integer");
        assert_eq!(infer("a,b\n1,2\n\n\r\n").unwrap().row_count, 1);
        assert_eq!(infer("a,b\n1,2").unwrap().row_count, 1);
        assert_eq!(copy_payload(b"a,b\n1,2\n\n\r\n"), b"a,b\n1,2");
        assert_eq!(copy_payload(b"a,b\n1,\"x\n\"\n"), b"a,b\n1,\"x\n\"");
        assert_eq!(copy_payload(b"\n\n"), b"");
    }

    #[test]
    fn malformed_csv_errors_name_the_line() {
        let cases: [(&[u8], &str); 12] = [
            (b"", "empty"),
            (b"a,,b\n", "empty header"),
            (b"a,b,a\n", "duplicate header"),
            (b"a,b\n1,2\n3\n", "too few fields"),
            (
                b"a,b\n1,2\n\"x\ny\",2\n3,4,5\n",
                "too many fields after a multi-line field",
            ),
            (b"a,b\r\n1,2\r\n3,4,5\r\n", "crlf line numbers"),
            (b"a,b\n1,2\n\n3,4\n", "blank line"),
            (b"a,b\r\n1,2\r\n\r\n3,4\r\n", "blank crlf line"),
            (b"a,b\n1,2\n3,\"oops\n4,5\n", "unterminated quote"),
            (b"a\n1\n\\.\n2\n", "end-of-data marker"),
            (b"a,b\n1,\"x\xff\"\n", "invalid utf-8 in a row"),
            (b"a,\xffb\n", "invalid utf-8 in the header"),
        ];
        let mut out = String::new();
        for (csv, what) in cases {
            let err = infer_seed_columns(csv, b',', &BTreeMap::new()).expect_err(what);
            out.push_str(&format!("{what}: {err}\n"));
        }
        insta::assert_snapshot!(out);
        let bad = infer_seed_columns(b"a\n", b'"', &BTreeMap::new()).unwrap_err();
        assert_eq!(bad, SeedError::InvalidDelimiter(b'"'));
        insta::assert_snapshot!(bad.to_string(), @r#"invalid delimiter \": use one ASCII character other than '"', carriage return or newline"#);
        let long_a = format!("{}a", "x".repeat(63));
        let long_b = format!("{}b", "x".repeat(63));
        let err = infer(&format!("{long_a},{long_b}\n")).unwrap_err();
        assert!(matches!(
            err,
            SeedError::TruncatedHeaderCollision { line: 1, .. }
        ));
    }

    #[test]
    fn quoted_dot_is_fine() {
        assert_eq!(infer("a\n\"\\.\"\n").unwrap().row_count, 1);
        assert_eq!(infer("a,b\n\\.,1\n").unwrap().row_count, 1);
    }

    #[test]
    fn seed_ddl_snapshots() {
        let target = Relation::new(None, "raw", "Country Codes");
        let schema = infer_seed_columns(
            b"id,\"Name \"\"quoted\"\"\",Amount,active,day,at,note\n1,x,1.5,true,2024-01-01,2024-01-01 00:00:00,\n",
            b',',
            &BTreeMap::new(),
        )
        .unwrap();
        insta::assert_snapshot!(format!(
            "{}\n{}\n{}\n{}",
            create_seed_table(&target, &schema.columns),
            truncate_table(&target),
            copy_from_stdin(&target, &schema.columns, b','),
            copy_from_stdin(&target, &schema.columns[6..], b'\t'),
        ));
    }

    #[test]
    fn seeds_are_analyzed_by_their_quoted_name() {
        let target = Relation::new(None, "raw", "Country Codes");
        assert_eq!(analyze_table(&target), r#"analyze "raw"."Country Codes""#);
    }

    #[test]
    fn large_input_counts_rows() {
        let mut csv = String::from("id,v\n");
        for i in 0..10_000i64 {
            csv.push_str(&format!("{i},{}\n", i * 3_000_000));
        }
        let schema = infer(&csv).unwrap();
        assert_eq!(schema.row_count, 10_000);
        let types: Vec<_> = schema
            .columns
            .iter()
            .map(|c| c.data_type.as_str())
            .collect();
        assert_eq!(types, ["integer", "bigint"]);
    }
}
