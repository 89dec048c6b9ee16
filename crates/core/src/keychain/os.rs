//! The keychain the user already trusts: the operating system's, which is encrypted with the
//! user's login and guarded by the OS, so the database key and the refresh token are never
//! written to a file by us.
//!
//! Entries are named per data folder as well as per build channel (the service) and account:
//! two data folders of one account (a second profile, a test run, a portable copy) each have
//! their own key, so resetting or signing out in one never deletes the other's. An entry an
//! earlier version kept under the bare name moves to this folder's name the first time it is
//! read.

use std::sync::Arc;

use zeroize::Zeroize;

use sha2::{Digest, Sha256};

use super::{Channel, Keychain, KeychainError};
use crate::paths::DataDir;
use crate::secret::SecretString;

// keyring has a real store only for the OSes whose feature crates/core/Cargo.toml enables;
// anywhere else it would fall back to its mock, which accepts the database key and keeps
// nothing. Such a build must not exist.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
compile_error!(
    "Cleom Desktop keeps its keys in the OS keychain, and only Linux (Secret Service), macOS \
     (Keychain) and Windows (Credential Manager) have one enabled in crates/core/Cargo.toml"
);

/// What the OS keychain is called on the OS this was built for, as the user knows it.
#[cfg(target_os = "linux")]
const OS_KEYCHAIN_NAME: &str = "Secret Service";
#[cfg(target_os = "macos")]
const OS_KEYCHAIN_NAME: &str = "macOS Keychain";
#[cfg(target_os = "windows")]
const OS_KEYCHAIN_NAME: &str = "Windows Credential Manager";

/// The operating system's keychain, through `keyring`: Secret Service on Linux, the Keychain on
/// macOS, the Credential Manager on Windows (crates/core/Cargo.toml picks each).
///
/// Every call builds a new `keyring::Entry`, so a value is only ever read back from the store
/// itself, never from a handle that happens to remember it: a store that keeps nothing (as
/// keyring's mock, whose every entry has storage of its own) fails the probe.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: &'static str,
    /// The data folder's part of every entry name (see [`folder_id`]).
    folder: String,
    store: Arc<keyring::credential::CredentialBuilder>,
}

impl OsKeychain {
    /// The OS keychain of `channel`'s builds on the data folder `data`.
    pub fn new(channel: Channel, data: &DataDir) -> OsKeychain {
        OsKeychain {
            service: channel.service(),
            folder: folder_id(data),
            store: Arc::from(keyring::default::default_credential_builder()),
        }
    }

    /// An OS keychain of debug builds over another credential store (keyring's mock in tests).
    #[cfg(test)]
    pub(super) fn with_store(store: Arc<keyring::credential::CredentialBuilder>) -> OsKeychain {
        OsKeychain {
            service: Channel::Debug.service(),
            folder: "test".into(),
            store,
        }
    }

    /// `entry` of this data folder.
    fn entry(&self, entry: &str) -> Result<keyring::Entry, KeychainError> {
        self.raw_entry(&format!("{}/{entry}", self.folder), entry)
    }

    /// `entry` under its bare name, as versions before per-folder names kept it.
    fn unscoped_entry(&self, entry: &str) -> Result<keyring::Entry, KeychainError> {
        self.raw_entry(entry, entry)
    }

    fn raw_entry(&self, name: &str, entry: &str) -> Result<keyring::Entry, KeychainError> {
        self.store
            .build(None, self.service, name)
            .map(keyring::Entry::new_with_credential)
            .map_err(|e| classify(entry, e))
    }

    /// The value an earlier version kept under `entry`'s bare name, moved to this folder's
    /// name; `None` when there is none.
    fn move_unscoped(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
        let unscoped = self.unscoped_entry(entry)?;
        let value = match unscoped.get_password() {
            Ok(value) => SecretString::new(value),
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(classify(entry, e)),
        };
        self.set(entry, &value)?;
        match unscoped.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(classify(entry, e)),
        }
        Ok(Some(value))
    }
}

/// A data folder's part of the entry names: the first 16 hex digits of the SHA-256 of its
/// absolute path, so the name says nothing of the path and stays short. Absolute, not
/// canonical: it must be the same before the folder exists as after.
fn folder_id(data: &DataDir) -> String {
    let root = std::path::absolute(data.root()).unwrap_or_else(|_| data.root().to_path_buf());
    // Component by component: `a/b/` and `a/./b` are the folder `a/b` too.
    let root: std::path::PathBuf = root.components().collect();
    let digest = Sha256::digest(root.to_string_lossy().as_bytes());
    hex::encode(&digest[..8])
}

