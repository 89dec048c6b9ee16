//! This device's view of Cleom: where its data lives, its keychain, the backend it talks to, and
//! which account is signed in.
//!
//! Signing in is where the local store's key is born or found, so the rules of docs/targets.md
//! ("Keys and the local store") live here: a key is created only when no database exists for
//! the account, it goes to the keychain before the database is created, and an existing
//! database without its key is an error the user resolves, never a silent new key.
//!
//! The way out of a lost or wrong key is [`Device::reset_local_copy`] ("reset this device's copy
//! and download it again from Cleom"): it sets the database aside (with its key, for recovery:
//! see `recovery`) and removes the rest of the account's folder, and nothing else, so the
//! session survives, the next open creates a new key and an empty database, and the next sync
//! brings the history back from the server, which always has all of it. What was set aside
//! goes 30 days later, swept when the device resumes.
//!
//! With no OS keychain, the keychain is a passphrase-sealed file (see `passphrase`), which must
//! be set up or unlocked ([`Device::set_up_passphrase`], [`Device::unlock_with_passphrase`])
//! before anyone can sign in or resume.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::account::Account;
use crate::error::{Error, Result};
use crate::keychain::{self, Keychain, KeychainError, KeychainState};
use crate::local_copy::{self, LocalCopy, OpenStore};
use crate::paths::DataDir;
use crate::recovery;
use crate::remote::{auth::AuthSession, Remote};
use crate::secret::{DatabaseKey, SecretString};
use crate::session::Session;
use crate::signed_in::{self, SignedIn};
use crate::signed_in_devices::ThisDevice;
use crate::store::{new_client_id, Store};

pub struct Device {
    data: DataDir,
    keychain: Arc<dyn Keychain>,
    remote: Remote,
}

impl Device {
    pub fn new(data: DataDir, keychain: Arc<dyn Keychain>, remote: Remote) -> Result<Device> {
        data.ensure()?;
        Ok(Device {
            data,
            keychain,
            remote,
        })
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data
    }

    /// Who was signed in when the app last ran (a uid, nothing secret), even if the account
    /// could not be opened.
    pub fn signed_in_uid(&self) -> Option<String> {
        signed_in::read(&self.data).uid
    }

    /// Whether secrets can be kept, as the start-up screen shows it.
    pub fn keychain_state(&self) -> KeychainState {
        self.keychain.state()
    }

    /// Passphrase mode: chooses this device's passphrase (and unlocks with it).
    pub fn set_up_passphrase(&self, passphrase: &SecretString) -> Result<()> {
        Ok(self.keychain.set_up_passphrase(passphrase)?)
    }

    /// Passphrase mode: unlocks this device's keys, then resumes the account that was signed in
    /// (see [`Device::resume`]). A wrong passphrase is `keychain.wrong_passphrase`.
    pub fn unlock_with_passphrase(&self, passphrase: &SecretString) -> Result<Option<Account>> {
        self.keychain.unlock_with_passphrase(passphrase)?;
        self.resume()
    }

    /// "Reset this device's copy and download it again from Cleom": sets the encrypted history
    /// aside for 30 days (its key kept in the keychain for recovery), removes the rest of the
    /// account's local folder and its database key, and keeps the session. The next
    /// [`Device::resume`] or sign-in then starts a new key and an empty history, which the next
    /// sync fills from the server. `local_copy.set_aside_failed` leaves the copy as it was.
    ///
    /// For the way out of `store.key_missing` and `store.key_rejected`. If an [`Account`] of
    /// this uid is open, use [`Account::reset_local_copy`] instead, which closes it first.
    pub fn reset_local_copy(&self, uid: &str) -> Result<()> {
        local_copy::reset(
            &self.data,
            self.keychain.as_ref(),
            uid,
            OffsetDateTime::now_utc(),
        )
    }

