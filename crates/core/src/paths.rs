//! Where Cleom Desktop keeps its files, and how it writes them so other users cannot read them.
//!
//! Everything lives under one data folder so that "remove this device's copy" is one folder
//! away from complete, and so tests (and power users) can move it with `CLEOM_DATA_DIR`.
//! The history database is encrypted anyway, but folder listings and small files (which account
//! used the app last) still say something about the user: on Linux and macOS folders are 0700
//! and files 0600. Windows has no such mode bits: there the data folder is under the user's
//! profile (`%APPDATA%`), whose ACLs give access to that user, the administrators and SYSTEM
//! only, and files created inside inherit them, so no other user can read them either (a folder
//! chosen with `CLEOM_DATA_DIR` has the ACLs of wherever it is).
//! An account id becomes a folder name, so it is checked to never climb out of the data folder.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The environment variable that moves the data folder.
pub const DATA_DIR_ENV: &str = "CLEOM_DATA_DIR";

/// Why a path could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("this account id cannot be used as a folder name (only letters, digits, '-' and '_', at most 128)")]
    InvalidUid,
    #[error("no folder for Cleom Desktop's data could be found (this user has no home folder); set {DATA_DIR_ENV} to choose one")]
    NoHome,
    #[error("could not use {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{} is in use by another Cleom process (Cleom Desktop, or the `cleom` command line). \
         Close it, then try again.",
        path.display()
    )]
    InUse { path: PathBuf },
}

impl PathError {
    /// A stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            PathError::InvalidUid => "paths.invalid_uid",
            PathError::NoHome => "paths.no_home",
            PathError::Io { .. } => "paths.io",
            PathError::InUse { .. } => "paths.in_use",
        }
    }

    fn io(path: &Path) -> impl FnOnce(io::Error) -> PathError + '_ {
        move |source| PathError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The root of everything Cleom Desktop stores on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `$CLEOM_DATA_DIR` if set and not empty, else the platform's data folder
    /// (e.g. `~/.local/share/cleomdesktop` on Linux).
    pub fn from_env_or_default() -> Result<DataDir, PathError> {
        DataDir::from_env_value(std::env::var_os(DATA_DIR_ENV))
    }

    fn from_env_value(value: Option<OsString>) -> Result<DataDir, PathError> {
        match value.filter(|v| !v.is_empty()) {
            // Absolute, so that a later change of working directory cannot move the data.
            Some(dir) => {
                let dir = PathBuf::from(dir);
                let root = std::path::absolute(&dir).map_err(PathError::io(&dir))?;
                Ok(DataDir { root })
            }
            None => directories::ProjectDirs::from("com", "cleomai", "Cleom Desktop")
                .map(|dirs| DataDir {
                    root: dirs.data_dir().to_path_buf(),
                })
                .ok_or(PathError::NoHome),
        }
    }

    /// A data folder at a chosen place (tests, portable installs).
    pub fn at(path: impl Into<PathBuf>) -> DataDir {
        DataDir { root: path.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the data folder if needed and makes it private to the user.
    pub fn ensure(&self) -> Result<(), PathError> {
        create_private_dir(&self.root)
    }

    /// The folder of one account: `<root>/accounts/<uid>`. Pure; see [`DataDir::ensure_account_dir`].
    pub fn account_dir(&self, uid: &str) -> Result<PathBuf, PathError> {
        validate_uid(uid)?;
        Ok(self.root.join("accounts").join(uid))
    }

    /// Creates the account's folder (and the folders above it) as private folders.
    pub fn ensure_account_dir(&self, uid: &str) -> Result<PathBuf, PathError> {
        let dir = self.account_dir(uid)?;
        self.ensure()?;
        create_private_dir(&self.root.join("accounts"))?;
        create_private_dir(&dir)?;
        Ok(dir)
    }

    /// Where histories that were set aside by "reset this device's copy" are kept for recovery
    /// (`<root>/set-aside`, one folder per account, one per reset inside it). Pure.
    pub fn set_aside_root(&self) -> PathBuf {
        self.root.join("set-aside")
    }

    /// The set-aside histories of one account: `<root>/set-aside/<uid>`. Pure.
    pub fn set_aside_dir(&self, uid: &str) -> Result<PathBuf, PathError> {
        validate_uid(uid)?;
        Ok(self.set_aside_root().join(uid))
    }

    /// The account's encrypted history database.
    pub fn database_path(&self, uid: &str) -> Result<PathBuf, PathError> {
        Ok(self.account_dir(uid)?.join("history.db"))
    }

    /// Claims the account's database for this process (`accounts/<uid>/history.lock`), creating
    /// the account's folder if needed: two processes never write one history (see
    /// [`ProcessLock`]). `paths.in_use` while another process holds it.
    pub fn lock_account(&self, uid: &str) -> Result<ProcessLock, PathError> {
        let dir = self.ensure_account_dir(uid)?;
        ProcessLock::acquire(&dir.join("history.lock"))
    }

    /// Claims the whole data folder for one app process (`app.lock`): a second Cleom Desktop
    /// started on the same data folder learns it before it starts anything, and hands over to
    /// the first. `paths.in_use` while another process holds it.
    pub fn lock_for_app(&self) -> Result<ProcessLock, PathError> {
        self.ensure()?;
        ProcessLock::acquire(&self.root.join("app.lock"))
    }

    /// A short name for this data folder (hex of a hash of its path), so that a system-wide name
    /// (the app's single-instance D-Bus name) can be one per data folder.
    pub fn short_id(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.root.as_os_str().as_encoded_bytes());
        hex::encode(&digest[..8])
    }
}

