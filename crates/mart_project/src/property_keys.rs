//! The keys of property file entries, checked against what dbt knows and what mart reads:
//! an unknown key is a warning with "did you mean"; a key dbt knows that mart does not
//! read is a warning when it changes nothing mart builds or tests, and an error naming
//! the feature when ignoring it would change what is built (model versions, constraints,
//! enforced contracts).

use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile};
use serde_yaml::Value;

use crate::yaml;

/// What mart does with a key dbt knows.
enum Known {
    Read,
    /// Not read; it changes nothing mart builds or tests.
    NotRead,
    /// Not implemented; the feature it names.
    Unsupported(&'static str),
}

fn node_key(key: &str) -> Option<Known> {
    Some(match key {
        "name" | "description" | "config" | "columns" | "tests" | "data_tests" | "meta"
        | "tags" | "docs" | "relation" => Known::Read,
        "access" | "group" | "deprecation_date" | "time_spine" => Known::NotRead,
        "versions" | "latest_version" => Known::Unsupported("model versions (`versions:`)"),
        "constraints" => Known::Unsupported("model constraints (`constraints:`)"),
        _ => return None,
    })
}

fn column_key(key: &str) -> Option<Known> {
    Some(match key {
        "name" | "description" | "data_type" | "tests" | "data_tests" | "meta" | "quote"
        | "tags" => Known::Read,
        "granularity" | "policy_tags" | "config" => Known::NotRead,
        "constraints" => Known::Unsupported("column constraints (`constraints:`)"),
        _ => return None,
    })
}

fn source_key(key: &str) -> Option<Known> {
    Some(match key {
        "name" | "description" | "database" | "schema" | "loader" | "loaded_at_field"
        | "freshness" | "meta" | "tags" | "config" | "tables" => Known::Read,
        "quoting" | "overrides" | "event_time" => Known::NotRead,
        _ => return None,
    })
}

fn table_key(key: &str) -> Option<Known> {
    Some(match key {
        "name" | "description" | "identifier" | "loaded_at_field" | "freshness" | "columns"
        | "tests" | "data_tests" | "meta" | "tags" => Known::Read,
        "external" | "quoting" | "config" | "event_time" => Known::NotRead,
        _ => return None,
    })
}

/// Every key dbt knows at this level, for "did you mean".
const NODE_KEYS: &[&str] = &[
    "name",
    "description",
    "config",
    "columns",
    "data_tests",
    "tests",
    "meta",
    "tags",
    "docs",
    "relation",
    "access",
    "group",
    "deprecation_date",
    "versions",
    "latest_version",
    "constraints",
    "time_spine",
];
const COLUMN_KEYS: &[&str] = &[
    "name",
    "description",
    "data_type",
    "data_tests",
    "tests",
    "meta",
    "quote",
    "tags",
    "constraints",
    "granularity",
    "policy_tags",
];
const SOURCE_KEYS: &[&str] = &[
    "name",
    "description",
    "database",
    "schema",
    "loader",
    "loaded_at_field",
    "freshness",
    "meta",
    "tags",
    "config",
    "tables",
    "quoting",
    "overrides",
];
const TABLE_KEYS: &[&str] = &[
    "name",
    "description",
    "identifier",
    "loaded_at_field",
    "freshness",
    "columns",
    "data_tests",
    "tests",
    "meta",
    "tags",
    "external",
    "quoting",
    "config",
];

/// The findings for every entry of the file's `models:`, `seeds:`, `snapshots:` and
/// `sources:`: warnings, or the first error. Places in the file are looked up only for
/// findings, so a clean file costs no text search.
pub(crate) fn check(file: &Arc<SourceFile>, root: &Value) -> Result<Vec<Diagnostic>, Diagnostic> {
    let mut found = Vec::new();
    for list in ["models", "seeds", "snapshots"] {
        for entry in entries(root, list) {
            check_entry(file, entry, "entry", node_key, NODE_KEYS, &mut found)?;
            check_contract(file, entry)?;
            for column in entries(entry, "columns") {
                check_entry(file, column, "column", column_key, COLUMN_KEYS, &mut found)?;
            }
        }
    }
    for source in entries(root, "sources") {
        check_entry(file, source, "source", source_key, SOURCE_KEYS, &mut found)?;
        for table in entries(source, "tables") {
            check_entry(
                file,
                table,
                "source table",
                table_key,
                TABLE_KEYS,
                &mut found,
            )?;
            for column in entries(table, "columns") {
                check_entry(file, column, "column", column_key, COLUMN_KEYS, &mut found)?;
            }
        }
    }
    Ok(found)
}

fn entries<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
}

/// Where an entry starts: the line of its `name:`.
fn entry_start(file: &Arc<SourceFile>, entry: &Value) -> usize {
    entry.get("name").and_then(Value::as_str).map_or(0, |name| {
        let span = yaml::entry_span(file, name);
        // The start of that line, so the entry's other keys are searched from there.
        file.text[..span.range.start]
            .rfind('\n')
            .map_or(0, |i| i + 1)
    })
}

