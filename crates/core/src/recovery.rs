//! Histories set aside by "reset this device's copy", kept 30 days for recovery.
//!
//! A history that fails to open (its key is missing or wrong) may still hold something the
//! server does not: actions done offline that never left, or simply the user's only way to
//! learn what went wrong. So the reset moves the database (and its `-wal` and `-shm` files)
//! into `set-aside/<uid>/<when>/` and keeps its key, if it had one, in the keychain under an
//! entry named after that folder ([`keychain::set_aside_key_entry`]): the user can send the copy
//! for recovery, and the key never lands in a file beside it.
//!
//! Nothing is kept forever: a copy older than [`KEPT_FOR`] is removed, key first, by the sweep
//! at start ([`sweep`]); which copies are due is the pure [`due_for_removal`], so the rule is
//! tested without a clock or a disk. Deleting or wiping the account removes its copies at once
//! ([`remove_account`]).
//!
//! A set-aside that fails (a full disk, a keychain that refuses the entry) undoes what it did and
//! fails the reset with [`Error::SetAsideFailed`] (or the keychain's error): the history stays
//! where it was, never lost between two places.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::error::{Error, Result};
use crate::keychain::{self, Keychain};
use crate::paths::{self, DataDir};

/// How long a set-aside history is kept before the sweep removes it.
pub(crate) const KEPT_FOR: Duration = Duration::days(30);

/// The files of a history database: the file itself, then its write-ahead log and shared memory.
const DATABASE_SUFFIXES: [&str; 3] = ["", "-wal", "-shm"];

/// The name the database keeps in its set-aside folder: the name it had.
const DATABASE_FILE: &str = "history.db";

/// The UTC time a folder is named after: `20261202T061500Z`.
const FOLDER_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// One history set aside: whose, which folder, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SetAside {
    pub(crate) uid: String,
    /// The folder's name, which its key entry is named after too.
    pub(crate) name: String,
    pub(crate) folder: PathBuf,
    pub(crate) at: OffsetDateTime,
}

impl SetAside {
    /// When the sweep removes it.
    pub(crate) fn removed_after(&self) -> OffsetDateTime {
        self.at + KEPT_FOR
    }

    /// The set-aside database file itself (its `-wal` and `-shm` may be beside it).
    pub(crate) fn database_path(&self) -> PathBuf {
        self.folder.join(DATABASE_FILE)
    }
}

/// The copies due for removal at `now`: those set aside [`KEPT_FOR`] or longer ago.
pub(crate) fn due_for_removal(copies: &[SetAside], now: OffsetDateTime) -> Vec<&SetAside> {
    copies
        .iter()
        .filter(|copy| copy.removed_after() <= now)
        .collect()
}

/// Moves `uid`'s history database out of its account folder into a new set-aside folder named
/// after `now`, and copies its key (if the keychain has one) to that folder's entry. Returns the
/// folder, or `None` when there was no database to set aside. The account's own key entry is
/// left for the caller to delete once the rest of the account folder is gone.
pub(crate) fn set_aside(
    data: &DataDir,
    keychain: &dyn Keychain,
    uid: &str,
    now: OffsetDateTime,
) -> Result<Option<PathBuf>> {
    let database = data.database_path(uid)?;
    let present: Vec<(PathBuf, &str)> = DATABASE_SUFFIXES
        .iter()
        .map(|suffix| (with_suffix(&database, suffix), *suffix))
        .filter(|(path, _)| path.exists())
        .collect();
    if !present.iter().any(|(_, suffix)| suffix.is_empty()) {
        return Ok(None);
    }
    let account_folder = data.set_aside_dir(uid)?;
    let (folder, name) = new_folder(&account_folder, now).map_err(Error::SetAsideFailed)?;
    let entry = keychain::set_aside_key_entry(uid, &name);
    let kept = (|| {
        if let Some(key) = keychain.get(&keychain::database_key_entry(uid))? {
            keychain.set(&entry, &key)?;
        }
        move_all(&present, &folder.join(DATABASE_FILE)).map_err(Error::SetAsideFailed)
    })();
    if let Err(e) = kept {
        let _ = keychain.delete(&entry);
        let _ = std::fs::remove_dir(&folder);
        return Err(e);
    }
    Ok(Some(folder))
}

/// Every history set aside on this device, of every account, oldest first. Folders whose name
/// is not a time this module wrote are not listed (and so never swept).
pub(crate) fn list_all(data: &DataDir) -> Result<Vec<SetAside>> {
    let mut copies = Vec::new();
    for uid in folder_names(&data.set_aside_root())? {
        if paths::validate_uid(&uid).is_ok() {
            copies.extend(list(data, &uid)?);
        }
    }
    copies.sort_by_key(|copy| copy.at);
    Ok(copies)
}

