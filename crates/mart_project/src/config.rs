//! Node configs: raw layers as JSON maps, merged by dbt's rules, then read into typed fields.
//!
//! Precedence (lowest first): defaults, project.yml folder configs (shallow to deep),
//! property file `config:`, `{{ config(...) }}` in the file itself.

use std::collections::BTreeMap;
use std::fmt;

use mart_diagnostics::{Code, Diagnostic};

use crate::contract::Contract;
use serde_json::Value;

/// One layer of configuration: key -> value, keys normalised (`+` and `-` removed).
pub type ConfigMap = BTreeMap<String, Value>;

/// `+pre-hook` and `pre_hook` are the same key.
pub fn normalize_key(key: &str) -> String {
    key.trim_start_matches('+').replace('-', "_")
}

/// Keys whose values accumulate across layers instead of replacing each other.
fn is_additive(key: &str) -> bool {
    matches!(key, "tags" | "pre_hook" | "post_hook")
}

/// Keys whose mapping values are merged key by key.
fn is_dict_update(key: &str) -> bool {
    matches!(
        key,
        "meta"
            | "grants"
            | "column_types"
            | "persist_docs"
            | "docs"
            | "contract"
            | "snapshot_meta_column_names"
    )
}

/// Applies `layer` on top of `base` following dbt's merge behaviour.
pub fn merge_into(base: &mut ConfigMap, layer: &ConfigMap) {
    for (key, value) in layer {
        let key = normalize_key(key);
        match base.get_mut(&key) {
            Some(existing) if is_additive(&key) => {
                let mut items = as_list(existing);
                for item in as_list(value) {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
                *existing = Value::Array(items);
            }
            Some(Value::Object(existing)) if is_dict_update(&key) => {
                if let Value::Object(update) = value {
                    for (k, v) in update {
                        existing.insert(k.clone(), v.clone());
                    }
                } else {
                    base.insert(key, value.clone());
                }
            }
            _ => {
                let value = if is_additive(&key) {
                    Value::Array(as_list(value))
                } else {
                    value.clone()
                };
                base.insert(key, value);
            }
        }
    }
}

/// A scalar or a list as a list (`tags: daily` is `tags: [daily]`).
fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Materialization {
    View,
    Table,
    Incremental,
    Ephemeral,
    MaterializedView,
    Seed,
    Snapshot,
    Test,
    /// A user-defined materialization name; reported as unsupported when run.
    Custom(String),
}

impl Materialization {
    pub fn parse(name: &str) -> Self {
        match name {
            "view" => Self::View,
            "table" => Self::Table,
            "incremental" => Self::Incremental,
            "ephemeral" => Self::Ephemeral,
            "materialized_view" => Self::MaterializedView,
            "seed" => Self::Seed,
            "snapshot" => Self::Snapshot,
            "test" => Self::Test,
            other => Self::Custom(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::View => "view",
            Self::Table => "table",
            Self::Incremental => "incremental",
            Self::Ephemeral => "ephemeral",
            Self::MaterializedView => "materialized_view",
            Self::Seed => "seed",
            Self::Snapshot => "snapshot",
            Self::Test => "test",
            Self::Custom(name) => name,
        }
    }
}

/// The materializations a model may name (mart runs no custom ones).
pub const MODEL_MATERIALIZATIONS: &[&str] = &[
    "view",
    "table",
    "incremental",
    "ephemeral",
    "materialized_view",
];
/// A snapshot's one materialization.
pub const SNAPSHOT_MATERIALIZATIONS: &[&str] = &["snapshot"];

/// A `materialized` value that names no materialization the node can have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownMaterialization {
    /// The value as found ("'tabel'", "number 5").
    pub found: String,
    pub valid: &'static [&'static str],
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownMaterialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown materialization {}; valid names are: {}",
            self.found,
            self.valid.join(", ")
        )
    }
}

/// Checks a `materialized` value against `valid` ([`MODEL_MATERIALIZATIONS`] or
/// [`SNAPSHOT_MATERIALIZATIONS`]); an unset value is fine (the default applies).
pub fn check_materialized(
    value: &Value,
    valid: &'static [&'static str],
) -> Result<(), UnknownMaterialization> {
    let (name, found) = match value {
        Value::Null => return Ok(()),
        Value::String(s) if valid.contains(&s.as_str()) => return Ok(()),
        Value::String(s) => (s.clone(), format!("'{s}'")),
        other => (String::new(), describe(other)),
    };
    Err(UnknownMaterialization {
        found,
        valid,
        suggestion: mart_diagnostics::closest_name(&name, valid.iter().copied()),
    })
}

