//! `exposures:` in property files: the dashboards, notebooks and applications that read
//! the project's models, checked as dbt checks them.

use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigMap;
use crate::yaml;

/// dbt's exposure types and maturities.
const TYPES: [&str; 5] = ["dashboard", "notebook", "analysis", "ml", "application"];
const MATURITIES: [&str; 3] = ["high", "medium", "low"];

#[derive(Debug, Deserialize)]
struct RawExposure {
    name: String,
    #[serde(rename = "type")]
    exposure_type: Option<String>,
    owner: Option<ExposureOwner>,
    #[serde(default)]
    depends_on: Vec<String>,
    url: Option<String>,
    maturity: Option<String>,
    #[serde(default)]
    description: String,
    label: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    meta: serde_yaml::Mapping,
    #[serde(default)]
    config: serde_yaml::Mapping,
}

/// Who owns an exposure: dbt wants a name or an email.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct ExposureOwner {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One entry of an exposure's `depends_on:`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExposureDependency {
    Ref {
        package: Option<String>,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
}

/// An enabled exposure.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Exposure {
    pub name: String,
    pub exposure_type: String,
    pub owner: ExposureOwner,
    pub depends_on: Vec<ExposureDependency>,
    pub url: Option<String>,
    pub maturity: Option<String>,
    pub description: String,
    pub label: Option<String>,
    /// The entry's tags, then those of its config.
    pub tags: Vec<String>,
    pub meta: Value,
    pub config: ConfigMap,
    #[serde(with = "mart_diagnostics::shared_files")]
    pub file: Arc<SourceFile>,
}

/// The enabled exposures of a property file's `exposures:` list.
pub(crate) fn parse_exposures(
    file: &Arc<SourceFile>,
    list: Option<&serde_yaml::Value>,
) -> Result<Vec<Exposure>, Diagnostic> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let raw: Vec<RawExposure> = serde_yaml::from_value(list.clone()).map_err(|e| {
        Diagnostic::error(Code::PropertyFile, format!("invalid exposure: {e}"))
            .with_span(yaml::key_span(file, "exposures"))
            .with_help("an exposure needs name, type, owner and depends_on")
    })?;
    let mut exposures = Vec::new();
    for raw in raw {
        let exposure = exposure(file, raw)?;
        if exposure.config.get("enabled") != Some(&Value::Bool(false)) {
            exposures.push(exposure);
        }
    }
    Ok(exposures)
}

