//! Documents a sync could not read, kept with the reason.
//!
//! One malformed document from the server (a wrong type, a NaN progress) must not stall the
//! sync for ever, nor be dropped unnoticed: the rest of its page is stored and the cursor moves
//! on, the document is kept here with why it could not be read, the app says how many there
//! are, and the document leaves this list when a later sync reads it — the server changed it,
//! so it came again with a newer `updatedAt`. The page, its cursor and this list change in one
//! transaction.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::{now, Result, Store};

/// A document the sync could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SetAside {
    /// `generations`, `creditLedger` or `purchases`.
    pub collection: String,
    /// The document's full name.
    pub document: String,
    /// Why it could not be read, in words.
    pub reason: String,
}

/// What reading a page found besides its items: the documents that were read (no longer set
/// aside, if they were) and those set aside now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unread {
    pub collection: &'static str,
    pub read: Vec<String>,
    pub set_aside: Vec<SetAside>,
}

impl Store {
    /// How many documents are set aside, and the reason of the latest one.
    pub fn set_aside_summary(&self) -> Result<(u64, Option<String>)> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM set_aside", [], |r| r.get(0))?;
        let latest = self
            .conn
            .prepare_cached(
                "SELECT reason FROM set_aside ORDER BY set_aside_at DESC, document LIMIT 1",
            )?
            .query_row([], |r| r.get(0))
            .ok();
        Ok((count.unsigned_abs(), latest))
    }

    /// Every document set aside, by collection and name.
    pub fn set_aside(&self) -> Result<Vec<SetAside>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT collection, document, reason FROM set_aside ORDER BY collection, document",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SetAside {
                collection: r.get(0)?,
                document: r.get(1)?,
                reason: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Records `unread` (inside the page's transaction).
pub(super) fn write_unread(conn: &Connection, unread: &Unread) -> Result<()> {
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM set_aside WHERE collection = ?1)")?
        .query_row([unread.collection], |r| r.get(0))?;
    if any {
        let mut read =
            conn.prepare_cached("DELETE FROM set_aside WHERE collection = ?1 AND document = ?2")?;
        for document in &unread.read {
            read.execute([unread.collection, document])?;
        }
    }
    if !unread.set_aside.is_empty() {
        let at = now()?;
        let mut put = conn.prepare_cached(
            "INSERT INTO set_aside (collection, document, reason, set_aside_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (collection, document)
             DO UPDATE SET reason = excluded.reason, set_aside_at = excluded.set_aside_at",
        )?;
        for item in &unread.set_aside {
            put.execute(params![item.collection, item.document, item.reason, at])?;
        }
    }
    Ok(())
}
