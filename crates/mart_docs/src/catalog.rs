//! What the site is built from: the manifest, compiled SQL, the database catalog (when it
//! was reachable) and the project's macros; and the uniform entry every page reads.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use mart_compiler::{Manifest, Node, SourceNode, TestInfo};
use mart_graph::{NodeId, ResourceType};
use mart_project::{ColumnProperties, DocsConfig};
use mart_sql::{column_lineage, Origin, Relations};

/// Everything the site is generated from.
pub struct DocsInput<'a> {
    pub manifest: &'a Manifest,
    /// Compiled SQL of the nodes that have SQL.
    pub compiled: &'a BTreeMap<NodeId, String>,
    pub catalog: &'a Catalog,
    pub macros: &'a [MacroDoc],
}

/// A project macro.
#[derive(Clone, Debug)]
pub struct MacroDoc {
    pub name: String,
    /// Relative to the project root, forward slashes.
    pub path: String,
    /// The macro file's text.
    pub sql: String,
    /// From the property files' `macros:` (rendered); empty when none says.
    pub description: String,
}

/// Column names and types of relations as the database reports them
/// (information_schema.columns); empty when generation ran without a connection.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    tables: HashMap<(String, String), Vec<CatalogColumn>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogColumn {
    pub name: String,
    pub data_type: String,
}

impl Catalog {
    /// Adds a column; columns keep the order they are added in.
    pub fn insert(&mut self, schema: &str, table: &str, column: CatalogColumn) {
        self.tables
            .entry((schema.to_string(), table.to_string()))
            .or_default()
            .push(column);
    }

    pub fn columns(&self, schema: &str, table: &str) -> &[CatalogColumn] {
        self.tables
            .get(&(schema.to_string(), table.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// A data test on a node, as the node's page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TestDoc {
    /// The test node's entry.
    pub entry: usize,
    /// `unique`, `accepted_values`, ...; `singular` for a test of its own SQL.
    pub test: String,
    pub column: Option<String>,
    /// The test's arguments, `values: [a, b]`.
    pub args: String,
    /// What it checks against, for a test of another relation (`relationships`):
    /// `dim_user.user_id`.
    pub target: Option<String>,
    /// Whether the test is declared on this node (a relationships test is also listed on
    /// the node it points to).
    pub declared_here: bool,
}

impl TestDoc {
    /// The test as a column's row names it: `not_null`, `relationships -> dim_user.user_id`.
    pub fn label(&self) -> String {
        match &self.target {
            Some(target) => format!("{} -> {target}", self.test),
            None => self.test.clone(),
        }
    }
}

/// How the page of `on` (its id) names test node `entry`; `target_name` is the other
/// node the test reads, if there is one.
fn test_doc(entry: usize, test: &TestInfo, on: &str, target_name: Option<&str>) -> TestDoc {
    let (name, args) = match &test.metadata {
        Some(metadata) => {
            let args: serde_json::Map<String, serde_json::Value> = metadata
                .kwargs
                .iter()
                .filter(|(k, _)| *k != "column_name" && *k != "model")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (
                metadata.name.clone(),
                args_text(&serde_json::Value::Object(args)),
            )
        }
        None => ("singular".to_string(), String::new()),
    };
    // dbt's relationships tests (and dbt_utils' relationships_where) name the other
    // relation `to` and its column `field`.
    let field = test
        .metadata
        .as_ref()
        .and_then(|m| m.kwargs.get("field"))
        .and_then(|f| f.as_str());
    let target = match (target_name, field) {
        (Some(to), Some(field)) => Some(format!("{to}.{field}")),
        (Some(to), None) => Some(to.to_string()),
        _ => None,
    };
    TestDoc {
        entry,
        test: name,
        column: test.column_name.clone(),
        args,
        target,
        declared_here: test.attached_node.as_ref().is_none_or(|a| a.as_str() == on),
    }
}

/// `key: value, ...` for a test's arguments; strings unquoted as in YAML.
fn args_text(args: &serde_json::Value) -> String {
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    match args {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", value(v)))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Null => String::new(),
        other => value(other),
    }
}

/// One documented thing: a manifest node of any resource type, a source or a macro.
#[derive(Default)]
pub(crate) struct Entry<'a> {
    pub id: String,
    pub name: &'a str,
    /// `model`, `seed`, `snapshot`, `source`, `test`, `analysis`, `macro`, ...
    pub kind: &'static str,
    /// The folder (or `source:<name>`) it is listed under.
    pub group: String,
    pub description: &'a str,
    pub materialized: Option<String>,
    pub relation: Option<(Option<&'a str>, &'a str, &'a str)>,
    pub path: &'a str,
    pub tags: &'a [String],
    pub properties: &'a [ColumnProperties],
    pub raw_sql: Option<&'a str>,
    pub compiled_sql: Option<&'a str>,
    /// Set for test nodes.
    pub test: Option<&'a TestInfo>,
    /// The tests that depend on this entry.
    pub tests: Vec<TestDoc>,
    pub parents: Vec<usize>,
    pub children: Vec<usize>,
    /// Longest path from a root of the DAG: the column it is drawn in.
    pub rank: usize,
    /// `docs.node_color`, when it is a valid colour.
    pub color: Option<String>,
    /// Facts of its own kind (an exposure's type, owner, maturity and URL).
    pub facts: Vec<(&'static str, String)>,
}

impl Entry<'_> {
    pub fn in_graph(&self) -> bool {
        drawn_kind(self.kind)
    }

    pub fn relation_text(&self) -> Option<String> {
        let (database, schema, identifier) = self.relation?;
        Some(match database {
            Some(db) => format!("{db}.{schema}.{identifier}"),
            None => format!("{schema}.{identifier}"),
        })
    }
}

/// Which upstream column feeds an output column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Feed {
    /// The entry the relation belongs to, when it is a node of the project.
    pub entry: Option<usize>,
    pub relation: String,
    pub column: String,
}

/// Column lineage of a node, resolved to entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NodeLineage {
    /// No SQL (seeds, sources, macros).
    None,
    /// The compiled SQL could not be analysed.
    Failed(String),
    Columns(Vec<ColumnFeeds>),
}

/// One output column of a node's SQL: what feeds it, and its type where the SQL and the
/// catalog of what it reads tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ColumnFeeds {
    pub name: String,
    /// The upstream columns, or why they are unknown.
    pub feeds: Result<Vec<Feed>, String>,
    pub data_type: Option<String>,
}

