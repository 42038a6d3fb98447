//! CSV seeds: header and row checks, type inference, seed DDL and the COPY statement.
//!
//! The CSV dialect is PostgreSQL's `COPY ... (FORMAT csv)`: `"` quotes, `""` escapes a quote
//! inside a quoted field. NULLs are dbt's: an empty field (quoted or not), a field of only
//! blanks and the word `null` (any case) are NULL in every column. The bytes of the file are
//! streamed to COPY unchanged (after [`copy_payload`]) unless blanks or `null` words need
//! [`blank_null_words`], so every check here is about what COPY will make of them.

use std::collections::BTreeMap;

use crate::quote::{quote_ident, quote_literal};
use crate::relation::{Relation, MAX_IDENTIFIER_BYTES};

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
    /// Where each COPY batch starts; the first holds the header.
    pub batches: Vec<SeedBatch>,
    /// Some field is only blanks or the word `null`: dbt reads it as NULL, COPY would not,
    /// so the file goes through [`blank_null_words`] first.
    pub has_null_words: bool,
}

/// A run of rows loaded by one COPY statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedBatch {
    /// Byte offset in the file.
    pub start: usize,
    /// The 1-based physical line it starts on.
    pub line: u64,
    /// Data rows in the batch.
    pub rows: usize,
}

/// Rows per COPY statement: large enough that the per-statement cost vanishes, small enough
/// that a long file reports progress.
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
    infer_seed_batches(csv, delimiter, column_types, SEED_BATCH_ROWS)
}

/// [`infer_seed_columns`] with `batch_rows` rows per [`SeedBatch`]. A large file is read
/// in parts on every core (a long seed's inference is most of `mart seed`'s own time).
pub fn infer_seed_batches(
    csv: &[u8],
    delimiter: u8,
    column_types: &BTreeMap<String, String>,
    batch_rows: usize,
) -> Result<SeedSchema, SeedError> {
    let parts = if csv.len() >= PARALLEL_MIN_BYTES {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    infer_in_parts(csv, delimiter, column_types, batch_rows, parts)
}

/// Files smaller than this are read on one core.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

fn infer_in_parts(
    csv: &[u8],
    delimiter: u8,
    column_types: &BTreeMap<String, String>,
    batch_rows: usize,
    parts: usize,
) -> Result<SeedSchema, SeedError> {
    let batch_rows = batch_rows.max(1);
    if !delimiter.is_ascii() || matches!(delimiter, b'"' | b'\r' | b'\n' | 0) {
        return Err(SeedError::InvalidDelimiter(delimiter));
    }
    check_quotes(csv)?;

    let mut lines = LineCounter::default();
    let mut reader = reader(csv, delimiter);
    let mut record = csv::ByteRecord::new();

    // Header.
    let before = reader.position().byte();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| SeedError::Csv(e.to_string()))?
    {
        return Err(SeedError::Empty);
    }
    let start = record_start(csv, before);
    let header_line = lines.line_at(csv, start);
    let names = header_names(&record, header_line)?;
    let inference: Vec<Inference> = names
        .iter()
        .map(|name| {
            if column_types.contains_key(name) {
                Inference::done()
            } else {
                Inference::default()
            }
        })
        .collect();
    let body = usize::try_from(reader.position().byte()).unwrap_or(csv.len());

    // Rows, in parts that start at line breaks outside quotes.
    let splits = split_points(csv, body, parts);
    let mut ranges = vec![(body, lines)];
    ranges.extend(
        splits
            .iter()
            .map(|&(offset, breaks)| (offset, LineCounter { offset, breaks })),
    );
    let ends: Vec<usize> = splits.iter().map(|&(o, _)| o).chain([csv.len()]).collect();
    let rows = RowCheck {
        csv,
        delimiter,
        names: &names,
        inference: &inference,
    };
    let results: Vec<Result<PartRows, SeedError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .zip(&ends)
            .map(|((from, lines), &to)| {
                let rows = &rows;
                scope.spawn(move || rows.read(from..to, lines))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });

    let mut merged = PartRows {
        inference,
        rows: Vec::new(),
        has_null_words: false,
    };
    // Parts in file order: the first error is the one nearest the start of the file.
    for part in results {
        let part = part?;
        for (all, seen) in merged.inference.iter_mut().zip(&part.inference) {
            all.merge(seen);
        }
        merged.rows.extend(part.rows);
        merged.has_null_words |= part.has_null_words;
    }
    // The first batch holds the header too.
    let mut batches = vec![SeedBatch {
        start: 0,
        line: 1,
        rows: 0,
    }];
    for (i, &(start, line)) in merged.rows.iter().enumerate() {
        if i > 0 && i.is_multiple_of(batch_rows) {
            batches.push(SeedBatch {
                start,
                line,
                rows: 0,
            });
        }
        if let Some(batch) = batches.last_mut() {
            batch.rows += 1;
        }
    }

    let columns = names
        .into_iter()
        .zip(merged.inference)
        .map(|(name, inf)| {
            let data_type = match column_types.get(&name) {
                Some(given) => given.clone(),
                None => inf.data_type().to_string(),
            };
            SeedColumn { name, data_type }
        })
        .collect();
    Ok(SeedSchema {
        columns,
        row_count: merged.rows.len(),
        batches,
        has_null_words: merged.has_null_words,
    })
}

