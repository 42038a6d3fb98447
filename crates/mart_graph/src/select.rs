//! Evaluating selectors against a [`Dag`].

use std::collections::BTreeSet;

use petgraph::Direction;

use crate::bitset::NodeSet;
use crate::dag::{flat_fqn, Dag};
use crate::glob::{glob_match, has_wildcard, matches};
use crate::node::{GraphNode, NodeId, ResourceType, VersionStatus};
use crate::selector::{
    parse_selector, Criterion, Intersection, Selector, SelectorError, SelectorPart, VersionKind,
};

/// How tests that were not selected themselves follow the nodes they test (dbt's
/// `--indirect-selection`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IndirectSelection {
    /// A test is added when any of its parents is selected (dbt's default).
    #[default]
    Eager,
    /// A test is added when all of its parents are selected.
    Cautious,
    /// A test is added when each parent is selected or an ancestor of a selected node.
    Buildable,
    /// Only directly selected tests.
    Empty,
}

impl IndirectSelection {
    /// The `--indirect-selection` value.
    pub fn as_str(self) -> &'static str {
        match self {
            IndirectSelection::Eager => "eager",
            IndirectSelection::Cautious => "cautious",
            IndirectSelection::Buildable => "buildable",
            IndirectSelection::Empty => "empty",
        }
    }
}

/// dbt selection: `select` and `exclude` are raw CLI values, each possibly holding several
/// whitespace-separated selectors. Empty `select` (or only whitespace) means every node.
/// The result is the selected set minus the excluded set. Nothing is filtered by resource
/// type; a command that runs only models keeps only models.
pub fn select(
    dag: &Dag,
    select: &[String],
    exclude: &[String],
) -> Result<BTreeSet<NodeId>, SelectorError> {
    let (selected, _) = select_sets(dag, select, exclude)?;
    Ok(dag.ids_of(&selected))
}

/// [`select`] plus dbt's indirect selection of tests: tests of selected nodes are added
/// as `mode` says, and tests of excluded nodes are excluded (eager: a test with any
/// excluded parent; cautious and buildable: a test whose parents are all excluded), even
/// when the test itself was selected.
pub fn select_with_indirect(
    dag: &Dag,
    select: &[String],
    exclude: &[String],
    mode: IndirectSelection,
) -> Result<BTreeSet<NodeId>, SelectorError> {
    let (mut selected, excluded) = select_sets(dag, select, exclude)?;
    add_indirect_tests(dag, &mut selected, &excluded, mode);
    Ok(dag.ids_of(&selected))
}

/// The final selected set and the excluded set.
fn select_sets(
    dag: &Dag,
    select: &[String],
    exclude: &[String],
) -> Result<(NodeSet, NodeSet), SelectorError> {
    let select = parse_all(select)?;
    let exclude = parse_all(exclude)?;
    require_state(dag, &select)?;
    require_state(dag, &exclude)?;
    let indexed = use_indexes(&select, &exclude);
    Ok(evaluate_sets(dag, &select, &exclude, indexed))
}

fn evaluate_sets(
    dag: &Dag,
    select: &[Intersection],
    exclude: &[Intersection],
    indexed: bool,
) -> (NodeSet, NodeSet) {
    let mut selected = if select.is_empty() {
        NodeSet::full(dag.len())
    } else {
        evaluate_union(dag, select, indexed)
    };
    let excluded = evaluate_union(dag, exclude, indexed);
    selected.difference_with(&excluded);
    (selected, excluded)
}

/// A `state:` or `result:` criterion needs the state attached to `dag` (and `result:`
/// its run results).
pub(crate) fn require_state(dag: &Dag, union: &[Intersection]) -> Result<(), SelectorError> {
    for part in union.iter().flat_map(|token| &token.parts) {
        let results = match part.criterion {
            Criterion::State(_) => false,
            Criterion::Result(_) => true,
            _ => continue,
        };
        let missing = match dag.state() {
            None => true,
            Some(marks) => results && marks.results.is_none(),
        };
        if missing {
            return Err(SelectorError::NoState {
                selector: part.to_string(),
                results,
            });
        }
    }
    Ok(())
}

pub(crate) fn parse_all(values: &[String]) -> Result<Vec<Intersection>, SelectorError> {
    let mut all = Vec::new();
    for value in values {
        all.extend(parse_selector(value)?.union);
    }
    Ok(all)
}

/// A `--select` or `--exclude` criterion that matches no node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmatched {
    /// The criterion with its graph operators, as written (`+nosuchmodel`).
    pub criterion: String,
    /// Whether it came from `--exclude`.
    pub excluded: bool,
    /// The closest node name, for a name criterion that looks like a typo.
    pub suggestion: Option<String>,
}