/// All entries with their edges and ranks.
pub(crate) struct Docs<'a> {
    pub project: &'a str,
    /// The root project's `__overview__` docs block, else dbt's default: the index
    /// page's text, as in dbt.
    pub overview: &'a str,
    pub entries: Vec<Entry<'a>>,
    pub catalog: &'a Catalog,
    /// Relation names as compiled SQL writes them -> entry.
    relations: HashMap<String, usize>,
    /// Each entry's complete column list, when known: from the catalog, else from its
    /// compiled SQL.
    columns: Vec<Option<Vec<String>>>,
    /// `(seed, source)`: the seed builds the table the source is declared over.
    pub loads: HashSet<(usize, usize)>,
}

/// Ephemeral models' CTEs stand for the model.
fn is_ephemeral_cte(name: &str) -> bool {
    name.starts_with("__dbt__cte__")
}

/// Only the SQL itself (and ephemeral CTEs as relations).
struct SqlOnly;

impl Relations for SqlOnly {
    fn is_relation_cte(&self, name: &str) -> bool {
        is_ephemeral_cte(name)
    }
}

impl Relations for Docs<'_> {
    fn is_relation_cte(&self, name: &str) -> bool {
        is_ephemeral_cte(name)
    }

    fn columns(&self, relation: &str) -> Option<Vec<String>> {
        let &i = self.relations.get(relation)?;
        self.columns[i].clone()
    }

    fn column_type(&self, relation: &str, column: &str) -> Option<String> {
        let &i = self.relations.get(relation)?;
        let (_, schema, table) = self.entries[i].relation?;
        self.catalog
            .columns(schema, table)
            .iter()
            .find(|c| c.name == column)
            .map(|c| mart_sql::normalize_type(&c.data_type))
    }
}

