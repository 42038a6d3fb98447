//! Seed type inference: the PostgreSQL type of a column from its non-empty values, as
//! dbt-postgres types the same CSV (see [`super::infer_seed_columns`]).

const INTEGER: u8 = 1;
const BIGINT: u8 = 1 << 1;
const NUMERIC: u8 = 1 << 2;
const BOOLEAN: u8 = 1 << 3;
const DATE: u8 = 1 << 4;
const TIMESTAMP: u8 = 1 << 5;
const ALL: u8 = INTEGER | BIGINT | NUMERIC | BOOLEAN | DATE | TIMESTAMP;

/// The types a column can still have, narrowed by every non-empty value.
pub(super) struct Inference {
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
    pub(super) fn done() -> Self {
        Inference {
            candidates: 0,
            seen: true,
        }
    }

    pub(super) fn observe(&mut self, value: &str) {
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

    pub(super) fn data_type(&self) -> &'static str {
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
    use std::collections::BTreeMap;

    use crate::seed::infer_seed_columns;

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
            let schema = infer_seed_columns(csv.as_bytes(), b',', &BTreeMap::new()).unwrap();
            assert_eq!(&schema.columns[0].data_type, expected, "values {values:?}");
        }
    }
}
