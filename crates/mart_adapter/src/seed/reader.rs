//! Reading a seed in one pass: the header, then chunks of whole rows, each checked and
//! taken into the type inference as it is read, so a caller can stream every chunk to COPY
//! while it reads the next.

use std::collections::BTreeMap;
use std::ops::Range;

use super::infer::Inference;
use super::{header_names, is_null_word, SeedColumn, SeedError};

/// Reads the rows of a seed's [`copy_payload`] in chunks; see [`super::infer_seed_columns`]
/// for the checks and the types.
pub struct SeedReader<'a> {
    csv: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    names: Vec<String>,
    given: Vec<Option<String>>,
    inference: Vec<Inference>,
    /// Where the next chunk starts (the first one at byte 0, with the header).
    position: usize,
    /// Where the last record read (at first the header) ends.
    record_end: usize,
    /// Rows read so far.
    rows: usize,
    /// `"` bytes in the chunks so far: an odd count at the end is an unclosed quote.
    quotes: usize,
    done: bool,
}

/// A run of whole rows of the payload, checked and inferred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedChunk {
    /// Bytes of the payload; the first chunk starts at 0 and holds the header.
    pub range: Range<usize>,
    /// Rows read up to the end of this chunk.
    pub rows: usize,
    /// Some field is only blanks or the word `null`: dbt reads it as NULL, COPY would not,
    /// so the chunk goes through [`blank_null_words`] first.
    pub null_words: bool,
}

impl<'a> SeedReader<'a> {
    /// Checks the delimiter and reads the header of `csv` (a [`copy_payload`]).
    pub fn new(
        csv: &'a [u8],
        delimiter: u8,
        column_types: &BTreeMap<String, String>,
    ) -> Result<Self, SeedError> {
        if !delimiter.is_ascii() || matches!(delimiter, b'"' | b'\r' | b'\n' | 0) {
            return Err(SeedError::InvalidDelimiter(delimiter));
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(csv);
        let mut record = csv::ByteRecord::new();
        let names = read_header(&mut reader, &mut record, csv).map_err(|e| quotes_first(csv, e))?;
        let record_end = record_end(&reader, csv);
        let given: Vec<Option<String>> = names
            .iter()
            .map(|name| column_types.get(name).cloned())
            .collect();
        let inference = given
            .iter()
            .map(|given| match given {
                Some(_) => Inference::done(),
                None => Inference::default(),
            })
            .collect();
        Ok(SeedReader {
            csv,
            reader,
            record,
            names,
            given,
            inference,
            position: 0,
            record_end,
            rows: 0,
            quotes: 0,
            done: false,
        })
    }

    /// The columns in header order, typed by `column_types` or by the rows read so far.
    pub fn columns(&self) -> Vec<SeedColumn> {
        self.names
            .iter()
            .zip(&self.given)
            .zip(&self.inference)
            .map(|((name, given), inference)| SeedColumn {
                name: name.clone(),
                data_type: given
                    .clone()
                    .unwrap_or_else(|| inference.data_type().to_string()),
            })
            .collect()
    }

    /// The next chunk: rows until it holds at least `max_bytes`, or until the rows read
    /// reach a multiple of `batch_rows` (so progress can be told in round numbers). `None`
    /// after the last one.
    pub fn next_chunk(
        &mut self,
        max_bytes: usize,
        batch_rows: usize,
    ) -> Result<Option<SeedChunk>, SeedError> {
        if self.done {
            return Ok(None);
        }
        let start = self.position;
        let mut chunk_rows = 0;
        let mut null_words = false;
        loop {
            let full = self.record_end - start >= max_bytes;
            if chunk_rows > 0 && (full || self.rows.is_multiple_of(batch_rows.max(1))) {
                break;
            }
            match self.read_row() {
                Ok(Some(nulls)) => {
                    chunk_rows += 1;
                    self.rows += 1;
                    null_words |= nulls;
                }
                Ok(None) => {
                    self.done = true;
                    self.record_end = self.csv.len();
                    break;
                }
                Err(e) => return Err(quotes_first(self.csv, e)),
            }
        }
        let end = self.record_end;
        self.quotes += self.csv[start..end].iter().filter(|&&b| b == b'"').count();
        if self.done && self.quotes % 2 == 1 {
            check_quotes(self.csv)?;
        }
        self.position = end;
        // The first chunk holds the header even without rows.
        if chunk_rows == 0 && start > 0 {
            return Ok(None);
        }
        Ok(Some(SeedChunk {
            range: start..end,
            rows: self.rows,
            null_words,
        }))
    }

    /// Reads, checks and infers the next row; whether it holds null words.
    fn read_row(&mut self) -> Result<Option<bool>, SeedError> {
        let csv = self.csv;
        let from = self.record_end;
        if !self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| SeedError::Csv(e.to_string()))?
        {
            return Ok(None);
        }
        self.record_end = record_end(&self.reader, csv);
        let start = record_start(csv, from);
        if from < start {
            return Err(SeedError::BlankLine {
                line: line_at(csv, from),
            });
        }
        let expected = self.names.len();
        let record = &self.record;
        if record.len() != expected {
            return Err(SeedError::WrongFieldCount {
                line: line_at(csv, start),
                expected,
                found: record.len(),
            });
        }
        if expected == 1 && &record[0] == b"\\." && csv.get(start) == Some(&b'\\') {
            return Err(SeedError::EndOfDataMarker {
                line: line_at(csv, start),
            });
        }
        let mut null_words = false;
        for (index, (field, inf)) in record.iter().zip(self.inference.iter_mut()).enumerate() {
            let Ok(value) = std::str::from_utf8(field) else {
                return Err(SeedError::InvalidUtf8 {
                    line: line_at(csv, start),
                    column: index + 1,
                    name: Some(self.names[index].clone()),
                });
            };
            if is_null_word(value) {
                null_words |= !value.is_empty();
                continue;
            }
            inf.observe(value);
        }
        Ok(Some(null_words))
    }
}

