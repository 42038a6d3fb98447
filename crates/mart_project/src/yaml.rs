//! YAML helpers: parse errors as diagnostics pointing at the line, and finding where a
//! named entry sits in a file (serde_yaml values carry no spans).

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, LineIndex, SourceFile, Span};
use serde::de::DeserializeOwned;

/// Deserializes a whole YAML file; a syntax or type error points at its line and column.
pub(crate) fn parse<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
    code: Code,
) -> Result<T, Diagnostic> {
    if file.text.trim().is_empty() {
        return serde_yaml::from_str("{}").map_err(|e| error_at(file, code, &e));
    }
    serde_yaml::from_str(&file.text).map_err(|e| error_at(file, code, &e))
}

pub(crate) fn error_at(
    file: &Arc<SourceFile>,
    code: Code,
    error: &serde_yaml::Error,
) -> Diagnostic {
    let message = strip_location(&error.to_string());
    let diagnostic = Diagnostic::error(code, format!("invalid YAML: {message}"))
        .with_help("fix the YAML at the marked place (indentation, quoting, or the value's type)");
    match error.location() {
        Some(loc) => {
            let start = loc.index().min(file.text.len());
            let end = next_char_boundary(&file.text, start);
            diagnostic.with_span(Span::new(file.clone(), start..end))
        }
        None => diagnostic.with_path(&file.path),
    }
}

fn next_char_boundary(text: &str, start: usize) -> usize {
    text.get(start..)
        .and_then(|rest| rest.chars().next())
        .map_or(start, |c| start + c.len_utf8())
}

/// serde_yaml appends " at line L column C"; the diagnostic shows the place itself.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The span of the `name: <value>` line that declares an entry, or of the file's first line.
pub fn entry_span(file: &Arc<SourceFile>, value: &str) -> Span {
    entry_span_after(file, value, 0)
}

/// [`entry_span`] for the first entry declared on a line starting at or after byte
/// `from` (a second entry of the same name); the file's first line when none follows.
pub fn entry_span_after(file: &Arc<SourceFile>, value: &str, from: usize) -> Span {
    let text = &file.text;
    // Lines are walked from `from` on, without indexing the whole file: property files
    // look up every entry, and a per-call index made that quadratic in the file's size.
    let from = from.min(text.len());
    let at_line_start = from == 0 || text.as_bytes().get(from - 1) == Some(&b'\n');
    let mut start = match text.get(from..) {
        Some(_) if at_line_start => from,
        Some(rest) => rest.find('\n').map_or(text.len(), |i| from + i + 1),
        None => text.len(),
    };
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let content = &text[start..end];
        let trimmed = content.trim_start().trim_start_matches("- ").trim_start();
        if let Some(rest) = trimmed.strip_prefix("name:") {
            let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            if v == value {
                // The value after `name:`, not an earlier match inside the key.
                let after_key = content.len() - rest.len();
                let at = start + after_key + rest.find(value).unwrap_or(0);
                return Span::new(file.clone(), at..at + value.len());
            }
        }
        start = end + 1;
    }
    Span::new(file.clone(), LineIndex::new(text).line_range(1))
}

/// Where the mapping key `key` is first written: as given, with dbt's `+` prefix, or
/// with dashes for underscores (`pre-hook`); the whole first line when nowhere.
pub fn key_span(file: &Arc<SourceFile>, key: &str) -> Span {
    key_span_after(file, key, 0)
}

/// Where `key` is set to the scalar `value` (as written, quoted or not; block or flow
/// style); else where `key` is first written ([`key_span`]). Tells apart the folders of a
/// project file that set the same key.
pub fn setting_span(file: &Arc<SourceFile>, key: &str, value: &str) -> Span {
    setting_span_after(file, key, value, 0)
}