fn check_entry(
    file: &Arc<SourceFile>,
    entry: &Value,
    what: &str,
    known: fn(&str) -> Option<Known>,
    all: &[&str],
    found: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let Some(map) = entry.as_mapping() else {
        return Ok(());
    };
    let name = entry.get("name").and_then(Value::as_str).unwrap_or("?");
    let mut at = None;
    for key in map.keys().filter_map(Value::as_str) {
        let kind = known(key);
        if matches!(kind, Some(Known::Read)) {
            continue;
        }
        let start = *at.get_or_insert_with(|| entry_start(file, entry));
        let span = yaml::key_span_after(file, key, start);
        match kind {
            Some(Known::Read) => {}
            Some(Known::NotRead) => found.push(
                Diagnostic::warning(
                    Code::PropertyFile,
                    format!("`{key}:` of {what} '{name}' is not read by mart yet; it is ignored"),
                )
                .with_span(span)
                .with_help("it does not change what mart builds or tests"),
            ),
            Some(Known::Unsupported(feature)) => {
                return Err(Diagnostic::error(
                    Code::PropertyFile,
                    format!("{feature} of {what} '{name}': not supported by mart yet"),
                )
                .with_span(span)
                .with_help("remove it to build the project with mart"));
            }
            None => {
                let d = Diagnostic::warning(
                    Code::PropertyFile,
                    format!("unknown property '{key}' of {what} '{name}'; it is ignored"),
                )
                .with_span(span);
                found.push(match closest_name(key, all.iter().copied()) {
                    Some(close) => d.with_help(format!("did you mean '{close}'?")),
                    None => d.with_help("check the key against dbt's property file reference"),
                });
            }
        }
    }
    Ok(())
}

/// `config: {contract: {enforced: true}}`: mart does not enforce contracts yet, and a
/// model built without its contract checked must not look as if it had been.
fn check_contract(file: &Arc<SourceFile>, entry: &Value) -> Result<(), Diagnostic> {
    let enforced = entry
        .get("config")
        .and_then(|c| c.get("contract"))
        .and_then(|c| c.get("enforced"))
        .and_then(Value::as_bool);
    if enforced != Some(true) {
        return Ok(());
    }
    let name = entry.get("name").and_then(Value::as_str).unwrap_or("?");
    Err(Diagnostic::error(
        Code::PropertyFile,
        format!("model contracts (`contract: {{enforced: true}}`) of '{name}': not supported by mart yet"),
    )
    .with_span(yaml::key_span_after(file, "contract", entry_start(file, entry)))
    .with_help("remove the contract, or set enforced: false, to build the project with mart"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding's message and line/column.
    type Said = (String, (usize, usize));

    fn run(text: &str) -> Result<Vec<Said>, Said> {
        let file = Arc::new(SourceFile::new("models/p.yml", text));
        let root: Value = serde_yaml::from_str(text).unwrap();
        let at = |d: &Diagnostic| d.span.as_ref().map(|s| s.line_col()).unwrap_or_default();
        check(&file, &root)
            .map(|found| found.iter().map(|d| (d.message.clone(), at(d))).collect())
            .map_err(|d| (d.message.clone(), at(&d)))
    }

    #[test]
    fn unknown_and_unread_keys_are_warned_at_their_entry() {
        let found = run(
            "models:\n  - name: a\n    descripton: x\n  - name: b\n    descripton: y\n    access: public\n    columns:\n      - name: c\n        data_tpye: int\nsources:\n  - name: s\n    tables:\n      - name: t\n        external: {}\n",
        )
        .unwrap();
        assert_eq!(
            found,
            [
                (
                    "unknown property 'descripton' of entry 'a'; it is ignored".to_string(),
                    (3, 5)
                ),
                (
                    "unknown property 'descripton' of entry 'b'; it is ignored".to_string(),
                    (5, 5)
                ),
                (
                    "`access:` of entry 'b' is not read by mart yet; it is ignored".to_string(),
                    (6, 5)
                ),
                (
                    "unknown property 'data_tpye' of column 'c'; it is ignored".to_string(),
                    (9, 9)
                ),
                (
                    "`external:` of source table 't' is not read by mart yet; it is ignored"
                        .to_string(),
                    (14, 9)
                ),
            ]
        );
    }

    #[test]
    fn versions_constraints_and_enforced_contracts_are_errors() {
        assert_eq!(
            run("models:\n  - name: a\n    latest_version: 2\n"),
            Err((
                "model versions (`versions:`) of entry 'a': not supported by mart yet".to_string(),
                (3, 5)
            ))
        );
        assert_eq!(
            run("models:\n  - name: a\n    columns:\n      - name: id\n        constraints: [{type: not_null}]\n").unwrap_err().1,
            (5, 9)
        );
        assert_eq!(
            run("models:\n  - name: a\n    config:\n      contract: {enforced: true}\n")
                .unwrap_err()
                .1,
            (4, 7)
        );
        assert!(
            run("models:\n  - name: a\n    config:\n      contract: {enforced: false}\n")
                .unwrap()
                .is_empty()
        );
    }
}