/// An exclusive lock on a file, held until the last clone is dropped (the OS releases it when
/// the process ends, however it ends, so a crash never leaves a stale lock).
///
/// The lock is between processes: within one process the same path is one shared lock (a
/// second sign-in of an account whose previous `Account` is still being dropped must not fail),
/// so a process-wide table hands out the held lock again.
#[derive(Debug, Clone)]
pub struct ProcessLock {
    _file: std::sync::Arc<fs::File>,
}

type HeldLocks = std::collections::HashMap<PathBuf, std::sync::Weak<fs::File>>;

static HELD: std::sync::Mutex<Option<HeldLocks>> = std::sync::Mutex::new(None);

impl ProcessLock {
    fn acquire(path: &Path) -> Result<ProcessLock, PathError> {
        let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
        let held = held.get_or_insert_with(HeldLocks::new);
        held.retain(|_, lock| lock.strong_count() > 0);
        if let Some(file) = held.get(path).and_then(std::sync::Weak::upgrade) {
            return Ok(ProcessLock { _file: file });
        }
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(PathError::io(path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(PathError::InUse {
                    path: path.to_path_buf(),
                })
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(PathError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        let file = std::sync::Arc::new(file);
        held.insert(path.to_path_buf(), std::sync::Arc::downgrade(&file));
        Ok(ProcessLock { _file: file })
    }
}

/// Checks that a uid is a plain folder name: 1 to 128 of `[A-Za-z0-9_-]`.
/// (Firebase uids are 28 such characters.) No dots, slashes or empty names: it cannot escape.
pub fn validate_uid(uid: &str) -> Result<(), PathError> {
    let plain = uid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain && (1..=128).contains(&uid.len()) {
        Ok(())
    } else {
        Err(PathError::InvalidUid)
    }
}

/// Creates `dir` and any missing parents with mode 0700, and sets 0700 on `dir` itself even if
/// it already existed (a folder we own should not have been opened up).
pub fn create_private_dir(dir: &Path) -> Result<(), PathError> {
    make_private_dir(dir).map_err(PathError::io(dir))
}

pub(crate) fn make_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    set_mode(dir, 0o700)
}

/// Sets unix permission bits. A no-op on Windows, where a file in the user's profile inherits
/// the profile's ACLs (that user, the administrators and SYSTEM only): see the module docs.
pub(crate) fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Replaces a small file atomically with mode 0600: readers see the old or the new content,
/// never half of it, even after a crash. Not for secrets (those go to the keychain).
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), PathError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| PathError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", hex::encode(rand::random::<[u8; 6]>())));
    let temp = dir.join(temp_name);