    /// Removes the histories set aside more than 30 days before `now`, with their keys. Run by
    /// every resume (the keychain may be locked before one); a failure is logged, and the next
    /// start tries again.
    fn remove_expired_set_asides(&self, now: OffsetDateTime) {
        match recovery::sweep(&self.data, self.keychain.as_ref(), now) {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed histories set aside 30 days ago"),
            Err(e) => tracing::warn!(
                code = e.code(),
                "the histories set aside 30 days ago stay until the next start"
            ),
        }
    }

    pub async fn sign_up(&self, email: &str, password: &SecretString) -> Result<Account> {
        self.require_keychain()?;
        let session = self.remote.auth.sign_up(email, password).await?;
        self.start_session(email, session)
    }

    pub async fn sign_in(&self, email: &str, password: &SecretString) -> Result<Account> {
        self.require_keychain()?;
        let session = self.remote.auth.sign_in(email, password).await?;
        self.start_session(email, session)
    }

    /// "Forgot password?": asks Cleom to email a reset link to `email`. It succeeds alike whether
    /// or not an account has the address, so nobody learns who has one.
    pub async fn send_password_reset(&self, email: &str) -> Result<()> {
        Ok(self.remote.auth.send_password_reset(email.trim()).await?)
    }

    /// Completes a password reset from its link (see `link`): sets `new_password` with the
    /// link's code, then signs in with it, so the user lands in their account. Every other
    /// session of the account has ended.
    pub async fn reset_password(
        &self,
        oob_code: &SecretString,
        new_password: &SecretString,
    ) -> Result<Account> {
        self.require_keychain()?;
        let email = self
            .remote
            .auth
            .reset_password(oob_code, new_password)
            .await?;
        self.sign_in(&email, new_password).await
    }

    /// Follows an email-change verification link: the address the link was sent to becomes the
    /// account's sign-in email, and every session of the account ends (this device's too: its
    /// next sync answers `auth.session_expired`). Answers the new address.
    pub async fn verify_email_change(&self, oob_code: &SecretString) -> Result<String> {
        Ok(self.remote.auth.apply_action_code(oob_code).await?)
    }

    /// A session cannot be kept without the keychain, so this is checked before the backend is
    /// asked to create or open one.
    fn require_keychain(&self) -> Result<()> {
        match self.keychain_state() {
            KeychainState::Available | KeychainState::Passphrase { unlocked: true, .. } => Ok(()),
            KeychainState::Locked => Err(KeychainError::Locked.into()),
            KeychainState::Unavailable { reason } => Err(KeychainError::Unavailable(reason).into()),
            KeychainState::Passphrase { .. } => Err(KeychainError::PassphraseRequired.into()),
        }
    }

    /// The account signed in when the app last ran, opened from this device alone (no network):
    /// `None` when nobody is signed in or the session's refresh token is gone. If the local copy
    /// was reset, a new empty one is started (the next sync fills it). First, the histories set
    /// aside more than 30 days ago are removed.
    pub fn resume(&self) -> Result<Option<Account>> {
        self.remove_expired_set_asides(OffsetDateTime::now_utc());
        let file = signed_in::read(&self.data);
        let Some(uid) = file.uid else {
            return Ok(None);
        };
        if self
            .keychain
            .get(&keychain::refresh_token_entry(&uid))?
            .is_none()
        {
            return Ok(None);
        }
        let store = self.open_or_create_store(&uid)?;
        let email = store
            .store
            .profile()?
            .map(|p| p.email)
            .or(file.email)
            .unwrap_or_default();
        let session_id = match file.session_id {
            Some(id) => id,
            None => self.record_new_session(&uid, &email)?,
        };
        Ok(Some(self.account(uid, email, session_id, store, None)))
    }

    /// Forgets the session on this device; the encrypted history and its key stay, so signing in
    /// again brings the history back at once.
    pub fn sign_out(&self, account: &Account) -> Result<()> {
        self.keychain
            .delete(&keychain::refresh_token_entry(account.uid()))?;
        signed_in::write(&self.data, &SignedIn::default())
    }

