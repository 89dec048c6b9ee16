//! The backend's one SQLite file: documents stored generically (as Firestore does), plus the
//! Auth accounts, sessions, the worker's job list and the media index.
//!
//! One connection behind a mutex serialises every request. That is plenty for one desktop user
//! and gives two properties the rest of the crate relies on: each mutation is one transaction,
//! and request times handed out under the lock are strictly increasing in commit order, so a
//! sync cursor on `updatedAt` can never skip a write that commits later with an earlier time.
//!
//! The file is plain (unencrypted) SQLite in WAL mode with `secure_delete` on, so that deleted
//! accounts leave no text behind in free pages.

use std::fs::OpenOptions;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{BackendError, StoreError};
use crate::value::{fields_from_json, fields_to_json, Fields, Timestamp, Value};

/// Bumped (with a new step in [`migrate`]) whenever the schema changes.
const SCHEMA_VERSION: i64 = 4;

const SCHEMA_V1: &str = "
CREATE TABLE docs (
    path TEXT PRIMARY KEY NOT NULL,
    parent TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    -- The document's top-level `updatedAt` field in microseconds when it is a timestamp: lets
    -- incremental-sync queries read only the documents past their cursor.
    updated_at_field INTEGER,
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL
);
CREATE INDEX docs_by_collection ON docs (parent, collection_id, updated_at_field);

CREATE TABLE auth_users (
    uid TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_salt BLOB NOT NULL,
    password_hash BLOB NOT NULL,
    display_name TEXT,
    created_at_ms INTEGER NOT NULL,
    last_login_at_ms INTEGER NOT NULL,
    password_updated_at_ms INTEGER NOT NULL,
    valid_since_s INTEGER NOT NULL
);

-- Only SHA-256 digests of tokens are stored, never the tokens.
CREATE TABLE auth_tokens (
    token_digest TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('id', 'refresh')),
    uid TEXT NOT NULL,
    expires_at_ms INTEGER,
    auth_time_ms INTEGER NOT NULL
);
CREATE INDEX auth_tokens_by_uid ON auth_tokens (uid);

-- Generations the worker still has to finish.
CREATE TABLE jobs (
    uid TEXT NOT NULL,
    generation_id TEXT NOT NULL,
    PRIMARY KEY (uid, generation_id)
);

-- Media written for a generation: data_dir/media/{token}/…
CREATE TABLE media (
    token TEXT PRIMARY KEY NOT NULL,
    uid TEXT NOT NULL,
    generation_id TEXT NOT NULL
);
CREATE INDEX media_by_generation ON media (uid, generation_id);
";

const SCHEMA_V2: &str = "
-- Small settings of the backend itself (e.g. the port it last listened on).
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
";

const SCHEMA_V3: &str = "
-- The worker's jobs became documents (`cleomJobs/…`, moved over by `move_jobs_to_documents`),
-- and media are found from the generations' URLs: the Cleom API reaches this file only
-- through the Firestore surface, like any other store.
DROP TABLE jobs;
DROP TABLE media;
";

const SCHEMA_V4: &str = "
-- Pending email action codes (`accounts:sendOobCode` with VERIFY_AND_CHANGE_EMAIL), kept as the
-- Auth emulator keeps them. The codes themselves are stored (not digests) because the admin
-- listing `/emulator/v1/projects/{p}/oobCodes` shows them, as the emulator's does.
CREATE TABLE auth_oob_codes (
    oob_code TEXT PRIMARY KEY NOT NULL,
    request_type TEXT NOT NULL,
    uid TEXT NOT NULL,
    email TEXT NOT NULL,
    new_email TEXT,
    oob_link TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
CREATE INDEX auth_oob_codes_by_uid ON auth_oob_codes (uid);

-- Set by a verified email change, cleared by an unverified one (as Firebase does).
ALTER TABLE auth_users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
";

/// The database, shared by the Auth and Firestore surfaces.
pub(crate) struct Store {
    db: Mutex<Db>,
}

/// The connection and the clock that hands out request times.
pub(crate) struct Db {
    conn: Connection,
    last_request_micros: i64,
}

/// A write transaction and its request time: every document it writes gets this `updateTime`.
pub(crate) struct Tx<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) now: Timestamp,
}

