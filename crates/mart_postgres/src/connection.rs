//! One PostgreSQL connection: statements, transactions, queries, COPY, catalog, cancel.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use futures_util::StreamExt;
use mart_adapter::RelationKind;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_postgres::config::SslMode;
use tokio_postgres::{CancelToken, Client, NoTls, SimpleQueryMessage, Statement};

use crate::config::ConnectionConfig;
use crate::copy::CopyWriter;
use crate::error::{error_chain, PgError, PgErrorKind};
use crate::session::{ResultColumn, SessionHandle};

/// Size of the chunks [`Connection::copy_in`] reads and sends.
pub const COPY_CHUNK_BYTES: usize = 256 * 1024;

/// The rows of a text query: column names and each row's values as PostgreSQL prints them
/// (`None` is NULL). For several statements, the last one that returned rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// The row count of the last statement's command tag (rows returned or changed).
    pub rows_affected: u64,
}

/// An open connection. Dropping it closes the connection.
///
/// The driver task runs on the tokio runtime that called [`Connection::connect`].
pub struct Connection {
    /// The client and why its driver task ended: shared with [`SessionHandle`]s.
    session: SessionHandle,
    cancel: CancelToken,
    /// Set while [`Connection::execute_in_transaction`] has a transaction (or, inside
    /// [`Connection::begin`], a savepoint) open; still set if that future was dropped
    /// half-way (e.g. Ctrl-C), so the next call rolls it back first.
    in_transaction: AtomicBool,
    /// Set between [`Connection::begin`] and [`Connection::commit`] / [`Connection::rollback`].
    in_outer_transaction: bool,
    /// The server process serving this connection (`pg_backend_pid()`).
    backend_pid: i32,
    /// The catalog statements of this connection, prepared on first use: a later call
    /// saves the Parse/Describe round trip.
    prepared: Mutex<HashMap<&'static str, Statement>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.session.client.is_closed())
            .finish_non_exhaustive()
    }
}

/// Cancels the query running on a [`Connection`] from another task. `Clone + Send + Sync`.
#[derive(Clone)]
pub struct CancelHandle {
    token: CancelToken,
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle").finish_non_exhaustive()
    }
}

impl CancelHandle {
    /// Asks the server (over a new socket) to cancel whatever the connection is running.
    /// The running call then fails with a [`PgErrorKind::Cancelled`] error. Nothing happens
    /// when the connection is idle.
    pub async fn cancel(&self) -> Result<(), PgError> {
        self.token.cancel_query(NoTls).await.map_err(|e| {
            PgError::from_driver(&e, None)
                .with_kind_and_prefix(PgErrorKind::Io, "could not send the cancel request")
        })
    }
}

