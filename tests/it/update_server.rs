//! A signed-update server on loopback, key pairs made by the release tool itself
//! (`tauri signer generate` / `sign` from the pinned @tauri-apps/cli in ui/node_modules), and
//! the update dialog's check, for the update window test and the installed package's test:
//! nothing is ever signed with a committed key.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::Client;

use crate::window::{click, js_until, text_until};

pub const NOTES: &str = "Faster Library search.\nSigned updates.";
/// The version of the app under test (the workspace version; tauri.conf.json has none).
pub const CURRENT: &str = env!("CARGO_PKG_VERSION");

/// The release tool: the Tauri CLI pinned in ui/package.json.
pub fn tauri_cli() -> Option<PathBuf> {
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
pub struct Key {
    pub private: PathBuf,
    /// As the app takes it: the base64 the CLI writes into the `.pub` file.
    pub public: String,
}

impl Key {
    pub fn generate(cli: &Path, dir: &Path, name: &str) -> Key {
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
    pub fn sign(&self, cli: &Path, file: &Path) -> String {
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
pub struct UpdateServer {
    port: u16,
    serving: Arc<Mutex<Serving>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UpdateServer {
    pub fn start() -> UpdateServer {
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
    pub fn endpoint(&self) -> String {
        format!(
            "http://127.0.0.1:{}/desktop/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}",
            self.port
        )
    }

    pub fn artifact_url(&self) -> String {
        format!("http://127.0.0.1:{}/artifacts/cleom.deb", self.port)
    }

    pub fn serve(&self, manifest: String, artifact: &[u8]) {
        let mut serving = self.serving.lock().unwrap();
        serving.manifest = manifest;
        serving.artifact = artifact.to_vec();
    }

    pub fn requests(&self) -> Vec<String> {
        self.serving.lock().unwrap().requests.clone()
    }

    /// Stops listening: from now on the server is unreachable (connections are refused).
    pub fn shut_down(&mut self) {
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
pub fn manifest(version: &str, url: &str, signature: &str) -> String {
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

/// "Check for updates" in the open update dialog, until the check is done (an earlier check's
/// offer stays shown meanwhile, and Install is disabled while a check runs).
pub async fn check(app: &Client) {
    click(app, "[data-testid=update-check]").await;
    js_until(
        app,
        "return !document.querySelector('[data-testid=update-check]').disabled;",
        "the update check is done",
    )
    .await;
}

/// [`check`], then the offer of `version`.
pub async fn check_offers(app: &Client, version: &str) {
    check(app).await;
    text_until(
        app,
        "[data-testid=update-version]",
        "the new version",
        |t| t == version,
    )
    .await;
}