/// A document as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredDoc {
    /// Relative to the documents root, e.g. `users/abc/generations/g1`.
    pub(crate) path: String,
    pub(crate) fields: Fields,
    pub(crate) create_time: Timestamp,
    pub(crate) update_time: Timestamp,
}

impl Store {
    /// Opens (creating if needed) `path` with owner-only permissions and migrates it.
    pub(crate) fn open(path: &Path) -> Result<Store, BackendError> {
        let file_error = |source| BackendError::DataDir {
            path: path.to_path_buf(),
            source,
        };
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(path).map_err(file_error)?;
        restrict_file(path).map_err(file_error)?;

        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&conn)?;
        let last: Option<i64> =
            conn.query_row("SELECT max(update_time) FROM docs", [], |r| r.get(0))?;
        Ok(Store {
            db: Mutex::new(Db {
                conn,
                last_request_micros: last.unwrap_or(0),
            }),
        })
    }

    /// Runs `f` on the database from a blocking thread, so request handlers never block the
    /// async runtime on SQLite.
    pub(crate) async fn run<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Db) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // A panic in another request leaves the connection usable (its transaction was
            // rolled back when dropped), so a poisoned lock is not a reason to stop serving.
            let mut db = store
                .db
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut db)
        })
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }
}

impl Store {
    /// Runs `f` on the database on the current thread: for start-up, before serving.
    pub(crate) fn run_blocking<T>(&self, f: impl FnOnce(&mut Db) -> T) -> T {
        let mut db = self
            .db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut db)
    }
}

impl Db {
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The next request time: now, or one microsecond after the previous one if the clock has
    /// not moved (or went backwards).
    fn next_request_time(&mut self) -> Timestamp {
        let now = Timestamp::now().micros();
        let next = now.max(self.last_request_micros + 1);
        self.last_request_micros = next;
        Timestamp::from_micros(next)
    }

    /// Runs `f` in one immediate transaction, committed only if it returns `Ok`.
    pub(crate) fn write<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Tx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let now = self.next_request_time();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&Tx { conn: &tx, now })?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, rusqlite::Error> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), rusqlite::Error> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Moves everything in the WAL into the main file and empties the WAL, so deleted content
    /// does not linger in old WAL frames.
    pub(crate) fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

impl Tx<'_> {
    pub(crate) fn get(&self, path: &str) -> Result<Option<StoredDoc>, StoreError> {
        get_doc(self.conn, path)
    }

    /// Creates or replaces the document, keeping its `createTime` if it existed.
    pub(crate) fn set(&self, path: &str, fields: &Fields) -> Result<(), StoreError> {
        let create_time: Option<i64> = self
            .conn
            .query_row(
                "SELECT create_time FROM docs WHERE path = ?1",
                [path],
                |r| r.get(0),
            )
            .optional()?;
        let create_time = create_time.map(Timestamp::from_micros).unwrap_or(self.now);
        put_doc(self.conn, path, fields, create_time, self.now)
    }

    pub(crate) fn delete(&self, path: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM docs WHERE path = ?1", [path])?
            > 0)
    }
}