impl<'a> Docs<'a> {
    pub fn new(input: &DocsInput<'a>) -> Docs<'a> {
        let manifest = input.manifest;
        // `docs: {show: false}` leaves a node out of the site, as in dbt.
        let shown = |config: &mart_project::ConfigMap| DocsConfig::of(config).show;
        let mut entries: Vec<Entry<'a>> = manifest
            .nodes
            .values()
            .filter(|n| shown(&n.config.raw))
            .map(|n| node_entry(n, input.compiled))
            .chain(
                manifest
                    .sources
                    .values()
                    .filter(|s| shown(&s.table.config))
                    .map(source_entry),
            )
            .chain(
                manifest
                    .exposures
                    .values()
                    .filter(|e| shown(&e.exposure.config))
                    .map(crate::exposure::exposure_entry),
            )
            .chain(
                input
                    .macros
                    .iter()
                    .map(|m| macro_entry(&manifest.project_name, m)),
            )
            .collect();
        let by_id: HashMap<String, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        let index = |id: &NodeId| by_id.get(id.as_str()).copied();
        let is_test: Vec<bool> = entries.iter().map(|e| e.test.is_some()).collect();
        for entry in entries.iter_mut().filter(|e| e.kind != "macro") {
            let id = NodeId::new(entry.id.clone());
            entry.parents = manifest.dag.parents(&id).iter().filter_map(index).collect();
            entry.children = manifest
                .dag
                .children(&id)
                .iter()
                .filter_map(index)
                .filter(|&c| !is_test[c])
                .collect();
        }
        // A test is listed on every node it depends on (a relationships test on both).
        for t in 0..entries.len() {
            let Some(test) = entries[t].test else {
                continue;
            };
            let attached = test.attached_node.as_ref().map(|a| a.as_str());
            let parents = entries[t].parents.clone();
            // The node a test of two relations reads besides the one it is declared on.
            let others: Vec<usize> = parents
                .iter()
                .copied()
                .filter(|&p| attached.is_some_and(|a| entries[p].id != a))
                .collect();
            let target_name = match others.as_slice() {
                [one] => Some(entries[*one].name),
                _ => None,
            };
            for p in parents {
                let doc = test_doc(t, test, &entries[p].id, target_name);
                entries[p].tests.push(doc);
            }
        }
        let loads = crate::flow::link_seeds_to_sources(manifest, &mut entries, &by_id);
        crate::flow::assign_ranks(&mut entries);
        let mut relations = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Some((database, schema, identifier)) = entry.relation {
                if let Some(db) = database {
                    relations.insert(format!("{db}.{schema}.{identifier}"), i);
                }
                relations.insert(format!("{schema}.{identifier}"), i);
            }
            if entry.materialized.as_deref() == Some("ephemeral") {
                relations.insert(format!("__dbt__cte__{}", entry.name), i);
            }
        }
        let columns = mart_project::parallel_map(&entries, |e| {
            let listed = match e.relation {
                Some((_, schema, table)) => input.catalog.columns(schema, table),
                None => &[],
            };
            if !listed.is_empty() {
                return Some(listed.iter().map(|c| c.name.clone()).collect());
            }
            let names: Vec<String> = column_lineage(e.compiled_sql?, &SqlOnly)
                .ok()?
                .into_iter()
                .map(|c| c.name)
                .collect();
            (!names.iter().any(|n| n == "*")).then_some(names)
        });
        Docs {
            project: &manifest.project_name,
            overview: manifest
                .docs
                .iter()
                .find(|b| b.name == "__overview__" && b.package == manifest.project_name)
                .map_or(mart_project::DEFAULT_OVERVIEW, |b| b.contents.as_str()),
            entries,
            catalog: input.catalog,
            relations,
            columns,
            loads,
        }
    }

    /// The column lineage of an entry's compiled SQL, reading the columns of upstream
    /// relations where they are known.
    pub fn lineage(&self, entry: &Entry<'_>) -> NodeLineage {
        let Some(sql) = entry.compiled_sql else {
            return NodeLineage::None;
        };
        match column_lineage(sql, self) {
            Err(e) => NodeLineage::Failed(e.to_string()),
            Ok(columns) => NodeLineage::Columns(
                columns
                    .into_iter()
                    .map(|c| {
                        let feeds = match c.origin {
                            Origin::Unknown(why) => Err(why),
                            Origin::Columns(refs) => Ok(refs
                                .into_iter()
                                .map(|r| Feed {
                                    entry: self.relations.get(&r.relation).copied(),
                                    relation: r.relation,
                                    column: r.column,
                                })
                                .collect()),
                        };
                        ColumnFeeds {
                            name: c.name,
                            feeds,
                            data_type: c.data_type,
                        }
                    })
                    .collect(),
            ),
        }
    }

    /// Entries within `depth` steps upstream and downstream of `start`, with their
    /// distance (the start itself at 0).
    pub fn neighbourhood(&self, start: usize, depth: usize) -> BTreeMap<usize, usize> {
        let mut seen = BTreeMap::from([(start, 0)]);
        for upstream in [true, false] {
            let mut queue = VecDeque::from([(start, 0)]);
            while let Some((i, d)) = queue.pop_front() {
                if d == depth {
                    continue;
                }
                let next = if upstream {
                    &self.entries[i].parents
                } else {
                    &self.entries[i].children
                };
                for &n in next {
                    if let std::collections::btree_map::Entry::Vacant(slot) = seen.entry(n) {
                        slot.insert(d + 1);
                        queue.push_back((n, d + 1));
                    }
                }
            }
        }
        seen
    }