/// Every criterion of `select` and `exclude` (each part of an intersection on its own)
/// that matches no node, in the order written: dbt warns "The selection criterion '...'
/// does not match any enabled nodes" for each.
pub fn unmatched(
    dag: &Dag,
    select: &[String],
    exclude: &[String],
) -> Result<Vec<Unmatched>, SelectorError> {
    let mut out = Vec::new();
    for (values, excluded) in [(select, false), (exclude, true)] {
        let tokens = parse_all(values)?;
        require_state(dag, &tokens)?;
        for token in tokens {
            for part in &token.parts {
                if !matching(dag, &part.criterion, false).is_empty() {
                    continue;
                }
                let suggestion = match &part.criterion {
                    Criterion::Fqn(name) if !has_wildcard(name) => mart_diagnostics::closest_name(
                        name,
                        dag.nodes()
                            .filter(|n| n.resource_type != ResourceType::Source)
                            .map(|n| n.name.as_str()),
                    )
                    .map(str::to_string),
                    _ => None,
                };
                out.push(Unmatched {
                    criterion: part.to_string(),
                    excluded,
                    suggestion,
                });
            }
        }
    }
    Ok(out)
}

/// Evaluates a parsed selector (empty means no node, unlike [`select`]).
pub fn evaluate(dag: &Dag, selector: &Selector) -> BTreeSet<NodeId> {
    let indexed = use_indexes(&selector.union, &[]);
    dag.ids_of(&evaluate_union(dag, &selector.union, indexed))
}

/// Below this many exact name or tag criteria, one scan per criterion is cheaper than
/// building the name and tag indexes (a scan is linear; so is building an index, but
/// with hashing and sorting); from it on the indexes keep many criteria from being
/// quadratic.
const INDEX_THRESHOLD: usize = 8;

pub(crate) fn use_indexes(a: &[Intersection], b: &[Intersection]) -> bool {
    let exact = a
        .iter()
        .chain(b)
        .flat_map(|token| &token.parts)
        .filter(|part| match &part.criterion {
            Criterion::Fqn(v) | Criterion::Tag(v) => !has_wildcard(v),
            _ => false,
        })
        .count();
    exact >= INDEX_THRESHOLD
}

pub(crate) fn evaluate_union(dag: &Dag, union: &[Intersection], indexed: bool) -> NodeSet {
    let mut out = NodeSet::empty(dag.len());
    for token in union {
        let mut parts = token.parts.iter();
        let Some(first) = parts.next() else { continue };
        let mut set = evaluate_part(dag, first, indexed);
        for part in parts {
            if set.is_empty() {
                break;
            }
            set.intersect_with(&evaluate_part(dag, part, indexed));
        }
        out.union_with(&set);
    }
    out
}

fn evaluate_part(dag: &Dag, part: &SelectorPart, indexed: bool) -> NodeSet {
    let matched = matching(dag, &part.criterion, indexed);
    let mut out = matched.clone();
    if part.childrens_parents {
        let down = dag.expand(&matched, Direction::Outgoing, None);
        out.union_with(&dag.expand(&down, Direction::Incoming, None));
    }
    if let Some(depth) = part.parents {
        out.union_with(&dag.expand(&matched, Direction::Incoming, depth.limit()));
    }
    if let Some(depth) = part.children {
        out.union_with(&dag.expand(&matched, Direction::Outgoing, depth.limit()));
    }
    out
}