fn read_header(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
    csv: &[u8],
) -> Result<Vec<String>, SeedError> {
    if !reader
        .read_byte_record(record)
        .map_err(|e| SeedError::Csv(e.to_string()))?
    {
        return Err(SeedError::Empty);
    }
    header_names(record, line_at(csv, record_start(csv, 0)))
}

/// Where the record the reader just read ends, past its whole line break (the reader
/// stops after the CR of a CRLF).
fn record_end(reader: &csv::Reader<&[u8]>, csv: &[u8]) -> usize {
    let mut end = usize::try_from(reader.position().byte()).map_or(csv.len(), |e| e.min(csv.len()));
    if end > 0 && csv[end - 1] == b'\r' && csv.get(end) == Some(&b'\n') {
        end += 1;
    }
    end
}

/// An unclosed quote (counted as PostgreSQL does) explains any other error the reader ran
/// into after it, so it is reported instead.
fn quotes_first(csv: &[u8], error: SeedError) -> SeedError {
    check_quotes(csv).err().unwrap_or(error)
}

/// `csv` with every field that is only blanks or the word `null` made empty (NULL for
/// COPY), the first record kept as it is when it is the `header`. Records and line breaks
/// stay where they were, so COPY's line numbers still match the file's.
pub fn blank_null_words(csv: &[u8], delimiter: u8, header: bool) -> Result<Vec<u8>, SeedError> {
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
    let mut header = header;
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

/// The bytes to stream to [`super::copy_from_stdin`]'s statement: `csv` without its
/// trailing carriage returns and newlines, so trailing blank lines (which the CSV reader
/// skips) do not reach COPY as rows.
pub fn copy_payload(csv: &[u8]) -> &[u8] {
    let end = csv
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    &csv[..end]
}

/// The first byte of a record the reader started scanning at `from`: csv skips blank lines
/// (runs of CR/LF), COPY does not.
fn record_start(csv: &[u8], from: usize) -> usize {
    let from = from.min(csv.len());
    csv[from..]
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(csv.len(), |i| from + i)
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
        return Err(SeedError::UnterminatedQuote {
            line: line_at(csv, opened_at),
        });
    }
    Ok(())
}