fn migrate(conn: &Connection) -> Result<(), BackendError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(BackendError::SchemaTooNew {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    // Append-only: each step takes the schema from `target - 1` to `target`.
    for (target, sql) in [
        (1, SCHEMA_V1),
        (2, SCHEMA_V2),
        (3, SCHEMA_V3),
        (4, SCHEMA_V4),
    ] {
        if version < target {
            let tx = conn.unchecked_transaction()?;
            if target == 3 {
                move_jobs_to_documents(&tx)?;
            }
            tx.execute_batch(&format!("{sql} PRAGMA user_version = {target};"))?;
            tx.commit()?;
        }
    }
    Ok(())
}

/// Schema 3: every row of the old `jobs` table becomes the job document the worker now reads.
fn move_jobs_to_documents(conn: &Connection) -> Result<(), BackendError> {
    let jobs: Vec<(String, String)> = {
        let mut statement = conn.prepare("SELECT uid, generation_id FROM jobs")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let now = Timestamp::now();
    for (uid, id) in jobs {
        let fields = Fields::from([
            ("uid".to_string(), Value::String(uid.clone())),
            ("generationId".to_string(), Value::String(id.clone())),
            ("createdAt".to_string(), Value::Timestamp(now)),
        ]);
        put_doc(
            conn,
            &crate::documents::job_path(&uid, &id),
            &fields,
            now,
            now,
        )
        .map_err(|e| BackendError::Migration(e.to_string()))?;
    }
    Ok(())
}

/// Makes a file readable and writable by its owner only.
pub(crate) fn restrict_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Makes a directory accessible by its owner only.
pub(crate) fn restrict_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `users/u/generations/g` → (`users/u`, `generations`); `users/u` → (``, `users`).
pub(crate) fn parent_and_collection(path: &str) -> Option<(&str, &str)> {
    let (collection_path, _id) = path.rsplit_once('/')?;
    Some(match collection_path.rsplit_once('/') {
        Some((parent, collection)) => (parent, collection),
        None => ("", collection_path),
    })
}

fn row_to_doc(
    path: String,
    fields_json: &str,
    create: i64,
    update: i64,
) -> Result<StoredDoc, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptDocument {
        path: path.clone(),
        reason,
    };
    let json: serde_json::Value =
        serde_json::from_str(fields_json).map_err(|e| corrupt(e.to_string()))?;
    let fields = fields_from_json(&json).map_err(|e| corrupt(e.0))?;
    Ok(StoredDoc {
        path,
        fields,
        create_time: Timestamp::from_micros(create),
        update_time: Timestamp::from_micros(update),
    })
}

pub(crate) fn get_doc(conn: &Connection, path: &str) -> Result<Option<StoredDoc>, StoreError> {
    let row = conn
        .query_row(
            "SELECT fields_json, create_time, update_time FROM docs WHERE path = ?1",
            [path],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    row.map(|(json, create, update)| row_to_doc(path.to_string(), &json, create, update))
        .transpose()
}

fn put_doc(
    conn: &Connection,
    path: &str,
    fields: &Fields,
    create_time: Timestamp,
    update_time: Timestamp,
) -> Result<(), StoreError> {
    let Some((parent, collection_id)) = parent_and_collection(path) else {
        return Err(StoreError::CorruptDocument {
            path: path.to_string(),
            reason: "not a document path".into(),
        });
    };
    let updated_at_field = match fields.get("updatedAt") {
        Some(Value::Timestamp(t)) => Some(t.micros()),
        _ => None,
    };
    conn.execute(
        "INSERT INTO docs (path, parent, collection_id, fields_json, updated_at_field, create_time, update_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (path) DO UPDATE SET fields_json = excluded.fields_json,
             updated_at_field = excluded.updated_at_field, create_time = excluded.create_time,
             update_time = excluded.update_time",
        params![
            path,
            parent,
            collection_id,
            fields_to_json(fields).to_string(),
            updated_at_field,
            create_time.micros(),
            update_time.micros()
        ],
    )?;
    Ok(())
}

/// Which documents of a collection to visit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scan {
    /// Only documents whose `updatedAt` is a timestamp at or after this instant.
    pub(crate) min_updated_at: Option<Timestamp>,
    /// Visit in ascending `updatedAt` order (then by path).
    pub(crate) ordered_by_updated_at: bool,
}

/// Calls `visit` with the documents directly in `parent`'s `collection_id` until it breaks.
pub(crate) fn scan_collection(
    conn: &Connection,
    parent: &str,
    collection_id: &str,
    scan: Scan,
    mut visit: impl FnMut(StoredDoc) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "SELECT path, fields_json, create_time, update_time FROM docs WHERE parent = ?1 AND collection_id = ?2",
    );
    if scan.min_updated_at.is_some() {
        sql.push_str(" AND updated_at_field >= ?3");
    }
    if scan.ordered_by_updated_at {
        sql.push_str(" ORDER BY updated_at_field, path");
    }
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = match scan.min_updated_at {
        Some(min) => statement.query(params![parent, collection_id, min.micros()])?,
        None => statement.query(params![parent, collection_id])?,
    };
    while let Some(row) = rows.next()? {
        let doc = row_to_doc(
            row.get(0)?,
            &row.get::<_, String>(1)?,
            row.get(2)?,
            row.get(3)?,
        )?;
        if visit(doc).is_break() {
            break;
        }
    }
    Ok(())
}

