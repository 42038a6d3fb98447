//! `run_query()` for templates, on a connection opened the first time a template asks.

use mart_jinja::{QueryRunner, QueryTable};
use mart_postgres::{Connection, ConnectionConfig};
use tokio::runtime::Handle;
use tokio::sync::Mutex;

/// Serves run_query()/adapter calls of renders. Renders run on blocking threads, so the
/// query is driven with `Handle::block_on`.
pub struct PgQueryRunner {
    config: ConnectionConfig,
    handle: Handle,
    connection: Mutex<Option<Connection>>,
}

impl PgQueryRunner {
    pub fn new(config: ConnectionConfig, handle: Handle) -> Self {
        Self {
            config,
            handle,
            connection: Mutex::new(None),
        }
    }
}

impl QueryRunner for PgQueryRunner {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String> {
        self.handle.block_on(async {
            let mut slot = self.connection.lock().await;
            if slot.is_none() {
                *slot = Some(
                    Connection::connect(&self.config)
                        .await
                        .map_err(|e| e.to_string())?,
                );
            }
            let Some(connection) = slot.as_ref() else {
                return Err("no connection".to_string());
            };
            let result = connection.query(sql).await.map_err(|e| e.to_string())?;
            // Typed values need the column types, which the text protocol does not carry:
            // prepare the statement again, which only one statement allows. Without them
            // the values are typed by their text.
            let column_types = if result.columns.is_empty() || !is_one_statement(sql) {
                Vec::new()
            } else {
                connection.result_types(sql).await.unwrap_or_default()
            };
            Ok(QueryTable {
                columns: result.columns,
                column_types,
                rows: result.rows,
                rows_affected: Some(result.rows_affected),
            })
        })
    }
}

/// No `;` but a trailing one: a cautious test, as a `;` inside a literal also says no.
fn is_one_statement(sql: &str) -> bool {
    !sql.trim_end().trim_end_matches(';').contains(';')
}

#[cfg(test)]
mod tests {
    use super::is_one_statement;

    #[test]
    fn one_statement_allows_a_trailing_semicolon_only() {
        assert!(is_one_statement("select 1;\n"));
        assert!(!is_one_statement("select 1; select 2"));
        assert!(!is_one_statement("select ';'"));
    }
}
