//! The local copy of one account's history: a SQLCipher database, one per account.
//!
//! Why this shape:
//! - Encrypted at rest with a random raw key that lives in the OS keychain, because prompts,
//!   thumbnails and credit history are personal and laptops get lost. One database per account,
//!   so wiping an account is deleting a file and two keychain entries, and accounts can never
//!   see each other's rows.
//! - [`Store::create`] refuses to run over an existing file and [`Store::open`] refuses a wrong
//!   key without writing anything, so a keychain hiccup can never replace or damage a history:
//!   a lost key is a typed error ([`StoreError::KeyRejected`]) with a recovery path (reset this
//!   device's copy and download it again from Cleom).
//! - Tombstoned generations are deleted, not flagged, with `secure_delete` on, so a prompt the
//!   user deleted does not linger in the file; its words leave the search index's segments at
//!   the next purge ([`Store::purge_deleted_search_entries`]), one pass for a whole batch.
//! - Library pages are keyset-paged, so the first page costs the same with 100 rows or 100,000.
//!   A generation's row number (`seq`) is its place in creation order (see [`library`] and
//!   migration 0002), so "newest first" is a walk down the table and full-text search hands out
//!   matches newest first by itself.
//! - Migrations are embedded and append-only; `PRAGMA user_version` counts those applied, and a
//!   database from a newer app version is refused rather than misread.
//!
//! The API is synchronous: SQLite calls take microseconds to milliseconds, and the caller owns
//! the threading (a `Mutex<Store>` behind a blocking task).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::{
    params, Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Transaction,
    TransactionBehavior,
};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::model::{Generation, LedgerEntry, Mode, Profile, Purchase, Status};
use crate::paths;
use crate::secret::{DatabaseKey, SecretString};

mod facets;
pub mod library;
mod outbox;
mod search;
mod set_aside;
#[cfg(test)]
mod tests;

pub use library::{
    Download, FacetCount, FacetCounts, Filters, ItemWithThumbnail, LibraryCursor, LibraryQuery,
    QueryPage, Sort, Thumbnail,
};
pub use outbox::{new_client_id, OutboxAction, OutboxEntry, OutboxState, ProfileField, Refusal};
pub use search::SnippetPart;
pub use set_aside::{SetAside, Unread};

/// Why the local history could not be used. Messages never contain the key.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("this account already has a local history on this device; it was left untouched")]
    AlreadyExists,
    #[error("this account has no local history on this device yet")]
    Missing,
    #[error(
        "the local history cannot be unlocked with the key saved in the keychain, or the file is \
         damaged. Resetting this device's copy downloads your history again from Cleom."
    )]
    KeyRejected,
    #[error(
        "the local history was written by a newer version of Cleom Desktop (schema {found}, this \
         version knows up to {known}); please update the app"
    )]
    TooNew { found: i64, known: i64 },
    #[error("the local history database could not be encrypted: {0}")]
    Encryption(&'static str),
    #[error("the local history holds data this version cannot read: {0}")]
    Corrupt(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("could not use {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("the local history database reported an error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl StoreError {
    /// A stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::AlreadyExists => "store.already_exists",
            StoreError::Missing => "store.missing",
            StoreError::KeyRejected => "store.key_rejected",
            StoreError::TooNew { .. } => "store.too_new",
            StoreError::Encryption(_) => "store.encryption",
            StoreError::Corrupt(_) => "store.corrupt",
            StoreError::InvalidInput(_) => "store.invalid_input",
            StoreError::Io { .. } => "store.io",
            StoreError::Database(_) => "store.database",
        }
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Schema migrations, in order. Append only: a shipped migration is never edited. The name's
/// number must be its position (checked by a test); `PRAGMA user_version` = how many ran.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0002_library", include_str!("migrations/0002_library.sql")),
    (
        "0003_thumbnail_wanted",
        include_str!("migrations/0003_thumbnail_wanted.sql"),
    ),
    ("0004_outbox", include_str!("migrations/0004_outbox.sql")),
    ("0005_active", include_str!("migrations/0005_active.sql")),
    (
        "0006_outbox_refused",
        include_str!("migrations/0006_outbox_refused.sql"),
    ),
    (
        "0007_set_aside",
        include_str!("migrations/0007_set_aside.sql"),
    ),
];

/// SQLite's page cache per connection, in KiB. The default (2 MiB) holds little of a 100,000
/// generation history; 32 MiB keeps the indexes the Library reads (and the pages it decrypted)
/// in memory, which is what makes searching while typing feel instant.
const CACHE_KIB: i64 = 32 * 1024;

/// A generation as the Library lists it: whether its thumbnail is stored tells the UI whether
/// to ask for it; `download` is where the user saved the clip on this device; `snippet` is the
/// matching text with the matched words marked, when the list is a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryItem {
    #[serde(flatten)]
    pub generation: Generation,
    pub has_thumbnail: bool,
    pub download: Option<Download>,
    pub snippet: Option<Vec<SnippetPart>>,
}

/// An open, unlocked, migrated history database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Filter values for counting, rebuilt when the data changed (see `facets`).
    facets: RefCell<Option<facets::FacetCache>>,
}

