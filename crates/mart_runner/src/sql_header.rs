//! The `sql_header` config: SQL that dbt puts before a model's (or snapshot's) create
//! statement, so it runs in the same session and transaction (`set local ...`, temporary
//! functions the model uses).

use mart_compiler::Node;
use mart_diagnostics::Diagnostic;
use mart_postgres::Connection;

use crate::incremental::{config_error, opt_str};

/// Runs the node's `sql_header`, when it has one, inside the node's transaction; returns
/// it (for target/run).
pub(crate) async fn run(
    node: &Node,
    connection: &mut Connection,
) -> Result<Option<String>, Diagnostic> {
    let Some(header) = opt_str(node, "sql_header")?.filter(|h| !h.trim().is_empty()) else {
        return Ok(None);
    };
    let statement = header.trim().trim_end_matches(';').to_string();
    if let Err(e) = connection
        .execute_in_transaction(std::slice::from_ref(&statement))
        .await
    {
        let mut d = config_error(
            node,
            "sql_header",
            format!("its sql_header failed: {}", e.message()),
        );
        if let Some(code) = e.sqlstate() {
            d = d.with_note(format!("SQLSTATE {code}"));
        }
        return Err(d
            .with_note(format!("while building {}", node.original_file_path))
            .with_help("fix the SQL of the sql_header config (or of the set_sql_header block)"));
    }
    Ok(Some(statement))
}