fn reader(csv: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(csv)
}

/// Where to cut the rows after `from` into `parts` parts: just past a line feed that is
/// outside quotes (PostgreSQL's rule, as in [`check_quotes`]), with the line breaks
/// before it.
fn split_points(csv: &[u8], from: usize, parts: usize) -> Vec<(usize, u64)> {
    let mut splits = Vec::new();
    if parts < 2 || from >= csv.len() {
        return splits;
    }
    let targets: Vec<usize> = (1..parts)
        .map(|i| from + (csv.len() - from) * i / parts)
        .collect();
    let (mut in_quote, mut breaks) = (false, 0u64);
    let mut next = targets.iter().copied().peekable();
    for (i, &b) in csv.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'\n' => breaks += 1,
            b'\r' if csv.get(i + 1) != Some(&b'\n') => breaks += 1,
            _ => {}
        }
        let Some(&target) = next.peek() else { break };
        if b == b'\n' && !in_quote && i >= target && i >= from && i + 1 < csv.len() {
            splits.push((i + 1, breaks));
            while next.next_if(|&t| t <= i).is_some() {}
        }
    }
    splits
}

/// What one part of the rows adds up to.
struct PartRows {
    inference: Vec<Inference>,
    /// Where each row starts: byte offset and line.
    rows: Vec<(usize, u64)>,
    has_null_words: bool,
}

/// The checks and inference of the rows, shared by every part.
struct RowCheck<'a> {
    csv: &'a [u8],
    delimiter: u8,
    names: &'a [String],
    inference: &'a [Inference],
}

impl RowCheck<'_> {
    /// Reads the rows in `range` (whole records); `lines` counts from its start.
    fn read(
        &self,
        range: std::ops::Range<usize>,
        mut lines: LineCounter,
    ) -> Result<PartRows, SeedError> {
        let csv = self.csv;
        let base = range.start;
        let mut reader = reader(&csv[range], self.delimiter);
        let mut record = csv::ByteRecord::new();
        let expected = self.names.len();
        let mut part = PartRows {
            inference: self.inference.to_vec(),
            rows: Vec::new(),
            has_null_words: false,
        };
        let offset = |p: u64| base + usize::try_from(p).unwrap_or(csv.len());
        let mut after = 0;
        loop {
            let before = after;
            if !reader
                .read_byte_record(&mut record)
                .map_err(|e| SeedError::Csv(e.to_string()))?
            {
                break;
            }
            after = reader.position().byte();
            let start = record_start(csv, offset(before) as u64);
            if let Some(blank) = blank_line_start(csv, offset(before) as u64, start) {
                return Err(SeedError::BlankLine {
                    line: lines.line_at(csv, blank),
                });
            }
            let line = lines.line_at(csv, start);
            if record.len() != expected {
                return Err(SeedError::WrongFieldCount {
                    line,
                    expected,
                    found: record.len(),
                });
            }
            if expected == 1 && &record[0] == b"\\." && csv.get(start) == Some(&b'\\') {
                return Err(SeedError::EndOfDataMarker { line });
            }
            for (index, (field, inf)) in record.iter().zip(part.inference.iter_mut()).enumerate() {
                let Ok(value) = std::str::from_utf8(field) else {
                    return Err(SeedError::InvalidUtf8 {
                        line,
                        column: index + 1,
                        name: Some(self.names[index].clone()),
                    });
                };
                if is_null_word(value) {
                    part.has_null_words |= !value.is_empty();
                    continue;
                }
                inf.observe(value);
            }
            part.rows.push((start, line));
        }
        Ok(part)
    }
}