impl Connection {
    /// Connects and starts the driver task. Errors name `host:port/dbname`, the user and the
    /// reason, never the password.
    pub async fn connect(cfg: &ConnectionConfig) -> Result<Connection, PgError> {
        check_sslmode(cfg.sslmode.as_deref())?;
        let mut pg = tokio_postgres::Config::new();
        pg.host(&cfg.host)
            .port(cfg.port)
            .user(&cfg.user)
            .dbname(&cfg.dbname)
            .application_name(&cfg.application_name)
            .ssl_mode(SslMode::Disable);
        if let Some(password) = &cfg.password {
            pg.password(password);
        }
        if let Some(timeout) = cfg.connect_timeout {
            pg.connect_timeout(timeout);
        }

        let prefix = format!(
            "could not connect to {} as user '{}'",
            cfg.target(),
            cfg.user
        );
        let connecting = pg.connect(NoTls);
        let connected = match cfg.connect_timeout {
            Some(limit) => match tokio::time::timeout(limit, connecting).await {
                Ok(result) => result,
                Err(_) => {
                    return Err(PgError::new(
                        PgErrorKind::Connect,
                        format!("{prefix}: timed out after {} ms", limit.as_millis()),
                    ))
                }
            },
            None => connecting.await,
        };
        let (client, connection) = connected.map_err(|e| {
            let err =
                PgError::from_driver(&e, None).with_kind_and_prefix(PgErrorKind::Connect, &prefix);
            redact(err, cfg.password.as_deref())
        })?;

        let closed_reason = Arc::new(Mutex::new(None));
        let reason = Arc::clone(&closed_reason);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                if let Ok(mut slot) = reason.lock() {
                    *slot = Some(error_chain(&e));
                }
            }
        });
        let cancel = client.cancel_token();
        let backend_pid = session_setup(&client).await.map_err(|e| {
            PgError::from_driver(&e, None).with_kind_and_prefix(PgErrorKind::Connect, &prefix)
        })?;
        Ok(Connection {
            session: SessionHandle {
                client: Arc::new(client),
                closed_reason,
            },
            cancel,
            in_transaction: AtomicBool::new(false),
            in_outer_transaction: false,
            backend_pid,
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// Opens a transaction that spans several calls, until [`Connection::commit`] or
    /// [`Connection::rollback`]; meanwhile [`Connection::execute_in_transaction`] nests as a
    /// savepoint, so everything of one node's build commits or rolls back together.
    pub async fn begin(&mut self) -> Result<(), PgError> {
        self.recover().await?;
        self.execute_raw("begin").await?;
        self.in_outer_transaction = true;
        Ok(())
    }

    /// Commits the transaction [`Connection::begin`] opened.
    pub async fn commit(&mut self) -> Result<(), PgError> {
        // `commit` ends the transaction whether it succeeds or not.
        self.in_outer_transaction = false;
        self.in_transaction.store(false, Ordering::SeqCst);
        self.execute_raw("commit").await.map(|_| ())
    }

    /// Rolls back the transaction [`Connection::begin`] opened; nothing when none is open.
    pub async fn rollback(&mut self) -> Result<(), PgError> {
        if !self.in_outer_transaction {
            return Ok(());
        }
        self.in_outer_transaction = false;
        self.in_transaction.store(false, Ordering::SeqCst);
        self.execute_raw("rollback").await.map(|_| ())
    }

    /// The server process serving this connection, as `pg_stat_activity.pid` shows it.
    pub fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    /// Runs `sql` (simple query protocol; several `;`-separated statements are allowed) and
    /// returns the row count of the last statement's command tag (0 for DDL).
    pub async fn execute(&self, sql: &str) -> Result<u64, PgError> {
        self.recover().await?;
        self.execute_raw(sql).await
    }

    /// Runs `statements` in ONE transaction: `begin`, each statement, `commit` (inside
    /// [`Connection::begin`]: a savepoint, released at the end). On the first failure it
    /// rolls back (to the savepoint) and returns that statement's error (with the statement
    /// attached). On success it returns each statement's row count (0 for DDL). If this
    /// future is dropped half-way, the next call on this connection rolls back first.
    pub async fn execute_in_transaction(
        &mut self,
        statements: &[String],
    ) -> Result<Vec<u64>, PgError> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        self.recover().await?;
        let (open, close, undo) = self.step_statements();
        self.execute_raw(open).await?;
        self.in_transaction.store(true, Ordering::SeqCst);
        let mut counts = Vec::with_capacity(statements.len());
        for statement in statements {
            match self.execute_raw(statement).await {
                Ok(count) => counts.push(count),
                Err(err) => {
                    // A failing rollback (connection gone) must not hide the real error.
                    if self.session.client.batch_execute(undo).await.is_ok() {
                        self.in_transaction.store(false, Ordering::SeqCst);
                    }
                    return Err(err);
                }
            }
        }
        // `commit` ends the transaction whether it succeeds or not.
        let committed = self.execute_raw(close).await;
        self.in_transaction.store(false, Ordering::SeqCst);
        committed.map(|_| counts)
    }

    /// How [`Connection::execute_in_transaction`] opens, closes and undoes its step.
    fn step_statements(&self) -> (&'static str, &'static str, &'static str) {
        if self.in_outer_transaction {
            (
                "savepoint mart_step",
                "release savepoint mart_step",
                "rollback to savepoint mart_step",
            )
        } else {
            ("begin", "commit", "rollback")
        }
    }

    /// Runs `sql` with the simple query protocol and returns the rows as text.
    pub async fn query(&self, sql: &str) -> Result<QueryResult, PgError> {
        self.recover().await?;
        self.session.query(sql).await
    }

    /// A handle on this connection's server session, for template queries made while it
    /// builds a node (see [`SessionHandle`]).
    pub fn session(&self) -> SessionHandle {
        self.session.clone()
    }

    /// The type name (`int4`, `numeric`, `text`, `timestamptz`...) of each column `sql`
    /// returns, learned by preparing it without running it. `sql` must be one statement.
    pub async fn result_types(&self, sql: &str) -> Result<Vec<String>, PgError> {
        Ok(self
            .result_columns(sql)
            .await?
            .into_iter()
            .map(|c| c.type_name)
            .collect())
    }

    /// Each column `sql` returns, learned by preparing it without running it.
    pub async fn result_columns(&self, sql: &str) -> Result<Vec<ResultColumn>, PgError> {
        self.recover().await?;
        self.session.result_columns(sql).await
    }

    /// Runs `copy_sql` (a `COPY ... FROM STDIN`) and streams `data` to it in chunks of
    /// [`COPY_CHUNK_BYTES`]; returns the number of rows copied. A read error aborts the COPY
    /// (the server discards everything) and is returned as [`PgErrorKind::Io`].
    ///
    /// Any `AsyncRead` works: `&[u8]` for data in memory, `tokio::fs::File` for a file.
    pub async fn copy_in<R>(&self, copy_sql: &str, data: R) -> Result<u64, PgError>
    where
        R: AsyncRead + Unpin,
    {
        let mut data = data;
        let mut writer = self.copy_writer(copy_sql).await?;
        let mut buf = BytesMut::with_capacity(COPY_CHUNK_BYTES);
        loop {
            if buf.capacity() - buf.len() == 0 {
                buf.reserve(COPY_CHUNK_BYTES);
            }
            let read = data.read_buf(&mut buf).await.map_err(|e| {
                PgError::new(
                    PgErrorKind::Io,
                    format!("could not read the data for COPY: {}", error_chain(&e)),
                )
                .with_statement(copy_sql)
            })?;
            if read == 0 || buf.len() >= COPY_CHUNK_BYTES {
                writer.send(buf.split().freeze()).await?;
                if read == 0 {
                    break;
                }
                buf.reserve(COPY_CHUNK_BYTES);
            }
        }
        writer.finish().await
    }

    /// Starts `copy_sql` (a `COPY ... FROM STDIN`) for data the caller sends as it produces
    /// it; see [`CopyWriter`].
    pub async fn copy_writer(&self, copy_sql: &str) -> Result<CopyWriter, PgError> {
        self.recover().await?;
        CopyWriter::start(self.session.clone(), copy_sql).await
    }

    /// The kind of `schema.identifier` (exact, case-sensitive names), or `None` when no
    /// relation has that name.
    pub async fn relation_kind(
        &self,
        schema: &str,
        identifier: &str,
    ) -> Result<Option<RelationKind>, PgError> {
        const SQL: &str = "select c.relkind \
             from pg_catalog.pg_class c \
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = $1 and c.relname = $2";
        self.recover().await?;
        let row = self
            .session
            .client
            .query_opt(&self.prepare(SQL).await?, &[&schema, &identifier])
            .await
            .map_err(|e| self.error(&e, SQL))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let relkind: i8 = row.try_get(0).map_err(|e| self.error(&e, SQL))?;
        Ok(Some(RelationKind::from_pg_relkind(
            relkind.to_ne_bytes()[0],
        )))
    }

    /// `(name, type)` of every column of `schema.identifier` in ordinal order, the type as
    /// `format_type` prints it (`character varying(10)`, `numeric(10,2)`, ...). Empty when
    /// the relation does not exist.
    pub async fn columns(
        &self,
        schema: &str,
        identifier: &str,
    ) -> Result<Vec<(String, String)>, PgError> {
        const SQL: &str =
            "select a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) \
             from pg_catalog.pg_attribute a \
             join pg_catalog.pg_class c on c.oid = a.attrelid \
             join pg_catalog.pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped \
             order by a.attnum";
        self.recover().await?;
        let rows = self
            .session
            .client
            .query(&self.prepare(SQL).await?, &[&schema, &identifier])
            .await
            .map_err(|e| self.error(&e, SQL))?;
        rows.iter()
            .map(|row| {
                let name: String = row.try_get(0).map_err(|e| self.error(&e, SQL))?;
                let data_type: String = row.try_get(1).map_err(|e| self.error(&e, SQL))?;
                Ok((name, data_type))
            })
            .collect()
    }

    /// `sql` prepared on this connection, once.
    async fn prepare(&self, sql: &'static str) -> Result<Statement, PgError> {
        let cached = self.prepared.lock().ok().and_then(|p| p.get(sql).cloned());
        if let Some(statement) = cached {
            return Ok(statement);
        }
        let statement = self
            .session
            .client
            .prepare(sql)
            .await
            .map_err(|e| self.error(&e, sql))?;
        if let Ok(mut prepared) = self.prepared.lock() {
            prepared.insert(sql, statement.clone());
        }
        Ok(statement)
    }

    /// A handle that cancels this connection's running query from another task.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            token: self.cancel.clone(),
        }
    }

    /// True once the connection to the server is gone.
    pub fn is_closed(&self) -> bool {
        self.session.client.is_closed()
    }

    async fn execute_raw(&self, sql: &str) -> Result<u64, PgError> {
        let messages = self
            .session
            .client
            .simple_query_raw(sql)
            .await
            .map_err(|e| self.error(&e, sql))?;
        let mut messages = pin!(messages);
        let mut affected = 0;
        while let Some(message) = messages.next().await {
            if let SimpleQueryMessage::CommandComplete(rows) =
                message.map_err(|e| self.error(&e, sql))?
            {
                affected = rows;
            }
        }
        Ok(affected)
    }

    /// Rolls back a transaction left open by a dropped `execute_in_transaction` future.
    async fn recover(&self) -> Result<(), PgError> {
        if self.in_transaction.load(Ordering::SeqCst) {
            let (_, _, undo) = self.step_statements();
            self.session
                .client
                .batch_execute(undo)
                .await
                .map_err(|e| self.error(&e, undo))?;
            self.in_transaction.store(false, Ordering::SeqCst);
        }
        Ok(())
    }

    fn error(&self, err: &tokio_postgres::Error, statement: &str) -> PgError {
        self.session.error(err, statement)
    }
}

