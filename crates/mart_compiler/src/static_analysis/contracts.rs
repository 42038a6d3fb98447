//! An enforced contract checked before the run: when the analysis knows every output
//! column of the model by its sure name, the names must be the declared ones, and where
//! it also knows a column's type, the type must be of the declared type's class (as
//! dbt-postgres compares them at run time, `varchar(20)` and `text` alike).

use mart_adapter::{contract_type_class, mismatch_table, translate_type, ContractMismatch};
use mart_diagnostics::{Code, Diagnostic};
use mart_sql::Analysis;

use crate::Node;

/// The error of a contract the model's SQL is sure to fail, if it is.
pub(super) fn mismatch(node: &Node, analysis: &Analysis) -> Option<Diagnostic> {
    if !node.config.contract.enforced || node.columns.is_empty() || !analysis.complete {
        return None;
    }
    let class = |t: &str| contract_type_class(&mart_sql::normalize_type(t));
    let declared: Vec<(String, Option<&str>)> = node
        .columns
        .iter()
        .map(|c| {
            // PostgreSQL folds unquoted names, in the contract's DDL as in the SQL.
            let name = if c.quote == Some(true) {
                c.name.clone()
            } else {
                c.name.to_lowercase()
            };
            let data_type = translate_type(
                c.data_type.as_deref().unwrap_or_default(),
                node.config.contract.alias_types,
            );
            (name, class(&data_type))
        })
        .collect();
    let shown = |class: Option<&str>| Some(class.unwrap_or("?").to_string());
    let mut found = Vec::new();
    for column in &analysis.columns {
        let derived = column.data_type.as_deref().and_then(class);
        match declared.iter().find(|(name, _)| *name == column.name) {
            Some((_, Some(want))) if derived.is_some_and(|d| d != *want) => {
                found.push(ContractMismatch {
                    column: column.name.clone(),
                    definition_type: shown(derived),
                    contract_type: shown(Some(want)),
                })
            }
            Some(_) => {}
            None => found.push(ContractMismatch {
                column: column.name.clone(),
                definition_type: shown(derived),
                contract_type: None,
            }),
        }
    }
    for (name, want) in &declared {
        if !analysis.columns.iter().any(|c| c.name == *name) {
            found.push(ContractMismatch {
                column: name.clone(),
                definition_type: None,
                contract_type: shown(*want),
            });
        }
    }
    if found.is_empty() {
        return None;
    }
    Some(
        Diagnostic::error(
            Code::ContractMismatch,
            format!(
                "{}: the model's SQL does not give the columns its enforced contract declares (the run would fail dbt's contract check):\n\n{}",
                node.name,
                mismatch_table(&found)
            ),
        )
        .with_path(&node.original_file_path)
        .with_help("make the SQL's columns and types match the columns declared in the model's property file, or change the contract ('?' is a type the analysis cannot tell)"),
    )
}
