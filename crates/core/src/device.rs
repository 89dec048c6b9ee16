//! This device's view of Cleom: where its data lives, its keychain, the backend it talks to, and
//! which account is signed in.
//!
//! Signing in is where the local store's key is born or found, so the rules of DESIGN.md §4 live
//! here: a key is created only when no database exists for the account, it goes to the keychain
//! before the database is created, and an existing database without its key is an error the
//! user resolves, never a silent new key.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::error::{Error, Result};
use crate::keychain::{self, Keychain, KeychainError, KeychainState};
use crate::paths::{self, DataDir};
use crate::remote::{auth::AuthSession, Remote};
use crate::secret::{DatabaseKey, SecretString};
use crate::store::Store;

/// The small non-secret file that remembers who is signed in on this device.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceFile {
    signed_in: Option<String>,
}

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

    pub fn keychain_state(&self) -> KeychainState {
        keychain::probe(self.keychain.as_ref())
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

    /// A session cannot be kept without the keychain, so this is checked before the backend is
    /// asked to create or open one.
    fn require_keychain(&self) -> Result<()> {
        match self.keychain_state() {
            KeychainState::Available => Ok(()),
            KeychainState::Locked => Err(KeychainError::Locked.into()),
            KeychainState::Unavailable { reason } => Err(KeychainError::Unavailable(reason).into()),
        }
    }

    /// The account signed in when the app last ran, opened from this device alone (no network):
    /// `None` when nobody is signed in or the session's refresh token is gone.
    pub fn resume(&self) -> Result<Option<Account>> {
        let Some(uid) = self.read_device_file().signed_in else {
            return Ok(None);
        };
        if self
            .keychain
            .get(&keychain::refresh_token_entry(&uid))?
            .is_none()
        {
            return Ok(None);
        }
        let store = self.open_store(&uid)?;
        let email = store.profile()?.map(|p| p.email).unwrap_or_default();
        Ok(Some(self.account(uid, email, store, None)))
    }

    /// Forgets the session on this device; the encrypted history and its key stay, so signing in
    /// again brings the history back at once.
    pub fn sign_out(&self, account: &Account) -> Result<()> {
        self.keychain
            .delete(&keychain::refresh_token_entry(account.uid()))?;
        self.write_device_file(&DeviceFile::default())
    }

    fn start_session(&self, email: &str, session: AuthSession) -> Result<Account> {
        let uid = session.uid.clone();
        let store = self.open_or_create_store(&uid)?;
        self.keychain
            .set(&keychain::refresh_token_entry(&uid), &session.refresh_token)?;
        self.write_device_file(&DeviceFile {
            signed_in: Some(uid.clone()),
        })?;
        let email = session.email.clone().unwrap_or_else(|| email.to_string());
        Ok(self.account(uid, email, store, Some(session)))
    }

    fn account(
        &self,
        uid: String,
        email: String,
        store: Store,
        session: Option<AuthSession>,
    ) -> Account {
        Account::new(
            uid,
            email,
            self.data.clone(),
            Arc::clone(&self.keychain),
            self.remote.clone(),
            store,
            session,
        )
    }

    fn open_store(&self, uid: &str) -> Result<Store> {
        let path = self.data.database_path(uid)?;
        let key = self.keychain.get(&keychain::database_key_entry(uid))?;
        let key = DatabaseKey::from_hex(&key.ok_or(Error::KeyMissing)?)?;
        Ok(Store::open(&path, &key)?)
    }

    fn open_or_create_store(&self, uid: &str) -> Result<Store> {
        let path = self.data.database_path(uid)?;
        if path.exists() {
            return self.open_store(uid);
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

    fn device_file_path(&self) -> std::path::PathBuf {
        self.data.root().join("device.json")
    }

    fn read_device_file(&self) -> DeviceFile {
        std::fs::read(self.device_file_path())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write_device_file(&self, file: &DeviceFile) -> Result<()> {
        let bytes =
            serde_json::to_vec_pretty(file).map_err(|e| Error::InvalidInput(e.to_string()))?;
        paths::write_private_file(&self.device_file_path(), &bytes)?;
        Ok(())
    }

    /// Called by the account wipe: nobody is signed in any more.
    pub(crate) fn forget_signed_in(data: &DataDir) -> Result<()> {
        let path = data.root().join("device.json");
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}
