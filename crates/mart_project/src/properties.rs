//! Property files (`*.yml` beside models and seeds): descriptions, columns, tests, configs,
//! and source declarations.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{normalize_key, ConfigMap};
use crate::contract::{constraints_span, entry_line_start, parse_constraints, Constraint};
use crate::freshness::merge_freshness;
use crate::unit_tests::{parse_unit_tests, FixtureFormat, UnitTestProperties};
use crate::yaml;

#[derive(Debug, Default, Deserialize)]
struct RawPropertyFile {
    #[serde(default)]
    models: Vec<RawNodeProperties>,
    #[serde(default)]
    seeds: Vec<RawNodeProperties>,
    #[serde(default)]
    snapshots: Vec<RawNodeProperties>,
    #[serde(default)]
    sources: Vec<RawSource>,
    /// Read by [`crate::unit_tests`], which gives its errors their lines.
    #[serde(default)]
    unit_tests: serde_yaml::Value,
    #[serde(default)]
    macros: Vec<RawMacroProperties>,
    #[serde(default)]
    groups: Vec<crate::groups::RawGroup>,
}

#[derive(Debug, Deserialize)]
struct RawMacroProperties {
    name: String,
    #[serde(default)]
    description: String,
}

/// What a property file's `macros:` says about one macro: its description (its
/// arguments, docs and meta are not read).
#[derive(Clone, Debug)]
pub struct MacroProperties {
    pub name: String,
    pub description: String,
    pub file: Arc<SourceFile>,
}

