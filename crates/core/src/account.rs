//! One signed-in account on this device: its encrypted store and its session with the backend.
//!
//! Everything the user does goes through here, so the local-first rule is kept in one place:
//! reads come from the encrypted store (and so work offline), writes go to the backend first and
//! are then stored locally, and a sync brings the store up to the server's state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use crate::analytics::{self, Feature};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::export::{self, ExportSummary};
use crate::keychain::{self, Keychain};
use crate::model::{
    self, Generation, GenerationRequest, LedgerEntry, Mode, Profile, Purchase, Reference, Settings,
};
use crate::paths::{DataDir, ProcessLock};
use crate::pricing::{Estimate, PricingTable};
use crate::remote::{auth::AuthSession, Remote};
use crate::secret::{Secret, SecretString};
use crate::store::{
    FacetCounts, ItemWithThumbnail, LibraryCursor, LibraryQuery, OutboxAction, OutboxEntry,
    ProfileField, QueryPage, Store,
};
use crate::sync::{self, SyncProgress, SyncReport};

/// The store's `sync_state` key under which the last pricing table served is kept, so estimates
/// work offline.
const PRICING_KEY: &str = "pricing-table";

/// The store's `sync_state` key under which the Studio's unsent draft is kept: it is private text
/// (a prompt), so it lives in the encrypted store and never in a plain file.
const DRAFT_KEY: &str = "studio-draft";

/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

/// The largest draft the Studio may keep (a prompt of 4,000 characters and its settings fit
/// many times over); anything bigger is refused rather than stored.
pub const MAX_DRAFT_BYTES: usize = 64 * 1024;

/// The display name as it is kept: without the spaces around it, none when nothing is left,
/// refused (`request.invalid`) when longer than [`MAX_DISPLAY_NAME`] characters.
pub fn display_name(name: Option<&str>) -> Result<Option<String>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err(Error::InvalidInput(format!(
            "A display name can have at most {MAX_DISPLAY_NAME} characters."
        )));
    }
    Ok(Some(name.to_string()))
}

/// Refuses (`request.invalid`) a draft larger than [`MAX_DRAFT_BYTES`].
pub fn check_draft(draft: &str) -> Result<()> {
    if draft.len() > MAX_DRAFT_BYTES {
        return Err(Error::InvalidInput(
            "The draft is too large to keep.".into(),
        ));
    }
    Ok(())
}

/// A random client id for a queued action or a new generation.
fn client_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

/// An ID token is refreshed when it has less than this left.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub struct Account {
    uid: String,
    email: String,
    data: DataDir,
    keychain: Arc<dyn Keychain>,
    remote: Remote,
    /// `None` once the account has been wiped from this device.
    store: Mutex<Option<OpenStore>>,
    /// The sign-in email Firebase Auth reported when this session began (`None` for a session
    /// resumed from the keychain): the sync makes the profile's `email` follow it.
    auth_email: Option<String>,
    id_token: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
    /// Feature counts, sent only with the user's opt-in (see `analytics`).
    analytics: analytics::Counter,
}

/// What an account deletion removed, for the receipt the user can keep.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DeletionReceipt {
    pub email: String,
    pub deleted_at: String,
    pub removed: Removed,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    pub generations: u64,
    pub ledger_entries: u64,
    pub purchases: u64,
    pub media_files: u64,
    pub local_files: u64,
    pub keychain_entries: u64,
}

impl DeletionReceipt {
    /// The receipt as a plain text document the user can keep.
    pub fn to_text(&self) -> String {
        let r = &self.removed;
        format!(
            "Cleom account deletion receipt\n\
             ==============================\n\n\
             Account: {email}\n\
             Deleted at: {at}\n\n\
             Removed from Cleom's servers:\n\
             - the profile and the sign-in account\n\
             - {generations} generations\n\
             - {ledger} credit history entries\n\
             - {purchases} purchases\n\
             - {media} media files\n\n\
             Removed from this device:\n\
             - {local} files (the encrypted history, thumbnails, caches, settings)\n\
             - {keys} keychain entries (the database key and the sign-in token)\n",
            email = self.email,
            at = self.deleted_at,
            generations = r.generations,
            ledger = r.ledger_entries,
            purchases = r.purchases,
            media = r.media_files,
            local = r.local_files,
            keys = r.keychain_entries,
        )
    }

