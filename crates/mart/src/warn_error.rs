//! `--warn-error` and `--warn-error-options`: which warnings become errors, which stay
//! warnings and which are silenced, by dbt's event names, with dbt's precedence (a name
//! over `Deprecations` over `all`; silence over warn over error).

use mart_diagnostics::{closest_name, Code, Diagnostic};
use serde_json::Value;

/// The event names dbt accepts in `--warn-error-options`: its warning-level events,
/// `LogTestResult` (a test that warns) and the `Deprecations` group.
const EVENT_NAMES: &[&str] = &[
    "ArgumentsPropertyInGenericTestDeprecation",
    "BehaviorChangeEvent",
    "ConfigDataPathDeprecation",
    "ConfigLogPathDeprecation",
    "ConfigSourcePathDeprecation",
    "ConfigTargetPathDeprecation",
    "CustomKeyInConfigDeprecation",
    "CustomKeyInObjectDeprecation",
    "CustomOutputPathInSourceFreshnessDeprecation",
    "CustomTopLevelKeyDeprecation",
    "DeprecatedModel",
    "DeprecatedReference",
    "Deprecations",
    "DeprecationsSummary",
    "DepsScrubbedPackageName",
    "DepsUnpinned",
    "DuplicateYAMLKeysDeprecation",
    "EnvironmentVariableNamespaceDeprecation",
    "EnvironmentVariableRenamed",
    "ExposureNameDeprecation",
    "FreshnessConfigProblem",
    "GenericJSONSchemaValidationDeprecation",
    "GetMetaKeyWarning",
    "InternalDeprecation",
    "InvalidConcurrentBatchesConfig",
    "InvalidMacroAnnotation",
    "InvalidValueForField",
    "JinjaLogWarning",
    "LogTestResult",
    "MFCumulativeTypeParamsDeprecation",
    "MFTimespineWithoutYamlConfigurationDeprecation",
    "MacroNotFoundForPatch",
    "MetricAttributesRenamed",
    "MicrobatchMacroOutsideOfBatchesDeprecation",
    "MicrobatchModelNoEventTimeInputs",
    "MissingArgumentsPropertyInGenericTestDeprecation",
    "MissingPlusPrefixDeprecation",
    "ModelParamUsageDeprecation",
    "ModulesItertoolsUsageDeprecation",
    "NoNodeForYamlKey",
    "NoNodesForSelectionCriteria",
    "NoNodesSelected",
    "NodeNotFoundOrDisabled",
    "NothingToDo",
    "PackageInstallPathDeprecation",
    "PackageMaterializationOverrideDeprecation",
    "PackageRedirectDeprecation",
    "ProjectFlagsMovedDeprecation",
    "PropertyMovedToConfigDeprecation",
    "ResourceNamesWithSpacesDeprecation",
    "RunResultWarning",
    "RunResultWarningMessage",
    "SeedExceedsLimitAndPathChanged",
    "SeedExceedsLimitChecksumChanged",
    "SeedExceedsLimitSamePath",
    "SeedIncreased",
    "SemanticValidationFailure",
    "SnapshotTimestampWarning",
    "SourceFreshnessProjectHooksNotRun",
    "SourceOverrideDeprecation",
    "TestsConfigDeprecation",
    "UnexpectedJinjaBlockDeprecation",
    "UnsupportedConstraintMaterialization",
    "UnusedResourceConfigPath",
    "UnusedTables",
    "UnversionedBreakingChange",
    "UpcomingReferenceDeprecation",
    "ValidationWarning",
    "WEOIncludeExcludeDeprecation",
    "WarnStateTargetEqual",
    "WrongResourceSchemaFile",
];

/// The event a test that warns is, in dbt.
pub const TEST_WARNING: &str = "LogTestResult";

/// What happens to one warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Treatment {
    Warn,
    Error,
    Silence,
}

/// The warnings policy of one command.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WarnErrorPolicy {
    /// `--warn-error`, or `error: all` / `error: "*"`.
    error_all: bool,
    error: Vec<String>,
    warn: Vec<String>,
    silence: Vec<String>,
}

