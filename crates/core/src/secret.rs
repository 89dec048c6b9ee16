//! Secrets (the database key, the refresh token) in a type that is hard to leak by accident.
//!
//! A secret that ends up in a log line, a crash report, a JSON response to the UI or a stray
//! heap copy is as lost as one written to disk in plain text. So a [`Secret`] prints as
//! `Secret([REDACTED])`, has no `Clone` (every copy is deliberate, through [`Secret::expose`])
//! and no `Serialize` (it can never ride along in a serialized struct), and overwrites its
//! value when dropped. What is left is one explicit door, `expose()`, that reviewers can grep.

use std::fmt;

use rand::rngs::OsRng;
use rand::TryRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a secret could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the operating system did not provide random bytes for a new encryption key")]
    RandomUnavailable,
    #[error("the saved database key is damaged (it is not 64 hexadecimal digits)")]
    MalformedKey,
}

impl SecretError {
    /// A stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            SecretError::RandomUnavailable => "secret.random_unavailable",
            SecretError::MalformedKey => "secret.malformed_key",
        }
    }
}

/// A value that is redacted in `Debug`, cannot be cloned or serialized, and is zeroized on drop.
///
/// `repr(transparent)` so the value's bytes are exactly the secret's bytes (the zeroize test
/// relies on it).
#[repr(transparent)]
pub struct Secret<T: Zeroize>(T);

/// A secret text, such as a refresh token or a key in its keychain form.
pub type SecretString = Secret<String>;

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself. Every call is a place where the secret leaves its box: keep the
    /// borrow short and never log, format or store what it returns.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, to be filled in place (e.g. by a key derivation), so no unprotected copy of
    /// it is ever made.
    pub(crate) fn expose_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> ZeroizeOnDrop for Secret<T> {}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// The raw 256-bit key of one account's encrypted database.
///
/// A raw key, not a passphrase: SQLCipher then skips its key derivation, so opening takes
/// milliseconds instead of a deliberate ~100 ms, and the key has full entropy by construction.
#[derive(Debug)]
pub struct DatabaseKey(Secret<[u8; 32]>);

impl DatabaseKey {
    /// A new random key from the operating system's random source.
    pub fn generate() -> Result<DatabaseKey, SecretError> {
        let mut bytes = [0u8; 32];
        let filled = OsRng.try_fill_bytes(&mut bytes);
        // Move into the box first so the stack copy is the only one left to wipe.
        let key = DatabaseKey(Secret::new(bytes));
        bytes.zeroize();
        filled.map_err(|_| SecretError::RandomUnavailable)?;
        Ok(key)
    }

    /// The key in the form it is kept in the keychain: 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> SecretString {
        let mut out = String::with_capacity(64);
        push_hex(&mut out, self.0.expose());
        Secret::new(out)
    }

    /// Reads a key back from its keychain form (see [`DatabaseKey::to_hex`]).
    pub fn from_hex(hex_key: &SecretString) -> Result<DatabaseKey, SecretError> {
        let mut bytes = [0u8; 32];
        let decoded = hex::decode_to_slice(hex_key.expose().trim(), &mut bytes);
        let key = DatabaseKey(Secret::new(bytes));
        bytes.zeroize();
        decoded.map_err(|_| SecretError::MalformedKey)?;
        Ok(key)
    }

    /// The value for SQLCipher's `PRAGMA key`: `x'<64 hex digits>'`, which SQLCipher takes as a
    /// raw key rather than a passphrase.
    pub fn to_pragma(&self) -> SecretString {
        // Sized up front so the string never reallocates and leaves a partial copy behind.
        let mut out = String::with_capacity(67);
        out.push_str("x'");
        push_hex(&mut out, self.0.expose());
        out.push('\'');
        Secret::new(out)
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use std::mem::MaybeUninit;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use static_assertions::{assert_impl_all, assert_not_impl_any};

    use super::*;

    assert_not_impl_any!(Secret<String>: Clone, Copy, serde::Serialize);
    assert_not_impl_any!(Secret<[u8; 32]>: Clone, Copy, serde::Serialize);
    assert_not_impl_any!(DatabaseKey: Clone, Copy, serde::Serialize);
    assert_impl_all!(SecretString: Send, Sync, ZeroizeOnDrop);

    #[test]
    fn debug_redacts_the_value() {
        let secret = SecretString::new("hunter2-refresh-token".to_string());
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        assert_eq!(format!("{secret:#?}"), "Secret([REDACTED])");
        let key = DatabaseKey::generate().unwrap();
        let printed = format!("{key:?}");
        assert!(
            !printed.contains(key.to_hex().expose().as_str()),
            "{printed}"
        );
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    /// Observes the zeroize call that dropping a `Secret` must make.
    struct Witness(Arc<AtomicBool>);

    impl Zeroize for Witness {
        fn zeroize(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn dropping_a_secret_zeroizes_its_value() {
        let wiped = Arc::new(AtomicBool::new(false));
        let secret = Secret::new(Witness(wiped.clone()));
        assert!(!wiped.load(Ordering::SeqCst));
        drop(secret);
        assert!(wiped.load(Ordering::SeqCst));
    }

    #[test]
    fn dropping_a_key_overwrites_its_bytes() {
        // Keep the storage alive past the drop so its bytes can be inspected afterwards.
        let mut slot = MaybeUninit::<Secret<[u8; 32]>>::uninit();
        slot.write(Secret::new([0xA5; 32]));
        // SAFETY: `slot` was initialized just above and is dropped exactly once; the bytes read
        // afterwards are still owned by `slot` and were written by `zeroize`
        // (`Secret` is `repr(transparent)` over `[u8; 32]`).
        let after = unsafe {
            std::ptr::drop_in_place(slot.as_mut_ptr());
            std::ptr::read(slot.as_ptr().cast::<[u8; 32]>())
        };
        assert_eq!(after, [0u8; 32]);
    }

    #[test]
    fn database_keys_are_random_and_survive_the_keychain_form() {
        let a = DatabaseKey::generate().unwrap();
        let b = DatabaseKey::generate().unwrap();
        assert_ne!(a.to_hex().expose(), b.to_hex().expose());
        assert_ne!(a.to_hex().expose(), &"0".repeat(64));

        let hex_form = a.to_hex();
        assert_eq!(hex_form.expose().len(), 64);
        assert!(hex_form.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        let back = DatabaseKey::from_hex(&hex_form).unwrap();
        assert_eq!(back.to_hex().expose(), hex_form.expose());
    }

    #[test]
    fn pragma_form_is_a_raw_sqlcipher_key() {
        let key = DatabaseKey::from_hex(&SecretString::new("00ff".repeat(16))).unwrap();
        assert_eq!(
            key.to_pragma().expose(),
            &format!("x'{}'", "00ff".repeat(16))
        );
    }

    #[test]
    fn malformed_keychain_values_are_rejected_without_echoing_them() {
        for bad in ["", "abc", &"zz".repeat(32), &"00".repeat(33)] {
            let err = DatabaseKey::from_hex(&SecretString::new(bad.to_string())).unwrap_err();
            assert_eq!(err.code(), "secret.malformed_key");
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad));
            }
        }
    }
}
