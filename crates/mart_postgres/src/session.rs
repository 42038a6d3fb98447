//! A handle on a [`crate::Connection`]'s server session, for the queries templates make
//! (`run_query()`, `adapter.*`, statement blocks) while that connection builds a node: they
//! run on the same session, inside its open transaction, and see what the build did so far,
//! as dbt runs a node's hooks and macros on the node's own connection.

use std::pin::pin;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::connection::QueryResult;
use crate::error::{PgError, PgErrorKind};

/// A column of a statement's result, as the server describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultColumn {
    pub name: String,
    /// The type's name in pg_type (`int4`, `numeric`, `text`, `_int4` for arrays, ...).
    pub type_name: String,
    pub type_oid: u32,
}

/// `Clone + Send + Sync + 'static`; dropping it does not close the connection.
#[derive(Clone)]
pub struct SessionHandle {
    pub(crate) client: Arc<Client>,
    /// Why the driver task ended, if it failed, for "connection closed" errors.
    pub(crate) closed_reason: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

impl SessionHandle {
    /// Runs `sql` with the simple query protocol and returns the rows as text; for several
    /// statements, the last one that returned rows.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, PgError> {
        let messages = self
            .client
            .simple_query_raw(sql)
            .await
            .map_err(|e| self.error(&e, sql))?;
        let mut messages = pin!(messages);
        let mut result = QueryResult::default();
        while let Some(message) = messages.next().await {
            match message.map_err(|e| self.error(&e, sql))? {
                SimpleQueryMessage::RowDescription(columns) => {
                    result.columns = columns.iter().map(|c| c.name().to_string()).collect();
                    result.rows.clear();
                }
                SimpleQueryMessage::Row(row) => {
                    let values = (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect();
                    result.rows.push(values);
                }
                SimpleQueryMessage::CommandComplete(rows) => result.rows_affected = rows,
                _ => {}
            }
        }
        Ok(result)
    }

    /// Each column `sql` returns, learned by preparing it without running it. `sql` must
    /// be one statement.
    pub async fn result_columns(&self, sql: &str) -> Result<Vec<ResultColumn>, PgError> {
        let statement = self
            .client
            .prepare(sql)
            .await
            .map_err(|e| self.error(&e, sql))?;
        Ok(statement
            .columns()
            .iter()
            .map(|c| ResultColumn {
                name: c.name().to_string(),
                type_name: c.type_().name().to_string(),
                type_oid: c.type_().oid(),
            })
            .collect())
    }

    pub(crate) fn error(&self, err: &tokio_postgres::Error, statement: &str) -> PgError {
        let mut out = PgError::from_driver(err, Some(statement));
        if out.kind() == PgErrorKind::Closed {
            if let Some(reason) = self.closed_reason.lock().ok().and_then(|r| r.clone()) {
                out = out.with_kind_and_prefix(PgErrorKind::Closed, &reason);
            }
        }
        out
    }
}
