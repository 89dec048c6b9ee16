//! Driving the real app window: tauri-driver + WebKitWebDriver, screenshots, and waiting for
//! elements the way a person waits for a screen. Shared by the end-to-end tests (`e2e`) and the
//! benchmark binary (`tests/perf`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// The app binary the window tests drive: the one cargo built, or `$CLEOM_APP_BINARY` (the
/// installed package's `/usr/bin/cleom-desktop`, for the installed-app tests and the release
/// figures of the perf bench).
pub fn app() -> String {
    std::env::var("CLEOM_APP_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_cleom-desktop").to_string())
}

/// tauri-driver, started for one app environment in a process group of its own, which is
/// stopped whole when the driver is dropped, or when it has run for longer than a window test
/// may (see `Driver::start_with_limit`).
pub struct Driver {
    child: Child,
    port: u16,
    /// Dropped with the driver, which tells its watchdog thread to stand down.
    _watchdog: std::sync::mpsc::Sender<()>,
}

/// The longest a window test may use its driver; the longest today (the 100k benchmark) takes
/// under two minutes.
pub const SESSION_LIMIT: Duration = Duration::from_secs(300);

impl Driver {
    /// For the flows: WebKit composites, as it does on a machine with a GPU. Without one the
    /// app paints instead (src-tauri/src/rendering.rs), and there WebKitWebDriver 2.50 answers
    /// some commands only after the page's next repaint: reading an alert's text after a click
    /// waited forever on an idle page (until a real mouse move repainted it).
    pub fn start(env: &[(&str, &str)]) -> Driver {
        Self::start_with_limit(env, SESSION_LIMIT)
    }

    /// As `start`, with the driver's whole process group killed after `limit` rather than
    /// `SESSION_LIMIT`: a WebDriver command that never answers then fails its test instead of
    /// hanging the suite until CI's time limit.
    pub fn start_with_limit(env: &[(&str, &str)], limit: Duration) -> Driver {
        let composited = [&[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")], env].concat();
        Self::spawn(&composited, limit)
    }

    /// The app as it starts on this machine, painting as it chooses. For scripts and
    /// screenshots only (no clicks or keys): what the benchmark does.
    pub fn start_as_installed(env: &[(&str, &str)]) -> Driver {
        Self::spawn(env, SESSION_LIMIT)
    }

    fn spawn(env: &[(&str, &str)], limit: Duration) -> Driver {
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
        .stderr(Stdio::inherit())
        // Its own process group: WebKitWebDriver and the app are in it too, so that a driver
        // that does not stop can be killed with everything it started.
        .process_group(0);
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
        let (watchdog, stand_down) = std::sync::mpsc::channel::<()>();
        let group = format!("-{}", child.id());
        std::thread::spawn(move || {
            if stand_down.recv_timeout(limit) == Err(RecvTimeoutError::Timeout) {
                eprintln!(
                    "a window test used its driver for over {} s: killing process group {group} \
                     (tauri-driver, WebKitWebDriver, the app) so that the test fails",
                    limit.as_secs()
                );
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            }
        });
        Driver {
            child,
            port,
            _watchdog: watchdog,
        }
    }

    pub async fn open_app(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app() }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut builder = ClientBuilder::native();
        builder.capabilities(caps);
        tokio::time::timeout(Duration::from_secs(60), builder.connect(&url))
            .await
            .expect("the app's window within 60 s")
            .expect("a WebDriver session with the app")
    }
}

impl Drop for Driver {
    /// Stops the whole process group: tauri-driver, WebKitWebDriver and the app they started,
    /// whose window is still open when a test failed (or never closed its session). An app
    /// left behind keeps syncing and painting on the shared display and slows the next tests.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let _ = self.child.try_wait();
            // `kill -0` succeeds while any process of the group is left.
            if !signal("-0") {
                return;
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("tauri-driver's process group {group} ignored SIGTERM for 5 s; killing it");
        signal("-KILL");
        let _ = self.child.wait();
    }
}

/// A port for tauri-driver or WebKitWebDriver, which bind it themselves a moment later. Not
/// one the kernel hands out for port 0: those come from its ephemeral range, where every
/// outgoing connection and every other test's listener take theirs too, and a full run once
/// lost WebKitWebDriver's port to one in that moment ("Unable to listen for HTTP server"). So
/// the port is below that range (`ip_local_port_range`), where only explicit binds land, and
/// each call in this process takes the next free one after the last.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static TAKEN: AtomicU32 = AtomicU32::new(0);
    let ephemeral_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (low, span) = (10_000, ephemeral_from.saturating_sub(10_000).max(1));
    // Test binaries run one after another; the process id spreads their starts so that a
    // leftover listener of an earlier run is passed over at once.
    for _ in 0..span {
        let offset = std::process::id().wrapping_add(TAKEN.fetch_add(1, Ordering::SeqCst));
        let port = (low + offset % span) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between {low} and {ephemeral_from}");
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
    // The cargo-built app is <target>/debug/cleom-desktop.
    let dir = Path::new(env!("CARGO_BIN_EXE_cleom-desktop"))
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
    // In a scrolled panel a field can sit under a sticky footer (the Studio's estimate and
    // Generate): bring it to the middle first, as a user scrolls to it.
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'center' }); return 0;",
            vec![serde_json::to_value(&el).unwrap()],
        )
        .await
        .unwrap();
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css} to type into it: {e}"));
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