    let written = write_new_file(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(PathError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    sync_dir(dir).map_err(PathError::io(dir))
}

fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes a rename durable: on unix the folder entry itself must be flushed.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The first path in `folder` named `stem` + `tail(1)`, `stem` + `tail(2)`, … that names nothing
/// yet: how a new file gets a name that never replaces one already there (each caller says how
/// its names are numbered, in the tail). Every name is made valid on every OS by
/// [`crate::file_name::path_in`], which may cut the stem but never the tail, so the numbered
/// names stay distinct.
pub fn first_unused(
    folder: &Path,
    stem: &str,
    mut tail: impl FnMut(u32) -> String,
) -> std::io::Result<PathBuf> {
    let mut n = 1;
    loop {
        let path = crate::file_name::path_in(folder, stem, &tail(n));
        if !path.try_exists()? {
            return Ok(path);
        }
        n += 1;
    }
}

/// Every file under `dir`, in it or in the folders inside it, with its size, sorted by path
/// (none when `dir` is missing): what the app holds there, for the access report and a wipe's
/// count.
pub fn files_under(dir: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries.flatten() {
            let meta = entry.metadata()?;
            if meta.is_dir() {
                folders.push(entry.path());
            } else {
                files.push((entry.path(), meta.len()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `error` means the disk (or the user's quota) is full, on every OS: by its kind, to
/// which Rust maps ENOSPC and EDQUOT (Linux, macOS) and ERROR_DISK_FULL and
/// ERROR_HANDLE_DISK_FULL (Windows) alike.
pub fn is_disk_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set to a data folder: `a_lock_held_by_the_helper_process` holds that folder's account
    /// lock for `u1` as another process would, until its stdin closes.
    const HOLD_ENV: &str = "CLEOM_TEST_HOLD_ACCOUNT_LOCK";

    #[test]
    #[ignore = "run by another_process_holding_an_account_is_refused, as the other process"]
    fn a_lock_held_by_the_helper_process() {
        let Some(dir) = std::env::var_os(HOLD_ENV) else {
            return;
        };
        let _lock = DataDir::at(dir).lock_account("u1").unwrap();
        println!("holding");
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    #[test]
    fn another_process_holding_an_account_is_refused() {
        use std::io::BufRead as _;
        let tmp = tempfile::tempdir().unwrap();
        let mut other = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "paths::tests::a_lock_held_by_the_helper_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLD_ENV, tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(other.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("holding") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the helper never held the lock"
            );
        }

        let dir = DataDir::at(tmp.path());
        let err = dir.lock_account("u1").unwrap_err();
        assert_eq!(err.code(), "paths.in_use");
        assert!(err.to_string().contains("another Cleom process"), "{err}");
        // Another account of the same folder is free.
        drop(dir.lock_account("u2").unwrap());

        // Once the other process is gone (however it ended), the account is free again.
        drop(other.stdin.take());
        other.wait().unwrap();
        let mine = dir.lock_account("u1").unwrap();
        // Within one process it is one shared lock.
        let again = dir.lock_account("u1").unwrap();
        drop((mine, again));
    }

    #[test]
    fn each_data_folder_has_its_own_short_id() {
        let a = DataDir::at("/tmp/a").short_id();
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, DataDir::at("/tmp/a").short_id());
        assert_ne!(a, DataDir::at("/tmp/b").short_id());
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn env_value_wins_over_the_platform_default() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::from_env_value(Some(tmp.path().as_os_str().to_owned())).unwrap();
        assert_eq!(dir.root(), tmp.path());

        let relative = DataDir::from_env_value(Some("relative/data".into())).unwrap();
        assert!(relative.root().is_absolute());
        assert!(relative.root().ends_with("relative/data"));

        // Unset and empty both mean the platform default, which names the app.
        for value in [None, Some(OsString::new())] {
            if let Ok(default) = DataDir::from_env_value(value) {
                assert!(
                    default
                        .root()
                        .to_string_lossy()
                        .to_lowercase()
                        .contains("cleom"),
                    "{default:?}"
                );
            }
        }
    }

    #[test]
    fn uids_cannot_escape_the_data_folder() {
        let dir = DataDir::at("/data");
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a.b",
            "a b",
            "é",
            "a\0b",
            &"a".repeat(129),
        ] {
            let err = dir.account_dir(bad).unwrap_err();
            assert_eq!(err.code(), "paths.invalid_uid", "{bad:?}");
            assert!(dir.database_path(bad).is_err());
        }
        for good in [
            "a",
            "Xy9_-",
            "dQw4w9WgXcQabcdefghijklmnop1",
            &"a".repeat(128),
        ] {
            assert!(validate_uid(good).is_ok(), "{good:?}");
        }
        assert_eq!(
            dir.database_path("u1").unwrap(),
            Path::new("/data/accounts/u1/history.db")
        );
    }

    #[test]
    #[cfg(unix)]
    fn folders_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path().join("cleom"));
        let account = dir.ensure_account_dir("u1").unwrap();
        assert!(account.is_dir());
        assert_eq!(mode(dir.root()), 0o700);
        assert_eq!(mode(&dir.root().join("accounts")), 0o700);
        assert_eq!(mode(&account), 0o700);

        // A folder that was opened up is made private again.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.root(), fs::Permissions::from_mode(0o755)).unwrap();
        dir.ensure().unwrap();
        assert_eq!(mode(dir.root()), 0o700);
    }

    #[test]
    fn private_files_are_replaced_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("last-account");
        write_private_file(&path, b"first").unwrap();
        write_private_file(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("last-account")]);
    }

    #[test]
    fn numbered_names_stay_distinct_and_valid_when_the_stem_is_cut() {
        let tmp = tempfile::tempdir().unwrap();
        let stem = ":é".repeat(200);
        let numbered = |n: u32| match n {
            1 => ".txt".to_string(),
            n => format!(" ({n}).txt"),
        };
        let mut names = Vec::new();
        for _ in 0..3 {
            let path = first_unused(tmp.path(), &stem, numbered).unwrap();
            fs::write(&path, b"x").unwrap();
            names.push(path.file_name().unwrap().to_str().unwrap().to_string());
        }
        assert!(names[0].starts_with("_é_é"), "{}", names[0]);
        assert!(names[0].ends_with(".txt") && names[1].ends_with(" (2).txt"));
        assert!(names[2].ends_with(" (3).txt"), "{}", names[2]);
        for name in &names {
            assert!(name.len() <= crate::file_name::MAX_NAME_BYTES, "{name}");
            assert!(!name.contains(':'), "{name}");
        }
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_litter() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        let err = write_private_file(&path, b"new").unwrap_err();
        assert_eq!(err.code(), "paths.io");
        let names: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("taken")]);
    }
}