#[derive(Debug, Deserialize)]
struct RawNodeProperties {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    config: serde_yaml::Mapping,
    #[serde(default)]
    columns: Vec<RawColumn>,
    #[serde(default, alias = "data_tests")]
    tests: Vec<serde_yaml::Value>,
    #[serde(default)]
    meta: serde_yaml::Mapping,
    #[serde(default)]
    tags: Option<serde_yaml::Value>,
    #[serde(default)]
    docs: Option<serde_yaml::Value>,
    /// A YAML-defined snapshot's input: `ref('x')` or `source('s', 't')`.
    #[serde(default)]
    relation: Option<String>,
    #[serde(default)]
    constraints: Option<serde_yaml::Value>,
    /// Models: `versions:`, read by [`crate::versions`].
    #[serde(default)]
    versions: Vec<serde_yaml::Value>,
    #[serde(default)]
    latest_version: Option<serde_yaml::Value>,
    #[serde(default)]
    deprecation_date: Option<serde_yaml::Value>,
    /// `access:` and `group:` beside `config:` are configs, as in dbt.
    #[serde(default)]
    access: Option<serde_yaml::Value>,
    #[serde(default)]
    group: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawColumn {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    data_type: Option<String>,
    #[serde(default, alias = "data_tests")]
    tests: Vec<serde_yaml::Value>,
    #[serde(default)]
    meta: serde_yaml::Mapping,
    #[serde(default)]
    quote: Option<bool>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    constraints: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
struct RawSource {
    name: String,
    #[serde(default)]
    description: String,
    database: Option<String>,
    schema: Option<String>,
    #[serde(default)]
    loader: String,
    loaded_at_field: Option<String>,
    #[serde(default, deserialize_with = "kept_null")]
    freshness: Option<serde_yaml::Value>,
    #[serde(default)]
    meta: serde_yaml::Mapping,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    config: serde_yaml::Mapping,
    #[serde(default)]
    tables: Vec<RawSourceTable>,
}

/// A key written as `null` is `Some(Null)`, a missing one `None`: dbt tells them apart
/// (a table's `freshness: null` turns its source's rule off).
fn kept_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_yaml::Value>, D::Error> {
    serde_yaml::Value::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
struct RawSourceTable {
    name: String,
    #[serde(default)]
    description: String,
    identifier: Option<String>,
    loaded_at_field: Option<String>,
    #[serde(default, deserialize_with = "kept_null")]
    freshness: Option<serde_yaml::Value>,
    #[serde(default)]
    config: serde_yaml::Mapping,
    #[serde(default)]
    columns: Vec<RawColumn>,
    #[serde(default, alias = "data_tests")]
    tests: Vec<serde_yaml::Value>,
    #[serde(default)]
    meta: serde_yaml::Mapping,
    #[serde(default)]
    tags: Vec<String>,
}

/// A column as documented in a property file.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnProperties {
    pub name: String,
    pub description: String,
    pub data_type: Option<String>,
    /// Test declarations as written (`unique`, `{accepted_values: {...}}`).
    pub tests: Vec<Value>,
    pub meta: Value,
    pub quote: Option<bool>,
    pub tags: Vec<String>,
    /// Built only under an enforced contract, as in dbt.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
}

/// What a property file says about one model, seed or snapshot.
#[derive(Clone, Debug)]
pub struct NodeProperties {
    pub name: String,
    pub description: String,
    pub config: ConfigMap,
    /// Shared with the nodes built from these properties.
    pub columns: Arc<[ColumnProperties]>,
    pub tests: Vec<Value>,
    /// `relation:` of a YAML-defined snapshot.
    pub relation: Option<String>,
    /// Model-level `constraints:`.
    pub constraints: Arc<[Constraint]>,
    /// A versioned model's versions, each with its merged properties; empty otherwise.
    pub versions: Vec<crate::versions::ModelVersion>,
    /// `deprecation_date:` of an unversioned model, as written.
    pub deprecation_date: Option<String>,
    /// The property file this came from.
    pub file: Arc<SourceFile>,
}

/// One `sources:` entry's table.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SourceTable {
    pub source_name: String,
    pub name: String,
    pub identifier: String,
    pub database: Option<String>,
    /// The schema as declared (defaults to the source's name).
    pub schema: String,
    pub description: String,
    pub source_description: String,
    pub loader: String,
    pub loaded_at_field: Option<String>,
    pub freshness: Option<Value>,
    pub columns: Vec<ColumnProperties>,
    pub tests: Vec<Value>,
    pub meta: Value,
    pub tags: Vec<String>,
    pub config: ConfigMap,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// Everything read from one property file.
#[derive(Clone, Debug, Default)]
pub struct PropertyFile {
    pub models: Vec<NodeProperties>,
    pub seeds: Vec<NodeProperties>,
    pub snapshots: Vec<NodeProperties>,
    pub sources: Vec<SourceTable>,
    pub unit_tests: Vec<UnitTestProperties>,
    /// The enabled exposures.
    pub exposures: Vec<crate::Exposure>,
    /// Its semantic models, metrics, saved queries and time spines.
    pub semantic: crate::SemanticLayer,
    pub macros: Vec<MacroProperties>,
    pub groups: Vec<crate::groups::Group>,
    /// Config keys dbt does not know, and the like.
    pub warnings: Vec<Diagnostic>,
}

/// The top-level keys of a property file mart reads.
const READ_KEYS: [&str; 12] = [
    "version",
    "groups",
    "models",
    "seeds",
    "snapshots",
    "sources",
    "unit_tests",
    "exposures",
    "macros",
    "semantic_models",
    "metrics",
    "saved_queries",
];
/// Keys dbt reads that change nothing mart builds or tests; they are not read yet.
const NOT_YET_READ_KEYS: [&str; 1] = ["analyses"];

/// A warning for each top-level key mart does not read.
fn top_level_keys(
    file: &Arc<SourceFile>,
    root: &serde_yaml::Value,
) -> Result<Vec<Diagnostic>, Diagnostic> {
    let mut warnings = crate::property_keys::check(file, root)?;
    let Some(map) = root.as_mapping() else {
        return Ok(warnings);
    };
    for key in map.keys().filter_map(|k| k.as_str()) {
        let span = || yaml::key_span(file, key);
        if READ_KEYS.contains(&key) {
            continue;
        }
        warnings.push(if NOT_YET_READ_KEYS.contains(&key) {
            Diagnostic::warning(
                Code::PropertyFile,
                format!("`{key}:` is not read by mart yet; its entries are ignored"),
            )
            .with_span(span())
            .with_help("they do not change what mart builds or tests")
        } else {
            let all = READ_KEYS.iter().chain(&NOT_YET_READ_KEYS).copied();
            let d = Diagnostic::warning(
                Code::PropertyFile,
                format!("unknown key '{key}' in a property file; it is ignored"),
            )
            .with_span(span())
            .with_event("CustomTopLevelKeyDeprecation");
            match mart_diagnostics::closest_name(key, all) {
                Some(close) => d.with_help(format!("did you mean '{close}'?")),
                None => d.with_help(
                    "property files take models, seeds, snapshots, sources and exposures",
                ),
            }
        });
    }
    Ok(warnings)
}

/// `fixtures` reads a unit test's `fixture:` file by name and format.
pub fn parse_property_file(
    file: &Arc<SourceFile>,
    fixtures: &dyn Fn(&str, FixtureFormat) -> Option<String>,
) -> Result<PropertyFile, Diagnostic> {
    // One YAML parse: the tree is checked, then read into the typed form; only a file
    // that does not fit that form is parsed again, for the error's line.
    let root: serde_yaml::Value = yaml::parse(file, Code::PropertyFile)?;
    let mut key_warnings = top_level_keys(file, &root)?;
    let exposures = crate::exposures::parse_exposures(file, root.get("exposures"))?;
    let semantic = crate::semantic::parse(file, &root)?;
    let raw: RawPropertyFile = match serde_yaml::from_value(root) {
        Ok(raw) => raw,
        Err(_) => yaml::parse(file, Code::PropertyFile)?,
    };
    let mut constraint_warnings = Vec::new();
    let mut sources = Vec::new();
    for source in raw.sources {
        let source_config = config_map(source.config);
        let source_start = entry_line_start(file, &source.name, 0);
        for table in source.tables {
            let table_start = entry_line_start(file, &table.name, source_start);
            let mut tags = source.tags.clone();
            tags.extend(table.tags);
            let mut meta = mapping_json(source.meta.clone());
            if let (Value::Object(m), Value::Object(t)) = (&mut meta, mapping_json(table.meta)) {
                m.extend(t);
            }
            sources.push(SourceTable {
                source_name: source.name.clone(),
                identifier: table.identifier.unwrap_or_else(|| table.name.clone()),
                name: table.name,
                database: source.database.clone(),
                schema: source.schema.clone().unwrap_or_else(|| source.name.clone()),
                description: table.description,
                source_description: source.description.clone(),
                loader: source.loader.clone(),
                loaded_at_field: table
                    .loaded_at_field
                    .or_else(|| source.loaded_at_field.clone()),
                freshness: merge_freshness(
                    source.freshness.clone().map(yaml::to_json),
                    table.freshness.map(yaml::to_json),
                ),
                columns: table
                    .columns
                    .into_iter()
                    .map(|c| column(c, file, table_start, &mut constraint_warnings))
                    .collect::<Result<_, _>>()?,
                tests: table.tests.into_iter().map(yaml::to_json).collect(),
                meta,
                tags,
                config: {
                    let mut config = source_config.clone();
                    crate::config::merge_into(&mut config, &config_map(table.config));
                    config
                },
                file: file.clone(),
            });
        }
    }
    let unit_tests = match &raw.unit_tests {
        serde_yaml::Value::Null => Vec::new(),
        list => parse_unit_tests(file, list, fixtures, &mut key_warnings)?,
    };
    let models = raw
        .models
        .into_iter()
        .map(|n| model_properties(n, file, &mut constraint_warnings))
        .collect::<Result<Vec<_>, _>>()?;
    let mut nodes = |items: Vec<RawNodeProperties>| -> Result<Vec<NodeProperties>, Diagnostic> {
        items
            .into_iter()
            .map(|n| node_properties(n, file, &mut constraint_warnings))
            .collect()
    };
    let seeds = nodes(raw.seeds)?;
    let snapshots = nodes(raw.snapshots)?;
    let warnings = key_warnings
        .into_iter()
        .chain(constraint_warnings)
        .chain(
            models
                .iter()
                .chain(&seeds)
                .chain(&snapshots)
                .flat_map(|n| n.config.keys())
                .chain(sources.iter().flat_map(|s| s.config.keys()))
                .filter(|k| !crate::config::is_known_config(k))
                .map(|k| crate::config::unknown_config_warning(k, yaml::key_span(file, k))),
        )
        .collect();
    Ok(PropertyFile {
        models,
        seeds,
        snapshots,
        sources,
        unit_tests,
        exposures,
        semantic,
        groups: crate::groups::parse_groups(file, raw.groups)?,
        macros: raw
            .macros
            .into_iter()
            .map(|m| MacroProperties {
                name: m.name,
                description: m.description,
                file: file.clone(),
            })
            .collect(),
        warnings,
    })
}

/// A model entry: [`node_properties`] with its versions.
fn model_properties(
    mut raw: RawNodeProperties,
    file: &Arc<SourceFile>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<NodeProperties, Diagnostic> {
    let versions = std::mem::take(&mut raw.versions);
    let latest = raw.latest_version.take();
    let mut props = node_properties(raw, file, warnings)?;
    if latest.is_some() && versions.is_empty() {
        return Err(Diagnostic::error(
            Code::PropertyFile,
            format!("model '{}' has latest_version but no versions", props.name),
        )
        .with_span(yaml::key_span_after(
            file,
            "latest_version",
            entry_line_start(file, &props.name, 0),
        ))
        .with_help(
            "list the model's versions under `versions:` (`- v: 1`), or remove latest_version",
        ));
    }
    if !versions.is_empty() {
        let start = entry_line_start(file, &props.name, 0);
        props.versions = crate::versions::parse_versions(
            file,
            &props,
            start,
            &versions,
            latest.as_ref(),
            warnings,
        )?;
    }
    Ok(props)
}

fn node_properties(
    raw: RawNodeProperties,
    file: &Arc<SourceFile>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<NodeProperties, Diagnostic> {
    let mut config = config_map(raw.config);
    for (key, value) in [("access", raw.access), ("group", raw.group)] {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            config.insert(key.into(), yaml::to_json(value));
        }
    }
    // Top-level `meta:`/`tags:`/`docs:` on an entry are configs in dbt too.
    if !raw.meta.is_empty() {
        config.insert("meta".into(), mapping_json(raw.meta));
    }
    if let Some(tags) = raw.tags {
        config.insert("tags".into(), yaml::to_json(tags));
    }
    if let Some(docs) = raw.docs {
        config.insert("docs".into(), yaml::to_json(docs));
    }
    // Where the entry starts matters only to point at its constraints; finding it for
    // every entry of a large property file would cost more than parsing the file.
    let has_constraints =
        raw.constraints.is_some() || raw.columns.iter().any(|c| c.constraints.is_some());
    let start = if has_constraints {
        entry_line_start(file, &raw.name, 0)
    } else {
        0
    };
    let constraints = match &raw.constraints {
        Some(value) => parse_constraints(
            value,
            true,
            &format!("constraints of '{}'", raw.name),
            &constraints_span(file, start),
            warnings,
        )?,
        None => Vec::new(),
    };
    Ok(NodeProperties {
        columns: raw
            .columns
            .into_iter()
            .map(|c| column(c, file, start, warnings))
            .collect::<Result<_, _>>()?,
        name: raw.name,
        description: raw.description,
        config,
        tests: raw.tests.into_iter().map(yaml::to_json).collect(),
        relation: raw.relation,
        constraints: constraints.into(),
        versions: Vec::new(),
        deprecation_date: raw
            .deprecation_date
            .as_ref()
            .and_then(crate::versions::date_string),
        file: file.clone(),
    })
}

/// A column of the entry starting at byte `entry_start`.
pub(crate) fn column(
    raw: RawColumn,
    file: &Arc<SourceFile>,
    entry_start: usize,
    warnings: &mut Vec<Diagnostic>,
) -> Result<ColumnProperties, Diagnostic> {
    let constraints = match &raw.constraints {
        Some(value) => parse_constraints(
            value,
            false,
            &format!("constraints of column '{}'", raw.name),
            &constraints_span(file, entry_line_start(file, &raw.name, entry_start)),
            warnings,
        )?,
        None => Vec::new(),
    };
    Ok(ColumnProperties {
        constraints,
        name: raw.name,
        description: raw.description,
        data_type: raw.data_type,
        tests: raw.tests.into_iter().map(yaml::to_json).collect(),
        meta: mapping_json(raw.meta),
        quote: raw.quote,
        tags: raw.tags,
    })
}

fn mapping_json(map: serde_yaml::Mapping) -> Value {
    yaml::to_json(serde_yaml::Value::Mapping(map))
}

pub(crate) fn config_map(map: serde_yaml::Mapping) -> ConfigMap {
    map.into_iter()
        .map(|(k, v)| (normalize_key(&yaml::key_string(k)), yaml::to_json(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_keys_mart_does_not_read_are_said() {
        let file = Arc::new(SourceFile::new(
            "models/p.yml",
            "version: 2\nanalyses:\n  - name: e\nmodles:\n  - name: x\n",
        ));
        let parsed = parse_property_file(&file, &|_, _| None).unwrap();
        let said: Vec<(String, (usize, usize))> = parsed
            .warnings
            .iter()
            .map(|w| (w.message.clone(), w.span.as_ref().unwrap().line_col()))
            .collect();
        assert_eq!(
            said,
            [
                (
                    "`analyses:` is not read by mart yet; its entries are ignored".to_string(),
                    (2, 1)
                ),
                (
                    "unknown key 'modles' in a property file; it is ignored".to_string(),
                    (4, 1)
                ),
            ]
        );
        assert_eq!(
            parsed.warnings[1].help.as_deref(),
            Some("did you mean 'models'?")
        );
    }

    #[test]
    fn reads_models_and_sources() {
        let file = Arc::new(SourceFile::new(
            "models/_m.yml",
            "version: 2\nmodels:\n  - name: dim_user\n    description: Users\n    config: {materialized: table, +tags: [a]}\n    columns:\n      - name: user_id\n        data_tests: [unique, not_null]\nsources:\n  - name: raw\n    schema: raw_data\n    tables:\n      - name: events\n        identifier: user_event\n",
        ));
        let props = parse_property_file(&file, &|_, _| None).unwrap();
        let m = &props.models[0];
        assert_eq!(m.name, "dim_user");
        assert_eq!(m.config["materialized"], "table");
        assert_eq!(m.config["tags"], serde_json::json!(["a"]));
        assert_eq!(m.columns[0].tests.len(), 2);
        let s = &props.sources[0];
        assert_eq!(
            (
                s.source_name.as_str(),
                s.name.as_str(),
                s.identifier.as_str(),
                s.schema.as_str()
            ),
            ("raw", "events", "user_event", "raw_data")
        );
    }

    #[test]
    fn constraint_findings_point_at_their_own_entry() {
        let text = "models:\n  - name: a\n    columns:\n      - name: id\n        constraints: [{type: not_null}]\n  - name: b\n    constraints: [{type: primary_key, columns: [id]}]\n    columns:\n      - name: id\n        constraints: [{type: unique, colums: [id]}]\n      - name: v\n        constraints: [{type: nope}]\n";
        let file = Arc::new(SourceFile::new("models/_m.yml", text));
        let err = parse_property_file(&file, &|_, _| None).unwrap_err();
        assert_eq!(
            err.message,
            "constraints of column 'v': unknown constraint type 'nope' in constraint 1"
        );
        assert_eq!(err.span.unwrap().line_col(), (12, 9));
        let ok = text.replace("{type: nope}", "{type: check, expression: v > 0}");
        let file = Arc::new(SourceFile::new("models/_m.yml", ok));
        let parsed = parse_property_file(&file, &|_, _| None).unwrap();
        let b = &parsed.models[1];
        assert_eq!(b.constraints[0].columns, ["id"]);
        assert_eq!(b.columns[0].constraints.len(), 1);
        let warning = &parsed.warnings[0];
        assert_eq!(
            warning.message,
            "constraints of column 'id': unknown key 'colums' in constraint 1; it is ignored"
        );
        assert_eq!(warning.span.as_ref().unwrap().line_col(), (10, 9));
        assert_eq!(warning.help.as_deref(), Some("a constraint here takes type, name, expression, warn_unenforced, warn_unsupported, to, to_columns"));
    }

    #[test]
    fn wrong_shape_points_at_the_line() {
        let file = Arc::new(SourceFile::new(
            "models/_m.yml",
            "models:\n  - name: a\n    columns: nope\n",
        ));
        let err = parse_property_file(&file, &|_, _| None).unwrap_err();
        assert_eq!(err.span.unwrap().line_col().0, 3);
    }
}