/// [`setting_span`] for the first setting at or after byte `from` (the entry it belongs
/// to); else [`key_span_after`].
pub fn setting_span_after(file: &Arc<SourceFile>, key: &str, value: &str, from: usize) -> Span {
    spellings(key)
        .iter()
        .find_map(|spelling| {
            inline_keys(&file.text, spelling, from).find(|&(_, after)| {
                let rest = file.text[after..].trim_start_matches([' ', '\t']);
                [
                    value.to_string(),
                    format!("'{value}'"),
                    format!("\"{value}\""),
                ]
                .iter()
                .any(|v| rest.strip_prefix(v.as_str()).is_some_and(ends_scalar))
            })
        })
        .map_or_else(
            || key_span_after(file, key, from),
            |(at, _)| Span::new(file.clone(), at..at + spelling_len(&file.text, at)),
        )
}

/// Whether the text after a scalar ends it (end of line or file, a comment, a flow
/// separator).
fn ends_scalar(rest: &str) -> bool {
    rest.trim_start_matches([' ', '\t'])
        .chars()
        .next()
        .is_none_or(|c| matches!(c, '\n' | '\r' | '#' | ',' | '}' | ']'))
}

/// The length of the key written at `at` (up to its quote or colon).
fn spelling_len(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let quoted = rest.starts_with(['\'', '"']);
    let end = rest[usize::from(quoted)..]
        .find(|c: char| c == ':' || c == '\'' || c == '"' || c.is_whitespace())
        .map_or(rest.len(), |i| i + usize::from(quoted) * 2);
    end.min(rest.len())
}

/// Every place at or after `from` where `spelling` is written as a mapping key, block or
/// flow style (`{materialized: table}`): (where the key starts, just after its colon).
fn inline_keys<'a>(
    text: &'a str,
    spelling: &'a str,
    from: usize,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    text.match_indices(spelling)
        .filter(move |(i, _)| *i >= from)
        .filter_map(move |(i, _)| {
            let before = text[..i].chars().next_back();
            let (start, quote) = match before {
                Some(q @ ('\'' | '"')) => (i - 1, Some(q)),
                _ => (i, None),
            };
            let boundary = text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '-'));
            let mut after = i + spelling.len();
            if let Some(q) = quote {
                text[after..].strip_prefix(q)?;
                after += q.len_utf8();
            }
            let rest = text[after..].trim_start_matches([' ', '\t']);
            let colon = rest.strip_prefix(':')?;
            let valid_end = colon.is_empty() || colon.starts_with(char::is_whitespace);
            (boundary && valid_end).then(|| (start, text.len() - colon.len()))
        })
}

fn spellings(key: &str) -> [String; 4] {
    let bare = key.trim_start_matches('+');
    let dashed = bare.replace('_', "-");
    [
        bare.to_string(),
        format!("+{bare}"),
        dashed.clone(),
        format!("+{dashed}"),
    ]
}

