//! Brings this device's store up to the server's state.
//!
//! Each collection is pulled incrementally: `updatedAt >= cursor`, ordered by `updatedAt` and
//! document name, in pages that start just after the last document stored. A page and the
//! cursor that follows it are stored in one transaction, so a sync stopped at any point (a
//! lost connection, a killed process) resumes where it stopped and never skips or doubles a
//! change. Deletions arrive as tombstones (`deleted: true`) and remove the local row.

use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::error::Result;
use crate::remote::documents;
use crate::remote::firestore::{Direction, Document, FieldOp, StructuredQuery, Value};
use crate::remote::Remote;
use crate::secret::SecretString;

/// Documents per page: large enough that an initial sync takes few requests.
const PAGE_SIZE: u32 = 500;
/// Thumbnails fetched per sync, so one sync stays short; the rest come with the next.
const THUMBNAILS_PER_SYNC: usize = 50;

/// What one sync changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub profile_changed: bool,
    pub generations: usize,
    pub ledger_entries: usize,
    pub thumbnails: usize,
}

impl SyncReport {
    pub fn changed_library(&self) -> bool {
        self.generations > 0 || self.thumbnails > 0
    }
}

/// Where the last pulled page of a collection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    updated_at: String,
    name: String,
}

/// A collection under `users/{uid}` pulled into the store.
#[derive(Debug, Clone, Copy)]
enum Collection {
    Generations,
    CreditLedger,
}

impl Collection {
    fn id(self) -> &'static str {
        match self {
            Collection::Generations => "generations",
            Collection::CreditLedger => "creditLedger",
        }
    }

    fn cursor_key(self) -> &'static str {
        match self {
            Collection::Generations => "cursor.generations",
            Collection::CreditLedger => "cursor.creditLedger",
        }
    }
}

pub(crate) async fn pull(
    account: &Account,
    remote: &Remote,
    token: &SecretString,
) -> Result<SyncReport> {
    let uid = account.uid();
    let mut report = SyncReport::default();

    if let Some(document) = remote.firestore.get(&format!("users/{uid}"), token).await? {
        let profile = documents::profile_from_document(&document)?;
        report.profile_changed = account.with_store(|store| {
            let changed = store.profile()?.as_ref() != Some(&profile);
            if changed {
                store.put_profile(&profile)?;
            }
            Ok(changed)
        })?;
    }
    report.generations = pull_collection(account, remote, token, Collection::Generations).await?;
    report.ledger_entries =
        pull_collection(account, remote, token, Collection::CreditLedger).await?;
    report.thumbnails = fetch_thumbnails(account, remote).await?;
    Ok(report)
}

/// The query for the page after `cursor`.
fn page_query(collection: Collection, cursor: Option<&Cursor>) -> StructuredQuery {
    let mut query = StructuredQuery::from(collection.id())
        .order_by("updatedAt", Direction::Ascending)
        .order_by("__name__", Direction::Ascending)
        .limit(PAGE_SIZE);
    if let Some(c) = cursor {
        query = query
            .filter(
                "updatedAt",
                FieldOp::GreaterThanOrEqual,
                Value::Timestamp(c.updated_at.clone()),
            )
            .start_at(
                vec![
                    Value::Timestamp(c.updated_at.clone()),
                    Value::Reference(c.name.clone()),
                ],
                false,
            );
    }
    query
}

/// The cursor after the last document of a page.
fn cursor_after(page: &[Document]) -> Result<Option<Cursor>> {
    let Some(last) = page.last() else {
        return Ok(None);
    };
    let updated_at = match last.fields.get("updatedAt") {
        Some(Value::Timestamp(t)) => t.clone(),
        _ => {
            return Err(crate::remote::RemoteError::MalformedResponse(format!(
                "document {} has no updatedAt timestamp",
                last.id()
            ))
            .into())
        }
    };
    Ok(Some(Cursor {
        updated_at,
        name: last.name.clone(),
    }))
}

