//! Brings the server and this device's store together: first what the user did here (the
//! outbox, see `store::outbox`) goes to the server, in order; then the server's state comes
//! down.
//!
//! Each collection is pulled incrementally: `updatedAt >= cursor`, ordered by `updatedAt` and
//! document name, in pages that start just after the last document stored. A page and the
//! cursor that follows it are stored in one transaction, so a sync stopped at any point (a
//! lost connection, a killed process) resumes where it stopped and never skips or doubles a
//! change. Deletions arrive as tombstones (`deleted: true`) and remove the local row.
//!
//! The server moves the profile's `updatedAt` with every change below it (docs/backend.md), so
//! a sync first reads the profile alone and stops there when that time is the one its last
//! complete pull started from: a sync with nothing new is one request.

mod plan;
#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::local_copy::LocalCopy;
use crate::model::Generation;
use crate::remote::cleom_api::MAX_BATCH_DELETE;
use crate::remote::documents;
use crate::remote::firestore::{Document, Precondition, Value, Write};
use crate::remote::{Remote, RemoteError};
use crate::secret::SecretString;
use crate::session::Session;
use crate::store::{OutboxAction, ProfileField};
use plan::{Collection, Cursor, Send};

/// Thumbnails fetched per sync, so one sync stays short; the rest come with the next.
const THUMBNAILS_PER_SYNC: usize = 50;
/// The store's `sync_state` key holding the profile's `updatedAt` that the last complete pull
/// started from.
const PROFILE_MARK: &str = "sync.profile";

/// What one sync changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Queued actions the server accepted.
    pub sent: usize,
    /// Queued actions the server refused (they stay in the outbox, refused, with the reason).
    pub refused: usize,
    pub profile_changed: bool,
    pub generations: usize,
    pub ledger_entries: usize,
    pub purchases: usize,
    pub thumbnails: usize,
    /// Generations that were queued or running here and have succeeded or failed since.
    pub finished: Vec<Generation>,
    /// Documents this sync could not read and set aside (see `store::set_aside`).
    pub set_aside: usize,
}

impl SyncReport {
    pub fn changed_library(&self) -> bool {
        self.generations > 0 || self.thumbnails > 0 || self.sent > 0 || self.refused > 0
    }
}

/// How far a sync has got, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    /// `sending`, `generations`, `creditLedger`, `purchases` or `thumbnails`.
    #[cfg_attr(
        feature = "ts",
        ts(
            type = "\"sending\" | \"generations\" | \"creditLedger\" | \"purchases\" | \"thumbnails\""
        )
    )]
    pub phase: &'static str,
    /// Pages (or actions, or thumbnails) done in this phase.
    pub pages: usize,
    /// Items stored in this phase.
    pub items: usize,
}

/// One sync of one account: the parts it works over, and nothing else of the account.
pub(crate) struct SyncEngine<'a> {
    pub(crate) local: &'a LocalCopy,
    pub(crate) remote: &'a Remote,
    pub(crate) session: &'a Session,
}

