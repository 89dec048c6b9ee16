//! A signed-in account with a large history, made without the window: sign up against the
//! backend through the core (so the keychain holds the store's key and the refresh token, and
//! `device.json` says who is signed in), then write synthetic generations straight into the
//! account's encrypted store. The app started on the same data dir resumes that session.
//! The backend does not know these generations; a sync never removes local rows it did not
//! send as tombstones, so they stay.

use cleom_core::model::{
    AspectRatio, Generation, Mode, Resolution, Settings, Status, STYLE_PRESETS,
};

#[cfg(target_os = "linux")]
pub use for_the_app::{account_with_history, can_seed_for_the_app};

/// What a window test seeds before the app starts (the window tests run on Linux only).
#[cfg(target_os = "linux")]
mod for_the_app {
    use std::path::Path;
    use std::sync::Arc;

    use cleom_core::device::Device;
    use cleom_core::keychain;
    use cleom_core::paths::DataDir;
    use cleom_core::remote::{Endpoints, Remote};
    use cleom_core::secret::{DatabaseKey, SecretString};
    use cleom_core::store::Store;

    use super::generation;

    /// Whether the app started by a window test can read what the seeding wrote: only with the
    /// real keychain (`CLEOM_REAL_KEYCHAIN`), which the test command provides.
    pub fn can_seed_for_the_app() -> bool {
        if std::env::var_os("CLEOM_REAL_KEYCHAIN").is_some() {
            return true;
        }
        if std::env::var_os("CLEOM_REQUIRE_E2E").is_some() {
            panic!("a seeded window test needs the real keychain (CLEOM_REAL_KEYCHAIN=1)");
        }
        eprintln!("SKIPPED: a seeded window test (CLEOM_REAL_KEYCHAIN is not set)");
        false
    }

    /// Signs a new account up on `backend_url` with its data in `data_dir`, then stores `count`
    /// generations, newest first one second apart, whose prompts come from `prompt(i)`. The app
    /// started on `data_dir` afterwards resumes this account. Returns the account's uid.
    pub async fn account_with_history(
        data_dir: &Path,
        backend_url: &str,
        count: usize,
        prompt: impl Fn(usize) -> String,
    ) -> String {
        let keychain = crate::support::keychain(data_dir);
        let remote = Remote::new(Endpoints::local(backend_url).unwrap()).unwrap();
        let device = Device::new(DataDir::at(data_dir), Arc::clone(&keychain), remote).unwrap();
        let email = crate::support::unique_email("seeded");
        let password = "a seeded password".to_string();
        let account = device
            .sign_up(&email, &SecretString::new(password.clone()))
            .await
            .expect("the seeded account signs up");
        let uid = account.uid().to_string();
        // The first sync stores the profile (the balance the header shows).
        account.sync().await.expect("the seeded account syncs");
        drop(account);

        let key = keychain
            .get(&keychain::database_key_entry(&uid))
            .unwrap()
            .expect("the store's key is in the keychain");
        let path = DataDir::at(data_dir).database_path(&uid).unwrap();
        let mut store = Store::open(&path, &DatabaseKey::from_hex(&key).unwrap()).unwrap();
        let newest = 1_767_225_600; // 2026-01-01T00:00:00Z
        let mut batch = Vec::with_capacity(5_000);
        for i in 0..count {
            batch.push(generation(i, newest - i as i64, prompt(i)));
            if batch.len() == 5_000 || i + 1 == count {
                store.upsert_generations(&batch).unwrap();
                batch.clear();
            }
        }
        uid
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

pub fn generation(i: usize, created: i64, prompt: String) -> Generation {
    let at = rfc3339(created);
    Generation {
        id: format!("seed{i:07}"),
        prompt,
        mode: Mode::TextToVideo,
        settings: Settings {
            duration_seconds: 5 + (i % 56) as u32,
            resolution: Resolution::ALL[i % 3],
            aspect_ratio: AspectRatio::ALL[i % 5],
            style_preset: Some(STYLE_PRESETS[i % 16].to_string()),
            ..Settings::default()
        },
        references: Vec::new(),
        status: if i.is_multiple_of(17) {
            Status::Failed
        } else {
            Status::Succeeded
        },
        progress: 1.0,
        credits_charged: 700,
        output_url: None,
        thumbnail_url: None,
        error: i
            .is_multiple_of(17)
            .then(|| "The render did not finish.".to_string()),
        created_at: at.clone(),
        updated_at: at,
        deleted: false,
        deleted_at: None,
    }
}
