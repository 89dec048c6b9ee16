//! "Everything we store about you": the right of access, answered from what the app itself
//! holds — the profile, how much history there is, what sits on this device (the encrypted
//! database and its size, thumbnails, saved clips, histories set aside by a reset and when they
//! go, keychain entries by name), what the server holds, where the account is signed in, and
//! the sync state.
//!
//! Keychain entries are listed by name and presence only: their values (the database key, the
//! refresh token) never leave the keychain, not even into this report.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::keychain;
use crate::local_copy::LocalCopy;
use crate::model::Profile;
use crate::recovery::SetAside;
use crate::remote::{documents, Remote};
use crate::session::Session;
use crate::signed_in_devices::{SignedInDevice, ThisDevice};
use crate::store::Holdings;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    pub uid: String,
    pub email: String,
    /// The profile as last synced.
    pub profile: Option<Profile>,
    pub on_this_device: DeviceHoldings,
    pub on_the_server: ServerHoldings,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DeviceHoldings {
    /// The encrypted database (SQLCipher) and the bytes it takes, with its journal.
    pub database_path: String,
    pub database_bytes: u64,
    #[serde(flatten)]
    pub holdings: Holdings,
    /// Where the keychain keeps its secrets, and the entries this account has there, by name.
    pub keychain_location: String,
    pub keychain_entries: Vec<KeychainEntry>,
    /// Actions done here that the server has not heard of yet, and refused ones.
    pub pending_actions: u64,
    pub refused_actions: u64,
    /// Every file the app keeps for this account here: the history and its journal, the clips
    /// opened from the app, an export's downloads under way, the histories set aside by a
    /// reset, and who is signed in.
    pub files: Vec<HeldFile>,
    /// The histories "reset this device's copy" set aside, oldest first: kept for recovery
    /// until `removed_after`, each with its key in the keychain (listed in `keychain_entries`).
    pub set_aside: Vec<SetAsideCopy>,
}

/// A history set aside by a reset, as the user is shown it: the file to send for recovery, and
/// when the app removes it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SetAsideCopy {
    /// The database file ("Show in folder" reveals it); its `-wal` and `-shm` may be beside it.
    pub database_path: String,
    /// Its files' bytes together.
    pub bytes: u64,
    /// When it was set aside, and when the app removes it (RFC 3339, UTC).
    pub set_aside_at: String,
    pub removed_after: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct HeldFile {
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct KeychainEntry {
    pub name: String,
    /// What it is for, in words.
    pub purpose: &'static str,
    pub present: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ServerHoldings {
    /// The profile document as the server holds it now; `None` when the server could not be
    /// asked (offline) — `error` says why.
    pub profile: Option<Profile>,
    pub error: Option<String>,
    /// What the server held at the last sync: the history on this device is a copy of it.
    pub as_of_last_sync: Holdings,
    /// Where the account is signed in, as the Cleom API records it; empty when it could not
    /// be asked — `sessions_error` says why.
    pub signed_in_devices: Vec<SignedInDevice>,
    pub sessions_error: Option<String>,
}

/// The right of access: everything stored about this account, here and on the server.
pub(crate) async fn report(
    local: &LocalCopy,
    session: &Session,
    remote: &Remote,
    this_device: &ThisDevice,
) -> Result<AccessReport> {
    let holdings = local.with_store(|s| Ok(s.holdings()?))?;
    let (pending, refused) = local.with_store(|s| Ok(s.outbox_counts()?))?;
    let database_path = local.database_path()?;
    let database_bytes = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut path = database_path.clone().into_os_string();
            path.push(suffix);
            std::fs::metadata(path).ok().map(|m| m.len())
        })
        .sum();
    let files = local.files()?;
    let set_aside = local.set_aside()?;
    let keychain_entries = [
        (
            keychain::database_key_entry(session.uid()),
            "the key that decrypts the history on this device",
        ),
        (
            keychain::refresh_token_entry(session.uid()),
            "keeps this device signed in",
        ),
    ]
    .into_iter()
    .chain(set_aside.iter().map(|copy| {
        (
            keychain::set_aside_key_entry(&copy.uid, &copy.name),
            "the key of a history set aside for recovery",
        )
    }))
    .map(|(name, purpose)| {
        let present = local.keychain().get(&name).ok().flatten().is_some();
        KeychainEntry {
            name,
            purpose,
            present,
        }
    })
    .collect();
    let server = session
        .authorized(|token| async move {
            Ok(remote
                .firestore
                .get(&format!("users/{}", session.uid()), &token)
                .await?)
        })
        .await;
    let (server_profile, error) = match server {
        Ok(Some(document)) => (Some(documents::profile_from_document(&document)?), None),
        Ok(None) => (None, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let (signed_in_devices, sessions_error) = match this_device.list(session, &remote.api).await {
        Ok(devices) => (devices, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(AccessReport {
        uid: session.uid().to_string(),
        email: session.email().to_string(),
        profile: local.with_store(|s| Ok(s.profile()?))?,
        on_this_device: DeviceHoldings {
            database_path: database_path.display().to_string(),
            database_bytes,
            holdings: holdings.clone(),
            keychain_location: local.keychain().location(),
            keychain_entries,
            pending_actions: pending,
            refused_actions: refused,
            set_aside: set_aside_copies(&set_aside, &files),
            files: files
                .into_iter()
                .map(|(path, bytes)| HeldFile {
                    path: path.display().to_string(),
                    bytes,
                })
                .collect(),
        },
        on_the_server: ServerHoldings {
            profile: server_profile,
            error,
            as_of_last_sync: holdings,
            signed_in_devices,
            sessions_error,
        },
    })
}

/// The set-aside histories as the report shows them, each with the bytes of its files among
/// `files`.
fn set_aside_copies(copies: &[SetAside], files: &[(PathBuf, u64)]) -> Vec<SetAsideCopy> {
    copies
        .iter()
        .map(|copy| SetAsideCopy {
            database_path: copy.database_path().display().to_string(),
            bytes: files
                .iter()
                .filter(|(path, _)| path.starts_with(&copy.folder))
                .map(|(_, bytes)| bytes)
                .sum(),
            set_aside_at: rfc3339(copy.at),
            removed_after: rfc3339(copy.removed_after()),
        })
        .collect()
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_set_aside_copy_says_when_it_goes_and_what_it_weighs() {
        let copy = SetAside {
            uid: "u1".into(),
            name: "20261202T061500Z".into(),
            folder: PathBuf::from("/data/set-aside/u1/20261202T061500Z"),
            at: datetime!(2026-12-02 06:15:00 UTC),
        };
        let files = [
            (PathBuf::from("/data/accounts/u1/history.db"), 100),
            (copy.folder.join("history.db"), 4096),
            (copy.folder.join("history.db-wal"), 10),
        ];
        let shown = set_aside_copies(std::slice::from_ref(&copy), &files);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].bytes, 4106);
        assert_eq!(shown[0].set_aside_at, "2026-12-02T06:15:00Z");
        assert_eq!(shown[0].removed_after, "2027-01-01T06:15:00Z");
        assert_eq!(
            PathBuf::from(&shown[0].database_path),
            copy.folder.join("history.db")
        );
    }
}
