//! The columns of every relation a node reads, as far as the project tells them: seeds
//! (their CSV header), enforced contracts, and models and snapshots (their own SQL,
//! analysed on demand, each once); sources from the catalog, when there is a database.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use mart_graph::{NodeId, ResourceType};
use mart_project::{Materialization, StaticAnalysis};
use mart_sql::{Analysis, ColumnLineage, Relations, SqlError};

use super::cache::{self, Cache};
use super::AnalysisDatabase;
use crate::manifest::{cte_name, Manifest, Node};
use crate::Compiler;

/// What analysing one node gave.
pub(crate) struct NodeAnalysis {
    /// Its output columns when every one is known by its sure name.
    pub(crate) columns: Option<Columns>,
    pub(crate) outcome: Outcome,
}

pub(crate) enum Outcome {
    Analysed {
        sql: Arc<str>,
        analysis: Analysis,
    },
    Unparsed {
        sql: Arc<str>,
        error: SqlError,
    },
    /// Nothing to analyse (a seed, `static_analysis: off`, no SQL).
    NotAnalysed,
}

/// A relation's columns as its dependents see them: names and types, no lineage
/// (shared: every reference into the relation looks them up).
pub(crate) type Columns = Arc<[ColumnLineage]>;

/// A column without its lineage.
pub(super) fn column(name: String, data_type: Option<String>) -> ColumnLineage {
    ColumnLineage {
        name,
        origin: mart_sql::Origin::Columns(Default::default()),
        data_type,
    }
}

/// A relation name (as PostgreSQL folds it) -> what it is.
#[derive(Clone, Copy)]
enum Target<'a> {
    Node(&'a NodeId),
    Source(&'a NodeId),
}

pub(crate) struct Shapes<'a> {
    pub(crate) manifest: &'a Manifest,
    compiler: &'a Compiler<'a>,
    /// The SQL this command compiled (before ephemerals were injected).
    compiled: HashMap<&'a NodeId, &'a str>,
    relations: HashMap<String, Target<'a>>,
    /// Sources whose relation is a seed's table.
    seed_of_source: HashMap<&'a NodeId, &'a NodeId>,
    cells: Mutex<HashMap<NodeId, Arc<OnceLock<Arc<NodeAnalysis>>>>>,
    pub(crate) cache: Cache,
    mode: &'a (dyn Fn(&Node) -> StaticAnalysis + Sync),
    database: Option<&'a dyn AnalysisDatabase>,
    /// The catalog's columns of the sources not over a seed, asked once for all.
    source_catalog: OnceLock<HashMap<NodeId, Columns>>,
}