impl WarnErrorPolicy {
    /// From `--warn-error` and `--warn-error-options` (YAML or JSON, as dbt reads it).
    pub fn from_flags(warn_error: bool, options: Option<&str>) -> Result<Self, Diagnostic> {
        let Some(options) = options else {
            return Ok(Self {
                error_all: warn_error,
                ..Self::default()
            });
        };
        if warn_error {
            return Err(usage(
                "--warn-error and --warn-error-options cannot be given together",
                "use --warn-error-options '{\"error\": \"all\"}' for --warn-error",
            ));
        }
        let value: Value = serde_yaml::from_str(options).map_err(|e| {
            usage(
                &format!("--warn-error-options is not a YAML or JSON mapping: {e}"),
                "write it as '{\"error\": [\"NoNodesForSelectionCriteria\"], \"warn\": [], \"silence\": []}'",
            )
        })?;
        let Value::Object(map) = value else {
            return Err(usage(
                "--warn-error-options must be a mapping with error, warn and silence",
                "write it as '{\"error\": \"all\", \"warn\": [\"NoNodesForSelectionCriteria\"]}'",
            ));
        };
        let mut policy = Self::default();
        let mut error_key: Option<&str> = None;
        let mut warn_key: Option<&str> = None;
        for (key, value) in &map {
            let list = match (key.as_str(), value) {
                ("error" | "include", Value::String(s)) if s == "all" || s == "*" => {
                    policy.error_all = true;
                    Vec::new()
                }
                (_, Value::Array(items)) => names(key, items)?,
                (_, Value::Null) => Vec::new(),
                _ => {
                    return Err(usage(
                        &format!("--warn-error-options: `{key}` must be a list of event names"),
                        "`error` may also be \"all\" or \"*\"",
                    ))
                }
            };
            let (slot, seen) = match key.as_str() {
                "error" | "include" => (&mut policy.error, &mut error_key),
                "warn" | "exclude" => (&mut policy.warn, &mut warn_key),
                "silence" => (&mut policy.silence, &mut None),
                other => {
                    let suggestion = closest_name(other, ["error", "warn", "silence"])
                        .map_or(String::new(), |c| format!("did you mean '{c}'? "));
                    return Err(usage(
                        &format!("--warn-error-options: unknown key '{other}'"),
                        &format!("{suggestion}it takes error, warn and silence (include and exclude are their old names)"),
                    ));
                }
            };
            if let Some(first) = seen.replace(key) {
                return Err(usage(
                    &format!(
                        "--warn-error-options: `{first}` and `{key}` are the same option; give one"
                    ),
                    "`include` is the old name of `error`, `exclude` of `warn`",
                ));
            }
            *slot = list;
        }
        let deprecations_named = policy.error.iter().any(|e| e == "Deprecations")
            || policy.silence.iter().any(|e| e == "Deprecations");
        if !(policy.warn.is_empty() || policy.error_all || deprecations_named) {
            return Err(usage(
                "--warn-error-options: `warn` needs `error` to be \"all\" (or Deprecations in `error` or `silence`)",
                "warnings stay warnings unless `error` names them; list only those in `error`",
            ));
        }
        Ok(policy)
    }

    /// What becomes of a warning of dbt event `event` (none: mart's own warning, which only
    /// `all` turns into an error).
    pub fn treat(&self, event: Option<&str>) -> Treatment {
        let named = |list: &[String], name: &str| list.iter().any(|e| e == name);
        if let Some(event) = event {
            for (list, treatment) in [
                (&self.silence, Treatment::Silence),
                (&self.warn, Treatment::Warn),
                (&self.error, Treatment::Error),
            ] {
                if named(list, event) {
                    return treatment;
                }
            }
            if event.ends_with("Deprecation") {
                for (list, treatment) in [
                    (&self.silence, Treatment::Silence),
                    (&self.warn, Treatment::Warn),
                    (&self.error, Treatment::Error),
                ] {
                    if named(list, "Deprecations") {
                        return treatment;
                    }
                }
            }
        }
        if self.error_all {
            Treatment::Error
        } else {
            Treatment::Warn
        }
    }
}

