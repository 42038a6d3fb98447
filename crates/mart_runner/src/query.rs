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
            Ok(QueryTable {
                columns: result.columns,
                rows: result.rows,
            })
        })
    }
}
