//! What a sync will do, worked out from plain values before any request is made: how the
//! outbox becomes requests, what a failed request means for the outbox, whether the collections
//! need pulling, and the query for each page. `sync` gathers the inputs, asks here, and does
//! the I/O; so every decision is tested on its own, without a server (atuin's
//! `SyncEngine::operations`, docs/architecture.md).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::remote::firestore::{Direction, Document, FieldOp, StructuredQuery, Value};
use crate::remote::RemoteError;
use crate::store::{OutboxAction, OutboxEntry, Refusal, SetAside, Unread};

/// Documents per page: large enough that an initial sync takes few requests.
pub(super) const PAGE_SIZE: u32 = 500;

/// One request of a push, and the outbox entries it settles.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Send {
    /// Deletes next to each other, in one request: "delete all history" of 100,000
    /// generations is 200 requests, not 100,000.
    Deletes { seqs: Vec<i64>, ids: Vec<String> },
    /// Any other action, alone and in its place.
    One(Box<OutboxEntry>),
}

impl Send {
    /// The outbox entries this request settles.
    pub(super) fn seqs(&self) -> Vec<i64> {
        match self {
            Send::Deletes { seqs, .. } => seqs.clone(),
            Send::One(entry) => vec![entry.seq],
        }
    }
}

/// The requests that send `pending` (in outbox order), keeping that order: runs of deletes are
/// cut into batches of at most `max_batch` ids, and every other action is a request of its own
/// that ends the run before it.
pub(super) fn sends(pending: Vec<OutboxEntry>, max_batch: usize) -> Vec<Send> {
    let mut sends = Vec::new();
    for entry in pending {
        match (entry.action, sends.last_mut()) {
            (
                OutboxAction::DeleteGeneration { generation_id },
                Some(Send::Deletes { seqs, ids }),
            ) if ids.len() < max_batch => {
                seqs.push(entry.seq);
                ids.push(generation_id);
            }
            (OutboxAction::DeleteGeneration { generation_id }, _) => sends.push(Send::Deletes {
                seqs: vec![entry.seq],
                ids: vec![generation_id],
            }),
            (action, _) => sends.push(Send::One(Box::new(OutboxEntry { action, ..entry }))),
        }
    }
    sends
}

/// What a failed send means for the outbox: a failure that may pass (no connection, a busy
/// server) or an ended session stops the push, leaving the action pending; anything else is the
/// server's refusal, kept on the action with its reason.
pub(super) fn refusal_or_stop(error: RemoteError) -> Result<Refusal> {
    if error.is_transient() || error == RemoteError::SessionExpired {
        return Err(error.into());
    }
    Ok(Refusal {
        code: error.code().to_string(),
        message: error.to_string(),
    })
}

/// Whether the collections need pulling: the server moves the profile's `updatedAt` with every
/// change below it, so when it is still the one the last complete pull started from (`mark`),
/// nothing changed.
pub(super) fn pull_needed(profile_updated_at: &str, mark: Option<&str>) -> bool {
    mark != Some(profile_updated_at)
}

/// Where the last pulled page of a collection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    updated_at: String,
    name: String,
}

/// A collection under `users/{uid}` pulled into the store.
#[derive(Debug, Clone, Copy)]
pub(super) enum Collection {
    Generations,
    CreditLedger,
    Purchases,
}

impl Collection {
    pub(super) const ALL: [Collection; 3] = [
        Collection::Generations,
        Collection::CreditLedger,
        Collection::Purchases,
    ];

    pub(super) fn id(self) -> &'static str {
        match self {
            Collection::Generations => "generations",
            Collection::CreditLedger => "creditLedger",
            Collection::Purchases => "purchases",
        }
    }

    pub(super) fn cursor_key(self) -> &'static str {
        match self {
            Collection::Generations => "cursor.generations",
            Collection::CreditLedger => "cursor.creditLedger",
            Collection::Purchases => "cursor.purchases",
        }
    }
}

/// The query for the page after `cursor`.
pub(super) fn page_query(collection: Collection, cursor: Option<&Cursor>) -> StructuredQuery {
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

/// The cursor after a page: at its last document with an `updatedAt` timestamp (a document
/// without one is set aside by [`read_page`], and a query filtered on `updatedAt` never returns
/// it again), or none for an empty page. A page where no document has one cannot move the
/// cursor: that is a malformed answer.
pub(super) fn cursor_after(page: &[Document]) -> Result<Option<Cursor>> {
    if page.is_empty() {
        return Ok(None);
    }
    let last = page
        .iter()
        .rev()
        .find_map(|doc| match doc.fields.get("updatedAt") {
            Some(Value::Timestamp(t)) => Some(Cursor {
                updated_at: t.clone(),
                name: doc.name.clone(),
            }),
            _ => None,
        });
    match last {
        Some(cursor) => Ok(Some(cursor)),
        None => Err(RemoteError::MalformedResponse(
            "no document of the page has an updatedAt timestamp".into(),
        )
        .into()),
    }
}

/// A page read: the items `read` could make, and what it could not (set aside, with why).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ReadPage<T> {
    pub(super) items: Vec<T>,
    pub(super) unread: Unread,
}

/// Reads each document of a `collection` page with `read`. A document it cannot read is set
/// aside with the reason, and the others are kept: one bad document never stops a sync.
pub(super) fn read_page<T>(
    collection: Collection,
    page: &[Document],
    read: impl Fn(&Document) -> Result<T, RemoteError>,
) -> ReadPage<T> {
    let mut items = Vec::with_capacity(page.len());
    let mut unread = Unread {
        collection: collection.id(),
        ..Unread::default()
    };
    for doc in page {
        match read(doc) {
            Ok(item) => {
                items.push(item);
                unread.read.push(doc.name.clone());
            }
            Err(e) => unread.set_aside.push(SetAside {
                collection: collection.id().to_string(),
                document: doc.name.clone(),
                reason: e.to_string(),
            }),
        }
    }
    ReadPage { items, unread }
}

