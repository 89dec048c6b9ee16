//! This device's copy of one account: its open encrypted store, with this process's claim on it,
//! and the account's private folder beside it.
//!
//! Its own piece because its life is not the session's: the copy can be closed and set aside
//! ("reset this device's copy") or removed (a wipe) while the session goes on, and every reader of the
//! store (the sync, the export, the Library) needs only this. The store is behind a lock that is
//! held only for one closure, never across an await, so a long sync or export never blocks the
//! Library for longer than one page takes to store.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::keychain::{self, Keychain};
use crate::paths::{self, DataDir, ProcessLock};
use crate::recovery;
use crate::signed_in;
use crate::store::Store;

/// An account's open database with this process's claim on it (`DataDir::lock_account`): they
/// are closed together, so another process may open the history only once this one has let go.
pub(crate) struct OpenStore {
    pub(crate) store: Store,
    pub(crate) _lock: ProcessLock,
}

pub struct LocalCopy {
    uid: String,
    data: DataDir,
    keychain: Arc<dyn Keychain>,
    /// `None` once the copy has been closed (wiped or reset).
    store: Mutex<Option<OpenStore>>,
}

impl LocalCopy {
    pub(crate) fn new(
        uid: String,
        data: DataDir,
        keychain: Arc<dyn Keychain>,
        store: OpenStore,
    ) -> LocalCopy {
        LocalCopy {
            uid,
            data,
            keychain,
            store: Mutex::new(Some(store)),
        }
    }

    /// Runs `f` on the open store; `auth.not_signed_in` once the copy is closed. The lock is
    /// held only for `f`: never across an await.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut guard = self.guard();
        let open = guard.as_mut().ok_or(Error::NotSignedIn)?;
        f(&mut open.store)
    }

    /// Where the history database is (it may have `-wal` and `-shm` files beside it).
    pub(crate) fn database_path(&self) -> Result<PathBuf> {
        Ok(self.data.database_path(&self.uid)?)
    }

    /// Every file kept for this account on this device, with its size, sorted by path: the
    /// account's folder, all of it, its histories set aside by a reset, and `device.json` (who
    /// is signed in).
    pub(crate) fn files(&self) -> Result<Vec<(PathBuf, u64)>> {
        let mut files = paths::files_under(&self.data.account_dir(&self.uid)?)?;
        files.extend(paths::files_under(&self.data.set_aside_dir(&self.uid)?)?);
        let signed_in = signed_in::path(&self.data);
        if let Ok(meta) = std::fs::metadata(&signed_in) {
            files.push((signed_in, meta.len()));
        }
        files.sort();
        Ok(files)
    }

    /// This account's histories set aside by a reset, oldest first.
    pub(crate) fn set_aside(&self) -> Result<Vec<recovery::SetAside>> {
        recovery::list(&self.data, &self.uid)
    }

    /// The keychain holding this copy's database key (and the session's refresh token).
    pub(crate) fn keychain(&self) -> &dyn Keychain {
        self.keychain.as_ref()
    }

    /// The account's private folder `name` (readable by this user only), created if missing:
    /// where clips opened from the app and an export's downloads are kept.
    pub(crate) fn private_folder(&self, name: &str) -> Result<PathBuf> {
        let folder = self.data.ensure_account_dir(&self.uid)?.join(name);
        paths::create_private_dir(&folder)?;
        Ok(folder)
    }

    /// Removes this account's database, its folder, its set-aside histories and its keychain
    /// entries from this device, and forgets that it is signed in: nothing is kept. Returns how
    /// many files and keychain entries were removed. After this the copy is closed.
    pub(crate) fn wipe(&self) -> Result<(u64, u64)> {
        self.close();
        let mut local_files = remove_dir_counting(&self.data.account_dir(&self.uid)?)?;
        let mut keychain_entries = 0;
        for entry in keychain::account_entries(&self.uid) {
            if self.keychain.get(&entry)?.is_some() {
                self.keychain.delete(&entry)?;
                keychain_entries += 1;
            }
        }
        let (set_aside_files, set_aside_keys) =
            recovery::remove_account(&self.data, self.keychain.as_ref(), &self.uid)?;
        local_files += set_aside_files;
        keychain_entries += set_aside_keys;
        signed_in::forget(&self.data)?;
        Ok((local_files, keychain_entries))
    }

    /// Closes the copy, then sets its history aside and removes the rest (see [`reset`]); the
    /// session stays.
    pub(crate) fn reset(&self, now: OffsetDateTime) -> Result<()> {
        self.close();
        reset(&self.data, self.keychain.as_ref(), &self.uid, now)
    }

    fn close(&self) {
        drop(self.guard().take());
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Option<OpenStore>> {
        // A panic while holding the lock cannot leave the database half-written (every write is
        // one transaction), so a poisoned lock is still safe to use.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// "Reset this device's copy": sets the account's history aside for recovery with a copy of its
/// key (`recovery::set_aside`, named after `now`), then removes the rest of its local folder,
/// then its database key (in this order: a key left without a database is simply reused; a
/// database left without its key would need another reset). If the history cannot be set
/// aside, nothing is removed. The refresh token stays. Missing pieces are fine, so an
/// interrupted reset can run again.
pub(crate) fn reset(
    data: &DataDir,
    keychain: &dyn Keychain,
    uid: &str,
    now: OffsetDateTime,
) -> Result<()> {
    recovery::set_aside(data, keychain, uid, now)?;
    let dir = data.account_dir(uid)?;
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    keychain.delete(&keychain::database_key_entry(uid))?;
    Ok(())
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
