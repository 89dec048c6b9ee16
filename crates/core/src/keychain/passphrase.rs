//! Passphrase mode: this device's secrets in a file, each one encrypted with a key derived from
//! a passphrase the user chose, for machines without a usable OS keychain.
//!
//! docs/targets.md ("Keys and the local store"): when the keychain is unavailable the app
//! switches to an explicit passphrase mode, never to silent plain text. [`PassphraseKeychain`] implements the same [`Keychain`]
//! trait as the OS keychain, so the rest of the app (device, account, wipe) does not know which
//! one it has.
//!
//! - The key-encryption key (KEK) comes from Argon2id (memory-hard, so each guess at a stolen
//!   file costs tens of megabytes and a fraction of a second) over the passphrase and a random
//!   salt. It lives only in memory, in a [`Secret`], from unlock until the app quits or locks.
//! - Each entry (the database key, the refresh token) is sealed separately with
//!   XChaCha20-Poly1305 under a random 192-bit nonce, with the build channel's service name and
//!   the entry's name as associated data: a sealed value cannot be moved to another entry or
//!   channel, and any change to the file is detected.
//! - A sealed check value tells a wrong passphrase (`keychain.wrong_passphrase`) from a damaged
//!   entry, even before any entry exists.
//! - The file holds only salts, parameters, nonces and ciphertexts: never a secret in plain
//!   text. It is 0600, replaced atomically, and re-read before every change, so two app windows
//!   do not undo each other's writes.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Channel, Keychain, KeychainError, KeychainState, MIN_PASSPHRASE_CHARS};
use crate::paths::{self, DataDir};
use crate::secret::{Secret, SecretString};

/// The file format's name and version.
const FORMAT: &str = "cleom-passphrase-keychain/1";
/// What the check value decrypts to.
const CHECK: &[u8] = b"cleom passphrase check";

/// The file of the passphrase keychain of `channel`'s builds in the data folder: one per
/// channel, so a debug build never reads a release build's secrets here either.
pub fn file_path(data: &DataDir, channel: Channel) -> PathBuf {
    data.root().join(format!("{}.keys.json", channel.service()))
}

/// Argon2id cost. The defaults follow RFC 9106's second recommendation (64 MiB, 3 passes);
/// a file may hold other values within [`KdfParams::acceptable`], so an old file keeps working
/// when the defaults rise, and a tampered file cannot ask for gigabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    fn acceptable(&self) -> bool {
        (1024..=1024 * 1024).contains(&self.memory_kib)
            && (1..=16).contains(&self.iterations)
            && (1..=8).contains(&self.parallelism)
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kdf {
    algorithm: String,
    version: u32,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

/// One sealed value: base64 nonce and ciphertext (with its tag).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// The file, as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    format: String,
    service: String,
    kdf: Kdf,
    check: Sealed,
    entries: BTreeMap<String, Sealed>,
}

/// The unlocked state: the key-encryption key and the salt it belongs to.
struct Unlocked {
    kek: Secret<[u8; 32]>,
    salt: Vec<u8>,
}

/// A [`Keychain`] kept in a file and unlocked with a passphrase. Locked until
/// [`PassphraseKeychain::unlock`] (or [`PassphraseKeychain::set_up`]) succeeds; while locked
/// every call answers [`KeychainError::PassphraseRequired`].
pub struct PassphraseKeychain {
    path: PathBuf,
    service: &'static str,
    params: KdfParams,
    unlocked: Mutex<Option<Unlocked>>,
}

impl std::fmt::Debug for PassphraseKeychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseKeychain")
            .field("path", &self.path)
            .field("service", &self.service)
            .field("unlocked", &self.is_unlocked())
            .finish()
    }
}

impl PassphraseKeychain {
    /// The passphrase keychain of `channel`'s builds, in the file at `path` (which may not
    /// exist yet). Starts locked.
    pub fn new(path: PathBuf, channel: Channel) -> PassphraseKeychain {
        PassphraseKeychain::with_params(path, channel, KdfParams::default())
    }

