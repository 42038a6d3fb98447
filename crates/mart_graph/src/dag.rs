//! The project DAG: nodes indexed by id, edges from parent to child, a deterministic
//! topological order, and the lookups selection needs.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::OnceLock;

use mart_diagnostics::{Code, Diagnostic};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::bitset::NodeSet;
use crate::hash_index::HashIndex;
use crate::node::{GraphNode, NodeId, ResourceType};
use crate::state::StateMarks;

/// Why a list of nodes does not form a DAG.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Each node in `path` is a parent of the next (the next one refs it); the first node
    /// is repeated at the end. The path starts at its smallest id.
    #[error(
        "found a cycle: {}; remove one of these ref()s so that no model depends on itself",
        join_path(.path)
    )]
    Cycle { path: Vec<NodeId> },
    #[error(
        "'{node}' depends on '{missing}', which is not in the project; \
         check the ref()/source() name, or enable the node it points to"
    )]
    MissingNode { node: NodeId, missing: NodeId },
    #[error("two nodes have the id '{node}'; rename one of them so that ids are unique")]
    DuplicateNode { node: NodeId },
}

fn join_path(path: &[NodeId]) -> String {
    path.iter()
        .map(NodeId::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

impl GraphError {
    /// The error as a diagnostic (no span: the caller knows where the refs were written
    /// and may add labels).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let code = match self {
            GraphError::Cycle { .. } => Code::Cycle,
            GraphError::MissingNode { missing, .. } if missing.as_str().starts_with("source.") => {
                Code::UnknownSource
            }
            GraphError::MissingNode { .. } => Code::UnknownRef,
            GraphError::DuplicateNode { .. } => Code::DuplicateNode,
        };
        Diagnostic::error(code, self.to_string())
    }
}

/// Lookups from ids and node kinds to nodes, built with the graph. Keys are hashed,
/// not copied; every lookup checks the real key.
#[derive(Clone, Debug, Default)]
struct Indexes {
    by_id: HashIndex,
    by_type: [Vec<u32>; ResourceType::ALL.len()],
    /// Built on first use: a run without name selectors never pays for them.
    names: OnceLock<NameIndexes>,
    by_tag: OnceLock<HashIndex>,
}

/// Lookups for the fqn/default method; sources are left out (they are selected by name
/// only through `source:`).
#[derive(Clone, Debug, Default)]
struct NameIndexes {
    by_name: HashIndex,
    /// First and second part of the flattened fqn.
    by_fqn0: HashIndex,
    by_fqn1: HashIndex,
}

/// The fqn split on '.' inside its parts too, as dbt flattens it.
pub(crate) fn flat_fqn(node: &GraphNode) -> impl Iterator<Item = &str> + Clone + '_ {
    node.fqn.iter().flat_map(|part| part.split('.'))
}

/// The project graph. Edges go from a parent to the child that depends on it.
///
/// Internally every node has an index equal to its rank in `NodeId` order, which is also
/// its petgraph `NodeIndex`; sets of nodes are bitsets over those indices.
#[derive(Clone, Debug)]
pub struct Dag {
    /// Sorted by id.
    nodes: Vec<GraphNode>,
    graph: DiGraph<(), (), u32>,
    topo: Vec<u32>,
    indexes: Indexes,
    /// The comparison with `--state`, for the `state:` and `result:` selectors; attached
    /// once by the command that was given a state.
    state: OnceLock<StateMarks>,
}

fn ix(i: usize) -> NodeIndex<u32> {
    NodeIndex::new(i)
}

