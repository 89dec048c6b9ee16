//! One signed-in account on this device: its encrypted store and its session with the backend.
//!
//! Everything the user does goes through here, so the local-first rule is kept in one place:
//! reads come from the encrypted store (and so work offline), writes go to the backend first and
//! are then stored locally, and a sync brings the store up to the server's state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;

use crate::device::Device;
use crate::error::{Error, Result};
use crate::export::{self, ExportSummary};
use crate::keychain::{self, Keychain};
use crate::model::{self, Generation, GenerationRequest, Mode, Profile, Settings};
use crate::paths::DataDir;
use crate::pricing::{Estimate, PricingTable};
use crate::remote::{auth::AuthSession, Remote};
use crate::secret::{Secret, SecretString};
use crate::store::{Page, PageCursor, Store};
use crate::sync::{self, SyncReport};

/// The store's `sync_state` key under which the last pricing table served is kept, so estimates
/// work offline.
const PRICING_KEY: &str = "pricing-table";

/// An ID token is refreshed when it has less than this left.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub struct Account {
    uid: String,
    email: String,
    data: DataDir,
    keychain: Arc<dyn Keychain>,
    remote: Remote,
    /// `None` once the account has been wiped from this device.
    store: Mutex<Option<Store>>,
    id_token: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

/// What an account deletion removed, for the receipt the user can keep.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionReceipt {
    pub email: String,
    pub deleted_at: String,
    pub removed: Removed,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    pub generations: u64,
    pub ledger_entries: u64,
    pub purchases: u64,
    pub media_files: u64,
    pub local_files: u64,
    pub keychain_entries: u64,
}

impl Account {
    pub(crate) fn new(
        uid: String,
        email: String,
        data: DataDir,
        keychain: Arc<dyn Keychain>,
        remote: Remote,
        store: Store,
        session: Option<AuthSession>,
    ) -> Account {
        let id_token = session.map(|s| (s.id_token, s.expires_at));
        Account {
            uid,
            email,
            data,
            keychain,
            remote,
            store: Mutex::new(Some(store)),
            id_token: tokio::sync::Mutex::new(id_token),
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

    pub fn library(&self, limit: usize, before: Option<&PageCursor>) -> Result<Page> {
        self.with_store(|s| Ok(s.list_generations(limit, before)?))
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
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let table = match self.saved_pricing() {
            Ok(table) => table,
            Err(_) => self.pricing().await?,
        };
        table
            .estimate(Mode::TextToVideo, settings)
            .map_err(|e| Error::InvalidInput(e.to_string()))
    }

    /// Asks the Cleom API for a new clip. The id is chosen here, so a retried request is
    /// recognised by the server and never charged twice.
    pub async fn generate(&self, prompt: &str, settings: Settings) -> Result<Generation> {
        model::validate_prompt(prompt).map_err(|e| Error::InvalidInput(e.to_string()))?;
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let estimate = self.estimate(&settings).await?;
        if let Some(profile) = self.profile()? {
            if estimate.total > profile.credit_balance {
                return Err(Error::InsufficientCredits {
                    needed: estimate.total,
                    balance: profile.credit_balance,
                });
            }
        }
        let request = GenerationRequest {
            id: Alphanumeric.sample_string(&mut rand::rng(), 20),
            prompt: prompt.to_string(),
            settings,
            references: Vec::new(),
        };
        let token = self.id_token().await?;
        let generation = self.remote.api.create_generation(&request, &token).await?;
        self.with_store(|s| Ok(s.upsert_generations(std::slice::from_ref(&generation))?))?;
        Ok(generation)
    }

    /// Brings the local store up to the server's state; see `sync`.
    pub async fn sync(&self) -> Result<SyncReport> {
        let token = self.id_token().await?;
        sync::pull(self, &self.remote, &token).await
    }

    /// Writes the one-click export of everything stored about the user into `folder`.
    pub fn export(&self, folder: &std::path::Path) -> Result<ExportSummary> {
        self.with_store(|s| Ok(export::write_zip(s, folder)?))
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

    /// A valid ID token, refreshed with the keychain's refresh token when it is about to expire.
    async fn id_token(&self) -> Result<SecretString> {
        let mut slot = self.id_token.lock().await;
        if let Some((token, expires_at)) = slot.as_ref() {
            if *expires_at > Instant::now() + TOKEN_MARGIN {
                return Ok(Secret::new(token.expose().clone()));
            }
        }
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
        let store = guard.as_mut().ok_or(Error::NotSignedIn)?;
        f(store)
    }
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
