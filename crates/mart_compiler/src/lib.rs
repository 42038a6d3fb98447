//! Project -> Manifest -> compiled SQL.
//!
//! Parses every model with a parse-phase render (dependencies and `config()` calls as
//! data), merges configs, names relations (generate_schema_name / generate_alias_name),
//! rejects unknown refs and cycles with the file and line, builds the DAG, and compiles
//! nodes to plain SQL with ephemeral models injected as CTEs. No database access except
//! through the query runner a caller hands to the compile phase.

mod access;
mod compile;
mod config_checks;
mod contract;
mod data_tests;
mod descriptions;
mod exposures;
mod inject;
mod loading;
mod locate;
mod manifest;
mod materialization;
mod names;
mod node_store;
mod parse_cache;
mod seed_sources;
mod semantic;
mod static_analysis;
mod unit_tests;
mod versions;

pub use compile::{write_artifact, CompiledNode, Compiler, MacroRun};
pub use data_tests::{
    synthesize_test_names, Severity, StoreFailuresAs, TestConfig, TestInfo, TestMetadata,
};
pub use exposures::ExposureNode;
pub use manifest::{config_error_at, Manifest, Node, SourceNode};
pub use materialization::{MaterializationRun, Materialized};
pub use node_store::NodeStore;
pub use parse_cache::{load_saved_parse, parse_cache_path, save_parse, SavedParse};
pub use semantic::{SemanticGraph, SemanticNode};
pub use static_analysis::{
    AnalysisDatabase, AnalysisReport, ColumnTypes, Judgement, KeptAnalyses, RelationColumns,
    Summary,
};
pub use unit_tests::{GivenFixture, UnitTestInfo};
pub use versions::ModelVersioning;

#[cfg(test)]
mod tests;
