//! Groups and model access, as dbt 1.10 checks them: `group:` must name a declared
//! group; `access:` is private, protected (the default) or public; a private model may
//! be ref'd only from its own group, and, when its package sets `restrict-access`, only
//! from its own package (protected models too).

use std::collections::{HashMap, HashSet};

use mart_diagnostics::{closest_name, Code, Diagnostic};
use mart_graph::{NodeId, ResourceType};
use mart_project::{ConfigMap, Project};

use crate::config_checks::ConfigOrigins;
use crate::manifest::Node;

/// A model's access when nothing sets it.
pub(crate) const DEFAULT_ACCESS: &str = "protected";
const ACCESS_VALUES: [&str; 3] = ["private", "protected", "public"];

/// An error, where the value was set, when `group` names no declared group or a model's
/// `access` is not one of dbt's values (or is public on an ephemeral model).
pub(crate) fn check_group_and_access(
    origins: &ConfigOrigins<'_>,
    config: &ConfigMap,
    resource_type: ResourceType,
    groups: &[String],
) -> Result<(), Diagnostic> {
    if let Some(group) = config.get("group").filter(|g| !g.is_null()) {
        let name = group
            .as_str()
            .map_or_else(|| group.to_string(), str::to_string);
        if !groups.contains(&name) {
            let mut known: Vec<&str> = groups.iter().map(String::as_str).collect();
            known.sort();
            let message = match known.is_empty() {
                true => format!("unknown group '{name}': the project declares no groups"),
                false => format!("unknown group '{name}'; groups are: {}", known.join(", ")),
            };
            let help = match closest_name(&name, known.iter().copied()) {
                Some(close) => format!("did you mean '{close}'?"),
                None => format!("declare it under `groups:` in a property file: - name: {name}"),
            };
            let d = Diagnostic::error(Code::Config, message).with_help(help);
            return Err(origins.placed(d, "group", config));
        }
    }
    if resource_type != ResourceType::Model {
        return Ok(());
    }
    let access = config.get("access").and_then(|a| a.as_str());
    match access {
        Some(a) if !ACCESS_VALUES.contains(&a) => {
            let help = match closest_name(a, ACCESS_VALUES) {
                Some(close) => format!("did you mean '{close}'?"),
                None => "access is private, protected or public".to_string(),
            };
            let d = Diagnostic::error(
                Code::Config,
                format!("unknown access '{a}'; access is private, protected or public"),
            )
            .with_help(help);
            Err(origins.placed(d, "access", config))
        }
        Some("public")
            if config.get("materialized").and_then(|m| m.as_str()) == Some("ephemeral") =>
        {
            let d = Diagnostic::error(
                Code::Config,
                "an ephemeral model cannot be public: other projects could not ref it",
            )
            .with_help("make the model protected or private, or materialize it");
            Err(origins.placed(d, "access", config))
        }
        _ => Ok(()),
    }
}

/// What a ref must respect about its target.
struct Rule {
    access: &'static str,
    group: Option<String>,
    package: String,
    /// The target's package sets `restrict-access: true`.
    restrict_access: bool,
}

/// The models whose access limits who may ref them, and the group of every node (a test
/// is in the group of the node it tests, as in dbt).
pub(crate) struct AccessRules {
    rules: HashMap<NodeId, Rule>,
    groups: HashMap<NodeId, String>,
}

/// Who refs: a node or an exposure.
pub(crate) struct Referrer<'a> {
    pub id: &'a NodeId,
    pub package: &'a str,
    pub group: Option<&'a str>,
    /// A test's node, whose group it joins.
    pub attached: Option<&'a NodeId>,
}

impl AccessRules {
    pub(crate) fn new(project: &Project, nodes: &[Node]) -> Self {
        let restricting: HashSet<&str> = std::iter::once(project)
            .chain(&project.packages)
            .filter(|p| p.config.restrict_access)
            .map(|p| p.config.name.as_str())
            .collect();
        let mut rules = HashMap::new();
        let mut groups = HashMap::new();
        for node in nodes {
            if let Some(group) = node.group() {
                groups.insert(node.id.clone(), group.to_string());
            }
            let restrict_access = restricting.contains(node.package.as_str());
            let access = match node.access() {
                Some("private") => "private",
                Some("protected") if restrict_access => "protected",
                _ => continue,
            };
            rules.insert(
                node.id.clone(),
                Rule {
                    access,
                    group: node.group().map(str::to_string),
                    package: node.package.clone(),
                    restrict_access,
                },
            );
        }
        AccessRules { rules, groups }
    }

    /// dbt's reference error when `from` may not ref `target`: the message, and what to
    /// do about it.
    pub(crate) fn violation(
        &self,
        from: &Referrer<'_>,
        target: &NodeId,
    ) -> Option<(String, String)> {
        let rule = self.rules.get(target)?;
        let group = from.group.or_else(|| {
            from.attached
                .and_then(|a| self.groups.get(a).map(String::as_str))
        });
        let other_package = from.package != rule.package;
        let (scope, kind, help) = match rule.access {
            "private" => {
                let same_group = group.is_some() && group == rule.group.as_deref();
                if same_group && !(other_package && rule.restrict_access) {
                    return None;
                }
                let scope = rule.group.clone().unwrap_or_default();
                let help = match &rule.group {
                    Some(g) => format!(
                        "put the referring node in group '{g}' (config group: {g}), or make '{target}' protected or public"
                    ),
                    None => format!(
                        "give '{target}' a group (a private model needs one) and put the referring node in it, or make it protected"
                    ),
                };
                (scope, "group", help)
            }
            _ if !other_package => return None,
            _ => (
                rule.package.clone(),
                "package",
                format!("make '{target}' public to ref it from another package"),
            ),
        };
        let message = format!(
            "{} may not ref {target}: it is {} to the '{scope}' {kind}",
            from.id, rule.access
        );
        Some((message, help))
    }
}
