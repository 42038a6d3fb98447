//! The keys of property file entries, checked against what dbt knows and what mart reads:
//! an unknown key is a warning with "did you mean"; a key dbt knows that mart does not
//! read is a warning when it changes nothing mart builds or tests, and an error naming
//! the feature when ignoring it would change what is built (model versions).

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

/// The keys dbt knows for one kind of entry, by what mart does with them.
struct Level {
    what: &'static str,
    read: &'static [&'static str],
    /// Not read; they change nothing mart builds or tests.
    not_read: &'static [&'static str],
    /// Not implemented: the key and the feature it names.
    unsupported: &'static [(&'static str, &'static str)],
}

impl Level {
    fn known(&self, key: &str) -> Option<Known> {
        if self.read.contains(&key) {
            Some(Known::Read)
        } else if self.not_read.contains(&key) {
            Some(Known::NotRead)
        } else {
            self.unsupported
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, feature)| Known::Unsupported(feature))
        }
    }

    /// Every key of the level, for "did you mean".
    fn keys(&self) -> impl Iterator<Item = &'static str> {
        self.read
            .iter()
            .chain(self.not_read)
            .copied()
            .chain(self.unsupported.iter().map(|(k, _)| *k))
    }
}

const NODE: Level = Level {
    what: "entry",
    read: &[
        "name",
        "description",
        "config",
        "columns",
        "tests",
        "data_tests",
        "meta",
        "tags",
        "docs",
        "relation",
        "constraints",
        "time_spine",
        "access",
        "group",
        "deprecation_date",
        "versions",
        "latest_version",
    ],
    not_read: &[],
    unsupported: &[],
};

const COLUMN: Level = Level {
    what: "column",
    read: &[
        "name",
        "description",
        "data_type",
        "tests",
        "data_tests",
        "meta",
        "quote",
        "tags",
        "constraints",
        "granularity",
    ],
    not_read: &["policy_tags", "config"],
    unsupported: &[],
};

const SOURCE: Level = Level {
    what: "source",
    read: &[
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
    ],
    not_read: &["quoting", "overrides", "event_time"],
    unsupported: &[],
};

const TABLE: Level = Level {
    what: "source table",
    read: &[
        "name",
        "description",
        "identifier",
        "loaded_at_field",
        "freshness",
        "columns",
        "tests",
        "data_tests",
        "meta",
        "tags",
        "config",
    ],
    not_read: &["external", "quoting", "event_time"],
    unsupported: &[],
};

const EXPOSURE: Level = Level {
    what: "exposure",
    read: &[
        "name",
        "type",
        "owner",
        "depends_on",
        "url",
        "maturity",
        "description",
        "label",
        "tags",
        "meta",
        "config",
    ],
    not_read: &[],
    unsupported: &[],
};

