//! What the `state:` and `result:` selectors match: facts about each node compared with
//! a previous manifest and its run results (`--state DIR`), computed by the caller and
//! attached to the [`Dag`](crate::Dag) before selecting.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::node::NodeId;

/// One `state:` value, as dbt spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateCheck {
    /// Not in the previous manifest.
    New,
    /// In the previous manifest.
    Old,
    /// New, or different in any way dbt compares (body, configs, relation, persisted
    /// descriptions, fqn, macros, contract...).
    Modified,
    /// In the previous manifest and not modified.
    Unmodified,
    /// `modified.<part>`: new, or that one part differs (for `.macros`: a macro the node
    /// depends on, directly or through other macros, changed).
    ModifiedPart(ModifiedPart),
}

/// The parts `state:modified.<part>` looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModifiedPart {
    Body,
    Configs,
    Relation,
    PersistedDescriptions,
    Macros,
    Contract,
}

impl ModifiedPart {
    pub const ALL: [ModifiedPart; 6] = [
        ModifiedPart::Body,
        ModifiedPart::Configs,
        ModifiedPart::Relation,
        ModifiedPart::PersistedDescriptions,
        ModifiedPart::Macros,
        ModifiedPart::Contract,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ModifiedPart::Body => "body",
            ModifiedPart::Configs => "configs",
            ModifiedPart::Relation => "relation",
            ModifiedPart::PersistedDescriptions => "persisted_descriptions",
            ModifiedPart::Macros => "macros",
            ModifiedPart::Contract => "contract",
        }
    }
}

/// The values `state:` takes, for error messages.
pub(crate) const STATE_VALUES: &str = "new, old, modified, unmodified, modified.body, \
    modified.configs, modified.relation, modified.persisted_descriptions, modified.macros, \
    modified.contract";

/// The statuses run_results.json records, which `result:` takes.
pub(crate) const RESULT_STATUSES: [&str; 6] =
    ["success", "error", "fail", "warn", "pass", "skipped"];

impl StateCheck {
    pub fn parse(value: &str) -> Option<StateCheck> {
        Some(match value {
            "new" => StateCheck::New,
            "old" => StateCheck::Old,
            "modified" => StateCheck::Modified,
            "unmodified" => StateCheck::Unmodified,
            _ => {
                let part = value.strip_prefix("modified.")?;
                StateCheck::ModifiedPart(
                    ModifiedPart::ALL.into_iter().find(|p| p.as_str() == part)?,
                )
            }
        })
    }
}

impl fmt::Display for StateCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateCheck::New => f.write_str("new"),
            StateCheck::Old => f.write_str("old"),
            StateCheck::Modified => f.write_str("modified"),
            StateCheck::Unmodified => f.write_str("unmodified"),
            StateCheck::ModifiedPart(part) => write!(f, "modified.{}", part.as_str()),
        }
    }
}

/// How one node of the current project compares with the previous manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeState {
    /// The node is in the previous manifest.
    pub old: bool,
    /// dbt's `state:modified` verdict (a new node is modified, except a new source, as
    /// dbt has it).
    pub modified: bool,
    /// The parts that differ; for a new node every part but `Macros` (which only counts
    /// a changed macro).
    pub parts: BTreeSet<ModifiedPart>,
}

/// The comparison with a previous state: each current node's [`NodeState`] (a node
/// without one is new) and the status each node had in the previous run_results.json.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateMarks {
    pub nodes: BTreeMap<NodeId, NodeState>,
    /// None when the state folder has no run_results.json.
    pub results: Option<BTreeMap<NodeId, String>>,
}

impl StateMarks {
    /// Whether `id` matches `state:<check>`.
    pub fn matches(&self, id: &NodeId, check: StateCheck) -> bool {
        let state = self.nodes.get(id);
        let old = state.is_some_and(|s| s.old);
        match check {
            StateCheck::New => !old,
            StateCheck::Old => old,
            StateCheck::Modified => state.is_some_and(|s| s.modified),
            StateCheck::Unmodified => old && !state.is_some_and(|s| s.modified),
            StateCheck::ModifiedPart(part) => state.is_some_and(|s| s.parts.contains(&part)),
        }
    }

    /// Whether `id` had `status` in the previous run results.
    pub fn had_result(&self, id: &NodeId, status: &str) -> bool {
        self.results
            .as_ref()
            .and_then(|r| r.get(id))
            .is_some_and(|s| s == status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::parse_selector;

    #[test]
    fn state_values_parse_as_dbt_spells_them() {
        assert_eq!(
            StateCheck::parse("modified.persisted_descriptions"),
            Some(StateCheck::ModifiedPart(
                ModifiedPart::PersistedDescriptions
            ))
        );
        assert_eq!(
            StateCheck::parse("unmodified"),
            Some(StateCheck::Unmodified)
        );
        assert_eq!(StateCheck::parse("modified.bodies"), None);
        for value in STATE_VALUES.split(", ") {
            let check = StateCheck::parse(value);
            assert_eq!(check.map(|c| c.to_string()).as_deref(), Some(value));
        }
        insta::assert_snapshot!(
            parse_selector("state:changed+").unwrap_err(),
            @"unknown state 'changed' in 'state:changed+'; state: takes new, old, modified, unmodified, modified.body, modified.configs, modified.relation, modified.persisted_descriptions, modified.macros, modified.contract"
        );
        insta::assert_snapshot!(
            parse_selector("result:failed").unwrap_err(),
            @"unknown result status 'failed' in 'result:failed'; result: takes success, error, fail, warn, pass, skipped"
        );
    }

    #[test]
    fn a_node_matches_the_checks_its_state_says() {
        let (old, changed, new) = (NodeId::new("a"), NodeId::new("b"), NodeId::new("c"));
        let marks = StateMarks {
            nodes: BTreeMap::from([
                (
                    old.clone(),
                    NodeState {
                        old: true,
                        ..NodeState::default()
                    },
                ),
                (
                    changed.clone(),
                    NodeState {
                        old: true,
                        modified: true,
                        parts: BTreeSet::from([ModifiedPart::Macros]),
                    },
                ),
            ]),
            results: Some(BTreeMap::from([(old.clone(), "error".to_string())])),
        };
        let macros = StateCheck::ModifiedPart(ModifiedPart::Macros);
        let matching = |check| {
            [&old, &changed, &new]
                .into_iter()
                .filter(|id| marks.matches(id, check))
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(matching(StateCheck::New), ["c"]);
        assert_eq!(matching(StateCheck::Old), ["a", "b"]);
        assert_eq!(matching(StateCheck::Modified), ["b"]);
        assert_eq!(matching(StateCheck::Unmodified), ["a"]);
        assert_eq!(matching(macros), ["b"]);
        assert!(marks.had_result(&old, "error"));
        assert!(!marks.had_result(&changed, "error"));
    }
}
