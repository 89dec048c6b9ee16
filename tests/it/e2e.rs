//! The real app window, driven like a person would: tauri-driver + WebKitWebDriver under Xvfb,
//! the app built by cargo, the local backend on loopback, the real keychain. Each screen is
//! saved as a PNG under `<target>/e2e-screenshots/`.

use std::time::Duration;

use cleom_core::keychain::{self, os::OsKeychain, Channel, Keychain};
use cleom_core::paths::DataDir;

use crate::support;
use crate::window::{
    app_processes, attr_until, can_run, click, element, screenshot, text_until, type_into, Driver,
    SESSION_LIMIT,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_user_signs_up_generates_works_offline_exports_and_deletes_the_account() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let export_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let port = backend.addr().port();
    let url = backend.base_url();
    let env = [
        ("CLEOM_DATA_DIR", data_dir.path().to_str().unwrap()),
        ("CLEOM_EXPORT_DIR", export_dir.path().to_str().unwrap()),
        ("CLEOM_BACKEND_URL", url.as_str()),
    ];
    let driver = Driver::start(&env);
    let email = support::unique_email("e2e");
    let password = "correct horse battery";
    let prompt = "A paper lantern drifts over a moonlit harbour, e2e-lantern-7731";

    // Sign-in screen: a wrong password and a weak one are explained, not crashed on.
    let app = driver.open_app().await;
    element(&app, "#auth-email").await;
    screenshot(&app, "01-sign-in").await;
    type_into(&app, "#auth-email", &email).await;
    type_into(&app, "#auth-password", "not-the-password").await;
    click(&app, "#auth-submit").await;
    text_until(&app, "#auth-error", "a wrong-credentials message", |t| {
        !t.trim().is_empty()
    })
    .await;
    screenshot(&app, "02-sign-in-error").await;

    click(&app, "#auth-mode-toggle").await;
    type_into(&app, "#auth-password", "123").await;
    click(&app, "#auth-submit").await;
    text_until(&app, "#auth-error", "a weak-password message", |t| {
        t.to_lowercase().contains("password")
    })
    .await;
    type_into(&app, "#auth-password", password).await;
    click(&app, "#auth-submit").await;

    // The main screen: the starting balance and the estimate from the served table.
    attr_until(&app, "#balance", "data-value", "2000").await;
    type_into(&app, "#prompt", prompt).await;
    type_into(&app, "#duration", "5").await;
    element(&app, "#resolution")
        .await
        .select_by_value("4k")
        .await
        .unwrap();
    let table = cleom_core::pricing::PricingTable::local_default();
    let settings = cleom_core::model::Settings {
        duration_seconds: 5,
        resolution: cleom_core::model::Resolution::K4,
        ..Default::default()
    };
    let cost = table
        .estimate(cleom_core::model::Mode::TextToVideo, &settings)
        .unwrap()
        .total;
    attr_until(&app, "#estimate", "data-value", &cost.to_string()).await;
    screenshot(&app, "03-studio").await;

    // Generate, and watch it go queued/running → succeeded with a thumbnail.
    click(&app, "#generate").await;
    let item = "[data-testid=generation]";
    element(&app, item).await;
    let status = element(&app, item)
        .await
        .attr("data-status")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        ["queued", "running", "succeeded"].contains(&status.as_str()),
        "status {status}"
    );
    text_until(
        &app,
        &format!("{item} .prompt"),
        "the prompt as typed",
        |t| t == prompt,
    )
    .await;
    screenshot(&app, "04-generating").await;
    attr_until(&app, item, "data-status", "succeeded").await;
    element(&app, &format!("{item} img.thumbnail")).await;
    attr_until(&app, "#balance", "data-value", &(2000 - cost).to_string()).await;
    screenshot(&app, "05-succeeded").await;

    // Export my data: a zip in a folder the user can open.
    click(&app, "#open-account").await;
    click(&app, "#export").await;
    let shown = text_until(&app, "#export-result", "the zip's path", |t| {
        t.contains(".zip")
    })
    .await;
    element(&app, "#show-in-folder").await;
    screenshot(&app, "06-exported").await;
    let zip_path = std::fs::read_dir(export_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("a zip in the export folder");
    assert!(shown.contains(zip_path.file_name().unwrap().to_str().unwrap()));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut generations = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("generations.json").unwrap(),
        &mut generations,
    )
    .unwrap();
    assert!(generations.contains(prompt));

    // Quit, stop the backend, start again: the history and its thumbnail are still there.
    app.close().await.unwrap();
    backend.shutdown().await;
    let app = driver.open_app().await;
    element(&app, "#offline-badge").await;
    text_until(
        &app,
        &format!("{item} .prompt"),
        "the saved generation",
        |t| t == prompt,
    )
    .await;
    element(&app, &format!("{item} img.thumbnail")).await;
    screenshot(&app, "07-offline").await;

    // Nothing secret or private is readable in the app's files.
    let keychain = OsKeychain::new(Channel::current(), &DataDir::at(data_dir.path()));
    let uid = std::fs::read_dir(data_dir.path().join("accounts"))
        .unwrap()
        .flatten()
        .next()
        .expect("an account folder")
        .file_name()
        .into_string()
        .unwrap();
    let refresh = keychain
        .get(&keychain::refresh_token_entry(&uid))
        .unwrap()
        .expect("a refresh token");
    let key = keychain
        .get(&keychain::database_key_entry(&uid))
        .unwrap()
        .expect("a database key");
    let leaks = support::files_containing(
        data_dir.path(),
        &[
            refresh.expose().as_bytes(),
            key.expose().as_bytes(),
            prompt.as_bytes(),
            b"e2e-lantern-7731",
        ],
    );
    assert!(leaks.is_empty(), "found in the data dir: {leaks:?}");

    // Back online, delete the account: the password is asked again.
    let backend = support::backend(backend_dir.path(), port).await;
    click(&app, "#sync-retry").await;
    text_until(&app, "#sync-status", "back online", |t| {
        !t.to_lowercase().contains("offline")
    })
    .await;
    // The whole deletion, as the user lives it: from opening the account to the receipt.
    let deleting = std::time::Instant::now();
    click(&app, "#open-account").await;
    click(&app, "#delete-account").await;
    type_into(&app, "#delete-password", "wrong password").await;
    click(&app, "#confirm-delete").await;
    text_until(&app, "#delete-error", "a wrong-password message", |t| {
        !t.trim().is_empty()
    })
    .await;
    screenshot(&app, "08-delete-confirm").await;
    type_into(&app, "#delete-password", password).await;
    click(&app, "#confirm-delete").await;
    element(&app, "#auth-email").await;
    element(&app, "#deletion-receipt").await;
    let took = deleting.elapsed();
    eprintln!("info account deletion flow {} ms", took.as_millis());
    assert!(took.as_secs() < 60, "the account deletion took {took:?}");
    // The receipt, saved as a file the user keeps.
    click(&app, "#save-receipt").await;
    let status = text_until(
        &app,
        "#save-receipt-status",
        "where the receipt went",
        |t| t.contains("cleom-deletion-receipt-"),
    )
    .await;
    let receipt = std::fs::read_dir(export_dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cleom-deletion-receipt-"))
        })
        .unwrap_or_else(|| panic!("no receipt file ({status})"));
    let text = std::fs::read_to_string(&receipt).unwrap();
    assert!(
        text.contains(&email) && text.contains("generations"),
        "{text}"
    );
    screenshot(&app, "09-deleted").await;
    app.close().await.unwrap();

    // Gone from this device, the keychain and the backend.
    assert!(!data_dir.path().join("accounts").join(&uid).exists());
    assert!(support::all_files(data_dir.path())
        .iter()
        .all(|p| !p.to_string_lossy().contains(&uid)));
    for entry in keychain::account_entries(&uid) {
        assert!(
            keychain.get(&entry).unwrap().is_none(),
            "{entry} is still in the keychain"
        );
    }
    let remote = cleom_core::remote::Remote::new(
        cleom_core::remote::Endpoints::local(&backend.base_url()).unwrap(),
    )
    .unwrap();
    let again = remote
        .auth
        .sign_in(
            &email,
            &cleom_core::secret::SecretString::new(password.into()),
        )
        .await;
    assert_eq!(
        again.err().map(|e| e.code()),
        Some("auth.invalid_credentials")
    );
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_keychain_the_sign_in_screen_says_so_and_nothing_is_stored() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let driver = Driver::start(&[
        ("CLEOM_DATA_DIR", data_dir.path().to_str().unwrap()),
        ("CLEOM_BACKEND_URL", url.as_str()),
        (
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/cleom-test-bus",
        ),
    ]);
    let app = driver.open_app().await;
    text_until(&app, "#keychain-status", "the keychain problem", |t| {
        t.to_lowercase().contains("keychain")
    })
    .await;
    click(&app, "#auth-mode-toggle").await;
    type_into(&app, "#auth-email", &support::unique_email("nokeychain")).await;
    type_into(&app, "#auth-password", "a fine password").await;
    click(&app, "#auth-submit").await;
    // Without a keychain the keys need a passphrase first: signing up stops and says why.
    text_until(&app, "#auth-error", "why signing in cannot finish", |t| {
        let t = t.to_lowercase();
        t.contains("keychain") || t.contains("passphrase")
    })
    .await;
    element(&app, "#passphrase-form").await;
    screenshot(&app, "10-keychain-unavailable").await;
    assert!(
        !data_dir.path().join("accounts").exists()
            || support::all_files(&data_dir.path().join("accounts")).is_empty()
    );

    // Choosing a passphrase (first run) lets the sign-up finish; nothing is readable on disk.
    let passphrase = "tide pools at noon";
    type_into(&app, "#passphrase", passphrase).await;
    type_into(&app, "#passphrase-confirm", passphrase).await;
    click(&app, "#passphrase-submit").await;
    text_until(
        &app,
        "#keychain-status",
        "protected by the passphrase",
        |t| t.contains("protected by your passphrase"),
    )
    .await;
    click(&app, "#auth-submit").await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    screenshot(&app, "12-passphrase-mode").await;
    app.close().await.unwrap();
    let leaks = support::files_containing(
        data_dir.path(),
        &[passphrase.as_bytes(), b"a fine password"],
    );
    assert!(leaks.is_empty(), "found in the data dir: {leaks:?}");
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_embedded_backend_serves_a_new_user_end_to_end() {
    if !can_run() {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let driver = Driver::start(&[
        ("CLEOM_DATA_DIR", data_dir.path().to_str().unwrap()),
        ("CLEOM_EMBEDDED_JOB_SECONDS", "1"),
    ]);
    let app = driver.open_app().await;
    click(&app, "#auth-mode-toggle").await;
    type_into(&app, "#auth-email", &support::unique_email("embedded")).await;
    type_into(&app, "#auth-password", "an embedded password").await;
    click(&app, "#auth-submit").await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    type_into(
        &app,
        "#prompt",
        "A kite over dunes, made by the embedded backend",
    )
    .await;
    click(&app, "#generate").await;
    attr_until(&app, "[data-testid=generation]", "data-status", "succeeded").await;
    element(&app, "[data-testid=generation] img.thumbnail").await;
    screenshot(&app, "11-embedded-backend").await;
    app.close().await.unwrap();
    // The embedded backend keeps its files apart from the account's encrypted store.
    assert!(data_dir.path().join("local-backend").is_dir());
}

/// An app on a fresh data dir, showing its sign-in screen, under a driver stopped after `limit`.
struct SignInWindow {
    backend: cleom_local_backend::RunningBackend,
    _backend_dir: tempfile::TempDir,
    data_dir: tempfile::TempDir,
    driver: Driver,
    app: fantoccini::Client,
}

impl SignInWindow {
    async fn open(limit: Duration) -> SignInWindow {
        let backend_dir = tempfile::tempdir().unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let backend = support::backend(backend_dir.path(), 0).await;
        let url = backend.base_url();
        let env = [
            ("CLEOM_DATA_DIR", data_dir.path().to_str().unwrap()),
            ("CLEOM_BACKEND_URL", url.as_str()),
        ];
        let driver = Driver::start_with_limit(&env, limit);
        let app = driver.open_app().await;
        element(&app, "#auth-email").await;
        SignInWindow {
            backend,
            _backend_dir: backend_dir,
            data_dir,
            driver,
            app,
        }
    }

    fn data(&self) -> String {
        self.data_dir.path().to_str().unwrap().to_string()
    }
}

/// A window test that ends with the window still open (it failed midway, or never closed its
/// session) leaves no app behind: dropping the driver stops the app it started, which would
/// otherwise keep running on the shared display through the rest of the suite.
#[tokio::test(flavor = "multi_thread")]
async fn a_window_left_open_is_stopped_with_its_driver() {
    if !can_run() {
        return;
    }
    let window = SignInWindow::open(SESSION_LIMIT).await;
    let data = window.data();
    assert!(app_processes(&data).is_some(), "the app is running");
    drop(window.app);
    drop(window.driver);
    assert_eq!(app_processes(&data), None, "the app outlived its driver");
    window.backend.shutdown().await;
}

/// A WebDriver command that never answers fails its test once the driver's time limit is up,
/// instead of hanging the suite (here: a script that never finishes, under a script timeout
/// longer than the test waits).
#[tokio::test(flavor = "multi_thread")]
async fn a_command_that_never_answers_fails_at_the_drivers_time_limit() {
    if !can_run() {
        return;
    }
    let window = SignInWindow::open(Duration::from_secs(15)).await;
    let app = &window.app;
    let script_timeout = Duration::from_secs(120);
    app.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
        Some(script_timeout),
        None,
        None,
    ))
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        app.execute_async("/* never calls back */", vec![]),
    )
    .await
    .expect("the command ended with the driver, not after 60 s");
    assert!(
        answer.is_err(),
        "a script that never finishes answered {answer:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    // The request fails as soon as tauri-driver dies; the app, killed by the same signal, can
    // take a moment longer to leave /proc.
    let killed = std::time::Instant::now();
    while app_processes(&window.data()).is_some() && killed.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app_processes(&window.data()),
        None,
        "the app outlived its driver"
    );
    drop(window.driver);
    window.backend.shutdown().await;
}
