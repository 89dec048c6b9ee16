//! A keychain that forgets everything when the process ends: for unit tests, which need two
//! handles to see the same entries (keyring's own mock gives every entry private storage), and
//! for a session the user chose not to remember.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{Keychain, KeychainError};
use crate::secret::SecretString;

/// A keychain that lives only as long as the process.
///
/// Used by unit tests (two handles must see the same entries, which keyring's mock does not do)
/// and for a session the user explicitly chose not to remember: nothing survives a restart, so
/// a database created with a key kept here cannot be reopened after the app quits. The app must
/// say so to the user; it is never a silent fallback for a broken OS keychain.
#[derive(Debug, Default)]
pub struct MemoryKeychain {
    entries: Mutex<HashMap<String, SecretString>>,
}

impl MemoryKeychain {
    pub fn new() -> MemoryKeychain {
        MemoryKeychain::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        // A panic elsewhere cannot leave a HashMap of secrets half-updated in a way that
        // matters here, so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Keychain for MemoryKeychain {
    fn get(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
        Ok(self
            .entries()
            .get(entry)
            .map(|value| SecretString::new(value.expose().clone())))
    }

    fn set(&self, entry: &str, value: &SecretString) -> Result<(), KeychainError> {
        self.entries()
            .insert(entry.to_string(), SecretString::new(value.expose().clone()));
        Ok(())
    }

    fn delete(&self, entry: &str) -> Result<(), KeychainError> {
        self.entries().remove(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::secret;
    use super::super::{probe, KeychainState};
    use super::*;

    #[test]
    fn memory_keychain_round_trip() {
        let k = MemoryKeychain::new();
        assert!(k.get("a").unwrap().is_none());
        k.set("a", &secret("one")).unwrap();
        k.set("b", &secret("two")).unwrap();
        assert_eq!(k.get("a").unwrap().unwrap().expose(), "one");
        k.set("a", &secret("uno")).unwrap();
        assert_eq!(k.get("a").unwrap().unwrap().expose(), "uno");
        k.delete("a").unwrap();
        assert!(k.get("a").unwrap().is_none());
        k.delete("a").unwrap();
        assert_eq!(k.get("b").unwrap().unwrap().expose(), "two");
    }

    #[test]
    fn probe_of_a_working_keychain_is_available_and_leaves_nothing() {
        let k = MemoryKeychain::new();
        assert_eq!(probe(&k), KeychainState::Available);
        assert!(k.entries().is_empty());
    }
}