/// The histories set aside for `uid`, oldest first.
pub(crate) fn list(data: &DataDir, uid: &str) -> Result<Vec<SetAside>> {
    let dir = data.set_aside_dir(uid)?;
    let mut copies: Vec<SetAside> = folder_names(&dir)?
        .into_iter()
        .filter_map(|name| {
            let at = folder_time(&name)?;
            Some(SetAside {
                uid: uid.to_string(),
                folder: dir.join(&name),
                name,
                at,
            })
        })
        .collect();
    copies.sort_by_key(|copy| copy.at);
    Ok(copies)
}

/// Removes every copy due at `now` (see [`due_for_removal`]): what runs at start. A copy that
/// cannot be removed now stays for the next start; the others go. Returns how many went.
pub(crate) fn sweep(data: &DataDir, keychain: &dyn Keychain, now: OffsetDateTime) -> Result<usize> {
    let copies = list_all(data)?;
    let mut removed = 0;
    for copy in due_for_removal(&copies, now) {
        match remove(keychain, copy) {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(
                code = e.code(),
                "a history set aside more than 30 days ago stays until the next start"
            ),
        }
    }
    Ok(removed)
}

/// Removes all of `uid`'s set-aside histories and their keys (the account is deleted or wiped:
/// nothing is kept). Returns how many files and keychain entries were removed.
pub(crate) fn remove_account(
    data: &DataDir,
    keychain: &dyn Keychain,
    uid: &str,
) -> Result<(u64, u64)> {
    let dir = data.set_aside_dir(uid)?;
    let mut entries = 0;
    for name in folder_names(&dir)? {
        let entry = keychain::set_aside_key_entry(uid, &name);
        if keychain.get(&entry)?.is_some() {
            keychain.delete(&entry)?;
            entries += 1;
        }
    }
    let files = paths::files_under(&dir)?.len() as u64;
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    Ok((files, entries))
}