/// What one account's database holds (see [`Store::holdings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Holdings {
    pub generations: u64,
    pub thumbnails: u64,
    pub thumbnail_bytes: u64,
    pub ledger_entries: u64,
    pub purchases: u64,
    /// Clips the user saved on this device, and where.
    pub saved_clips: Vec<SavedClip>,
}

/// A clip saved on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SavedClip {
    pub generation_id: String,
    pub path: String,
}

/// How a database file is protected.
#[derive(Clone, Copy)]
enum Encryption<'a> {
    Key(&'a DatabaseKey),
    #[cfg(feature = "bench-plain")]
    PlainForBench,
}

impl Store {
    /// Creates a new, empty database at `path`, encrypted with `key`. Fails with
    /// [`StoreError::AlreadyExists`] if anything is at `path`: a new key must never be put over
    /// an existing history. Creates a missing parent folder as a private (0700) folder.
    pub fn create(path: &Path, key: &DatabaseKey) -> Result<Store> {
        Store::create_with(path, Encryption::Key(key), MIGRATIONS.len())
    }

    /// A database made by an older version of the app: only the first `migrations` migrations
    /// are applied. For upgrade tests.
    #[cfg(test)]
    pub(crate) fn create_at_version(
        path: &Path,
        key: &DatabaseKey,
        migrations: usize,
    ) -> Result<Store> {
        Store::create_with(path, Encryption::Key(key), migrations)
    }

    /// A plain, unencrypted database with the same schema and queries, for the benchmark that
    /// compares the two. Only compiled with the `bench-plain` feature, which the app never
    /// enables (the benchmark turns it on as a dev-dependency), so the app cannot make one.
    #[cfg(feature = "bench-plain")]
    pub fn create_plain_for_bench(path: &Path) -> Result<Store> {
        Store::create_with(path, Encryption::PlainForBench, MIGRATIONS.len())
    }

    /// Opens a database made by [`Store::create_plain_for_bench`].
    #[cfg(feature = "bench-plain")]
    pub fn open_plain_for_bench(path: &Path) -> Result<Store> {
        Store::connect(path, Encryption::PlainForBench, MIGRATIONS.len())
    }

