//! mart_adapter: the pure SQL side of mart's PostgreSQL adapter.
//!
//! What it does:
//! - quotes identifiers and literals ([`quote_ident`], [`quote_literal`]);
//! - names relations ([`Relation`], [`RelationKind`]) and derives the temporary and backup
//!   names used by atomic rebuilds within PostgreSQL's 63-byte identifier limit
//!   ([`suffixed_identifier`]);
//! - builds the statements of the view and table materializations ([`view_statements`],
//!   [`view_replace_statements`], [`table_statements`], [`drop_relation`], [`create_schema`]);
//! - checks and builds enforced model contracts: the queries PostgreSQL resolves the
//!   model's and the contract's column types with, the table of differences, and the
//!   `create table (columns constraints)` + `insert ... select` DDL ([`contract_table_statements`]);
//! - builds the statements of the incremental materialization: temporary table, schema
//!   changes and the append / merge / delete+insert strategies ([`incremental`]);
//! - builds the query that counts and judges a data test's failures, and the table that
//!   keeps them ([`test_result_query`], [`store_failures_statements`]);
//! - reads CSV seeds, infers a PostgreSQL type per column and builds the seed DDL and the
//!   `COPY ... FROM STDIN` statement ([`seed`]);
//! - builds the statements of snapshots (SCD type 2: timestamp and check strategies, hard
//!   deletes) ([`snapshot`]);
//! - builds the materialized_view materialization's statements (create, refresh, rebuild)
//!   and compares indexes for `on_configuration_change` ([`materialized_view_statements`],
//!   [`index_changes`]);
//! - computes the batches of the microbatch incremental strategy ([`microbatch`]);
//! - reads the views built on a relation and recreates them after a rebuild dropped them
//!   with `cascade` ([`dependent_views_query`], [`recreate_statements`]);
//! - builds what follows a build: indexes, grants and `COMMENT ON`s ([`create_index`],
//!   [`grant_statements`], [`comment_statements`]).
//!
//! What it does not do: it never talks to a database, never spawns tasks, never prints.
//! Running the statements (and running each returned list in ONE transaction) is the
//! caller's job, e.g. through `mart_postgres::Connection::execute_in_transaction`.

mod catalog;
mod contract;
mod data_test;
mod ddl;
mod dependents;
pub mod incremental;
mod materialized_view;
pub mod microbatch;
mod quote;
mod relation;
mod relation_config;
pub mod seed;
pub mod snapshot;

pub use catalog::{relation_columns_query, relation_query, schema_relations_query};
pub use contract::{
    contract_mismatches, contract_type_class, contract_type_code, empty_schema_query,
    empty_subquery, mismatch_table, translate_type, ContractColumn, ContractMismatch,
    ContractTable,
};
pub use data_test::{freshness_query, store_failures_statements, test_result_query, FailureRule};
pub use ddl::{
    contract_table_statements, create_schema, drop_relation, table_statements,
    view_replace_statements, view_statements, BACKUP_SUFFIX, TMP_SUFFIX,
};
pub use dependents::{
    dependent_view_names_query, dependent_views_query, lock_views_statement, parse_dependent_view,
    recreate_statements, DependentView,
};
pub use materialized_view::{
    drop_index, index_changes, indexes_query, materialized_view_statements, parse_index_row,
    refresh_materialized_view, ExistingIndex, IndexChanges, IndexShape,
};
pub use quote::{quote_ident, quote_literal};
pub use relation::{suffixed_identifier, Relation, RelationKind, MAX_IDENTIFIER_BYTES};
pub use relation_config::{comment_statements, create_index, grant_statements};
