//! dbt's unit tests (`unit_tests:` in property files): a model, the rows its inputs are
//! given, the rows it must return, and the macros, vars and env vars it sees.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile, Span};
use serde_json::Value;
use serde_yaml::Value as Yaml;

use crate::config::{normalize_key, ConfigMap};
use crate::yaml;

/// How fixture rows are written (`format:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FixtureFormat {
    Dict,
    Csv,
    Sql,
}

impl FixtureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FixtureFormat::Dict => "dict",
            FixtureFormat::Csv => "csv",
            FixtureFormat::Sql => "sql",
        }
    }
}

/// Rows as a table: the columns named anywhere (in order of first use), and each row's
/// values (`null` where a row names no value). CSV values are strings, as in dbt.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FixtureTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// The rows of a `given:` input or of `expect:`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FixtureRows {
    /// `dict` and `csv`.
    Table(FixtureTable),
    /// `sql`: a query that returns the rows (all columns).
    Sql(String),
}

/// One fixture as written, for the manifest (`format`, `rows` or `fixture`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fixture {
    pub format: FixtureFormat,
    pub rows: FixtureRows,
    /// The rows as written (a list of dicts or a string); null when neither `rows:` nor
    /// `fixture:` is written.
    pub written_rows: Value,
    /// `fixture:`: a file under `<test-path>/fixtures/`.
    pub fixture: Option<String>,
}

/// One `given:` entry.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GivenInput {
    /// `ref('x')`, `source('s', 't')` or `this`, as written.
    pub input: String,
    pub fixture: Fixture,
}

/// `overrides:`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UnitTestOverrides {
    pub macros: BTreeMap<String, Value>,
    pub vars: serde_json::Map<String, Value>,
    pub env_vars: BTreeMap<String, String>,
}

/// One `unit_tests:` entry.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct UnitTestProperties {
    pub name: String,
    pub model: String,
    pub description: String,
    pub given: Vec<GivenInput>,
    pub expect: Fixture,
    pub overrides: UnitTestOverrides,
    /// `config:` (tags, enabled, meta).
    pub config: ConfigMap,
    /// Where the entry's name is written.
    pub span: Span,
}

impl UnitTestProperties {
    /// Where `key` of this entry is written (the entry's name when nowhere).
    pub fn key_span(&self, key: &str) -> Span {
        span_in_entry(&self.span, key)
    }
}

fn span_in_entry(entry: &Span, key: &str) -> Span {
    let found = yaml::key_span_after(&entry.file, key, entry.range.start);
    if found.range.start < entry.range.start {
        return entry.clone();
    }
    found
}

const ENTRY_KEYS: [&str; 8] = [
    "name",
    "model",
    "description",
    "given",
    "expect",
    "overrides",
    "config",
    "versions",
];
const OVERRIDE_KEYS: [&str; 3] = ["macros", "vars", "env_vars"];