/// Set up once per session, in one round trip: the server checks every second that the
/// client is still there (PostgreSQL 14 and later; older servers lack the setting), so a
/// killed run's statement and locks do not outlive it; and learns the backend's pid.
async fn session_setup(client: &Client) -> Result<i32, tokio_postgres::Error> {
    const SQL: &str =
        "select pg_backend_pid(), case when current_setting('server_version_num')::int >= 140000 \
         then set_config('client_connection_check_interval', '1000', false) end";
    let messages = client.simple_query(SQL).await?;
    Ok(messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).and_then(|pid| pid.parse().ok()),
            _ => None,
        })
        .unwrap_or(0))
}

fn check_sslmode(sslmode: Option<&str>) -> Result<(), PgError> {
    match sslmode {
        None | Some("disable" | "allow" | "prefer") => Ok(()),
        Some(mode @ ("require" | "verify-ca" | "verify-full")) => Err(PgError::new(
            PgErrorKind::Tls,
            format!(
                "sslmode '{mode}' needs TLS, which mart does not support yet; \
                 use sslmode 'disable' or 'prefer' (both connect without TLS) or reach the server through a secure tunnel"
            ),
        )),
        Some(other) => Err(PgError::new(
            PgErrorKind::Config,
            format!(
                "unknown sslmode '{other}'; expected one of disable, allow, prefer, require, verify-ca, verify-full"
            ),
        )),
    }
}

/// Belt and braces: the driver never echoes the password, but make sure.
fn redact(err: PgError, password: Option<&str>) -> PgError {
    match password {
        Some(p) if !p.is_empty() && err.to_string().contains(p) => {
            PgError::new(err.kind(), err.message().replace(p, "<redacted>"))
        }
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmodes() {
        for ok in [None, Some("disable"), Some("allow"), Some("prefer")] {
            assert!(check_sslmode(ok).is_ok());
        }
        let err = check_sslmode(Some("verify-full")).unwrap_err();
        assert_eq!(err.kind(), PgErrorKind::Tls);
        assert!(err.to_string().contains("does not support yet"));
        assert_eq!(
            check_sslmode(Some("sometimes")).unwrap_err().kind(),
            PgErrorKind::Config
        );
    }

    #[test]
    fn redaction() {
        let err = PgError::new(PgErrorKind::Connect, "bad s3cret here");
        assert_eq!(redact(err, Some("s3cret")).message(), "bad <redacted> here");
    }
}
