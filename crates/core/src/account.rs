//! One signed-in account on this device: the facade the shell and the command line use.
//!
//! Everything the user does goes through here, so the local-first rule is kept in one place:
//! reads come from the encrypted store (and so work offline), writes go to the backend first and
//! are then stored locally, and a sync brings the store up to the server's state. The work
//! itself is done by the parts an `Account` ties together: its `Session` (tokens, credential
//! changes), its `LocalCopy` (the store), the `SyncEngine` over both, and the backend clients.

use std::sync::Arc;

use serde::Serialize;

use crate::access::{self, AccessReport};
use crate::analytics::{self, Feature};
use crate::clips;
use crate::clips::download::{ClipSource, InFlight};
use crate::error::{Error, Result};
use crate::export::{self, ExportSummary};
use crate::local_copy::LocalCopy;
use crate::model::{Generation, LedgerEntry, Profile, Purchase, Reference, Settings};
use crate::pricing::{Estimate, PricingTable};
use crate::remote::Remote;
use crate::secret::SecretString;
use crate::session::Session;
use crate::signed_in_devices::ThisDevice;
use crate::store::new_client_id;
use crate::store::{
    FacetCounts, ItemWithThumbnail, LibraryCursor, LibraryQuery, OutboxAction, OutboxEntry,
    ProfileField, QueryPage,
};
use crate::studio::{self, Generated, Studio};
use crate::sync::{SyncEngine, SyncProgress, SyncReport};

/// The longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

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