async fn pull_collection(
    account: &Account,
    remote: &Remote,
    token: &SecretString,
    collection: Collection,
) -> Result<usize> {
    let parent = format!("users/{}", account.uid());
    let mut pulled = 0;
    loop {
        let cursor: Option<Cursor> = account
            .with_store(|store| Ok(store.cursor(collection.cursor_key())?))?
            .and_then(|json| serde_json::from_str(&json).ok());
        let page = remote
            .firestore
            .run_query(&parent, &page_query(collection, cursor.as_ref()), token)
            .await?;
        let Some(next) = cursor_after(&page)? else {
            break;
        };
        let next =
            serde_json::to_string(&next).map_err(|e| crate::Error::InvalidInput(e.to_string()))?;
        match collection {
            Collection::Generations => {
                let items = page
                    .iter()
                    .map(documents::generation_from_document)
                    .collect::<Result<Vec<_>, _>>()?;
                account.with_store(|store| {
                    Ok(store.apply_generations_page(&items, collection.cursor_key(), &next)?)
                })?;
            }
            Collection::CreditLedger => {
                let items = page
                    .iter()
                    .map(documents::ledger_entry_from_document)
                    .collect::<Result<Vec<_>, _>>()?;
                account.with_store(|store| {
                    Ok(store.apply_ledger_page(&items, collection.cursor_key(), &next)?)
                })?;
            }
        }
        pulled += page.len();
        if page.len() < PAGE_SIZE as usize {
            break;
        }
    }
    Ok(pulled)
}

/// Fetches thumbnails of finished generations once; after that they are served from the store.
async fn fetch_thumbnails(account: &Account, remote: &Remote) -> Result<usize> {
    let missing = account
        .with_store(|store| Ok(store.generations_missing_thumbnail(THUMBNAILS_PER_SYNC)?))?;
    let mut fetched = 0;
    for (id, url) in missing {
        let (mime, bytes) = match remote.api.fetch_bytes(&url).await {
            Ok(answer) => answer,
            // The generation was deleted on the server meanwhile; its tombstone will follow.
            Err(e) if e.code() == "not_found" => continue,
            Err(e) => return Err(e.into()),
        };
        account.with_store(|store| Ok(store.put_thumbnail(&id, &mime, &bytes)?))?;
        fetched += 1;
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn doc(name: &str, updated_at: &str) -> Document {
        Document {
            name: name.to_string(),
            fields: BTreeMap::from([(
                "updatedAt".to_string(),
                Value::Timestamp(updated_at.to_string()),
            )]),
            create_time: None,
            update_time: None,
        }
    }

    #[test]
    fn the_first_page_has_no_filter_and_later_pages_start_after_the_cursor() {
        let first = page_query(Collection::Generations, None).to_json();
        assert!(first.get("where").is_none());
        assert!(first.get("startAt").is_none());
        let cursor = Cursor {
            updated_at: "2026-01-01T00:00:00.000001Z".into(),
            name: "n/1".into(),
        };
        let next = page_query(Collection::Generations, Some(&cursor)).to_json();
        assert_eq!(next["startAt"]["before"], false);
        assert_eq!(next["startAt"]["values"][1]["referenceValue"], "n/1");
        assert_eq!(next["where"]["fieldFilter"]["op"], "GREATER_THAN_OR_EQUAL");
    }

    #[test]
    fn the_cursor_is_the_last_document_of_the_page() {
        let page = [
            doc("n/1", "2026-01-01T00:00:01Z"),
            doc("n/2", "2026-01-01T00:00:02Z"),
        ];
        let cursor = cursor_after(&page).unwrap().unwrap();
        assert_eq!(
            cursor,
            Cursor {
                updated_at: "2026-01-01T00:00:02Z".into(),
                name: "n/2".into()
            }
        );
        assert_eq!(cursor_after(&[]).unwrap(), None);
    }

    #[test]
    fn a_document_without_updated_at_is_a_malformed_answer_not_a_panic() {
        let mut bad = doc("n/1", "x");
        bad.fields.clear();
        let err = cursor_after(&[bad]).unwrap_err();
        assert_eq!(err.code(), "server.malformed_response");
    }
}