impl fmt::Display for Materialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed view of a merged config that the engine acts on; `raw` keeps every key
/// (for `config.get()` and manifest.json).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NodeConfig {
    pub enabled: bool,
    pub materialized: Materialization,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub alias: Option<String>,
    pub tags: Vec<String>,
    pub pre_hook: Vec<Hook>,
    pub post_hook: Vec<Hook>,
    pub full_refresh: Option<bool>,
    pub unlogged: bool,
    pub column_types: BTreeMap<String, String>,
    pub delimiter: u8,
    /// dbt-postgres `indexes`: created after the relation is built.
    pub indexes: Vec<IndexConfig>,
    /// `grants`: privilege -> roles.
    pub grants: BTreeMap<String, Vec<String>>,
    pub persist_docs: PersistDocs,
    #[serde(default)]
    pub contract: Contract,
    /// How far compile trusts its SQL analysis of the node (dbt's Rust engine's names).
    #[serde(default)]
    pub static_analysis: StaticAnalysis,
    pub raw: ConfigMap,
}

/// `static_analysis`: what the SQL analysis of a node does with what it finds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StaticAnalysis {
    /// Every reference must be proven; anything the analysis cannot follow is an error.
    Strict,
    /// Errors only where the analysis is sure.
    #[default]
    Baseline,
    /// No analysis: the node's columns are unknown to its dependents.
    Off,
}

impl StaticAnalysis {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "strict" => Some(Self::Strict),
            "baseline" => Some(Self::Baseline),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// One `pre_hook` / `post_hook`: its SQL, and whether it runs inside the node's
/// transaction (the default) or outside it: before `begin` / after `commit`, as dbt runs
/// `{sql: ..., transaction: false}`, `before_begin(...)` and `after_commit(...)`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    pub sql: String,
    pub transaction: bool,
}

/// One entry of `indexes`: `{columns: [...], unique: true, type: btree}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexConfig {
    pub columns: Vec<String>,
    pub unique: bool,
    /// The access method (`btree`, `hash`, `gin`, ...); PostgreSQL's default when `None`.
    pub method: Option<String>,
}

/// `persist_docs`: which descriptions become `COMMENT ON`s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersistDocs {
    pub relation: bool,
    pub columns: bool,
}

/// A config value of the wrong type: `key` and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub expected: &'static str,
    pub found: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config '{}' must be {}, found {}",
            self.key, self.expected, self.found
        )
    }
}

impl NodeConfig {
    /// Reads the typed fields from a merged map; `default_materialization` applies when
    /// no layer set one (view for models, seed for seeds).
    pub fn from_map(raw: ConfigMap, default_materialization: &str) -> Result<Self, ConfigError> {
        let materialized = opt_string(&raw, "materialized")?
            .unwrap_or_else(|| default_materialization.to_string());
        let delimiter = match opt_string(&raw, "delimiter")? {
            None => b',',
            Some(d) if d.len() == 1 => d.as_bytes()[0],
            Some(d) => {
                return Err(ConfigError {
                    key: "delimiter".into(),
                    expected: "a single one-byte character",
                    found: format!("'{d}'"),
                })
            }
        };
        Ok(Self {
            enabled: opt_bool(&raw, "enabled")?.unwrap_or(true),
            materialized: Materialization::parse(&materialized),
            database: opt_string(&raw, "database")?,
            schema: opt_string(&raw, "schema")?,
            alias: opt_string(&raw, "alias")?,
            tags: string_list(&raw, "tags")?,
            pre_hook: hooks(&raw, "pre_hook")?,
            post_hook: hooks(&raw, "post_hook")?,
            full_refresh: opt_bool(&raw, "full_refresh")?,
            unlogged: opt_bool(&raw, "unlogged")?.unwrap_or(false),
            column_types: string_map(&raw, "column_types")?,
            delimiter,
            indexes: indexes(&raw)?,
            grants: grants(&raw)?,
            persist_docs: persist_docs(&raw)?,
            contract: contract(&raw)?,
            static_analysis: static_analysis(&raw)?,
            raw,
        })
    }
}