/// `csv` with every field that is only blanks or the word `null` made empty (NULL for
/// COPY), the header kept as it is. Records and line breaks stay where they were, so COPY's
/// line numbers still match the file's.
pub fn blank_null_words(csv: &[u8], delimiter: u8) -> Result<Vec<u8>, SeedError> {
    let csv_error = |e: csv::Error| SeedError::Csv(e.to_string());
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(csv.len()));
    let mut record = csv::ByteRecord::new();
    let mut header = true;
    while reader.read_byte_record(&mut record).map_err(csv_error)? {
        if header {
            writer.write_byte_record(&record).map_err(csv_error)?;
            header = false;
            continue;
        }
        let fields = record.iter().map(|f| match std::str::from_utf8(f) {
            Ok(v) if is_null_word(v) => &b""[..],
            _ => f,
        });
        writer.write_record(fields).map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| SeedError::Csv(e.to_string()))
}

/// The bytes to stream to [`copy_from_stdin`]'s statement: `csv` without its trailing
/// carriage returns and newlines, so trailing blank lines (which the CSV reader skips) do
/// not reach COPY as rows.
pub fn copy_payload(csv: &[u8]) -> &[u8] {
    let end = csv
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    &csv[..end]
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
    copy_batch_from_stdin(target, columns, delimiter, true)
}

/// [`copy_from_stdin`] for one [`SeedBatch`]: only the first has the header line.
pub fn copy_batch_from_stdin(
    target: &Relation,
    columns: &[SeedColumn],
    delimiter: u8,
    header: bool,
) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote_ident(&c.name)).collect();
    let force_null = &names;
    let delimiter = if delimiter.is_ascii_graphic() || delimiter == b' ' {
        quote_literal(&char::from(delimiter).to_string())
    } else {
        format!("E'\\x{delimiter:02x}'")
    };
    let mut sql = format!(
        "copy {target} ({}) from stdin with (format csv, header {header}, delimiter {delimiter}",
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

/// The first byte of a record the reader started scanning at `from`: csv skips blank lines
/// (runs of CR/LF), COPY does not.
fn record_start(csv: &[u8], from: u64) -> usize {
    let from = usize::try_from(from).unwrap_or(csv.len()).min(csv.len());
    csv[from..]
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(csv.len(), |i| from + i)
}

/// When the bytes between the previous record's end (`from`, just past the first byte of its
/// terminator) and the next record's `start` hold a whole empty line, the offset of that line.
fn blank_line_start(csv: &[u8], from: u64, start: usize) -> Option<usize> {
    let mut p = usize::try_from(from).unwrap_or(csv.len()).min(start);
    // The reader stops after the CR of a CRLF terminator; its LF is not a blank line.
    if p > 0 && csv[p - 1] == b'\r' && csv.get(p) == Some(&b'\n') {
        p += 1;
    }
    (p < start).then_some(p)
}

/// PostgreSQL toggles "quoted" at every `"` (a doubled `""` toggles twice), so an odd count
/// means a quoted field runs to the end of the file. Names the line where it opened.
fn check_quotes(csv: &[u8]) -> Result<(), SeedError> {
    let mut in_quote = false;
    let mut opened_at = 0usize;
    for (i, &b) in csv.iter().enumerate() {
        if b == b'"' {
            if !in_quote {
                opened_at = i;
            }
            in_quote = !in_quote;
        }
    }
    if in_quote {
        let mut lines = LineCounter::default();
        return Err(SeedError::UnterminatedQuote {
            line: lines.line_at(csv, opened_at),
        });
    }
    Ok(())
}

/// Physical line numbers (LF, CRLF or a lone CR end a line), computed incrementally for
/// offsets given in increasing order.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: u64,
}