    fn start_session(&self, email: &str, session: AuthSession) -> Result<Account> {
        let uid = session.uid.clone();
        let store = self.open_or_create_store(&uid)?;
        self.keychain
            .set(&keychain::refresh_token_entry(&uid), &session.refresh_token)?;
        let email = session.email.clone().unwrap_or_else(|| email.to_string());
        // A new sign-in is a new session in the account's list of signed-in devices.
        let session_id = self.record_new_session(&uid, &email)?;
        Ok(self.account(uid, email, session_id, store, Some(session)))
    }

    /// Writes `device.json` for `uid` with a newly drawn session id, and answers the id.
    fn record_new_session(&self, uid: &str, email: &str) -> Result<String> {
        let session_id = new_client_id();
        signed_in::write(
            &self.data,
            &SignedIn {
                uid: Some(uid.to_string()),
                email: Some(email.to_string()),
                session_id: Some(session_id.clone()),
            },
        )?;
        Ok(session_id)
    }

    fn account(
        &self,
        uid: String,
        email: String,
        session_id: String,
        store: OpenStore,
        session: Option<AuthSession>,
    ) -> Account {
        let local = LocalCopy::new(
            uid.clone(),
            self.data.clone(),
            Arc::clone(&self.keychain),
            store,
        );
        let session = Session::new(
            uid,
            email,
            Arc::clone(&self.keychain),
            self.remote.auth.clone(),
            session,
        );
        Account::new(
            session,
            local,
            self.remote.clone(),
            ThisDevice::new(session_id),
        )
    }

    /// Opens (or, for a first sign-in here, creates) the account's database, after claiming it
    /// for this process: `paths.in_use` while another process (a second app on the same data
    /// folder, or the `cleom` command line) has it open.
    fn open_or_create_store(&self, uid: &str) -> Result<OpenStore> {
        let lock = self.data.lock_account(uid)?;
        let store = self.open_or_create_unlocked(uid)?;
        Ok(OpenStore { store, _lock: lock })
    }