impl Dag {
    /// Checks that every parent exists, that ids are unique and that there is no cycle.
    pub fn build(mut nodes: Vec<GraphNode>) -> Result<Dag, GraphError> {
        sort_by_id_in_place(&mut nodes, |n| &n.id);
        if let Some(w) = nodes.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(GraphError::DuplicateNode {
                node: w[0].id.clone(),
            });
        }
        let by_id = HashIndex::build(
            nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i as u32)),
        );
        let n = nodes.len();
        let edges = nodes.iter().map(|n| n.depends_on.len()).sum();
        let mut graph = DiGraph::<(), (), u32>::with_capacity(n, edges);
        for _ in 0..n {
            graph.add_node(());
        }
        let mut parents: Vec<usize> = Vec::new();
        for (child, node) in nodes.iter().enumerate() {
            parents.clear();
            for dep in &node.depends_on {
                match by_id
                    .candidates(dep.as_str())
                    .find(|&p| nodes[p].id == *dep)
                {
                    Some(p) => parents.push(p),
                    None => {
                        return Err(GraphError::MissingNode {
                            node: node.id.clone(),
                            missing: dep.clone(),
                        })
                    }
                }
            }
            parents.sort_unstable();
            parents.dedup();
            for &p in &parents {
                graph.add_edge(ix(p), ix(child), ());
            }
        }
        let topo = topological_sort(&graph).map_err(|cycle| GraphError::Cycle {
            path: cycle.into_iter().map(|i| nodes[i].id.clone()).collect(),
        })?;
        let indexes = Indexes::build(&nodes, by_id);
        Ok(Dag {
            nodes,
            graph,
            topo,
            indexes,
            state: OnceLock::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Gives the `state:` and `result:` selectors what they compare with; false when a
    /// state was attached already (the first one stays).
    pub fn attach_state(&self, marks: StateMarks) -> bool {
        self.state.set(marks).is_ok()
    }

    pub fn state(&self) -> Option<&StateMarks> {
        self.state.get()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, id: &NodeId) -> bool {
        self.index_of(id).is_some()
    }

    pub fn node(&self, id: &NodeId) -> Option<&GraphNode> {
        self.index_of(id).map(|i| &self.nodes[i])
    }

    /// Every node, sorted by id (the order [`Dag::build`] takes without sorting).
    pub fn nodes_by_id(&self) -> &[GraphNode] {
        &self.nodes
    }

    /// Every node, in the order of [`Dag::topological_order`].
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> + '_ {
        self.topo.iter().map(|&i| &self.nodes[i as usize])
    }

    /// Parents before children; among nodes that are ready at the same time the smallest
    /// id comes first, so the order depends only on the graph.
    pub fn topological_order(&self) -> Vec<NodeId> {
        self.nodes().map(|n| n.id.clone()).collect()
    }

    /// The given nodes (unknown ids are ignored) in topological order.
    pub fn order_of(&self, ids: &BTreeSet<NodeId>) -> Vec<NodeId> {
        let set = self.set_of(ids);
        self.topo
            .iter()
            .filter(|&&i| set.contains(i as usize))
            .map(|&i| self.nodes[i as usize].id.clone())
            .collect()
    }

    /// Direct parents, sorted; empty for an unknown id.
    pub fn parents(&self, id: &NodeId) -> Vec<NodeId> {
        self.neighbors(id, Direction::Incoming)
    }

    /// Direct children, sorted; empty for an unknown id.
    pub fn children(&self, id: &NodeId) -> Vec<NodeId> {
        self.neighbors(id, Direction::Outgoing)
    }

    /// Nodes reachable through parents, up to `depth` steps (all with `None`); the node
    /// itself is not included.
    pub fn ancestors(&self, id: &NodeId, depth: Option<usize>) -> BTreeSet<NodeId> {
        self.reachable(id, Direction::Incoming, depth)
    }

    /// The given nodes and every node upstream of them (unknown ids are ignored).
    pub fn with_ancestors(&self, ids: &BTreeSet<NodeId>) -> BTreeSet<NodeId> {
        self.ids_of(&self.expand(&self.set_of(ids), Direction::Incoming, None))
    }

    /// Nodes reachable through children, up to `depth` steps (all with `None`); the node
    /// itself is not included.
    pub fn descendants(&self, id: &NodeId, depth: Option<usize>) -> BTreeSet<NodeId> {
        self.reachable(id, Direction::Outgoing, depth)
    }

    fn neighbors(&self, id: &NodeId, dir: Direction) -> Vec<NodeId> {
        let Some(i) = self.index_of(id) else {
            return Vec::new();
        };
        let mut found: Vec<usize> = self
            .graph
            .neighbors_directed(ix(i), dir)
            .map(|n| n.index())
            .collect();
        found.sort_unstable();
        found
            .into_iter()
            .map(|n| self.nodes[n].id.clone())
            .collect()
    }

    fn reachable(&self, id: &NodeId, dir: Direction, depth: Option<usize>) -> BTreeSet<NodeId> {
        let Some(i) = self.index_of(id) else {
            return BTreeSet::new();
        };
        let mut start = NodeSet::empty(self.len());
        start.insert(i);
        let mut found = self.expand(&start, dir, depth);
        found.difference_with(&start);
        self.ids_of(&found)
    }

    pub(crate) fn index_of(&self, id: &NodeId) -> Option<usize> {
        self.indexes
            .by_id
            .candidates(id.as_str())
            .find(|&i| self.nodes[i].id == *id)
    }

    pub(crate) fn node_at(&self, i: usize) -> &GraphNode {
        &self.nodes[i]
    }

    pub(crate) fn set_of(&self, ids: &BTreeSet<NodeId>) -> NodeSet {
        let mut set = NodeSet::empty(self.len());
        for i in ids.iter().filter_map(|id| self.index_of(id)) {
            set.insert(i);
        }
        set
    }

    pub(crate) fn ids_of(&self, set: &NodeSet) -> BTreeSet<NodeId> {
        set.iter().map(|i| self.nodes[i].id.clone()).collect()
    }

    pub(crate) fn parent_indices(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(ix(i), Direction::Incoming)
            .map(|n| n.index())
    }

    /// `start` plus every node within `depth` steps of it in direction `dir` (multi-source
    /// breadth-first search, linear in the edges visited).
    pub(crate) fn expand(&self, start: &NodeSet, dir: Direction, depth: Option<usize>) -> NodeSet {
        let mut seen = start.clone();
        let mut frontier: Vec<usize> = start.iter().collect();
        let mut next = Vec::new();
        let mut level = 0;
        while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
            for &i in &frontier {
                for n in self.graph.neighbors_directed(ix(i), dir) {
                    if seen.insert(n.index()) {
                        next.push(n.index());
                    }
                }
            }
            std::mem::swap(&mut frontier, &mut next);
            next.clear();
            level += 1;
        }
        seen
    }

    pub(crate) fn of_type(&self, t: ResourceType) -> &[u32] {
        &self.indexes.by_type[t.index()]
    }

    fn names(&self) -> &NameIndexes {
        self.indexes
            .names
            .get_or_init(|| NameIndexes::build(&self.nodes))
    }

    /// Nodes (not sources) with this name.
    pub(crate) fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.names()
            .by_name
            .candidates(name)
            .filter(move |&i| self.nodes[i].name == name)
    }

    /// Nodes (not sources) whose flattened fqn has `part` at `position` (0 or 1).
    pub(crate) fn by_fqn_part<'a>(
        &'a self,
        position: usize,
        part: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        let names = self.names();
        let index = if position == 0 {
            &names.by_fqn0
        } else {
            &names.by_fqn1
        };
        index
            .candidates(part)
            .filter(move |&i| flat_fqn(&self.nodes[i]).nth(position) == Some(part))
    }

    pub(crate) fn by_tag<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.indexes
            .by_tag
            .get_or_init(|| {
                HashIndex::build(
                    self.nodes
                        .iter()
                        .enumerate()
                        .flat_map(|(i, n)| n.tags.iter().map(move |t| (t.as_str(), i as u32))),
                )
            })
            .candidates(tag)
            .filter(move |&i| self.nodes[i].tags.iter().any(|t| t == tag))
    }
}