/// [`key_span`] for the first `key` written on a line starting at or after byte `from`
/// (the entry it belongs to), else written in a flow mapping after `from`; the line of
/// `from` when none follows.
pub fn key_span_after(file: &Arc<SourceFile>, key: &str, from: usize) -> Span {
    let spellings = spellings(key);
    let text = &file.text;
    let index = LineIndex::new(text);
    for line in 1..=index.line_count() {
        let range = index.line_range(line);
        if range.start < from {
            continue;
        }
        let Some(content) = text.get(range.clone()) else {
            continue;
        };
        let trimmed = content.trim_start().trim_start_matches("- ").trim_start();
        let at = range.start + (content.len() - trimmed.len());
        for spelling in &spellings {
            let quoted = [
                spelling.clone(),
                format!("\"{spelling}\""),
                format!("'{spelling}'"),
            ];
            for written in quoted {
                if trimmed
                    .strip_prefix(written.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
                {
                    return Span::new(file.clone(), at..at + written.len());
                }
            }
        }
    }
    if let Some(at) = spellings
        .iter()
        .filter_map(|spelling| inline_keys(text, spelling, from).next())
        .map(|(at, _)| at)
        .min()
    {
        return Span::new(file.clone(), at..at + spelling_len(text, at));
    }
    let (line, _) = index.line_col(text, from.min(text.len()));
    Span::new(file.clone(), index.line_range(line))
}

/// Converts YAML to JSON values (configs are kept as JSON: artifacts and Jinja share them).
pub(crate) fn to_json(value: serde_yaml::Value) -> serde_json::Value {
    match value {
        serde_yaml::Value::Null => serde_json::Value::Null,
        serde_yaml::Value::Bool(b) => serde_json::Value::Bool(b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        serde_yaml::Value::String(s) => serde_json::Value::String(s),
        serde_yaml::Value::Sequence(seq) => {
            serde_json::Value::Array(seq.into_iter().map(to_json).collect())
        }
        serde_yaml::Value::Mapping(map) => serde_json::Value::Object(
            map.into_iter()
                .map(|(k, v)| (key_string(k), to_json(v)))
                .collect(),
        ),
        serde_yaml::Value::Tagged(tagged) => to_json(tagged.value),
    }
}

pub(crate) fn key_string(key: serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => s,
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Null => "null".to_string(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_spans_find_every_spelling() {
        let file = Arc::new(SourceFile::new(
            "p.yml",
            "models:\n  a:\n    +pre-hook: x\n    - 'materialised': y\n",
        ));
        assert_eq!(key_span(&file, "pre_hook").line_col(), (3, 5));
        assert_eq!(key_span(&file, "materialised").line_col(), (4, 7));
        assert_eq!(key_span(&file, "nope").line_col(), (1, 1));
    }

    #[test]
    fn key_spans_find_flow_mappings_and_settings() {
        let file = Arc::new(SourceFile::new(
            "p.yml",
            "version: 2\nmodels:\n  - name: a\n    config: {tags: x, 'materialised': table}\n",
        ));
        let span = key_span(&file, "materialised");
        assert_eq!(span.line_col(), (4, 23));
        assert_eq!(&file.text[span.range], "'materialised'");
        let file = Arc::new(SourceFile::new(
            "p.yml",
            "models:\n  p:\n    +materialized: view\n    staging:\n      +materialized: \"tabel\" # x\n",
        ));
        let span = setting_span(&file, "materialized", "tabel");
        assert_eq!(span.line_col(), (5, 7));
        assert_eq!(&file.text[span.range], "+materialized");
        assert_eq!(
            setting_span(&file, "materialized", "nope").line_col(),
            (3, 5)
        );
        assert_eq!(
            setting_span(&file, "materialized", "vie").line_col(),
            (3, 5)
        );
    }

    #[test]
    fn parse_error_points_at_line() {
        let file = Arc::new(SourceFile::new("p.yml", "name: x\nmodels: [\n"));
        let err = parse::<serde_yaml::Value>(&file, Code::ProjectFile).unwrap_err();
        let (line, _) = err.span.unwrap().line_col();
        assert_eq!(line, 3);
    }

    #[test]
    fn entry_span_finds_the_name_line() {
        let file = Arc::new(SourceFile::new(
            "m.yml",
            "models:\n  - name: a\n  - name: \"dim_user\"\n",
        ));
        assert_eq!(entry_span(&file, "dim_user").line_col(), (3, 12));
        // Not the 'a' of `name`.
        assert_eq!(entry_span(&file, "a").line_col(), (2, 11));
        let twice = Arc::new(SourceFile::new("m.yml", "- name: e\n- name: e\n"));
        let first = entry_span(&twice, "e");
        assert_eq!(first.line_col(), (1, 9));
        assert_eq!(
            entry_span_after(&twice, "e", first.range.end).line_col(),
            (2, 9)
        );
        // From the start of a line, that line counts; past the end, the first line.
        assert_eq!(entry_span_after(&twice, "e", 10).line_col(), (2, 9));
        assert_eq!(entry_span_after(&twice, "e", 11).line_col(), (1, 1));
        assert_eq!(entry_span_after(&twice, "e", 999).line_col(), (1, 1));
    }
}
