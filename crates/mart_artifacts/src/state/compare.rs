//! dbt's state comparison (`state:modified` and its parts), read from two manifests'
//! JSON so that a dbt-written state compares as a mart-written one does.

use std::collections::{BTreeMap, BTreeSet};

use mart_graph::{ModifiedPart, NodeId, NodeState, StateMarks};
use serde_json::{Map, Value};

use super::macros::MacroChanges;
use super::{PreviousState, StateManifest};

/// Config keys dbt leaves out of the config comparison: the relation's (compared by
/// `modified.relation`), tags and group.
const NOT_COMPARED: [&str; 5] = ["alias", "schema", "database", "tags", "group"];

/// The only config keys dbt compares for data tests.
const TEST_MODIFIERS: [&str; 8] = [
    "severity",
    "where",
    "limit",
    "fail_calc",
    "warn_if",
    "error_if",
    "store_failures",
    "store_failures_as",
];

/// How every node of `current` compares with `previous`, and the previous run's results.
pub fn compare(current: &StateManifest, previous: &PreviousState) -> StateMarks {
    let old = &previous.manifest;
    let macro_changes = MacroChanges::between(current, old);
    let mut nodes = BTreeMap::new();
    for (id, node) in &current.nodes {
        let state = node_state(
            node,
            old.nodes.get(id),
            macro_changes.node_uses_changed(node),
        );
        nodes.insert(NodeId::new(id.clone()), state);
    }
    for (id, source) in &current.sources {
        nodes.insert(
            NodeId::new(id.clone()),
            source_state(source, old.sources.get(id)),
        );
    }
    for (id, exposure) in &current.exposures {
        nodes.insert(
            NodeId::new(id.clone()),
            exposure_state(exposure, old.exposures.get(id)),
        );
    }
    for (id, unit) in &current.unit_tests {
        let old_unit = old.unit_tests.get(id);
        let state = match old_unit {
            None => new_state(true, &[ModifiedPart::Body, ModifiedPart::Configs]),
            Some(old_unit) => NodeState {
                old: true,
                modified: unit_test_fingerprint(unit) != unit_test_fingerprint(old_unit),
                parts: BTreeSet::new(),
            },
        };
        nodes.insert(NodeId::new(id.clone()), state);
    }
    StateMarks {
        nodes,
        results: previous.results.clone(),
    }
}

/// A node that is not in the previous manifest: `modified` as dbt has it, and the parts
/// whose check counts a missing old node as a change.
fn new_state(modified: bool, parts: &[ModifiedPart]) -> NodeState {
    NodeState {
        old: false,
        modified,
        parts: parts.iter().copied().collect(),
    }
}

/// Models, seeds, snapshots, tests and analyses.
fn node_state(new: &Value, old: Option<&Value>, macros_changed: bool) -> NodeState {
    let Some(old) = old else {
        let mut state = new_state(
            true,
            &[
                ModifiedPart::Body,
                ModifiedPart::Configs,
                ModifiedPart::Relation,
                ModifiedPart::PersistedDescriptions,
                ModifiedPart::Contract,
            ],
        );
        if macros_changed {
            state.parts.insert(ModifiedPart::Macros);
        }
        return state;
    };
    let is_model = text(old, "resource_type") == Some("model");
    let mut parts = BTreeSet::new();
    let mut changed = |part: ModifiedPart, same: bool| {
        if !same {
            parts.insert(part);
        }
    };
    changed(ModifiedPart::Body, same_body(new, old));
    changed(ModifiedPart::Configs, same_config(new, old));
    changed(ModifiedPart::Relation, same_relation(new, old));
    changed(
        ModifiedPart::PersistedDescriptions,
        same_persisted_descriptions(new, old),
    );
    changed(ModifiedPart::Macros, !macros_changed);
    // Only a model has a contract dbt compares.
    changed(ModifiedPart::Contract, !is_model || same_contract(new, old));
    // dbt's default access is `protected`; a manifest without the key has the default.
    let access = |node: &Value| text(node, "access").unwrap_or("protected").to_string();
    let same_refs = !is_model
        || (access(new) == access(old)
            && ["latest_version", "deprecation_date"]
                .iter()
                .all(|key| field(new, key) == field(old, key)));
    let modified = !parts.is_empty() || field(new, "fqn") != field(old, "fqn") || !same_refs;
    NodeState {
        old: true,
        modified,
        parts,
    }
}