    /// Like [`PassphraseKeychain::new`], with other Argon2id costs for a new set-up (tests use
    /// cheap ones). Unlocking always uses the costs the file was made with.
    pub fn with_params(path: PathBuf, channel: Channel, params: KdfParams) -> PassphraseKeychain {
        PassphraseKeychain {
            path,
            service: channel.service(),
            params,
            unlocked: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a passphrase was chosen on this device (the file exists).
    pub fn is_set_up(&self) -> bool {
        self.path.exists()
    }

    pub fn is_unlocked(&self) -> bool {
        self.guard().is_some()
    }

    /// Chooses the passphrase: creates the (empty) file and unlocks. Refuses if one was
    /// already chosen ([`KeychainError::PassphraseExists`]): replacing the file would orphan
    /// the keys sealed in it.
    pub fn set_up(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        if passphrase.expose().chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(KeychainError::WeakPassphrase);
        }
        let mut guard = self.guard();
        if self.is_set_up() {
            return Err(KeychainError::PassphraseExists);
        }
        let mut salt = vec![0u8; 16];
        OsRng
            .try_fill_bytes(&mut salt)
            .map_err(|_| KeychainError::Unavailable("no random bytes for a salt".into()))?;
        let kek = derive(passphrase, &salt, &self.params)?;
        let file = KeyFile {
            format: FORMAT.to_string(),
            service: self.service.to_string(),
            kdf: Kdf {
                algorithm: "argon2id".to_string(),
                version: 0x13,
                params: self.params,
                salt: BASE64.encode(&salt),
            },
            check: seal(&kek, &self.aad("check"), CHECK)?,
            entries: BTreeMap::new(),
        };
        if let Some(parent) = self.path.parent() {
            paths::create_private_dir(parent).map_err(|e| io_error(&self.path, e))?;
        }
        self.write(&file)?;
        *guard = Some(Unlocked { kek, salt });
        Ok(())
    }

    /// Unlocks with the passphrase chosen at set-up. A wrong one is
    /// [`KeychainError::WrongPassphrase`] and leaves the keychain locked.
    pub fn unlock(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        let mut guard = self.guard();
        let file = self.read()?.ok_or(KeychainError::PassphraseRequired)?;
        let salt = BASE64
            .decode(&file.kdf.salt)
            .map_err(|_| self.unreadable())?;
        let kek = derive(passphrase, &salt, &file.kdf.params)?;
        match open(&kek, &self.aad("check"), &file.check) {
            Ok(check) if check.as_slice() == CHECK => {
                *guard = Some(Unlocked { kek, salt });
                Ok(())
            }
            _ => Err(KeychainError::WrongPassphrase),
        }
    }

    /// Forgets the key-encryption key; the passphrase is needed again.
    pub fn lock(&self) {
        *self.guard() = None;
    }

    fn guard(&self) -> MutexGuard<'_, Option<Unlocked>> {
        // Every change is a whole-file replacement, so a panic cannot leave a half state.
        self.unlocked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The associated data of a sealed value: the format, the channel and the entry.
    fn aad(&self, entry: &str) -> Vec<u8> {
        [FORMAT, self.service, entry].join("\0").into_bytes()
    }

    fn unreadable(&self) -> KeychainError {
        KeychainError::Unreadable(self.path.display().to_string())
    }

    /// Reads the file; `None` if there is none. Checks that it is this channel's.
    fn read(&self) -> Result<Option<KeyFile>, KeychainError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&self.path, e)),
        };
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|_| self.unreadable())?;
        if file.format != FORMAT
            || file.service != self.service
            || file.kdf.algorithm != "argon2id"
            || file.kdf.version != 0x13
            || !file.kdf.params.acceptable()
        {
            return Err(self.unreadable());
        }
        Ok(Some(file))
    }

    fn write(&self, file: &KeyFile) -> Result<(), KeychainError> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|_| self.unreadable())?;
        paths::write_private_file(&self.path, &bytes).map_err(|e| {
            KeychainError::Unavailable(format!(
                "the passphrase-protected key file could not be written: {e}"
            ))
        })
    }

    /// Runs `f` with the key-encryption key and the current file (re-read from disk), while
    /// holding the lock. The file must still be the one the key was derived for.
    fn with_file<T>(
        &self,
        f: impl FnOnce(&Secret<[u8; 32]>, KeyFile) -> Result<T, KeychainError>,
    ) -> Result<T, KeychainError> {
        let mut guard = self.guard();
        let Some(unlocked) = guard.as_ref() else {
            return Err(KeychainError::PassphraseRequired);
        };
        let same_salt = |file: &KeyFile| {
            BASE64
                .decode(&file.kdf.salt)
                .is_ok_and(|salt| salt == unlocked.salt)
        };
        match self.read()? {
            Some(file) if same_salt(&file) => f(&unlocked.kek, file),
            // The file was removed or replaced (another set-up): this key opens nothing now.
            _ => {
                *guard = None;
                Err(KeychainError::PassphraseRequired)
            }
        }
    }
}