    fn create_with(path: &Path, encryption: Encryption<'_>, migrations: usize) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.exists() {
                paths::make_private_dir(parent).map_err(StoreError::io(parent))?;
            }
        }
        // Creating the file ourselves, exclusively and 0600, closes the race with a second
        // creator and means the file is never readable by others, not even for a moment.
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists)
            }
            Err(e) => return Err(StoreError::io(path)(e)),
        }
        Store::connect(path, encryption, migrations).inspect_err(|_| {
            // Leave nothing half-made behind, so a retry is a clean create.
            let _ = destroy(path);
        })
    }

    /// Opens the existing database at `path`. Fails with [`StoreError::Missing`] if there is
    /// none and [`StoreError::KeyRejected`] if `key` does not unlock it (nothing is written then).
    pub fn open(path: &Path, key: &DatabaseKey) -> Result<Store> {
        match path.try_exists() {
            Ok(true) => Store::connect(path, Encryption::Key(key), MIGRATIONS.len()),
            Ok(false) => Err(StoreError::Missing),
            Err(e) => Err(StoreError::io(path)(e)),
        }
    }

    fn connect(path: &Path, encryption: Encryption<'_>, migrations: usize) -> Result<Store> {
        // Never SQLITE_OPEN_CREATE: `create` made the file, and `open` must not invent one.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;

        match encryption {
            Encryption::Key(key) => {
                // Without SQLCipher compiled in, `PRAGMA key` is silently ignored and the file
                // would be plain text. Refuse instead.
                let cipher: Option<String> = conn
                    .query_row("PRAGMA cipher_version", [], |r| r.get(0))
                    .optional()?;
                if cipher.is_none_or(|v| v.is_empty()) {
                    return Err(StoreError::Encryption(
                        "this build of Cleom Desktop has no database encryption",
                    ));
                }
                set_key(&conn, key)?;
                // SQLCipher otherwise writes to stderr on every wrong key. A process-wide setting.
                conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))?;
            }
            #[cfg(feature = "bench-plain")]
            Encryption::PlainForBench => {}
        }

        // A wrong key is only noticed when the first page is read.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
                return Err(StoreError::KeyRejected)
            }
            Err(e) => return Err(e.into()),
        }

        let journal: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !journal.eq_ignore_ascii_case("wal") {
            let source = io::Error::other(format!(
                "the file system does not support write-ahead logging ({journal})"
            ));
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA synchronous = NORMAL;
             PRAGMA secure_delete = ON;",
        )?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        migrate(&mut conn, migrations)?;

        paths::set_mode(path, 0o600).map_err(StoreError::io(path))?;
        for sidecar in sidecars(path) {
            if sidecar.exists() {
                paths::set_mode(&sidecar, 0o600).map_err(StoreError::io(&sidecar))?;
            }
        }
        Ok(Store {
            conn,
            facets: RefCell::new(None),
        })
    }

    /// Applies synced generations in one transaction; tombstoned ones (`deleted`) are removed
    /// together with their thumbnail and search entry. Returns how many were applied.
    /// The last write wins: callers apply server changes in `updatedAt` order.
    pub fn upsert_generations(&mut self, generations: &[Generation]) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_generations(&tx, generations)?;
        tx.commit()?;
        Ok(generations.len())
    }

    /// Applies one synced page and saves the sync cursor that follows it in the same
    /// transaction, so an interrupted sync never skips or repeats a page. Answers the
    /// generations this page finished: queued or running here before, succeeded or failed now.
    pub fn apply_generations_page(
        &mut self,
        generations: &[Generation],
        unread: &Unread,
        cursor_name: &str,
        cursor: &str,
    ) -> Result<Vec<Generation>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let finished = write_generations(&tx, generations)?;
        set_aside::write_unread(&tx, unread)?;
        write_cursor(&tx, cursor_name, cursor)?;
        tx.commit()?;
        Ok(finished)
    }

    /// True while any generation is queued or running.
    pub fn has_active_generations(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM generations WHERE status IN ('queued', 'running'))",
            [],
            |r| r.get(0),
        )?)
    }

    pub fn generation(&self, id: &str) -> Result<Option<Generation>> {
        let sql = format!("SELECT {GENERATION_COLUMNS} FROM generations WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(read_generation).transpose()
    }

    pub fn count_generations(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM generations", [], |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }

    /// Finished generations that have a thumbnail URL but no stored thumbnail yet, newest first:
    /// `(id, thumbnail_url)`, for the thumbnail fetcher.
    pub fn generations_missing_thumbnail(&self, limit: usize) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, thumbnail_url FROM generations INDEXED BY generations_thumbnail_wanted
             WHERE has_thumbnail = 0 AND status = 'succeeded' AND deleted = 0
               AND thumbnail_url IS NOT NULL
             ORDER BY seq DESC LIMIT ?1",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a generation's thumbnail. Returns `false` (and stores nothing) if the generation is
    /// no longer there, e.g. a sync removed it while the image was downloading.
    pub fn put_thumbnail(&self, id: &str, mime: &str, bytes: &[u8]) -> Result<bool> {
        let fetched_at = now()?;
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO thumbnails (generation_id, mime, bytes, fetched_at)
             SELECT id, ?2, ?3, ?4 FROM generations WHERE id = ?1
             ON CONFLICT (generation_id) DO UPDATE SET
                 mime = excluded.mime, bytes = excluded.bytes, fetched_at = excluded.fetched_at",
            )?
            .execute(params![id, mime, bytes, fetched_at])?;
        Ok(changed > 0)
    }

    /// A stored thumbnail: `(mime type, bytes)`.
    pub fn thumbnail(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT mime, bytes FROM thumbnails WHERE generation_id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Saves the account's profile. A profile of another account is refused: one database
    /// belongs to one account.
    pub fn put_profile(&self, profile: &Profile) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO profile (singleton, uid, email, display_name, credit_balance, analytics_opt_in,
                     created_at, updated_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (singleton) DO UPDATE SET
                     email = excluded.email, display_name = excluded.display_name,
                     credit_balance = excluded.credit_balance, analytics_opt_in = excluded.analytics_opt_in,
                     created_at = excluded.created_at, updated_at = excluded.updated_at
                 WHERE profile.uid = excluded.uid",
            )?
            .execute(params![
                profile.uid,
                profile.email,
                profile.display_name,
                profile.credit_balance,
                profile.analytics_opt_in,
                profile.created_at,
                profile.updated_at,
            ])?;
        if changed == 0 {
            return Err(StoreError::InvalidInput(
                "this profile belongs to a different account than this local history".to_string(),
            ));
        }
        Ok(())
    }

    pub fn profile(&self) -> Result<Option<Profile>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT uid, email, display_name, credit_balance, analytics_opt_in, created_at, updated_at
                 FROM profile",
            )?
            .query_row([], |r| {
                Ok(Profile {
                    uid: r.get(0)?,
                    email: r.get(1)?,
                    display_name: r.get(2)?,
                    credit_balance: r.get(3)?,
                    analytics_opt_in: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                })
            })
            .optional()?)
    }

    /// Applies synced ledger entries in one transaction. Returns how many were applied.
    pub fn upsert_ledger(&mut self, entries: &[LedgerEntry]) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_ledger(&tx, entries)?;
        tx.commit()?;
        Ok(entries.len())
    }

    /// Applies one synced page of ledger entries and the cursor after it in one transaction.
    pub fn apply_ledger_page(
        &mut self,
        entries: &[LedgerEntry],
        unread: &Unread,
        cursor_name: &str,
        cursor: &str,
    ) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_ledger(&tx, entries)?;
        set_aside::write_unread(&tx, unread)?;
        write_cursor(&tx, cursor_name, cursor)?;
        tx.commit()?;
        Ok(entries.len())
    }

    /// The whole credit ledger, oldest first, so `balance_after` reads like a statement.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, amount, reason, generation_id, balance_after, created_at, updated_at
             FROM credit_ledger ORDER BY created_key, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(LedgerEntry {
                id: r.get(0)?,
                amount: r.get(1)?,
                reason: r.get(2)?,
                generation_id: r.get(3)?,
                balance_after: r.get(4)?,
                created_at: r.get(5)?,
                updated_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies synced purchases in one transaction. Returns how many were applied.
    pub fn upsert_purchases(&mut self, purchases: &[Purchase]) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_purchases(&tx, purchases)?;
        tx.commit()?;
        Ok(purchases.len())
    }

    /// Applies one synced page of purchases and the cursor after it in one transaction.
    pub fn apply_purchases_page(
        &mut self,
        purchases: &[Purchase],
        unread: &Unread,
        cursor_name: &str,
        cursor: &str,
    ) -> Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_purchases(&tx, purchases)?;
        set_aside::write_unread(&tx, unread)?;
        write_cursor(&tx, cursor_name, cursor)?;
        tx.commit()?;
        Ok(purchases.len())
    }

    /// Every purchase, oldest first.
    pub fn purchases(&self) -> Result<Vec<Purchase>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, credits, amount_cents, currency, created_at, updated_at
             FROM purchases ORDER BY created_key, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Purchase {
                id: r.get(0)?,
                credits: r.get(1)?,
                amount_cents: r.get(2)?,
                currency: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rewrites the search index without the words of deleted generations, if any were deleted
    /// since the last purge (a deletion removes its entries from searches at once, but their
    /// words stay in the index's segments until they are merged). One pass, seconds at most on
    /// 100,000 generations, for any number of deletions. Returns whether it ran.
    pub fn purge_deleted_search_entries(&mut self) -> Result<bool> {
        if self.cursor(SEARCH_PURGE_KEY)?.is_none() {
            return Ok(false);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO generations_fts (generations_fts) VALUES ('optimize')",
            [],
        )?;
        tx.execute("DELETE FROM sync_state WHERE key = ?1", [SEARCH_PURGE_KEY])?;
        tx.commit()?;
        Ok(true)
    }

    /// Where the user saved generation `id`'s clip on this device, if they did.
    pub fn saved_clip_path(&self, id: &str) -> Result<Option<PathBuf>> {
        let path: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT local_file FROM generations WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(path.flatten().map(PathBuf::from))
    }

    /// Every file the user saved a clip into, as recorded (see [`Store::record_download`]).
    pub fn saved_clip_paths(&self) -> Result<HashSet<PathBuf>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT local_file FROM generations WHERE local_file IS NOT NULL")?;
        let paths = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|path| path.map(PathBuf::from))
            .collect::<Result<_, _>>()?;
        Ok(paths)
    }

    /// What this database holds, counted, for the "everything we store about you" view.
    pub fn holdings(&self) -> Result<Holdings> {
        let count = |sql: &str| -> Result<u64> {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0))?;
            Ok(n.unsigned_abs())
        };
        let mut stmt = self.conn.prepare(
            "SELECT id, local_file FROM generations WHERE local_file IS NOT NULL ORDER BY seq DESC",
        )?;
        let saved_clips = stmt
            .query_map([], |r| {
                Ok(SavedClip {
                    generation_id: r.get(0)?,
                    path: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Holdings {
            generations: count("SELECT count(*) FROM generations")?,
            thumbnails: count("SELECT count(*) FROM thumbnails")?,
            thumbnail_bytes: count("SELECT coalesce(sum(length(bytes)), 0) FROM thumbnails")?,
            ledger_entries: count("SELECT count(*) FROM credit_ledger")?,
            purchases: count("SELECT count(*) FROM purchases")?,
            saved_clips,
        })
    }

    /// Remembers that the user saved generation `id`'s clip at `path` on this device (for the
    /// Library's "downloaded" filter and "Show in folder"). Returns `false` if the generation is
    /// not there. Local only: sync never changes it.
    pub fn record_download(&self, id: &str, path: &Path) -> Result<bool> {
        let path = path.to_str().ok_or_else(|| {
            StoreError::InvalidInput(format!(
                "the file name {} cannot be stored (it is not valid Unicode)",
                path.display()
            ))
        })?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE generations SET local_file = ?2, downloaded_at = ?3, has_download = 1
                 WHERE id = ?1",
            )?
            .execute(params![id, path, now()?])?;
        Ok(changed > 0)
    }

    /// Forgets where a clip was saved (the user moved or deleted the file). Returns `false` if
    /// nothing was recorded.
    pub fn forget_download(&self, id: &str) -> Result<bool> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE generations SET local_file = NULL, downloaded_at = NULL, has_download = 0
                 WHERE id = ?1 AND local_file IS NOT NULL",
            )?
            .execute([id])?;
        Ok(changed > 0)
    }

    /// A named sync cursor, if one was saved.
    pub fn cursor(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    pub fn set_cursor(&self, name: &str, value: &str) -> Result<()> {
        write_cursor(&self.conn, name, value)
    }

    /// Calls `f` with every generation, oldest first, one row at a time (constant memory, for
    /// export). Stops at the first error `f` returns and passes it on.
    pub fn for_each_generation<E, F>(&self, mut f: F) -> Result<(), E>
    where
        E: From<StoreError>,
        F: FnMut(Generation) -> Result<(), E>,
    {
        let sql = format!("SELECT {GENERATION_COLUMNS} FROM generations ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt.query([]).map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            f(read_generation(row)?)?;
        }
        Ok(())
    }
}