    fn open_or_create_unlocked(&self, uid: &str) -> Result<Store> {
        let path = self.data.database_path(uid)?;
        if path.exists() {
            let key = self.keychain.get(&keychain::database_key_entry(uid))?;
            let key = DatabaseKey::from_hex(&key.ok_or(Error::KeyMissing)?)?;
            return Ok(Store::open(&path, &key)?);
        }
        let entry = keychain::database_key_entry(uid);
        let key = match self.keychain.get(&entry)? {
            // A key without a database: a first sign-in that stopped half way. Reuse it.
            Some(hex) => DatabaseKey::from_hex(&hex)?,
            None => {
                let key = DatabaseKey::generate()?;
                self.keychain.set(&entry, &key.to_hex())?;
                key
            }
        };
        Ok(Store::create(&path, &key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryKeychain;
    use crate::keychain::passphrase::{self, KdfParams, PassphraseKeychain};
    use crate::keychain::secret_store::SecretStore;
    use crate::keychain::Channel;
    use crate::model::Generation;
    use crate::remote::Endpoints;

    fn secret(s: &str) -> SecretString {
        SecretString::new(s.to_string())
    }

    fn device(dir: &std::path::Path, keychain: Arc<dyn Keychain>) -> Device {
        // Nothing here talks to the backend: a port nobody listens on.
        let remote = Remote::new(Endpoints::local("http://127.0.0.1:9").unwrap()).unwrap();
        Device::new(DataDir::at(dir), keychain, remote).unwrap()
    }

    fn generation(id: &str) -> Generation {
        serde_json::from_value(serde_json::json!({
            "id": id, "prompt": "a fox at dawn", "mode": "text_to_video",
            "settings": {"durationSeconds": 10, "resolution": "1080p"},
            "status": "succeeded", "createdAt": "2025-03-01T10:00:00Z",
            "updatedAt": "2025-03-01T10:00:00Z"
        }))
        .unwrap()
    }

    /// A device on which `uid` is signed in and has a local history with one generation.
    fn signed_in(dir: &std::path::Path, keychain: Arc<dyn Keychain>, uid: &str) -> Device {
        let device = device(dir, keychain.clone());
        let mut open = device.open_or_create_store(uid).unwrap();
        open.store.upsert_generations(&[generation("g1")]).unwrap();
        drop(open);
        keychain
            .set(&keychain::refresh_token_entry(uid), &secret("refresh"))
            .unwrap();
        signed_in::write(
            &device.data,
            &SignedIn {
                uid: Some(uid.into()),
                email: Some("ada@example.com".into()),
                session_id: None,
            },
        )
        .unwrap();
        device
    }

    #[test]
    fn a_missing_key_is_a_typed_error_and_never_replaced_by_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        let db = device.data_dir().database_path("u1").unwrap();
        let before = std::fs::read(&db).unwrap();
        keychain
            .delete(&keychain::database_key_entry("u1"))
            .unwrap();

        let Err(err) = device.resume() else {
            panic!("resume must fail without the key")
        };
        assert_eq!(err.code(), "store.key_missing");
        assert!(
            keychain
                .get(&keychain::database_key_entry("u1"))
                .unwrap()
                .is_none(),
            "no new key was made"
        );
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "the history is untouched"
        );
    }

    #[test]
    fn resetting_the_local_copy_starts_a_new_key_and_history_that_sync_fills() {
        for wrong_key in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
            let device = signed_in(dir.path(), keychain.clone(), "u1");
            let entry = keychain::database_key_entry("u1");
            let old_key = keychain.get(&entry).unwrap().unwrap();
            if wrong_key {
                let other = DatabaseKey::generate().unwrap();
                keychain.set(&entry, &other.to_hex()).unwrap();
                let Err(err) = device.resume() else {
                    panic!("a wrong key must not open the history")
                };
                assert_eq!(err.code(), "store.key_rejected");
            } else {
                keychain.delete(&entry).unwrap();
            }

            let key_at_reset = keychain.get(&entry).unwrap();
            device.reset_local_copy("u1").unwrap();
            let account_dir = device.data_dir().account_dir("u1").unwrap();
            assert!(!account_dir.exists(), "no stale files");
            assert!(keychain.get(&entry).unwrap().is_none(), "no stale key");
            // The copy that would not open is set aside, with the key it had (if any).
            let set_aside = recovery::list(device.data_dir(), "u1").unwrap();
            assert_eq!(set_aside.len(), 1);
            assert!(set_aside[0].database_path().is_file());
            let kept = keychain
                .get(&keychain::set_aside_key_entry("u1", &set_aside[0].name))
                .unwrap();
            assert_eq!(
                kept.map(|k| k.expose().clone()),
                key_at_reset.map(|k| k.expose().clone())
            );
            assert!(keychain
                .get(&keychain::refresh_token_entry("u1"))
                .unwrap()
                .is_some());
            // Running it again is harmless (an interrupted reset can be repeated), and sets
            // nothing more aside.
            device.reset_local_copy("u1").unwrap();
            assert_eq!(recovery::list(device.data_dir(), "u1").unwrap().len(), 1);

            // The session survives: a new, empty copy under a new key.
            let account = device.resume().unwrap().unwrap();
            assert_eq!(account.uid(), "u1");
            assert_eq!(account.email(), "ada@example.com");
            assert!(account.library(10, None).unwrap().items.is_empty());
            let new_key = keychain.get(&entry).unwrap().unwrap();
            assert_ne!(new_key.expose(), old_key.expose());
            // What a sync then brings back is stored and listed.
            account
                .local()
                .with_store(|s| Ok(s.upsert_generations(&[generation("g1")])?))
                .unwrap();
            assert_eq!(account.library(10, None).unwrap().items.len(), 1);
            drop(account);
            assert_eq!(
                device
                    .resume()
                    .unwrap()
                    .unwrap()
                    .library(10, None)
                    .unwrap()
                    .items
                    .len(),
                1,
                "and it opens again with the new key"
            );
        }
    }