impl Keychain for PassphraseKeychain {
    fn location(&self) -> String {
        format!(
            "a file sealed with your passphrase, {} (service {})",
            self.path.display(),
            self.service
        )
    }

    fn get(&self, entry: &str) -> Result<Option<SecretString>, KeychainError> {
        self.with_file(|kek, file| {
            let Some(sealed) = file.entries.get(entry) else {
                return Ok(None);
            };
            let plain = open(kek, &self.aad(entry), sealed)
                .map_err(|_| KeychainError::Unreadable(entry.to_string()))?;
            let text = std::str::from_utf8(&plain)
                .map_err(|_| KeychainError::Unreadable(entry.to_string()))?;
            Ok(Some(SecretString::new(text.to_string())))
        })
    }

    fn set(&self, entry: &str, value: &SecretString) -> Result<(), KeychainError> {
        self.with_file(|kek, mut file| {
            let sealed = seal(kek, &self.aad(entry), value.expose().as_bytes())?;
            file.entries.insert(entry.to_string(), sealed);
            self.write(&file)
        })
    }

    fn delete(&self, entry: &str) -> Result<(), KeychainError> {
        self.with_file(|_, mut file| {
            if file.entries.remove(entry).is_some() {
                self.write(&file)?;
            }
            Ok(())
        })
    }

    fn state(&self) -> KeychainState {
        KeychainState::Passphrase {
            set_up: self.is_set_up(),
            unlocked: self.is_unlocked(),
            reason: None,
        }
    }

    fn set_up_passphrase(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        self.set_up(passphrase)
    }

    fn unlock_with_passphrase(&self, passphrase: &SecretString) -> Result<(), KeychainError> {
        self.unlock(passphrase)
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> KeychainError {
    KeychainError::Unavailable(format!("{} could not be used: {e}", path.display()))
}

/// The key-encryption key for `passphrase`.
fn derive(
    passphrase: &SecretString,
    salt: &[u8],
    params: &KdfParams,
) -> Result<Secret<[u8; 32]>, KeychainError> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| KeychainError::Unavailable(format!("bad key derivation settings: {e}")))?;
    let mut key = Secret::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose().as_bytes(), salt, key.expose_mut())
        .map_err(|e| KeychainError::Unavailable(format!("the key derivation failed: {e}")))?;
    Ok(key)
}

fn seal(kek: &Secret<[u8; 32]>, aad: &[u8], plain: &[u8]) -> Result<Sealed, KeychainError> {
    let mut nonce = [0u8; 24];
    OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|_| KeychainError::Unavailable("no random bytes for a nonce".into()))?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(kek.expose()));
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| KeychainError::Unavailable("a value could not be encrypted".into()))?;
    Ok(Sealed {
        nonce: BASE64.encode(nonce),
        ciphertext: BASE64.encode(ciphertext),
    })
}

