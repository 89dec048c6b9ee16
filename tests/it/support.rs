//! What the integration tests share: a real local backend, the keychain they use, and a scan
//! of a folder's bytes for secrets.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cleom_core::keychain::{memory::MemoryKeychain, os::OsKeychain, Channel, Keychain};
use cleom_core::paths::DataDir;
use cleom_local_backend::{BackendConfig, RunningBackend};

/// The backend's admin token in tests, so they can check what the server holds.
pub const ADMIN_TOKEN: &str = "owner";

/// Starts the local backend on loopback with its data in `dir`; `port` 0 picks a free one.
pub async fn backend(dir: &Path, port: u16) -> RunningBackend {
    cleom_local_backend::start(BackendConfig {
        data_dir: dir.to_path_buf(),
        port,
        job_duration: Duration::from_millis(1500),
        admin_token: Some(ADMIN_TOKEN.to_string()),
    })
    .await
    .expect("the local backend starts")
}

/// The keychain of data folder `data`: the real Secret Service when the test command provides one (`CLEOM_REAL_KEYCHAIN=1`, set by
/// scripts/test-all.sh inside dbus-run-session with gnome-keyring); otherwise an in-memory one,
/// said loudly, so a developer's plain `cargo test` still runs the flow.
pub fn keychain(data: &Path) -> Arc<dyn Keychain> {
    if std::env::var_os("CLEOM_REAL_KEYCHAIN").is_some() {
        Arc::new(OsKeychain::new(app_channel(), &DataDir::at(data)))
    } else {
        eprintln!("NOTE: CLEOM_REAL_KEYCHAIN is not set: this run uses an in-memory keychain");
        Arc::new(MemoryKeychain::default())
    }
}

/// The keychain channel of the app under test: an installed package (`$CLEOM_APP_BINARY`, see
/// `window::app`) is a release build; the app cargo built for the tests is a debug one.
pub fn app_channel() -> Channel {
    if std::env::var_os("CLEOM_APP_BINARY").is_some() {
        Channel::Release
    } else {
        Channel::current()
    }
}

/// A unique address for a test account.
pub fn unique_email(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{nanos}@example.com")
}

/// Every file under `root` whose bytes contain one of `needles`, with the needle found.
pub fn files_containing(root: &Path, needles: &[&[u8]]) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            for needle in needles {
                if bytes.windows(needle.len()).any(|w| w == *needle) {
                    found.push((path.clone(), String::from_utf8_lossy(needle).into_owned()));
                }
            }
        }
    }
    found
}

/// Every file under `root`, for "nothing of the account remains" checks (the window tests').
#[cfg(target_os = "linux")]
pub fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
