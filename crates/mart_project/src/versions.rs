//! Model versions (`versions:` and `latest_version:` of a model's property entry), as
//! dbt 1.10 reads them: each version is a model of its own, defined in `<name>_v<v>.sql`
//! (or its `defined_in:` file; the latest version may also be `<name>.sql`), with the
//! entry's properties merged with the version's.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use serde_yaml::Value;

use crate::config::merge_into;
use crate::contract::{constraints_span, parse_constraints};
use crate::properties::{ColumnProperties, NodeProperties};
use crate::yaml;
use crate::NodeFile;

/// One version of a versioned model, with the properties it has after merging.
#[derive(Clone, Debug)]
pub struct ModelVersion {
    /// The version identifier as written (`2`, `1.5`, `"beta"`).
    pub v: String,
    /// The model's latest version (the same for all of its versions).
    pub latest: String,
    /// The file stem that defines this version (`defined_in:`, else `<name>_v<v>`).
    pub defined_in: String,
    /// `deprecation_date:` of the version, as written (a date or a timestamp).
    pub deprecation_date: Option<String>,
    /// The entry's properties with the version's merged in (description, columns after
    /// `include`/`exclude`, config, tests, constraints).
    pub properties: NodeProperties,
}

impl ModelVersion {
    pub fn is_latest(&self) -> bool {
        self.v == self.latest
    }
}

/// dbt's order of version identifiers: numeric when both are numbers, else as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// A version identifier (`v:`, `latest_version:`, `ref(..., v=...)`) as text: numbers as
/// YAML writes them, strings as they are.
pub fn version_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A date or timestamp value (`2024-01-01`, `2024-01-01T00:00:00Z`) as text.
pub(crate) fn date_string(value: &Value) -> Option<String> {
    version_string(value).map(|s| s.trim().to_string())
}

/// Makes each model file that defines a version of a versioned model (`<name>_v<v>`,
/// its `defined_in:`, or `<name>` for the latest version) that version: it takes the
/// model's name and its fqn ends with `<name>`, `v<v>`. A version without a file is a
/// warning, as in dbt.
pub(crate) fn attach_versions(
    models: &mut [NodeFile],
    properties: &BTreeMap<String, NodeProperties>,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for props in properties.values().filter(|p| !p.versions.is_empty()) {
        for version in &props.versions {
            let by_stem = |m: &NodeFile| m.version.is_none() && m.name == version.defined_in;
            let found = models.iter().position(by_stem).or_else(|| {
                version
                    .is_latest()
                    .then(|| {
                        models
                            .iter()
                            .position(|m| m.version.is_none() && m.name == props.name)
                    })
                    .flatten()
            });
            let Some(i) = found else {
                warnings.push(
                    Diagnostic::warning(
                        Code::PropertyFile,
                        format!(
                            "version {} of model '{}' has no file: no model is named '{}'",
                            version.v, props.name, version.defined_in
                        ),
                    )
                    .with_span(yaml::entry_span(&props.file, &props.name))
                    .with_help(format!(
                        "add models/.../{}.sql, or point `defined_in:` at the file",
                        version.defined_in
                    )),
                );
                continue;
            };
            let model = &mut models[i];
            model.name = props.name.clone();
            if let Some(last) = model.fqn.last_mut() {
                *last = props.name.clone();
            }
            model.fqn.push(format!("v{}", version.v));
            model.version = Some(Arc::new(version.clone()));
        }
    }
    warnings
}