/// The 1-based physical line (LF, CRLF or a lone CR end a line) of `offset`. Only errors
/// need it, so it counts from the start of the file.
pub(super) fn line_at(csv: &[u8], offset: usize) -> u64 {
    let before = &csv[..offset.min(csv.len())];
    let mut breaks = 0u64;
    for (i, &b) in before.iter().enumerate() {
        match b {
            b'\n' => breaks += 1,
            b'\r' if csv.get(i + 1) != Some(&b'\n') => breaks += 1,
            _ => {}
        }
    }
    breaks + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(csv: &[u8], max_bytes: usize, batch_rows: usize) -> Vec<SeedChunk> {
        let mut reader = SeedReader::new(csv, b',', &BTreeMap::new()).unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = reader.next_chunk(max_bytes, batch_rows).unwrap() {
            all.push(chunk);
        }
        all
    }

    #[test]
    fn chunks_tile_the_file_and_infer_what_the_whole_file_gives() {
        // Quoted line breaks near every cut, CRLF and LF, null words, a date column that
        // turns text only in the last rows.
        let mut csv = String::from("id,note,day\r\n");
        for i in 0..300 {
            let note = match i {
                i if i % 11 == 0 => "null".to_string(),
                i if i % 7 == 0 => "\"two\r\nlines\"".to_string(),
                i => format!("n{i}"),
            };
            let day = match i {
                299 => "soon".to_string(),
                i => format!("2024-01-{:02}", i % 28 + 1),
            };
            let end = if i % 2 == 0 { "\r\n" } else { "\n" };
            csv.push_str(&format!("{i},{note},{day}{end}"));
        }
        let payload = copy_payload(csv.as_bytes());
        let whole = super::super::infer_seed_columns(payload, b',', &BTreeMap::new()).unwrap();
        let types: Vec<_> = whole.columns.iter().map(|c| c.data_type.as_str()).collect();
        assert_eq!(types, ["integer", "text", "text"]);
        for max_bytes in [1, 7, 100, 1000] {
            let all = chunks(payload, max_bytes, 50);
            let mut expected_start = 0;
            for chunk in &all {
                assert_eq!(chunk.range.start, expected_start, "{max_bytes}");
                // Every chunk ends past a whole line break (or at the end of the file).
                let end = chunk.range.end;
                assert!(
                    end == payload.len() || payload[end - 1] == b'\n',
                    "{max_bytes}"
                );
                expected_start = end;
            }
            assert_eq!(expected_start, payload.len());
            assert_eq!(all.last().map(|c| c.rows), Some(300));
            assert!(all.iter().any(|c| c.null_words));
        }
        // Cut every 50 rows (for progress) even when bytes allow more.
        let rows: Vec<usize> = chunks(payload, usize::MAX, 50)
            .iter()
            .map(|c| c.rows)
            .collect();
        assert_eq!(rows, [50, 100, 150, 200, 250, 300]);
    }

    #[test]
    fn types_move_as_rows_come_in() {
        let csv = b"a,b\n1,x\n2,y\n2.5,z\n";
        let mut reader = SeedReader::new(csv, b',', &BTreeMap::new()).unwrap();
        let first = reader.next_chunk(1, usize::MAX).unwrap().unwrap();
        assert_eq!((first.range.clone(), first.rows), (0..8, 1));
        assert_eq!(reader.columns()[0].data_type, "integer");
        while reader.next_chunk(1, usize::MAX).unwrap().is_some() {}
        assert_eq!(reader.columns()[0].data_type, "double precision");
    }

    #[test]
    fn an_error_in_a_later_chunk_names_its_line_in_the_file() {
        let mut csv = String::from("a,b\n");
        for i in 0..100 {
            csv.push_str(&format!("{i},\"x\ny\"\n"));
        }
        csv.push_str("100\n");
        let mut reader = SeedReader::new(csv.as_bytes(), b',', &BTreeMap::new()).unwrap();
        let err = loop {
            match reader.next_chunk(64, usize::MAX) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(
            err.to_string(),
            "line 202: expected 2 fields (as many as header columns) but found 1"
        );
        // An unclosed quote later in the file explains an earlier error: it wins, as when
        // the whole file is checked first.
        let csv = b"a,b\n1,2\n3\n4,\"x\n";
        let mut reader = SeedReader::new(csv, b',', &BTreeMap::new()).unwrap();
        assert_eq!(
            reader.next_chunk(1, usize::MAX).unwrap().map(|c| c.rows),
            Some(1)
        );
        assert_eq!(
            reader.next_chunk(1, usize::MAX).unwrap_err(),
            SeedError::UnterminatedQuote { line: 4 }
        );
    }

    #[test]
    fn null_words_are_blanked_per_chunk() {
        let csv = b"a,b\n1,x\n2,\"y\nz\"\n3,  \n4,NULL\n5,null\n";
        let all = chunks(csv, usize::MAX, 2);
        let nulls: Vec<_> = all.iter().map(|c| (c.rows, c.null_words)).collect();
        assert_eq!(nulls, [(2, false), (4, true), (5, true)]);
        assert_eq!(&csv[all[1].range.clone()], b"3,  \n4,NULL\n");
        assert_eq!(
            blank_null_words(&csv[all[1].range.clone()], b',', false).unwrap(),
            b"3,\n4,\n"
        );
        assert_eq!(
            String::from_utf8(blank_null_words(csv, b',', true).unwrap()).unwrap(),
            "a,b\n1,x\n2,\"y\nz\"\n3,\n4,\n5,\n"
        );
        // The header is kept as it is only when asked.
        assert_eq!(blank_null_words(b"null,b\n", b',', false).unwrap(), b",b\n");
        // Blanks and null words take no part in inference; an empty field is no null word.
        let mut reader = SeedReader::new(b"a,b\nnull,x\n1, \n", b',', &BTreeMap::new()).unwrap();
        assert!(
            reader
                .next_chunk(usize::MAX, usize::MAX)
                .unwrap()
                .unwrap()
                .null_words
        );
        let types: Vec<_> = reader.columns().into_iter().map(|c| c.data_type).collect();
        assert_eq!(types, ["integer", "text"]);
        assert!(!chunks(b"a,b\n1,\n", usize::MAX, 10)[0].null_words);
    }

    #[test]
    fn header_only_and_empty_files() {
        let all = chunks(b"a,b", 10, 10);
        assert_eq!(
            all,
            [SeedChunk {
                range: 0..3,
                rows: 0,
                null_words: false,
            }]
        );
        assert_eq!(
            SeedReader::new(b"", b',', &BTreeMap::new()).err(),
            Some(SeedError::Empty)
        );
        assert_eq!(line_at(b"a\r\nb\rc\nd", 7), 4);
    }
}