/// Decrypts a sealed value; `Err(())` when the key, the entry or the bytes do not match.
fn open(kek: &Secret<[u8; 32]>, aad: &[u8], sealed: &Sealed) -> Result<Zeroizing<Vec<u8>>, ()> {
    let nonce = BASE64.decode(&sealed.nonce).map_err(|_| ())?;
    let ciphertext = BASE64.decode(&sealed.ciphertext).map_err(|_| ())?;
    if nonce.len() != 24 {
        return Err(());
    }
    let cipher = XChaCha20Poly1305::new(Key::from_slice(kek.expose()));
    let plain = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .map_err(|_| ())?;
    Ok(Zeroizing::new(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap costs for tests; the defaults are checked separately.
    const CHEAP: KdfParams = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_string())
    }

    fn keychain(dir: &Path, channel: Channel) -> PassphraseKeychain {
        PassphraseKeychain::with_params(file_path(&DataDir::at(dir), channel), channel, CHEAP)
    }

    fn set_up(dir: &Path) -> PassphraseKeychain {
        let k = keychain(dir, Channel::Debug);
        k.set_up(&secret("correct horse battery")).unwrap();
        k
    }

    #[test]
    fn entries_round_trip_and_persist_for_the_right_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let k = keychain(dir.path(), Channel::Debug);
        assert!(!k.is_set_up());
        assert_eq!(
            k.state(),
            KeychainState::Passphrase {
                set_up: false,
                unlocked: false,
                reason: None
            }
        );
        assert_eq!(
            k.get("u1/database-key").unwrap_err().code(),
            "keychain.passphrase_required"
        );
        k.set_up(&secret("correct horse battery")).unwrap();
        assert!(k.state().is_usable());
        k.set("u1/database-key", &secret("k1")).unwrap();
        k.set("u1/refresh-token", &secret("r1")).unwrap();
        k.set("u1/refresh-token", &secret("r2")).unwrap();
        assert_eq!(k.get("u1/database-key").unwrap().unwrap().expose(), "k1");
        assert!(k.get("u2/database-key").unwrap().is_none());

        // Another start of the app: locked until the passphrase is entered.
        let again = keychain(dir.path(), Channel::Debug);
        assert!(again.is_set_up() && !again.is_unlocked());
        assert_eq!(
            again.get("u1/database-key").unwrap_err().code(),
            "keychain.passphrase_required"
        );
        again.unlock(&secret("correct horse battery")).unwrap();
        assert_eq!(
            again.get("u1/refresh-token").unwrap().unwrap().expose(),
            "r2"
        );
        again.delete("u1/refresh-token").unwrap();
        again.delete("u1/refresh-token").unwrap();
        assert!(
            k.get("u1/refresh-token").unwrap().is_none(),
            "both see the file"
        );
        again.lock();
        assert_eq!(
            again.get("u1/database-key").unwrap_err().code(),
            "keychain.passphrase_required"
        );
    }

    #[test]
    fn a_wrong_passphrase_is_a_clear_error_and_unlocks_nothing() {
        let dir = tempfile::tempdir().unwrap();
        set_up(dir.path())
            .set("u1/database-key", &secret("k1"))
            .unwrap();
        let k = keychain(dir.path(), Channel::Debug);
        for wrong in ["correct horse batterY", "", "correct horse battery "] {
            let err = k.unlock(&secret(wrong)).unwrap_err();
            assert_eq!(err.code(), "keychain.wrong_passphrase");
            assert!(err.to_string().contains("passphrase"), "{err}");
            assert!(!k.is_unlocked());
        }
        // The trait's door does the same.
        let err = k.unlock_with_passphrase(&secret("nope")).unwrap_err();
        assert_eq!(err.code(), "keychain.wrong_passphrase");
        k.unlock_with_passphrase(&secret("correct horse battery"))
            .unwrap();
        assert_eq!(k.get("u1/database-key").unwrap().unwrap().expose(), "k1");
    }

    #[test]
    fn set_up_refuses_weak_passphrases_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let k = keychain(dir.path(), Channel::Debug);
        assert_eq!(
            k.set_up(&secret("short")).unwrap_err().code(),
            "keychain.weak_passphrase"
        );
        assert!(!k.is_set_up());
        k.set_up(&secret("correct horse battery")).unwrap();
        k.set("u1/database-key", &secret("k1")).unwrap();
        let before = fs::read(k.path()).unwrap();
        let other = keychain(dir.path(), Channel::Debug);
        assert_eq!(
            other
                .set_up(&secret("another long passphrase"))
                .unwrap_err()
                .code(),
            "keychain.passphrase_exists"
        );
        assert_eq!(fs::read(k.path()).unwrap(), before);
    }

    #[test]
    fn the_file_holds_no_secret_in_plain_text_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let k = set_up(dir.path());
        let key = crate::secret::DatabaseKey::generate().unwrap();
        k.set("u1/database-key", &key.to_hex()).unwrap();
        k.set("u1/refresh-token", &secret("refresh-token-zebra-42"))
            .unwrap();
        let text = fs::read_to_string(k.path()).unwrap();
        for needle in [
            key.to_hex().expose().as_str(),
            "refresh-token-zebra-42",
            "correct horse battery",
            // Not even base64 of the values.
            &BASE64.encode("refresh-token-zebra-42"),
        ] {
            assert!(!text.contains(needle), "{needle} is readable in the file");
        }
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["kdf"]["algorithm"], "argon2id");
        assert_eq!(json["service"], Channel::Debug.service());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(k.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn tampering_and_moved_entries_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let k = set_up(dir.path());
        k.set("u1/database-key", &secret("k1")).unwrap();
        k.set("u2/database-key", &secret("k2")).unwrap();
        let original = fs::read_to_string(k.path()).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();

        // A sealed value copied under another entry's name does not open.
        json["entries"]["u2/database-key"] = json["entries"]["u1/database-key"].clone();
        fs::write(k.path(), serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(
            k.get("u2/database-key").unwrap_err().code(),
            "keychain.unreadable"
        );
        // A flipped bit does not open.
        let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();
        let sealed = json["entries"]["u1/database-key"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string();
        let mut bytes = BASE64.decode(sealed).unwrap();
        bytes[0] ^= 1;
        json["entries"]["u1/database-key"]["ciphertext"] = BASE64.encode(bytes).into();
        fs::write(k.path(), serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(
            k.get("u1/database-key").unwrap_err().code(),
            "keychain.unreadable"
        );
        // Costs out of bounds (e.g. asking for gigabytes) are refused before any work.
        let mut json: serde_json::Value = serde_json::from_str(&original).unwrap();
        json["kdf"]["memoryKib"] = (8u64 * 1024 * 1024).into();
        fs::write(k.path(), serde_json::to_vec(&json).unwrap()).unwrap();
        let fresh = keychain(dir.path(), Channel::Debug);
        assert_eq!(
            fresh
                .unlock(&secret("correct horse battery"))
                .unwrap_err()
                .code(),
            "keychain.unreadable"
        );
        fs::write(k.path(), b"{not json").unwrap();
        assert_eq!(
            k.get("u1/database-key").unwrap_err().code(),
            "keychain.unreadable"
        );
    }

    #[test]
    fn channels_never_read_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let debug = set_up(dir.path());
        debug.set("u1/database-key", &secret("debug-key")).unwrap();
        // A release build has its own file...
        let release = keychain(dir.path(), Channel::Release);
        assert_ne!(release.path(), debug.path());
        assert!(!release.is_set_up());
        // ...and refuses a debug file even if pointed at it.
        let confused =
            PassphraseKeychain::with_params(debug.path().to_path_buf(), Channel::Release, CHEAP);
        assert_eq!(
            confused
                .unlock(&secret("correct horse battery"))
                .unwrap_err()
                .code(),
            "keychain.unreadable"
        );
    }

    #[test]
    fn a_replaced_file_locks_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let k = set_up(dir.path());
        k.set("u1/database-key", &secret("k1")).unwrap();
        fs::remove_file(k.path()).unwrap();
        let other = keychain(dir.path(), Channel::Debug);
        other.set_up(&secret("a different passphrase")).unwrap();
        // The old key-encryption key must not write into the new file.
        assert_eq!(
            k.set("u1/database-key", &secret("k2")).unwrap_err().code(),
            "keychain.passphrase_required"
        );
        assert!(!k.is_unlocked());
        assert!(other.get("u1/database-key").unwrap().is_none());
    }

    #[test]
    fn the_default_costs_are_the_strong_ones() {
        let d = KdfParams::default();
        assert!(d.memory_kib >= 64 * 1024 && d.iterations >= 3, "{d:?}");
        assert!(d.acceptable() && CHEAP.acceptable());
    }

    #[test]
    fn debug_output_shows_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let k = set_up(dir.path());
        let printed = format!("{k:?}");
        assert!(printed.contains("unlocked: true"), "{printed}");
        assert!(!printed.contains("kek"), "{printed}");
    }
}