/// Writes synced generations inside `tx`; tombstones remove the row (its thumbnail and search
/// entry go with it). Where the user saved a clip (`local_file`) is this device's own and is
/// kept across updates. Answers the generations that finished with this write (they were
/// queued or running here before and succeeded or failed now), for the desktop notification.
fn write_generations(tx: &Transaction<'_>, generations: &[Generation]) -> Result<Vec<Generation>> {
    let mut remove = tx.prepare_cached("DELETE FROM generations WHERE id = ?1")?;
    // A generation the user deleted here waits in the outbox; the server's older copy must not
    // bring it back meanwhile. (Checked only when some delete waits: the usual case is none.)
    let deletes_wait = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = 'delete_generation' AND state = 'pending')",
        )?
        .query_row([], |r| r.get::<_, bool>(0))?;
    let mut finished = Vec::new();
    for g in generations {
        if g.deleted {
            if remove.execute([&g.id])? > 0 {
                write_cursor(tx, SEARCH_PURGE_KEY, "due")?;
            }
            continue;
        }
        if deletes_wait && outbox::delete_is_pending(tx, &g.id)? {
            continue;
        }
        let was = write_generation(tx, g)?;
        let was_active = was
            .is_some_and(|was| was == Status::Queued.as_str() || was == Status::Running.as_str());
        if was_active && matches!(g.status, Status::Succeeded | Status::Failed) {
            finished.push(g.clone());
        }
    }
    Ok(finished)
}