/// A semantic-layer level: every key dbt knows is read.
const fn semantic(what: &'static str, read: &'static [&'static str]) -> Level {
    Level {
        what,
        read,
        not_read: &[],
        unsupported: &[],
    }
}

const SEMANTIC_MODEL: Level = semantic(
    "semantic model",
    &[
        "name",
        "description",
        "label",
        "model",
        "defaults",
        "entities",
        "dimensions",
        "measures",
        "primary_entity",
        "config",
    ],
);
const ENTITY: Level = semantic(
    "entity",
    &[
        "name",
        "type",
        "description",
        "label",
        "role",
        "expr",
        "config",
    ],
);
const DIMENSION: Level = semantic(
    "dimension",
    &[
        "name",
        "type",
        "description",
        "label",
        "is_partition",
        "type_params",
        "expr",
        "config",
    ],
);
const MEASURE: Level = semantic(
    "measure",
    &[
        "name",
        "agg",
        "description",
        "label",
        "expr",
        "agg_params",
        "non_additive_dimension",
        "agg_time_dimension",
        "create_metric",
        "config",
    ],
);
const METRIC: Level = semantic(
    "metric",
    &[
        "name",
        "label",
        "type",
        "type_params",
        "description",
        "filter",
        "time_granularity",
        "meta",
        "tags",
        "config",
    ],
);
const SAVED_QUERY: Level = semantic(
    "saved query",
    &[
        "name",
        "query_params",
        "description",
        "label",
        "exports",
        "config",
        "tags",
    ],
);
const EXPORT: Level = semantic("export", &["name", "config"]);

const MACRO: Level = Level {
    what: "macro",
    read: &["name", "description"],
    not_read: &["arguments", "docs", "meta", "config"],
    unsupported: &[],
};

/// The findings for every entry of the file's `models:`, `seeds:`, `snapshots:` and
/// `sources:`: warnings, or the first error. Places in the file are looked up only for
/// findings, so a clean file costs no text search.
pub(crate) fn check(file: &Arc<SourceFile>, root: &Value) -> Result<Vec<Diagnostic>, Diagnostic> {
    let mut found = Vec::new();
    for list in ["models", "seeds", "snapshots"] {
        for entry in entries(root, list) {
            check_entry(file, entry, &NODE, &mut found)?;
            if list != "models" {
                models_only(file, entry, &mut found);
            }
            for column in entries(entry, "columns") {
                check_entry(file, column, &COLUMN, &mut found)?;
            }
        }
    }
    for entry in entries(root, "macros") {
        check_entry(file, entry, &MACRO, &mut found)?;
    }
    for exposure in entries(root, "exposures") {
        check_entry(file, exposure, &EXPOSURE, &mut found)?;
    }
    // Semantic entries are often named as the model they describe: each is looked up
    // from its own list on.
    let list_start = |key: &str| crate::semantic::list_start(file, key);
    for model in entries(root, "semantic_models") {
        let from = list_start("semantic_models");
        check_entry_after(file, model, from, &SEMANTIC_MODEL, &mut found)?;
        let start = entry_start(file, model, from);
        for (list, level) in [
            ("entities", &ENTITY),
            ("dimensions", &DIMENSION),
            ("measures", &MEASURE),
        ] {
            for element in entries(model, list) {
                check_entry_after(file, element, start, level, &mut found)?;
            }
        }
    }
    for metric in entries(root, "metrics") {
        check_entry_after(file, metric, list_start("metrics"), &METRIC, &mut found)?;
    }
    for query in entries(root, "saved_queries") {
        let from = list_start("saved_queries");
        check_entry_after(file, query, from, &SAVED_QUERY, &mut found)?;
        let start = entry_start(file, query, from);
        for export in entries(query, "exports") {
            check_entry_after(file, export, start, &EXPORT, &mut found)?;
        }
    }
    for source in entries(root, "sources") {
        check_entry(file, source, &SOURCE, &mut found)?;
        for table in entries(source, "tables") {
            check_entry(file, table, &TABLE, &mut found)?;
            for column in entries(table, "columns") {
                check_entry(file, column, &COLUMN, &mut found)?;
            }
        }
    }
    Ok(found)
}

/// `versions:` and `latest_version:` mean something for models only.
fn models_only(file: &Arc<SourceFile>, entry: &Value, found: &mut Vec<Diagnostic>) {
    for key in ["versions", "latest_version"] {
        if entry.get(key).is_some() {
            let name = entry.get("name").and_then(Value::as_str).unwrap_or("?");
            found.push(
                Diagnostic::warning(
                    Code::PropertyFile,
                    format!("`{key}:` of '{name}' is ignored: only models have versions"),
                )
                .with_span(yaml::key_span_after(file, key, entry_start(file, entry, 0)))
                .with_help("remove it, or describe a model under `models:`"),
            );
        }
    }
}

fn entries<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
}

/// Where an entry starts: the line of its `name:` at or after byte `from` (the start of
/// the list holding it, so that a semantic model named as its model is found as itself).
fn entry_start(file: &Arc<SourceFile>, entry: &Value, from: usize) -> usize {
    entry.get("name").and_then(Value::as_str).map_or(0, |name| {
        let span = yaml::entry_span_after(file, name, from);
        // The start of that line, so the entry's other keys are searched from there.
        file.text[..span.range.start]
            .rfind('\n')
            .map_or(0, |i| i + 1)
    })
}

fn check_entry(
    file: &Arc<SourceFile>,
    entry: &Value,
    level: &Level,
    found: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    check_entry_after(file, entry, 0, level, found)
}

/// [`check_entry`] for an entry written at or after byte `from`.
fn check_entry_after(
    file: &Arc<SourceFile>,
    entry: &Value,
    from: usize,
    level: &Level,
    found: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    let what = level.what;
    let Some(map) = entry.as_mapping() else {
        return Ok(());
    };
    let name = entry.get("name").and_then(Value::as_str).unwrap_or("?");
    let mut at = None;
    for key in map.keys().filter_map(Value::as_str) {
        let kind = level.known(key);
        if matches!(kind, Some(Known::Read)) {
            continue;
        }
        let start = *at.get_or_insert_with(|| entry_start(file, entry, from));
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
                .with_span(span)
                .with_event("CustomKeyInObjectDeprecation");
                found.push(match closest_name(key, level.keys()) {
                    Some(close) => d.with_help(format!("did you mean '{close}'?")),
                    None => d.with_help("check the key against dbt's property file reference"),
                });
            }
        }
    }
    Ok(())
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
            "models:\n  - name: a\n    descripton: x\n  - name: b\n    descripton: y\n    time_spine: {}\n    columns:\n      - name: c\n        data_tpye: int\nsources:\n  - name: s\n    tables:\n      - name: t\n        external: {}\n",
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
    fn versions_are_read_for_models_only() {
        assert_eq!(
            run("models:\n  - name: a\n    latest_version: 2\n"),
            Ok(vec![])
        );
        assert_eq!(
            run("seeds:\n  - name: s\n    versions: [{v: 1}]\n"),
            Ok(vec![(
                "`versions:` of 's' is ignored: only models have versions".to_string(),
                (3, 5)
            )])
        );
        assert!(run("models:\n  - name: a\n    columns:\n      - name: id\n        constraints: [{type: not_null}]\n    config:\n      contract: {enforced: true}\n").unwrap().is_empty());
    }
}