impl<'a> Shapes<'a> {
    pub(crate) fn new(
        compiler: &'a Compiler<'a>,
        compiled: HashMap<&'a NodeId, &'a str>,
        mode: &'a (dyn Fn(&Node) -> StaticAnalysis + Sync),
        cache: Cache,
        database: Option<&'a dyn AnalysisDatabase>,
    ) -> Self {
        let manifest = compiler.manifest;
        let mut relations = HashMap::new();
        let add = |relations: &mut HashMap<String, Target<'a>>,
                   r: &mart_adapter::Relation,
                   target: Target<'a>| {
            let keys = [
                r.database
                    .as_ref()
                    .map(|db| format!("{db}.{}.{}", r.schema, r.identifier)),
                Some(format!("{}.{}", r.schema, r.identifier)),
            ];
            for key in keys.into_iter().flatten() {
                relations.insert(key.to_lowercase(), target);
                relations.insert(key, target);
            }
        };
        // The relations the analysed nodes can read: their own and their ancestors' (a
        // one-node command then reads only those nodes of a saved parse).
        let compiled_ids: BTreeSet<NodeId> = compiled.keys().map(|&id| id.clone()).collect();
        let readable = manifest.dag.with_ancestors(&compiled_ids);
        for node in readable.iter().filter_map(|id| manifest.node(id)) {
            match node.resource_type {
                ResourceType::Model if node.config.materialized == Materialization::Ephemeral => {
                    relations.insert(cte_name(&node.name), Target::Node(&node.id));
                }
                ResourceType::Model | ResourceType::Seed | ResourceType::Snapshot => {
                    add(&mut relations, &node.relation, Target::Node(&node.id));
                }
                _ => {}
            }
        }
        // A source over a seed's table has the seed's columns.
        let seed_of_source = manifest.seeds_of_sources();
        for source in manifest.sources.values() {
            add(&mut relations, &source.relation, Target::Source(&source.id));
        }
        Self {
            manifest,
            compiler,
            compiled,
            relations,
            seed_of_source,
            cells: Mutex::new(HashMap::new()),
            cache,
            mode,
            database,
            source_catalog: OnceLock::new(),
        }
    }

    /// The columns the catalog has for source `id` (none: no database, or no such table).
    fn catalog_columns(&self, id: &NodeId) -> Option<Columns> {
        let catalog = self.source_catalog.get_or_init(|| {
            let Some(database) = self.database else {
                return HashMap::new();
            };
            let sources: Vec<_> = self
                .manifest
                .sources
                .values()
                .filter(|s| !self.seed_of_source.contains_key(&s.id))
                .collect();
            let relations: Vec<(String, String)> = sources
                .iter()
                .map(|s| (s.relation.schema.clone(), s.relation.identifier.clone()))
                .collect();
            if relations.is_empty() {
                return HashMap::new();
            }
            let Some(mut found) = database.columns(&relations) else {
                return HashMap::new();
            };
            sources
                .iter()
                .zip(relations)
                .filter_map(|(source, relation)| {
                    let columns = found.remove(&relation)?;
                    let columns = columns
                        .into_iter()
                        .map(|(name, data_type)| {
                            column(name, Some(mart_sql::normalize_type(&data_type)))
                        })
                        .collect();
                    Some((source.id.clone(), columns))
                })
                .collect()
        });
        catalog.get(id).cloned()
    }

    /// The analysis of node `id`, computed once however many nodes ask.
    pub(crate) fn of(&self, id: &NodeId) -> Arc<NodeAnalysis> {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(id.clone()).or_default().clone()
        };
        cell.get_or_init(|| Arc::new(self.analyse(id))).clone()
    }

    pub(crate) fn mode(&self, node: &Node) -> StaticAnalysis {
        (self.mode)(node)
    }

    fn analyse(&self, id: &NodeId) -> NodeAnalysis {
        let not_analysed = |columns| NodeAnalysis {
            columns,
            outcome: Outcome::NotAnalysed,
        };
        let Some(node) = self.manifest.node(id) else {
            return not_analysed(None);
        };
        if node.resource_type == ResourceType::Seed {
            return not_analysed(self.seed_columns(node));
        }
        // An enforced contract gives the model's columns to its dependents (its own SQL
        // is still analysed, and checked against the contract).
        let contract = (node.config.contract.enforced && !node.columns.is_empty())
            .then(|| declared(&node.columns));
        if self.mode(node) == StaticAnalysis::Off {
            return not_analysed(contract);
        }
        let sql: Arc<str> = match self.compiled.get(id) {
            Some(sql) => Arc::from(*sql),
            None => match self.compiler.render_own_sql(id) {
                Ok(sql) => Arc::from(sql),
                Err(_) => return not_analysed(contract),
            },
        };
        let relations = NodeRelations { shapes: self, node };
        let parents: Vec<Option<Columns>> = node
            .depends_on
            .iter()
            .map(|dep| relations.dep_columns(dep))
            .collect();
        let key = cache::key(
            &sql,
            self.mode(node) as u8,
            parents.iter().map(Option::as_deref),
        );
        let (columns, result): (Option<Columns>, _) = match self.cache.get(id.as_str(), key) {
            Some((columns, result)) => (columns.map(Arc::from), result),
            None => {
                let result = mart_sql::analyse(&sql, &relations);
                let columns = result.as_ref().ok().and_then(|analysis| {
                    analysis.complete.then(|| {
                        let own = analysis
                            .columns
                            .iter()
                            .map(|c| column(c.name.clone(), c.data_type.clone()));
                        with_snapshot_columns(node, own.collect())
                    })
                });
                self.cache
                    .put(id.as_str(), key, columns.as_deref(), &result);
                (columns.map(Arc::from), result)
            }
        };
        match result {
            Ok(analysis) => NodeAnalysis {
                columns: contract.or(columns),
                outcome: Outcome::Analysed { sql, analysis },
            },
            Err(error) => NodeAnalysis {
                columns: contract,
                outcome: Outcome::Unparsed { sql, error },
            },
        }
    }

    /// A seed's columns as `mart seed` creates them: the header's names, and the types
    /// inferred from the rows of files small enough to read whole on every compile.
    fn seed_columns(&self, node: &Node) -> Option<Columns> {
        const INFER_UP_TO_BYTES: usize = 1 << 20;
        let path = self.manifest.root.join(&node.original_file_path);
        let csv = std::fs::read(path).ok()?;
        let (delimiter, types) = (node.config.delimiter, &node.config.column_types);
        let columns = if csv.len() <= INFER_UP_TO_BYTES {
            mart_adapter::seed::infer_seed_columns(&csv, delimiter, types)
                .ok()?
                .columns
                .into_iter()
                .map(|c| (c.name, Some(c.data_type)))
                .collect::<Vec<_>>()
        } else {
            mart_adapter::seed::SeedReader::new(
                mart_adapter::seed::copy_payload(&csv),
                delimiter,
                types,
            )
            .ok()?
            .columns()
            .into_iter()
            .map(|c| {
                let declared = types.get(&c.name).cloned();
                (c.name, declared)
            })
            .collect()
        };
        Some(
            columns
                .into_iter()
                .map(|(name, data_type)| {
                    column(name, data_type.as_deref().map(mart_sql::normalize_type))
                })
                .collect(),
        )
    }

    fn target(&self, relation: &str) -> Option<Target<'a>> {
        self.relations.get(relation).copied()
    }
}