/// The nodes in `NodeId` order (sorting indices, not the nodes themselves).
/// Sorts `items` by their ids where they are, each moved once (a sorted permutation
/// applied cycle by cycle): large nodes sorted directly would be moved about log2(n)
/// times each, and a sorted copy is fresh memory the size of them all, which the kernel
/// must clear first; both were most of building a large project's graph. A saved parse
/// hands them over sorted: then one pass instead of a sort.
pub fn sort_by_id_in_place<T>(items: &mut [T], id: impl Fn(&T) -> &NodeId) {
    if items.windows(2).all(|w| id(&w[0]) <= id(&w[1])) {
        return;
    }
    // order[k]: where the item that belongs at k is now.
    let mut order: Vec<u32> = (0..items.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| id(&items[a as usize]).cmp(id(&items[b as usize])));
    for start in 0..items.len() {
        let mut k = start;
        // The item first at `start` travels along its cycle until it reaches its place.
        while order[k] as usize != start && order[k] as usize != k {
            let from = order[k] as usize;
            items.swap(k, from);
            order[k] = k as u32;
            k = from;
        }
        order[k] = k as u32;
    }
}

impl Indexes {
    fn build(nodes: &[GraphNode], by_id: HashIndex) -> Self {
        let mut by_type: [Vec<u32>; ResourceType::ALL.len()] = Default::default();
        for (i, node) in nodes.iter().enumerate() {
            by_type[node.resource_type.index()].push(i as u32);
        }
        Indexes {
            by_id,
            by_type,
            names: OnceLock::new(),
            by_tag: OnceLock::new(),
        }
    }
}

