//! The privacy rights in the real window: download a clip, see everything stored about you
//! (keychain entries by name, never their values), change the password, and remove this
//! device's copy, which the next sync fills again.

use std::time::{Duration, Instant};

use cleom_core::device::Device;
use cleom_core::keychain;
use cleom_core::model::{Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use fantoccini::key::Key;
use fantoccini::Locator;

use crate::e2e_studio::{start_driver, AppDirs};
use crate::file_manager::FileManagerService;
use crate::seed;
use crate::support;
use crate::window::{
    attr_until, can_run, choose_folder_in_system_picker, click, element, js_until, screenshot,
    text_until, type_into, PrivateDisplay,
};

const PASSWORD: &str = "a long enough password";
const PROMPT: &str = "Privacy clip: a paper crane unfolding in slow motion";

/// A signed-up account on `data` with one finished generation, as the app will resume it.
async fn account_with_a_clip(data: &std::path::Path, url: &str, email: &str) -> String {
    let remote = Remote::new(Endpoints::local(url).unwrap()).unwrap();
    let device = Device::new(DataDir::at(data), support::keychain(data), remote).unwrap();
    let account = device
        .sign_up(email, &SecretString::new(PASSWORD.into()))
        .await
        .unwrap();
    let g = account.generate(PROMPT, Settings::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        account.sync().await.unwrap();
        let done = account.generation(&g.id).unwrap().unwrap();
        if done.status == Status::Succeeded && account.thumbnail(&g.id).unwrap().is_some() {
            return account.uid().to_string();
        }
        assert!(Instant::now() < deadline, "the clip never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn download_access_password_and_removing_this_devices_copy() {
    if !can_run() || !seed::can_seed_for_the_app() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let dirs = AppDirs::new();
    let email = support::unique_email("privacy-window");
    let uid = account_with_a_clip(&dirs.root.path().join("data"), &url, &email).await;
    let exports = dirs.path("exports");
    let mut env = dirs.env(&url);
    env.push(("CLEOM_EXPORT_DIR", exports.clone()));
    // This machine has no file manager: an `xdg-open` that writes down what it was asked to open.
    let bin = dirs.root.path().join("bin");
    let opened = dirs.root.path().join("opened.txt");
    std::fs::create_dir(&bin).unwrap();
    let launcher = bin.join("xdg-open");
    std::fs::write(
        &launcher,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &launcher,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    env.push((
        "PATH",
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    ));
    // The folder picker is driven with real X input: on a display of the test's own.
    let display = PrivateDisplay::start();
    env.push(("DISPLAY", display.name.clone()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    let item = "[data-testid=generation][data-index='0']";
    attr_until(&app, item, "data-status", "succeeded").await;

    // Download: the real clip lands in the export folder under a name from its prompt.
    click(&app, item).await;
    element(&app, "dialog#generation-detail[open]").await;
    click(&app, "#detail-download").await;
    let file = text_until(&app, "#detail-clip-file", "the saved file's name", |t| {
        t.ends_with(".gif")
    })
    .await;
    assert!(file.starts_with("Privacy-clip-a-paper-crane"), "{file}");
    let saved = std::path::Path::new(&exports).join(&file);
    assert_eq!(&std::fs::read(&saved).unwrap()[..6], b"GIF89a");
    element(&app, "#detail-show-in-folder").await;
    screenshot(&app, "60-clip-downloaded").await;

    // Download to…: the system's folder picker, a folder chosen there, the clip saved in it.
    let chosen = dirs.root.path().join("chosen folder");
    std::fs::create_dir(&chosen).unwrap();
    click(&app, "#detail-download-to").await;
    choose_folder_in_system_picker(&display, "Download the clip to", &chosen);
    text_until(&app, "#detail-clip-folder", "the chosen folder", |t| {
        t == chosen.to_str().unwrap()
    })
    .await;
    let file = text_until(&app, "#detail-clip-file", "the saved file", |t| {
        t.ends_with(".gif")
    })
    .await;
    assert_eq!(&std::fs::read(chosen.join(&file)).unwrap()[..6], b"GIF89a");
    // "Show in folder" asks the desktop's file manager to show the file, selected in its
    // folder (the chosen folder or the export folder only): here the FileManager1 stand-in on
    // the private session bus.
    let saved = std::fs::canonicalize(chosen.join(&file)).unwrap();
    let revealed = url::Url::from_file_path(&saved).unwrap().to_string();
    let file_manager = FileManagerService::start().await;
    click(&app, "#detail-show-in-folder").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while file_manager.shown().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the file manager was not asked to show the file"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(file_manager.shown(), vec![vec![revealed]]);
    assert!(
        !opened.exists(),
        "the folder was opened as well as revealed"
    );
    // A desktop with no such service (nor the portal that opens folders) gets the folder
    // opened instead, here by the recording `xdg-open` put first on the app's PATH.
    file_manager.stop().await;
    click(&app, "#detail-show-in-folder").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !opened.exists() {
        assert!(
            Instant::now() < deadline,
            "no file manager was asked to open a folder"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap().trim(),
        saved.parent().unwrap().to_str().unwrap()
    );
    screenshot(&app, "60a-clip-downloaded-to-a-chosen-folder").await;

    // The player: the clip comes from this device through the app's clip: scheme, which the
    // CSP allows (an image that loads has a width).
    click(&app, "#detail-play").await;
    js_until(
        &app,
        "const p = document.querySelector('#detail-player');
         return !!p && p.complete && p.naturalWidth > 0;",
        "the clip plays",
    )
    .await;
    screenshot(&app, "60b-clip-playing").await;
    // It keeps playing: nothing the app does meanwhile (syncs, events) puts the poster back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = app
        .execute(
            "const p = document.querySelector('#detail-player');
             return !!p && p.complete && p.naturalWidth > 0
               && document.querySelector('#detail-play-error') === null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        still,
        serde_json::json!(true),
        "the player went back to the poster"
    );
    app.find(Locator::Css("dialog#generation-detail"))
        .await
        .unwrap()
        .send_keys(&Key::Escape.to_string())
        .await
        .unwrap();

    // Everything we store about you: the keychain entries by name, never their values.
    click(&app, "#open-account").await;
    click(&app, "#open-access").await;
    element(&app, "#access-dialog").await;
    for entry in keychain::account_entries(&uid) {
        attr_until(
            &app,
            &format!("[data-testid=keychain-entry][data-name='{entry}']"),
            "data-present",
            "true",
        )
        .await;
    }
    text_until(&app, "#access-device-saved-clips", "one saved clip", |t| {
        t.contains('1')
    })
    .await;
    element(&app, "#access-server-profile").await;
    text_until(&app, "#access-status", "the report loaded", |t| {
        t.starts_with("Up to date")
    })
    .await;
    element(&app, "#access-device").await;
    let shown = app
        .find(Locator::Css("#access-dialog"))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default();
    let keychain = support::keychain(&dirs.root.path().join("data"));
    for entry in keychain::account_entries(&uid) {
        let secret = keychain.get(&entry).unwrap().unwrap();
        assert!(
            !shown.contains(secret.expose().as_str()),
            "{entry}'s value is shown"
        );
    }
    assert!(
        shown.contains(&keychain::database_key_entry(&uid)),
        "{shown}"
    );
    screenshot(&app, "61-access-report").await;
    click(&app, "#access-close").await;

    // Change the password: the old one stops working, the new one works, this window stays in.
    let new_password = "an even longer new password";
    type_into(&app, "#change-password-current", PASSWORD).await;
    type_into(&app, "#change-password-new", new_password).await;
    type_into(&app, "#change-password-confirm", new_password).await;
    click(&app, "#change-password-submit").await;
    text_until(&app, "#change-password-status", "a confirmation", |t| {
        !t.is_empty()
    })
    .await;
    screenshot(&app, "62-password-changed").await;
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let old = remote
        .auth
        .sign_in(&email, &SecretString::new(PASSWORD.into()))
        .await;
    assert_eq!(
        old.err().map(|e| e.code()),
        Some("auth.invalid_credentials")
    );
    remote
        .auth
        .sign_in(&email, &SecretString::new(new_password.into()))
        .await
        .expect("the new password works");

    // Remove this device's copy: the history goes, the account stays, the sync brings it back.
    let db = dirs
        .root
        .path()
        .join("data")
        .join("accounts")
        .join(&uid)
        .join("history.db");
    let old_key = keychain
        .get(&keychain::database_key_entry(&uid))
        .unwrap()
        .unwrap();
    click(&app, "#remove-local-copy").await;
    element(&app, "#remove-copy-dialog").await;
    screenshot(&app, "63-remove-copy-confirm").await;
    click(&app, "#confirm-remove-copy").await;
    element(&app, "#main-notice").await;
    attr_until(&app, item, "data-status", "succeeded").await;
    text_until(
        &app,
        &format!("{item} .prompt"),
        "the history is back",
        |t| t == PROMPT,
    )
    .await;
    js_until(
        &app,
        "return document.querySelectorAll('[data-testid=generation]').length === 1;",
        "exactly the one generation",
    )
    .await;
    let new_key = keychain
        .get(&keychain::database_key_entry(&uid))
        .unwrap()
        .expect("a new key for the new copy");
    assert_ne!(new_key.expose(), old_key.expose());
    assert!(db.exists());
    screenshot(&app, "64-copy-restored").await;

    // A password-protected export: only that password opens it, and it verifies.
    click(&app, "#open-account").await;
    click(&app, "#export-protect").await;
    let export_password = "a strong export password";
    type_into(&app, "#export-password", export_password).await;
    type_into(&app, "#export-password-confirm", export_password).await;
    click(&app, "#export").await;
    text_until(&app, "#export-result", "the protected export", |t| {
        t.contains("protected")
    })
    .await;
    let zip = std::fs::read_dir(&exports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-encrypted.zip"))
        .expect("an encrypted export");
    let report =
        cleom_core::export::verify(&zip, Some(&SecretString::new(export_password.into()))).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(
        cleom_core::export::verify(&zip, Some(&SecretString::new("wrong".into())))
            .map(|r| !r.is_ok())
            .unwrap_or(true)
    );
    screenshot(&app, "65-protected-export").await;

    // Delete all history: empty here at once, every generation tombstoned on the server.
    click(&app, "#delete-all-history").await;
    element(&app, "#delete-all-history-dialog").await;
    screenshot(&app, "66-delete-all-confirm").await;
    click(&app, "#confirm-delete-all-history").await;
    text_until(&app, "#delete-all-history-status", "one deleted", |t| {
        t.starts_with("1 ")
    })
    .await;
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = remote
            .firestore
            .list(&format!("users/{uid}/generations"), 10, None, &admin)
            .await
            .unwrap();
        let all_gone = page.documents.iter().all(|d| {
            cleom_core::remote::documents::generation_from_document(d)
                .unwrap()
                .deleted
        });
        if all_gone && !page.documents.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delete never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    app.close().await.unwrap();
    drop(driver);
    backend.shutdown().await;
}