/// A new generation's row. The same columns, in the same order, as [`UPDATE_GENERATION`]: ?1
/// is seq, ?2 the id.
const INSERT_GENERATION: &str =
    "INSERT INTO generations (seq, id, prompt, mode, status, progress, credits_charged,
         duration_seconds, resolution, aspect_ratio, style_preset, subject, pacing,
         voice_language, voice_type, voice_script, music, subtitles, settings_json,
         references_json, output_url, thumbnail_url, error, created_at, created_key,
         updated_at, deleted, deleted_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
         ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, 0, NULL)";

/// A known generation's row, rewritten (all but the device's own `local_file` and download).
const UPDATE_GENERATION: &str =
    "UPDATE generations SET seq = ?1, prompt = ?3, mode = ?4, status = ?5, progress = ?6,
         credits_charged = ?7, duration_seconds = ?8, resolution = ?9, aspect_ratio = ?10,
         style_preset = ?11, subject = ?12, pacing = ?13, voice_language = ?14,
         voice_type = ?15, voice_script = ?16, music = ?17, subtitles = ?18,
         settings_json = ?19, references_json = ?20, output_url = ?21, thumbnail_url = ?22,
         error = ?23, created_at = ?24, created_key = ?25, updated_at = ?26
     WHERE id = ?2";

