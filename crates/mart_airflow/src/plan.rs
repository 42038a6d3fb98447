//! The DAG model: which tasks exist, what each runs, and which run before which.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mart_graph::{Dag, GraphNode, IndirectSelection, NodeId, ResourceType};

/// Where the data tests run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestPlacement {
    /// One test task per node that has tests, right after it; what depends on the node
    /// waits for its tests (as `mart build` skips what depends on a failed test).
    AfterEach,
    /// One test task after every other task.
    AtEnd,
    /// No test tasks.
    None,
}

/// The mart command a task runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskKind {
    Run,
    Seed,
    Snapshot,
    Test,
}

impl TaskKind {
    /// The mart subcommand, which is also the task id's suffix.
    pub fn subcommand(self) -> &'static str {
        match self {
            TaskKind::Run => "run",
            TaskKind::Seed => "seed",
            TaskKind::Snapshot => "snapshot",
            TaskKind::Test => "test",
        }
    }

    /// The task that builds a node of this graph node's kind; `None` for what no task
    /// builds (ephemeral models are inlined into their users, sources exist already).
    fn building(node: &GraphNode) -> Option<TaskKind> {
        match node.resource_type {
            ResourceType::Model if node.materialized.as_deref() != Some("ephemeral") => {
                Some(TaskKind::Run)
            }
            ResourceType::Seed => Some(TaskKind::Seed),
            ResourceType::Snapshot => Some(TaskKind::Snapshot),
            _ => None,
        }
    }
}

/// One Airflow task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    /// Unique in the DAG: `<node name>_<subcommand>`, or `mart_test` for the tests at the end.
    pub id: String,
    pub kind: TaskKind,
    /// The `--select` values: the node's name, the names of the tests a test task runs,
    /// or the DAG's own selection for the tests at the end.
    pub select: Vec<String>,
    /// The `--exclude` values (only the tests at the end have any).
    pub exclude: Vec<String>,
    /// A test task that selects its tests as those of its node (`--select <node>
    /// --indirect-selection <mode>`): the same tests as their names, on a readable line.
    pub indirect: Option<IndirectSelection>,
    /// The node built, or whose tests run; `None` for the tests at the end.
    pub node: Option<NodeId>,
    /// Ids of the tasks that must finish first, sorted.
    pub upstream: Vec<String>,
}

/// The tasks of the DAG, parents before children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DagPlan {
    pub tasks: Vec<Task>,
}

impl DagPlan {
    /// The number of upstream -> downstream edges.
    pub fn edge_count(&self) -> usize {
        self.tasks.iter().map(|t| t.upstream.len()).sum()
    }
}