impl NodeConfig {
    /// A string config without a typed field (`incremental_strategy`, ...); `None` when unset.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        opt_string(&self.raw, key)
    }

    /// A name or a list of names (`unique_key: id` or `unique_key: [a, b]`), trimmed;
    /// `None` when unset, so an explicit empty list stays distinguishable.
    pub fn name_list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        match self.raw.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => Ok(Some(
                string_list(&self.raw, key)?
                    .into_iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            )),
        }
    }
}

impl NodeConfig {
    /// An incremental model with `incremental_strategy='microbatch'`: it runs in batches.
    pub fn is_microbatch(&self) -> bool {
        self.materialized == Materialization::Incremental
            && matches!(self.raw.get("incremental_strategy"), Some(Value::String(s)) if s.trim() == "microbatch")
    }

    /// A boolean config without a typed field; `None` when unset.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        opt_bool(&self.raw, key)
    }

    /// A mapping of strings (`snapshot_meta_column_names`); empty when unset.
    pub fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, ConfigError> {
        string_map(&self.raw, key)
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string '{s}'"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn opt_string(raw: &ConfigMap, key: &str) -> Result<Option<String>, ConfigError> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(ConfigError {
            key: key.into(),
            expected: "a string",
            found: describe(other),
        }),
    }
}

fn opt_bool(raw: &ConfigMap, key: &str) -> Result<Option<bool>, ConfigError> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(ConfigError {
            key: key.into(),
            expected: "true or false",
            found: describe(other),
        }),
    }
}

fn string_list(raw: &ConfigMap, key: &str) -> Result<Vec<String>, ConfigError> {
    as_list(raw.get(key).unwrap_or(&Value::Null))
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s),
            other => Err(ConfigError {
                key: key.into(),
                expected: "a string or a list of strings",
                found: describe(&other),
            }),
        })
        .collect()
}

/// Hooks are SQL strings or `{sql: ..., transaction: ...}` mappings.
fn hooks(raw: &ConfigMap, key: &str) -> Result<Vec<Hook>, ConfigError> {
    as_list(raw.get(key).unwrap_or(&Value::Null))
        .into_iter()
        .map(|v| match v {
            Value::String(sql) => Ok(Hook {
                sql,
                transaction: true,
            }),
            Value::Object(ref map) => match (map.get("sql"), map.get("transaction")) {
                (Some(Value::String(sql)), None | Some(Value::Null)) => Ok(Hook {
                    sql: sql.clone(),
                    transaction: true,
                }),
                (Some(Value::String(sql)), Some(Value::Bool(transaction))) => Ok(Hook {
                    sql: sql.clone(),
                    transaction: *transaction,
                }),
                _ => Err(ConfigError {
                    key: key.into(),
                    expected:
                        "SQL text or a mapping with 'sql' (text) and 'transaction' (true or false)",
                    found: describe(&v),
                }),
            },
            other => Err(ConfigError {
                key: key.into(),
                expected: "SQL text or a list of SQL texts",
                found: describe(&other),
            }),
        })
        .collect()
}

fn indexes(raw: &ConfigMap) -> Result<Vec<IndexConfig>, ConfigError> {
    let error = |found: &Value| ConfigError {
        key: "indexes".into(),
        expected: "a list of {columns: [...], unique: true|false, type: ...} mappings",
        found: describe(found),
    };
    match raw.get("indexes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                let Value::Object(map) = item else {
                    return Err(error(item));
                };
                let map: ConfigMap = map.clone().into_iter().collect();
                let columns = string_list(&map, "columns").map_err(|_| error(item))?;
                if columns.is_empty() {
                    return Err(error(item));
                }
                Ok(IndexConfig {
                    columns,
                    unique: opt_bool(&map, "unique")?.unwrap_or(false),
                    method: opt_string(&map, "type")?.filter(|t| !t.trim().is_empty()),
                })
            })
            .collect(),
        Some(other) => Err(error(other)),
    }
}

