//! Model contracts and constraints as dbt 1.10 declares them: `config: {contract:
//! {enforced: true, alias_types: true}}`, a column's `constraints:` and a model's
//! `constraints:` (`type`, `columns`, `expression`, `name`, `to`, `to_columns`,
//! `warn_unenforced`, `warn_unsupported`).

use std::sync::Arc;

use mart_diagnostics::{closest_name, Code, Diagnostic, SourceFile, Span};
use serde_yaml::Value;

/// `contract:` of a model's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contract {
    pub enforced: bool,
    /// dbt's type aliases (`string` is `text`, ...) apply to the declared data types.
    pub alias_types: bool,
}

impl Default for Contract {
    fn default() -> Self {
        Self {
            enforced: false,
            alias_types: true,
        }
    }
}

/// dbt's constraint types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintType {
    Check,
    NotNull,
    Unique,
    PrimaryKey,
    ForeignKey,
    Custom,
}

impl ConstraintType {
    const ALL: [(&'static str, ConstraintType); 6] = [
        ("check", Self::Check),
        ("not_null", Self::NotNull),
        ("unique", Self::Unique),
        ("primary_key", Self::PrimaryKey),
        ("foreign_key", Self::ForeignKey),
        ("custom", Self::Custom),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("custom", |(name, _)| name)
    }
}

/// One constraint of a column (`columns` empty) or of a model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Constraint {
    pub kind: ConstraintType,
    pub name: Option<String>,
    pub expression: Option<String>,
    pub warn_unenforced: bool,
    pub warn_unsupported: bool,
    /// A foreign key's parent as written: `ref('x')` or `source('s', 't')`.
    pub to: Option<String>,
    pub to_columns: Vec<String>,
    /// A model-level constraint's columns.
    pub columns: Vec<String>,
}

/// A foreign key's `to:`, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintTarget {
    Ref {
        package: Option<String>,
        name: String,
    },
    Source {
        source: String,
        table: String,
    },
}

/// Reads `ref('x')`, `ref('pkg', 'x')` and `source('s', 't')` (either quote style).
pub fn parse_constraint_target(to: &str) -> Option<ConstraintTarget> {
    let to = to.trim();
    let (function, rest) = to.split_once('(')?;
    let args = rest.trim_end().strip_suffix(')')?;
    let args: Vec<&str> = args.split(',').map(str::trim).collect();
    let literal = |a: &str| -> Option<String> {
        let inner = a
            .strip_prefix('\'')
            .and_then(|a| a.strip_suffix('\''))
            .or_else(|| a.strip_prefix('"').and_then(|a| a.strip_suffix('"')))?;
        (!inner.is_empty()).then(|| inner.to_string())
    };
    match (function.trim(), args.as_slice()) {
        ("ref", [name]) => Some(ConstraintTarget::Ref {
            package: None,
            name: literal(name)?,
        }),
        ("ref", [package, name]) => Some(ConstraintTarget::Ref {
            package: Some(literal(package)?),
            name: literal(name)?,
        }),
        ("source", [source, table]) => Some(ConstraintTarget::Source {
            source: literal(source)?,
            table: literal(table)?,
        }),
        _ => None,
    }
}

const KEYS: [&str; 8] = [
    "type",
    "name",
    "expression",
    "warn_unenforced",
    "warn_unsupported",
    "to",
    "to_columns",
    "columns",
];

