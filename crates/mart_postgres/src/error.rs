//! The one error type of this crate.

use std::error::Error as _;

use tokio_postgres::error::ErrorPosition;

use crate::position::position_to_byte_offset;

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PgErrorKind {
    /// The settings are unusable (unknown sslmode, ...).
    Config,
    /// The connection could not be made (refused, timed out, authentication, unknown database).
    Connect,
    /// TLS was asked for; not supported yet.
    Tls,
    /// The server rejected a statement.
    Db,
    /// The statement was cancelled (SQLSTATE 57014: a cancel request or a statement_timeout).
    Cancelled,
    /// The connection is gone.
    Closed,
    /// Reading the data for COPY failed, or the socket failed.
    Io,
    /// Anything else the driver reported (unexpected message, decoding).
    Protocol,
}

/// An error from PostgreSQL or from talking to it.
///
/// `Display` is the message followed by ` (SQLSTATE xxxxx)` when the server sent one. Detail,
/// hint, the server's context lines, the 1-based character position and the failing
/// statement are kept separately for diagnostics. Never contains the password.
/// (Boxed inside, so a `Result<_, PgError>` stays one pointer wide.)
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PgError(Box<Inner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: PgErrorKind,
    message: String,
    sqlstate: Option<String>,
    detail: Option<String>,
    hint: Option<String>,
    context: Option<String>,
    position: Option<u32>,
    statement: Option<String>,
}

impl std::fmt::Display for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.sqlstate {
            write!(f, " (SQLSTATE {code})")?;
        }
        Ok(())
    }
}

impl PgError {
    pub(crate) fn new(kind: PgErrorKind, message: impl Into<String>) -> PgError {
        PgError(Box::new(Inner {
            kind,
            message: message.into(),
            sqlstate: None,
            detail: None,
            hint: None,
            context: None,
            position: None,
            statement: None,
        }))
    }

    /// Maps a driver error; `statement` is the SQL that was sent, if any.
    pub(crate) fn from_driver(err: &tokio_postgres::Error, statement: Option<&str>) -> PgError {
        let mut out = if let Some(db) = err.as_db_error() {
            let code = db.code().code().to_string();
            let kind = if code == "57014" {
                PgErrorKind::Cancelled
            } else {
                PgErrorKind::Db
            };
            PgError(Box::new(Inner {
                kind,
                message: db.message().to_string(),
                sqlstate: Some(code),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
                context: db.where_().map(str::to_string),
                position: match db.position() {
                    Some(ErrorPosition::Original(p)) => Some(*p),
                    _ => None,
                },
                statement: None,
            }))
        } else if err.is_closed() {
            PgError::new(
                PgErrorKind::Closed,
                "the connection to the server was closed",
            )
        } else {
            let kind = if err.source().is_some_and(|s| s.is::<std::io::Error>()) {
                PgErrorKind::Io
            } else {
                PgErrorKind::Protocol
            };
            PgError::new(kind, error_chain(err))
        };
        out.0.statement = statement.map(str::to_string);
        out
    }

    /// The same error with `statement` attached (replacing any statement already there).
    pub fn with_statement(mut self, statement: impl Into<String>) -> PgError {
        self.0.statement = Some(statement.into());
        self
    }

    pub(crate) fn with_kind_and_prefix(mut self, kind: PgErrorKind, prefix: &str) -> PgError {
        self.0.kind = kind;
        self.0.message = format!("{prefix}: {}", self.0.message);
        self
    }

    pub fn kind(&self) -> PgErrorKind {
        self.0.kind
    }

    /// The message alone, without the SQLSTATE.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The five-character SQLSTATE, when the server sent one.
    pub fn sqlstate(&self) -> Option<&str> {
        self.0.sqlstate.as_deref()
    }

    pub fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }

    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }

    /// The server's CONTEXT lines (e.g. the PL/pgSQL function or COPY line), if any.
    pub fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }

    /// PostgreSQL's 1-based CHARACTER index into [`statement`](Self::statement).
    pub fn position(&self) -> Option<u32> {
        self.0.position
    }

    /// The statement that failed, when one was running.
    pub fn statement(&self) -> Option<&str> {
        self.0.statement.as_deref()
    }

    /// [`position`](Self::position) as a byte offset into [`statement`](Self::statement).
    pub fn byte_offset(&self) -> Option<usize> {
        position_to_byte_offset(self.0.statement.as_deref()?, self.0.position?)
    }

    /// True for SQLSTATE 57014 (cancel request or statement_timeout).
    pub fn is_cancelled(&self) -> bool {
        self.0.kind == PgErrorKind::Cancelled
    }
}

/// `Display` of the error and of each source, joined by `: `, skipping repeats.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_accessors() {
        let mut e = PgError::new(PgErrorKind::Db, "relation \"nope\" does not exist");
        e.0.sqlstate = Some("42P01".into());
        e.0.position = Some(15);
        let e = e.with_statement("select * from nope");
        assert_eq!(
            e.to_string(),
            "relation \"nope\" does not exist (SQLSTATE 42P01)"
        );
        assert_eq!(e.byte_offset(), Some(14));
        assert_eq!(e.statement(), Some("select * from nope"));
        assert!(!e.is_cancelled());
        let plain = PgError::new(PgErrorKind::Io, "broken pipe");
        assert_eq!(plain.to_string(), "broken pipe");
        assert_eq!(plain.byte_offset(), None);
    }
}
