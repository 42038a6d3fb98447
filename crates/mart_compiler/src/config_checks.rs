//! Checks of the configs a node's parse render recorded: unknown keys in `config()` calls
//! (a warning, as for the project and property files) and a `materialized` that names no
//! materialization the node can have (an error at the place that set it).

use std::ops::Range;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic, SourceFile, Span};
use mart_project::{
    check_materialized, entry_span, is_known_config, key_span, setting_span, setting_span_after,
    unknown_config_warning, ConfigError, ConfigMap, NodeProperties,
};

/// A warning for each key of the node's `config()` calls that dbt does not know, at the
/// key in the node's file (at the file when a macro made the call).
pub(crate) fn unknown_config_call_keys(
    file: &Arc<SourceFile>,
    calls: &[ConfigMap],
) -> Vec<Diagnostic> {
    let mut keys: Vec<&String> = calls
        .iter()
        .flat_map(|c| c.keys())
        .filter(|k| !is_known_config(k))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let at = config_argument(&file.text, key).unwrap_or(0..0);
            unknown_config_warning(key, Span::new(file.clone(), at))
        })
        .collect()
}

/// The layers a node's config comes from, for telling where a value was set.
pub(crate) struct ConfigOrigins<'a> {
    /// The node's SQL file; none for a seed.
    pub node_file: Option<&'a Arc<SourceFile>>,
    /// The node's `config()` calls, in order.
    pub calls: &'a [ConfigMap],
    pub properties: Option<&'a NodeProperties>,
    pub project_file: &'a Arc<SourceFile>,
}

impl ConfigOrigins<'_> {
    /// `d` pointing at where the merged value of `key` was set: the last `config()` call
    /// that set it (the node's file when a macro made the call), else the property file
    /// entry, else the project file.
    pub(crate) fn placed(&self, d: Diagnostic, key: &str, merged: &ConfigMap) -> Diagnostic {
        let key = key.split('.').next().unwrap_or(key);
        let written = merged.get(key).and_then(|v| v.as_str()).unwrap_or_default();
        if let Some(file) = self
            .node_file
            .filter(|_| self.calls.iter().any(|c| c.contains_key(key)))
        {
            return match config_argument(&file.text, key) {
                Some(at) => d.with_span(Span::new(file.clone(), at)),
                None => d.with_path(&file.path),
            };
        }
        let span = if let Some(p) = self.properties.filter(|p| p.config.contains_key(key)) {
            let entry = entry_span(&p.file, &p.name).range.start;
            setting_span_after(&p.file, key, written, entry)
        } else if written.is_empty() {
            key_span(self.project_file, key)
        } else {
            setting_span(self.project_file, key, written)
        };
        d.with_span(span)
    }

    /// A config value of the wrong type, where it was set.
    pub(crate) fn config_error(&self, e: &ConfigError, merged: &ConfigMap) -> Diagnostic {
        let key = e.key.split('.').next().unwrap_or(&e.key);
        let d = Diagnostic::error(Code::Config, e.to_string()).with_help(format!(
            "fix '{key}' in config(), the property file, or the project file's folder config"
        ));
        self.placed(d, key, merged)
    }

    /// An error when the merged `materialized` is none of `valid` nor of `blocks` (the
    /// names materialization blocks define), where it was set.
    pub(crate) fn check_materialized(
        &self,
        merged: &ConfigMap,
        valid: &'static [&'static str],
        blocks: &[String],
        what: &str,
    ) -> Result<(), Diagnostic> {
        let Some(value) = merged.get("materialized") else {
            return Ok(());
        };
        if value
            .as_str()
            .is_some_and(|name| blocks.iter().any(|b| b == name))
        {
            return Ok(());
        }
        let Err(unknown) = check_materialized(value, valid) else {
            return Ok(());
        };
        let help = match unknown.suggestion {
            Some(name) => format!("did you mean '{name}'?"),
            None if what == "model" => "use one of the names above, or define the materialization with {% materialization name, default %} in a macro file".into(),
            None => "use one of the names above".into(),
        };
        let message = format!(
            "unknown materialization {} for a {what}; valid names are: {}",
            unknown.found,
            valid.join(", ")
        );
        let d = Diagnostic::error(Code::Config, message).with_help(help);
        Err(self.placed(d, "materialized", merged))
    }
}

/// Where `key` is passed to `config()` in a SQL file: `key=...` or `'key': ...` (the
/// first such place); `None` when the file does not spell it out.
fn config_argument(text: &str, key: &str) -> Option<Range<usize>> {
    text.match_indices(key).find_map(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = &text[i + key.len()..];
        let quoted = matches!(before, Some('\'' | '"'));
        let rest = if quoted { after.get(1..)? } else { after };
        let rest = rest.trim_start();
        let boundary = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let assigns = if quoted {
            rest.starts_with(':')
        } else {
            rest.starts_with('=') && !rest.starts_with("==")
        };
        (boundary && assigns).then(|| i..i + key.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_arguments_are_found_as_keyword_or_dict_key() {
        let text = "-- materialised\n{{ config(tags=['x'], materialised = 'table') }}";
        let at = config_argument(text, "materialised").unwrap();
        assert_eq!(&text[at.clone()], "materialised");
        assert_eq!(at.start, 38);
        let text = "{{ config({'materialized': 'tabel'}) }}";
        assert_eq!(config_argument(text, "materialized"), Some(12..24));
        assert_eq!(config_argument("x == materialized", "materialized"), None);
        assert_eq!(config_argument("my_materialized=1", "materialized"), None);
    }
}