    /// Entries grouped by folder, members by name. Groups go in kind order, then by
    /// layer (the first two levels of folders: `models/stg`) in lineage order (the mean
    /// rank of the layer's nodes: src before stg before marts), then by name.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            groups
                .entry((kind_order(e.kind), e.group.as_str()))
                .or_default()
                .push(i);
        }
        let layer_ranks = crate::flow::mean_ranks(
            &self.entries,
            groups
                .iter()
                .map(|((kind, name), members)| ((*kind, crate::flow::layer_of(name)), members)),
        );
        let mut groups: Vec<(usize, usize, Group)> = groups
            .into_iter()
            .map(|((kind, name), mut members)| {
                members.sort_by(|&a, &b| self.entries[a].name.cmp(self.entries[b].name));
                let layer_rank = layer_ranks[&(kind, crate::flow::layer_of(name))];
                let group = Group {
                    name: name.to_string(),
                    kind: self.entries[members[0]].kind,
                    members,
                };
                (kind, layer_rank, group)
            })
            .collect();
        groups.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
        groups.into_iter().map(|(_, _, group)| group).collect()
    }
}

/// A folder of entries of one kind.
pub(crate) struct Group {
    pub name: String,
    pub kind: &'static str,
    pub members: Vec<usize>,
}

/// Whether entries of a kind are drawn in lineage graphs: macros have no lineage, and
/// tests are listed on the nodes they test instead.
pub(crate) fn drawn_kind(kind: &str) -> bool {
    kind != "macro" && kind != "test"
}

/// The order kinds are listed in.
pub(crate) fn kind_order(kind: &str) -> usize {
    const ORDER: [&str; 8] = [
        "model", "source", "seed", "snapshot", "analysis", "exposure", "test", "macro",
    ];
    ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len())
}

pub(crate) fn folder_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, _)) => dir.to_string(),
        None => ".".to_string(),
    }
}

fn node_entry<'a>(node: &'a Node, compiled: &'a BTreeMap<NodeId, String>) -> Entry<'a> {
    Entry {
        id: node.id.as_str().to_string(),
        name: &node.name,
        kind: node.resource_type.as_str(),
        group: folder_of(&node.original_file_path),
        description: &node.description,
        materialized: match node.resource_type {
            ResourceType::Model | ResourceType::Snapshot => {
                Some(node.config.materialized.to_string())
            }
            _ => None,
        },
        // A test's relation is where it would store failures, not something it builds.
        relation: (node.test.is_none()).then_some((
            node.relation.database.as_deref(),
            node.relation.schema.as_str(),
            node.relation.identifier.as_str(),
        )),
        path: &node.original_file_path,
        tags: &node.config.tags,
        properties: &node.columns,
        raw_sql: match &node.test {
            Some(test) => Some(test.raw_code.as_str()),
            None => node.file.as_ref().map(|f| &*f.text),
        },
        compiled_sql: compiled.get(&node.id).map(String::as_str),
        test: node.test.as_deref(),
        tests: Vec::new(),
        parents: Vec::new(),
        children: Vec::new(),
        rank: 0,
        color: node_color(&node.config.raw),
        facts: Vec::new(),
    }
}

fn source_entry(source: &SourceNode) -> Entry<'_> {
    let table = &source.table;
    let description = if table.description.is_empty() {
        &table.source_description
    } else {
        &table.description
    };
    Entry {
        id: source.id.as_str().to_string(),
        name: &table.name,
        kind: "source",
        group: format!("source:{}", table.source_name),
        description,
        materialized: None,
        relation: Some((
            source.relation.database.as_deref(),
            &source.relation.schema,
            &source.relation.identifier,
        )),
        path: source.table.file.path.to_str().unwrap_or_default(),
        tags: &table.tags,
        properties: &table.columns,
        raw_sql: None,
        compiled_sql: None,
        test: None,
        tests: Vec::new(),
        parents: Vec::new(),
        children: Vec::new(),
        rank: 0,
        color: node_color(&table.config),
        facts: Vec::new(),
    }
}

fn macro_entry<'a>(project: &str, m: &'a MacroDoc) -> Entry<'a> {
    Entry {
        id: format!("macro.{project}.{}", m.name),
        name: &m.name,
        kind: "macro",
        group: folder_of(&m.path),
        description: &m.description,
        materialized: None,
        relation: None,
        path: &m.path,
        tags: &[],
        properties: &[],
        raw_sql: Some(&m.sql),
        compiled_sql: None,
        test: None,
        tests: Vec::new(),
        parents: Vec::new(),
        children: Vec::new(),
        rank: 0,
        color: None,
        facts: Vec::new(),
    }
}

/// A node's `docs.node_color` when it is one the site can draw (invalid ones were warned
/// about when the project was parsed).
pub(crate) fn node_color(config: &mart_project::ConfigMap) -> Option<String> {
    DocsConfig::of(config)
        .node_color
        .filter(|c| mart_project::is_node_color(c))
}
