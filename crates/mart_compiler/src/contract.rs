//! What an enforced model contract needs before anything runs (dbt's parse-time checks):
//! a supported materialization and a `data_type` for every declared column; and the
//! foreign keys' parents, which become dependencies so they are built first.

use mart_diagnostics::{Code, Diagnostic, SourceFile};
use mart_jinja::{RefCall, SourceCall};
use mart_project::{ConstraintTarget, Materialization, NodeConfig, NodeProperties};
use std::sync::Arc;

/// Errors for a model whose contract is enforced but cannot be checked or built.
pub(crate) fn check_contract(
    name: &str,
    file: &Arc<SourceFile>,
    config: &NodeConfig,
    properties: Option<&NodeProperties>,
) -> Result<(), Diagnostic> {
    if !config.contract.enforced {
        return Ok(());
    }
    let at = |d: Diagnostic| match properties {
        Some(p) => d.with_span(mart_project::entry_span(&p.file, name)),
        None => d.with_path(&file.path),
    };
    if !matches!(
        config.materialized,
        Materialization::Table | Materialization::View | Materialization::Incremental
    ) {
        return Err(at(Diagnostic::error(
            Code::Config,
            format!(
                "model '{name}' has an enforced contract, which materialized='{}' does not support",
                config.materialized
            ),
        )
        .with_help("contracts apply to table, view and incremental models (as in dbt); set enforced: false or change the materialization")));
    }
    if config.materialized == Materialization::Incremental {
        let on_schema_change = config.string("on_schema_change").ok().flatten();
        if !matches!(
            on_schema_change.as_deref(),
            Some("append_new_columns" | "fail")
        ) {
            return Err(at(Diagnostic::error(
                Code::Config,
                format!(
                    "incremental model '{name}' has an enforced contract but on_schema_change is '{}'",
                    on_schema_change.as_deref().unwrap_or("ignore")
                ),
            )
            .with_help("set on_schema_change to append_new_columns or fail (dbt supports contracts on incremental models only with those)")));
        }
    }
    let columns = properties.map(|p| &p.columns[..]).unwrap_or_default();
    if columns.is_empty() {
        return Err(at(Diagnostic::error(
            Code::PropertyFile,
            format!("model '{name}' has an enforced contract but declares no columns"),
        )
        .with_help("declare every column with its data_type under the model in a property file (.yml), as dbt requires")));
    }
    let missing: Vec<&str> = columns
        .iter()
        .filter(|c| c.data_type.as_deref().is_none_or(|t| t.trim().is_empty()))
        .map(|c| c.name.as_str())
        .collect();
    if let Some(first) = missing.first() {
        let span = properties.map(|p| {
            let entry = mart_project::entry_span(&p.file, name);
            mart_project::entry_span_after(&p.file, first, entry.range.start)
        });
        let d = Diagnostic::error(
            Code::PropertyFile,
            format!(
                "columns with no data_type are not allowed on contracted models; model '{name}' lacks it on: {}",
                missing.join(", ")
            ),
        )
        .with_help("give each column a `data_type:` (as dbt requires under an enforced contract)");
        return Err(match span {
            Some(span) => d.with_span(span),
            None => at(d),
        });
    }
    Ok(())
}

/// Adds each foreign key's parent to the node's ref() and source() calls, so the DAG
/// builds it first (dbt makes it a dependency too).
pub(crate) fn add_constraint_parents(
    properties: Option<&NodeProperties>,
    refs: &mut Vec<RefCall>,
    sources: &mut Vec<SourceCall>,
) {
    let Some(p) = properties else { return };
    let all = p
        .constraints
        .iter()
        .chain(p.columns.iter().flat_map(|c| c.constraints.iter()));
    for target in mart_project::constraint_targets(all) {
        match target {
            ConstraintTarget::Ref { package, name } => {
                let call = RefCall {
                    package,
                    name,
                    version: None,
                };
                if !refs.contains(&call) {
                    refs.push(call);
                }
            }
            ConstraintTarget::Source { source, table } => {
                let call = SourceCall { source, table };
                if !sources.contains(&call) {
                    sources.push(call);
                }
            }
        }
    }
}