pub struct Account {
    session: Session,
    local: LocalCopy,
    remote: Remote,
    /// Feature counts, sent only with the user's opt-in (see `analytics`).
    analytics: analytics::Counter,
    /// The clip downloads under way, one per generation (see `clips::download`).
    clip_downloads: InFlight,
    /// This device's entry in the account's signed-in devices.
    this_device: ThisDevice,
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
        session: Session,
        local: LocalCopy,
        remote: Remote,
        this_device: ThisDevice,
    ) -> Account {
        Account {
            session,
            local,
            remote,
            analytics: analytics::Counter::default(),
            clip_downloads: InFlight::default(),
            this_device,
        }
    }

    pub fn uid(&self) -> &str {
        self.session.uid()
    }

    pub fn email(&self) -> &str {
        self.session.email()
    }

    /// The profile as last synced (the balance shown offline).
    pub fn profile(&self) -> Result<Option<Profile>> {
        self.local.with_store(|s| Ok(s.profile()?))
    }

    /// The credit ledger as last synced, oldest first.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>> {
        self.local.with_store(|s| Ok(s.ledger()?))
    }

    /// The purchases as last synced, oldest first.
    pub fn purchases(&self) -> Result<Vec<Purchase>> {
        self.local.with_store(|s| Ok(s.purchases()?))
    }

    /// A page of the Library's default view (everything, newest first: `LibraryQuery::default()`
    /// with this `limit` and `after`). Unlike [`Account::query`], not counted as a search.
    pub fn library(&self, limit: usize, after: Option<&LibraryCursor>) -> Result<QueryPage> {
        let query = LibraryQuery {
            limit,
            after: after.cloned(),
            ..LibraryQuery::default()
        };
        self.local.with_store(|s| Ok(s.query(&query)?))
    }

    /// A page of the Library for a search, filters and a sort (see `store::library`).
    pub fn query(&self, query: &LibraryQuery) -> Result<QueryPage> {
        if query.after.is_none() {
            self.analytics.record(Feature::Search);
        }
        self.local.with_store(|s| Ok(s.query(query)?))
    }

    /// How many generations each filter value would show under `query`.
    pub fn counts(&self, query: &LibraryQuery) -> Result<FacetCounts> {
        self.local.with_store(|s| Ok(s.counts(query)?))
    }

    /// One generation with its stored thumbnail.
    pub fn item_with_thumbnail(&self, id: &str) -> Result<Option<ItemWithThumbnail>> {
        self.local.with_store(|s| Ok(s.item_with_thumbnail(id)?))
    }

    /// Remembers where the user saved a generation's clip; `false` if the generation is gone.
    pub fn record_download(&self, id: &str, path: &std::path::Path) -> Result<bool> {
        self.local.with_store(|s| Ok(s.record_download(id, path)?))
    }

    pub fn generation(&self, id: &str) -> Result<Option<Generation>> {
        self.local.with_store(|s| Ok(s.generation(id)?))
    }

    /// The stored thumbnail of a generation: `(mime type, bytes)`.
    pub fn thumbnail(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.local.with_store(|s| Ok(s.thumbnail(id)?))
    }

    /// True while any generation is still queued or running, so the app polls faster.
    pub fn has_active_generations(&self) -> Result<bool> {
        self.local.with_store(|s| Ok(s.has_active_generations()?))
    }

    /// The served pricing table, refreshed when online and remembered for offline estimates.
    pub async fn pricing(&self) -> Result<PricingTable> {
        self.studio().pricing().await
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
        self.studio().estimate(settings, references).await
    }

    /// Asks the Cleom API for a new clip. The id is chosen here, so a retried request is
    /// recognised by the server and never charged twice.
    pub async fn generate(&self, prompt: &str, settings: Settings) -> Result<Generation> {
        self.generate_with(prompt, settings, Vec::new()).await
    }

    /// [`Account::generate`] with references attached (their metadata: name, kind and size);
    /// queued in the outbox when the request cannot be delivered (see `studio`).
    pub async fn generate_with(
        &self,
        prompt: &str,
        settings: Settings,
        references: Vec<Reference>,
    ) -> Result<Generation> {
        match self.studio().generate(prompt, settings, references).await? {
            Generated::Sent(generation) => {
                self.analytics.record(Feature::Generate);
                Ok(generation)
            }
            Generated::Queued(placeholder) => {
                self.analytics.record(Feature::GenerateOffline);
                Ok(placeholder)
            }
        }
    }

    fn studio(&self) -> Studio<'_> {
        Studio {
            local: &self.local,
            session: &self.session,
            remote: &self.remote,
        }
    }

    /// Deletes generations here at once and queues their deletion on the server (sent by the
    /// next sync, in order; offline, whenever the server can be reached again). Returns how
    /// many were queued: ids already gone or already queued are skipped.
    pub fn delete_generations(&self, ids: &[String]) -> Result<usize> {
        self.local
            .with_store(|s| {
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
                        new_client_id(),
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
            .inspect(|_| self.remove_clip_leftovers())
    }

    /// The app's own copies of clips whose generation is gone leave with it (see `clips`). A
    /// copy that cannot be removed now is removed by the next call; the deletion stands.
    fn remove_clip_leftovers(&self) {
        if let Err(e) = clips::remove_leftovers(&self.local, &self.clip_downloads) {
            tracing::warn!(
                code = e.code(),
                "the app's copies of deleted clips stay for now"
            );
        }
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
        let queued = self.local.with_store(|s| Ok(s.delete_all_generations()?))?;
        self.remove_clip_leftovers();
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
        self.local.with_store(|s| {
            Ok(s.enqueue(&[(new_client_id(), OutboxAction::SetProfileField { change })])?)
        })
    }

    /// Every action waiting for the server, or refused by it, in the order they are sent.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        self.local.with_store(|s| Ok(s.outbox()?))
    }

    /// How many actions wait to be sent, and how many the server refused.
    pub fn outbox_counts(&self) -> Result<(u64, u64)> {
        self.local.with_store(|s| Ok(s.outbox_counts()?))
    }

    /// How many documents from the server could not be read and are set aside, and why the
    /// latest could not (see `store::set_aside`).
    pub fn set_aside_summary(&self) -> Result<(u64, Option<String>)> {
        self.local.with_store(|s| Ok(s.set_aside_summary()?))
    }

    /// Sends a refused action again with the next sync; `false` if there is no such refusal.
    pub fn retry_action(&self, seq: i64) -> Result<bool> {
        self.local.with_store(|s| Ok(s.outbox_retry(seq)?))
    }

    /// Drops a refused action and undoes its local effect; `false` if there is no such refusal.
    pub fn dismiss_action(&self, seq: i64) -> Result<bool> {
        self.local.with_store(|s| Ok(s.outbox_dismiss(seq)?))
    }

    /// The Studio's saved draft (opaque to the core: the app decides its shape), if any.
    pub fn draft(&self) -> Result<Option<String>> {
        Ok(self
            .local
            .with_store(|s| Ok(s.cursor(studio::DRAFT_KEY)?))?
            .filter(|d| !d.is_empty()))
    }

    /// Keeps the Studio's draft in the encrypted store, so it survives a restart; an empty
    /// draft forgets it. A draft larger than `studio::MAX_DRAFT_BYTES` is refused.
    pub fn save_draft(&self, draft: &str) -> Result<()> {
        studio::check_draft(draft)?;
        self.local
            .with_store(|s| Ok(s.set_cursor(studio::DRAFT_KEY, draft)?))
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
        self.this_device
            .report_if_due(&self.session, &self.remote.api)
            .await?;
        let engine = SyncEngine {
            local: &self.local,
            remote: &self.remote,
            session: &self.session,
        };
        let report = engine.run(progress).await?;
        if report.generations > 0 {
            self.remove_clip_leftovers();
        }
        Ok(report)
    }

    /// Saves generation `id`'s clip into `folder`; returns the file's path (see `clips`).
    pub async fn save_clip(
        &self,
        id: &str,
        folder: &std::path::Path,
    ) -> Result<std::path::PathBuf> {
        clips::save(&self.clip_source(), id, folder).await
    }

    /// The clip to open in the default app: the one the user saved, if it is still there, or a
    /// copy downloaded into the account's private folder.
    pub async fn clip_to_open(&self, id: &str) -> Result<std::path::PathBuf> {
        clips::to_open(&self.clip_source(), id).await
    }

    fn clip_source(&self) -> ClipSource<'_> {
        ClipSource {
            local: &self.local,
            session: &self.session,
            api: &self.remote.api,
            in_flight: &self.clip_downloads,
        }
    }

    /// The right of access: everything stored about this account, here and on the server.
    pub async fn access_report(&self) -> Result<AccessReport> {
        access::report(&self.local, &self.session, &self.remote, &self.this_device).await
    }

    /// Tells Cleom that this device is signing out, so its session leaves the account's list
    /// of signed-in devices; best effort, at most a few seconds (see `signed_in_devices`).
    /// Then `Device::sign_out` forgets the session here.
    pub async fn end_session(&self) {
        self.this_device.end(&self.session, &self.remote.api).await;
    }

    /// Ends every other session of this account ("sign out everywhere else"); this device stays
    /// signed in. Needs the password (see `signed_in_devices`); answers how many ended.
    pub async fn sign_out_everywhere_else(&self, password: &SecretString) -> Result<u64> {
        self.this_device
            .sign_out_others(&self.session, &self.remote.api, password)
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
        self.local
            .with_store(|s| Ok(export::write_zip(s, &dest, &options, None, &monitor)?))
    }

    /// Writes the export to `dest`: with `options.include_videos`, the clips are downloaded
    /// first (resumably, see `clips::download`); the records are then written holding the store
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
        let clips = if options.include_videos {
            Some(self.local.private_folder(clips::download::EXPORT_FOLDER)?)
        } else {
            None
        };
        let written = Arc::clone(&self)
            .write_export(dest, options, clips.clone(), progress, cancel)
            .await;
        // In the zip now, or the export was canceled or failed: the downloads go either way.
        if let Some(folder) = clips {
            let _ = std::fs::remove_dir_all(folder);
        }
        written
    }

    /// [`Account::export_to`]'s work: the clips into `clips` (if wanted), then the zip.
    async fn write_export(
        self: Arc<Self>,
        dest: std::path::PathBuf,
        options: export::ExportOptions,
        clips: Option<std::path::PathBuf>,
        progress: Arc<dyn Fn(export::ExportProgress) + Send + Sync>,
        cancel: Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<ExportSummary> {
        let downloaded = match &clips {
            Some(folder) => {
                clips::download::for_export(
                    &self.clip_source(),
                    folder,
                    options.only.as_ref(),
                    &*progress,
                    &cancel,
                )
                .await?
            }
            None => 0,
        };
        tokio::task::spawn_blocking(move || -> Result<ExportSummary> {
            let mut monitor = export::Monitor::new(&*progress, &cancel);
            monitor.bytes_downloaded = downloaded;
            let mut zip = export::ZipExport::create(&dest, &options)?;
            self.local
                .with_store(|s| Ok(zip.write_records(s, clips.as_deref(), &monitor)?))?;
            zip.write_videos(&monitor)?;
            Ok(zip.finish(&monitor)?)
        })
        .await
        .map_err(|e| Error::InvalidInput(format!("the export stopped unexpectedly: {e}")))?
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
        self.session.request_email_change(password, new_email).await
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
        self.session.change_password(current, new_password).await
    }

    /// Deletes the account everywhere: the password is checked again by signing in, the Cleom
    /// API removes everything on the server, then this device's copy and keychain entries go.
    pub async fn delete(&self, password: &SecretString) -> Result<DeletionReceipt> {
        let fresh = self.session.reauthenticate(password).await?;
        let server = self.remote.api.delete_account(&fresh.id_token).await?;
        let mut removed = Removed {
            generations: server.generations,
            ledger_entries: server.ledger_entries,
            purchases: server.purchases,
            media_files: server.media_files,
            ..Removed::default()
        };
        let email = self.email().to_string();
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
        self.local.wipe()
    }

    /// "Reset this device's copy and download it again from Cleom" for this account: closes its
    /// store, sets its history aside for 30 days and removes the rest of its local folder and
    /// its database key (see `Device::reset_local_copy`). The session stays; afterwards this
    /// `Account` answers `auth.not_signed_in`, and `Device::resume` opens a new, empty copy that
    /// the next sync fills. `local_copy.set_aside_failed` leaves the copy as it was.
    pub fn reset_local_copy(&self) -> Result<()> {
        self.local.reset(time::OffsetDateTime::now_utc())
    }

    /// This account's copy on the device, for tests that put rows into its store directly.
    #[cfg(test)]
    pub(crate) fn local(&self) -> &LocalCopy {
        &self.local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::keychain::memory::MemoryKeychain;
    use crate::keychain::{self, Keychain};
    use crate::paths::DataDir;
    use crate::remote::test_server::{Canned, TestServer};
    use crate::remote::Endpoints;
    use crate::secret::Secret;

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

    /// Serves `body` to every GET, slowly (64 KiB every millisecond) and to many clients at
    /// once, breaking the connection off after `cut` bytes if given; answers the server's
    /// address and how many requests it has had.
    async fn slow_clip_server(
        body: Vec<u8>,
        cut: Option<usize>,
    ) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = served.clone();
        let body = Arc::new(body);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = body.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        let Ok(n @ 1..) = stream.read(&mut buf).await else {
                            return;
                        };
                        request.extend_from_slice(&buf[..n]);
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let sent = &body[..cut.unwrap_or(body.len())];
                    for chunk in sent.chunks(64 * 1024) {
                        if stream.write_all(chunk).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                });
            }
        });
        (base, served)
    }

    /// Stores finished generations `ids` whose clips are `{media}/media/<id>.mp4`.
    fn store_finished(account: &Account, media: &str, ids: &[&str]) {
        let generations: Vec<Generation> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                serde_json::from_value(serde_json::json!({
                    "id": id, "prompt": format!("take {i} of a fox at dawn"),
                    "mode": "text_to_video",
                    "settings": {"durationSeconds": 5, "resolution": "1080p"},
                    "status": "succeeded", "outputUrl": format!("{media}/media/{id}.mp4"),
                    "createdAt": format!("2025-03-01T10:00:0{i}Z"),
                    "updatedAt": "2025-03-01T10:00:00Z"
                }))
                .unwrap()
            })
            .collect();
        account
            .local()
            .with_store(|s| Ok(s.upsert_generations(&generations)?))
            .unwrap();
    }

    fn files_in(folder: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[tokio::test]
    async fn the_apps_clip_copies_leave_with_their_generations_and_the_users_downloads_stay() {
        let (account, _keychain, _server, dir) = account(vec![]).await;
        let (media, _) = slow_clip_server(b"a clip".to_vec(), None).await;
        store_finished(&account, &media, &["g1", "g2", "g3"]);
        let copies = dir.path().join("accounts/u1/clips");
        for id in ["g1", "g2", "g3"] {
            let opened = account.clip_to_open(id).await.unwrap();
            assert!(opened.starts_with(&copies), "{opened:?}");
        }
        assert_eq!(files_in(&copies).len(), 3);

        // A download the user chose replaces the app's copy: "Open" plays theirs from now on.
        let downloads = dir.path().join("Downloads");
        let saved = account.save_clip("g3", &downloads).await.unwrap();
        assert_eq!(account.clip_to_open("g3").await.unwrap(), saved);
        assert_eq!(files_in(&copies).len(), 2, "{:?}", files_in(&copies));

        account.delete_generations(&["g1".to_string()]).unwrap();
        let left = files_in(&copies);
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].contains("g2"), "{left:?}");

        account.delete_all_generations().unwrap();
        assert_eq!(files_in(&copies), Vec::<String>::new());
        assert_eq!(
            std::fs::read(&saved).unwrap(),
            b"a clip",
            "the user's own download stays"
        );
    }

    #[tokio::test]
    async fn a_failed_download_and_a_canceled_export_leave_no_file_of_the_clip() {
        let (account, _keychain, _server, dir) = account(vec![]).await;
        let clip = vec![7u8; 1024 * 1024];
        let (broken, _) = slow_clip_server(clip.clone(), Some(200 * 1024)).await;
        store_finished(&account, &broken, &["g1"]);
        let downloads = dir.path().join("Downloads");
        account.save_clip("g1", &downloads).await.unwrap_err();
        assert_eq!(files_in(&downloads), Vec::<String>::new(), "no .part");

        let (media, _) = slow_clip_server(clip, None).await;
        store_finished(&account, &media, &["g2", "g3"]);
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = cancel.clone();
        let progress = Arc::new(move |p: export::ExportProgress| {
            if p.items_done >= 1 {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let options = export::ExportOptions {
            include_videos: true,
            only: Some(["g2".to_string(), "g3".to_string()].into()),
            ..export::ExportOptions::default()
        };
        let account = Arc::new(account);
        let err = Arc::clone(&account)
            .export_to(dir.path().join("export.zip"), options, progress, cancel)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "export.canceled");
        assert!(!dir.path().join("export.zip").exists());
        assert!(
            !dir.path().join("accounts/u1/export-videos").exists(),
            "{:?}",
            files_in(&dir.path().join("accounts/u1/export-videos"))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_saves_of_one_clip_at_once_share_one_download_with_the_right_bytes() {
        let (account, _keychain, _server, dir) = account(vec![]).await;
        let clip: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let (media, served) = slow_clip_server(clip.clone(), None).await;
        store_finished(&account, &media, &["g1"]);
        let folder = dir.path().join("Downloads");
        let (first, second) = tokio::join!(
            account.save_clip("g1", &folder),
            account.save_clip("g1", &folder)
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(
            first, second,
            "the second save answers the first one's file"
        );
        assert!(
            std::fs::read(&first).unwrap() == clip,
            "the clip's exact bytes"
        );
        assert_eq!(
            served.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "one download for both"
        );
        let names: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no second copy, no .part left: {names:?}");
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