/// The nodes a criterion matches, before graph operators; `indexed`: look exact names
/// and tags up in the indexes instead of scanning.
fn matching(dag: &Dag, criterion: &Criterion, indexed: bool) -> NodeSet {
    let mut set = NodeSet::empty(dag.len());
    let all = 0..dag.len();
    let mut add_if = |indices: &mut dyn Iterator<Item = usize>, keep: &dyn Fn(usize) -> bool| {
        for i in indices {
            if keep(i) {
                set.insert(i);
            }
        }
    };
    match criterion {
        Criterion::Fqn(value) => return fqn_matches(dag, value, indexed),
        Criterion::Tag(tag) if indexed && !has_wildcard(tag) => {
            add_if(&mut dag.by_tag(tag), &|_| true)
        }
        Criterion::Tag(tag) => add_if(&mut all.clone(), &|i| {
            dag.node_at(i).tags.iter().any(|t| matches(tag, t))
        }),
        Criterion::Path(path) => add_if(&mut all.clone(), &|i| {
            path_matches(path, &dag.node_at(i).original_file_path)
        }),
        Criterion::File(file) => add_if(&mut all.clone(), &|i| {
            let path = &dag.node_at(i).original_file_path;
            let name = path.rsplit('/').next().unwrap_or(path);
            let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
            matches(file, name) || matches(file, stem)
        }),
        Criterion::Package(package) => add_if(&mut all.clone(), &|i| {
            matches(package, &dag.node_at(i).package)
        }),
        Criterion::TestType(test_type) => add_if(&mut all.clone(), &|i| {
            dag.node_at(i)
                .test_type
                .as_deref()
                // dbt: `data` is every test that is not a unit test.
                .is_some_and(|t| matches(test_type, t) || (test_type == "data" && t != "unit"))
        }),
        Criterion::TestName(name) => add_if(&mut all.clone(), &|i| {
            dag.node_at(i)
                .test_name
                .as_deref()
                .is_some_and(|t| matches(name, t))
        }),
        Criterion::ResourceType(t) => {
            add_if(&mut dag.of_type(*t).iter().map(|&i| i as usize), &|_| true);
        }
        Criterion::Source {
            package,
            source,
            table,
        } => add_if(
            &mut dag
                .of_type(ResourceType::Source)
                .iter()
                .map(|&i| i as usize),
            &|i| {
                let node = dag.node_at(i);
                package.as_ref().is_none_or(|p| matches(p, &node.package))
                    && node
                        .source_name
                        .as_deref()
                        .is_some_and(|s| matches(source, s))
                    && table.as_ref().is_none_or(|t| matches(t, &node.name))
            },
        ),
        Criterion::Named(resource_type, name) => add_if(
            &mut dag.of_type(*resource_type).iter().map(|&i| i as usize),
            &|i| {
                // `metric:<name>` or, as `mart ls` prints it, `metric:<package>.<name>`.
                let node = dag.node_at(i);
                match name.split_once('.') {
                    Some((package, name)) => {
                        matches(package, &node.package) && matches(name, &node.name)
                    }
                    None => matches(name, &node.name),
                }
            },
        ),
        Criterion::State(check) => {
            if let Some(marks) = dag.state() {
                add_if(&mut all.clone(), &|i| {
                    marks.matches(&dag.node_at(i).id, *check)
                });
            }
        }
        Criterion::Result(status) => {
            if let Some(marks) = dag.state() {
                add_if(&mut all.clone(), &|i| {
                    marks.had_result(&dag.node_at(i).id, status)
                });
            }
        }
        Criterion::Version(kind) => add_if(
            &mut dag.of_type(ResourceType::Model).iter().map(|&i| i as usize),
            &|i| {
                let status = dag.node_at(i).version.as_ref().map(|v| v.status);
                match kind {
                    VersionKind::Latest => status == Some(VersionStatus::Latest),
                    VersionKind::Prerelease => status == Some(VersionStatus::Prerelease),
                    VersionKind::Old => status == Some(VersionStatus::Old),
                    VersionKind::None => status.is_none(),
                }
            },
        ),
        // dbt: models only, by the exact access value.
        Criterion::Access(access) => add_if(
            &mut dag.of_type(ResourceType::Model).iter().map(|&i| i as usize),
            &|i| dag.node_at(i).config.get("access") == Some(access.as_str()),
        ),
        Criterion::Group(group) => add_if(&mut all.clone(), &|i| {
            let node = dag.node_at(i);
            !node.resource_type.is_graph_only()
                && node.config.get("group").is_some_and(|g| matches(group, g))
        }),
        Criterion::Config { key, value } => add_if(&mut all.clone(), &|i| {
            let node = dag.node_at(i);
            let found = node.config.get(key.as_str()).or(if key == "materialized" {
                node.materialized.as_deref()
            } else {
                None
            });
            found.is_some_and(|v| matches(value, v))
        }),
    }
    set
}

/// `path:` — the selector's components match the first components of the node's path
/// (each a glob); an empty selector path is the project root.
fn path_matches(selector: &str, path: &str) -> bool {
    if selector.is_empty() {
        return true;
    }
    if !has_wildcard(selector) {
        return path
            .strip_prefix(selector)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    }
    let mut node_parts = path.split('/');
    selector
        .split('/')
        .all(|s| node_parts.next().is_some_and(|p| glob_match(s, p)))
}

/// dbt's fqn method (also the default): the node's name matches the value (a glob), or
/// the value's dot-separated parts are a prefix of the node's flattened fqn, with or
/// without the package. From the first part with a wildcard on, the rest of the value is
/// matched as one glob against the rest of the fqn joined with '.'. Sources are never
/// matched.
fn fqn_matches(dag: &Dag, value: &str, indexed: bool) -> NodeSet {
    let mut set = NodeSet::empty(dag.len());
    let parts: Vec<&str> = value.split('.').collect();
    let mut buf = String::new();
    let wildcard = has_wildcard(value);
    if !indexed || wildcard {
        let first_wild = has_wildcard(parts[0]);
        for i in 0..dag.len() {
            let node = dag.node_at(i);
            if node.resource_type == ResourceType::Source {
                continue;
            }
            let by_name = if wildcard {
                glob_match(value, &node.name)
            } else {
                *value == node.name || version_name_matches(node, &parts)
            };
            // Cheap first-part checks before the full prefix comparison.
            let mut flat = flat_fqn(node);
            let (p0, p1) = (flat.next(), flat.next());
            let could = |p: Option<&str>| p.is_some_and(|p| first_wild || p == parts[0]);
            if by_name
                || (could(p0) && fqn_prefix(flat_fqn(node), &parts, value, &mut buf))
                || (could(p1) && fqn_prefix(flat_fqn(node).skip(1), &parts, value, &mut buf))
            {
                set.insert(i);
            }
        }
        return set;
    }
    // Exact values go through the indexes: by name, and by the first part of the fqn
    // with the package (position 0) or without it (position 1).
    for i in dag.by_name(value) {
        set.insert(i);
    }
    for &i in dag.of_type(ResourceType::Model) {
        if version_name_matches(dag.node_at(i as usize), &parts) {
            set.insert(i as usize);
        }
    }
    for i in dag.by_fqn_part(0, parts[0]) {
        if fqn_prefix(flat_fqn(dag.node_at(i)), &parts, value, &mut buf) {
            set.insert(i);
        }
    }
    for i in dag.by_fqn_part(1, parts[0]) {
        if fqn_prefix(flat_fqn(dag.node_at(i)).skip(1), &parts, value, &mut buf) {
            set.insert(i);
        }
    }
    set
}