/// Reads a `constraints:` list of a column (`model_level` false) or a model. `at` is the
/// `constraints:` key, where every finding points; unknown keys are warnings.
pub(crate) fn parse_constraints(
    value: &Value,
    model_level: bool,
    owner: &str,
    at: &Span,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Constraint>, Diagnostic> {
    let error = |message: String| {
        Diagnostic::error(Code::PropertyFile, format!("{owner}: {message}")).with_span(at.clone())
    };
    let Some(items) = value.as_sequence() else {
        return Err(error("`constraints:` must be a list of mappings".into())
            .with_help("write constraints: [{type: not_null}, ...]"));
    };
    // `columns` is a key of model-level constraints only.
    let keys_of_level = || {
        KEYS.into_iter()
            .filter(move |k| model_level || *k != "columns")
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i + 1;
            let Some(map) = item.as_mapping() else {
                return Err(error(format!("constraint {n} must be a mapping with a `type:`")));
            };
            for key in map.keys().filter_map(Value::as_str) {
                let column_level_columns = !model_level && key == "columns";
                if KEYS.contains(&key) && !column_level_columns {
                    continue;
                }
                let d = Diagnostic::warning(
                    Code::PropertyFile,
                    format!("{owner}: unknown key '{key}' in constraint {n}; it is ignored"),
                )
                .with_span(at.clone())
                .with_event("CustomKeyInObjectDeprecation");
                warnings.push(match closest_name(key, keys_of_level()) {
                    _ if column_level_columns => d.with_help(
                        "a column's constraint applies to its column; `columns:` belongs on model-level constraints",
                    ),
                    Some(close) => d.with_help(format!("did you mean '{close}'?")),
                    None => {
                        let keys: Vec<&str> = keys_of_level().collect();
                        d.with_help(format!("a constraint here takes {}", keys.join(", ")))
                    }
                });
            }
            let text = |key: &str| -> Result<Option<String>, Diagnostic> {
                match map.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(Value::Number(v)) => Ok(Some(v.to_string())),
                    Some(_) => Err(error(format!("`{key}:` of constraint {n} must be text"))),
                }
            };
            let flag = |key: &str| -> Result<bool, Diagnostic> {
                match map.get(key) {
                    None | Some(Value::Null) => Ok(true),
                    Some(Value::Bool(b)) => Ok(*b),
                    Some(_) => Err(error(format!("`{key}:` of constraint {n} must be true or false"))),
                }
            };
            let names = |key: &str| -> Result<Vec<String>, Diagnostic> {
                match map.get(key) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(Value::String(s)) => Ok(vec![s.clone()]),
                    Some(Value::Sequence(items)) => items
                        .iter()
                        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| {
                            error(format!("`{key}:` of constraint {n} must be a list of column names"))
                        }))
                        .collect(),
                    Some(_) => Err(error(format!("`{key}:` of constraint {n} must be a list of column names"))),
                }
            };
            let Some(type_name) = text("type")? else {
                return Err(error(format!("constraint {n} has no `type:`"))
                    .with_help("dbt requires a type for every constraint: not_null, unique, primary_key, foreign_key, check or custom"));
            };
            let Some(kind) = ConstraintType::ALL
                .iter()
                .find(|(name, _)| *name == type_name)
                .map(|(_, t)| *t)
            else {
                let d = error(format!("unknown constraint type '{type_name}' in constraint {n}"));
                let names = ConstraintType::ALL.iter().map(|(name, _)| *name);
                return Err(match closest_name(&type_name, names) {
                    Some(close) => d.with_help(format!("did you mean '{close}'?")),
                    None => d.with_help("use not_null, unique, primary_key, foreign_key, check or custom"),
                });
            };
            let constraint = Constraint {
                kind,
                name: text("name")?,
                expression: text("expression")?,
                warn_unenforced: flag("warn_unenforced")?,
                warn_unsupported: flag("warn_unsupported")?,
                to: text("to")?,
                to_columns: names("to_columns")?,
                columns: if model_level { names("columns")? } else { Vec::new() },
            };
            check_constraint(&constraint, model_level, n).map_err(error)?;
            Ok(constraint)
        })
        .collect()
}

/// What a constraint of its type needs to be built.
fn check_constraint(c: &Constraint, model_level: bool, n: usize) -> Result<(), String> {
    let kind = c.kind.as_str();
    let needs_expression = matches!(c.kind, ConstraintType::Check | ConstraintType::Custom);
    if needs_expression && c.expression.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return Err(format!("the {kind} constraint {n} needs an `expression:`"));
    }
    if model_level {
        if c.kind == ConstraintType::NotNull {
            return Err(format!(
                "constraint {n}: not_null is a column constraint in dbt; put it under the column"
            ));
        }
        let needs_columns = matches!(
            c.kind,
            ConstraintType::Unique | ConstraintType::PrimaryKey | ConstraintType::ForeignKey
        );
        if needs_columns && c.columns.is_empty() {
            return Err(format!(
                "the model-level {kind} constraint {n} needs `columns:`"
            ));
        }
    }
    if c.kind == ConstraintType::ForeignKey {
        match (&c.to, &c.expression) {
            (Some(to), _) => {
                if parse_constraint_target(to).is_none() {
                    return Err(format!(
                        "`to: {to}` of constraint {n} must be ref('model') or source('source', 'table')"
                    ));
                }
                if c.to_columns.is_empty() {
                    return Err(format!("the foreign_key constraint {n} needs `to_columns:`"));
                }
            }
            (None, Some(_)) => {}
            (None, None) => {
                return Err(format!(
                    "the foreign_key constraint {n} needs `to:` and `to_columns:` (or an `expression:`)"
                ))
            }
        }
    }
    Ok(())
}

