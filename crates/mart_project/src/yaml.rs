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

/// [`entry_span`] for the first such line at or after byte `from` (inside an entry: its
/// columns).
pub fn entry_span_after(file: &Arc<SourceFile>, value: &str, from: usize) -> Span {
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
        if let Some(rest) = trimmed.strip_prefix("name:") {
            let v = rest.trim().trim_matches(|c| c == '"' || c == '\'');
            if v == value {
                let start = range.start + content.find(value).unwrap_or(0);
                return Span::new(file.clone(), start..start + value.len());
            }
        }
    }
    Span::new(file.clone(), index.line_range(1))
}

/// Where the mapping key `key` is first written: as given, with dbt's `+` prefix, or
/// with dashes for underscores (`pre-hook`); the whole first line when nowhere.
pub fn key_span(file: &Arc<SourceFile>, key: &str) -> Span {
    key_span_after(file, key, 0)
}

/// [`key_span`] for the first `key` written on a line starting at or after byte `from`
/// (the entry it belongs to); the line of `from` when none follows.
pub fn key_span_after(file: &Arc<SourceFile>, key: &str, from: usize) -> Span {
    let bare = key.trim_start_matches('+');
    let dashed = bare.replace('_', "-");
    let spellings = [
        bare.to_string(),
        format!("+{bare}"),
        dashed.clone(),
        format!("+{dashed}"),
    ];
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
    }
}
