//! dbt's `{% materialization name, adapter='postgres' %}` blocks. As in dbt, a block
//! defines the macro `materialization_<name>_<adapter>` (`default` without an adapter), so
//! it lives in its package's namespace like any macro; [`JinjaEnv::materialization`] picks
//! the block a node runs with dbt's precedence and [`JinjaEnv::run_materialization`] calls
//! it in the node's context.

use std::borrow::Cow;
use std::sync::Arc;

use mart_diagnostics::{Code, Diagnostic};
use minijinja::value::Value;

use crate::macros::next_tag;
use crate::namespaces::INTERNAL_PACKAGE;
use crate::relation::RelationValue;
use crate::{context_entries, errors, JinjaEnv, RenderScope};

/// The adapter names a materialization may be defined for, most specific first (dbt's
/// specificity: an adapter's own block beats a `default` one wherever it is defined).
const ADAPTERS: [&str; 2] = ["postgres", "default"];

/// The macro a block defines.
fn macro_name(name: &str, adapter: &str) -> String {
    format!("materialization_{name}_{adapter}")
}

/// `{% materialization name, default %}` -> `{% macro materialization_name_default() %}`,
/// `{% endmaterialization %}` -> `{% endmacro %}`; every line break of a tag is kept so
/// that error lines stay right. A tag whose arguments mart cannot read is left for
/// minijinja to report.
pub(crate) fn blocks_as_macros(source: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some((start, keyword)) = next_tag(source, from, |k| {
        k == "materialization" || k == "endmaterialization"
    }) {
        let keyword_at = start + source[start..].find(keyword).unwrap_or(0);
        let after = keyword_at + keyword.len();
        from = after;
        if keyword == "endmaterialization" {
            out.push_str(&source[copied..keyword_at]);
            out.push_str("endmacro");
            copied = after;
            continue;
        }
        let Some(close) = source[after..].find("%}").map(|i| after + i) else {
            break;
        };
        // The whitespace marker (`-%}`) stays with the tag's end.
        let args_end = if source[..close].ends_with(['-', '+']) {
            close - 1
        } else {
            close
        };
        let Some((name, adapter)) = parse_args(&source[after..args_end]) else {
            continue;
        };
        let line_breaks = source[keyword_at..args_end].matches('\n').count();
        out.push_str(&source[copied..keyword_at]);
        out.push_str(&format!(
            "macro {}(){} ",
            macro_name(&name, &adapter),
            "\n".repeat(line_breaks)
        ));
        copied = args_end;
        from = close;
    }
    if copied == 0 {
        return Cow::Borrowed(source);
    }
    out.push_str(&source[copied..]);
    Cow::Owned(out)
}

/// `name, default` / `name, adapter='postgres'` (with `supported_languages=[...]`
/// anywhere after the name): the name and the adapter.
fn parse_args(args: &str) -> Option<(String, String)> {
    let mut parts = split_top_level(args).into_iter().map(str::trim);
    let name = parts.next()?;
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let mut adapter = "default".to_string();
    for part in parts {
        match part.split_once('=') {
            None if part == "default" => adapter = "default".into(),
            Some((key, value)) if key.trim() == "adapter" => {
                adapter = value.trim().trim_matches(['\'', '"']).to_string();
            }
            Some((key, _)) if key.trim() == "supported_languages" => {}
            _ => return None,
        }
    }
    Some((name.to_string(), adapter))
}

/// Splits at the commas outside brackets.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// What a model's `materialized` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaterializationChoice {
    /// mart's own (view, table, incremental, ...).
    Builtin,
    /// A block: the package defining it and the macro it defines.
    Block { package: String, macro_name: String },
}

/// dbt's locality of a candidate: the root project over installed packages over dbt's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Locality {
    Core,
    Imported,
    Root,
}

