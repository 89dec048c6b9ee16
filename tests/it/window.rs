//! Driving the real app window: tauri-driver + WebKitWebDriver, screenshots, and waiting for
//! elements the way a person waits for a screen. Shared by the end-to-end tests (`e2e`) and the
//! benchmark binary (`tests/perf`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

pub const APP: &str = env!("CARGO_BIN_EXE_cleom-desktop");

/// tauri-driver, started for one app environment and stopped with SIGTERM (SIGKILL would leave
/// WebKitWebDriver behind).
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start(env: &[(&str, &str)]) -> Driver {
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .expect("tauri-driver starts (cargo install tauri-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }

    pub async fn open_app(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": APP }),
        );
        ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a WebDriver session with the app")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether this machine can run the window; the test command requires it (CLEOM_REQUIRE_E2E).
pub fn can_run() -> bool {
    let has_driver = Command::new("tauri-driver").arg("--help").output().is_ok();
    let has_display = std::env::var_os("DISPLAY").is_some();
    if has_driver && has_display {
        return true;
    }
    let why = format!("tauri-driver found: {has_driver}, DISPLAY set: {has_display}");
    if std::env::var_os("CLEOM_REQUIRE_E2E").is_some() {
        panic!("the end-to-end test cannot run: {why}");
    }
    eprintln!("SKIPPED: the end-to-end window test ({why}); scripts/test-all.sh runs it");
    false
}

pub fn screenshots_dir() -> PathBuf {
    // APP is <target>/debug/cleom-desktop.
    let dir = Path::new(APP)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    // A screenshot right after a DOM change can be stale.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let png = client.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits for `css` to match a displayed element.
pub async fn element(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// Waits until `check` holds on the element's text, returning the text.
pub async fn text_until(
    client: &Client,
    css: &str,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            // textContent: WebKitWebDriver's rendered-text call answers "" for line-clamped boxes.
            if let Ok(Some(text)) = el.prop("textContent").await {
                let text = text.trim().to_string();
                if check(&text) {
                    return text;
                }
                if Instant::now() > deadline {
                    screenshot(client, "failure").await;
                    panic!("{css}: {what}; it says {text:?}; see failure.png");
                }
            }
        }
        if Instant::now() > deadline {
            screenshot(client, "failure").await;
            panic!("{css}: {what}; not found; see failure.png");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn attr_until(client: &Client, css: &str, attr: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(el) = client.find(Locator::Css(css)).await {
            if el.attr(attr).await.ok().flatten().as_deref() == Some(expected) {
                return;
            }
        }
        if Instant::now() > deadline {
            let found = match client.find(Locator::Css(css)).await {
                Ok(el) => el.attr(attr).await.ok().flatten(),
                Err(_) => None,
            };
            screenshot(client, "failure").await;
            panic!("{css} never had {attr}={expected} (it has {found:?}); see failure.png");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces a field's text the way a person does: select all, delete, type. (WebKitWebDriver's
/// `clear` leaves number inputs as they were.)
pub async fn type_into(client: &Client, css: &str, text: &str) {
    const CTRL_A: &str = "\u{E009}a\u{E009}";
    const BACKSPACE: &str = "\u{E003}";
    let el = element(client, css).await;
    el.click().await.unwrap();
    el.send_keys(CTRL_A).await.unwrap();
    el.send_keys(BACKSPACE).await.unwrap();
    el.send_keys(text).await.unwrap();
}

pub async fn click(client: &Client, css: &str) {
    element(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Runs `script` (which returns a value) in the page until it returns `true`.
pub async fn js_until(client: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if client.execute(script, vec![]).await.ok() == Some(serde_json::Value::Bool(true)) {
            return;
        }
        if Instant::now() > deadline {
            screenshot(client, "failure").await;
            panic!("never true: {what}; see failure.png");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Chooses `folder` in the system's folder picker (the GTK file chooser) titled `title`, as a
/// user does with the keyboard: Ctrl+L, the path, Enter to go there, Enter to choose it. The
/// keys are real X input (xdotool), since WebDriver reaches only the page.
pub fn choose_folder_in_system_picker(title: &str, folder: &Path) {
    let xdotool = |args: &[&str]| {
        let out = Command::new("timeout")
            .arg("20")
            .arg("xdotool")
            .args(args)
            .output()
            .expect("xdotool runs (apt install xdotool)");
        assert!(
            out.status.success(),
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let window = xdotool(&["search", "--sync", "--onlyvisible", "--name", title]);
    let window = window.lines().last().unwrap_or_default().to_string();
    xdotool(&["windowfocus", "--sync", &window]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&["key", "--clearmodifiers", "ctrl+l"]);
    std::thread::sleep(Duration::from_millis(200));
    let path = format!("{}/", folder.display());
    xdotool(&["type", "--delay", "10", &path]);
    std::thread::sleep(Duration::from_millis(300));
    xdotool(&["key", "Return"]);
    std::thread::sleep(Duration::from_millis(500));
    xdotool(&["key", "Return"]);
}