/// Removes one copy: its key first, so a folder that cannot be removed now is found (and its
/// key tried again) by the next sweep, and no key outlives its folder unseen.
fn remove(keychain: &dyn Keychain, copy: &SetAside) -> Result<()> {
    keychain.delete(&keychain::set_aside_key_entry(&copy.uid, &copy.name))?;
    match std::fs::remove_dir_all(&copy.folder) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Creates the private folder of a set-aside at `now` inside `account_folder`: named after the
/// time, with `-2`, `-3`… when a reset in the same second already took the name.
fn new_folder(account_folder: &Path, now: OffsetDateTime) -> std::io::Result<(PathBuf, String)> {
    paths::make_private_dir(account_folder)?;
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(FOLDER_TIME)
        .map_err(std::io::Error::other)?;
    let mut n = 1;
    loop {
        let name = match n {
            1 => stamp.clone(),
            n => format!("{stamp}-{n}"),
        };
        let folder = account_folder.join(&name);
        match std::fs::create_dir(&folder) {
            Ok(()) => {
                paths::set_mode(&folder, 0o700)?;
                return Ok((folder, name));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Renames each of `files` (a database and its companions, by suffix) to `database` with the
/// same suffix. If one fails, those already moved are moved back, so the history is whole in
/// one place or the other.
fn move_all(files: &[(PathBuf, &str)], database: &Path) -> std::io::Result<()> {
    for (done, (from, suffix)) in files.iter().enumerate() {
        if let Err(e) = std::fs::rename(from, with_suffix(database, suffix)) {
            for (back, suffix) in &files[..done] {
                let _ = std::fs::rename(with_suffix(database, suffix), back);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// The time a set-aside folder is named after, if `name` is one (`-2`… after it is allowed).
fn folder_time(name: &str) -> Option<OffsetDateTime> {
    let stamp = name.split_once('-').map_or(name, |(stamp, _)| stamp);
    PrimitiveDateTime::parse(stamp, FOLDER_TIME)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// The names of the folders in `dir` (none when `dir` is missing).
fn folder_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(entries
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut path = path.to_path_buf().into_os_string();
    path.push(suffix);
    PathBuf::from(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keychain::memory::MemoryKeychain;
    use crate::secret::SecretString;
    use time::macros::datetime;

    fn copy(at: OffsetDateTime) -> SetAside {
        SetAside {
            uid: "u1".into(),
            name: at.format(FOLDER_TIME).unwrap(),
            folder: PathBuf::from("/nowhere"),
            at,
        }
    }

    #[test]
    fn a_copy_is_due_once_it_has_been_kept_30_days() {
        let now = datetime!(2026-12-02 06:15:00 UTC);
        let old = copy(now - Duration::days(31));
        let recent = copy(now - Duration::days(29));
        let exactly = copy(now - KEPT_FOR);
        let copies = [old.clone(), recent, exactly.clone()];
        assert_eq!(due_for_removal(&copies, now), vec![&old, &exactly]);
        assert!(due_for_removal(&copies, now - Duration::days(2)).is_empty());
        assert!(due_for_removal(&[], now).is_empty());
    }

    #[test]
    fn folder_names_are_utc_times_and_read_back() {
        let at = datetime!(2026-12-02 07:15:00 +1);
        let name = at
            .to_offset(time::UtcOffset::UTC)
            .format(FOLDER_TIME)
            .unwrap();
        assert_eq!(name, "20261202T061500Z");
        assert_eq!(folder_time(&name), Some(at));
        assert_eq!(folder_time("20261202T061500Z-2"), Some(at));
        for not_ours in ["", "notes", "2026-12-02", "20261302T061500Z"] {
            assert_eq!(folder_time(not_ours), None, "{not_ours:?}");
        }
    }

    /// A data folder where `uid` has a database (and a WAL) and a key.
    fn with_history(dir: &Path, keychain: &dyn Keychain, uid: &str) -> DataDir {
        let data = DataDir::at(dir);
        let db = data.database_path(uid).unwrap();
        data.ensure_account_dir(uid).unwrap();
        std::fs::write(&db, b"encrypted pages").unwrap();
        std::fs::write(with_suffix(&db, "-wal"), b"journal").unwrap();
        keychain
            .set(
                &keychain::database_key_entry(uid),
                &SecretString::new("old key".into()),
            )
            .unwrap();
        data
    }

    #[test]
    fn the_sweep_removes_copies_older_than_30_days_and_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = MemoryKeychain::new();
        let now = datetime!(2026-12-02 06:15:00 UTC);
        let mut folders = Vec::new();
        for age in [31, 29] {
            let data = with_history(dir.path(), &keychain, "u1");
            let at = now - Duration::days(age);
            folders.push(set_aside(&data, &keychain, "u1", at).unwrap().unwrap());
        }
        let data = DataDir::at(dir.path());
        // A folder this module did not name is left alone.
        std::fs::create_dir_all(data.set_aside_dir("u1").unwrap().join("notes")).unwrap();
        let names: Vec<String> = list(&data, "u1")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["20261101T061500Z", "20261103T061500Z"]);

        assert_eq!(sweep(&data, &keychain, now).unwrap(), 1);
        assert!(!folders[0].exists(), "31 days old: removed");
        assert!(keychain
            .get(&keychain::set_aside_key_entry("u1", &names[0]))
            .unwrap()
            .is_none());
        assert!(
            folders[1].join(DATABASE_FILE).is_file(),
            "29 days old: kept"
        );
        assert!(keychain
            .get(&keychain::set_aside_key_entry("u1", &names[1]))
            .unwrap()
            .is_some());
        assert!(data.set_aside_dir("u1").unwrap().join("notes").is_dir());
        assert_eq!(
            sweep(&data, &keychain, now).unwrap(),
            0,
            "nothing more is due"
        );
    }

    #[test]
    fn two_resets_in_one_second_get_two_folders() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = MemoryKeychain::new();
        let now = datetime!(2026-12-02 06:15:00 UTC);
        let data = with_history(dir.path(), &keychain, "u1");
        let first = set_aside(&data, &keychain, "u1", now).unwrap().unwrap();
        let data = with_history(dir.path(), &keychain, "u1");
        let second = set_aside(&data, &keychain, "u1", now).unwrap().unwrap();
        assert_ne!(first, second);
        assert!(second.ends_with("20261202T061500Z-2"));
        assert_eq!(list(&data, "u1").unwrap().len(), 2);
    }

    #[test]
    fn a_set_aside_that_fails_leaves_the_history_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = MemoryKeychain::new();
        let data = with_history(dir.path(), &keychain, "u1");
        // The set-aside folder cannot be made: a file is in its way.
        std::fs::write(data.set_aside_root(), b"in the way").unwrap();
        let now = datetime!(2026-12-02 06:15:00 UTC);
        let err = set_aside(&data, &keychain, "u1", now).unwrap_err();
        assert_eq!(err.code(), "local_copy.set_aside_failed");
        let db = data.database_path("u1").unwrap();
        assert_eq!(std::fs::read(&db).unwrap(), b"encrypted pages");
        assert_eq!(std::fs::read(with_suffix(&db, "-wal")).unwrap(), b"journal");
        assert!(keychain
            .get(&keychain::database_key_entry("u1"))
            .unwrap()
            .is_some());
    }

    #[test]
    fn a_history_that_cannot_be_moved_whole_is_moved_back() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        let to = dir.path().join("to");
        std::fs::create_dir_all(&from).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        let db = from.join("history.db");
        std::fs::write(&db, b"pages").unwrap();
        // The second file vanished before it could be moved: the first goes back.
        let files = [(db.clone(), ""), (with_suffix(&db, "-wal"), "-wal")];
        move_all(&files, &to.join("history.db")).unwrap_err();
        assert_eq!(std::fs::read(&db).unwrap(), b"pages");
        assert!(!to.join("history.db").exists());
    }

    #[test]
    fn nothing_is_set_aside_without_a_database() {
        let dir = tempfile::tempdir().unwrap();
        let keychain = MemoryKeychain::new();
        let data = DataDir::at(dir.path());
        let now = datetime!(2026-12-02 06:15:00 UTC);
        assert_eq!(set_aside(&data, &keychain, "u1", now).unwrap(), None);
        assert!(!data.set_aside_root().exists());
    }
}
