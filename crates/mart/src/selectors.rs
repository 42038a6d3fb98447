//! `selectors.yml`: dbt's named YAML selectors, for `--selector NAME` and, with
//! `default: true`, for a command given no selection.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile};
use mart_graph::{IndirectSelection, SelectorExpr};
use serde_yaml::Value;

/// The project's selectors, by name.
#[derive(Debug, Default)]
pub struct Selectors {
    definitions: BTreeMap<String, Value>,
    default: Option<String>,
    file: Option<Arc<SourceFile>>,
}

impl Selectors {
    /// Reads `<root>/selectors.yml`; none is no selectors.
    pub fn load(root: &Path) -> Result<Selectors, Diagnostic> {
        let path = root.join("selectors.yml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Selectors::default()),
            // Not silently: a selectors.yml that cannot be read would change what runs.
            Err(e) => {
                return Err(
                    Diagnostic::error(Code::Io, format!("cannot read selectors.yml: {e}"))
                        .with_path("selectors.yml")
                        .with_help("make the file readable, or remove it"),
                )
            }
        };
        let file = Arc::new(SourceFile::new("selectors.yml", text));
        let error = |message: String| {
            Diagnostic::error(Code::ProjectFile, message)
                .with_path("selectors.yml")
                .with_help(
                    "write selectors: [{name: ..., definition: ...}], as dbt reads selectors.yml",
                )
        };
        let doc: Value = serde_yaml::from_str(&file.text)
            .map_err(|e| error(format!("selectors.yml is not valid YAML: {e}")))?;
        let list = match doc.get("selectors") {
            Some(Value::Sequence(list)) => list.clone(),
            _ => return Err(error("selectors.yml has no `selectors:` list".into())),
        };
        let mut selectors = Selectors {
            file: Some(file.clone()),
            ..Selectors::default()
        };
        for entry in list {
            let Some(name) = entry
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return Err(error("a selector has no name".into()));
            };
            let at = mart_project::entry_span(&file, &name);
            let Some(definition) = entry.get("definition") else {
                return Err(Diagnostic::error(Code::ProjectFile, format!("selector '{name}' has no definition"))
                    .with_span(at)
                    .with_help("add definition: with a method and value, a union, an intersection or a string in --select syntax"));
            };
            if entry.get("default").and_then(Value::as_bool) == Some(true) {
                if let Some(other) = &selectors.default {
                    return Err(Diagnostic::error(
                        Code::ProjectFile,
                        format!("selectors '{other}' and '{name}' are both `default: true`"),
                    )
                    .with_span(at)
                    .with_help("keep `default: true` on one selector"));
                }
                selectors.default = Some(name.clone());
            }
            selectors.definitions.insert(name, definition.clone());
        }
        Ok(selectors)
    }

    /// The selector `--selector` names, or (`None`) the default one, as an expression.
    pub fn expression(&self, name: Option<&str>) -> Result<Option<SelectorExpr>, Diagnostic> {
        let Some(name) = name.or(self.default.as_deref()) else {
            return Ok(None);
        };
        self.named(name, &mut Vec::new()).map(Some)
    }

    fn named(&self, name: &str, seen: &mut Vec<String>) -> Result<SelectorExpr, Diagnostic> {
        let Some(definition) = self.definitions.get(name) else {
            let mut d = Diagnostic::error(
                Code::Selector,
                format!("no selector named '{name}' in selectors.yml"),
            );
            d = match closest_name(name, self.definitions.keys().map(String::as_str)) {
                Some(near) => d.with_help(format!("did you mean '{near}'?")),
                None if self.definitions.is_empty() => {
                    d.with_help("define it in selectors.yml at the project's root")
                }
                None => d.with_help(format!(
                    "selectors.yml defines: {}",
                    self.definitions
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            return Err(d);
        };
        if seen.iter().any(|s| s == name) {
            seen.push(name.to_string());
            return Err(self.error(
                name,
                format!(
                    "selectors refer to each other in a loop: {}",
                    seen.join(" -> ")
                ),
            ));
        }
        seen.push(name.to_string());
        let expr = self.definition(name, definition, seen)?;
        seen.pop();
        Ok(expr)
    }

    fn definition(
        &self,
        name: &str,
        value: &Value,
        seen: &mut Vec<String>,
    ) -> Result<SelectorExpr, Diagnostic> {
        match value {
            Value::String(text) => Ok(SelectorExpr::Criterion(text.clone())),
            Value::Mapping(map) => {
                let mut members = |key: &str| -> Result<Option<Vec<SelectorExpr>>, Diagnostic> {
                    match map.get(key) {
                        None => Ok(None),
                        Some(Value::Sequence(items)) => items
                            .iter()
                            .map(|item| self.definition(name, item, seen))
                            .collect::<Result<Vec<_>, _>>()
                            .map(Some),
                        Some(_) => Err(self.error(name, format!("`{key}` must be a list"))),
                    }
                };
                if let Some(items) = members("union")? {
                    return Ok(SelectorExpr::Union(items));
                }
                if let Some(items) = members("intersection")? {
                    return Ok(SelectorExpr::Intersection(items));
                }
                if let Some(items) = members("exclude")? {
                    return Ok(SelectorExpr::Exclude(items));
                }
                self.method(name, map, seen)
            }
            other => Err(self.error(
                name,
                format!("a definition must be a string or a mapping, found {other:?}"),
            )),
        }
    }

    /// `{method: tag, value: nightly, parents: true, children_depth: 1, ...}` as CLI syntax.
    fn method(
        &self,
        name: &str,
        map: &serde_yaml::Mapping,
        seen: &mut Vec<String>,
    ) -> Result<SelectorExpr, Diagnostic> {
        for key in map.keys().filter_map(Value::as_str) {
            if !matches!(
                key,
                "method"
                    | "value"
                    | "parents"
                    | "children"
                    | "parents_depth"
                    | "children_depth"
                    | "childrens_parents"
                    | "indirect_selection"
                    | "description"
            ) {
                return Err(self.error(
                    name,
                    format!("unknown key '{key}' in a selector definition"),
                ));
            }
        }
        let text = |key: &str| {
            map.get(key).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
        };
        let (Some(method), Some(value)) = (text("method"), text("value")) else {
            return Err(self.error(
                name,
                "a definition needs `method` and `value` (or union, intersection, exclude)".into(),
            ));
        };
        let indirect = match map.get("indirect_selection") {
            None => None,
            Some(value) => Some(self.indirect_mode(name, value)?),
        };
        if method == "selector" {
            return self.named(&value, seen);
        }
        let flag = |key: &str| map.get(key).and_then(Value::as_bool) == Some(true);
        let depth = |key: &str| map.get(key).and_then(Value::as_u64);
        let criterion = if method == "fqn" {
            value
        } else {
            format!("{method}:{value}")
        };
        let prefix = if flag("childrens_parents") {
            "@".to_string()
        } else if flag("parents") || depth("parents_depth").is_some() {
            format!(
                "{}+",
                depth("parents_depth")
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            )
        } else {
            String::new()
        };
        let suffix = if flag("children") || depth("children_depth").is_some() {
            format!(
                "+{}",
                depth("children_depth")
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            )
        } else {
            String::new()
        };
        let criterion = format!("{prefix}{criterion}{suffix}");
        Ok(match indirect {
            Some(mode) => SelectorExpr::WithIndirect(criterion, mode),
            None => SelectorExpr::Criterion(criterion),
        })
    }

    /// A definition's `indirect_selection:` (eager, cautious, buildable, empty), which
    /// overrides --indirect-selection for the tests of what it selects.
    fn indirect_mode(&self, name: &str, value: &Value) -> Result<IndirectSelection, Diagnostic> {
        const MODES: [&str; 4] = ["eager", "cautious", "buildable", "empty"];
        let text = value.as_str().unwrap_or_default();
        Ok(match text {
            "eager" => IndirectSelection::Eager,
            "cautious" => IndirectSelection::Cautious,
            "buildable" => IndirectSelection::Buildable,
            "empty" => IndirectSelection::Empty,
            _ => {
                let help = closest_name(text, MODES)
                    .map_or(String::new(), |m| format!(" (did you mean '{m}'?)"));
                return Err(self.error(
                    name,
                    format!("indirect_selection '{}' is not one of eager, cautious, buildable, empty{help}", if text.is_empty() { format!("{value:?}") } else { text.to_string() }),
                ));
            }
        })
    }

    fn error(&self, name: &str, message: String) -> Diagnostic {
        let d = Diagnostic::error(Code::Selector, format!("selector '{name}': {message}"));
        match &self.file {
            Some(file) => d.with_span(mart_project::entry_span(file, name)),
            None => d,
        }
    }
}