/// Columns as a property file declares them.
fn declared(columns: &[mart_project::ColumnProperties]) -> Columns {
    columns
        .iter()
        .map(|c| {
            column(
                c.name.clone(),
                c.data_type.as_deref().map(mart_sql::normalize_type),
            )
        })
        .collect()
}

/// dbt's snapshot columns come after the snapshot query's own.
fn with_snapshot_columns(node: &Node, mut columns: Vec<ColumnLineage>) -> Vec<ColumnLineage> {
    if node.resource_type == ResourceType::Snapshot {
        for name in [
            "dbt_scd_id",
            "dbt_updated_at",
            "dbt_valid_from",
            "dbt_valid_to",
        ] {
            columns.push(column(name.to_string(), None));
        }
    }
    columns
}

/// The relations one node reads: only its own parents (a relation named in the SQL
/// without ref() is not followed, nor the node's own `this`).
struct NodeRelations<'a, 'b> {
    shapes: &'b Shapes<'a>,
    node: &'b Node,
}

impl NodeRelations<'_, '_> {
    /// The columns of parent `dep` as this node sees them: a node's own (a source over a
    /// seed's table has the seed's), a source's from the catalog, else (under strict) its
    /// declared columns taken as all it has.
    fn dep_columns(&self, dep: &NodeId) -> Option<Columns> {
        let shapes = self.shapes;
        if shapes.manifest.node(dep).is_some() {
            return shapes.of(dep).columns.clone();
        }
        if let Some(seed) = shapes.seed_of_source.get(dep) {
            return shapes.of(seed).columns.clone();
        }
        let source = shapes.manifest.sources.get(dep)?;
        shapes.catalog_columns(dep).or_else(|| {
            (shapes.mode(self.node) == StaticAnalysis::Strict && !source.table.columns.is_empty())
                .then(|| declared(&source.table.columns))
        })
    }

    fn parent_columns(&self, relation: &str) -> Option<Columns> {
        let (Target::Node(id) | Target::Source(id)) = self.shapes.target(relation)?;
        if !self.node.depends_on.contains(id) {
            return None;
        }
        self.dep_columns(id)
    }
}

impl Relations for NodeRelations<'_, '_> {
    fn is_relation_cte(&self, name: &str) -> bool {
        name.starts_with("__dbt__cte__")
    }

    fn columns(&self, relation: &str) -> Option<Vec<String>> {
        self.parent_columns(relation)
            .map(|columns| columns.iter().map(|c| c.name.clone()).collect())
    }

    fn describe(&self, relation: &str) -> Option<String> {
        let manifest = self.shapes.manifest;
        Some(match self.shapes.target(relation)? {
            Target::Node(id) => {
                let node = manifest.node(id)?;
                format!("{} '{}'", node.resource_type.as_str(), node.name)
            }
            Target::Source(id) => {
                let table = &manifest.sources.get(id)?.table;
                format!("source '{}.{}'", table.source_name, table.name)
            }
        })
    }

    fn column_type(&self, relation: &str, column: &str) -> Option<String> {
        self.parent_columns(relation)?
            .iter()
            .find(|c| c.name == column)?
            .data_type
            .clone()
    }
}