/// Writes one synced generation that is not deleted: its row updated in place, or, when it is
/// new or its creation time changed, at its place in creation order. Answers the status it had
/// here before, if it was here.
fn write_generation(tx: &Transaction<'_>, g: &Generation) -> Result<Option<String>> {
    let created_key = time_key(&g.created_at).map_err(|e| invalid(&g.id, e))?;
    let settings = serde_json::to_string(&g.settings).map_err(|e| invalid(&g.id, e))?;
    let references = serde_json::to_string(&g.references).map_err(|e| invalid(&g.id, e))?;
    let found: Option<(i64, i64, String)> = tx
        .prepare_cached("SELECT seq, created_key, status FROM generations WHERE id = ?1")?
        .query_row([&g.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let seq = match &found {
        Some((seq, key, _)) if *key == created_key => *seq,
        Some(_) => {
            // The creation time changed (the server corrected it): move the row out of its
            // place first, so making room at the new place cannot collide with it.
            tx.prepare_cached("UPDATE generations SET seq = ?2 WHERE id = ?1")?
                .execute(params![g.id, PARKED_SEQ])?;
            place(tx, &g.id, created_key, &g.created_at)?
        }
        None => place(tx, &g.id, created_key, &g.created_at)?,
    };
    let voice = g.settings.voice_over.as_ref();
    let values = params![
        seq,
        g.id,
        g.prompt,
        g.mode.as_str(),
        g.status.as_str(),
        g.progress,
        g.credits_charged,
        g.settings.duration_seconds,
        g.settings.resolution.as_str(),
        g.settings.aspect_ratio.as_str(),
        g.settings.style_preset,
        g.settings.subject.and_then(|v| wire_name(&v)),
        g.settings.pacing.and_then(|v| wire_name(&v)),
        voice.map(|v| v.language.as_str()),
        voice.map(|v| v.voice.as_str()),
        voice.and_then(|v| v.script.as_deref()),
        g.settings.music,
        g.settings.subtitles,
        settings,
        references,
        g.output_url,
        g.thumbnail_url,
        g.error,
        g.created_at,
        created_key,
        g.updated_at,
    ];
    let write = if found.is_some() {
        UPDATE_GENERATION
    } else {
        INSERT_GENERATION
    };
    tx.prepare_cached(write)?.execute(values)?;
    Ok(found.map(|(_, _, status)| status))
}

/// The `sync_state` key set while deleted generations' words wait in the search index.
pub(crate) const SEARCH_PURGE_KEY: &str = "search.purge";

/// How many generations of the same microsecond can be told apart (see migration 0002).
pub(crate) const SLOTS: i64 = 1024;
/// The largest microsecond count (by absolute value) that keeps `seq` within 64 bits.
const MAX_MICROS: i64 = (1 << 53) - 1;
/// A `seq` no placed row can have (placed rows start at `-MAX_MICROS * SLOTS`): where a row
/// waits while it moves.
const PARKED_SEQ: i64 = i64::MIN;

/// The first `seq` of the microsecond of `created_key` (Unix nanoseconds).
pub(crate) fn seq_floor(created_key: i64) -> i64 {
    created_key.div_euclid(1000).clamp(-MAX_MICROS, MAX_MICROS) * SLOTS
}

/// Finds the `seq` for a new generation so that `seq` order stays (created_key, id) order:
/// the first slot of its microsecond, or, when others share that microsecond, the slot between
/// its neighbours, moving the later ones up by one if there is no gap.
fn place(tx: &Transaction<'_>, id: &str, created_key: i64, created_at: &str) -> Result<i64> {
    let first = seq_floor(created_key);
    let last = first + (SLOTS - 1);
    let mut stmt = tx.prepare_cached(
        "SELECT seq, created_key, id FROM generations WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
    )?;
    let taken = stmt
        .query_map([first, last], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let full = || {
        StoreError::InvalidInput(format!(
            "more than {SLOTS} generations were created at the same instant ({created_at});              the local history cannot order them"
        ))
    };
    let Some(later) = taken
        .iter()
        .position(|(_, key, other)| (*key, other.as_str()) > (created_key, id))
    else {
        // Usually the microsecond is empty, or this one is the latest in it.
        return match taken.last() {
            None => Ok(first),
            Some((seq, _, _)) if *seq < last => Ok(seq + 1),
            Some(_) => Err(full()),
        };
    };
    let before = if later == 0 {
        first - 1
    } else {
        taken[later - 1].0
    };
    let at = taken[later].0;
    if at - before > 1 {
        return Ok(before + 1);
    }
    // No gap: move the consecutive run that starts at `at` up by one, from its top down.
    let mut end = later;
    while end + 1 < taken.len() && taken[end + 1].0 == taken[end].0 + 1 {
        end += 1;
    }
    if taken[end].0 >= last {
        return Err(full());
    }
    let mut shift = tx.prepare_cached("UPDATE generations SET seq = seq + 1 WHERE seq = ?1")?;
    for (seq, _, _) in taken[later..=end].iter().rev() {
        shift.execute([seq])?;
    }
    Ok(at)
}

/// The wire name of a unit enum (e.g. `Subject::Person` is "Person").
fn wire_name<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Some(name),
        _ => None,
    }
}

fn write_ledger(tx: &Transaction<'_>, entries: &[LedgerEntry]) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO credit_ledger (id, amount, reason, generation_id, balance_after, created_at,
             created_key, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
             amount = excluded.amount, reason = excluded.reason, generation_id = excluded.generation_id,
             balance_after = excluded.balance_after, created_at = excluded.created_at,
             created_key = excluded.created_key, updated_at = excluded.updated_at",
    )?;
    for e in entries {
        upsert.execute(params![
            e.id,
            e.amount,
            e.reason,
            e.generation_id,
            e.balance_after,
            e.created_at,
            time_key(&e.created_at).map_err(|err| invalid(&e.id, err))?,
            e.updated_at,
        ])?;
    }
    Ok(())
}