    #[test]
    fn an_open_account_resets_its_own_copy() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        let account = device.resume().unwrap().unwrap();
        assert_eq!(account.library(10, None).unwrap().items.len(), 1);
        account.reset_local_copy().unwrap();
        assert_eq!(
            account.library(10, None).unwrap_err().code(),
            "auth.not_signed_in"
        );
        assert!(!device.data_dir().account_dir("u1").unwrap().exists());
        let fresh = device.resume().unwrap().unwrap();
        assert!(fresh.library(10, None).unwrap().items.is_empty());
    }

    #[test]
    fn a_reset_sets_the_history_aside_with_its_key_for_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        let db = device.data_dir().database_path("u1").unwrap();
        let bytes = std::fs::read(&db).unwrap();
        let key = keychain
            .get(&keychain::database_key_entry("u1"))
            .unwrap()
            .unwrap();

        device.reset_local_copy("u1").unwrap();
        let set_aside = recovery::list(device.data_dir(), "u1").unwrap();
        let [copy] = set_aside.as_slice() else {
            panic!("one copy set aside: {set_aside:?}")
        };
        assert!(copy
            .folder
            .starts_with(device.data_dir().root().join("set-aside").join("u1")));
        assert_eq!(std::fs::read(copy.database_path()).unwrap(), bytes);
        let kept = keychain
            .get(&keychain::set_aside_key_entry("u1", &copy.name))
            .unwrap()
            .expect("the key stays for recovery");
        assert_eq!(kept.expose(), key.expose());
        // The copy and its key still open together: the history is all there.
        let old = Store::open(
            &copy.database_path(),
            &DatabaseKey::from_hex(&kept).unwrap(),
        );
        assert!(old.unwrap().generation("g1").unwrap().is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&copy.folder)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }

        // A new resume starts an empty history under a new key, and keeps the copy.
        let account = device.resume().unwrap().unwrap();
        assert!(account.library(10, None).unwrap().items.is_empty());
        assert_eq!(recovery::list(device.data_dir(), "u1").unwrap().len(), 1);
        // The files the app holds include it.
        let files = account.local().files().unwrap();
        assert!(files.iter().any(|(path, _)| *path == copy.database_path()));

        // Wiping the account leaves nothing: not the copy, not its key.
        let (removed_files, removed_entries) = account.wipe_local().unwrap();
        assert!(removed_files >= 2, "{removed_files}");
        assert_eq!(
            removed_entries, 3,
            "the two of the account, and the copy's key"
        );
        assert!(!device.data_dir().set_aside_dir("u1").unwrap().exists());
        assert!(keychain
            .get(&keychain::set_aside_key_entry("u1", &copy.name))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_reset_that_cannot_set_the_history_aside_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        let db = device.data_dir().database_path("u1").unwrap();
        let bytes = std::fs::read(&db).unwrap();
        // The set-aside folder cannot be made (as on a full disk): a file is in its way.
        std::fs::write(device.data_dir().set_aside_root(), b"in the way").unwrap();

        let err = device.reset_local_copy("u1").unwrap_err();
        assert_eq!(err.code(), "local_copy.set_aside_failed");
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "the history stays");
        let account = device.resume().unwrap().unwrap();
        assert_eq!(account.library(10, None).unwrap().items.len(), 1);
        // And an open account's reset fails the same way, still open.
        let err = account.reset_local_copy().unwrap_err();
        assert_eq!(err.code(), "local_copy.set_aside_failed");
        assert!(db.is_file());
    }

    #[test]
    fn resuming_sweeps_away_copies_set_aside_over_30_days_ago() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        let long_ago = OffsetDateTime::now_utc() - time::Duration::days(31);
        local_copy::reset(device.data_dir(), keychain.as_ref(), "u1", long_ago).unwrap();
        let [copy] = recovery::list(device.data_dir(), "u1")
            .unwrap()
            .try_into()
            .unwrap();
        drop(device.resume().unwrap().unwrap());
        assert!(!copy.folder.exists());
        assert!(keychain
            .get(&keychain::set_aside_key_entry("u1", &copy.name))
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn the_access_report_lists_the_set_aside_copy_and_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain.clone(), "u1");
        device.reset_local_copy("u1").unwrap();
        let account = device.resume().unwrap().unwrap();
        let [copy] = recovery::list(device.data_dir(), "u1")
            .unwrap()
            .try_into()
            .unwrap();

        // Offline (nothing listens): the device's part of the report is whole.
        let report = account.access_report().await.unwrap();
        let here = report.on_this_device;
        let path = copy.database_path().display().to_string();
        assert!(here.files.iter().any(|f| f.path == path));
        let [shown] = here.set_aside.as_slice() else {
            panic!("one copy shown: {:?}", here.set_aside)
        };
        assert_eq!(shown.database_path, path);
        assert!(shown.bytes > 0);
        assert!(shown.removed_after > shown.set_aside_at);
        let entry = keychain::set_aside_key_entry("u1", &copy.name);
        assert!(here
            .keychain_entries
            .iter()
            .any(|e| e.name == entry && e.present));
    }

    #[test]
    fn an_open_history_is_this_processs_alone() {
        let dir = tempfile::tempdir().unwrap();
        let keychain: Arc<dyn Keychain> = Arc::new(MemoryKeychain::new());
        let device = signed_in(dir.path(), keychain, "u1");
        let account = device.resume().unwrap().unwrap();
        let lock = dir.path().join("accounts/u1/history.lock");
        assert!(lock.is_file(), "the claim is a file next to the history");
        // In this process the history opens again (a new sign-in while the old account is
        // still being dropped); another process is refused (`paths::tests`).
        let again = device.resume().unwrap().unwrap();
        drop((account, again));
    }

    #[test]
    fn nobody_signed_in_and_bad_uids_are_handled() {
        let dir = tempfile::tempdir().unwrap();
        let device = device(dir.path(), Arc::new(MemoryKeychain::new()));
        assert!(device.resume().unwrap().is_none());
        assert_eq!(
            device.reset_local_copy("../escape").unwrap_err().code(),
            "paths.invalid_uid"
        );
        device.reset_local_copy("never-here").unwrap();
    }

    #[test]
    fn passphrase_mode_must_be_set_up_and_unlocked_before_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::at(dir.path());
        let cheap = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let make = || {
            Arc::new(SecretStore::Passphrase {
                keychain: PassphraseKeychain::with_params(
                    passphrase::file_path(&data, Channel::Debug),
                    Channel::Debug,
                    cheap,
                ),
                reason: Some("no Secret Service".into()),
            })
        };
        let device = device(dir.path(), make());
        assert_eq!(
            device.require_keychain().unwrap_err().code(),
            "keychain.passphrase_required"
        );
        device
            .set_up_passphrase(&secret("correct horse battery"))
            .unwrap();
        device.require_keychain().unwrap();
        // Sign in (what start_session does for the store and the session).
        drop(signed_in(dir.path(), device.keychain.clone(), "u1"));

        // The next start: locked; nothing resumes until the passphrase is given.
        let device = self::device(dir.path(), make());
        let code = |r: Result<Option<Account>>| r.err().map(|e| e.code());
        assert_eq!(code(device.resume()), Some("keychain.passphrase_required"));
        assert_eq!(
            code(device.unlock_with_passphrase(&secret("wrong horse battery"))),
            Some("keychain.wrong_passphrase")
        );
        let account = device
            .unlock_with_passphrase(&secret("correct horse battery"))
            .unwrap()
            .unwrap();
        assert_eq!(account.library(10, None).unwrap().items.len(), 1);
        assert!(device.keychain_state().is_usable());
    }
}