/// The tasks for the `selected` nodes of `dag`. `select` / `exclude` are the selection as
/// the user wrote it, handed to the tests at the end.
///
/// Edges: a task depends on the nearest tasks upstream of its node; ephemeral models and
/// nodes outside the selection get no task, and edges pass through them. A source in
/// `seed_of_source` (declared over a seed's table) comes after that seed. A data test
/// belongs to the node of its parents that comes last in the DAG (a relationships test
/// runs once both sides are built) and is included when one of its parents is selected.
pub fn plan(
    dag: &Dag,
    selected: &BTreeSet<NodeId>,
    seed_of_source: &HashMap<&NodeId, &NodeId>,
    tests: TestPlacement,
    select: &[String],
    exclude: &[String],
) -> DagPlan {
    let nodes: Vec<&GraphNode> = dag.nodes().collect();
    let position: HashMap<&NodeId, usize> =
        nodes.iter().enumerate().map(|(i, n)| (&n.id, i)).collect();
    let kind: Vec<Option<TaskKind>> = nodes
        .iter()
        .map(|n| TaskKind::building(n).filter(|_| selected.contains(&n.id)))
        .collect();

    // The nearest task nodes upstream of each node (positions, sorted), computed in
    // topological order so each parent's set is ready when its children need it.
    let mut upstream_tasks: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
    for node in &nodes {
        let mut found: Vec<usize> = Vec::new();
        // A source over a seed's table comes after the seed's task (a seed has no
        // parents: nothing else is upstream of it).
        let seed = seed_of_source.get(&node.id).and_then(|s| position.get(*s));
        found.extend(seed.copied().filter(|&s| kind[s].is_some()));
        for parent in node.depends_on.iter().filter_map(|p| position.get(p)) {
            match kind[*parent] {
                Some(_) => found.push(*parent),
                None => found.extend_from_slice(&upstream_tasks[*parent]),
            }
        }
        found.sort_unstable();
        found.dedup();
        upstream_tasks.push(found);
    }

    // Data tests by the node they run after.
    let mut tests_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut any_test = false;
    for (i, node) in nodes.iter().enumerate() {
        let is_selected_test = node.resource_type == ResourceType::Test
            && node.depends_on.iter().any(|p| selected.contains(p));
        if !is_selected_test {
            continue;
        }
        any_test = true;
        if let Some(&home) = upstream_tasks[i].last() {
            tests_of.entry(home).or_default().push(i);
        }
    }
    if tests != TestPlacement::AfterEach {
        tests_of.clear();
    }

    let mut ids = TaskIds::default();
    let task_id: HashMap<(usize, TaskKind), String> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            let built = kind[i].map(|k| (i, k));
            let tested = tests_of.contains_key(&i).then_some((i, TaskKind::Test));
            built.into_iter().chain(tested).map(move |key| (key, n))
        })
        .map(|(key, n)| ((key), ids.claim(n, key.1)))
        .collect();
    // The task after which a node's data can be read (and trusted).
    let done = |i: usize| -> &String {
        task_id
            .get(&(i, TaskKind::Test))
            .or_else(|| kind[i].and_then(|k| task_id.get(&(i, k))))
            .unwrap_or_else(|| unreachable_task(&nodes[i].id))
    };

    let mut tasks: Vec<Task> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        if let Some(k) = kind[i] {
            tasks.push(Task {
                id: task_id[&(i, k)].clone(),
                kind: k,
                select: vec![node.name.clone()],
                exclude: Vec::new(),
                indirect: None,
                node: Some(node.id.clone()),
                upstream: sorted(upstream_tasks[i].iter().map(|&p| done(p).clone())),
            });
        }
        if let Some(node_tests) = tests_of.get(&i) {
            let build: Option<String> = kind[i].and_then(|k| task_id.get(&(i, k)).cloned());
            let others = node_tests
                .iter()
                .flat_map(|&t| upstream_tasks[t].iter())
                .filter(|&&p| p != i)
                .map(|&p| done(p).clone());
            let names = sorted(node_tests.iter().map(|&t| nodes[t].name.clone()));
            let by_node = (names.len() > TESTS_NAMED_UP_TO)
                .then(|| selecting_the_same(dag, node, node_tests, &nodes))
                .flatten();
            tasks.push(Task {
                id: task_id[&(i, TaskKind::Test)].clone(),
                kind: TaskKind::Test,
                select: match by_node {
                    Some(_) => vec![node.name.clone()],
                    None => names,
                },
                exclude: Vec::new(),
                indirect: by_node,
                node: Some(node.id.clone()),
                upstream: sorted(build.into_iter().chain(others)),
            });
        }
    }
    if tests == TestPlacement::AtEnd && any_test {
        let has_downstream: BTreeSet<&String> =
            tasks.iter().flat_map(|t| t.upstream.iter()).collect();
        let leaves = sorted(
            tasks
                .iter()
                .filter(|t| !has_downstream.contains(&t.id))
                .map(|t| t.id.clone()),
        );
        tasks.push(Task {
            id: ids.claim_plain("mart_test"),
            kind: TaskKind::Test,
            select: select.to_vec(),
            exclude: exclude.to_vec(),
            indirect: None,
            node: None,
            upstream: leaves,
        });
    }
    DagPlan { tasks }
}

/// A test task names its tests up to this many; past it, the node's own selection if
/// one selects exactly them.
const TESTS_NAMED_UP_TO: usize = 3;

/// The indirect selection under which `--select <node>` selects exactly `tests` (the
/// selector itself is asked, so the line means what the names meant), if one does.
fn selecting_the_same(
    dag: &Dag,
    node: &GraphNode,
    tests: &[usize],
    nodes: &[&GraphNode],
) -> Option<IndirectSelection> {
    let want: BTreeSet<&NodeId> = tests.iter().map(|&t| &nodes[t].id).collect();
    let select = [node.name.clone()];
    [
        IndirectSelection::Eager,
        IndirectSelection::Buildable,
        IndirectSelection::Cautious,
    ]
    .into_iter()
    .find(|&mode| {
        mart_graph::select_with_indirect(dag, &select, &[], mode).is_ok_and(|found| {
            let found: BTreeSet<&NodeId> = found
                .iter()
                .filter(|id| {
                    dag.node(id)
                        .is_some_and(|n| n.resource_type == ResourceType::Test)
                })
                .collect();
            found == want
        })
    })
}

/// Every node with a task or tests has its id in the map, by construction.
fn unreachable_task(id: &NodeId) -> &'static String {
    unreachable!("no task for {id}")
}

fn sorted(ids: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<String> = ids.collect();
    set.into_iter().collect()
}

/// Hands out task ids, unique within one DAG and made of the characters Airflow allows.
#[derive(Default)]
struct TaskIds {
    taken: BTreeSet<String>,
}

