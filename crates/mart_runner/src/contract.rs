//! Enforced model contracts at run time, as dbt-postgres enforces them: before any data is
//! replaced, the model's SQL (returning no rows) must yield exactly the declared columns
//! with the declared types, both as PostgreSQL resolves them; a table is then built with
//! its declared columns and constraints.

use std::collections::BTreeMap;
use std::sync::Arc;

use mart_adapter::{
    contract_mismatches, contract_type_code, empty_schema_query, empty_subquery, mismatch_table,
    translate_type, ContractColumn, Relation,
};
use mart_compiler::{Manifest, Node};
use mart_diagnostics::{Code, Diagnostic, SourceFile};
use mart_postgres::{Connection, ResultColumn};
use mart_project::{ConstraintTarget, Materialization};

use crate::materialize::db_error;

/// The declared columns, their types translated as `alias_types` asks.
pub(crate) fn columns(node: &Node) -> Vec<ContractColumn> {
    node.columns
        .iter()
        .map(|c| ContractColumn {
            name: c.name.clone(),
            quote: c.quote.unwrap_or(false),
            data_type: translate_type(
                c.data_type.as_deref().unwrap_or_default(),
                node.config.contract.alias_types,
            ),
            constraints: c.constraints.clone(),
        })
        .collect()
}

/// Fails with dbt's table of differences when `sql` does not yield the declared columns
/// and types. Runs inside the node's transaction; it only prepares statements.
pub(crate) async fn check(
    node: &Node,
    columns: &[ContractColumn],
    sql: &str,
    compiled: Option<&Arc<SourceFile>>,
    connection: &Connection,
) -> Result<(), Diagnostic> {
    let named = |columns: Vec<ResultColumn>| -> Vec<(String, String)> {
        columns
            .into_iter()
            .map(|c| (c.name, contract_type_code(c.type_oid)))
            .collect()
    };
    let definition = connection
        .result_columns(&empty_subquery(sql))
        .await
        .map(named)
        .map_err(|e| db_error(&e, compiled))?;
    let declared = connection
        .result_columns(&empty_schema_query(columns))
        .await
        .map(named)
        .map_err(|e| {
            Diagnostic::error(
                Code::Database,
                format!(
                    "the contract of model '{}' declares a data type PostgreSQL does not know: {}",
                    node.name,
                    e.message()
                ),
            )
            .with_path(&node.original_file_path)
            .with_help("fix the column's data_type in the model's property file")
        })?;
    let mismatches = contract_mismatches(&definition, &declared);
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        Code::Database,
        format!(
            "model '{}' has an enforced contract that failed.\nPlease ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.\n\n{}",
            node.name,
            mismatch_table(&mismatches)
        ),
    )
    .with_path(&node.original_file_path)
    .with_help("change the model's SQL or its declared columns; the existing relation was left as it was"))
}

/// The relation each foreign key's `to:` stands for: a parent of the node (the compiler
/// made every `to:` a dependency).
pub(crate) fn parents(
    manifest: &Manifest,
    node: &Node,
) -> Result<BTreeMap<String, Relation>, Diagnostic> {
    let mut found = BTreeMap::new();
    let all = node
        .constraints
        .iter()
        .chain(node.columns.iter().flat_map(|c| c.constraints.iter()));
    for to in all.filter_map(|c| c.to.as_deref()) {
        let target = mart_project::parse_constraint_target(to);
        let relation = manifest
            .dag
            .parents(&node.id)
            .into_iter()
            .find_map(|p| match &target {
                Some(ConstraintTarget::Ref { package, name }) => manifest
                    .node(&p)
                    .filter(|n| {
                        &n.name == name && package.as_ref().is_none_or(|pk| &n.package == pk)
                    })
                    .map(|n| n.relation.clone()),
                Some(ConstraintTarget::Source { source, table }) => manifest
                    .sources
                    .get(&p)
                    .filter(|s| &s.table.source_name == source && &s.table.name == table)
                    .map(|s| s.relation.clone()),
                None => None,
            });
        let Some(relation) = relation else {
            return Err(Diagnostic::error(
                Code::UnknownRef,
                format!(
                    "the foreign key of model '{}' references {to}, which is not in the project",
                    node.name
                ),
            )
            .with_path(&node.original_file_path)
            .with_help("point `to:` at a model or source of the project"));
        };
        found.insert(to.to_string(), relation);
    }
    Ok(found)
}

/// Constraints that will not be built, said once per run: on a view (PostgreSQL views
/// take none; dbt warns the same) or without an enforced contract (dbt builds constraints
/// only under one). `None` when every constraint is built.
pub(crate) fn unenforced_constraints_warning(node: &Node) -> Option<String> {
    let any =
        !node.constraints.is_empty() || node.columns.iter().any(|c| !c.constraints.is_empty());
    if !any {
        return None;
    }
    if !node.config.contract.enforced {
        Some(format!(
            "warning: the constraints of model '{}' are not built: dbt builds constraints only under an enforced contract (set contract: {{enforced: true}})",
            node.name
        ))
    } else if node.config.materialized == Materialization::View {
        Some(format!(
            "warning: the constraints of view model '{}' are not enforced: PostgreSQL views take no constraints (only the contract's columns and types are checked)",
            node.name
        ))
    } else {
        None
    }
}