fn grants(raw: &ConfigMap) -> Result<BTreeMap<String, Vec<String>>, ConfigError> {
    match raw.get("grants") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => {
            let map: ConfigMap = map.clone().into_iter().collect();
            map.keys()
                .map(|privilege| {
                    // `+select` appends in dbt; mart merges grants key by key anyway.
                    let name = privilege
                        .trim_start_matches('+')
                        .trim()
                        .to_ascii_lowercase();
                    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
                    {
                        return Err(ConfigError {
                            key: format!("grants.{privilege}"),
                            expected: "a privilege such as select, insert, update or delete",
                            found: format!("'{privilege}'"),
                        });
                    }
                    let roles = string_list(&map, privilege).map_err(|mut e| {
                        e.key = format!("grants.{privilege}");
                        e
                    })?;
                    Ok((name, roles))
                })
                .collect()
        }
        Some(other) => Err(ConfigError {
            key: "grants".into(),
            expected: "a mapping of privileges to roles",
            found: describe(other),
        }),
    }
}

fn persist_docs(raw: &ConfigMap) -> Result<PersistDocs, ConfigError> {
    match raw.get("persist_docs") {
        None | Some(Value::Null) => Ok(PersistDocs::default()),
        Some(Value::Object(map)) => {
            let map: ConfigMap = map.clone().into_iter().collect();
            Ok(PersistDocs {
                relation: opt_bool(&map, "relation")?.unwrap_or(false),
                columns: opt_bool(&map, "columns")?.unwrap_or(false),
            })
        }
        Some(other) => Err(ConfigError {
            key: "persist_docs".into(),
            expected: "a mapping {relation: true, columns: true}",
            found: describe(other),
        }),
    }
}

fn static_analysis(raw: &ConfigMap) -> Result<StaticAnalysis, ConfigError> {
    match opt_string(raw, "static_analysis")? {
        None => Ok(StaticAnalysis::default()),
        Some(value) => StaticAnalysis::parse(&value).ok_or(ConfigError {
            key: "static_analysis".into(),
            expected: "one of strict, baseline, off",
            found: format!("'{value}'"),
        }),
    }
}

fn contract(raw: &ConfigMap) -> Result<Contract, ConfigError> {
    match raw.get("contract") {
        None | Some(Value::Null) => Ok(Contract::default()),
        Some(Value::Object(map)) => {
            let map: ConfigMap = map.clone().into_iter().collect();
            if let Some(key) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "enforced" | "alias_types"))
            {
                return Err(ConfigError {
                    key: format!("contract.{key}"),
                    expected: "one of enforced, alias_types",
                    found: format!("'{key}'"),
                });
            }
            let default = Contract::default();
            Ok(Contract {
                enforced: opt_bool(&map, "enforced")?.unwrap_or(default.enforced),
                alias_types: opt_bool(&map, "alias_types")?.unwrap_or(default.alias_types),
            })
        }
        Some(other) => Err(ConfigError {
            key: "contract".into(),
            expected: "a mapping {enforced: true, alias_types: true}",
            found: describe(other),
        }),
    }
}

fn string_map(raw: &ConfigMap, key: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(ConfigError {
                    key: format!("{key}.{k}"),
                    expected: "a string",
                    found: describe(other),
                }),
            })
            .collect(),
        Some(other) => Err(ConfigError {
            key: key.into(),
            expected: "a mapping",
            found: describe(other),
        }),
    }
}

/// The config keys dbt 1.10 and dbt-postgres know (models, seeds, snapshots, tests,
/// sources), plus mart's `static_analysis`. Any other key is kept (dbt keeps custom
/// configs) but warned about, since it is most often a typo.
pub const KNOWN_CONFIG_KEYS: &[&str] = &[
    "access",
    "alias",
    "batch_size",
    "begin",
    "check_cols",
    "column_types",
    "concurrent_batches",
    "contract",
    "database",
    "dbt_valid_to_current",
    "delimiter",
    "docs",
    "enabled",
    "error_if",
    "event_time",
    "fail_calc",
    "freshness",
    "full_refresh",
    "grants",
    "group",
    "hard_deletes",
    "incremental_predicates",
    "incremental_strategy",
    "indexes",
    "invalidate_hard_deletes",
    "limit",
    "loaded_at_field",
    "lookback",
    "materialized",
    "merge_exclude_columns",
    "merge_update_columns",
    "meta",
    "on_configuration_change",
    "on_schema_change",
    "persist_docs",
    "post_hook",
    "pre_hook",
    "quote_columns",
    "quoting",
    "schema",
    "severity",
    "snapshot_meta_column_names",
    "sql_header",
    "static_analysis",
    "store_failures",
    "store_failures_as",
    "strategy",
    "tags",
    "target_database",
    "target_schema",
    "unique_key",
    "unlogged",
    "updated_at",
    "warn_if",
    "where",
];