fn write_purchases(tx: &Transaction<'_>, purchases: &[Purchase]) -> Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO purchases (id, credits, amount_cents, currency, created_at, created_key,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET
             credits = excluded.credits, amount_cents = excluded.amount_cents,
             currency = excluded.currency, created_at = excluded.created_at,
             created_key = excluded.created_key, updated_at = excluded.updated_at",
    )?;
    for p in purchases {
        upsert.execute(params![
            p.id,
            p.credits,
            p.amount_cents,
            p.currency,
            p.created_at,
            time_key(&p.created_at).map_err(|err| invalid(&p.id, err))?,
            p.updated_at,
        ])?;
    }
    Ok(())
}

/// The current time, RFC 3339.
fn now() -> Result<String> {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .map_err(|e| StoreError::InvalidInput(format!("the clock gave an unusable time: {e}")))
}

fn write_cursor(conn: &Connection, name: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([name, value])?;
    Ok(())
}

/// Deletes a database and its -wal/-shm/-journal files. Missing files are fine, so an
/// interrupted wipe can simply be run again. Close the [`Store`] first.
pub fn destroy(path: &Path) -> Result<()> {
    for file in std::iter::once(path.to_path_buf()).chain(sidecars(path)) {
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::io(&file)(e)),
        }
    }
    Ok(())
}