/// The materialization names the macro names of `registry` define.
pub(crate) fn defined_names(registry: &crate::namespaces::Registry) -> Vec<String> {
    let mut names: Vec<String> = registry
        .packages
        .values()
        .flat_map(|macros| macros.keys())
        .filter_map(|m| {
            let rest = m.strip_prefix("materialization_")?;
            ADAPTERS
                .iter()
                .find_map(|a| rest.strip_suffix(&format!("_{a}")))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Why no block (nor built-in) can be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaterializationError {
    /// No package defines it and it is not built in.
    Unknown,
    /// Two installed packages define it for the same adapter.
    Duplicate { first: String, second: String },
}

impl JinjaEnv {
    /// Every materialization name a block defines, in any package, sorted.
    pub fn materialization_names(&self) -> &[String] {
        &self.materializations
    }

    /// The block (or built-in) a node materialized as `name` runs, as dbt chooses it: an
    /// adapter's own block over a `default` one; at the same adapter, the root project
    /// over installed packages over the built-in. A package's block for a built-in name
    /// (`table`) counts only with dbt's flag
    /// `require_explicit_package_overrides_for_builtin_materializations: false`; the
    /// second value then says which package overrode it, for dbt's deprecation warning.
    pub fn materialization(
        &self,
        name: &str,
        builtin: bool,
    ) -> Result<(MaterializationChoice, Option<String>), MaterializationError> {
        // (specificity: 0 is the adapter's own, locality, package).
        let mut candidates: Vec<(usize, Locality, Option<&str>)> = Vec::new();
        for (specificity, adapter) in ADAPTERS.iter().enumerate() {
            let wanted = macro_name(name, adapter);
            for (package, macros) in &self.registry.packages {
                if !macros.contains_key(&wanted) {
                    continue;
                }
                let locality = if *package == self.registry.root {
                    Locality::Root
                } else if package == INTERNAL_PACKAGE {
                    Locality::Core
                } else {
                    Locality::Imported
                };
                candidates.push((specificity, locality, Some(package.as_str())));
            }
        }
        if builtin {
            candidates.push((ADAPTERS.len() - 1, Locality::Core, None));
        }
        // Best first: the most specific, then the highest locality.
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        // dbt refuses two candidates of equal rank anywhere in the list.
        if let Some(pair) = candidates
            .windows(2)
            .find(|p| p[0].0 == p[1].0 && p[0].1 == p[1].1)
        {
            return Err(MaterializationError::Duplicate {
                first: pair[0].2.unwrap_or(INTERNAL_PACKAGE).to_string(),
                second: pair[1].2.unwrap_or(INTERNAL_PACKAGE).to_string(),
            });
        }
        let Some(best) = candidates.first().copied() else {
            return Err(MaterializationError::Unknown);
        };
        let has_core = candidates.iter().any(|c| c.1 == Locality::Core);
        let (chosen, overridden_by) = if best.1 == Locality::Imported && has_core {
            if self.package_materialization_overrides {
                (best, best.2.map(str::to_string))
            } else {
                let kept = candidates
                    .iter()
                    .copied()
                    .find(|c| c.1 != Locality::Imported)
                    .unwrap_or(best);
                (kept, None)
            }
        } else {
            (best, None)
        };
        let choice = match chosen {
            (specificity, _, Some(package)) => MaterializationChoice::Block {
                package: package.to_string(),
                macro_name: macro_name(name, ADAPTERS[specificity]),
            },
            (_, _, None) => MaterializationChoice::Builtin,
        };
        Ok((choice, overridden_by))
    }

    /// Calls the materialization macro `macro_name` of `package` for the node of
    /// `scope`, with the materialization context (`sql`, `compiled_code`, `pre_hooks`,
    /// `post_hooks`, `database`, `schema`) in `variables`, and returns the relations it
    /// returned (`{'relations': [...]}`), as dbt requires of every materialization.
    pub fn run_materialization(
        &self,
        package: &str,
        macro_name: &str,
        variables: Vec<(&'static str, Value)>,
        scope: &Arc<RenderScope>,
    ) -> Result<Vec<RelationValue>, Diagnostic> {
        let file = self
            .registry
            .get(package, macro_name)
            .map(|def| def.file.clone());
        let expression = self
            .env
            .compile_expression_owned(format!("{package}.{macro_name}()"))
            .map_err(|e| errors::to_diagnostic(&e, &self.files, file.as_ref()))?;
        let mut context = variables;
        context.extend(context_entries(scope));
        let returned = expression
            .eval(Value::from_iter(context))
            .map_err(|e| errors::to_diagnostic(&e, &self.files, file.as_ref()))?;
        let invalid = |message: String| {
            let d = Diagnostic::error(Code::TemplateRender, message).with_help(
                "end the materialization with {{ return({'relations': [target_relation]}) }}",
            );
            match &file {
                Some(f) => d.with_path(&f.path),
                None => d,
            }
        };
        relations_returned(&returned).map_err(invalid)
    }
}

/// The relations of a materialization's return value, or dbt's complaint about it.
fn relations_returned(returned: &Value) -> Result<Vec<RelationValue>, String> {
    if returned.as_str().is_some() || returned.is_undefined() || returned.is_none() {
        return Err(
            "the materialization did not explicitly return a list of relations to add to the cache"
                .into(),
        );
    }
    if returned.kind() != minijinja::value::ValueKind::Map {
        return Err(format!(
            "invalid return value from materialization, expected a dict with key \"relations\", got: {returned}"
        ));
    }
    let relations = returned
        .get_attr("relations")
        .ok()
        .filter(|v| !v.is_undefined());
    let Some(relations) = relations else {
        let keys: Vec<String> = returned
            .try_iter()
            .map(|keys| keys.map(|k| format!("'{k}'")).collect())
            .unwrap_or_default();
        return Err(format!(
            "invalid return value from materialization, \"relations\" not found, got keys: [{}]",
            keys.join(", ")
        ));
    };
    if relations.kind() != minijinja::value::ValueKind::Seq {
        return Err(format!(
            "invalid return value from materialization, \"relations\" not a list, got: {relations}"
        ));
    }
    let mut out = Vec::new();
    for relation in relations.try_iter().map_err(|e| e.to_string())? {
        match relation.downcast_object_ref::<RelationValue>() {
            Some(r) => out.push(r.clone()),
            None => {
                return Err(format!(
                    "invalid return value from materialization, expected a list of relations, got: {relation}"
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_macros_named_as_dbt_names_them() {
        assert_eq!(
            blocks_as_macros("{%- materialization my_mat, default -%}x{%- endmaterialization -%}"),
            "{%- macro materialization_my_mat_default() -%}x{%- endmacro -%}"
        );
        assert_eq!(
            blocks_as_macros(
                "a\n{% materialization t,\n  adapter='postgres', supported_languages=['sql', 'python'] %}\nb{% endmaterialization %}"
            ),
            "a\n{% macro materialization_t_postgres()\n %}\nb{% endmacro %}"
        );
        assert_eq!(
            blocks_as_macros("{% materialization t %}{% endmaterialization %}"),
            "{% macro materialization_t_default() %}{% endmacro %}"
        );
        // Arguments mart cannot read: left for minijinja to report.
        assert_eq!(
            blocks_as_macros("{% materialization t, flavour='x' %}"),
            "{% materialization t, flavour='x' %}"
        );
        assert!(matches!(
            blocks_as_macros("{% macro m() %}{% endmacro %}"),
            Cow::Borrowed(_)
        ));
    }
}
