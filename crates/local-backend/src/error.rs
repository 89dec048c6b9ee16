//! Errors: [`BackendError`] for starting the backend (the only one callers see), and
//! `StoreError` for failures of the SQLite store inside an Auth or Firestore request, which
//! each surface turns into its own "internal error" shape. The Cleom API meets its stores
//! through REST, so its failures are `cleom_core::remote::RemoteError`s.

use std::io;
use std::path::PathBuf;

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot open the backend database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("the backend database has schema version {found}, newer than this build's {known}")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("cannot migrate the backend database: {0}")]
    Migration(String),
    #[error("the {surface} address is not usable: {source}")]
    Endpoint {
        surface: &'static str,
        #[source]
        source: cleom_core::remote::RemoteError,
    },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: io::Error,
    },
}

/// A storage failure while serving a request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the stored document {path} is unreadable: {reason}")]
    CorruptDocument { path: String, reason: String },
    #[error("the database task failed: {0}")]
    Task(String),
}