fn field<'a>(node: &'a Value, key: &str) -> &'a Value {
    node.get(key).unwrap_or(&Value::Null)
}

fn text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Value::as_str)
}

/// Seeds by their file's checksum, everything else by its raw code (surrounding
/// whitespace aside).
fn same_body(new: &Value, old: &Value) -> bool {
    if text(new, "resource_type") == Some("seed") {
        return field(new, "checksum") == field(old, "checksum");
    }
    // dbt writes the code without surrounding whitespace, mart as the file has it.
    text(new, "raw_code").map(str::trim) == text(old, "raw_code").map(str::trim)
}

/// The configs as written (`unrendered_config`), key by key: a key set on one side only
/// is a change. Data tests compare only the keys that change their verdict.
fn same_config(new: &Value, old: &Value) -> bool {
    let (mine, theirs) = (unrendered(new), unrendered(old));
    let keys: BTreeSet<&String> = mine.keys().chain(theirs.keys()).collect();
    let is_test = text(new, "resource_type") == Some("test");
    let same = keys
        .into_iter()
        .filter(|key| {
            if is_test {
                TEST_MODIFIERS.contains(&key.as_str())
            } else {
                !NOT_COMPARED.contains(&key.as_str())
            }
        })
        .all(|key| mine.get(key) == theirs.get(key));
    same
}