impl SyncEngine<'_> {
    /// One sync: the outbox up, then the server's changes down, then missing thumbnails. A
    /// refused ID token is refreshed once and the sync run again (every step is safe to repeat).
    pub(crate) async fn run(
        &self,
        progress: &(dyn Fn(&SyncProgress) + Sync),
    ) -> Result<SyncReport> {
        self.session
            .authorized(|token| async move { self.run_with(&token, progress).await })
            .await
    }

    async fn run_with(
        &self,
        token: &SecretString,
        progress: &(dyn Fn(&SyncProgress) + Sync),
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        // Local work first, so it happens offline too: deleted prompts leave the search index.
        self.local
            .with_store(|store| Ok(store.purge_deleted_search_entries()?))?;
        (report.sent, report.refused) = self.push(token, progress).await?;
        self.pull(token, progress, &mut report).await?;
        report.thumbnails = self.fetch_thumbnails(progress).await?;
        Ok(report)
    }

    /// Sends the pending actions in order. A refusal is recorded on its action and the next one is
    /// sent; a failure that may pass (no connection, a busy server) stops here, leaving this action
    /// and the ones after it pending for the next sync.
    async fn push(
        &self,
        token: &SecretString,
        progress: &(dyn Fn(&SyncProgress) + Sync),
    ) -> Result<(usize, usize)> {
        let pending = self.local.with_store(|store| Ok(store.pending_outbox()?))?;
        let (mut sent, mut refused) = (0, 0);
        for send in plan::sends(pending, MAX_BATCH_DELETE) {
            let answer = match &send {
                Send::Deletes { ids, .. } => self
                    .remote
                    .api
                    .delete_generations(ids, token)
                    .await
                    .map(|()| None),
                Send::One(entry) => match &entry.action {
                    OutboxAction::CreateGeneration { request } => self
                        .remote
                        .api
                        .create_generation(request, token)
                        .await
                        .map(Some),
                    OutboxAction::SetProfileField { change } => {
                        self.set_profile_field(change, token).await.map(|()| None)
                    }
                    OutboxAction::DeleteGeneration { .. } => {
                        unreachable!("plan::sends puts every delete in a batch")
                    }
                },
            };
            let seqs = send.seqs();
            match answer {
                Ok(generation) => {
                    self.local.with_store(|store| match generation {
                        Some(generation) => Ok(store.outbox_sent(seqs[0], Some(&generation))?),
                        None => Ok(store.outbox_sent_all(&seqs)?),
                    })?;
                    sent += seqs.len();
                }
                Err(e) => {
                    let refusal = plan::refusal_or_stop(e)?;
                    self.local.with_store(|store| {
                        for seq in &seqs {
                            store.outbox_refused(*seq, &refusal)?;
                        }
                        Ok(())
                    })?;
                    refused += seqs.len();
                }
            }
            progress(&SyncProgress {
                phase: "sending",
                pages: sent + refused,
                items: sent + refused,
            });
        }
        Ok((sent, refused))
    }

    /// Writes one profile field, moving `updatedAt` to the request time as the rules require (and
    /// as other devices notice).
    async fn set_profile_field(
        &self,
        change: &ProfileField,
        token: &SecretString,
    ) -> Result<(), RemoteError> {
        let (field, value) = match change {
            ProfileField::DisplayName(name) => (
                "displayName",
                name.clone().map_or(Value::Null, Value::String),
            ),
            ProfileField::AnalyticsOptIn(on) => ("analyticsOptIn", Value::Boolean(*on)),
        };
        let write = Write::update(
            format!("users/{}", self.session.uid()),
            std::collections::BTreeMap::from([(field.to_string(), value)]),
        )
        .mask([field])
        .server_time("updatedAt")
        .precondition(Precondition::Exists(true));
        self.remote
            .firestore
            .commit(vec![write], token)
            .await
            .map(|_| ())
    }

    /// After an email change, the profile's `email` follows the sign-in email Firebase Auth
    /// reported when this session began (the rules allow exactly that value: the ID token's
    /// `email` claim). Answers the profile as written, or `None` when nothing was written. A server
    /// that already mirrors the change (the local backend does) needs nothing, so this costs
    /// requests only once after a change. A refusal is logged and the sync goes on: the profile is
    /// only a copy of what Auth knows.
    async fn follow_auth_email(
        &self,
        token: &SecretString,
        document: &Document,
    ) -> Result<Option<Document>> {
        let Some(email) = self.session.auth_email() else {
            return Ok(None);
        };
        if matches!(document.fields.get("email"), Some(Value::String(e)) if e == email) {
            return Ok(None);
        }
        let path = format!("users/{}", self.session.uid());
        let write = Write::update(
            path.clone(),
            std::collections::BTreeMap::from([("email".to_string(), Value::String(email.into()))]),
        )
        .mask(["email"])
        .server_time("updatedAt")
        .precondition(Precondition::Exists(true));
        match self.remote.firestore.commit(vec![write], token).await {
            Ok(_) => Ok(self.remote.firestore.get(&path, token).await?),
            Err(e) if e.is_transient() || e == RemoteError::SessionExpired => Err(e.into()),
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    "the profile's email could not follow Auth's"
                );
                Ok(None)
            }
        }
    }

    /// Pulls the profile, then — unless it shows nothing changed since the last complete pull —
    /// every collection.
    async fn pull(
        &self,
        token: &SecretString,
        progress: &(dyn Fn(&SyncProgress) + Sync),
        report: &mut SyncReport,
    ) -> Result<()> {
        let path = format!("users/{}", self.session.uid());
        let Some(mut document) = self.remote.firestore.get(&path, token).await? else {
            return Ok(());
        };
        if let Some(corrected) = self.follow_auth_email(token, &document).await? {
            document = corrected;
        }
        let mark = match document.fields.get("updatedAt") {
            Some(Value::Timestamp(t)) => t.clone(),
            _ => {
                return Err(RemoteError::MalformedResponse(
                    "the profile has no updatedAt timestamp".into(),
                )
                .into())
            }
        };
        let profile = documents::profile_from_document(&document)?;
        let unchanged = self.local.with_store(|store| {
            report.profile_changed = store.profile()?.as_ref() != Some(&profile);
            if report.profile_changed {
                store.put_profile(&profile)?;
            }
            Ok(!plan::pull_needed(
                &mark,
                store.cursor(PROFILE_MARK)?.as_deref(),
            ))
        })?;
        if unchanged {
            return Ok(());
        }
        for collection in Collection::ALL {
            let pulled = self
                .pull_collection(token, collection, progress, report)
                .await?;
            match collection {
                Collection::Generations => report.generations = pulled,
                Collection::CreditLedger => report.ledger_entries = pulled,
                Collection::Purchases => report.purchases = pulled,
            }
        }
        self.local
            .with_store(|store| Ok(store.set_cursor(PROFILE_MARK, &mark)?))
    }

    async fn pull_collection(
        &self,
        token: &SecretString,
        collection: Collection,
        progress: &(dyn Fn(&SyncProgress) + Sync),
        report: &mut SyncReport,
    ) -> Result<usize> {
        let parent = format!("users/{}", self.session.uid());
        let mut pulled = 0;
        let mut pages = 0;
        loop {
            let cursor: Option<Cursor> = self
                .local
                .with_store(|store| Ok(store.cursor(collection.cursor_key())?))?
                .and_then(|json| serde_json::from_str(&json).ok());
            let page = self
                .remote
                .firestore
                .run_query(
                    &parent,
                    &plan::page_query(collection, cursor.as_ref()),
                    token,
                )
                .await?;
            let Some(next) = plan::cursor_after(&page)? else {
                break;
            };
            let next =
                serde_json::to_string(&next).map_err(|e| Error::InvalidInput(e.to_string()))?;
            report.set_aside += self.store_page(collection, &page, &next, &mut report.finished)?;
            pulled += page.len();
            pages += 1;
            progress(&SyncProgress {
                phase: collection.id(),
                pages,
                items: pulled,
            });
            if plan::is_last_page(page.len()) {
                break;
            }
        }
        Ok(pulled)
    }

    /// Stores the documents of `page` that can be read, and the cursor `next` after it, in one
    /// transaction; the others are set aside (see `store::set_aside`). Returns how many were.
    fn store_page(
        &self,
        collection: Collection,
        page: &[Document],
        next: &str,
        finished: &mut Vec<Generation>,
    ) -> Result<usize> {
        let key = collection.cursor_key();
        let unread = self.local.with_store(|store| {
            Ok(match collection {
                Collection::Generations => {
                    let read =
                        plan::read_page(collection, page, documents::generation_from_document);
                    finished.extend(store.apply_generations_page(
                        &read.items,
                        &read.unread,
                        key,
                        next,
                    )?);
                    read.unread
                }
                Collection::CreditLedger => {
                    let read =
                        plan::read_page(collection, page, documents::ledger_entry_from_document);
                    store.apply_ledger_page(&read.items, &read.unread, key, next)?;
                    read.unread
                }
                Collection::Purchases => {
                    let read = plan::read_page(collection, page, documents::purchase_from_document);
                    store.apply_purchases_page(&read.items, &read.unread, key, next)?;
                    read.unread
                }
            })
        })?;
        for item in &unread.set_aside {
            tracing::warn!(
                collection = %item.collection,
                reason = %item.reason,
                "a document could not be read; it is set aside"
            );
        }
        Ok(unread.set_aside.len())
    }

    /// Fetches thumbnails of finished generations once; after that they are served from the store.
    async fn fetch_thumbnails(&self, progress: &(dyn Fn(&SyncProgress) + Sync)) -> Result<usize> {
        let missing = self
            .local
            .with_store(|store| Ok(store.generations_missing_thumbnail(THUMBNAILS_PER_SYNC)?))?;
        let mut fetched = 0;
        for (id, url) in missing {
            let (mime, bytes) = match self.remote.api.fetch_bytes(&url).await {
                Ok(answer) => answer,
                // The generation was deleted on the server meanwhile; its tombstone will follow.
                Err(RemoteError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            self.local
                .with_store(|store| Ok(store.put_thumbnail(&id, &mime, &bytes)?))?;
            fetched += 1;
            progress(&SyncProgress {
                phase: "thumbnails",
                pages: fetched,
                items: fetched,
            });
        }
        Ok(fetched)
    }
}