/// Chooses `folder` in the system's folder picker (the GTK file chooser) titled `title` on
/// `display`, as a user does with the keyboard: Ctrl+L, the path, Enter (which either chooses
/// the folder or goes into it), and Enter again if the picker is still open. The keys are real
/// X input (xdotool), since WebDriver reaches only the page; the display is the test's own, so
/// no other test's window takes the focus meanwhile.
pub fn choose_folder_in_system_picker(display: &PrivateDisplay, title: &str, folder: &Path) {
    let xdotool = |args: &[&str]| {
        let out = Command::new("timeout")
            .arg("20")
            .arg("xdotool")
            .args(args)
            .env("DISPLAY", &display.name)
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
    std::thread::sleep(Duration::from_millis(700));
    let still_open = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", title])
        .env("DISPLAY", &display.name)
        .output()
        .is_ok_and(|out| out.status.success() && !out.stdout.is_empty());
    if still_open {
        xdotool(&["windowfocus", "--sync", &window]);
        xdotool(&["key", "Return"]);
    }
}

/// An X display of a test's own (Xvfb), for a test that depends on which window has the focus:
/// on the shared display other tests' windows come and go over its window.
pub struct PrivateDisplay {
    child: Child,
    /// The `DISPLAY` value, e.g. `:93`.
    pub name: String,
}

impl PrivateDisplay {
    pub fn start() -> PrivateDisplay {
        for number in 90..200 {
            if Path::new(&format!("/tmp/.X{number}-lock")).exists() {
                continue;
            }
            let name = format!(":{number}");
            let mut child = Command::new("Xvfb")
                .args([&name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb starts (apt install xvfb)");
            let socket = format!("/tmp/.X11-unix/X{number}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !Path::new(&socket).exists() && Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if Path::new(&socket).exists() && child.try_wait().ok().flatten().is_none() {
                return PrivateDisplay { child, name };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("no free X display number for a private Xvfb");
    }
}

impl Drop for PrivateDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app process started on `data_dir` (found by its `CLEOM_DATA_DIR`) and its descendants,
/// WebKit's web and network processes: their pids, the app's first.
pub fn app_processes(data_dir: &str) -> Option<Vec<u32>> {
    let app = std::fs::canonicalize(app()).ok()?;
    let marker = format!("CLEOM_DATA_DIR={data_dir}");
    let procs: Vec<(u32, u32, PathBuf)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let ppid = status
                .lines()
                .find_map(|l| l.strip_prefix("PPid:"))?
                .trim()
                .parse()
                .ok()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            Some((pid, ppid, exe))
        })
        .collect();
    let root = procs
        .iter()
        .find(|(pid, _, exe)| *exe == app && process_environment(*pid).contains(&marker))?;
    let mut family = vec![root.0];
    let mut i = 0;
    while i < family.len() {
        let parent = family[i];
        family.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    Some(family)
}

/// The environment a process started with, as `NAME=value` strings.
pub fn process_environment(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| {
            env.split(|b| *b == 0)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .unwrap_or_default()
}