/// Reads the `unit_tests:` list of a property file; `fixtures` finds a `fixture:` file by
/// name and format. Unknown keys are warnings with "did you mean".
pub(crate) fn parse_unit_tests(
    file: &Arc<SourceFile>,
    list: &Yaml,
    fixtures: &dyn Fn(&str, FixtureFormat) -> Option<String>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<UnitTestProperties>, Diagnostic> {
    let top = yaml::key_span(file, "unit_tests");
    let Some(entries) = list.as_sequence() else {
        return Err(error(top, "`unit_tests:` must be a list of unit tests")
            .with_help("write each unit test as `- name: ...` under `unit_tests:`"));
    };
    let mut tests = Vec::with_capacity(entries.len());
    for entry in entries {
        let Some(map) = entry.as_mapping() else {
            return Err(error(
                top,
                "a unit test must be a mapping with name, model, given and expect",
            ));
        };
        let Some(name) = map.get("name").and_then(Yaml::as_str) else {
            return Err(error(top, "a unit test has no `name:`")
                .with_help("give every unit test a unique `name:`"));
        };
        let span = yaml::entry_span(file, name);
        let at = |key: &str| span_in_entry(&span, key);
        for key in map.keys().filter_map(Yaml::as_str) {
            if !ENTRY_KEYS.contains(&key) {
                warnings.push(unknown_key(at(key), key, &ENTRY_KEYS, "unit test"));
            }
        }
        if map.contains_key("versions") {
            return Err(error(
                at("versions"),
                format!("unit test '{name}': `versions:` (unit tests of versioned models) is not supported by mart yet"),
            )
            .with_help("remove `versions:`; mart has no model versions"));
        }
        let Some(model) = map.get("model").and_then(Yaml::as_str) else {
            return Err(error(span, format!("unit test '{name}' has no `model:`"))
                .with_help("name the model it tests: `model: my_model`"));
        };
        let given = match map.get("given") {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Sequence(items)) => items
                .iter()
                .map(|item| given_input(item, &at("given"), name, fixtures))
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(error(
                    at("given"),
                    format!("unit test '{name}': `given:` must be a list of inputs"),
                )
                .with_help("write `- input: ref('x')` with `rows:` for each input"))
            }
        };
        let Some(expect) = map.get("expect") else {
            return Err(error(span, format!("unit test '{name}' has no `expect:`"))
                .with_help("add `expect: {rows: [...]}` with the rows the model must return"));
        };
        let expect = fixture(expect, &at("expect"), name, "expect", fixtures)?;
        let overrides = match map.get("overrides") {
            None | Some(Yaml::Null) => UnitTestOverrides::default(),
            Some(value) => overrides(value, &at, name, warnings)?,
        };
        let config = match map.get("config") {
            None | Some(Yaml::Null) => ConfigMap::new(),
            Some(Yaml::Mapping(m)) => m
                .iter()
                .map(|(k, v)| {
                    (
                        normalize_key(&yaml::key_string(k.clone())),
                        yaml::to_json(v.clone()),
                    )
                })
                .collect(),
            Some(_) => {
                return Err(error(
                    at("config"),
                    format!("unit test '{name}': `config:` must be a mapping"),
                ))
            }
        };
        tests.push(UnitTestProperties {
            name: name.to_string(),
            model: model.to_string(),
            description: map
                .get("description")
                .and_then(Yaml::as_str)
                .unwrap_or_default()
                .to_string(),
            given,
            expect,
            overrides,
            config,
            span,
        });
    }
    Ok(tests)
}

fn given_input(
    item: &Yaml,
    at: &Span,
    test: &str,
    fixtures: &dyn Fn(&str, FixtureFormat) -> Option<String>,
) -> Result<GivenInput, Diagnostic> {
    let input = item.get("input").and_then(Yaml::as_str).ok_or_else(|| {
        error(
            at.clone(),
            format!("unit test '{test}': a `given:` entry has no `input:`"),
        )
        .with_help("name the input: `input: ref('x')`, `input: source('s', 't')` or `input: this`")
    })?;
    Ok(GivenInput {
        input: input.trim().to_string(),
        fixture: fixture(item, at, test, input, fixtures)?,
    })
}

/// `format:` with `rows:` or `fixture:`.
fn fixture(
    value: &Yaml,
    at: &Span,
    test: &str,
    what: &str,
    fixtures: &dyn Fn(&str, FixtureFormat) -> Option<String>,
) -> Result<Fixture, Diagnostic> {
    let fail =
        |message: String| error(at.clone(), format!("unit test '{test}', {what}: {message}"));
    let format = match value.get("format").and_then(Yaml::as_str).unwrap_or("dict") {
        "dict" => FixtureFormat::Dict,
        "csv" => FixtureFormat::Csv,
        "sql" => FixtureFormat::Sql,
        other => {
            return Err(fail(format!("unknown format '{other}'"))
                .with_help("format is one of dict, csv, sql"))
        }
    };
    let name = value.get("fixture").and_then(Yaml::as_str);
    let (written, text) = match (value.get("rows"), name) {
        (Some(rows), _) => (
            yaml::to_json(rows.clone()),
            rows.as_str().map(str::to_string),
        ),
        (None, Some(name)) => {
            if format == FixtureFormat::Dict {
                return Err(fail(format!(
                    "fixture '{name}' needs `format: csv` or `format: sql`"
                )));
            }
            let text = fixtures(name, format).ok_or_else(|| {
                fail(format!(
                    "fixture '{name}' is not a file under <test-path>/fixtures/"
                ))
                .with_help(format!("create tests/fixtures/{name}.{}", format.as_str()))
            })?;
            (Value::Null, Some(text))
        }
        // No rows: an empty table (`written_rows` stays null to say so).
        (None, None) => (Value::Null, None),
    };
    let rows = match format {
        FixtureFormat::Dict if written.is_null() => FixtureRows::Table(FixtureTable::default()),
        FixtureFormat::Dict => FixtureRows::Table(dict_rows(&written).map_err(fail)?),
        FixtureFormat::Csv => {
            FixtureRows::Table(csv_rows(text.as_deref().unwrap_or_default()).map_err(fail)?)
        }
        FixtureFormat::Sql => match text {
            Some(sql) => FixtureRows::Sql(sql),
            None => {
                return Err(fail(
                    "format sql needs `rows:` as a SQL query string".into(),
                ))
            }
        },
    };
    Ok(Fixture {
        format,
        rows,
        written_rows: written,
        fixture: name.map(str::to_string),
    })
}