/// The files SQLite keeps next to a database.
fn sidecars(path: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

fn set_key(conn: &Connection, key: &DatabaseKey) -> Result<()> {
    let pragma = key.to_pragma();
    const HEAD: &str = "PRAGMA key = \"";
    const TAIL: &str = "\";";
    // Sized up front so the statement, which contains the key, is never reallocated.
    let mut sql = String::with_capacity(HEAD.len() + pragma.expose().len() + TAIL.len());
    sql.push_str(HEAD);
    sql.push_str(pragma.expose());
    sql.push_str(TAIL);
    let sql = SecretString::new(sql);
    // The error text could quote the statement, and so the key: report only that it failed.
    conn.execute_batch(sql.expose())
        .map_err(|_| StoreError::Encryption("SQLCipher did not accept the key"))
}

/// Applies the migrations after `PRAGMA user_version`, up to the first `upto` of them.
fn migrate(conn: &mut Connection, upto: usize) -> Result<()> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let version = |conn: &Connection| -> Result<i64> {
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        Ok(found)
    };
    let applied = usize::try_from(version(conn)?).unwrap_or(0);
    if applied >= upto {
        return Ok(());
    }
    // A migration may rebuild a table that others reference (SQLite's documented procedure for
    // changes ALTER TABLE cannot make); with foreign keys on, dropping the old table would
    // cascade. The pragma has no effect inside a transaction, so it is switched around them,
    // and every migration checks the references itself before it commits.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let migrated = (|| -> Result<()> {
        for (number, (name, sql)) in (1..).zip(&MIGRATIONS[..upto]).skip(applied) {
            // IMMEDIATE: a second app instance migrating at the same time waits instead of
            // racing, and then sees that the work is done.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if version(&tx)? >= number {
                continue;
            }
            tx.execute_batch(sql)?;
            let dangling: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if dangling > 0 {
                return Err(StoreError::Corrupt(format!(
                    "migration {name} would leave {dangling} dangling references"
                )));
            }
            tx.pragma_update(None, "user_version", number)?;
            tx.commit()?;
        }
        Ok(())
    })();
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    migrated
}

/// An RFC 3339 time as Unix nanoseconds, the sort key of creation times.
fn time_key(rfc3339: &str) -> Result<i64, String> {
    let time = OffsetDateTime::parse(rfc3339, &Rfc3339)
        .map_err(|_| format!("{rfc3339:?} is not an RFC 3339 time"))?;
    i64::try_from(time.unix_timestamp_nanos()).map_err(|_| format!("{rfc3339:?} is out of range"))
}

fn invalid(id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::InvalidInput(format!("item {id:?} cannot be stored: {reason}"))
}

const GENERATION_COLUMNS: &str = "id, prompt, mode, settings_json, references_json, status, progress, \
     credits_charged, output_url, thumbnail_url, error, created_at, updated_at, deleted, deleted_at";

/// GENERATION_COLUMNS, then whether the thumbnail is stored and where the clip was saved.
const LIBRARY_COLUMNS: &str = "id, prompt, mode, settings_json, references_json, status, progress, \
     credits_charged, output_url, thumbnail_url, error, created_at, updated_at, deleted, deleted_at, \
     EXISTS (SELECT 1 FROM thumbnails t WHERE t.generation_id = generations.id), \
     local_file, downloaded_at";

fn read_library_item(row: &Row<'_>) -> Result<LibraryItem> {
    let local_file: Option<String> = row.get(16)?;
    let downloaded_at: Option<String> = row.get(17)?;
    Ok(LibraryItem {
        generation: read_generation(row)?,
        has_thumbnail: row.get(15)?,
        download: local_file.map(|path| Download {
            path,
            saved_at: downloaded_at.unwrap_or_default(),
        }),
        snippet: None,
    })
}

fn read_generation(row: &Row<'_>) -> Result<Generation> {
    let id: String = row.get(0)?;
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("generation {id:?} has an unreadable {what}"));
    let mode: String = row.get(2)?;
    let settings: String = row.get(3)?;
    let references: String = row.get(4)?;
    let status: String = row.get(5)?;
    Ok(Generation {
        prompt: row.get(1)?,
        mode: Mode::parse(&mode).ok_or_else(|| corrupt("mode"))?,
        settings: serde_json::from_str(&settings).map_err(|_| corrupt("settings"))?,
        references: serde_json::from_str(&references).map_err(|_| corrupt("reference list"))?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status"))?,
        progress: row.get(6)?,
        credits_charged: row.get(7)?,
        output_url: row.get(8)?,
        thumbnail_url: row.get(9)?,
        error: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
        deleted: row.get(13)?,
        deleted_at: row.get(14)?,
        id,
    })
}
