//! Which keychain this device uses, decided once at start-up: an OS keychain that cannot keep
//! anything must not lose the keys, and the user must be told instead of getting a silent
//! fallback to plain text, so without one the app asks for a passphrase.

use super::os::OsKeychain;
use super::passphrase::{self, PassphraseKeychain};
use super::{probe, Channel, Keychain, KeychainError, KeychainState};
use crate::paths::DataDir;
use crate::secret::SecretString;

/// Where this device keeps its secrets: the OS keychain, or, when there is none, a file sealed
/// with a passphrase the user chooses.
#[derive(Debug)]
pub enum SecretStore {
    Os(OsKeychain),
    Passphrase {
        keychain: PassphraseKeychain,
        /// Why the OS keychain is not used (`None` when a passphrase was already set up).
        reason: Option<String>,
    },
}

impl SecretStore {
    /// Picks the store at start-up. A passphrase chosen earlier on this device wins (its file
    /// holds the keys, even if an OS keychain has appeared since); otherwise the OS keychain
    /// unless its probe says it is unavailable (a locked keychain stays the choice: the user
    /// can unlock it). The choice is visible in [`Keychain::state`].
    pub fn choose(data: &DataDir, channel: Channel) -> SecretStore {
        let keychain = PassphraseKeychain::new(passphrase::file_path(data, channel), channel);
        if keychain.is_set_up() {
            return SecretStore::Passphrase {
                keychain,
                reason: None,
            };
        }
        let os = OsKeychain::new(channel, data);
        let state = probe(&os);
        SecretStore::after_probe(os, state, keychain)
    }

    /// The choice once the OS keychain was probed and no passphrase is set up.
    fn after_probe(
        os: OsKeychain,
        state: KeychainState,
        keychain: PassphraseKeychain,
    ) -> SecretStore {
        match state {
            KeychainState::Unavailable { reason } => SecretStore::Passphrase {
                keychain,
                reason: Some(reason),
            },
            _ => SecretStore::Os(os),
        }
    }

    fn inner(&self) -> &dyn Keychain {
        match self {
            SecretStore::Os(os) => os,
            SecretStore::Passphrase { keychain, .. } => keychain,
        }
    }
}

impl Keychain for SecretStore {
    fn get(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
        self.inner().get(entry)
    }

    fn location(&self) -> String {
        self.inner().location()
    }

    fn set(&self, entry: &str, value: &SecretString) -> Result<(), KeychainError> {
        self.inner().set(entry, value)
    }

    fn delete(&self, entry: &str) -> Result<(), KeychainError> {
        self.inner().delete(entry)
    }

    fn state(&self) -> KeychainState {
        match self {
            SecretStore::Os(os) => probe(os),
            SecretStore::Passphrase { keychain, reason } => KeychainState::Passphrase {
                set_up: keychain.is_set_up(),
                unlocked: keychain.is_unlocked(),
                reason: reason.clone(),
            },
        }
    }

    fn set_up_passphrase(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        self.inner().set_up_passphrase(passphrase)
    }

    fn unlock_with_passphrase(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        self.inner().unlock_with_passphrase(passphrase)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::testing::{real_keychain_tested, secret};
    use super::*;

    #[test]
    fn an_os_keychain_that_keeps_nothing_is_not_chosen() {
        let keychain =
            OsKeychain::with_store(Arc::from(keyring::mock::default_credential_builder()));
        let dir = tempfile::tempdir().unwrap();
        let passphrase = PassphraseKeychain::new(
            passphrase::file_path(&DataDir::at(dir.path()), Channel::Debug),
            Channel::Debug,
        );
        let chosen = SecretStore::after_probe(keychain.clone(), probe(&keychain), passphrase);
        assert!(
            matches!(
                chosen,
                SecretStore::Passphrase {
                    reason: Some(_),
                    ..
                }
            ),
            "{chosen:?}"
        );
    }

    #[test]
    fn without_an_os_keychain_the_device_asks_for_a_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::at(dir.path());
        let passphrase = || {
            PassphraseKeychain::new(passphrase::file_path(&data, Channel::Debug), Channel::Debug)
        };
        // Unavailable: passphrase mode, not yet set up, with the reason.
        let store = SecretStore::after_probe(
            OsKeychain::new(Channel::Debug, &data),
            KeychainState::Unavailable {
                reason: "no D-Bus".into(),
            },
            passphrase(),
        );
        assert_eq!(
            store.state(),
            KeychainState::Passphrase {
                set_up: false,
                unlocked: false,
                reason: Some("no D-Bus".into())
            }
        );
        assert!(!store.state().is_usable());
        assert_eq!(
            store.get("u1/database-key").unwrap_err().code(),
            "keychain.passphrase_required"
        );
        assert_eq!(
            serde_json::to_value(store.state()).unwrap(),
            serde_json::json!({"state": "passphrase", "setUp": false, "unlocked": false, "reason": "no D-Bus"})
        );
        // Available or locked: the OS keychain, which has no passphrase.
        for state in [KeychainState::Available, KeychainState::Locked] {
            let store = SecretStore::after_probe(
                OsKeychain::new(Channel::Debug, &data),
                state,
                passphrase(),
            );
            assert!(matches!(store, SecretStore::Os(_)));
            assert_eq!(
                store
                    .unlock_with_passphrase(&secret("whatever it is"))
                    .unwrap_err()
                    .code(),
                "keychain.no_passphrase"
            );
        }
        // Once a passphrase is set up on this device, it is used whatever the OS offers.
        passphrase().set_up(&secret("a long passphrase")).unwrap();
        let store = SecretStore::choose(&data, Channel::Debug);
        assert!(matches!(
            store,
            SecretStore::Passphrase { reason: None, .. }
        ));
        assert_eq!(
            store
                .unlock_with_passphrase(&secret("not the one"))
                .unwrap_err()
                .code(),
            "keychain.wrong_passphrase"
        );
        store
            .unlock_with_passphrase(&secret("a long passphrase"))
            .unwrap();
        assert!(store.state().is_usable());
        store.set("u1/refresh-token", &secret("t")).unwrap();
        assert_eq!(
            store.get("u1/refresh-token").unwrap().unwrap().expose(),
            "t"
        );
    }

    /// Against the real OS keychain, when the test command provides one.
    mod real {
        use super::*;

        #[test]
        fn a_working_os_keychain_needs_no_passphrase() {
            if !real_keychain_tested("a_working_os_keychain_needs_no_passphrase") {
                return;
            }
            let dir = tempfile::tempdir().unwrap();
            let store = SecretStore::choose(&DataDir::at(dir.path()), Channel::Debug);
            assert!(matches!(store, SecretStore::Os(_)), "{store:?}");
            assert_eq!(store.state(), KeychainState::Available);
        }
    }
}