impl TaskIds {
    fn claim(&mut self, node: &GraphNode, kind: TaskKind) -> String {
        let plain = format!("{}_{}", node.name, kind.subcommand());
        if !self.taken.contains(&sanitize(&plain)) {
            return self.claim_plain(&plain);
        }
        self.claim_plain(&format!("{}_{plain}", node.package))
    }

    fn claim_plain(&mut self, wanted: &str) -> String {
        let base = sanitize(wanted);
        let mut id = base.clone();
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        id
    }
}

/// Airflow task ids are letters, digits, `_`, `-` and `.` (a dot means a task group, so
/// it is replaced too), at most 250 characters.
fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(240)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn node(id: &str, materialized: Option<&str>, deps: &[&str]) -> GraphNode {
        let parts: Vec<&str> = id.split('.').collect();
        let resource_type: ResourceType = parts[0].parse().unwrap();
        let name = parts[parts.len() - 1].to_owned();
        GraphNode {
            id: NodeId::new(id),
            name: name.clone(),
            resource_type,
            package: parts[1].to_owned(),
            original_file_path: format!("models/{name}.sql"),
            fqn: vec![parts[1].to_owned(), name],
            tags: Vec::new(),
            materialized: materialized.map(str::to_owned),
            source_name: (resource_type == ResourceType::Source).then(|| parts[2].to_owned()),
            config: Default::default(),
            depends_on: deps.iter().map(|d| NodeId::new(*d)).collect(),
            test_type: (resource_type == ResourceType::Test).then(|| "generic".to_owned()),
            test_name: None,
            version: None,
        }
    }

    /// The lecture project in small: seeds -> ephemeral staging -> tables -> a view, a
    /// source read by a model, and tests on one node, across two nodes and on a source.
    pub(crate) fn lecture_dag() -> Dag {
        Dag::build(vec![
            node("seed.p.user_event", None, &[]),
            node("seed.p.user_variant", None, &[]),
            node("source.p.raw.log", None, &[]),
            node(
                "model.p.src_event",
                Some("ephemeral"),
                &["seed.p.user_event"],
            ),
            node(
                "model.p.src_variant",
                Some("ephemeral"),
                &["seed.p.user_variant"],
            ),
            node("model.p.dim_user", Some("table"), &["model.p.src_variant"]),
            node(
                "model.p.fact_event",
                Some("incremental"),
                &["model.p.src_event", "source.p.raw.log"],
            ),
            node(
                "model.p.daily",
                Some("view"),
                &["model.p.fact_event", "model.p.dim_user"],
            ),
            node("test.p.unique_dim_user_id", None, &["model.p.dim_user"]),
            node(
                "test.p.relationships_fact_event_user_id",
                None,
                &["model.p.fact_event", "model.p.dim_user"],
            ),
            node("test.p.not_null_src_event_id", None, &["model.p.src_event"]),
            node(
                "test.p.source_not_null_raw_log_id",
                None,
                &["source.p.raw.log"],
            ),
        ])
        .unwrap()
    }

    fn all(dag: &Dag) -> BTreeSet<NodeId> {
        dag.nodes().map(|n| n.id.clone()).collect()
    }

    /// The plan of every node of `dag`, no sources over seeds, no selection written.
    pub(crate) fn plan_all(dag: &Dag, tests: TestPlacement) -> DagPlan {
        plan(dag, &all(dag), &HashMap::new(), tests, &[], &[])
    }

    /// `task <- upstream, ...` per task, for exact comparison.
    fn edges(plan: &DagPlan) -> Vec<String> {
        plan.tasks
            .iter()
            .map(|t| {
                format!(
                    "{} [{}] <- {}",
                    t.id,
                    t.select.join(" "),
                    t.upstream.join(", ")
                )
            })
            .collect()
    }

    #[test]
    fn ephemerals_are_folded_and_tests_follow_their_last_parent() {
        let dag = lecture_dag();
        let plan = plan_all(&dag, TestPlacement::AfterEach);
        assert_eq!(
            edges(&plan),
            [
                "user_event_seed [user_event] <- ",
                "user_event_test [not_null_src_event_id] <- user_event_seed",
                "user_variant_seed [user_variant] <- ",
                "dim_user_run [dim_user] <- user_variant_seed",
                "dim_user_test [unique_dim_user_id] <- dim_user_run",
                "fact_event_run [fact_event] <- user_event_test",
                "fact_event_test [relationships_fact_event_user_id] <- dim_user_test, fact_event_run",
                "daily_run [daily] <- dim_user_test, fact_event_test",
            ]
        );
        assert_eq!(plan.edge_count(), 8);
    }

    #[test]
    fn a_source_over_a_seeds_table_comes_after_the_seed() {
        let dag = lecture_dag();
        let (source, seed) = (
            NodeId::new("source.p.raw.log"),
            NodeId::new("seed.p.user_variant"),
        );
        let seeds = HashMap::from([(&source, &seed)]);
        let plan = plan(&dag, &all(&dag), &seeds, TestPlacement::AfterEach, &[], &[]);
        // fact_event reads the source, so it waits for the seed (and the source's test,
        // which now has a task: the seed's).
        assert_eq!(
            edges(&plan),
            [
                "user_event_seed [user_event] <- ",
                "user_event_test [not_null_src_event_id] <- user_event_seed",
                "user_variant_seed [user_variant] <- ",
                "user_variant_test [source_not_null_raw_log_id] <- user_variant_seed",
                "dim_user_run [dim_user] <- user_variant_test",
                "dim_user_test [unique_dim_user_id] <- dim_user_run",
                "fact_event_run [fact_event] <- user_event_test, user_variant_test",
                "fact_event_test [relationships_fact_event_user_id] <- dim_user_test, fact_event_run",
                "daily_run [daily] <- dim_user_test, fact_event_test",
            ]
        );
    }

    #[test]
    fn many_tests_are_selected_by_their_node_when_a_selector_means_the_same() {
        let mut nodes = vec![
            node("seed.p.s", None, &[]),
            node("model.p.m", Some("table"), &["seed.p.s"]),
            node("test.p.rel_m_s", None, &["model.p.m", "seed.p.s"]),
        ];
        for i in 0..4 {
            nodes.push(node(&format!("test.p.m_{i}"), None, &["model.p.m"]));
            nodes.push(node(&format!("test.p.s_{i}"), None, &["seed.p.s"]));
        }
        let dag = Dag::build(nodes).unwrap();
        let plan = plan_all(&dag, TestPlacement::AfterEach);
        let lines: Vec<String> = plan
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Test)
            .map(|t| format!("{} {:?} {:?}", t.id, t.select, t.indirect))
            .collect();
        // m's five tests are all the tests of m; s's four are those of s without the
        // relationships test, which waits for m: buildable (m is no ancestor of s).
        assert_eq!(
            lines,
            [
                "s_test [\"s\"] Some(Buildable)",
                "m_test [\"m\"] Some(Eager)",
            ]
        );
    }

    #[test]
    fn tests_at_the_end_wait_for_every_leaf() {
        let dag = lecture_dag();
        let select = vec!["+daily".to_string()];
        let plan = plan(
            &dag,
            &all(&dag),
            &HashMap::new(),
            TestPlacement::AtEnd,
            &select,
            &[],
        );
        assert_eq!(
            edges(&plan),
            [
                "user_event_seed [user_event] <- ",
                "user_variant_seed [user_variant] <- ",
                "dim_user_run [dim_user] <- user_variant_seed",
                "fact_event_run [fact_event] <- user_event_seed",
                "daily_run [daily] <- dim_user_run, fact_event_run",
                "mart_test [+daily] <- daily_run",
            ]
        );
    }

    #[test]
    fn no_tests_and_edges_pass_through_unselected_nodes() {
        let dag = lecture_dag();
        let selected: BTreeSet<NodeId> = ["seed.p.user_variant", "model.p.daily"]
            .into_iter()
            .map(NodeId::from)
            .collect();
        let plan = plan(
            &dag,
            &selected,
            &HashMap::new(),
            TestPlacement::None,
            &[],
            &[],
        );
        assert_eq!(
            edges(&plan),
            [
                "user_variant_seed [user_variant] <- ",
                "daily_run [daily] <- user_variant_seed",
            ]
        );
    }

    #[test]
    fn at_end_without_tests_adds_no_task() {
        let dag = Dag::build(vec![node("model.p.a", Some("view"), &[])]).unwrap();
        let plan = plan_all(&dag, TestPlacement::AtEnd);
        assert_eq!(edges(&plan), ["a_run [a] <- "]);
    }

    #[test]
    fn task_ids_are_unique_and_airflow_safe() {
        let dag = Dag::build(vec![
            node("model.p.a b", Some("view"), &[]),
            node("model.q.a b", Some("view"), &[]),
            node("seed.p.mart_test", None, &[]),
            node("test.p.t", None, &["seed.p.mart_test"]),
        ])
        .unwrap();
        let plan = plan_all(&dag, TestPlacement::AtEnd);
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["a_b_run", "q_a_b_run", "mart_test_seed", "mart_test"]);
        let mut ids = TaskIds::default();
        assert_eq!(ids.claim_plain("x.y"), "x_y");
        assert_eq!(ids.claim_plain("x_y"), "x_y_2");
    }
}