impl NameIndexes {
    fn build(nodes: &[GraphNode]) -> Self {
        let selectable = || {
            nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.resource_type != ResourceType::Source)
                .map(|(i, n)| (i as u32, n))
        };
        NameIndexes {
            by_name: HashIndex::build(selectable().map(|(i, n)| (n.name.as_str(), i))),
            by_fqn0: HashIndex::build(
                selectable().filter_map(|(i, n)| flat_fqn(n).next().map(|p| (p, i))),
            ),
            by_fqn1: HashIndex::build(
                selectable().filter_map(|(i, n)| flat_fqn(n).nth(1).map(|p| (p, i))),
            ),
        }
    }
}

/// Kahn's algorithm with a min-heap, so ties go to the smallest index (= smallest id).
/// On a cycle, returns one cycle as indices, first index repeated at the end.
fn topological_sort(graph: &DiGraph<(), (), u32>) -> Result<Vec<u32>, Vec<usize>> {
    let n = graph.node_count();
    let mut in_degree: Vec<usize> = (0..n)
        .map(|i| graph.neighbors_directed(ix(i), Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| in_degree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i as u32);
        for child in graph.neighbors_directed(ix(i), Direction::Outgoing) {
            let c = child.index();
            in_degree[c] -= 1;
            if in_degree[c] == 0 {
                ready.push(Reverse(c));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(find_cycle(graph, &in_degree))
}

/// Every node left with a positive in-degree after Kahn's algorithm has a parent that is
/// also left, so walking up from any of them must come back to a node already seen.
fn find_cycle(graph: &DiGraph<(), (), u32>, in_degree: &[usize]) -> Vec<usize> {
    let left = |i: usize| in_degree[i] > 0;
    let Some(start) = (0..in_degree.len()).find(|&i| left(i)) else {
        return Vec::new();
    };
    let mut position: HashMap<usize, usize> = HashMap::new();
    let mut walk = vec![start];
    let mut current = start;
    position.insert(start, 0);
    loop {
        let parent = graph
            .neighbors_directed(ix(current), Direction::Incoming)
            .map(|p| p.index())
            .filter(|&p| left(p))
            .min();
        let Some(parent) = parent else {
            // Unreachable for a consistent in-degree table; report what we have.
            return walk;
        };
        if let Some(&at) = position.get(&parent) {
            // walk[at..] is the cycle, child before parent; flip it to parent -> child.
            let mut cycle: Vec<usize> = walk[at..].iter().rev().copied().collect();
            let smallest = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, &i)| i)
                .map_or(0, |(k, _)| k);
            cycle.rotate_left(smallest);
            cycle.push(cycle[0]);
            return cycle;
        }
        position.insert(parent, walk.len());
        walk.push(parent);
        current = parent;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sort_in_place_follows_every_cycle() {
        let ids = |names: &[&str]| names.iter().map(|n| NodeId::new(*n)).collect::<Vec<_>>();
        for names in [
            vec!["c", "a", "b"],
            vec!["b", "a", "d", "c"],
            vec!["e", "d", "c", "b", "a"],
            vec!["a", "b"],
            vec![],
        ] {
            let mut items = ids(&names);
            super::sort_by_id_in_place(&mut items, |n| n);
            let mut expected = ids(&names);
            expected.sort();
            assert_eq!(items, expected);
        }
    }

    use super::*;
    use crate::test_support::node;

    fn ids(list: &[&str]) -> Vec<NodeId> {
        list.iter().map(|s| NodeId::new(*s)).collect()
    }

    #[test]
    fn topological_order_breaks_ties_by_id() {
        let dag = Dag::build(vec![
            node("model.p.d", &["model.p.b", "model.p.c"]),
            node("model.p.c", &["model.p.a"]),
            node("model.p.b", &["model.p.a"]),
            node("model.p.a", &[]),
            node("model.p.e", &[]),
        ])
        .unwrap();
        assert_eq!(
            dag.topological_order(),
            ids(&[
                "model.p.a",
                "model.p.b",
                "model.p.c",
                "model.p.d",
                "model.p.e"
            ])
        );
        assert_eq!(
            dag.parents(&"model.p.d".into()),
            ids(&["model.p.b", "model.p.c"])
        );
        assert_eq!(
            dag.children(&"model.p.a".into()),
            ids(&["model.p.b", "model.p.c"])
        );
        assert_eq!(
            dag.ancestors(&"model.p.d".into(), Some(1)),
            ids(&["model.p.b", "model.p.c"]).into_iter().collect()
        );
        assert_eq!(dag.ancestors(&"model.p.d".into(), None).len(), 3);
        assert_eq!(dag.descendants(&"model.p.a".into(), None).len(), 3);
        assert!(dag.descendants(&"model.p.zz".into(), None).is_empty());
        assert_eq!(dag.len(), 5);
    }

    #[test]
    fn duplicate_parents_are_one_edge() {
        let dag = Dag::build(vec![
            node("model.p.a", &[]),
            node("model.p.b", &["model.p.a", "model.p.a"]),
        ])
        .unwrap();
        assert_eq!(dag.parents(&"model.p.b".into()), ids(&["model.p.a"]));
    }

    #[test]
    fn cycle_path_starts_at_smallest_id_and_follows_data_flow() {
        // b refs a, c refs b, a refs c: a -> b -> c -> a. d hangs below the cycle.
        let err = Dag::build(vec![
            node("model.p.d", &["model.p.c"]),
            node("model.p.c", &["model.p.b"]),
            node("model.p.b", &["model.p.a"]),
            node("model.p.a", &["model.p.c"]),
            node("model.p.x", &[]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle {
                path: ids(&["model.p.a", "model.p.b", "model.p.c", "model.p.a"])
            }
        );
        insta::assert_snapshot!(err, @"found a cycle: model.p.a -> model.p.b -> model.p.c -> model.p.a; remove one of these ref()s so that no model depends on itself");
        assert_eq!(err.to_diagnostic().code, Code::Cycle);
    }

    #[test]
    fn cycle_below_a_smaller_node() {
        // a (smallest) depends on the cycle y <-> z but is not part of it.
        let err = Dag::build(vec![
            node("model.p.a", &["model.p.z"]),
            node("model.p.y", &["model.p.z"]),
            node("model.p.z", &["model.p.y"]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle {
                path: ids(&["model.p.y", "model.p.z", "model.p.y"])
            }
        );
    }

    #[test]
    fn self_reference_is_a_cycle() {
        let err = Dag::build(vec![node("model.p.a", &["model.p.a"])]).unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle {
                path: ids(&["model.p.a", "model.p.a"])
            }
        );
    }

    #[test]
    fn missing_parent() {
        let err = Dag::build(vec![
            node("model.p.a", &[]),
            node("model.p.b", &["model.p.a", "model.p.nope"]),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            GraphError::MissingNode {
                node: "model.p.b".into(),
                missing: "model.p.nope".into()
            }
        );
        insta::assert_snapshot!(err, @"'model.p.b' depends on 'model.p.nope', which is not in the project; check the ref()/source() name, or enable the node it points to");
        assert_eq!(err.to_diagnostic().code, Code::UnknownRef);
        let err = Dag::build(vec![node("model.p.b", &["source.p.raw.t"])]).unwrap_err();
        assert_eq!(err.to_diagnostic().code, Code::UnknownSource);
    }

    #[test]
    fn duplicate_id() {
        let err = Dag::build(vec![node("model.p.a", &[]), node("model.p.a", &[])]).unwrap_err();
        insta::assert_snapshot!(err, @"two nodes have the id 'model.p.a'; rename one of them so that ids are unique");
    }

    #[test]
    fn empty_graph() {
        let dag = Dag::build(Vec::new()).unwrap();
        assert!(dag.is_empty());
        assert!(dag.topological_order().is_empty());
    }
}
