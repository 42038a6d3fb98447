//! `state:modified.macros`: which macros changed between two manifests, and whether a
//! node depends on one of them, directly or through other macros.
//!
//! The macros a node or macro calls are its `depends_on.macros` when the manifest lists
//! them; when it lists none they are read from its code: every `name(` or
//! `package.name(` inside `{{ }}` / `{% %}` that names a macro of the manifest.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::StateManifest;

/// The macros that differ between the current manifest and the previous one (changed
/// `macro_sql`, added or removed).
pub(super) struct MacroChanges<'a> {
    changed: BTreeSet<String>,
    current: &'a StateManifest,
    names: MacroNames<'a>,
}

impl<'a> MacroChanges<'a> {
    pub(super) fn between(current: &'a StateManifest, old: &StateManifest) -> MacroChanges<'a> {
        let sql = |m: &Value| m.get("macro_sql").cloned().unwrap_or(Value::Null);
        let mut changed: BTreeSet<String> = current
            .macros
            .iter()
            .filter(|(id, m)| old.macros.get(*id).is_none_or(|o| sql(o) != sql(m)))
            .map(|(id, _)| id.clone())
            .collect();
        changed.extend(
            old.macros
                .keys()
                .filter(|id| !current.macros.contains_key(*id))
                .cloned(),
        );
        MacroChanges {
            changed,
            current,
            names: MacroNames::of(current),
        }
    }

    /// Whether `node` (of the current manifest) reaches a changed macro through the
    /// macros it calls.
    pub(super) fn node_uses_changed(&self, node: &Value) -> bool {
        if self.changed.is_empty() {
            return false;
        }
        let mut seen = BTreeSet::new();
        let mut stack = self.names.called_by(node, "raw_code");
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if self.changed.contains(&id) {
                return true;
            }
            if let Some(called) = self.current.macros.get(&id) {
                stack.extend(self.names.called_by(called, "macro_sql"));
            }
        }
        false
    }
}

/// The current manifest's macros by name, to resolve a call as dbt does: the caller's
/// package first, then the root project, then dbt's own, then any package.
struct MacroNames<'a> {
    root: &'a str,
    by_name: BTreeMap<&'a str, Vec<(&'a str, &'a str)>>,
}

impl<'a> MacroNames<'a> {
    fn of(manifest: &'a StateManifest) -> MacroNames<'a> {
        let mut by_name: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for id in manifest.macros.keys() {
            let mut parts = id.splitn(3, '.');
            if let (Some("macro"), Some(package), Some(name)) =
                (parts.next(), parts.next(), parts.next())
            {
                by_name
                    .entry(name)
                    .or_default()
                    .push((package, id.as_str()));
            }
        }
        MacroNames {
            root: &manifest.project_name,
            by_name,
        }
    }

    /// The macros `item` calls: its `depends_on.macros`, else those its code (`code_key`)
    /// calls.
    fn called_by(&self, item: &Value, code_key: &str) -> Vec<String> {
        let listed: Vec<String> = item["depends_on"]["macros"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !listed.is_empty() {
            return listed;
        }
        let package = item
            .get("package_name")
            .and_then(Value::as_str)
            .unwrap_or(self.root);
        let code = item.get(code_key).and_then(Value::as_str).unwrap_or("");
        calls(code)
            .into_iter()
            .filter_map(|(prefix, name)| self.resolve(prefix, name, package))
            .map(str::to_string)
            .collect()
    }

    fn resolve(&self, prefix: Option<&str>, name: &str, package: &str) -> Option<&'a str> {
        let candidates = self.by_name.get(name)?;
        let find = |p: &str| {
            candidates
                .iter()
                .find(|(pkg, _)| *pkg == p)
                .map(|(_, id)| *id)
        };
        match prefix {
            Some(prefix) => find(prefix),
            None => find(package)
                .or_else(|| find(self.root))
                .or_else(|| find("dbt"))
                .or_else(|| candidates.first().map(|(_, id)| *id)),
        }
    }
}

/// Every `name(` / `prefix.name(` inside the Jinja expressions and statements of `code`.
fn calls(code: &str) -> Vec<(Option<&str>, &str)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let end = after.find(close).unwrap_or(after.len());
        calls_in(&after[1..end.max(1)], &mut out);
        rest = &after[end.min(after.len())..];
    }
    out
}

fn calls_in<'a>(jinja: &'a str, out: &mut Vec<(Option<&'a str>, &'a str)>) {
    let bytes = jinja.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (i, _) in jinja.match_indices('(') {
        let mut start = i;
        while start > 0 && is_ident(bytes[start - 1]) {
            start -= 1;
        }
        if start == i {
            continue;
        }
        let name = &jinja[start..i];
        let prefix = (start > 1 && bytes[start - 1] == b'.').then(|| {
            let end = start - 1;
            let mut begin = end;
            while begin > 0 && is_ident(bytes[begin - 1]) {
                begin -= 1;
            }
            &jinja[begin..end]
        });
        out.push((prefix.filter(|p| !p.is_empty()), name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_inside_jinja_only() {
        let code = "select date_trunc('day', x), {{ cents(y) }} from {{ ref('a') }}\n\
                    {% set z = utils.pivot(1, other(2)) %}";
        assert_eq!(
            calls(code),
            vec![
                (None, "cents"),
                (None, "ref"),
                (Some("utils"), "pivot"),
                (None, "other")
            ]
        );
    }

    #[test]
    fn a_changed_macro_reached_through_another_counts() {
        let manifest = |inner: &str| {
            StateManifest {
            project_name: "p".into(),
            macros: [
                (
                    "macro.p.outer".to_string(),
                    serde_json::json!({"package_name": "p", "macro_sql": "{% macro outer() %}{{ inner() }}{% endmacro %}"}),
                ),
                (
                    "macro.p.inner".to_string(),
                    serde_json::json!({"package_name": "p", "macro_sql": inner}),
                ),
            ]
            .into_iter()
            .collect(),
            ..StateManifest::default()
        }
        };
        let (old, new) = (manifest("1"), manifest("2"));
        let changes = MacroChanges::between(&new, &old);
        let node = serde_json::json!({"package_name": "p", "raw_code": "select {{ outer() }}"});
        let other = serde_json::json!({"package_name": "p", "raw_code": "select outer()"});
        assert!(changes.node_uses_changed(&node));
        assert!(!changes.node_uses_changed(&other));
        assert!(!MacroChanges::between(&old, &old).node_uses_changed(&node));
    }
}
