//! Reading one semantic-layer entry (a semantic model, a measure, a metric...) converted to
//! JSON, with errors at the line of the key they are about.

use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile, Span};
use serde_json::{json, Map, Value};

use crate::yaml;

/// One mapping of a semantic-layer list, with where it is written.
pub(crate) struct Entry<'a> {
    pub file: &'a Arc<SourceFile>,
    /// The start of the line of its `name:`: its keys are searched from there.
    pub start: usize,
    /// "semantic model", "measure", "metric", ...
    pub what: &'static str,
    pub name: String,
    pub map: &'a Map<String, Value>,
}

impl<'a> Entry<'a> {
    /// The entry `value` of a list whose first line is at or after `from`.
    pub fn new(
        file: &'a Arc<SourceFile>,
        what: &'static str,
        value: &'a Value,
        from: usize,
    ) -> Result<Self, Diagnostic> {
        let at = || yaml::key_span_after(file, "name", from);
        let map = value.as_object().ok_or_else(|| {
            Diagnostic::error(Code::PropertyFile, format!("a {what} must be a mapping"))
                .with_span(at())
                .with_help(format!("write the {what} as `- name: ...` with its keys"))
        })?;
        let Some(name) = map.get("name").and_then(Value::as_str) else {
            return Err(
                Diagnostic::error(Code::PropertyFile, format!("a {what} has no name"))
                    .with_span(at())
                    .with_help(format!("give every {what} a `name:`")),
            );
        };
        let span = yaml::entry_span_after(file, name, from);
        let start = file.text[..span.range.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        Ok(Entry {
            file,
            start,
            what,
            name: name.to_string(),
            map,
        })
    }

    pub fn span(&self, key: &str) -> Span {
        yaml::key_span_after(self.file, key, self.start)
    }

    /// An error about `key` of this entry.
    pub fn error(&self, key: &str, message: impl std::fmt::Display, help: &str) -> Diagnostic {
        Diagnostic::error(
            Code::PropertyFile,
            format!("{} '{}': {message}", self.what, self.name),
        )
        .with_span(self.span(key))
        .with_help(help.to_string())
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A text value (numbers and booleans as dbt coerces them), or none.
    pub fn text(&self, key: &str) -> Result<Option<String>, Diagnostic> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Bool(_) | Value::Number(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(self.error(key, format!("`{key}:` must be text"), "write a string")),
        }
    }

    pub fn required(&self, key: &str, help: &str) -> Result<String, Diagnostic> {
        self.text(key)?.ok_or_else(|| {
            Diagnostic::error(
                Code::PropertyFile,
                format!("{} '{}' has no `{key}:`", self.what, self.name),
            )
            .with_span(yaml::entry_span_after(self.file, &self.name, self.start))
            .with_help(help.to_string())
        })
    }

    /// `key`'s text, which must be one of `allowed` (when given).
    pub fn choice(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, Diagnostic> {
        let Some(value) = self.text(key)? else {
            return Ok(None);
        };
        check_choice(&value, allowed).map_err(|help| {
            self.error(
                key,
                format!("{key} '{value}' is not one of {}", allowed.join(", ")),
                &help,
            )
        })?;
        Ok(Some(value.to_lowercase()))
    }

    pub fn bool(&self, key: &str) -> Result<bool, Diagnostic> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.error(key, format!("`{key}:` must be true or false"), "")),
        }
    }

    /// The mappings of the list `key` (none when absent).
    pub fn list(&self, key: &str) -> Result<&'a [Value], Diagnostic> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.error(key, format!("`{key}:` must be a list"), "")),
        }
    }

    /// The entry's `config:` mapping.
    pub fn config(&self) -> Result<Map<String, Value>, Diagnostic> {
        match self.get("config") {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(self.error("config", "`config:` must be a mapping", "")),
        }
    }

    /// The `meta:` of its config (an element's config holds only that).
    pub fn element_config(&self) -> Result<Value, Diagnostic> {
        let config = self.config()?;
        Ok(json!({"meta": config.get("meta").cloned().unwrap_or_else(|| json!({}))}))
    }
}

/// Whether `value` is one of `allowed` (case-insensitively, as dbt's enums); else "did you
/// mean".
pub(crate) fn check_choice(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value.to_lowercase().as_str()) {
        return Ok(());
    }
    Err(match closest_name(value, allowed.iter().copied()) {
        Some(close) => format!("did you mean '{close}'?"),
        None => format!("use one of {}", allowed.join(", ")),
    })
}

/// dbt's `WhereFilterIntersection` of a `filter:` / `where:` given as text or a list of
/// texts; null when absent.
pub(crate) fn where_filters(value: Option<&Value>) -> Result<Value, String> {
    let templates: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let filters = templates
        .into_iter()
        .map(|t| match t {
            Value::String(s) => Ok(json!({"where_sql_template": s})),
            _ => Err(
                "a filter must be text such as \"{{ Dimension('order__is_big') }}\"".to_string(),
            ),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({"where_filters": filters}))
}

/// Time granularities, finest first (dbt_semantic_interfaces' `TimeGranularity`).
pub(crate) const GRANULARITIES: [&str; 11] = [
    "nanosecond",
    "microsecond",
    "millisecond",
    "second",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
];

/// dbt's window: `7 days` -> `{count: 7, granularity: day}`.
pub(crate) fn window(text: &str) -> Result<Value, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let shape = || format!("window '{text}' is not `<count> <granularity>`, as in `7 days`");
    let [count, granularity] = parts.as_slice() else {
        return Err(shape());
    };
    let count: u64 = count.parse().map_err(|_| shape())?;
    let granularity = granularity.to_lowercase();
    let granularity = granularity.strip_suffix('s').unwrap_or(&granularity);
    check_choice(granularity, &GRANULARITIES).map_err(|help| format!("{}; {help}", shape()))?;
    Ok(json!({"count": count, "granularity": granularity}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_filters_are_dbt_shaped() {
        assert_eq!(
            window("7 days").unwrap(),
            json!({"count": 7, "granularity": "day"})
        );
        assert_eq!(
            window("1 month").unwrap(),
            json!({"count": 1, "granularity": "month"})
        );
        assert_eq!(
            window("7 dais").unwrap_err(),
            "window '7 dais' is not `<count> <granularity>`, as in `7 days`; did you mean 'day'?"
        );
        assert!(window("seven days").is_err());
        assert_eq!(where_filters(None).unwrap(), Value::Null);
        assert_eq!(
            where_filters(Some(&json!("{{ Dimension('a__b') }}"))).unwrap(),
            json!({"where_filters": [{"where_sql_template": "{{ Dimension('a__b') }}"}]})
        );
        assert_eq!(
            where_filters(Some(&json!(["x", "y"]))).unwrap()["where_filters"][1],
            json!({"where_sql_template": "y"})
        );
        assert!(where_filters(Some(&json!({"a": 1}))).is_err());
    }
}