/// The event names of one list, each checked against dbt's.
fn names(key: &str, items: &[Value]) -> Result<Vec<String>, Diagnostic> {
    items
        .iter()
        .map(|item| {
            let name = item.as_str().unwrap_or_default();
            if EVENT_NAMES.contains(&name) {
                return Ok(name.to_string());
            }
            let help = match closest_name(name, EVENT_NAMES.iter().copied()) {
                Some(close) => format!("did you mean '{close}'?"),
                None => {
                    "name one of dbt's warning events, such as NoNodesForSelectionCriteria".into()
                }
            };
            Err(usage(
                &format!("--warn-error-options: {item} in `{key}` is not a valid dbt error name"),
                &help,
            ))
        })
        .collect()
}

fn usage(message: &str, help: &str) -> Diagnostic {
    Diagnostic::error(Code::Usage, message).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(options: &str) -> WarnErrorPolicy {
        WarnErrorPolicy::from_flags(false, Some(options)).unwrap_or_default()
    }

    #[test]
    fn names_beat_all_and_silence_beats_warn() {
        let p = policy(
            r#"{"error": "all", "warn": ["NoNodesForSelectionCriteria"], "silence": ["CustomKeyInConfigDeprecation"]}"#,
        );
        assert_eq!(
            p.treat(Some("NoNodesForSelectionCriteria")),
            Treatment::Warn
        );
        assert_eq!(
            p.treat(Some("CustomKeyInConfigDeprecation")),
            Treatment::Silence
        );
        assert_eq!(p.treat(Some("NoNodeForYamlKey")), Treatment::Error);
        assert_eq!(p.treat(None), Treatment::Error);
        let p = policy("{error: [NoNodesForSelectionCriteria]}");
        assert_eq!(
            p.treat(Some("NoNodesForSelectionCriteria")),
            Treatment::Error
        );
        assert_eq!(p.treat(Some("NoNodeForYamlKey")), Treatment::Warn);
        assert_eq!(p.treat(None), Treatment::Warn);
    }

    #[test]
    fn deprecations_name_every_deprecation() {
        let p = policy(r#"{"error": ["Deprecations"], "warn": ["CustomKeyInConfigDeprecation"]}"#);
        assert_eq!(
            p.treat(Some("CustomTopLevelKeyDeprecation")),
            Treatment::Error
        );
        assert_eq!(
            p.treat(Some("CustomKeyInConfigDeprecation")),
            Treatment::Warn
        );
        assert_eq!(p.treat(Some("NoNodeForYamlKey")), Treatment::Warn);
    }

    #[test]
    fn old_names_and_mistakes() {
        let p = policy(r#"{"include": "all", "exclude": ["NoNodesForSelectionCriteria"]}"#);
        assert_eq!(
            p.treat(Some("NoNodesForSelectionCriteria")),
            Treatment::Warn
        );
        assert_eq!(p.treat(None), Treatment::Error);
        let error = |o: &str| {
            WarnErrorPolicy::from_flags(false, Some(o))
                .err()
                .map(|d| (d.message, d.help))
        };
        assert_eq!(
            error(r#"{"error": ["NoNodesForSelectionCriterion"]}"#),
            Some((
                "--warn-error-options: \"NoNodesForSelectionCriterion\" in `error` is not a valid dbt error name".into(),
                Some("did you mean 'NoNodesForSelectionCriteria'?".into())
            ))
        );
        assert!(error(r#"{"error": [], "include": []}"#).is_some());
        assert!(error(r#"{"warn": ["NoNodesForSelectionCriteria"]}"#).is_some());
        assert!(error(r#"{"erorr": []}"#)
            .is_some_and(|(_, h)| h.is_some_and(|h| h.starts_with("did you mean 'error'?"))));
        assert!(WarnErrorPolicy::from_flags(true, Some("{}")).is_err());
    }
}
