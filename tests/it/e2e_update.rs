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

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::Client;
use sha2::{Digest, Sha256};

use crate::e2e_studio::{sign_up, start_driver, AppDirs};
use crate::support;
use crate::window::{app, attr_until, can_run, click, element, screenshot, text_until};

const NOTES: &str = "Faster Library search.\nSigned updates.";
/// The app's version (tauri.conf.json).
const CURRENT: &str = "0.1.0";

/// The release tool: the Tauri CLI pinned in ui/package.json.
fn tauri_cli() -> Option<PathBuf> {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/node_modules/.bin/tauri");
    if cli.exists() {
        return Some(cli);
    }
    if std::env::var_os("CLEOM_REQUIRE_E2E").is_some() {
        panic!(
            "the update test needs the Tauri CLI: run `npm ci` in ui/ (scripts/test-all.sh does)"
        );
    }
    eprintln!("SKIPPED: the update window test (no ui/node_modules/.bin/tauri)");
    None
}

/// A minisign key pair made by `tauri signer generate` (no password) in `dir`.
struct Key {
    private: PathBuf,
    /// As the app takes it: the base64 the CLI writes into the `.pub` file.
    public: String,
}

impl Key {
    fn generate(cli: &Path, dir: &Path, name: &str) -> Key {
        let private = dir.join(name);
        let out = Command::new(cli)
            .args(["signer", "generate", "--ci", "-p", "", "-w"])
            .arg(&private)
            .output()
            .expect("tauri signer generate runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let public = std::fs::read_to_string(private.with_extension("key.pub")).unwrap();
        Key { private, public }
    }

    /// The signature `tauri signer sign` writes next to `file` (`<file>.sig`), as latest.json
    /// carries it.
    fn sign(&self, cli: &Path, file: &Path) -> String {
        let out = Command::new(cli)
            .args(["signer", "sign", "-p", "", "-f"])
            .arg(&self.private)
            .arg(file)
            .env_remove("TAURI_SIGNING_PRIVATE_KEY")
            .output()
            .expect("tauri signer sign runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut sig = file.as_os_str().to_owned();
        sig.push(".sig");
        std::fs::read_to_string(sig).unwrap()
    }
}

/// What the update server answers now; the test changes it between checks.
#[derive(Default)]
struct Serving {
    /// The body of every request to `/desktop/...` (the endpoint), with status 200.
    manifest: String,
    /// The body of `/artifacts/cleom.deb`.
    artifact: Vec<u8>,
    /// The paths asked for, in order.
    requests: Vec<String>,
}

/// A tiny HTTP/1.1 server on loopback, one connection at a time, closed after each answer.
struct UpdateServer {
    port: u16,
    serving: Arc<Mutex<Serving>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UpdateServer {
    fn start() -> UpdateServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let serving = Arc::new(Mutex::new(Serving::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&serving), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                let (kind, body) = {
                    let mut serving = s.lock().unwrap();
                    serving.requests.push(path.clone());
                    if path.starts_with("/desktop/") {
                        ("application/json", serving.manifest.clone().into_bytes())
                    } else {
                        ("application/octet-stream", serving.artifact.clone())
                    }
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
        });
        UpdateServer {
            port,
            serving,
            stop,
            thread: Some(thread),
        }
    }

    /// The endpoint the app is given, with the plugin's placeholders.
    fn endpoint(&self) -> String {
        format!(
            "http://127.0.0.1:{}/desktop/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}",
            self.port
        )
    }

    fn artifact_url(&self) -> String {
        format!("http://127.0.0.1:{}/artifacts/cleom.deb", self.port)
    }

    fn serve(&self, manifest: String, artifact: &[u8]) {
        let mut serving = self.serving.lock().unwrap();
        serving.manifest = manifest;
        serving.artifact = artifact.to_vec();
    }

    fn requests(&self) -> Vec<String> {
        self.serving.lock().unwrap().requests.clone()
    }

    /// Stops listening: from now on the server is unreachable (connections are refused).
    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for UpdateServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A latest.json as docs/updates.md describes it, for this platform (with and without the
/// bundle type, as the plugin looks for both).
fn manifest(version: &str, url: &str, signature: &str) -> String {
    let platform = serde_json::json!({ "url": url, "signature": signature });
    serde_json::json!({
        "version": version,
        "notes": NOTES,
        "pub_date": "2026-12-01T12:00:00Z",
        "platforms": {
            "linux-x86_64": platform.clone(),
            "linux-x86_64-deb": platform,
        }
    })
    .to_string()
}

fn sha256_of_the_app() -> String {
    hex::encode(Sha256::digest(std::fs::read(app()).unwrap()))
}

async fn check(app: &Client) {
    click(app, "[data-testid=update-check]").await;
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
    check(&app).await;
    text_until(
        &app,
        "[data-testid=update-version]",
        "the new version",
        |t| t == "0.2.0",
    )
    .await;
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
    check(&app).await;
    text_until(
        &app,
        "[data-testid=update-version]",
        "the new version",
        |t| t == "0.2.0",
    )
    .await;
    click(&app, "[data-testid=update-install]").await;
    error_code(&app, "update.bad_signature").await;

    // The right signature over the real artifact: valid, but this debug build runs from its
    // build folder, so it does not replace itself (the plugin would overwrite the executable).
    server.serve(manifest("0.2.0", &url, &signature), &package);
    check(&app).await;
    text_until(
        &app,
        "[data-testid=update-version]",
        "the new version",
        |t| t == "0.2.0",
    )
    .await;
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
        check(&app).await;
        text_until(
            &app,
            "[data-testid=update-version]",
            "the new version",
            |t| t == "0.2.0",
        )
        .await;
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
    click(&app, "#account-dialog .done").await;
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
