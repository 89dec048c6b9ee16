//! One instance and `cleom://` links, in the real window: "Forgot password?" then the emailed
//! link opened with `xdg-open` reaches the running app, which sets the new password and signs
//! in; a link that cannot be opened shows why and changes nothing; an email-change link
//! completes in the app; and a second launch focuses the first and leaves one process.
//!
//! The links come from the local backend's listing of the emails it would have sent
//! (`GET /emulator/v1/projects/{p}/oobCodes`), as the user would click them. `xdg-open` and the
//! second launch run with the app's environment, as every launch in one desktop session does:
//! the same data folder, so the same single-instance name. The binary is `window::app()`; a
//! debug build registers itself as the `cleom:` handler when it starts (in the test's own
//! XDG folders), an installed package through its desktop entry.

use std::process::Command;
use std::time::{Duration, Instant};

use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::e2e_studio::{js, sign_up, start_driver, AppDirs};
use crate::support;
use crate::window::{
    attr_until, can_run, click, element, js_until, process_environment, screenshot, text_until,
    type_into, PrivateDisplay,
};

/// The pending email link of `email` for `request_type`, from the backend's admin listing.
async fn emailed_link(base_url: &str, email: &str, request_type: &str) -> String {
    let host = base_url.strip_prefix("http://").unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let request = format!(
            "GET /emulator/v1/projects/demo-cleom/oobCodes HTTP/1.0\r\nHost: {host}\r\n\
             Authorization: Bearer {}\r\n\r\n",
            support::ADMIN_TOKEN
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        let listing: serde_json::Value = serde_json::from_str(body).unwrap();
        let found = listing["oobCodes"].as_array().unwrap().iter().find(|c| {
            (c["email"] == email || c["newEmail"] == email) && c["requestType"] == request_type
        });
        if let Some(code) = found {
            return code["oobLink"].as_str().unwrap().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no {request_type} email for {email}: {listing}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn command_with(program: &str, env: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(program);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Opens `link` as a click in a mail client does, once a handler for `cleom:` is registered:
/// `xdg-open` as on a GNOME desktop, which hands the link to `gio open`. (With no desktop
/// detected, xdg-utils' own fallback cannot run an `Exec` line whose program is quoted, as the
/// desktop-entry spec allows and the deep-link plugin writes it.)
fn xdg_open(link: &str, env: &[(&'static str, String)]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = command_with("xdg-mime", env)
            .args(["query", "default", "x-scheme-handler/cleom"])
            .output()
            .expect("xdg-mime runs (apt install xdg-utils)");
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing is registered for cleom: links"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = command_with("timeout", env)
        .env("XDG_CURRENT_DESKTOP", "GNOME")
        .args(["30", "xdg-open", link])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xdg-open {link}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The app processes (not WebKit's) started on `data_dir`.
fn app_instances(data_dir: &str) -> usize {
    let app = std::fs::canonicalize(crate::window::app()).unwrap();
    let marker = format!("CLEOM_DATA_DIR={data_dir}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
                && process_environment(*pid).contains(&marker)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_link_opened_with_xdg_open_sets_the_new_password_and_signs_in() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let email = support::unique_email("forgot");
    let old = SecretString::new("the forgotten password".into());
    let uid = remote.auth.sign_up(&email, &old).await.unwrap().uid;

    let dirs = AppDirs::new();
    let env = dirs.env(&url);
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    type_into(&app, "#auth-email", &email).await;
    click(&app, "#forgot-password").await;
    text_until(&app, "#reset-status", "the reset email is sent", |t| {
        t.contains(&email)
    })
    .await;
    screenshot(&app, "60-forgot-password-sent").await;

    let link = emailed_link(&url, &email, "PASSWORD_RESET").await;
    assert!(
        link.starts_with("cleom://auth/action?mode=resetPassword&oobCode="),
        "{link}"
    );
    xdg_open(&link, &env);
    element(&app, "dialog#reset-password-dialog[open]").await;
    screenshot(&app, "61-reset-password").await;
    type_into(&app, "#reset-new-password", "a remembered password").await;
    click(&app, "#reset-submit").await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    screenshot(&app, "62-signed-in-after-reset").await;

    let code = |r: Result<_, cleom_core::remote::RemoteError>| r.err().map(|e| e.code());
    assert_eq!(
        code(remote.auth.sign_in(&email, &old).await),
        Some("auth.invalid_credentials"),
        "the old password no longer works"
    );
    let new = SecretString::new("a remembered password".into());
    assert_eq!(remote.auth.sign_in(&email, &new).await.unwrap().uid, uid);
    assert_eq!(
        app_instances(&dirs.path("data")),
        1,
        "the link reached the running app"
    );
    app.close().await.unwrap();
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_link_changes_nothing_and_an_email_change_link_completes_in_the_app() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let dirs = AppDirs::new();
    let env = dirs.env(&url);
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    let email = support::unique_email("linked");
    let password = "a linked password";
    sign_up(&app, &email, password).await;

    // Broken links: the reason, and nothing else happens.
    for (link, code) in [
        (
            "cleom://auth/action?mode=resetPassword",
            "link.missing_code",
        ),
        (
            "cleom://auth/action?mode=signIn&oobCode=abc",
            "link.unknown_mode",
        ),
        (
            "cleom://auth/action?mode=resetPassword&oobCode=%3Cb%3Ex%3C%2Fb%3E",
            "link.malformed",
        ),
    ] {
        xdg_open(link, &env);
        attr_until(&app, "#link-error", "data-code", code).await;
        let shown = text_until(&app, "#link-error", "the reason", |t| !t.is_empty()).await;
        assert!(!shown.contains('<'), "{shown}");
        screenshot(&app, &format!("63-broken-link-{code}")).await;
        click(&app, "dialog#link-dialog button.done").await;
        js_until(
            &app,
            "return !document.querySelector('dialog[open]');",
            "the message closes",
        )
        .await;
    }
    attr_until(&app, "#balance", "data-value", "2000").await;
    let signed_in = remote
        .auth
        .sign_in(&email, &SecretString::new(password.into()))
        .await
        .expect("the password is unchanged");

    // An email change (asked for elsewhere), completed by its link in the app.
    let moved = support::unique_email("moved").to_lowercase();
    remote
        .auth
        .request_email_change(&signed_in.id_token, &moved)
        .await
        .unwrap();
    let link = emailed_link(&url, &moved, "VERIFY_AND_CHANGE_EMAIL").await;
    assert!(link.starts_with("cleom://auth/action?mode=verifyAndChangeEmail&oobCode="));
    xdg_open(&link, &env);
    text_until(&app, "#verified-email", "the new address", |t| t == moved).await;
    screenshot(&app, "64-email-verified").await;
    click(&app, "dialog#link-dialog button.done").await;
    // Every session ended with the change: the app asks for a sign-in, with the new address.
    element(&app, "#signed-out-reason").await;
    let again = remote
        .auth
        .sign_in(&moved, &SecretString::new(password.into()))
        .await
        .expect("the new address signs in");
    assert_eq!(again.uid, signed_in.uid);
    let main_screen = js(&app, "return document.querySelector('#balance') !== null;").await;
    assert_eq!(
        main_screen,
        serde_json::json!(false),
        "the main screen is gone"
    );
    app.close().await.unwrap();
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_launch_focuses_the_first_and_exits() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    // Alone on its display, the window has the focus exactly while it is under the pointer
    // or given it.
    let display = PrivateDisplay::start();
    let mut env = dirs.env(&backend.base_url());
    env.push(("DISPLAY", display.name.clone()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    element(&app, "#auth-email").await;
    let data_dir = dirs.path("data");
    assert_eq!(app_instances(&data_dir), 1);

    // The user turns to something else: the window moves away from the pointer.
    app.set_window_rect(760, 500, 500, 280).await.unwrap();
    js_until(
        &app,
        "return !document.hasFocus();",
        "the window lost the focus",
    )
    .await;

    let started = Instant::now();
    let second = command_with(&crate::window::app(), &env)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "0")
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "the second launch: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the second launch took {:?}",
        started.elapsed()
    );
    js_until(
        &app,
        "return document.hasFocus();",
        "the first window has the focus",
    )
    .await;
    screenshot(&app, "65-second-launch-focused").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while app_instances(&data_dir) != 1 {
        assert!(
            Instant::now() < deadline,
            "{} app processes",
            app_instances(&data_dir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await.unwrap();
    backend.shutdown().await;
}

/// The data folder's `app.lock`, held as an app holds it until its process ends.
fn hold_the_folder(data_dir: &str) -> std::fs::File {
    cleom_core::paths::DataDir::at(data_dir).ensure().unwrap();
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(std::path::Path::new(data_dir).join("app.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    lock
}

/// A closing app's single-instance name: owned, but the hand-over call is never answered.
struct Closing;

#[zbus::interface(name = "org.SingleInstance.DBus")]
impl Closing {
    async fn execute_callback(&self, _argv: Vec<String>, _cwd: String) {
        std::future::pending::<()>().await
    }
}

/// Opens the app on `dirs` while the test plays an app that is closing: it holds the data
/// folder (and, with `owns_its_name`, the single-instance name, no longer answering), and lets
/// go of both after `closes_after`. The window must open, and one app run.
async fn launch_while_an_app_closes(owns_its_name: bool, closes_after: Duration) {
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let data_dir = dirs.path("data");
    let folder = hold_the_folder(&data_dir);
    let name_owner = if owns_its_name {
        let id = cleom_core::paths::DataDir::at(&data_dir).short_id();
        let name = format!("com.cleomai.desktop.data_{id}.SingleInstance");
        let path = format!("/{}", name.replace('.', "/"));
        let connection = zbus::connection::Builder::session()
            .name(name)
            .serve_at(path, Closing)
            .build()
            .await
            .unwrap();
        Some(connection)
    } else {
        None
    };
    let closed = tokio::spawn(async move {
        tokio::time::sleep(closes_after).await;
        drop(name_owner);
        drop(folder);
    });

    let driver = start_driver(&dirs.env(&backend.base_url()));
    let app = driver.open_app().await;
    element(&app, "#auth-email").await;
    closed.await.unwrap();
    assert_eq!(app_instances(&data_dir), 1);
    app.close().await.unwrap();
    backend.shutdown().await;
}

/// An app on its way out has given up its single-instance name but still holds the data
/// folder for a moment (it lets go when its process ends): a launch then (the user reopening
/// the app at once, or the draft test's restart) waits for it and starts, instead of failing
/// as "already running" (e9e254d).
#[tokio::test(flavor = "multi_thread")]
async fn a_launch_while_the_last_app_is_closing_waits_for_it_and_starts() {
    if !can_run() {
        return;
    }
    launch_while_an_app_closes(false, Duration::from_secs(2)).await;
}

/// Earlier still, the closing app owns its name but no longer answers on it: a launch then
/// waits a moment for the folder instead of handing over to it, which failed with D-Bus
/// NoReply and a start-up panic (seen once in a window test's restart).
#[tokio::test(flavor = "multi_thread")]
async fn a_launch_while_the_last_app_still_owns_its_name_waits_for_it() {
    if !can_run() {
        return;
    }
    launch_while_an_app_closes(true, Duration::from_millis(400)).await;
}