impl LineCounter {
    fn line_at(&mut self, csv: &[u8], offset: usize) -> u64 {
        let offset = offset.min(csv.len());
        if offset < self.offset {
            *self = LineCounter::default();
        }
        for i in self.offset..offset {
            match csv[i] {
                b'\n' => self.breaks += 1,
                b'\r' if csv.get(i + 1) != Some(&b'\n') => self.breaks += 1,
                _ => {}
            }
        }
        self.offset = offset;
        self.breaks + 1
    }
}

const INTEGER: u8 = 1;
const BIGINT: u8 = 1 << 1;
const NUMERIC: u8 = 1 << 2;
const BOOLEAN: u8 = 1 << 3;
const DATE: u8 = 1 << 4;
const TIMESTAMP: u8 = 1 << 5;
const ALL: u8 = INTEGER | BIGINT | NUMERIC | BOOLEAN | DATE | TIMESTAMP;

/// The types a column can still have, narrowed by every non-empty value.
#[derive(Clone)]
struct Inference {
    candidates: u8,
    seen: bool,
}

impl Default for Inference {
    fn default() -> Self {
        Inference {
            candidates: ALL,
            seen: false,
        }
    }
}

impl Inference {
    /// A column whose type is given: nothing to infer.
    fn done() -> Self {
        Inference {
            candidates: 0,
            seen: true,
        }
    }

    /// Takes in what another part of the same column observed.
    fn merge(&mut self, other: &Inference) {
        self.candidates &= other.candidates;
        self.seen |= other.seen;
    }

    fn observe(&mut self, value: &str) {
        if value.is_empty() || self.candidates == 0 {
            return;
        }
        self.seen = true;
        let mut keep = 0u8;
        if self.candidates & (INTEGER | BIGINT | NUMERIC) != 0 {
            keep |= number_kinds(value);
        }
        if self.candidates & BOOLEAN != 0 && is_boolean(value) {
            keep |= BOOLEAN;
        }
        if self.candidates & (DATE | TIMESTAMP) != 0 {
            keep |= temporal_kinds(value);
        }
        self.candidates &= keep;
    }

    fn data_type(&self) -> &'static str {
        // dbt types a column with no value at all as integer.
        if !self.seen {
            return "integer";
        }
        [
            (INTEGER, "integer"),
            (BIGINT, "bigint"),
            (NUMERIC, "double precision"),
            (BOOLEAN, "boolean"),
            (DATE, "date"),
            (TIMESTAMP, "timestamp"),
        ]
        .into_iter()
        .find(|(bit, _)| self.candidates & bit != 0)
        .map_or("text", |(_, name)| name)
    }
}

/// Which of integer/bigint/numeric `value` is: `[+-]digits[.digits][e[+-]digits]`, or
/// `.digits`.
fn number_kinds(value: &str) -> u8 {
    let bytes = value.as_bytes();
    let unsigned = match bytes.first() {
        Some(b'+' | b'-') => &bytes[1..],
        _ => bytes,
    };
    let int_len = unsigned.iter().take_while(|b| b.is_ascii_digit()).count();
    let (int_part, rest) = unsigned.split_at(int_len);
    if rest.is_empty() {
        if int_part.is_empty() {
            return 0;
        }
        return match value.parse::<i64>() {
            Ok(v) if i32::try_from(v).is_ok() => INTEGER | BIGINT | NUMERIC,
            Ok(_) => BIGINT | NUMERIC,
            Err(_) => NUMERIC,
        };
    }
    let mut rest = rest;
    let mut frac_len = 0;
    if rest.first() == Some(&b'.') {
        frac_len = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        rest = &rest[1 + frac_len..];
    }
    if int_part.is_empty() && frac_len == 0 {
        return 0;
    }
    if let Some(b'e' | b'E') = rest.first() {
        let exp = match rest.get(1) {
            Some(b'+' | b'-') => &rest[2..],
            _ => &rest[1..],
        };
        if exp.is_empty() || !exp.iter().all(u8::is_ascii_digit) {
            return 0;
        }
        rest = &[];
    }
    if rest.is_empty() {
        NUMERIC
    } else {
        0
    }
}

/// dbt's seeds take only `true` / `false` (any case) as booleans; `t`, `yes`... are text.
fn is_boolean(value: &str) -> bool {
    value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
}

