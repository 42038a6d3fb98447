//! mart_postgres: mart's connection layer for PostgreSQL, on tokio-postgres.
//!
//! What it does:
//! - connects from a [`ConnectionConfig`] (plain TCP or a Unix socket; the password never
//!   shows in `Debug` output or error messages);
//! - runs statements ([`Connection::execute`]), lists of statements in ONE transaction
//!   ([`Connection::execute_in_transaction`]) and text queries ([`Connection::query`]);
//! - streams data to `COPY ... FROM STDIN` in large chunks ([`Connection::copy_in`]), or
//!   chunk by chunk as the caller produces it ([`CopyWriter`]);
//! - looks up a relation's kind and columns in the catalog, with bound parameters;
//! - shares a connection's server session with template queries made while it builds a
//!   node ([`SessionHandle`]);
//! - cancels the running query from another task ([`CancelHandle`], for Ctrl-C);
//! - returns one typed [`PgError`] carrying SQLSTATE, detail, hint, the 1-based character
//!   position and the failing statement; [`position_to_byte_offset`] maps that position
//!   into the statement text.
//!
//! What it does not do (yet): TLS (an `sslmode` of `require`/`verify-*` is refused with a
//! clear error), connection pooling, building SQL (that is `mart_adapter`), rendering
//! diagnostics, printing or logging. Every function must run inside a tokio runtime.

mod config;
mod connection;
mod copy;
mod error;
mod position;
mod session;

pub use config::ConnectionConfig;
pub use connection::{CancelHandle, Connection, QueryResult, COPY_CHUNK_BYTES};
pub use copy::CopyWriter;
pub use error::{PgError, PgErrorKind};
pub use mart_adapter::RelationKind;
pub use position::position_to_byte_offset;
pub use session::{ResultColumn, SessionHandle};