fn exposure(file: &Arc<SourceFile>, raw: RawExposure) -> Result<Exposure, Diagnostic> {
    let entry = yaml::entry_span(file, &raw.name);
    let name = raw.name.clone();
    let key_at = |key: &str| yaml::key_span_after(file, key, entry.range.start);
    let error = |message: String| Diagnostic::error(Code::PropertyFile, message);
    if !is_identifier(&name) {
        return Err(error(format!(
            "exposure name '{name}' may hold only letters, digits and underscores"
        ))
        .with_span(entry)
        .with_help("put the display name in label: and use a plain name"));
    }
    let Some(exposure_type) = raw.exposure_type else {
        return Err(error(format!("exposure '{name}' has no type"))
            .with_span(entry)
            .with_help(format!("add type: one of {}", TYPES.join(", "))));
    };
    if !TYPES.contains(&exposure_type.as_str()) {
        return Err(error(format!(
            "exposure '{name}': type '{exposure_type}' is not one of {}",
            TYPES.join(", ")
        ))
        .with_span(key_at("type"))
        .with_help(
            match mart_diagnostics::closest_name(&exposure_type, TYPES) {
                Some(close) => format!("did you mean '{close}'?"),
                None => "use one of dbt's exposure types".to_string(),
            },
        ));
    }
    if let Some(maturity) = raw.maturity.as_deref() {
        if !MATURITIES.contains(&maturity) {
            return Err(error(format!(
                "exposure '{name}': maturity '{maturity}' is not one of high, medium, low"
            ))
            .with_span(key_at("maturity"))
            .with_help("use high, medium or low, or leave maturity out"));
        }
    }
    let owner = raw.owner.unwrap_or_default();
    if owner.name.is_none() && owner.email.is_none() {
        return Err(error(format!(
            "exposure '{name}' needs an owner with a name or an email"
        ))
        .with_span(entry)
        .with_help("add owner: {name: ..., email: ...}"));
    }
    let depends_on = raw
        .depends_on
        .iter()
        .map(|text| {
            dependency(text).map_err(|(message, help)| {
                let at = file
                    .text
                    .get(entry.range.start..)
                    .and_then(|rest| rest.find(text.as_str()))
                    .map_or(entry.clone(), |i| {
                        let start = entry.range.start + i;
                        mart_diagnostics::Span::new(file.clone(), start..start + text.len())
                    });
                error(format!("exposure '{name}': {message}"))
                    .with_span(at)
                    .with_help(help)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let config: ConfigMap = raw
        .config
        .into_iter()
        .map(|(k, v)| (yaml::key_string(k), yaml::to_json(v)))
        .collect();
    let mut tags = raw.tags;
    if let Some(Value::Array(more)) = config.get("tags") {
        tags.extend(more.iter().filter_map(Value::as_str).map(str::to_string));
    }
    let mut meta = yaml::to_json(serde_yaml::Value::Mapping(raw.meta));
    if let (Value::Object(m), Some(Value::Object(more))) = (&mut meta, config.get("meta")) {
        m.extend(more.clone());
    }
    Ok(Exposure {
        name,
        exposure_type,
        owner,
        depends_on,
        url: raw.url,
        maturity: raw.maturity,
        description: raw.description,
        label: raw.label,
        tags,
        meta,
        config,
        file: file.clone(),
    })
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `ref('m')`, `ref('package', 'm')` or `source('s', 't')`; else what is wrong and what
/// to do.
pub(crate) fn dependency(text: &str) -> Result<ExposureDependency, (String, String)> {
    let text = text.trim();
    let shape = || {
        (
            format!("depends_on entry '{text}' is not ref('...') or source('...', '...')"),
            "write ref('model') or source('source', 'table')".to_string(),
        )
    };
    let (func, rest) = text.split_once('(').ok_or_else(shape)?;
    let inner = rest.strip_suffix(')').ok_or_else(shape)?;
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    if args.iter().any(|a| a.contains('=')) {
        return Err((
            format!("depends_on entry '{text}' names a model version"),
            "model versions are not supported by mart yet: ref the model by name".to_string(),
        ));
    }
    let strings: Option<Vec<String>> = args.iter().map(|a| quoted(a)).collect();
    let strings = strings.ok_or_else(shape)?;
    match (func.trim(), strings.as_slice()) {
        ("ref", [name]) => Ok(ExposureDependency::Ref {
            package: None,
            name: name.clone(),
        }),
        ("ref", [package, name]) => Ok(ExposureDependency::Ref {
            package: Some(package.clone()),
            name: name.clone(),
        }),
        ("source", [source, table]) => Ok(ExposureDependency::Source {
            source: source.clone(),
            table: table.clone(),
        }),
        ("metric", _) => Err((
            format!("depends_on entry '{text}' names a metric"),
            "metrics are not supported by mart yet: remove the entry".to_string(),
        )),
        _ => Err(shape()),
    }
}

fn quoted(arg: &str) -> Option<String> {
    let inner = arg
        .strip_prefix('\'')
        .and_then(|a| a.strip_suffix('\''))
        .or_else(|| arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')))?;
    Some(inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Exposure>, Diagnostic> {
        let file = Arc::new(SourceFile::new("models/exposures.yml", text));
        let root: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
        parse_exposures(&file, root.get("exposures"))
    }

    #[test]
    fn reads_an_exposure() {
        let got = parse(
            "exposures:\n  - name: weekly\n    label: Weekly KPIs\n    type: dashboard\n    maturity: high\n    url: https://bi/1\n    owner: {name: Ann, email: ann@x.org}\n    depends_on:\n      - ref('orders')\n      - ref(\"shop\", \"customers\")\n      - source('raw', 'events')\n    tags: [kpi]\n    config: {tags: [bi], meta: {team: a}}\n  - name: off\n    type: ml\n    owner: {name: B}\n    config: {enabled: false}\n",
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        let e = &got[0];
        assert_eq!(
            (
                e.name.as_str(),
                e.exposure_type.as_str(),
                e.label.as_deref()
            ),
            ("weekly", "dashboard", Some("Weekly KPIs"))
        );
        assert_eq!(
            e.depends_on,
            [
                ExposureDependency::Ref {
                    package: None,
                    name: "orders".into()
                },
                ExposureDependency::Ref {
                    package: Some("shop".into()),
                    name: "customers".into()
                },
                ExposureDependency::Source {
                    source: "raw".into(),
                    table: "events".into()
                },
            ]
        );
        assert_eq!(e.tags, ["kpi", "bi"]);
        assert_eq!(e.meta, serde_json::json!({"team": "a"}));
    }

    #[test]
    fn wrong_exposures_are_errors_at_their_line() {
        let head = "version: 2\nexposures:\n  - name: e\n    owner: {email: a@b.c}\n";
        for (rest, message, help, line) in [
            (
                "    type: dashbord\n",
                "exposure 'e': type 'dashbord' is not one of dashboard, notebook, analysis, ml, application",
                "did you mean 'dashboard'?",
                5,
            ),
            (
                "    type: ml\n    maturity: great\n",
                "exposure 'e': maturity 'great' is not one of high, medium, low",
                "use high, medium or low, or leave maturity out",
                6,
            ),
            (
                "    depends_on: [\"metric('m')\"]\n",
                "exposure 'e' has no type",
                "add type: one of dashboard, notebook, analysis, ml, application",
                3,
            ),
            (
                "    type: ml\n    depends_on:\n      - metric('revenue')\n",
                "exposure 'e': depends_on entry 'metric('revenue')' names a metric",
                "metrics are not supported by mart yet: remove the entry",
                7,
            ),
            (
                "    type: ml\n    depends_on:\n      - orders\n",
                "exposure 'e': depends_on entry 'orders' is not ref('...') or source('...', '...')",
                "write ref('model') or source('source', 'table')",
                7,
            ),
        ] {
            let err = parse(&format!("{head}{rest}")).unwrap_err();
            assert_eq!(err.message, message);
            assert_eq!(err.help.as_deref(), Some(help));
            assert_eq!(err.span.unwrap().line_col().0, line, "{message}");
        }
        let no_owner = parse("exposures:\n  - name: e\n    type: ml\n").unwrap_err();
        assert_eq!(
            no_owner.message,
            "exposure 'e' needs an owner with a name or an email"
        );
        let spaced = parse("exposures:\n  - name: My Dash\n    type: ml\n").unwrap_err();
        assert_eq!(
            spaced.message,
            "exposure name 'My Dash' may hold only letters, digits and underscores"
        );
    }
}