fn dict_rows(rows: &Value) -> Result<FixtureTable, String> {
    let Value::Array(items) = rows else {
        return Err("format dict needs `rows:` as a list of mappings ({id: 1, name: a})".into());
    };
    let mut table = FixtureTable::default();
    let mut maps = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(map) = item else {
            return Err(format!(
                "a row must be a mapping of column to value, found {item}"
            ));
        };
        for key in map.keys() {
            if !table.columns.contains(key) {
                table.columns.push(key.clone());
            }
        }
        maps.push(map);
    }
    table.rows = maps
        .into_iter()
        .map(|m| {
            table
                .columns
                .iter()
                .map(|c| m.get(c).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    Ok(table)
}

/// CSV with a header line; every value is a string (cast to the column's type later).
fn csv_rows(text: &str) -> Result<FixtureTable, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| format!("invalid CSV header: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("invalid CSV: {e}"))?;
        rows.push(
            record
                .iter()
                .map(|v| Value::String(v.to_string()))
                .collect(),
        );
    }
    Ok(FixtureTable { columns, rows })
}

fn overrides(
    value: &Yaml,
    at: &dyn Fn(&str) -> Span,
    test: &str,
    warnings: &mut Vec<Diagnostic>,
) -> Result<UnitTestOverrides, Diagnostic> {
    let Some(map) = value.as_mapping() else {
        return Err(error(
            at("overrides"),
            format!(
                "unit test '{test}': `overrides:` must be a mapping of macros, vars and env_vars"
            ),
        ));
    };
    for key in map.keys().filter_map(Yaml::as_str) {
        if !OVERRIDE_KEYS.contains(&key) {
            warnings.push(unknown_key(
                at(key),
                key,
                &OVERRIDE_KEYS,
                "unit test override",
            ));
        }
    }
    let section = |key: &str| -> Result<serde_json::Map<String, Value>, Diagnostic> {
        match map.get(key).map(|v| yaml::to_json(v.clone())) {
            None | Some(Value::Null) => Ok(serde_json::Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(error(
                at(key),
                format!("unit test '{test}': `overrides.{key}` must be a mapping"),
            )),
        }
    };
    let env_vars = section("env_vars")?
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    Ok(UnitTestOverrides {
        macros: section("macros")?.into_iter().collect(),
        vars: section("vars")?,
        env_vars,
    })
}

fn unknown_key(span: Span, key: &str, known: &[&str], what: &str) -> Diagnostic {
    let d = Diagnostic::warning(
        Code::PropertyFile,
        format!("unknown key '{key}' in a {what}; it is ignored"),
    )
    .with_span(span);
    match closest_name(key, known.iter().copied()) {
        Some(close) => d.with_help(format!("did you mean '{close}'?")),
        None => d.with_help(format!("a {what} takes {}", known.join(", "))),
    }
}

fn error(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(Code::PropertyFile, message).with_span(span)
}

/// The text of fixture `name` (`<name>.csv` or `<name>.sql`) in the `fixtures` folder of
/// the first test path that has it.
pub(crate) fn read_fixture(
    root: &Path,
    test_paths: &[String],
    name: &str,
    format: FixtureFormat,
) -> Option<String> {
    test_paths.iter().find_map(|dir| {
        let path = root
            .join(dir)
            .join("fixtures")
            .join(format!("{name}.{}", format.as_str()));
        std::fs::read_to_string(path).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(Vec<UnitTestProperties>, Vec<Diagnostic>), Diagnostic> {
        let file = Arc::new(SourceFile::new("models/u.yml", text));
        let root: Yaml = serde_yaml::from_str(text).unwrap();
        let mut warnings = Vec::new();
        let fixtures = |name: &str, format: FixtureFormat| {
            (name == "f" && format == FixtureFormat::Csv).then(|| "id\n7\n".to_string())
        };
        parse_unit_tests(&file, &root["unit_tests"], &fixtures, &mut warnings)
            .map(|t| (t, warnings))
    }

    #[test]
    fn reads_dict_csv_sql_and_fixture_files() {
        let (tests, warnings) = parse(
            "unit_tests:\n  - name: t\n    model: m\n    given:\n      - input: ref('a')\n        rows:\n          - {id: 1}\n          - {id: 2, name: x}\n      - input: source('s', 't')\n        format: csv\n        rows: |\n          id,name\n          3,y\n      - input: ref('c')\n        format: sql\n        rows: select 1 as id\n      - input: ref('d')\n        format: csv\n        fixture: f\n    expect:\n      rows: [{id: 1}]\n    overrides:\n      macros: {is_incremental: true}\n      vars: {v: 1}\n      env_vars: {E: 2}\n    config: {tags: [u]}\n",
        )
        .unwrap();
        assert!(warnings.is_empty());
        let t = &tests[0];
        assert_eq!((t.name.as_str(), t.model.as_str()), ("t", "m"));
        let table = |i: usize| match &t.given[i].fixture.rows {
            FixtureRows::Table(t) => t.clone(),
            FixtureRows::Sql(_) => panic!("not a table"),
        };
        assert_eq!(table(0).columns, ["id", "name"]);
        assert_eq!(table(0).rows[0], [Value::from(1), Value::Null]);
        assert_eq!(t.given[1].input, "source('s', 't')");
        assert_eq!(table(1).rows, [[Value::from("3"), Value::from("y")]]);
        assert_eq!(
            t.given[2].fixture.rows,
            FixtureRows::Sql("select 1 as id".into())
        );
        assert_eq!(table(3).rows, [[Value::from("7")]]);
        assert_eq!(t.overrides.macros["is_incremental"], Value::Bool(true));
        assert_eq!(t.overrides.env_vars["E"], "2");
        assert_eq!(t.config["tags"], serde_json::json!(["u"]));
        assert_eq!(t.span.line_col(), (2, 11));
    }

    #[test]
    fn malformed_entries_name_the_line() {
        let err = parse("unit_tests:\n  - name: t\n    model: m\n    given:\n      - rows: []\n    expect: {rows: []}\n").unwrap_err();
        assert_eq!(
            err.message,
            "unit test 't': a `given:` entry has no `input:`"
        );
        assert_eq!(err.span.unwrap().line_col().0, 4);
        let err =
            parse("unit_tests:\n  - name: t\n    given: []\n    expect: {rows: []}\n").unwrap_err();
        assert_eq!(err.message, "unit test 't' has no `model:`");
        assert_eq!(err.span.unwrap().line_col().0, 2);
        let err =
            parse("unit_tests:\n  - name: t\n    model: m\n    expect: {format: json, rows: []}\n")
                .unwrap_err();
        assert_eq!(err.message, "unit test 't', expect: unknown format 'json'");
        assert_eq!(err.span.unwrap().line_col().0, 4);
        let err = parse(
            "unit_tests:\n  - name: t\n    model: m\n    expect: {format: csv, fixture: nope}\n",
        )
        .unwrap_err();
        assert_eq!(err.help.as_deref(), Some("create tests/fixtures/nope.csv"));
    }

    #[test]
    fn unknown_keys_warn_with_did_you_mean() {
        let (_, warnings) = parse("unit_tests:\n  - name: t\n    model: m\n    expcet: 1\n    expect: {rows: []}\n    overrides:\n      varz: {}\n").unwrap();
        let said: Vec<_> = warnings
            .iter()
            .map(|w| {
                (
                    w.message.as_str(),
                    w.help.as_deref().unwrap_or_default(),
                    w.span.as_ref().unwrap().line_col().0,
                )
            })
            .collect();
        assert_eq!(
            said,
            [
                (
                    "unknown key 'expcet' in a unit test; it is ignored",
                    "did you mean 'expect'?",
                    4
                ),
                (
                    "unknown key 'varz' in a unit test override; it is ignored",
                    "did you mean 'vars'?",
                    7
                ),
            ]
        );
    }
}