/// dbt's names of a model version: `m.v2`, `m_v2` (or with more parts before them,
/// `pkg.m.v2`): the last two parts of the value joined by `_` equal the last two of the
/// version's fqn (`m`, `v2`) joined so.
fn version_name_matches(node: &GraphNode, parts: &[&str]) -> bool {
    let (Some(_), [.., name, v]) = (&node.version, node.fqn.as_slice()) else {
        return false;
    };
    parts[parts.len().saturating_sub(2)..].join("_") == format!("{name}_{v}")
}

/// Whether `parts` (the value split on '.') is a prefix of the flattened fqn `fqn`;
/// `buf` is scratch space for the glob case.
fn fqn_prefix<'a>(
    mut fqn: impl Iterator<Item = &'a str> + Clone,
    parts: &[&str],
    value: &str,
    buf: &mut String,
) -> bool {
    if fqn.clone().count() < parts.len() {
        return false;
    }
    let mut value_offset = 0; // byte offset of the current part in `value`
    for part in parts {
        if has_wildcard(part) {
            buf.clear();
            for (k, p) in fqn.enumerate() {
                if k > 0 {
                    buf.push('.');
                }
                buf.push_str(p);
            }
            return glob_match(&value[value_offset..], buf);
        }
        match fqn.next() {
            Some(p) if p == *part => value_offset += part.len() + 1,
            _ => return false,
        }
    }
    true
}

