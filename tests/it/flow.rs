//! A whole user session through `cleom-core` against a real local backend (no window): the
//! same flow as the end-to-end test, with the checks a window cannot make.

use std::time::{Duration, Instant};

use cleom_core::device::Device;
use cleom_core::keychain;
use cleom_core::model::{Resolution, Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use cleom_core::Account;

use crate::support;

fn device(
    data: &std::path::Path,
    keychain: std::sync::Arc<dyn keychain::Keychain>,
    url: &str,
) -> Device {
    let remote = Remote::new(Endpoints::local(url).unwrap()).unwrap();
    Device::new(DataDir::at(data), keychain, remote).unwrap()
}

/// Syncs until every generation has finished and has its thumbnail.
async fn sync_until_done(account: &Account, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        account.sync().await.expect("sync");
        let page = account.library(100, None).unwrap();
        let done = page
            .items
            .iter()
            .filter(|i| i.generation.status == Status::Succeeded && i.has_thumbnail)
            .count();
        if done == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {done} of {count} generations finished"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn history_survives_offline_leaks_nothing_exports_and_deletes_everywhere() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let port = backend.addr().port();
    let url = backend.base_url();
    let keychain = support::keychain(data.path());
    let email = support::unique_email("flow");
    let password = SecretString::new("a long enough password".into());
    let prompts = [
        "flow-prompt-one: a glass whale sings under the northern lights",
        "flow-prompt-two: <img src=x onerror=alert(1)> typed by a curious user",
        "flow-prompt-three: a clockwork garden blooming, \"quoted\", with commas, and\nnew lines",
    ];

    // Sign up: the starting balance arrives with the first sync.
    let account = device(data.path(), keychain.clone(), &url)
        .sign_up(&email, &password)
        .await
        .unwrap();
    let uid = account.uid().to_string();
    account.sync().await.unwrap();
    assert_eq!(account.profile().unwrap().unwrap().credit_balance, 2000);

    // Three generations, each charged exactly its estimate.
    let settings = Settings {
        duration_seconds: 5,
        resolution: Resolution::P1080,
        ..Settings::default()
    };
    let cost = account.estimate(&settings).await.unwrap().total;
    for prompt in prompts {
        let g = account.generate(prompt, settings.clone()).await.unwrap();
        assert!(
            g.status.is_active(),
            "a new generation starts queued, not {:?}",
            g.status
        );
    }
    sync_until_done(&account, prompts.len()).await;
    assert_eq!(
        account.profile().unwrap().unwrap().credit_balance,
        2000 - 3 * cost
    );
    drop(account);

    // The backend goes away; the app starts again from this device alone.
    backend.shutdown().await;
    let offline = device(data.path(), keychain.clone(), &url);
    let account = offline
        .resume()
        .unwrap()
        .expect("the last session resumes offline");
    let page = account.library(50, None).unwrap();
    let mut shown: Vec<_> = page
        .items
        .iter()
        .map(|i| i.generation.prompt.as_str())
        .collect();
    shown.sort();
    let mut expected = prompts.to_vec();
    expected.sort();
    assert_eq!(shown, expected);
    assert!(page.items.iter().all(|i| i.has_thumbnail));
    let (mime, png) = account
        .thumbnail(&page.items[0].generation.id)
        .unwrap()
        .unwrap();
    assert_eq!(mime, "image/png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let err = account.sync().await.unwrap_err();
    assert_eq!(err.code(), "network.unreachable");

    // Nothing readable in the data dir: no token, no key, no prompt.
    let refresh = keychain
        .get(&keychain::refresh_token_entry(&uid))
        .unwrap()
        .unwrap();
    let key = keychain
        .get(&keychain::database_key_entry(&uid))
        .unwrap()
        .unwrap();
    let mut needles: Vec<&[u8]> = vec![refresh.expose().as_bytes(), key.expose().as_bytes()];
    needles.extend(prompts.iter().map(|p| p.as_bytes()));
    needles.extend([
        b"flow-prompt-one".as_slice(),
        b"flow-prompt-two",
        b"flow-prompt-three",
    ]);
    let leaks = support::files_containing(data.path(), &needles);
    assert!(leaks.is_empty(), "readable in the data dir: {leaks:?}");

    // The export works offline and holds every prompt exactly as typed.
    let summary = account.export(exports.path()).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&summary.path).unwrap()).unwrap();
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let json: serde_json::Value =
        serde_json::from_str(&read(&mut zip, "generations.json")).unwrap();
    let mut exported: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["prompt"].as_str().unwrap().to_string())
        .collect();
    exported.sort();
    assert_eq!(exported, expected);
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&mut zip, "manifest.json")).unwrap();
    assert_eq!(manifest["counts"]["generations"], 3);
    for file in manifest["files"].as_array().unwrap() {
        use sha2::Digest;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut zip.by_name(file["path"].as_str().unwrap()).unwrap(),
            &mut bytes,
        )
        .unwrap();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            file["sha256"].as_str().unwrap(),
            "{}",
            file["path"]
        );
    }
    let csv = read(&mut zip, "generations.csv");
    assert!(csv.contains("\"flow-prompt-three: a clockwork garden blooming, \"\"quoted\"\", with commas, and\nnew lines\""));
    assert!(zip.file_names().filter(|n| n.starts_with("media/")).count() == 3);

    // Deleting the account: the password is checked, then server, device and keychain are cleared.
    let backend = support::backend(backend_dir.path(), port).await;
    let wrong = account
        .delete(&SecretString::new("not it".into()))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "auth.invalid_credentials");
    let receipt = account.delete(&password).await.unwrap();
    assert_eq!(receipt.removed.generations, 3);
    assert_eq!(receipt.removed.keychain_entries, 2);
    assert!(receipt.removed.local_files >= 1);
    assert_eq!(
        account.library(10, None).unwrap_err().code(),
        "auth.not_signed_in"
    );

    assert!(!data.path().join("accounts").join(&uid).exists());
    assert!(!data.path().join("device.json").exists());
    for entry in keychain::account_entries(&uid) {
        assert!(
            keychain.get(&entry).unwrap().is_none(),
            "{entry} is still in the keychain"
        );
    }
    let remote = Remote::new(Endpoints::local(&backend.base_url()).unwrap()).unwrap();
    let again = remote.auth.sign_in(&email, &password).await.unwrap_err();
    assert_eq!(again.code(), "auth.invalid_credentials");
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    assert!(remote
        .firestore
        .get(&format!("users/{uid}"), &admin)
        .await
        .unwrap()
        .is_none());
    backend.shutdown().await;
    let server_leaks =
        support::files_containing(backend_dir.path(), &[email.as_bytes(), b"flow-prompt-one"]);
    assert!(
        server_leaks.is_empty(),
        "the backend still holds the account: {server_leaks:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_a_user_can_meet_have_stable_codes() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let device = device(
        data.path(),
        support::keychain(data.path()),
        &backend.base_url(),
    );
    let email = support::unique_email("errors");
    let weak = device
        .sign_up(&email, &SecretString::new("123".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(weak.code(), "auth.weak_password");
    let bad_email = device
        .sign_up("not-an-email", &SecretString::new("long enough".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(bad_email.code(), "auth.invalid_email");
    let account = device
        .sign_up(&email, &SecretString::new("long enough".into()))
        .await
        .unwrap();
    let exists = device
        .sign_up(&email, &SecretString::new("long enough".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(exists.code(), "auth.email_exists");
    let wrong = device
        .sign_in(&email, &SecretString::new("wrong one".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(wrong.code(), "auth.invalid_credentials");

    // More than the balance: refused before anything is charged.
    account.sync().await.unwrap();
    let long = Settings {
        duration_seconds: 60,
        resolution: Resolution::K4,
        ..Settings::default()
    };
    let err = account.generate("too expensive", long).await.unwrap_err();
    assert_eq!(err.code(), "credits.insufficient");
    account.sync().await.unwrap();
    assert_eq!(account.profile().unwrap().unwrap().credit_balance, 2000);

    // The backend unreachable: a sync is a typed error; a generation composed now waits in
    // the outbox, shown as queued and not charged, instead of being lost.
    let port = backend.addr().port();
    backend.shutdown().await;
    let err = account.sync().await.unwrap_err();
    assert!(err.is_offline(), "{}", err.code());
    let queued = account
        .generate("a quiet lake", Settings::default())
        .await
        .unwrap();
    assert_eq!(queued.status, Status::Queued);
    assert_eq!(queued.credits_charged, 0);
    assert_eq!(account.library(10, None).unwrap().items.len(), 1);
    assert_eq!(account.outbox_counts().unwrap(), (1, 0));
    let down = self::device(
        data.path(),
        support::keychain(data.path()),
        &format!("http://127.0.0.1:{port}"),
    );
    let err = down
        .sign_in(&email, &SecretString::new("long enough".into()))
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), "network.unreachable");
}

/// "Reset this device's copy and re-download from Cleom": a database whose key is wrong (or
/// gone) is a typed error that replaces nothing; after the reset the next sync brings the whole
/// history back from the backend, under a new key, in the real keychain.
#[tokio::test(flavor = "multi_thread")]
async fn a_reset_copy_is_restored_by_the_next_sync() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let keychain = support::keychain(data.path());
    let password = SecretString::new("a long enough password".into());
    let device = device(data.path(), keychain.clone(), &url);
    let account = device
        .sign_up(&support::unique_email("reset"), &password)
        .await
        .unwrap();
    let uid = account.uid().to_string();
    account.sync().await.unwrap();
    let prompts = [
        "reset-one: a lighthouse in fog",
        "reset-two: paper boats racing",
    ];
    for prompt in prompts {
        account.generate(prompt, Settings::default()).await.unwrap();
    }
    sync_until_done(&account, prompts.len()).await;
    let before = account.profile().unwrap().unwrap().credit_balance;
    drop(account);

    // Another key under the database's name: the history must not open, and must not be
    // replaced by a new, empty one.
    let entry = keychain::database_key_entry(&uid);
    let db = data.path().join("accounts").join(&uid).join("history.db");
    let db_bytes = std::fs::read(&db).unwrap();
    let wrong = cleom_core::secret::DatabaseKey::generate().unwrap();
    keychain.set(&entry, &wrong.to_hex()).unwrap();
    let Err(err) = device.resume() else {
        panic!("a wrong key must not open the history")
    };
    assert_eq!(err.code(), "store.key_rejected");
    assert_eq!(std::fs::read(&db).unwrap(), db_bytes, "nothing written");

    // The user chooses to reset this device's copy; the session stays, the history comes back.
    device.reset_local_copy(&uid).unwrap();
    let account = device.resume().unwrap().expect("still signed in");
    assert!(account.library(10, None).unwrap().items.is_empty());
    sync_until_done(&account, prompts.len()).await;
    let mut restored: Vec<String> = account
        .library(10, None)
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.generation.prompt)
        .collect();
    restored.sort();
    assert_eq!(restored, prompts);
    assert_eq!(account.profile().unwrap().unwrap().credit_balance, before);
    let new_key = keychain.get(&entry).unwrap().unwrap();
    assert_ne!(new_key.expose(), wrong.to_hex().expose());

    // Tidy the real keychain.
    account.delete(&password).await.unwrap();
}