/// DATE | TIMESTAMP for a valid `YYYY-MM-DD`, TIMESTAMP for a valid date followed by
/// `[ T]HH:MM:SS[.f{1,6}]`, else 0.
fn temporal_kinds(value: &str) -> u8 {
    let b = value.as_bytes();
    if b.len() < 10 || !is_date(&b[..10]) {
        return 0;
    }
    if b.len() == 10 {
        return DATE | TIMESTAMP;
    }
    // As dbt's seed types: fractional seconds only in the ISO form with `T`.
    let fraction = b[11..].contains(&b'.');
    match b[10] {
        b'T' if is_time(&b[11..]) => TIMESTAMP,
        b' ' if !fraction && is_time(&b[11..]) => TIMESTAMP,
        _ => 0,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn is_date(b: &[u8]) -> bool {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

fn is_time(b: &[u8]) -> bool {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8])) else {
        return false;
    };
    if h > 23 || m > 59 || s > 59 {
        return false;
    }
    match &b[8..] {
        [] => true,
        [b'.', frac @ ..] => (1..=6).contains(&frac.len()) && digits(frac).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(csv: &str) -> Result<SeedSchema, SeedError> {
        infer_seed_columns(csv.as_bytes(), b',', &BTreeMap::new())
    }

    fn types(csv: &str) -> Vec<String> {
        data_types(&infer(csv).unwrap())
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    fn data_types(schema: &SeedSchema) -> Vec<&str> {
        schema
            .columns
            .iter()
            .map(|c| c.data_type.as_str())
            .collect()
    }

    /// One column per case: values (one per line) → expected type.
    #[test]
    fn inference_table() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["1", "-2", "+3", "0", "2147483647", "-2147483648"],
                "integer",
            ),
            (&["2147483648"], "bigint"),
            (&["-2147483649", "1"], "bigint"),
            (&["9223372036854775807"], "bigint"),
            (&["9223372036854775808"], "double precision"),
            (&["1.5", "2"], "double precision"),
            (&[".5", "5.", "-0.25", "1e5", "2.5E-3"], "double precision"),
            (&["007", "010"], "integer"),
            (&["00.5"], "double precision"),
            (&["0.5", "0"], "double precision"),
            (&["1e"], "text"),
            (&["."], "text"),
            (&["-"], "text"),
            (&["1,5"], "text"), // never reached with ',' delimiter, but with ';' it is text
            (&["true", "False", "TRUE"], "boolean"),
            (&["t", "f"], "text"),
            (&["yes", "no"], "text"),
            (&["true", "1"], "text"),
            (&["0", "1"], "integer"),
            (&["y", "n"], "text"),
            (&["2024-01-31", "2024-02-29", "2000-02-29"], "date"),
            (&["2023-02-29"], "text"),
            (&["1900-02-29"], "text"),
            (&["2024-13-01"], "text"),
            (&["0000-01-01"], "text"),
            (&["2024-1-01"], "text"),
            (
                &["2024-01-01 10:20:30", "2024-01-02T00:00:00.123456"],
                "timestamp",
            ),
            (&["2024-01-01 10:20:30.5"], "text"),
            (&["2024-01-01", "2024-01-01 10:20:30"], "timestamp"),
            (&["2024-01-01 10:20:30.1234567"], "text"),
            (&["2024-01-01 24:00:00"], "text"),
            (&["2024-01-01 10:20"], "text"),
            (&["2024-01-01 10:20:30+09"], "text"),
            (&["hello", "1"], "text"),
            (&[" 1"], "text"),
            (&["", "", ""], "integer"),
            (&["", "3", ""], "integer"),
            (&["한국어"], "text"),
        ];
        for (values, expected) in cases {
            // A second column keeps rows with an empty value from being blank lines.
            let mut csv = String::from("c,d\n");
            for v in *values {
                if v.contains(',') {
                    csv.push_str(&format!("\"{v}\",x\n"));
                } else {
                    csv.push_str(&format!("{v},x\n"));
                }
            }
            let got = types(&csv);
            assert_eq!(&got[0], expected, "values {values:?}");
        }
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
    fn a_file_read_in_parts_gives_what_it_gives_read_whole() {
        // Quoted line breaks near every cut, CRLF and LF, null words, a date column that
        // turns text only in the last rows.
        let mut csv = String::from("id,note,day\r\n");
        for i in 0..300 {
            let note = match i {
                i if i % 11 == 0 => "null".to_string(),
                i if i % 7 == 0 => "\"two\nlines\"".to_string(),
                i => format!("n{i}"),
            };
            let day = match i {
                299 => "soon".to_string(),
                i => format!("2024-01-{:02}", i % 28 + 1),
            };
            let end = if i % 2 == 0 { "\r\n" } else { "\n" };
            csv.push_str(&format!("{i},{note},{day}{end}"));
        }
        let whole = infer_in_parts(csv.as_bytes(), b',', &BTreeMap::new(), 50, 1).unwrap();
        for parts in [2, 3, 7] {
            let split = infer_in_parts(csv.as_bytes(), b',', &BTreeMap::new(), 50, parts).unwrap();
            assert_eq!(split.columns, whole.columns, "{parts} parts");
            assert_eq!(split.row_count, 300);
            assert_eq!(split.has_null_words, whole.has_null_words);
            assert_eq!(split.batches, whole.batches, "{parts} parts");
        }
        // Batches of 50 rows, each starting at a row's first byte on the line it is on.
        assert_eq!(whole.batches.len(), 6);
        for b in &whole.batches[1..] {
            assert_eq!(b.rows, 50);
            let mut lines = LineCounter::default();
            assert_eq!(lines.line_at(csv.as_bytes(), b.start), b.line);
            assert_eq!(csv.as_bytes()[b.start - 1], b'\n');
        }
        assert_eq!(data_types(&whole), ["integer", "text", "text"]);
        assert!(whole.has_null_words);
        assert_eq!(split_points(csv.as_bytes(), 13, 3).len(), 2);
    }

    #[test]
    fn an_error_in_a_later_part_names_its_line_in_the_file() {
        let mut csv = String::from("a,b\n");
        for i in 0..100 {
            csv.push_str(&format!("{i},\"x\ny\"\n"));
        }
        csv.push_str("100\n");
        for parts in [1, 4] {
            let err =
                infer_in_parts(csv.as_bytes(), b',', &BTreeMap::new(), 10, parts).unwrap_err();
            assert_eq!(
                err.to_string(),
                "line 202: expected 2 fields (as many as header columns) but found 1",
                "{parts} parts"
            );
        }
    }

    #[test]
    fn batches_and_null_words() {
        let csv = b"a,b\n1,x\n2,\"y\nz\"\n3,  \n4,NULL\n5,null\n";
        let schema = infer_seed_batches(csv, b',', &BTreeMap::new(), 2).unwrap();
        assert_eq!(
            schema.batches,
            [
                SeedBatch {
                    start: 0,
                    line: 1,
                    rows: 2
                },
                SeedBatch {
                    start: 16,
                    line: 5,
                    rows: 2
                },
                SeedBatch {
                    start: 28,
                    line: 7,
                    rows: 1
                },
            ]
        );
        assert_eq!(&csv[16..20], b"3,  ");
        assert!(schema.has_null_words);
        assert_eq!(schema.columns[1].data_type, "text");
        assert_eq!(
            String::from_utf8(blank_null_words(csv, b',').unwrap()).unwrap(),
            "a,b\n1,x\n2,\"y\nz\"\n3,\n4,\n5,\n"
        );
        // Blanks and null words take no part in inference.
        assert_eq!(types("a,b\nnull,x\n1, \n"), ["integer", "text"]);
        assert!(!infer("a,b\n1,\n").unwrap().has_null_words);
        assert_eq!(
            copy_batch_from_stdin(&Relation::new(None, "s", "t"), &schema.columns, b',', false),
            "copy \"s\".\"t\" (\"a\", \"b\") from stdin with (format csv, header false, delimiter ',', force_null (\"a\", \"b\"))"
        );
    }

    #[test]
    fn large_input_counts_rows() {
        let mut csv = String::from("id,v\n");
        for i in 0..10_000i64 {
            csv.push_str(&format!("{i},{}\n", i * 3_000_000));
        }
        let schema = infer(&csv).unwrap();
        assert_eq!(schema.row_count, 10_000);
        assert_eq!(data_types(&schema), ["integer", "bigint"]);
    }
}