/// Removes tests of excluded nodes, then adds tests whose parents are selected, as
/// `mode` says (eager: any parent; cautious and buildable: all parents).
pub(crate) fn add_indirect_tests(
    dag: &Dag,
    selected: &mut NodeSet,
    excluded: &NodeSet,
    mode: IndirectSelection,
) {
    if mode == IndirectSelection::Empty {
        return;
    }
    // Unit tests follow their model as data tests follow the nodes they test.
    let tests: Vec<u32> = dag
        .of_type(ResourceType::Test)
        .iter()
        .chain(dag.of_type(ResourceType::UnitTest))
        .copied()
        .collect();
    let tests = &tests;
    let parents_of = |t: usize| -> Vec<usize> { dag.parent_indices(t).collect() };

    let mut excluded = excluded.clone();
    for &t in tests {
        let parents = parents_of(t as usize);
        let hit = match mode {
            IndirectSelection::Eager => parents.iter().any(|&p| excluded.contains(p)),
            _ => !parents.is_empty() && parents.iter().all(|&p| excluded.contains(p)),
        };
        if hit {
            excluded.insert(t as usize);
        }
    }
    selected.difference_with(&excluded);

    let base = selected.clone();
    let buildable = (mode == IndirectSelection::Buildable)
        .then(|| dag.expand(&base, Direction::Incoming, None));
    for &t in tests {
        let t = t as usize;
        if base.contains(t) || excluded.contains(t) {
            continue;
        }
        let parents = parents_of(t);
        let any = parents.iter().any(|&p| base.contains(p));
        let add = match mode {
            IndirectSelection::Eager => any,
            IndirectSelection::Cautious => any && parents.iter().all(|&p| base.contains(p)),
            IndirectSelection::Buildable => {
                any && buildable
                    .as_ref()
                    .is_some_and(|b| parents.iter().all(|&p| b.contains(p)))
            }
            IndirectSelection::Empty => false,
        };
        if add {
            selected.insert(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dag::GraphError;
    use crate::node::GraphNode;
    use crate::test_support::{example_project, node};

    fn names(dag: &Dag, ids: &BTreeSet<NodeId>) -> BTreeSet<String> {
        ids.iter()
            .map(|id| dag.node(id).unwrap().name.clone())
            .collect()
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The ids `sel` selects, sorted.
    fn sorted_ids(dag: &Dag, sel: &str) -> Vec<String> {
        let mut ids: Vec<String> = select(dag, &strings(&[sel]), &[])
            .unwrap()
            .iter()
            .map(|id| id.to_string())
            .collect();
        ids.sort();
        ids
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const LINEAGE: &[&str] = &[
        "user_event",
        "user_variant",
        "user_metadata",
        "src_user_event",
        "src_user_variant",
        "src_user_metadata",
        "dim_user_variant",
        "dim_user_metadata",
        "dim_user",
        "fact_user_event",
        "analytics_variant_user_daily",
        "unique_dim_user_user_id",
        "relationships_fact_user_event_user_id__dim_user",
    ];

    #[test]
    fn unmatched_criteria_are_named_one_by_one() {
        let dag = Dag::build(example_project()).unwrap();
        let found = unmatched(
            &dag,
            &strings(&["+dim_usr dim_user", "tag:nope,dim_user"]),
            &strings(&["nosuch*", "fact_user_event"]),
        )
        .unwrap();
        let shown: Vec<(&str, bool, Option<&str>)> = found
            .iter()
            .map(|u| (u.criterion.as_str(), u.excluded, u.suggestion.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("+dim_usr", false, Some("dim_user")),
                ("tag:nope", false, None),
                ("nosuch*", true, None),
            ]
        );
        assert_eq!(unmatched(&dag, &[], &[]).unwrap(), []);
    }

    #[test]
    fn selector_table() {
        let dag = Dag::build(example_project()).unwrap();
        assert_eq!(dag.len(), 17);
        let dim = &[
            "dim_user_variant",
            "dim_user_metadata",
            "dim_user",
            "unique_dim_user_user_id",
        ];
        let up_to_dim_user = &[
            "dim_user",
            "dim_user_metadata",
            "dim_user_variant",
            "src_user_metadata",
            "src_user_variant",
            "user_metadata",
            "user_variant",
        ];
        let all_but_source: Vec<&str> = dag
            .nodes()
            .filter(|n| n.resource_type != ResourceType::Source)
            .map(|n| n.name.as_str())
            .collect();
        let table: &[(&[&str], &[&str], &[&str])] = &[
            // names
            (&["dim_user"], &[], &["dim_user"]),
            (&["nonexistent"], &[], &[]),
            (
                &["user_metadata_snapshot"],
                &[],
                &["user_metadata_snapshot"],
            ),
            // graph operators
            (&["+dim_user"], &[], up_to_dim_user),
            (
                &["dim_user+"],
                &[],
                &[
                    "dim_user",
                    "analytics_variant_user_daily",
                    "unique_dim_user_user_id",
                    "relationships_fact_user_event_user_id__dim_user",
                ],
            ),
            (
                &["1+dim_user"],
                &[],
                &["dim_user", "dim_user_metadata", "dim_user_variant"],
            ),
            (
                &["2+dim_user"],
                &[],
                &[
                    "dim_user",
                    "dim_user_metadata",
                    "dim_user_variant",
                    "src_user_metadata",
                    "src_user_variant",
                ],
            ),
            (&["0+dim_user"], &[], &["dim_user"]),
            (
                &["src_user_event+1"],
                &[],
                &["src_user_event", "fact_user_event"],
            ),
            (
                &["src_user_event+2"],
                &[],
                &[
                    "src_user_event",
                    "fact_user_event",
                    "analytics_variant_user_daily",
                    "relationships_fact_user_event_user_id__dim_user",
                ],
            ),
            (
                &["1+src_user_event+1"],
                &[],
                &["user_event", "src_user_event", "fact_user_event"],
            ),
            (&["@src_user_variant"], &[], LINEAGE),
            (
                &["user_metadata+"],
                &[],
                &[
                    "user_metadata",
                    "src_user_metadata",
                    "user_metadata_snapshot",
                    "dim_user_metadata",
                    "dim_user",
                    "analytics_variant_user_daily",
                    "unique_dim_user_user_id",
                    "relationships_fact_user_event_user_id__dim_user",
                ],
            ),
            // tags
            (&["tag:src"], &[], &["src_user_event"]),
            (
                &["tag:daily"],
                &[],
                &["analytics_variant_user_daily", "wv_server_log_base"],
            ),
            (
                &["tag:d*"],
                &[],
                &["analytics_variant_user_daily", "wv_server_log_base"],
            ),
            (
                &["+tag:daily"],
                &[],
                &[
                    "analytics_variant_user_daily",
                    "dim_user",
                    "dim_user_metadata",
                    "dim_user_variant",
                    "src_user_metadata",
                    "src_user_variant",
                    "user_metadata",
                    "user_variant",
                    "fact_user_event",
                    "src_user_event",
                    "user_event",
                    "wv_server_log_base",
                    "server_log",
                ],
            ),
            // paths and files
            (&["path:models/dim"], &[], dim),
            (&["models/dim"], &[], dim),
            (&["./models/dim/"], &[], dim),
            (&["path:models/dim/dim_user.sql"], &[], &["dim_user"]),
            (&["models/di"], &[], &[]),
            (
                &["path:models/*/dim_user*"],
                &[],
                &["dim_user", "dim_user_variant", "dim_user_metadata"],
            ),
            (
                &["path:models/fan"],
                &[],
                &[
                    "wv_server_log_base",
                    "server_log",
                    "not_null_wv_server_log_base_date_id",
                ],
            ),
            (&["dim_user.sql"], &[], &["dim_user"]),
            (&["file:user_event"], &[], &["user_event"]),
            (&["user_event.csv"], &[], &["user_event"]),
            // config
            (
                &["config.materialized:incremental"],
                &[],
                &["fact_user_event", "wv_server_log_base"],
            ),
            (
                &["config.materialized:ephemeral"],
                &[],
                &["src_user_event", "src_user_variant", "src_user_metadata"],
            ),
            (
                &["config.incremental_strategy:delete+insert"],
                &[],
                &["wv_server_log_base"],
            ),
            (&["config.strategy:time*"], &[], &["user_metadata_snapshot"]),
            // resource types
            (
                &["resource_type:seed"],
                &[],
                &["user_event", "user_variant", "user_metadata"],
            ),
            (&["resource_type:source"], &[], &["server_log"]),
            (
                &["resource_type:test"],
                &[],
                &[
                    "unique_dim_user_user_id",
                    "relationships_fact_user_event_user_id__dim_user",
                    "not_null_wv_server_log_base_date_id",
                ],
            ),
            // sources
            (&["server_log"], &[], &[]),
            (&["source:raw"], &[], &["server_log"]),
            (&["source:raw.server_log"], &[], &["server_log"]),
            (&["source:raw.*"], &[], &["server_log"]),
            (
                &["source:mart_example.raw.server_log"],
                &[],
                &["server_log"],
            ),
            (&["source:other"], &[], &[]),
            (
                &["source:raw+"],
                &[],
                &[
                    "server_log",
                    "wv_server_log_base",
                    "not_null_wv_server_log_base_date_id",
                ],
            ),
            // fqn
            (&["fqn:mart_example.dim"], &[], dim),
            (&["mart_example.dim"], &[], dim),
            (&["dim"], &[], dim),
            (&["dim.dim_user"], &[], &["dim_user"]),
            (&["mart_example.d*"], &[], dim),
            (&["mart_example"], &[], &all_but_source),
            (
                &["fqn:mart_example.fact.*"],
                &[],
                &[
                    "fact_user_event",
                    "relationships_fact_user_event_user_id__dim_user",
                ],
            ),
            // globs on names
            (
                &["dim_*"],
                &[],
                &["dim_user", "dim_user_variant", "dim_user_metadata"],
            ),
            (
                &["*user_event*"],
                &[],
                &[
                    "user_event",
                    "src_user_event",
                    "fact_user_event",
                    "relationships_fact_user_event_user_id__dim_user",
                ],
            ),
            (&["src_user_?vent"], &[], &["src_user_event"]),
            // package
            (
                &["package:mart_*"],
                &[],
                &dag.nodes().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ),
            (&["package:other"], &[], &[]),
            // unions and intersections
            (
                &["tag:src tag:daily"],
                &[],
                &[
                    "src_user_event",
                    "analytics_variant_user_daily",
                    "wv_server_log_base",
                ],
            ),
            (
                &["dim_user", "fact_user_event"],
                &[],
                &["dim_user", "fact_user_event"],
            ),
            (
                &["tag:daily,path:models/mart"],
                &[],
                &["analytics_variant_user_daily"],
            ),
            (
                &["config.materialized:table,+analytics_variant_user_daily"],
                &[],
                &["dim_user", "dim_user_metadata", "dim_user_variant"],
            ),
            (
                &["@dim_user,tag:daily"],
                &[],
                &["analytics_variant_user_daily"],
            ),
            (
                &["fact_user_event+,tag:daily,config.materialized:view"],
                &[],
                &["analytics_variant_user_daily"],
            ),
            (&["tag:src,tag:daily"], &[], &[]),
            // exclude
            (
                &["+dim_user"],
                &["resource_type:seed"],
                &[
                    "dim_user",
                    "dim_user_metadata",
                    "dim_user_variant",
                    "src_user_metadata",
                    "src_user_variant",
                ],
            ),
            (
                &[],
                &["resource_type:test resource_type:seed"],
                &[
                    "src_user_event",
                    "src_user_variant",
                    "src_user_metadata",
                    "dim_user_variant",
                    "dim_user_metadata",
                    "dim_user",
                    "fact_user_event",
                    "analytics_variant_user_daily",
                    "server_log",
                    "wv_server_log_base",
                    "user_metadata_snapshot",
                ],
            ),
            (
                &["@src_user_variant"],
                &["dim_user+", "1+dim_user_metadata"],
                &[
                    "user_event",
                    "user_variant",
                    "user_metadata",
                    "src_user_event",
                    "src_user_variant",
                    "dim_user_variant",
                    "fact_user_event",
                ],
            ),
            (
                &["  "],
                &[],
                &dag.nodes().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ),
            (
                &[],
                &[],
                &dag.nodes().map(|n| n.name.as_str()).collect::<Vec<_>>(),
            ),
        ];
        assert!(table.len() >= 25);
        let mut failures = Vec::new();
        for (sel, excl, want) in table {
            let got = select(&dag, &strings(sel), &strings(excl))
                .unwrap_or_else(|e| panic!("{sel:?} --exclude {excl:?}: {e}"));
            let got = names(&dag, &got);
            // The scan and the indexes must agree.
            let (sel_p, excl_p) = (
                parse_all(&strings(sel)).unwrap(),
                parse_all(&strings(excl)).unwrap(),
            );
            for indexed in [false, true] {
                let (set_, _) = evaluate_sets(&dag, &sel_p, &excl_p, indexed);
                assert_eq!(
                    names(&dag, &dag.ids_of(&set_)),
                    got,
                    "{sel:?} indexed={indexed}"
                );
            }
            if got != set(want) {
                failures.push(format!(
                    "-s {sel:?} --exclude {excl:?}\n  want {:?}\n  got  {got:?}",
                    set(want)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn exposures_are_selected_by_name_package_and_type() {
        let dag = Dag::build(vec![
            node("model.p.a", &[]),
            node("model.p.b", &["model.p.a"]),
            node("exposure.p.dash", &["model.p.b"]),
            node("exposure.q.dash", &["model.p.a"]),
        ])
        .unwrap();
        let ids = |sel: &str| sorted_ids(&dag, sel);
        assert_eq!(
            ids("+exposure:p.dash"),
            ["exposure.p.dash", "model.p.a", "model.p.b"]
        );
        assert_eq!(ids("exposure:dash"), ["exposure.p.dash", "exposure.q.dash"]);
        assert_eq!(ids("resource_type:exposure"), ids("exposure:*"));
        assert_eq!(ids("a+,exposure:*"), ["exposure.p.dash", "exposure.q.dash"]);
    }

    #[test]
    fn semantic_nodes_are_selected_by_their_method() {
        let dag = Dag::build(vec![
            node("model.p.orders", &[]),
            node("semantic_model.p.orders", &["model.p.orders"]),
            node("metric.p.revenue", &["semantic_model.p.orders"]),
            node("metric.p.avg_revenue", &["metric.p.revenue"]),
            node("saved_query.p.daily", &["metric.p.revenue"]),
        ])
        .unwrap();
        let ids = |sel: &str| sorted_ids(&dag, sel);
        assert_eq!(ids("semantic_model:orders"), ["semantic_model.p.orders"]);
        assert_eq!(
            ids("metric:revenue+"),
            [
                "metric.p.avg_revenue",
                "metric.p.revenue",
                "saved_query.p.daily"
            ]
        );
        assert_eq!(ids("metric:p.*"), ids("resource_type:metric"));
        assert_eq!(
            ids("+saved_query:daily"),
            [
                "metric.p.revenue",
                "model.p.orders",
                "saved_query.p.daily",
                "semantic_model.p.orders"
            ]
        );
        // The method names the type: a metric's name is no semantic model.
        assert!(ids("semantic_model:revenue").is_empty());
    }

    #[test]
    fn bad_selectors_are_errors_in_select_and_exclude() {
        let dag = Dag::build(example_project()).unwrap();
        let e = select(&dag, &strings(&["dim_user"]), &strings(&["tagg:x"])).unwrap_err();
        assert!(matches!(e, SelectorError::UnknownMethod { .. }));
        let e = select(&dag, &strings(&["dim_user 2x+y"]), &[]).unwrap_err();
        insta::assert_snapshot!(e, @"unexpected '+' in '2x+y'; graph operators go around a selector: +model, 2+model, model+, model+2, @model");
    }

    #[test]
    fn unit_tests_follow_their_model_and_test_type() {
        let mut unit = node("unit_test.p.m.u", &["model.p.m"]);
        unit.test_type = Some("unit".into());
        let mut data = node("test.p.not_null_m_id", &["model.p.m"]);
        data.test_type = Some("generic".into());
        let dag = Dag::build(vec![node("model.p.m", &[]), unit, data]).unwrap();
        let run = |sel: &[&str]| {
            names(
                &dag,
                &select_with_indirect(&dag, &strings(sel), &[], IndirectSelection::Eager).unwrap(),
            )
        };
        assert_eq!(run(&["m"]), set(&["m", "u", "not_null_m_id"]));
        assert_eq!(run(&["test_type:unit"]), set(&["u"]));
        assert_eq!(run(&["test_type:data"]), set(&["not_null_m_id"]));
        assert_eq!(run(&["resource_type:unit_test"]), set(&["u"]));
    }

    #[test]
    fn indirect_selection_of_tests() {
        let dag = Dag::build(example_project()).unwrap();
        let run = |sel: &[&str], excl: &[&str], mode| {
            names(
                &dag,
                &select_with_indirect(&dag, &strings(sel), &strings(excl), mode).unwrap(),
            )
        };
        use IndirectSelection::*;
        let unique = "unique_dim_user_user_id";
        let rel = "relationships_fact_user_event_user_id__dim_user";
        assert_eq!(
            run(&["dim_user"], &[], Eager),
            set(&["dim_user", unique, rel])
        );
        assert_eq!(
            run(&["dim_user"], &[], Cautious),
            set(&["dim_user", unique])
        );
        assert_eq!(
            run(&["dim_user"], &[], Buildable),
            set(&["dim_user", unique])
        );
        assert_eq!(run(&["dim_user"], &[], Empty), set(&["dim_user"]));
        assert_eq!(
            run(&["dim_user fact_user_event"], &[], Cautious),
            set(&["dim_user", "fact_user_event", unique, rel])
        );
        // Buildable: the other parent is an ancestor of a selected node.
        assert_eq!(
            run(
                &["fact_user_event analytics_variant_user_daily"],
                &[],
                Buildable
            ),
            set(&["fact_user_event", "analytics_variant_user_daily", rel])
        );
        assert_eq!(
            run(
                &["fact_user_event analytics_variant_user_daily"],
                &[],
                Cautious
            ),
            set(&["fact_user_event", "analytics_variant_user_daily"])
        );
        // Excluding a node excludes its tests, even those selected directly.
        assert_eq!(
            run(&["dim_user+"], &["fact_user_event"], Eager),
            set(&["dim_user", "analytics_variant_user_daily", unique])
        );
        assert_eq!(run(&[unique], &["dim_user"], Eager), BTreeSet::new());
        assert_eq!(run(&[unique], &["dim_user"], Empty), set(&[unique]));
        // Cautious exclusion needs every parent excluded.
        assert_eq!(
            run(&["resource_type:test"], &["dim_user"], Cautious),
            set(&[rel, "not_null_wv_server_log_base_date_id"])
        );
    }

    #[test]
    fn parse_and_evaluate() {
        let dag = Dag::build(example_project()).unwrap();
        let s = parse_selector("tag:src").unwrap();
        assert_eq!(names(&dag, &evaluate(&dag, &s)), set(&["src_user_event"]));
        assert!(evaluate(&dag, &Selector::default()).is_empty());
    }

    #[test]
    fn order_of_a_selection() {
        let dag = Dag::build(example_project()).unwrap();
        let picked = select(&dag, &strings(&["+dim_user"]), &[]).unwrap();
        let order: Vec<String> = dag
            .order_of(&picked)
            .iter()
            .map(|id| dag.node(id).unwrap().name.clone())
            .collect();
        assert_eq!(
            order,
            [
                "user_metadata",
                "src_user_metadata",
                "dim_user_metadata",
                "user_variant",
                "src_user_variant",
                "dim_user_variant",
                "dim_user",
            ]
        );
    }

    /// 10,000 nodes: a chain m00000 -> ... -> m04999 and a fan of 5,000 leaves hanging
    /// off m02500 with a sink that depends on all of them.
    #[test]
    fn ten_thousand_nodes() {
        let id = |i: usize| format!("model.p.m{i:05}");
        let mut nodes = Vec::with_capacity(10_000);
        for i in 0..5_000 {
            let deps: Vec<String> = if i == 0 { Vec::new() } else { vec![id(i - 1)] };
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            nodes.push(node(&id(i), &deps));
        }
        for i in 5_000..9_999 {
            nodes.push(node(&id(i), &[&id(2_500)]));
        }
        let fan: Vec<String> = (5_000..9_999).map(id).collect();
        let fan_refs: Vec<&str> = fan.iter().map(String::as_str).collect();
        nodes.push(node("model.p.sink", &fan_refs));
        nodes.reverse();
        let dag = Dag::build(nodes).unwrap();
        assert_eq!(dag.len(), 10_000);

        let order = dag.topological_order();
        let pos = |name: &str| order.iter().position(|n| n.as_str() == name).unwrap();
        assert_eq!(order[0].as_str(), "model.p.m00000");
        assert!(pos("model.p.m02500") < pos("model.p.m05000"));
        assert!(pos("model.p.m09998") < pos("model.p.sink"));
        assert_eq!(order.last().unwrap().as_str(), "model.p.sink");
        for w in 0..4_999 {
            assert!(pos(&id(w)) < pos(&id(w + 1)));
        }

        let count = |sel: &str| select(&dag, &strings(&[sel]), &[]).unwrap().len();
        assert_eq!(count("m04999"), 1);
        assert_eq!(count("+m04999"), 5_000);
        assert_eq!(count("+sink"), 10_000 - 2_499); // the chain after m02500 is not upstream
        assert_eq!(count("m02500+"), 2_500 + 4_999 + 1);
        assert_eq!(count("m02500+1"), 1 + 1 + 4_999);
        assert_eq!(count("3+m03000+3"), 7);
        assert_eq!(count("@m00000"), 10_000);
        assert_eq!(count("m0*"), 9_999);
        assert_eq!(count("m0499?"), 10);
        // Many exact names: the indexed path.
        let many: Vec<String> = (0..100).map(|i| format!("m{:05}", i * 7)).collect();
        assert_eq!(select(&dag, &many, &[]).unwrap().len(), 100);
        assert_eq!(select(&dag, &[many.join(" ")], &[]).unwrap().len(), 100);
        assert_eq!(
            select(&dag, &strings(&["+sink"]), &strings(&["m02500+"]))
                .unwrap()
                .len(),
            2_500
        );
        assert_eq!(
            dag.ancestors(&NodeId::new("model.p.sink"), Some(2)).len(),
            5_000
        );
        assert_eq!(dag.descendants(&NodeId::new(id(0)), None).len(), 9_999);
    }

    #[test]
    fn long_cycle_is_reported_whole() {
        let id = |i: usize| format!("model.p.m{i:05}");
        let nodes: Vec<GraphNode> = (0..10_000)
            .map(|i| node(&id(i), &[&id((i + 9_999) % 10_000)]))
            .collect();
        let Err(GraphError::Cycle { path }) = Dag::build(nodes) else {
            panic!("expected a cycle");
        };
        assert_eq!(path.len(), 10_001);
        assert_eq!(path[0].as_str(), "model.p.m00000");
        assert_eq!(path[1].as_str(), "model.p.m00001");
        assert_eq!(path[10_000].as_str(), "model.p.m00000");
    }
}
