//! `run_query()` for templates: on a connection opened the first time a template asks,
//! or, while a node is built, on that node's own session (inside its transaction).

use std::sync::Arc;

use mart_jinja::{QueryRunner, QueryTable};
use mart_postgres::{Connection, ConnectionConfig, SessionHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::runtime::Handle;
use tokio::sync::Mutex;

/// Serves run_query()/adapter calls of renders. Renders run on blocking threads, so the
/// query is driven with `Handle::block_on`.
pub struct PgQueryRunner {
    handle: Handle,
    session: Session,
    /// Set by the first query: it may have changed relations (see [`PgQueryRunner::ran`]).
    ran: AtomicBool,
}

enum Session {
    /// Opened on first use (compiles, run-operation, tests).
    Lazy(Box<LazyConnection>),
    /// A node's connection, during its build.
    Node(SessionHandle),
}

struct LazyConnection {
    config: ConnectionConfig,
    connection: Mutex<Option<Connection>>,
}

impl PgQueryRunner {
    pub fn new(config: ConnectionConfig, handle: Handle) -> Self {
        Self {
            handle,
            session: Session::Lazy(Box::new(LazyConnection {
                config,
                connection: Mutex::new(None),
            })),
            ran: AtomicBool::new(false),
        }
    }

    /// A runner on `connection`'s session, for the renders of the node it builds.
    pub(crate) fn for_node(connection: &Connection) -> std::sync::Arc<PgQueryRunner> {
        std::sync::Arc::new(Self::on_session(connection.session(), Handle::current()))
    }

    /// Whether a template ran a query through this runner.
    pub(crate) fn ran(&self) -> bool {
        self.ran.load(Ordering::Relaxed)
    }

    /// Queries run on `session`: a hook's `adapter.drop_relation(this)` then drops what the
    /// build created, in the build's transaction, as in dbt.
    pub fn on_session(session: SessionHandle, handle: Handle) -> Self {
        Self {
            handle,
            session: Session::Node(session),
            ran: AtomicBool::new(false),
        }
    }

    async fn session(&self) -> Result<SessionHandle, String> {
        match &self.session {
            Session::Node(session) => Ok(session.clone()),
            Session::Lazy(lazy) => {
                let mut slot = lazy.connection.lock().await;
                if slot.is_none() {
                    *slot = Some(
                        Connection::connect(&lazy.config)
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                slot.as_ref()
                    .map(Connection::session)
                    .ok_or_else(|| "no connection".to_string())
            }
        }
    }
}

impl QueryRunner for PgQueryRunner {
    fn run_query(&self, sql: &str) -> Result<QueryTable, String> {
        self.ran.store(true, Ordering::Relaxed);
        self.handle.block_on(async {
            let session = self.session().await?;
            let result = session.query(sql).await.map_err(|e| e.to_string())?;
            // Typed values need the column types, which the text protocol does not carry:
            // prepare the statement again, which only one statement allows. Without them
            // the values are typed by their text.
            let column_types = if result.columns.is_empty() || !is_one_statement(sql) {
                Vec::new()
            } else {
                session
                    .result_columns(sql)
                    .await
                    .map(|columns| columns.into_iter().map(|c| c.type_name).collect())
                    .unwrap_or_default()
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

/// PostgreSQL as the static analysis's database: its parser judges what mart's cannot
/// read, and its catalog gives the columns of sources. One question at a time, on a
/// connection opened on the first.
pub struct PgAnalysisDatabase {
    runner: Arc<PgQueryRunner>,
    one_at_a_time: std::sync::Mutex<()>,
}

impl PgAnalysisDatabase {
    pub fn new(runner: Arc<PgQueryRunner>) -> Self {
        Self {
            runner,
            one_at_a_time: std::sync::Mutex::new(()),
        }
    }
}

impl mart_compiler::AnalysisDatabase for PgAnalysisDatabase {
    fn judge(&self, sql: &str) -> mart_compiler::Judgement {
        use mart_compiler::Judgement;
        let _turn = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let statement = sql.trim().trim_end_matches(';');
        let leading = sql.len() - sql.trim_start().len();
        self.runner.handle.block_on(async {
            let Ok(session) = self.runner.session().await else {
                return Judgement::Unavailable;
            };
            match session.result_columns(statement).await {
                Ok(_) => Judgement::Accepted,
                // SQLSTATE 42601 messages: "syntax error at or near ..." / "at end of input".
                Err(e) if e.to_string().contains("syntax error") => Judgement::Rejected {
                    message: e.to_string().lines().next().unwrap_or_default().to_string(),
                    offset: e.byte_offset().map(|o| o + leading),
                },
                // Parsed, then failed in analysis (a missing relation, ...): the syntax holds.
                Err(_) => Judgement::Accepted,
            }
        })
    }

    fn columns(&self, relations: &[(String, String)]) -> Option<mart_compiler::RelationColumns> {
        let _turn = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let sql = mart_adapter::relation_columns_query(
            relations.iter().map(|(s, n)| (s.as_str(), n.as_str())),
        );
        let rows = self.runner.handle.block_on(async {
            let session = self.runner.session().await.ok()?;
            session.query(&sql).await.ok()
        })?;
        let mut found = mart_compiler::RelationColumns::new();
        for row in rows.rows {
            if let [Some(schema), Some(name), Some(column), Some(data_type)] = &row[..] {
                found
                    .entry((schema.clone(), name.clone()))
                    .or_default()
                    .push((column.clone(), data_type.clone()));
            }
        }
        Some(found)
    }
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