impl Keychain for OsKeychain {
    fn location(&self) -> String {
        format!(
            "the system keychain ({OS_KEYCHAIN_NAME}), service {}",
            self.service
        )
    }

    fn get(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
        match self.entry(entry)?.get_password() {
            Ok(value) => Ok(Some(SecretString::new(value))),
            Err(keyring::Error::NoEntry) => self.move_unscoped(entry),
            Err(e) => Err(classify(entry, e)),
        }
    }

    fn set(&self, entry: &str, value: &SecretString) -> Result<(), KeychainError> {
        self.entry(entry)?
            .set_password(value.expose())
            .map_err(|e| classify(entry, e))
    }

    fn delete(&self, entry: &str) -> Result<(), KeychainError> {
        match self.entry(entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(entry, e)),
        }
    }
}

/// Turns a keyring error into ours, dropping anything that could hold a secret.
fn classify(entry: &str, error: keyring::Error) -> KeychainError {
    match error {
        keyring::Error::NoStorageAccess(_) => KeychainError::Locked,
        keyring::Error::PlatformFailure(cause) => KeychainError::Unavailable(cause.to_string()),
        // The bytes are the stored secret: wipe them, report only the entry's name.
        keyring::Error::BadEncoding(mut bytes) => {
            bytes.zeroize();
            KeychainError::Unreadable(entry.to_string())
        }
        keyring::Error::Ambiguous(_) => KeychainError::Ambiguous(entry.to_string()),
        keyring::Error::TooLong(attribute, limit) => KeychainError::Rejected {
            entry: entry.to_string(),
            reason: format!("{attribute} is longer than {limit} characters"),
        },
        keyring::Error::Invalid(attribute, reason) => KeychainError::Rejected {
            entry: entry.to_string(),
            reason: format!("{attribute} {reason}"),
        },
        // `get` and `delete` handle a missing entry themselves; elsewhere it means a race.
        keyring::Error::NoEntry => KeychainError::Unavailable(format!(
            "the keychain item {entry:?} disappeared while it was being used"
        )),
        // Only reached if a future keyring adds a variant; we do not know whether it could
        // carry secret data, so its text is not shown.
        _ => KeychainError::Unavailable("the keychain reported an unexpected error".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{real_keychain_tested, secret};
    use super::super::{probe, KeychainState};
    use super::*;

    struct Failing(fn() -> keyring::Error);

    impl Keychain for Failing {
        fn get(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
            Err(classify(entry, (self.0)()))
        }
        fn set(&self, entry: &str, _: &SecretString) -> Result<(), KeychainError> {
            Err(classify(entry, (self.0)()))
        }
        fn delete(&self, entry: &str) -> Result<(), KeychainError> {
            Err(classify(entry, (self.0)()))
        }
    }

    #[test]
    fn probe_of_a_store_that_keeps_values_only_in_the_writing_handle_is_unavailable() {
        // keyring's mock: what keyring falls back to on an OS whose store is not enabled.
        let store: Arc<keyring::credential::CredentialBuilder> =
            Arc::from(keyring::mock::default_credential_builder());
        // The mock does give a value back through the handle that wrote it...
        let handle =
            keyring::Entry::new_with_credential(store.build(None, "cleom-test", "entry").unwrap());
        handle.set_password("kept here").unwrap();
        assert_eq!(handle.get_password().unwrap(), "kept here");
        // ...so only a probe that reads through a fresh handle sees that nothing is kept.
        let keychain = OsKeychain::with_store(store);
        assert_eq!(
            probe(&keychain),
            KeychainState::Unavailable {
                reason: "the keychain accepted a value but did not return it".to_string()
            }
        );
    }

    #[test]
    fn probe_classifies_locked_and_missing_keychains() {
        let locked = Failing(|| {
            keyring::Error::NoStorageAccess(std::io::Error::other("collection is locked").into())
        });
        assert_eq!(probe(&locked), KeychainState::Locked);
        let no_dbus = Failing(|| {
            keyring::Error::PlatformFailure(
                std::io::Error::other(
                    "Unable to autolaunch a dbus-daemon without a $DISPLAY for X11",
                )
                .into(),
            )
        });
        assert_eq!(
            probe(&no_dbus),
            KeychainState::Unavailable {
                reason: "Unable to autolaunch a dbus-daemon without a $DISPLAY for X11".to_string()
            }
        );
    }

    #[test]
    fn errors_have_codes_and_never_echo_secret_bytes() {
        let err = classify(
            "u1/refresh-token",
            keyring::Error::BadEncoding(b"\xffsecret-token".to_vec()),
        );
        assert_eq!(err.code(), "keychain.unreadable");
        assert!(!err.to_string().contains("secret-token"), "{err}");
        assert!(err.to_string().contains("u1/refresh-token"), "{err}");

        assert_eq!(
            classify(
                "e",
                keyring::Error::NoStorageAccess(std::io::Error::other("x").into())
            )
            .code(),
            "keychain.locked"
        );
        assert_eq!(
            classify(
                "e",
                keyring::Error::PlatformFailure(std::io::Error::other("x").into())
            )
            .code(),
            "keychain.unavailable"
        );
        assert_eq!(
            classify("e", keyring::Error::NoEntry).code(),
            "keychain.unavailable"
        );
        assert_eq!(
            classify("e", keyring::Error::Ambiguous(vec![])).code(),
            "keychain.ambiguous"
        );
        assert_eq!(
            classify("e", keyring::Error::TooLong("user".into(), 10)).code(),
            "keychain.rejected"
        );
        assert_eq!(
            classify(
                "e",
                keyring::Error::Invalid("user".into(), "is empty".into())
            )
            .code(),
            "keychain.rejected"
        );
    }

    #[test]
    fn a_folders_part_of_the_names_is_short_stable_and_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let later = dir.path().join("cleom");
        let before = folder_id(&DataDir::at(&later));
        std::fs::create_dir(&later).unwrap();
        assert_eq!(
            folder_id(&DataDir::at(&later)),
            before,
            "the same once it exists"
        );
        assert_eq!(before.len(), 16);
        assert!(before.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!before.contains("cleom"), "says nothing of the path");
        assert_ne!(folder_id(&DataDir::at(dir.path().join("other"))), before);
    }

    /// Tests against the real OS keychain. They run only when `CLEOM_REAL_KEYCHAIN=1`, which the
    /// test command sets inside a throw-away D-Bus session with an unlocked gnome-keyring; then
    /// any keychain failure fails the test.
    mod real {
        use super::*;

        /// The keychain of a data folder the real-keychain tests share (nothing is written there).
        fn os(channel: Channel) -> OsKeychain {
            OsKeychain::new(
                channel,
                &DataDir::at(std::env::temp_dir().join("cleom-keychain-tests")),
            )
        }

        #[test]
        fn two_data_folders_of_one_account_keep_their_own_entries() {
            if !real_keychain_tested("two_data_folders_of_one_account_keep_their_own_entries") {
                return;
            }
            let entry = unique("database-key");
            let [a, b] = ["folder-a", "folder-b"].map(|name| {
                OsKeychain::new(
                    Channel::Debug,
                    &DataDir::at(std::env::temp_dir().join(name)),
                )
            });
            a.set(&entry, &secret("key-a")).unwrap();
            b.set(&entry, &secret("key-b")).unwrap();
            // A reset or sign-out in one deletes its entry, never the other's.
            a.delete(&entry).unwrap();
            assert!(a.get(&entry).unwrap().is_none());
            assert_eq!(b.get(&entry).unwrap().unwrap().expose(), "key-b");
            b.delete(&entry).unwrap();
        }

        #[test]
        fn an_entry_under_its_bare_name_moves_to_the_folders_name_when_first_read() {
            if !real_keychain_tested(
                "an_entry_under_its_bare_name_moves_to_the_folders_name_when_first_read",
            ) {
                return;
            }
            let entry = unique("refresh-token");
            let keychain = os(Channel::Debug);
            keychain
                .unscoped_entry(&entry)
                .unwrap()
                .set_password("from-an-earlier-version")
                .unwrap();
            assert_eq!(
                keychain.get(&entry).unwrap().unwrap().expose(),
                "from-an-earlier-version"
            );
            assert!(
                matches!(
                    keychain.unscoped_entry(&entry).unwrap().get_password(),
                    Err(keyring::Error::NoEntry)
                ),
                "the bare name is gone"
            );
            assert_eq!(
                keychain.entry(&entry).unwrap().get_password().unwrap(),
                "from-an-earlier-version"
            );
            keychain.delete(&entry).unwrap();
        }

        fn unique(name: &str) -> String {
            format!("test-{}/{name}", hex::encode(rand::random::<[u8; 8]>()))
        }

        #[test]
        fn secrets_persist_across_handles() {
            if !real_keychain_tested("secrets_persist_across_handles") {
                return;
            }
            let entry = unique("refresh-token");
            os(Channel::Debug).set(&entry, &secret("token-1")).unwrap();
            let other = os(Channel::Debug);
            assert_eq!(other.get(&entry).unwrap().unwrap().expose(), "token-1");
            other.set(&entry, &secret("token-2")).unwrap();
            assert_eq!(
                os(Channel::Debug).get(&entry).unwrap().unwrap().expose(),
                "token-2"
            );
            os(Channel::Debug).delete(&entry).unwrap();
            assert!(other.get(&entry).unwrap().is_none());
            other.delete(&entry).unwrap();
        }

        #[test]
        fn debug_entries_are_invisible_to_release() {
            if !real_keychain_tested("debug_entries_are_invisible_to_release") {
                return;
            }
            let entry = unique("database-key");
            let debug = os(Channel::Debug);
            debug.set(&entry, &secret("debug-only")).unwrap();
            assert!(os(Channel::Release).get(&entry).unwrap().is_none());
            debug.delete(&entry).unwrap();
        }

        #[test]
        fn probe_reports_available() {
            if !real_keychain_tested("probe_reports_available") {
                return;
            }
            assert_eq!(probe(&os(Channel::Debug)), KeychainState::Available);
        }

        #[test]
        fn probe_child() {
            if std::env::var_os("CLEOM_PROBE_CHILD").is_none() {
                return;
            }
            let state = probe(&os(Channel::Debug));
            println!("PROBE={}", serde_json::to_string(&state).unwrap());
        }

        // The probes run in a child only on Linux, where the Secret Service can be swapped.
        #[cfg(target_os = "linux")]
        const PROBE_CHILD: [&str; 4] = [
            "--exact",
            "keychain::os::tests::real::probe_child",
            "--nocapture",
            "--test-threads=1",
        ];

        #[cfg(target_os = "linux")]
        fn probe_in_child(command: &mut std::process::Command) -> serde_json::Value {
            let output = command
                .env("CLEOM_PROBE_CHILD", "1")
                .env_remove("DISPLAY")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let json = stdout
                .lines()
                .find_map(|l| l.split_once("PROBE=").map(|(_, json)| json))
                .unwrap_or_else(|| {
                    panic!(
                        "child printed no probe result:\n{stdout}\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    )
                });
            serde_json::from_str(json).unwrap()
        }

        #[test]
        #[cfg(target_os = "linux")]
        fn probe_without_dbus_is_unavailable() {
            let state = probe_in_child(
                std::process::Command::new(std::env::current_exe().unwrap())
                    .args(PROBE_CHILD)
                    .env(
                        "DBUS_SESSION_BUS_ADDRESS",
                        "unix:path=/nonexistent/cleom-test-bus",
                    ),
            );
            assert_eq!(state["state"], "unavailable", "{state}");
            assert!(!state["reason"].as_str().unwrap().is_empty());
        }

        /// A fresh gnome-keyring that was started but never unlocked, in its own D-Bus session.
        #[test]
        #[cfg(target_os = "linux")]
        fn probe_of_a_locked_keychain_is_locked() {
            if !real_keychain_tested("probe_of_a_locked_keychain_is_locked") {
                return;
            }
            let home = tempfile::tempdir().unwrap();
            let state = probe_in_child(
                std::process::Command::new("dbus-run-session")
                    .args(["--", "sh", "-c", "gnome-keyring-daemon --start --components=secrets >/dev/null; exec \"$0\" \"$@\""])
                    .arg(std::env::current_exe().unwrap())
                    .args(PROBE_CHILD)
                    // Its own home and XDG folders: no keyring file or control socket of the
                    // parent's (unlocked) gnome-keyring may be found.
                    .env("HOME", home.path())
                    .env("XDG_DATA_HOME", home.path().join("data"))
                    .env("XDG_CONFIG_HOME", home.path().join("config"))
                    .env("XDG_CACHE_HOME", home.path().join("cache"))
                    .env("XDG_RUNTIME_DIR", home.path()),
            );
            assert_eq!(state["state"], "locked", "{state}");
        }
    }
}