    /// Saves [`DeletionReceipt::to_text`] into `folder` (readable by this user only) under a
    /// name with the date, never over another file; returns the path.
    pub fn save(&self, folder: &std::path::Path) -> Result<std::path::PathBuf> {
        std::fs::create_dir_all(folder)?;
        let date: String = self.deleted_at.chars().take(10).collect();
        let stem = format!("cleom-deletion-receipt-{date}");
        let path = crate::paths::first_unused(folder, &stem, |n| match n {
            1 => ".txt".to_string(),
            n => format!("-{n}.txt"),
        })?;
        crate::paths::write_private_file(&path, self.to_text().as_bytes())?;
        Ok(path)
    }
}

impl Account {
    pub(crate) fn new(
        uid: String,
        email: String,
        data: DataDir,
        keychain: Arc<dyn Keychain>,
        remote: Remote,
        store: OpenStore,
        session: Option<AuthSession>,
    ) -> Account {
        let auth_email = session.as_ref().and_then(|s| s.email.clone());
        let id_token = session.map(|s| (s.id_token, s.expires_at));
        Account {
            uid,
            email,
            data,
            keychain,
            remote,
            store: Mutex::new(Some(store)),
            auth_email,
            id_token: tokio::sync::Mutex::new(id_token),
            analytics: analytics::Counter::default(),
        }
    }

    pub fn uid(&self) -> &str {
        &self.uid
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    /// The profile as last synced (the balance shown offline).
    pub fn profile(&self) -> Result<Option<Profile>> {
        self.with_store(|s| Ok(s.profile()?))
    }

    /// The credit ledger as last synced, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        self.with_store(|s| Ok(s.ledger()?))
    }

    /// The purchases as last synced, oldest first.
    pub fn purchases(&self) -> Result<Vec<Purchase>> {
        self.with_store(|s| Ok(s.purchases()?))
    }

    /// A page of the Library's default view (everything, newest first: `LibraryQuery::default()`
    /// with this `limit` and `after`). Unlike [`Account::query`], not counted as a search.
    pub fn library(&self, limit: usize, after: Option<&LibraryCursor>) -> Result<QueryPage> {
        let query = LibraryQuery {
            limit,
            after: after.cloned(),
            ..LibraryQuery::default()
        };
        self.with_store(|s| Ok(s.query(&query)?))
    }

    /// A page of the Library for a search, filters and a sort (see `store::library`).
    pub fn query(&self, query: &LibraryQuery) -> Result<QueryPage> {
        if query.after.is_none() {
            self.analytics.record(Feature::Search);
        }
        self.with_store(|s| Ok(s.query(query)?))
    }

    /// How many generations each filter value would show under `query`.
    pub fn counts(&self, query: &LibraryQuery) -> Result<FacetCounts> {
        self.with_store(|s| Ok(s.counts(query)?))
    }

    /// One generation with its stored thumbnail.
    pub fn item_with_thumbnail(&self, id: &str) -> Result<Option<ItemWithThumbnail>> {
        self.with_store(|s| Ok(s.item_with_thumbnail(id)?))
    }

    /// Remembers where the user saved a generation's clip; `false` if the generation is gone.
    pub fn record_download(&self, id: &str, path: &std::path::Path) -> Result<bool> {
        self.with_store(|s| Ok(s.record_download(id, path)?))
    }

    pub fn generation(&self, id: &str) -> Result<Option<Generation>> {
        self.with_store(|s| Ok(s.generation(id)?))
    }

    /// The stored thumbnail of a generation: `(mime type, bytes)`.
    pub fn thumbnail(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.with_store(|s| Ok(s.thumbnail(id)?))
    }

    /// True while any generation is still queued or running, so the app polls faster.
    pub fn has_active_generations(&self) -> Result<bool> {
        self.with_store(|s| Ok(s.has_active_generations()?))
    }

    /// The served pricing table, refreshed when online and remembered for offline estimates.
    pub async fn pricing(&self) -> Result<PricingTable> {
        match self.remote.api.pricing().await {
            Ok(table) => {
                let json = serde_json::to_string(&table)
                    .map_err(|e| Error::InvalidInput(e.to_string()))?;
                self.with_store(|s| Ok(s.set_cursor(PRICING_KEY, &json)?))?;
                Ok(table)
            }
            Err(e) => {
                let e = Error::from(e);
                if e.is_offline() {
                    self.saved_pricing()
                } else {
                    Err(e)
                }
            }
        }
    }

