//! Static analysis of compiled nodes, before anything runs: the SQL must parse, and every
//! column reference must name a column its relation has, as far as the project tells
//! (seeds, contracts, and upstream models and snapshots analysed in turn).
//!
//! `static_analysis` (config) or `--static-analysis` (command) says how far to trust it:
//! `baseline` reports what the analysis is sure of, `strict` also fails every node it
//! cannot prove valid, `off` skips the node (its columns become unknown downstream).

mod cache;
mod contracts;
mod report;
mod shapes;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mart_diagnostics::Diagnostic;
use mart_graph::{NodeId, ResourceType};
use mart_project::StaticAnalysis;

use crate::{CompiledNode, Compiler, Node};
use shapes::Shapes;

/// What the database tells the analysis: PostgreSQL's own parser judges SQL mart's does
/// not read, and the catalog gives the columns of sources the project cannot.
pub trait AnalysisDatabase: Sync {
    fn judge(&self, sql: &str) -> Judgement;
    /// `(name, type)` of the columns of each of `relations` (schema, name) that exists,
    /// the type as the catalog spells it; `None` when no database could be asked.
    fn columns(&self, relations: &[(String, String)]) -> Option<RelationColumns>;
}

/// Columns by (schema, name) of relation.
pub type RelationColumns = HashMap<(String, String), Vec<(String, String)>>;

pub enum Judgement {
    /// A syntax error: PostgreSQL's message, and the byte offset into the SQL it names.
    Rejected {
        message: String,
        offset: Option<usize>,
    },
    Accepted,
    /// No database to ask.
    Unavailable,
}

/// What the analysis of a command's nodes found.
#[derive(Debug, Default)]
pub struct AnalysisReport {
    /// Errors and notes, in the order of the nodes given.
    pub diagnostics: Vec<Diagnostic>,
    /// The first error of each node that has one.
    failed: BTreeMap<NodeId, Diagnostic>,
    /// Whether a node under `strict` failed: then nothing may run.
    strict_failed: bool,
    pub summary: Summary,
    /// The output column types the analysis derived, of each node analysed.
    pub column_types: ColumnTypes,
}

/// Output column types by node, then by column name, as the catalog spells them.
pub type ColumnTypes = BTreeMap<NodeId, BTreeMap<String, String>>;

/// Counts for the log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Nodes whose SQL was analysed.
    pub analysed: usize,
    /// Nodes the analysis could not read (parser gaps, statements other than a query).
    pub skipped: usize,
    /// Column references proven to exist.
    pub checked: usize,
    /// Column references into relations of unknown columns.
    pub unchecked: usize,
}

impl AnalysisReport {
    /// The error that stops node `id`, if any.
    pub fn error_for(&self, id: &NodeId) -> Option<&Diagnostic> {
        self.failed.get(id)
    }

    pub fn has_errors(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Whether a `strict` node failed, so that nothing of the selection may run.
    pub fn refuses_run(&self) -> bool {
        self.strict_failed
    }
}

/// The analyses kept in `<target>/static_analysis.msgpack` by earlier commands of the
/// same mart executable: loaded while the command compiles, reused where a node's SQL,
/// mode and parents' columns are unchanged, and updated.
pub struct KeptAnalyses(cache::Cache);

impl KeptAnalyses {
    /// Those of `target_dir` written by `build` (the executable's identity).
    pub fn load(target_dir: &Path, build: &str) -> Self {
        Self(cache::Cache::load(target_dir, build))
    }

    /// None read, none kept.
    pub fn none() -> Self {
        Self(cache::Cache::disabled())
    }
}

impl Compiler<'_> {
    /// Analyses `compiled` (nodes compiled by this command, in order). `flag` is
    /// `--static-analysis`, which overrides every node's config.
    pub fn analyse(
        &self,
        compiled: &[CompiledNode],
        flag: Option<StaticAnalysis>,
        database: Option<&dyn AnalysisDatabase>,
        kept: KeptAnalyses,
    ) -> AnalysisReport {
        let mode = move |node: &Node| flag.unwrap_or(node.config.static_analysis);
        let analysed = |node: &Node| {
            matches!(
                node.resource_type,
                ResourceType::Model
                    | ResourceType::Snapshot
                    | ResourceType::Test
                    | ResourceType::Analysis
            ) && mode(node) != StaticAnalysis::Off
        };
        // Nothing to analyse (`--static-analysis off`): no relations to gather either.
        if !compiled
            .iter()
            .any(|c| self.manifest.node(&c.id).is_some_and(analysed))
        {
            return AnalysisReport::default();
        }
        let own_sql: HashMap<&NodeId, &str> = compiled
            .iter()
            .map(|c| (&c.id, c.rendered.as_deref().unwrap_or(&c.sql)))
            .collect();
        let shapes = Shapes::new(self, own_sql, &mode, kept.0, database);
        let per_node = mart_project::parallel_map(compiled, |c| {
            let node = self.manifest.node(&c.id)?;
            if !analysed(node) {
                return None;
            }
            let analysed = shapes.of(&c.id);
            let mut types = BTreeMap::new();
            let counts = match &analysed.outcome {
                shapes::Outcome::Analysed { analysis, .. } => {
                    // Only sure names (the kept analyses keep no others).
                    if analysis.complete {
                        types = analysis
                            .columns
                            .iter()
                            .filter_map(|c| Some((c.name.clone(), c.data_type.clone()?)))
                            .collect();
                    }
                    Summary {
                        analysed: 1,
                        skipped: 0,
                        checked: analysis.checked,
                        unchecked: analysis.unchecked,
                    }
                }
                shapes::Outcome::Unparsed { .. } => Summary {
                    skipped: 1,
                    ..Summary::default()
                },
                shapes::Outcome::NotAnalysed => Summary::default(),
            };
            Some((
                mode(node),
                counts,
                types,
                report::diagnostics(self, node, &analysed, mode(node), database),
            ))
        });
        shapes.cache.save();
        let mut report = AnalysisReport::default();
        for (c, found) in compiled.iter().zip(per_node) {
            let Some((mode, counts, types, diagnostics)) = found else {
                continue;
            };
            if !types.is_empty() {
                report.column_types.insert(c.id.clone(), types);
            }
            let summary = &mut report.summary;
            summary.analysed += counts.analysed;
            summary.skipped += counts.skipped;
            summary.checked += counts.checked;
            summary.unchecked += counts.unchecked;
            if let Some(error) = diagnostics.iter().find(|d| d.is_error()) {
                report.failed.insert(c.id.clone(), error.clone());
                report.strict_failed |= mode == StaticAnalysis::Strict;
            }
            report.diagnostics.extend(diagnostics);
        }
        report
    }
}