/// A warning for a config key dbt does not know, at `span`, with the closest known key.
pub fn unknown_config_warning(key: &str, span: mart_diagnostics::Span) -> Diagnostic {
    let normalized = normalize_key(key);
    let d = Diagnostic::warning(
        Code::Config,
        format!("unknown config '{key}'; it is kept in the node's config but does nothing"),
    )
    .with_span(span)
    .with_event("CustomKeyInConfigDeprecation");
    match mart_diagnostics::closest_name(&normalized, KNOWN_CONFIG_KEYS.iter().copied()) {
        Some(close) => d.with_help(format!("did you mean '{close}'?")),
        None => d.with_help("check the key against dbt's list of configs"),
    }
}

/// Whether `key` (as written, `+` and dashes allowed) is a config dbt knows.
pub fn is_known_config(key: &str) -> bool {
    KNOWN_CONFIG_KEYS.contains(&normalize_key(key).as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> ConfigMap {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn later_layers_override_and_tags_accumulate() {
        let mut base = map(json!({"materialized": "view", "tags": "a", "meta": {"x": 1}}));
        merge_into(
            &mut base,
            &map(
                json!({"+materialized": "table", "+tags": ["b", "a"], "meta": {"y": 2}, "pre-hook": "select 1"}),
            ),
        );
        assert_eq!(
            Value::Object(base.into_iter().collect()),
            json!({"materialized": "table", "tags": ["a", "b"], "meta": {"x": 1, "y": 2}, "pre_hook": ["select 1"]})
        );
    }

    #[test]
    fn unknown_materializations_list_the_valid_ones() {
        assert_eq!(
            check_materialized(&json!("table"), MODEL_MATERIALIZATIONS),
            Ok(())
        );
        assert_eq!(
            check_materialized(&Value::Null, SNAPSHOT_MATERIALIZATIONS),
            Ok(())
        );
        let err = check_materialized(&json!("tabel"), MODEL_MATERIALIZATIONS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown materialization 'tabel'; valid names are: view, table, incremental, ephemeral, materialized_view"
        );
        assert_eq!(err.suggestion, Some("table"));
        let err = check_materialized(&json!(5), MODEL_MATERIALIZATIONS).unwrap_err();
        assert_eq!(err.found, "number 5");
        assert_eq!(err.suggestion, None);
        let err = check_materialized(&json!("table"), SNAPSHOT_MATERIALIZATIONS).unwrap_err();
        assert_eq!(err.suggestion, None);
    }

    #[test]
    fn typed_fields_and_errors() {
        let cfg =
            NodeConfig::from_map(map(json!({"tags": "daily", "enabled": false})), "view").unwrap();
        assert_eq!(cfg.materialized, Materialization::View);
        assert_eq!(cfg.tags, vec!["daily"]);
        assert!(!cfg.enabled);
        let cfg = NodeConfig::from_map(
            map(json!({
                "indexes": [{"columns": ["a", "b"], "unique": true}, {"columns": "c", "type": "hash"}],
                "grants": {"select": "reporter", "+insert": ["a", "b"]},
                "persist_docs": {"relation": true},
            })),
            "table",
        )
        .unwrap();
        assert_eq!(
            cfg.indexes,
            [
                IndexConfig {
                    columns: vec!["a".into(), "b".into()],
                    unique: true,
                    method: None
                },
                IndexConfig {
                    columns: vec!["c".into()],
                    unique: false,
                    method: Some("hash".into())
                },
            ]
        );
        assert_eq!(cfg.grants["select"], ["reporter"]);
        assert_eq!(cfg.grants["insert"], ["a", "b"]);
        assert_eq!(
            cfg.persist_docs,
            PersistDocs {
                relation: true,
                columns: false
            }
        );
        let err =
            NodeConfig::from_map(map(json!({"grants": {"drop;": "x"}})), "table").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config 'grants.drop;' must be a privilege such as select, insert, update or delete, found 'drop;'"
        );
        let err =
            NodeConfig::from_map(map(json!({"materialized": ["table"]})), "view").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config 'materialized' must be a string, found a list"
        );
    }
}
