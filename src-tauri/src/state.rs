//! What the app holds while it runs: the device, the signed-in account, the embedded backend,
//! and the sync state the UI shows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cleom_core::device::Device;
use cleom_core::keychain::{secret_store::SecretStore, Channel};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::Account;
use cleom_local_backend::{BackendConfig, RunningBackend};
use serde::Serialize;
use tokio::sync::{Notify, RwLock};

use crate::config::{AppConfig, BackendChoice};
use crate::error::CommandError;

pub struct AppState {
    pub device: Device,
    pub backend: BackendInfo,
    pub export_dir: std::path::PathBuf,
    pub account: RwLock<Option<Arc<Account>>>,
    pub sync: Mutex<SyncState>,
    /// Wakes the background sync at once (after a sign-in or a new generation).
    pub sync_now: Notify,
    /// One sync at a time, whether started by the timer or the user.
    pub sync_running: tokio::sync::Mutex<()>,
    /// Kept alive for as long as the app runs.
    _embedded: Option<RunningBackend>,
    /// The receipt of the account deleted last, for "Save the receipt" on the sign-in screen.
    pub last_receipt: Mutex<Option<cleom_core::account::DeletionReceipt>>,
    /// When the process began, and whether the Library has shown its first page since: the
    /// start-up time is logged once (see `commands::library::library_shown`).
    pub started: std::time::Instant,
    pub library_shown: std::sync::atomic::AtomicBool,
    /// The folder last chosen with "Download to…" (the picker opens there next time).
    download_folder: Mutex<Option<std::path::PathBuf>>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackendInfo {
    #[cfg_attr(test, ts(type = "\"embedded\" | \"remote\""))]
    pub kind: &'static str,
    pub url: String,
}

/// Where the background sync stands, as the sync indicator shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum SyncPhase {
    Idle,
    Syncing,
    /// The last sync could not reach Cleom; the app works from the local copy.
    Offline,
    /// The last sync failed for another reason (`SyncState::error` says which).
    Error,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    pub state: SyncPhase,
    pub last_sync_at: Option<String>,
    pub error: Option<CommandError>,
    /// Actions done here that wait to be sent.
    pub pending: u64,
    /// Actions the server refused (shown with their reason, to retry or dismiss).
    pub refused: u64,
    /// Documents from the server the sync could not read (set aside until the server changes
    /// them; `cleom_core::store::set_aside`).
    pub unreadable: u64,
    /// Why the latest of them could not be read.
    pub unreadable_reason: Option<String>,
}

impl Default for SyncState {
    fn default() -> Self {
        SyncState {
            state: SyncPhase::Idle,
            last_sync_at: None,
            error: None,
            pending: 0,
            refused: 0,
            unreadable: 0,
            unreadable_reason: None,
        }
    }
}

impl AppState {
    pub async fn start(
        config: AppConfig,
        started: std::time::Instant,
    ) -> Result<AppState, Box<dyn std::error::Error>> {
        let data = DataDir::from_env_or_default()?;
        let (backend, endpoints, embedded) = match config.backend {
            BackendChoice::Endpoints(endpoints) => {
                let info = BackendInfo {
                    kind: "remote",
                    url: endpoints.api.clone(),
                };
                (info, endpoints, None)
            }
            BackendChoice::OnePort(url) => {
                let endpoints = Endpoints::local(&url)?;
                (
                    BackendInfo {
                        kind: "remote",
                        url,
                    },
                    endpoints,
                    None,
                )
            }
            BackendChoice::Embedded => {
                let running = cleom_local_backend::start(BackendConfig {
                    data_dir: data.root().join("local-backend"),
                    port: 0,
                    job_duration: Duration::from_secs_f64(config.embedded_job_seconds),
                    admin_token: None,
                })
                .await?;
                let url = running.base_url();
                let endpoints = Endpoints::local(&url)?;
                (
                    BackendInfo {
                        kind: "embedded",
                        url,
                    },
                    endpoints,
                    Some(running),
                )
            }
        };
        let remote = Remote::new(endpoints)?;
        // The OS keychain, or passphrase mode when there is none (the UI asks for it).
        let keychain = Arc::new(SecretStore::choose(&data, Channel::current()));
        if let SecretStore::Passphrase {
            reason: Some(reason),
            ..
        } = keychain.as_ref()
        {
            tracing::warn!(reason, "no usable OS keychain: passphrase mode");
        }
        let device = Device::new(data, keychain, remote)?;
        let account = match device.resume() {
            Ok(account) => account.map(Arc::new),
            Err(e) => {
                tracing::warn!(code = e.code(), "could not resume the last session");
                None
            }
        };
        Ok(AppState {
            device,
            backend,
            export_dir: config.export_dir,
            account: RwLock::new(account),
            sync: Mutex::new(SyncState::default()),
            sync_now: Notify::new(),
            sync_running: tokio::sync::Mutex::new(()),
            _embedded: embedded,
            last_receipt: Mutex::new(None),
            started,
            library_shown: Default::default(),
            download_folder: Mutex::new(None),
        })
    }

    pub async fn account(&self) -> Result<Arc<Account>, CommandError> {
        self.account
            .read()
            .await
            .clone()
            .ok_or_else(|| cleom_core::Error::NotSignedIn.into())
    }

    pub fn sync_state(&self) -> SyncState {
        self.sync.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_sync_state(&self, f: impl FnOnce(&mut SyncState)) -> SyncState {
        let mut guard = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
        guard.clone()
    }

    /// The folder last chosen with "Download to…", if any.
    pub fn download_folder(&self) -> Option<std::path::PathBuf> {
        self.download_folder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_download_folder(&self, folder: std::path::PathBuf) {
        *self
            .download_folder
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(folder);
    }
}

/// Milliseconds since `started`, for the start-up milestones in the log.
pub fn ms_since(started: std::time::Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_phase_crosses_ipc_as_the_indicator_expects() {
        let words: Vec<_> = [
            SyncPhase::Idle,
            SyncPhase::Syncing,
            SyncPhase::Offline,
            SyncPhase::Error,
        ]
        .iter()
        .map(|phase| serde_json::to_value(phase).unwrap())
        .collect();
        assert_eq!(
            words,
            ["idle", "syncing", "offline", "error"].map(serde_json::Value::from)
        );
        assert_eq!(
            serde_json::to_value(SyncState::default()).unwrap()["state"],
            "idle"
        );
    }
}