/// Every foreign key's parent, for the node's dependencies.
pub fn constraint_targets<'a>(
    constraints: impl Iterator<Item = &'a Constraint>,
) -> Vec<ConstraintTarget> {
    constraints
        .filter_map(|c| c.to.as_deref())
        .filter_map(parse_constraint_target)
        .collect()
}

/// Where the entry named `name` (a model, or a column of the entry starting at `from`)
/// starts: the start of its `name:` line.
pub(crate) fn entry_line_start(file: &Arc<SourceFile>, name: &str, from: usize) -> usize {
    let entry = crate::yaml::entry_span_after(file, name, from);
    file.text[..entry.range.start]
        .rfind('\n')
        .map_or(0, |i| i + 1)
}

/// The span of `constraints:` of the entry starting at `start`.
pub(crate) fn constraints_span(file: &Arc<SourceFile>, start: usize) -> Span {
    crate::yaml::key_span_after(file, "constraints", start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str, model_level: bool) -> Result<Vec<Constraint>, String> {
        let file = Arc::new(SourceFile::new("models/p.yml", "constraints:\n"));
        let at = crate::yaml::key_span(&file, "constraints");
        let value: Value = serde_yaml::from_str(yaml).unwrap();
        let mut warnings = Vec::new();
        parse_constraints(&value, model_level, "model 'm'", &at, &mut warnings)
            .map_err(|d| d.message)
    }

    #[test]
    fn reads_column_and_model_constraints() {
        let c = parse(
            "[{type: not_null}, {type: foreign_key, to: \"ref('parent')\", to_columns: [id], name: fk_p, warn_unenforced: false}]",
            false,
        )
        .unwrap();
        assert_eq!(c[0].kind, ConstraintType::NotNull);
        assert!(c[0].warn_unenforced && c[0].warn_unsupported);
        assert_eq!(c[1].to_columns, ["id"]);
        assert_eq!(c[1].name.as_deref(), Some("fk_p"));
        assert!(!c[1].warn_unenforced);
        let m = parse("[{type: primary_key, columns: [a, b]}]", true).unwrap();
        assert_eq!(m[0].columns, ["a", "b"]);
    }

    #[test]
    fn malformed_constraints_are_errors() {
        let said = |y: &str, m: bool| parse(y, m).unwrap_err();
        assert_eq!(
            said("[{name: x}]", false),
            "model 'm': constraint 1 has no `type:`"
        );
        assert_eq!(
            said("[{type: not_nul}]", false),
            "model 'm': unknown constraint type 'not_nul' in constraint 1"
        );
        assert_eq!(
            said("[{type: check}]", false),
            "model 'm': the check constraint 1 needs an `expression:`"
        );
        assert_eq!(
            said("[{type: unique}]", true),
            "model 'm': the model-level unique constraint 1 needs `columns:`"
        );
        assert_eq!(
            said("[{type: foreign_key, to: parent, to_columns: [id]}]", false),
            "model 'm': `to: parent` of constraint 1 must be ref('model') or source('source', 'table')"
        );
        assert_eq!(
            said("[{type: foreign_key, to: \"ref('p')\"}]", false),
            "model 'm': the foreign_key constraint 1 needs `to_columns:`"
        );
        assert_eq!(
            said("{type: unique}", false),
            "model 'm': `constraints:` must be a list of mappings"
        );
    }

    #[test]
    fn reads_foreign_key_targets() {
        assert_eq!(
            parse_constraint_target(" ref( \"pkg\" , 'x' ) "),
            Some(ConstraintTarget::Ref {
                package: Some("pkg".into()),
                name: "x".into()
            })
        );
        assert_eq!(
            parse_constraint_target("source('raw', 'users')"),
            Some(ConstraintTarget::Source {
                source: "raw".into(),
                table: "users".into()
            })
        );
        assert_eq!(parse_constraint_target("ref(x)"), None);
    }
}
