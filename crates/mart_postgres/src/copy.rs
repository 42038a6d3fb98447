//! Streaming data to `COPY ... FROM STDIN`, chunk by chunk, as the caller produces it.

use std::pin::Pin;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio_postgres::CopyInSink;

use crate::error::PgError;
use crate::session::SessionHandle;

/// An open `COPY ... FROM STDIN`: [`CopyWriter::send`] each chunk, then
/// [`CopyWriter::finish`]. Dropping it unfinished aborts the COPY: the server discards
/// everything it received and the statement fails (inside a transaction, roll back to a
/// savepoint taken before it to go on).
pub struct CopyWriter {
    session: SessionHandle,
    sql: String,
    sink: Pin<Box<CopyInSink<Bytes>>>,
}

impl std::fmt::Debug for CopyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyWriter")
            .field("sql", &self.sql)
            .finish_non_exhaustive()
    }
}

impl CopyWriter {
    pub(crate) async fn start(session: SessionHandle, sql: &str) -> Result<Self, PgError> {
        let sink = session
            .client
            .copy_in::<str, Bytes>(sql)
            .await
            .map_err(|e| session.error(&e, sql))?;
        Ok(CopyWriter {
            session,
            sql: sql.to_string(),
            sink: Box::pin(sink),
        })
    }

    /// Sends one chunk; chunks need not end at row boundaries. A value the server rejects
    /// shows only at [`CopyWriter::finish`].
    pub async fn send(&mut self, data: Bytes) -> Result<(), PgError> {
        if data.is_empty() {
            return Ok(());
        }
        self.sink
            .send(data)
            .await
            .map_err(|e| self.session.error(&e, &self.sql))
    }

    /// Ends the data and returns the number of rows copied, or the server's error.
    pub async fn finish(mut self) -> Result<u64, PgError> {
        self.sink
            .as_mut()
            .finish()
            .await
            .map_err(|e| self.session.error(&e, &self.sql))
    }
}