/// Whether a page of `len` documents was the collection's last.
pub(super) fn is_last_page(len: usize) -> bool {
    len < PAGE_SIZE as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OutboxState, ProfileField};
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

    fn entry(seq: i64, action: OutboxAction) -> OutboxEntry {
        OutboxEntry {
            seq,
            id: format!("a{seq}"),
            action,
            created_at: "2026-01-01T00:00:00Z".into(),
            state: OutboxState::Pending,
            attempts: 0,
            refusal: None,
        }
    }

    fn delete(seq: i64) -> OutboxEntry {
        entry(
            seq,
            OutboxAction::DeleteGeneration {
                generation_id: format!("g{seq}"),
            },
        )
    }

    fn rename(seq: i64) -> OutboxEntry {
        entry(
            seq,
            OutboxAction::SetProfileField {
                change: ProfileField::DisplayName(Some(format!("name {seq}"))),
            },
        )
    }

    fn deletes(seqs: std::ops::RangeInclusive<i64>) -> Send {
        Send::Deletes {
            seqs: seqs.clone().collect(),
            ids: seqs.map(|seq| format!("g{seq}")).collect(),
        }
    }

    #[test]
    fn an_empty_outbox_sends_nothing() {
        assert_eq!(sends(Vec::new(), 500), Vec::new());
    }

    #[test]
    fn deletes_next_to_each_other_go_in_batches_of_at_most_the_limit() {
        assert_eq!(
            sends((1..=3).map(delete).collect(), 3),
            vec![deletes(1..=3)]
        );
        let plan = sends((1..=7).map(delete).collect(), 3);
        assert_eq!(plan, vec![deletes(1..=3), deletes(4..=6), deletes(7..=7)]);
        assert_eq!(
            plan.iter().flat_map(Send::seqs).collect::<Vec<_>>(),
            (1..=7).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_profile_edit_between_deletes_keeps_its_place() {
        let pending = vec![
            delete(1),
            delete(2),
            rename(3),
            delete(4),
            rename(5),
            rename(6),
        ];
        assert_eq!(
            sends(pending, 500),
            vec![
                deletes(1..=2),
                Send::One(Box::new(rename(3))),
                deletes(4..=4),
                Send::One(Box::new(rename(5))),
                Send::One(Box::new(rename(6))),
            ]
        );
    }

    #[test]
    fn a_passing_failure_stops_the_push_and_a_refusal_is_kept_with_its_reason() {
        for stop in [
            RemoteError::Unreachable,
            RemoteError::Timeout,
            RemoteError::RateLimited,
            RemoteError::Server(503),
            RemoteError::SessionExpired,
        ] {
            assert!(refusal_or_stop(stop.clone()).is_err(), "{stop:?} stops");
        }
        let refusal = refusal_or_stop(RemoteError::PermissionDenied).unwrap();
        assert_eq!(refusal.code, "permission.denied");
        assert!(!refusal.message.is_empty());
    }

    #[test]
    fn the_collections_are_pulled_unless_the_profile_is_where_the_last_pull_started() {
        assert!(pull_needed("2026-01-02T00:00:00Z", None));
        assert!(pull_needed(
            "2026-01-02T00:00:00Z",
            Some("2026-01-01T00:00:00Z")
        ));
        assert!(!pull_needed(
            "2026-01-02T00:00:00Z",
            Some("2026-01-02T00:00:00Z")
        ));
    }

    #[test]
    fn the_first_page_has_no_filter_and_later_pages_start_after_the_cursor() {
        let first = page_query(Collection::Generations, None).to_json();
        assert!(first.get("where").is_none());
        assert!(first.get("startAt").is_none());
        assert_eq!(first["limit"], PAGE_SIZE);
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

    #[test]
    fn a_page_moves_past_documents_it_cannot_read() {
        let mut no_time = doc("n/3", "x");
        no_time
            .fields
            .insert("updatedAt".into(), Value::String("yesterday".into()));
        let page = [
            doc("n/1", "2026-01-01T00:00:01Z"),
            doc("n/2", "2026-01-01T00:00:02Z"),
            no_time,
        ];
        // The cursor is at the last document that has a time (a query filtered on it never
        // returns the other again).
        assert_eq!(
            cursor_after(&page).unwrap(),
            Some(Cursor {
                updated_at: "2026-01-01T00:00:02Z".into(),
                name: "n/2".into()
            })
        );
        let read = read_page(Collection::Purchases, &page, |d| {
            match d.fields.get("updatedAt") {
                Some(Value::Timestamp(_)) => Ok(d.id().to_string()),
                _ => Err(RemoteError::MalformedResponse(
                    "updatedAt is not a time".into(),
                )),
            }
        });
        assert_eq!(read.items, ["1", "2"]);
        assert_eq!(read.unread.read, ["n/1", "n/2"]);
        assert_eq!(
            read.unread.set_aside,
            [SetAside {
                collection: "purchases".into(),
                document: "n/3".into(),
                reason: "Cleom sent an answer this version of the app does not understand (updatedAt is not a time).".into(),
            }]
        );
    }

    #[test]
    fn a_short_page_is_the_last() {
        assert!(is_last_page(0));
        assert!(is_last_page(PAGE_SIZE as usize - 1));
        assert!(!is_last_page(PAGE_SIZE as usize));
    }
}