/// The versions of `base` (a model entry) from its `versions:` list.
pub(crate) fn parse_versions(
    file: &Arc<SourceFile>,
    base: &NodeProperties,
    entry_start: usize,
    versions: &[Value],
    latest: Option<&Value>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<ModelVersion>, Diagnostic> {
    let name = &base.name;
    let at = |key: &str| yaml::key_span_after(file, key, entry_start);
    let error = |span: Span, message: String, help: &str| {
        Diagnostic::error(Code::PropertyFile, message)
            .with_span(span)
            .with_help(help.to_string())
    };
    let mut ids: Vec<String> = Vec::new();
    for version in versions {
        let Some(v) = version.get("v").and_then(version_string) else {
            return Err(error(
                at("versions"),
                format!("a version of model '{name}' has no `v:`"),
                "give each entry of `versions:` its identifier: `- v: 2`",
            ));
        };
        if ids.contains(&v) {
            return Err(error(
                at("versions"),
                format!("model '{name}' lists version '{v}' twice"),
                "keep one entry per version",
            ));
        }
        ids.push(v);
    }
    let latest = match latest {
        None | Some(Value::Null) => ids
            .iter()
            .max_by(|a, b| compare_versions(a, b))
            .cloned()
            .unwrap_or_default(),
        Some(value) => match version_string(value).filter(|l| ids.contains(l)) {
            Some(l) => l,
            None => {
                return Err(error(
                    at("latest_version"),
                    format!(
                        "latest_version {} of model '{name}' is not one of its versions: {}",
                        version_string(value).unwrap_or_else(|| format!("{value:?}")),
                        ids.join(", ")
                    ),
                    "set latest_version to one of the `v:` values, or add that version",
                ))
            }
        },
    };
    versions
        .iter()
        .zip(ids)
        .map(|(raw, v)| {
            let properties = merged_properties(file, base, raw, &v, entry_start, warnings)?;
            let defined_in = raw
                .get("defined_in")
                .and_then(Value::as_str)
                .map(|d| d.trim_end_matches(".sql").to_string())
                .unwrap_or_else(|| format!("{name}_v{v}"));
            Ok(ModelVersion {
                deprecation_date: raw.get("deprecation_date").and_then(date_string),
                latest: latest.clone(),
                defined_in,
                v,
                properties,
            })
        })
        .collect()
}

/// The entry's properties with one version's merged in, as dbt patches a versioned node.
fn merged_properties(
    file: &Arc<SourceFile>,
    base: &NodeProperties,
    raw: &Value,
    v: &str,
    entry_start: usize,
    warnings: &mut Vec<Diagnostic>,
) -> Result<NodeProperties, Diagnostic> {
    let mut merged = base.clone();
    merged.versions = Vec::new();
    if let Some(description) = raw.get("description").and_then(Value::as_str) {
        if !description.is_empty() {
            merged.description = description.to_string();
        }
    }
    if let Some(Value::Mapping(config)) = raw.get("config") {
        merge_into(
            &mut merged.config,
            &crate::properties::config_map(config.clone()),
        );
    }
    for key in ["access", "docs"] {
        if let Some(value) = raw.get(key).filter(|v| !v.is_null()) {
            merged
                .config
                .insert(key.into(), yaml::to_json(value.clone()));
        }
    }
    if let Some(tests) = raw.get("data_tests").or_else(|| raw.get("tests")) {
        merged.tests = tests
            .as_sequence()
            .into_iter()
            .flatten()
            .cloned()
            .map(yaml::to_json)
            .collect();
    }
    if let Some(constraints) = raw.get("constraints").filter(|c| !c.is_null()) {
        let what = format!("constraints of version {v} of '{}'", base.name);
        let span = constraints_span(file, entry_start);
        merged.constraints = parse_constraints(constraints, true, &what, &span, warnings)?.into();
    }
    let mut filter = IncludeExclude::All(Vec::new());
    let mut own: Vec<ColumnProperties> = Vec::new();
    let mut seen_filter = false;
    for column in raw
        .get("columns")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        if column.get("include").is_some() || column.get("exclude").is_some() {
            if seen_filter {
                return Err(Diagnostic::error(
                    Code::PropertyFile,
                    format!(
                        "version {v} of model '{}' has more than one include/exclude entry",
                        base.name
                    ),
                )
                .with_span(yaml::key_span_after(file, "include", entry_start))
                .with_help("keep one `- include: ...` entry (with its `exclude:`) per version"));
            }
            seen_filter = true;
            filter = IncludeExclude::read(column);
        } else {
            let raw_column = serde_yaml::from_value(column.clone()).map_err(|e| {
                Diagnostic::error(
                    Code::PropertyFile,
                    format!("a column of version {v} of model '{}': {e}", base.name),
                )
                .with_span(yaml::key_span_after(file, "columns", entry_start))
                .with_help("a version's column has `name:` and the keys of a model's column")
            })?;
            own.push(crate::properties::column(
                raw_column,
                file,
                entry_start,
                warnings,
            )?);
        }
    }
    let mut columns: Vec<ColumnProperties> = base
        .columns
        .iter()
        .filter(|c| filter.includes(&c.name))
        .cloned()
        .collect();
    columns.extend(own);
    merged.columns = columns.into();
    Ok(merged)
}

/// A version's `- include: ... exclude: [...]` column entry: which of the model's
/// columns the version keeps (all of them without one).
enum IncludeExclude {
    /// `include: '*'` / `all` (or no entry), minus the excluded columns.
    All(Vec<String>),
    /// `include: [a, b]`, minus the excluded columns.
    Listed(Vec<String>, Vec<String>),
}

impl IncludeExclude {
    fn read(entry: &Value) -> Self {
        let names = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::Sequence(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        let exclude = names(entry.get("exclude"));
        match entry.get("include") {
            None | Some(Value::Null) => IncludeExclude::All(exclude),
            Some(Value::String(s)) if s == "*" || s == "all" => IncludeExclude::All(exclude),
            include => IncludeExclude::Listed(names(include), exclude),
        }
    }

    fn includes(&self, column: &str) -> bool {
        match self {
            IncludeExclude::All(exclude) => !exclude.iter().any(|e| e == column),
            IncludeExclude::Listed(include, exclude) => {
                include.iter().any(|i| i == column) && !exclude.iter().any(|e| e == column)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically_when_both_are_numbers() {
        assert_eq!(compare_versions("10", "9"), Ordering::Greater);
        assert_eq!(compare_versions("1.5", "2"), Ordering::Less);
        assert_eq!(compare_versions("beta", "alpha"), Ordering::Greater);
        assert_eq!(compare_versions("2", "2"), Ordering::Equal);
    }

    #[test]
    fn include_exclude_keeps_the_named_columns() {
        let read = |text: &str| IncludeExclude::read(&serde_yaml::from_str(text).unwrap());
        let all_but_b = read("{include: '*', exclude: [b]}");
        assert!(all_but_b.includes("a") && !all_but_b.includes("b"));
        let only_a = read("{include: [a, b], exclude: b}");
        assert!(only_a.includes("a") && !only_a.includes("b") && !only_a.includes("c"));
        assert!(read("{exclude: [x]}").includes("y"));
    }
}