/// Up to `limit` documents directly in `parent`'s `collection_id`, in path order, starting
/// after the document at `after`. Within one collection, path order is document id order.
pub(crate) fn list_collection(
    conn: &Connection,
    parent: &str,
    collection_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredDoc>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT path, fields_json, create_time, update_time FROM docs
         WHERE parent = ?1 AND collection_id = ?2 AND path > ?3 ORDER BY path LIMIT ?4",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = statement.query(params![parent, collection_id, after.unwrap_or(""), limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(row_to_doc(
            row.get(0)?,
            &row.get::<_, String>(1)?,
            row.get(2)?,
            row.get(3)?,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_parent_and_collection() {
        assert_eq!(parent_and_collection("users/u"), Some(("", "users")));
        assert_eq!(
            parent_and_collection("users/u/generations/g"),
            Some(("users/u", "generations"))
        );
        assert_eq!(parent_and_collection("users"), None);
    }

    #[test]
    fn request_times_strictly_increase_even_within_one_microsecond() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let mut db = store.db.lock().unwrap();
        db.last_request_micros = Timestamp::now().micros() + 10_000_000;
        let a = db.next_request_time();
        let b = db.next_request_time();
        assert!(b > a);
    }

    #[test]
    fn schema_2_jobs_become_job_documents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "BEGIN; {SCHEMA_V1} {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
            ))
            .unwrap();
            conn.execute(
                "INSERT INTO jobs (uid, generation_id) VALUES ('u1', 'g1')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let db = store.db.lock().unwrap();
        let job = get_doc(db.conn(), &crate::documents::job_path("u1", "g1"))
            .unwrap()
            .expect("the job document");
        assert_eq!(job.fields["uid"], Value::String("u1".into()));
        assert_eq!(job.fields["generationId"], Value::String("g1".into()));
        let tables: i64 = db
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('jobs', 'media')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    #[test]
    fn collections_list_in_path_order_after_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        let mut db = store.db.lock().unwrap();
        db.write(|tx| -> Result<(), StoreError> {
            for path in [
                "users/a/g/2",
                "users/a/g/1",
                "users/a/h/1",
                "users/ab/g/1",
                "users/a/g/3",
            ] {
                tx.set(path, &Fields::new())?;
            }
            let paths = |docs: Vec<StoredDoc>| docs.into_iter().map(|d| d.path).collect::<Vec<_>>();
            assert_eq!(
                paths(list_collection(tx.conn, "users/a", "g", None, 10)?),
                ["users/a/g/1", "users/a/g/2", "users/a/g/3"]
            );
            assert_eq!(
                paths(list_collection(
                    tx.conn,
                    "users/a",
                    "g",
                    Some("users/a/g/1"),
                    1
                )?),
                ["users/a/g/2"]
            );
            Ok(())
        })
        .unwrap();
    }
}
