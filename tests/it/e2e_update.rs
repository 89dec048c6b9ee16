//! Signed updates in the real window, against an update server on loopback and key pairs made
//! here by the release tool itself (`tauri signer generate` / `sign` from the pinned
//! @tauri-apps/cli in ui/node_modules): nothing is ever signed with a committed key.
//!
//! The debug app is not an installed package, so a correctly signed update ends in
//! `update.not_installed` with the executable untouched; the install over an installed .deb is
//! the release package's test. Here: the start-up check is silent when it fails and announces
//! an offer when it finds one; an explicit check shows a newer version with its notes, says
//! "latest" for a downgrade or the same version, and names a malformed answer or an
//! unreachable server; a tampered artifact or another key's signature installs nothing.

use std::time::{Duration, Instant};

use fantoccini::Client;
use sha2::{Digest, Sha256};

use crate::e2e_studio::{sign_up, start_driver, AppDirs};
use crate::support;
use crate::update_server::{
    check, check_offers, manifest, tauri_cli, Key, UpdateServer, CURRENT, NOTES,
};
use crate::window::{app, attr_until, can_run, click, element, screenshot, text_until};

fn sha256_of_the_app() -> String {
    hex::encode(Sha256::digest(std::fs::read(app()).unwrap()))
}

async fn error_code(app: &Client, code: &str) -> String {
    attr_until(app, "[data-testid=update-error]", "data-code", code).await;
    text_until(app, "[data-testid=update-error]", "the message", |t| {
        !t.is_empty()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_updates_are_offered_checked_and_refused_as_they_should_be() {
    if !can_run() {
        return;
    }
    let Some(cli) = tauri_cli() else { return };
    let keys_dir = tempfile::tempdir().unwrap();
    let cleom = Key::generate(&cli, keys_dir.path(), "cleom.key");
    let other = Key::generate(&cli, keys_dir.path(), "other.key");
    // The "package": its bytes only need to be what was signed.
    let package: Vec<u8> = b"Cleom Desktop 0.2.0 package "
        .iter()
        .copied()
        .cycle()
        .take(300_000)
        .collect();
    let package_file = keys_dir.path().join("cleom_0.2.0_amd64.deb");
    std::fs::write(&package_file, &package).unwrap();
    let signature = cleom.sign(&cli, &package_file);
    let others_signature = other.sign(&cli, &package_file);
    let mut tampered = package.clone();
    tampered[1000] ^= 1;
    let app_before = sha256_of_the_app();

    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let mut server = UpdateServer::start();
    let url = server.artifact_url();
    server.serve("{\"version\": ".into(), &package);
    let mut env = dirs.env(&backend.base_url());
    env.push(("CLEOM_UPDATE_URL", server.endpoint()));
    env.push(("CLEOM_UPDATER_PUBKEY", cleom.public.clone()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    sign_up(&app, &support::unique_email("update"), "an update password").await;

    // The start-up check asks once the Library shows, with this platform and version in the
    // path; its failure (a malformed answer) stays in the log: no banner, no dialog.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.requests().is_empty() {
        assert!(Instant::now() < deadline, "the start-up check never asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        server.requests()[0],
        format!("/desktop/linux/x86_64/{CURRENT}")
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let silent = app
        .execute(
            "return !document.querySelector('[data-testid=update-banner]') \
             && !document.querySelector('[data-testid=update-dialog]');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        silent,
        serde_json::Value::Bool(true),
        "the failed start-up check was not silent"
    );

    // An explicit check of the same answer says what is wrong.
    click(&app, "#open-account").await;
    click(&app, "[data-testid=update-open]").await;
    text_until(
        &app,
        "[data-testid=update-current-version]",
        "this version",
        |t| t == format!("This is Cleom Desktop {CURRENT}."),
    )
    .await;
    let message = error_code(&app, "update.malformed").await;
    assert!(message.contains("update description"), "{message}");
    screenshot(&app, "90-update-malformed").await;

    // (a) A newer version signed with the right key: its version and notes.
    server.serve(manifest("0.2.0", &url, &signature), &package);
    check_offers(&app, "0.2.0").await;
    text_until(&app, "[data-testid=update-notes]", "the notes", |t| {
        t == NOTES
    })
    .await;
    attr_until(&app, "[data-testid=update-error]", "data-code", "").await;
    screenshot(&app, "91-update-offered").await;

    // (b) The artifact was changed after signing: downloaded whole (the progress said so),
    // refused, nothing installed.
    server.serve(manifest("0.2.0", &url, &signature), &tampered);
    click(&app, "[data-testid=update-install]").await;
    let message = error_code(&app, "update.bad_signature").await;
    assert!(message.contains("not signed with Cleom's key"), "{message}");
    attr_until(
        &app,
        "[data-testid=update-dialog]",
        "data-downloaded",
        &package.len().to_string(),
    )
    .await;
    assert_eq!(server.requests().last().unwrap(), "/artifacts/cleom.deb");
    screenshot(&app, "92-update-tampered").await;

    // A signature by another key over the real artifact: refused too.
    server.serve(manifest("0.2.0", &url, &others_signature), &package);
    check_offers(&app, "0.2.0").await;
    click(&app, "[data-testid=update-install]").await;
    error_code(&app, "update.bad_signature").await;

    // The right signature over the real artifact: valid, but this debug build runs from its
    // build folder, so it does not replace itself (the plugin would overwrite the executable).
    server.serve(manifest("0.2.0", &url, &signature), &package);
    check_offers(&app, "0.2.0").await;
    click(&app, "[data-testid=update-install]").await;
    let message = error_code(&app, "update.not_installed").await;
    assert!(message.contains("signature is valid"), "{message}");
    assert_eq!(
        sha256_of_the_app(),
        app_before,
        "the app's executable was changed"
    );

    // (c) An older version, or the same one, correctly signed, is not offered (each time after
    // a check that did offer 0.2.0, so the answer seen is the new one).
    for version in ["0.0.9", CURRENT] {
        server.serve(manifest("0.2.0", &url, &signature), &package);
        check_offers(&app, "0.2.0").await;
        server.serve(manifest(version, &url, &signature), &package);
        check(&app).await;
        text_until(&app, "[data-testid=update-status]", "latest", |t| {
            t == "You have the latest version."
        })
        .await;
        let offered = app
            .execute(
                "return !!document.querySelector('[data-testid=update-offer]');",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            offered,
            serde_json::Value::Bool(false),
            "{version} was offered"
        );
    }

    // (d) The server is gone.
    server.shut_down();
    check(&app).await;
    let message = error_code(&app, "update.unreachable").await;
    assert!(message.contains("can't be reached"), "{message}");
    screenshot(&app, "93-update-unreachable").await;

    // The app keeps working: the dialogs close, the account is still signed in, the Studio
    // still estimates.
    click(&app, "#update-dialog .done").await;
    // Its own Done button: the update dialog, nested in it, has one too.
    click(&app, "#account-dialog > footer .done").await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    click(&app, "#open-help").await;
    element(&app, "#help-sheet[open]").await;
    drop(app);
    drop(driver);
    assert_eq!(sha256_of_the_app(), app_before);

    // A later start with a newer version on the server: the start-up check announces it.
    let server = UpdateServer::start();
    let url = server.artifact_url();
    server.serve(manifest("0.2.0", &url, &signature), &package);
    env.retain(|(k, _)| *k != "CLEOM_UPDATE_URL");
    env.push(("CLEOM_UPDATE_URL", server.endpoint()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    text_until(&app, "[data-testid=update-banner]", "the offer", |t| {
        t.contains("Cleom Desktop 0.2.0 is available.")
    })
    .await;
    click(&app, "[data-testid=update-banner-open]").await;
    text_until(&app, "[data-testid=update-notes]", "the notes", |t| {
        t == NOTES
    })
    .await;
    element(&app, "[data-testid=update-install]").await;
    screenshot(&app, "94-update-announced-at-start-up").await;
}