    fn saved_pricing(&self) -> Result<PricingTable> {
        let saved = self.with_store(|s| Ok(s.cursor(PRICING_KEY)?))?;
        saved
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or(Error::PricingUnavailable)
    }

    pub async fn estimate(&self, settings: &Settings) -> Result<Estimate> {
        self.estimate_with(settings, &[]).await
    }

    /// The price of `settings` with `references` attached: the mode they imply is priced too,
    /// exactly as the Cleom API will charge it.
    pub async fn estimate_with(
        &self,
        settings: &Settings,
        references: &[Reference],
    ) -> Result<Estimate> {
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let mode = Mode::detect(references).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let table = match self.saved_pricing() {
            Ok(table) => table,
            Err(_) => self.pricing().await?,
        };
        table
            .estimate(mode, settings)
            .map_err(|e| Error::InvalidInput(e.to_string()))
    }

    /// Asks the Cleom API for a new clip. The id is chosen here, so a retried request is
    /// recognised by the server and never charged twice.
    pub async fn generate(&self, prompt: &str, settings: Settings) -> Result<Generation> {
        self.generate_with(prompt, settings, Vec::new()).await
    }

    /// [`Account::generate`] with references attached (their metadata: name, kind and size).
    pub async fn generate_with(
        &self,
        prompt: &str,
        settings: Settings,
        references: Vec<Reference>,
    ) -> Result<Generation> {
        model::validate_prompt(prompt).map_err(|e| Error::InvalidInput(e.to_string()))?;
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let estimate = self.estimate_with(&settings, &references).await?;
        if let Some(profile) = self.profile()? {
            if estimate.total > profile.credit_balance {
                return Err(Error::InsufficientCredits {
                    needed: estimate.total,
                    balance: profile.credit_balance,
                });
            }
        }
        let request = GenerationRequest {
            id: client_id(),
            prompt: prompt.to_string(),
            settings,
            references,
        };
        let sent = self
            .authorized(|token| {
                let request = &request;
                async move { Ok(self.remote.api.create_generation(request, &token).await?) }
            })
            .await;
        match sent {
            Ok(generation) => {
                self.with_store(|s| Ok(s.upsert_generations(std::slice::from_ref(&generation))?))?;
                self.analytics.record(Feature::Generate);
                Ok(generation)
            }
            // Not refused, just not delivered: the request waits in the outbox (under its own
            // id, so sending it again can never charge twice) and shows as queued meanwhile.
            Err(Error::Remote(e)) if e.is_transient() => {
                let placeholder = Generation {
                    id: request.id.clone(),
                    prompt: request.prompt.clone(),
                    mode: Mode::detect(&request.references)
                        .map_err(|e| Error::InvalidInput(e.to_string()))?,
                    settings: request.settings.clone(),
                    references: request.references.clone(),
                    status: model::Status::Queued,
                    progress: 0.0,
                    credits_charged: 0,
                    output_url: None,
                    thumbnail_url: None,
                    error: None,
                    created_at: crate::now_rfc3339(),
                    updated_at: crate::now_rfc3339(),
                    deleted: false,
                    deleted_at: None,
                };
                self.with_store(|s| Ok(s.enqueue_generation(&request, &placeholder)?))?;
                self.analytics.record(Feature::GenerateOffline);
                Ok(placeholder)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes generations here at once and queues their deletion on the server (sent by the
    /// next sync, in order; offline, whenever the server can be reached again). Returns how
    /// many were queued: ids already gone or already queued are skipped.
    pub fn delete_generations(&self, ids: &[String]) -> Result<usize> {
        self.with_store(|s| {
            let queued: std::collections::HashSet<String> = s
                .outbox()?
                .into_iter()
                .filter_map(|entry| match entry.action {
                    OutboxAction::DeleteGeneration { generation_id } => Some(generation_id),
                    _ => None,
                })
                .collect();
            let mut actions = Vec::new();
            for id in ids {
                if queued.contains(id) || s.generation(id)?.is_none() {
                    continue;
                }
                actions.push((
                    client_id(),
                    OutboxAction::DeleteGeneration {
                        generation_id: id.clone(),
                    },
                ));
            }
            s.enqueue(&actions)?;
            if !actions.is_empty() {
                self.analytics.record(Feature::DeleteGenerations);
            }
            Ok(actions.len())
        })
    }

    /// Sends the feature counts gathered since the last report — only if the user opted in
    /// (the profile's `analyticsOptIn`); otherwise they are dropped and nothing is sent.
    /// Returns whether a report was sent.
    pub async fn send_analytics(&self) -> Result<bool> {
        let opted_in = self.profile()?.is_some_and(|p| p.analytics_opt_in);
        if !opted_in {
            self.analytics.clear();
            return Ok(false);
        }
        let Some(report) = self.analytics.take() else {
            return Ok(false);
        };
        match self.remote.api.analytics(&report).await {
            Ok(()) => Ok(true),
            Err(e) => {
                if e.is_transient() {
                    self.analytics.restore(report);
                }
                Err(e.into())
            }
        }
    }

    /// "Delete all history": every generation leaves this device at once and their deletion
    /// on the server is queued (sent in batches by the next syncs). Returns how many.
    pub fn delete_all_generations(&self) -> Result<usize> {
        let queued = self.with_store(|s| Ok(s.delete_all_generations()?))?;
        if queued > 0 {
            self.analytics.record(Feature::DeleteGenerations);
        }
        Ok(queued)
    }

    /// Changes a profile field here at once and queues the change for the server. A display
    /// name is kept as [`display_name`] makes it.
    pub fn set_profile_field(&self, change: ProfileField) -> Result<()> {
        let change = match change {
            ProfileField::DisplayName(name) => {
                ProfileField::DisplayName(display_name(name.as_deref())?)
            }
            other => other,
        };
        self.with_store(|s| {
            Ok(s.enqueue(&[(client_id(), OutboxAction::SetProfileField { change })])?)
        })
    }

    /// Every action waiting for the server, or refused by it, in the order they are sent.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.with_store(|s| Ok(s.outbox()?))
    }

    /// How many actions wait to be sent, and how many the server refused.
    pub fn outbox_counts(&self) -> Result<(u64, u64)> {
        self.with_store(|s| Ok(s.outbox_counts()?))
    }

    /// Sends a refused action again with the next sync; `false` if there is no such refusal.
    pub fn retry_action(&self, seq: i64) -> Result<bool> {
        self.with_store(|s| Ok(s.outbox_retry(seq)?))
    }

    /// Drops a refused action and undoes its local effect; `false` if there is no such refusal.
    pub fn dismiss_action(&self, seq: i64) -> Result<bool> {
        self.with_store(|s| Ok(s.outbox_dismiss(seq)?))
    }

    /// The Studio's saved draft (opaque to the core: the app decides its shape), if any.
    pub fn draft(&self) -> Result<Option<String>> {
        Ok(self
            .with_store(|s| Ok(s.cursor(DRAFT_KEY)?))?
            .filter(|d| !d.is_empty()))
    }

    /// Keeps the Studio's draft in the encrypted store, so it survives a restart; an empty
    /// draft forgets it. A draft larger than [`MAX_DRAFT_BYTES`] is refused.
    pub fn save_draft(&self, draft: &str) -> Result<()> {
        check_draft(draft)?;
        self.with_store(|s| Ok(s.set_cursor(DRAFT_KEY, draft)?))
    }

    /// Sends what waits in the outbox, then brings the local store up to the server's state;
    /// see `sync`.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_with_progress(&|_| {}).await
    }

    /// [`Account::sync`], telling `progress` about every page stored.
    pub async fn sync_with_progress(
        &self,
        progress: &(dyn Fn(&SyncProgress) + Sync),
    ) -> Result<SyncReport> {
        self.authorized(
            |token| async move { sync::run(self, &self.remote, &token, progress).await },
        )
        .await
    }

    /// Writes the one-click export of everything stored about the user into `folder`, under
    /// the default name (no videos, no password, no progress): see [`Account::export_to`].
    pub fn export(&self, folder: &std::path::Path) -> Result<ExportSummary> {
        let dest = export::unique_export_path(folder, false)?;
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let monitor = export::Monitor::new(&|_| {}, &cancel);
        let options = export::ExportOptions::default();
        self.analytics.record(Feature::Export);
        self.with_store(|s| Ok(export::write_zip(s, &dest, &options, None, &monitor)?))
    }

    /// Writes the export to `dest`: with `options.include_videos`, the clips are downloaded
    /// first (resumably, see `export::videos`); the records are then written holding the store
    /// (seconds), and the clips copied in without it. `cancel` stops it at the next chunk and
    /// leaves no zip behind.
    pub async fn export_to(
        self: Arc<Self>,
        dest: std::path::PathBuf,
        options: export::ExportOptions,
        progress: Arc<dyn Fn(export::ExportProgress) + Send + Sync>,
        cancel: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<ExportSummary> {
        self.analytics.record(Feature::Export);
        let videos = if options.include_videos {
            let folder = self
                .data
                .ensure_account_dir(&self.uid)?
                .join(export::VIDEOS_FOLDER);
            crate::paths::create_private_dir(&folder)?;
            let bytes =
                export::download_videos(&self, &folder, options.only.as_ref(), &*progress, &cancel)
                    .await?;
            Some((folder, bytes))
        } else {
            None
        };
        let account = Arc::clone(&self);
        tokio::task::spawn_blocking(move || -> Result<ExportSummary> {
            let mut monitor = export::Monitor::new(&*progress, &cancel);
            monitor.bytes_downloaded = videos.as_ref().map_or(0, |(_, bytes)| *bytes);
            let folder = videos.as_ref().map(|(folder, _)| folder.as_path());
            let mut zip = export::ZipExport::create(&dest, &options)?;
            account.with_store(|s| Ok(zip.write_records(s, folder, &monitor)?))?;
            zip.write_videos(&monitor)?;
            let summary = zip.finish(&monitor)?;
            if let Some(folder) = folder {
                // The clips are in the zip now; the downloads are not needed any more.
                let _ = std::fs::remove_dir_all(folder);
            }
            Ok(summary)
        })
        .await
        .map_err(|e| Error::InvalidInput(format!("the export stopped unexpectedly: {e}")))?
    }

    /// The backend clients (the export downloads clips through them).
    pub(crate) fn remote(&self) -> &Remote {
        &self.remote
    }

    pub(crate) fn data_dir(&self) -> &DataDir {
        &self.data
    }

    pub(crate) fn keychain(&self) -> &dyn Keychain {
        self.keychain.as_ref()
    }

    /// The sign-in email Firebase Auth reported when this session began, if it began here.
    pub(crate) fn auth_email(&self) -> Option<&str> {
        self.auth_email.as_deref()
    }

    /// Signs in again with `password` (Firebase wants a recent sign-in for sensitive changes):
    /// a fresh session of this same account.
    async fn reauthenticate(&self, password: &SecretString) -> Result<AuthSession> {
        let fresh = self.remote.auth.sign_in(&self.email, password).await?;
        if fresh.uid != self.uid {
            return Err(Error::InvalidInput(
                "That password belongs to another account.".into(),
            ));
        }
        Ok(fresh)
    }

    /// Asks to move the account to `new_email`, as Firebase does it: after checking the password
    /// (a fresh sign-in), a verification link goes to the new address, and nothing changes until
    /// it is followed. Then every session of the account ends — this device's next refresh
    /// answers `auth.session_expired` — and signing in with the new address shows it here and
    /// in the profile. Errors: `auth.invalid_credentials` (wrong password),
    /// `auth.email_exists`, `auth.invalid_email`, `request.invalid` (the current address).
    pub async fn request_email_change(
        &self,
        password: &SecretString,
        new_email: &str,
    ) -> Result<()> {
        let new_email = new_email.trim().to_lowercase();
        if new_email.is_empty() || !new_email.contains('@') {
            return Err(crate::remote::RemoteError::InvalidEmail.into());
        }
        if new_email == self.email.to_lowercase() {
            return Err(Error::InvalidInput(
                "That is already this account's email address.".into(),
            ));
        }
        let fresh = self.reauthenticate(password).await?;
        self.remote
            .auth
            .request_email_change(&fresh.id_token, &new_email)
            .await?;
        Ok(())
    }

    /// Changes the password after checking the current one. Firebase ends every session when a
    /// password changes and answers with a new one: its refresh token replaces this device's in
    /// the keychain, so this device stays signed in. Errors: `auth.invalid_credentials` (wrong
    /// current password), `auth.weak_password`.
    pub async fn change_password(
        &self,
        current: &SecretString,
        new_password: &SecretString,
    ) -> Result<()> {
        let fresh = self.reauthenticate(current).await?;
        let session = match self
            .remote
            .auth
            .update_password(&fresh.id_token, new_password)
            .await?
        {
            Some(session) => session,
            // A server that answers without tokens has still revoked the old ones.
            None => self.reauthenticate(new_password).await?,
        };
        // Held while the keychain changes, so no refresh runs with the revoked token meanwhile.
        let mut slot = self.id_token.lock().await;
        self.keychain.set(
            &keychain::refresh_token_entry(&self.uid),
            &session.refresh_token,
        )?;
        *slot = Some((session.id_token, session.expires_at));
        Ok(())
    }

    /// Deletes the account everywhere: the password is checked again by signing in, the Cleom
    /// API removes everything on the server, then this device's copy and keychain entries go.
    pub async fn delete(&self, password: &SecretString) -> Result<DeletionReceipt> {
        let fresh = self.remote.auth.sign_in(&self.email, password).await?;
        if fresh.uid != self.uid {
            return Err(Error::InvalidInput(
                "That password belongs to another account.".into(),
            ));
        }
        let server = self.remote.api.delete_account(&fresh.id_token).await?;
        let mut removed = Removed {
            generations: server.generations,
            ledger_entries: server.ledger_entries,
            purchases: server.purchases,
            media_files: server.media_files,
            ..Removed::default()
        };
        let email = self.email.clone();
        let (local_files, keychain_entries) = self.wipe_local()?;
        removed.local_files = local_files;
        removed.keychain_entries = keychain_entries;
        Ok(DeletionReceipt {
            email,
            deleted_at: crate::now_rfc3339(),
            removed,
        })
    }

    /// Removes this account's database, its folder and its keychain entries from this device.
    /// Returns how many files and keychain entries were removed.
    /// After this the account is unusable: every call answers `auth.not_signed_in`.
    pub fn wipe_local(&self) -> Result<(u64, u64)> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        drop(store);
        let local_files = remove_dir_counting(&self.data.account_dir(&self.uid)?)?;
        let mut keychain_entries = 0;
        for entry in keychain::account_entries(&self.uid) {
            if self.keychain.get(&entry)?.is_some() {
                self.keychain.delete(&entry)?;
                keychain_entries += 1;
            }
        }
        Device::forget_signed_in(&self.data)?;
        Ok((local_files, keychain_entries))
    }

    /// Runs `call` with a valid ID token. If the server still answers "session expired" (the
    /// token was revoked, or this computer's clock is off), the ID token is refreshed once and
    /// the call repeated — a call is never retried twice, and the refresh token stays in the
    /// keychain whatever happens, so a refused ID token alone never signs the user out. Only
    /// calls that are safe to repeat go through here (a generation carries its own id).
    pub(crate) async fn authorized<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (token, just_refreshed) = self.id_token().await?;
        match call(token).await {
            Err(e) if !just_refreshed && e.is_session_expired() => {
                tracing::debug!("the ID token was refused; refreshing it and trying once more");
                let token = self.refresh_id_token().await?;
                call(token).await
            }
            other => other,
        }
    }

    /// "Reset this device's copy and download it again from Cleom" for this account: closes its
    /// store, then removes its local folder and database key (see `Device::reset_local_copy`).
    /// The session stays; afterwards this `Account` answers `auth.not_signed_in`, and
    /// `Device::resume` opens a new, empty copy that the next sync fills.
    pub fn reset_local_copy(&self) -> Result<()> {
        drop(
            self.store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        crate::device::remove_local_copy(&self.data, self.keychain.as_ref(), &self.uid)
    }

    /// A valid ID token, refreshed with the keychain's refresh token when it is about to expire;
    /// `true` when it was refreshed just now.
    async fn id_token(&self) -> Result<(SecretString, bool)> {
        {
            let slot = self.id_token.lock().await;
            if let Some((token, expires_at)) = slot.as_ref() {
                if *expires_at > Instant::now() + TOKEN_MARGIN {
                    return Ok((Secret::new(token.expose().clone()), false));
                }
            }
        }
        Ok((self.refresh_id_token().await?, true))
    }

    /// A new ID token from the keychain's refresh token, remembered for the next calls.
    async fn refresh_id_token(&self) -> Result<SecretString> {
        let mut slot = self.id_token.lock().await;
        let refresh = self
            .keychain
            .get(&keychain::refresh_token_entry(&self.uid))?
            .ok_or(Error::NotSignedIn)?;
        let session = self.remote.auth.refresh(&refresh).await?;
        let token = Secret::new(session.id_token.expose().clone());
        *slot = Some((session.id_token, session.expires_at));
        Ok(token)
    }

    /// Runs `f` on the open store. The lock is held only for `f`: never across an await.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        // A panic while holding the lock cannot leave the database half-written (every write is
        // one transaction), so a poisoned lock is still safe to use.
        let mut guard = self
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = guard.as_mut().ok_or(Error::NotSignedIn)?;
        f(&mut open.store)
    }
}

/// An account's open database with this process's claim on it (`DataDir::lock_account`): they
/// are closed together, so another process may open the history only once this one has let go.
pub(crate) struct OpenStore {
    pub(crate) store: Store,
    pub(crate) _lock: ProcessLock,
}

/// Removes `dir` and everything in it; returns how many files were removed. A missing folder is
/// fine, so an interrupted wipe can be run again.
fn remove_dir_counting(dir: &std::path::Path) -> Result<u64> {
    let files = match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().filter(|e| e.path().is_file()).count() as u64,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    std::fs::remove_dir_all(dir)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryKeychain;
    use crate::remote::test_server::{Canned, TestServer};
    use crate::remote::Endpoints;

    const SIGN_UP: &str = r#"{"localId":"u1","email":"ada@example.com","idToken":"id-1",
        "refreshToken":"refresh-1","expiresIn":"3600"}"#;
    const REFRESHED: &str = r#"{"access_token":"id-2","expires_in":"3600","token_type":"Bearer",
        "refresh_token":"refresh-1","id_token":"id-2","user_id":"u1","project_id":"demo-cleom"}"#;
    const EXPIRED: &str =
        r#"{"error":{"code":"UNAUTHENTICATED","message":"the ID token has expired"}}"#;

    #[test]
    fn a_display_name_is_trimmed_and_at_most_so_long() {
        assert_eq!(
            display_name(Some("  Ada Lovelace \n")).unwrap().as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(display_name(Some(" \t ")).unwrap(), None);
        assert_eq!(display_name(Some("")).unwrap(), None);
        assert_eq!(display_name(None).unwrap(), None);
        // Characters, not bytes, and counted after trimming.
        let longest = "é".repeat(MAX_DISPLAY_NAME);
        assert_eq!(
            display_name(Some(&format!("  {longest}  "))).unwrap(),
            Some(longest.clone())
        );
        let err = display_name(Some(&format!("{longest}e"))).unwrap_err();
        assert_eq!(err.code(), "request.invalid");
    }

    #[test]
    fn a_draft_is_kept_up_to_its_limit() {
        check_draft("").unwrap();
        check_draft(&"x".repeat(MAX_DRAFT_BYTES)).unwrap();
        // Bytes, not characters: 2-byte characters reach the limit at half the count.
        check_draft(&"é".repeat(MAX_DRAFT_BYTES / 2)).unwrap();
        assert_eq!(
            check_draft(&"é".repeat(MAX_DRAFT_BYTES / 2 + 1))
                .unwrap_err()
                .code(),
            "request.invalid"
        );
        assert_eq!(
            check_draft(&"x".repeat(MAX_DRAFT_BYTES + 1))
                .unwrap_err()
                .code(),
            "request.invalid"
        );
    }

    fn generation_json(id: &str) -> String {
        serde_json::json!({
            "id": id, "prompt": "a fox", "mode": "text_to_video",
            "settings": {"durationSeconds": 5, "resolution": "1080p"},
            "references": [], "status": "queued", "progress": 0.0, "creditsCharged": 350,
            "outputUrl": null, "thumbnailUrl": null, "error": null,
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z",
            "deleted": false, "deletedAt": null
        })
        .to_string()
    }

    /// An account signed up against canned answers: sign-up, then the price list.
    async fn account(
        answers: Vec<Canned>,
    ) -> (Account, Arc<MemoryKeychain>, TestServer, tempfile::TempDir) {
        let pricing = serde_json::to_string(&PricingTable::local_default()).unwrap();
        let mut all = vec![Canned::json(200, SIGN_UP), Canned::json(200, &pricing)];
        all.extend(answers);
        let server = TestServer::start(all).await;
        let dir = tempfile::tempdir().unwrap();
        let keychain = Arc::new(MemoryKeychain::default());
        let remote = Remote::new(Endpoints::local(server.base()).unwrap()).unwrap();
        let device = Device::new(DataDir::at(dir.path()), keychain.clone(), remote).unwrap();
        let password = Secret::new("hunter22".to_string());
        let account = device.sign_up("ada@example.com", &password).await.unwrap();
        (account, keychain, server, dir)
    }

    fn bearer(server: &TestServer, index: usize) -> Option<String> {
        server.requests()[index]
            .header("authorization")
            .map(str::to_string)
    }

    #[tokio::test]
    async fn a_refused_id_token_is_refreshed_once_and_the_call_repeated() {
        let (account, keychain, server, _dir) = account(vec![
            Canned::json(401, EXPIRED),
            Canned::json(200, REFRESHED),
            Canned::json(200, &generation_json("g")),
        ])
        .await;
        let generation = account
            .generate("a fox", Settings::default())
            .await
            .unwrap();
        assert_eq!(generation.credits_charged, 350);
        let requests = server.requests();
        assert_eq!(
            requests.len(),
            5,
            "sign-up, pricing, refused, refresh, retry"
        );
        assert_eq!(bearer(&server, 2).as_deref(), Some("Bearer id-1"));
        assert!(requests[3]
            .target
            .starts_with("/securetoken.googleapis.com/v1/token"));
        assert_eq!(bearer(&server, 4).as_deref(), Some("Bearer id-2"));
        assert_eq!(
            requests[2].json()["id"],
            requests[4].json()["id"],
            "the retry is the same request, so it cannot be charged twice"
        );
        let kept = keychain.get(&keychain::refresh_token_entry("u1")).unwrap();
        assert_eq!(
            kept.map(|t| t.expose().clone()).as_deref(),
            Some("refresh-1")
        );
    }

    #[tokio::test]
    async fn a_second_refusal_is_the_error_and_keeps_the_refresh_token() {
        let (account, keychain, server, _dir) = account(vec![
            Canned::json(401, EXPIRED),
            Canned::json(200, REFRESHED),
            Canned::json(401, EXPIRED),
        ])
        .await;
        let error = account
            .generate("a fox", Settings::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "auth.session_expired");
        assert_eq!(
            server.requests().len(),
            5,
            "no second refresh, no third try"
        );
        assert!(keychain
            .get(&keychain::refresh_token_entry("u1"))
            .unwrap()
            .is_some());
    }

    #[tokio::test]
    async fn a_revoked_refresh_token_is_reported_not_retried_in_a_loop() {
        let (account, keychain, server, _dir) = account(vec![
            Canned::json(401, EXPIRED),
            Canned::json(
                400,
                r#"{"error":{"code":400,"message":"INVALID_REFRESH_TOKEN","status":"INVALID_ARGUMENT"}}"#,
            ),
        ])
        .await;
        let error = account
            .generate("a fox", Settings::default())
            .await
            .unwrap_err();
        assert_eq!(error.code(), "auth.session_expired");
        assert_eq!(server.requests().len(), 4);
        assert!(keychain
            .get(&keychain::refresh_token_entry("u1"))
            .unwrap()
            .is_some());
    }

    #[test]
    fn a_deletion_receipt_is_saved_as_text_the_user_alone_can_read() {
        let receipt = DeletionReceipt {
            email: "ada@example.com".into(),
            deleted_at: "2026-11-30T10:00:00Z".into(),
            removed: Removed {
                generations: 12,
                ledger_entries: 14,
                purchases: 1,
                media_files: 24,
                local_files: 5,
                keychain_entries: 2,
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let first = receipt.save(dir.path()).unwrap();
        let second = receipt.save(dir.path()).unwrap();
        assert_ne!(first, second, "never over an earlier receipt");
        assert!(first.ends_with("cleom-deletion-receipt-2026-11-30.txt"));
        let text = std::fs::read_to_string(&first).unwrap();
        for expected in [
            "ada@example.com",
            "2026-11-30T10:00:00Z",
            "12 generations",
            "24 media files",
            "2 keychain entries",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}