/// `unrendered_config` with dbt's and mart's spellings of hook keys made one.
fn unrendered(node: &Value) -> Map<String, Value> {
    node.get("unrendered_config")
        .and_then(Value::as_object)
        .map(|config| {
            config
                .iter()
                .map(|(k, v)| (k.replace('-', "_"), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The database, schema and alias as configured (not as generated for the target, so a
/// state built in another schema compares equal).
fn same_relation(new: &Value, old: &Value) -> bool {
    let (mine, theirs) = (unrendered(new), unrendered(old));
    ["database", "schema", "alias"]
        .iter()
        .all(|key| mine.get(*key) == theirs.get(*key))
}

/// Descriptions count only where `persist_docs` writes them to the database.
fn same_persisted_descriptions(new: &Value, old: &Value) -> bool {
    let persist = |key: &str| {
        new["config"]["persist_docs"]
            .get(key)
            .is_some_and(|v| v.as_bool().unwrap_or(!v.is_null()))
    };
    if persist("relation") && field(new, "description") != field(old, "description") {
        return false;
    }
    if persist("columns") && column_descriptions(new) != column_descriptions(old) {
        return false;
    }
    true
}

fn column_descriptions(node: &Value) -> BTreeMap<&str, &Value> {
    node.get("columns")
        .and_then(Value::as_object)
        .map(|columns| {
            columns
                .iter()
                .map(|(name, c)| (name.as_str(), field(c, "description")))
                .collect()
        })
        .unwrap_or_default()
}

/// dbt's contract check: unenforced on both sides is the same; newly enforced is a
/// change; enforced on both sides compares the contract checksums.
fn same_contract(new: &Value, old: &Value) -> bool {
    let enforced = |node: &Value| node["contract"]["enforced"].as_bool().unwrap_or(false);
    match (enforced(old), enforced(new)) {
        (false, false) => true,
        (true, true) => new["contract"]["checksum"] == old["contract"]["checksum"],
        _ => false,
    }
}

/// Sources: relation, fqn, config, quoting, freshness and externals; a new source is not
/// "modified" (dbt's rule), and descriptions, tags and meta never count.
fn source_state(new: &Value, old: Option<&Value>) -> NodeState {
    let Some(old) = old else {
        return new_state(false, &[ModifiedPart::Configs, ModifiedPart::Relation]);
    };
    let same = |keys: &[&str]| keys.iter().all(|key| field(new, key) == field(old, key));
    let same_config = {
        let config = |node: &Value| -> Map<String, Value> {
            let config = node
                .get("unrendered_config")
                .filter(|c| c.as_object().is_some_and(|c| !c.is_empty()))
                .or_else(|| node.get("config"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            config
                .into_iter()
                .filter(|(k, _)| !NOT_COMPARED.contains(&k.as_str()) && k != "meta")
                .collect()
        };
        config(new) == config(old)
    };
    let same_relation = same(&["database", "schema", "identifier"]);
    let mut parts = BTreeSet::new();
    if !same_config {
        parts.insert(ModifiedPart::Configs);
    }
    if !same_relation {
        parts.insert(ModifiedPart::Relation);
    }
    let modified =
        !parts.is_empty() || !same(&["fqn", "quoting", "freshness", "loaded_at_field", "external"]);
    NodeState {
        old: true,
        modified,
        parts,
    }
}

/// Exposures: what they point at and say; a new exposure is not "modified" (dbt's rule).
fn exposure_state(new: &Value, old: Option<&Value>) -> NodeState {
    let Some(old) = old else {
        return new_state(false, &[ModifiedPart::Configs]);
    };
    let same = |keys: &[&str]| keys.iter().all(|key| field(new, key) == field(old, key));
    let depends_on = |node: &Value| -> BTreeSet<String> {
        node["depends_on"]["nodes"]
            .as_array()
            .map(|n| {
                n.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let same_config = same(&["config"]);
    NodeState {
        old: true,
        modified: !same_config
            || !same(&[
                "fqn",
                "type",
                "owner",
                "maturity",
                "url",
                "description",
                "label",
            ])
            || depends_on(new) != depends_on(old),
        parts: if same_config {
            BTreeSet::new()
        } else {
            BTreeSet::from([ModifiedPart::Configs])
        },
    }
}

/// What a unit test's checksum covers in dbt (its model, given rows, expected rows and
/// overrides), read from its manifest entry: dbt's checksum when both sides have one.
fn unit_test_fingerprint(unit: &Value) -> Value {
    match unit.get("checksum") {
        Some(checksum) if !checksum.is_null() => checksum.clone(),
        _ => Value::Array(
            ["model", "given", "expect", "overrides", "versions"]
                .iter()
                .map(|key| field(unit, key).clone())
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A dbt-written node (stripped code, `access`) and mart's (the file's text, no
    /// `access`) of the same model compare equal; a persisted description counts.
    #[test]
    fn dbt_and_mart_spellings_of_one_node_are_the_same_node() {
        let dbt = json!({"resource_type": "model", "raw_code": "select 1", "access": "protected",
            "fqn": ["p", "a"], "unrendered_config": {"materialized": "view", "post-hook": []},
            "description": "x", "config": {"persist_docs": {"relation": true}}});
        let mart = json!({"resource_type": "model", "raw_code": "select 1\n", "fqn": ["p", "a"],
            "unrendered_config": {"materialized": "view", "post_hook": []},
            "description": "x", "config": {"persist_docs": {"relation": true}}});
        assert_eq!(
            node_state(&mart, Some(&dbt), false),
            NodeState {
                old: true,
                modified: false,
                parts: BTreeSet::new()
            }
        );
        let mut described = mart.clone();
        described["description"] = json!("y");
        assert_eq!(
            node_state(&described, Some(&dbt), false).parts,
            BTreeSet::from([ModifiedPart::PersistedDescriptions])
        );
        described["config"]["persist_docs"] = json!({});
        assert!(!node_state(&described, Some(&dbt), false).modified);
    }
}
