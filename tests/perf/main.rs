//! Benchmarks of the real app window with 100,000 generations in the encrypted store.
//!
//! A test binary of its own, so that cargo runs it alone (cargo runs test binaries one after
//! another): on a 2-core machine, timings taken next to the other window tests would measure
//! them too. Each figure is printed as one `bench <name> <value> <unit>` line on stdout,
//! written past libtest's capture so that `cargo test` shows it.
//!
//! What is measured:
//! - `app_start_to_library`: from launching the app process (as a user does, without WebDriver)
//!   to its log line that the window has painted the Library's first page (the page reports
//!   it from the animation frame after they are in the DOM). The median of 5 warm starts
//!   (files in the page cache, as a user's second start of the day); the cold first start and
//!   the same start through WebDriver (whose automation handshake holds the page back about
//!   half a second) are printed as `info`, the latter with the page's own milestones.
//! - `library_scroll_frame_p95`: the 95th percentile of the time between animation frames
//!   while the Library is scrolled by 400 px every frame for 300 frames (the pages it needs
//!   are loaded on the way, as when a user flings the list). The app paints as it chooses for
//!   this machine (src-tauri/src/rendering.rs); the same fling composited is printed as `info`.
//! - `app_idle_rss`: the resident memory of the app and its WebKit processes together, summed
//!   from /proc, after 3 s of idling on the Library.
//! - `search_keystroke_to_results`: the 95th percentile, over the keystrokes of typing common
//!   words, rare words and prefixes one key at a time (by a careful typist, and by a steady one
//!   whose pauses let the Library start counting results), of the time from a keystroke to the
//!   Library showing the results for that text (and the next frame painted).
//!
//! Linux only: the window is driven through tauri-driver and WebKitWebDriver, and memory is
//! read from /proc (elsewhere this binary is empty, so the workspace still checks for Windows).
#![cfg(target_os = "linux")]

#[allow(dead_code)]
#[path = "../it/seed.rs"]
mod seed;
#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
#[allow(dead_code)]
#[path = "../it/window.rs"]
mod window;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use window::{app, app_processes, can_run, element, screenshot, Driver};

const GENERATIONS: usize = 100_000;

/// One machine-readable line, past libtest's output capture. Figures of the installed release
/// package (`$CLEOM_APP_BINARY`, see `window::app`) carry the suffix `_release`, so that they
/// print beside the debug build's under the same names.
fn bench(name: &str, value: f64, unit: &str) {
    let suffix = if std::env::var_os("CLEOM_APP_BINARY").is_some() {
        "_release"
    } else {
        ""
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "bench {name}{suffix} {value:.1} {unit}");
    let _ = out.flush();
}

fn info(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "info {text}");
}

/// Starts the app as a user does (no WebDriver) and waits for its log line saying the window
/// painted the Library's first page (`library_shown`); answers the time from the launch to
/// that line, and stops the app.
fn start_to_library(env: &[(&str, &str)]) -> Duration {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let started = Instant::now();
    let mut child = Command::new(app())
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the app starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // The app's own start-up lines: `<milestone> after_ms=<ms since its main()>`.
    let reader = std::thread::spawn(move || {
        let mut milestones = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let Some(milestone) = line.split("start-up: ").nth(1) else {
                continue;
            };
            milestones.push(milestone.replace(" after_ms=", " at ").to_string() + " ms");
            if line.contains("the Library shows its first page") {
                let _ = tx.send((started.elapsed(), milestones.join(", ")));
            }
        }
    });
    let (took, milestones) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the app logs that the Library shows its first page");
    info(&format!(
        "start: launch to the log line {} ms; in the app: {milestones}",
        took.as_millis(),
    ));
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let _ = reader.join();
    // The next start begins from a quiet machine, as a user's does.
    std::thread::sleep(Duration::from_millis(1000));
    took
}

/// The 95th percentile of `sorted` (ascending).
fn p95(sorted: &[f64]) -> f64 {
    sorted[((sorted.len() as f64) * 0.95).ceil() as usize - 1]
}

/// Frames of the Library scrolled by `px` every frame, `count` of them.
struct ScrollRun {
    /// Time between animation frames, ascending.
    frames: Vec<f64>,
    /// The most items in the page at once (the list is virtualised).
    rendered: serde_json::Value,
    /// How many items were loaded by the end.
    loaded: serde_json::Value,
}

impl ScrollRun {
    fn median(&self) -> f64 {
        self.frames[self.frames.len() / 2]
    }

    /// `median … ms, p95 … ms`, for an `info` line.
    fn summary(&self) -> String {
        format!(
            "median {:.1} ms, p95 {:.1} ms",
            self.median(),
            p95(&self.frames)
        )
    }
}

async fn scroll_frames(app: &Client, px: u32, count: u32) -> ScrollRun {
    let answer = app
        .execute_async(
            r#"const [px, count, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
               const s = document.querySelector('[data-testid=library-scroller]');
               const deltas = [];
               let last = 0, frames = 0, rendered = 0;
               function step(now) {
                 deltas.push(now - last);
                 last = now;
                 rendered = Math.max(rendered, document.querySelectorAll('[data-testid=generation]').length);
                 s.scrollTop += px;
                 if (++frames < count) requestAnimationFrame(step);
                 else done({ deltas, rendered, loaded: Number(s.dataset.count) });
               }
               requestAnimationFrame((t) => { last = t; requestAnimationFrame(step); });"#,
            vec![serde_json::json!(px), serde_json::json!(count)],
        )
        .await
        .expect("the scroll script ran");
    let mut frames: Vec<f64> = answer["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    frames.sort_by(|a, b| a.total_cmp(b));
    ScrollRun {
        frames,
        rendered: answer["rendered"].clone(),
        loaded: answer["loaded"].clone(),
    }
}

/// Types words into the Library's search one key at a time, a key every `pace_ms` (0: as soon
/// as the results for the last one show), and answers the time from each key to its results on
/// screen, ascending. One script per word, so that none runs into WebDriver's 30 s limit.
async fn type_searches(app: &Client, pace_ms: u32) -> Vec<f64> {
    let mut latencies = Vec::new();
    for word in [
        "drone",
        "fjord",
        "volumetric",
        "neon",
        "harb",
        "grain",
        "zzz",
    ] {
        let answer = app
            .execute_async(
                r#"const [word, pace, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
                   const input = document.querySelector('#library-search');
                   const library = document.querySelector('#library');
                   const times = [];
                   const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
                   const settled = (text) => new Promise((resolve) => {
                     const check = () => (library.dataset.resultsFor ?? '').trim() === text.trim() &&
                       library.dataset.searching === 'false' ? resolve() : setTimeout(check, 1);
                     check();
                   });
                   const until = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));
                   const type = (text) => {
                     input.value = text;
                     input.dispatchEvent(new Event('input', { bubbles: true }));
                   };
                   (async () => {
                     input.focus();
                     type(''); await settled(''); await frame();
                     for (let i = 1; i <= word.length; i++) {
                       const text = word.slice(0, i);
                       const started = performance.now();
                       type(text);
                       await settled(text);
                       await frame();
                       times.push(performance.now() - started);
                       await until(started + pace);
                     }
                     type(''); await settled('');
                     done(times);
                   })();"#,
                vec![serde_json::json!(word), serde_json::json!(pace_ms)],
            )
            .await
            .expect("the search script ran");
        latencies.extend(answer.as_array().unwrap().iter().filter_map(|v| v.as_f64()));
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    latencies
}

async fn first_item_after(app: &Client, started: Instant) -> Duration {
    // The wall clock at `started`, to place the page's own clock (performance.timeOrigin).
    let started_at = std::time::SystemTime::now() - started.elapsed();
    let deadline = started + Duration::from_secs(60);
    let session = started.elapsed();
    loop {
        if app
            .find(Locator::Css("[data-testid=generation]"))
            .await
            .is_ok()
        {
            let total = started.elapsed();
            // The page's milestones, from its time origin (when the webview began loading it).
            let page = app
                .execute(
                    "const n = performance.getEntriesByType('navigation')[0];
                     const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? -1;
                     return [performance.timeOrigin, n ? n.domContentLoadedEventEnd : -1,
                             mark('cleom:status'), mark('cleom:first-page'), performance.now()];",
                    vec![],
                )
                .await
                .unwrap_or_default();
            let at = |i: usize| page[i].as_f64().unwrap_or(f64::NAN);
            let test_start_ms = started_at
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64()
                * 1000.0;
            info(&format!(
                "start: session after {} ms, first item found after {} ms; the page began loading \
                 at {:.0} ms, then (from there) DOM ready {:.0} ms, app_status answered {:.0} ms, \
                 first page answered {:.0} ms, item found {:.0} ms",
                session.as_millis(),
                total.as_millis(),
                at(0) - test_start_ms,
                at(1),
                at(2),
                at(3),
                at(4),
            ));
            return total;
        }
        assert!(
            Instant::now() < deadline,
            "the Library never showed an item"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_the_app_with_100k_generations() {
    if !can_run() || !seed::can_seed_for_the_app() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let home = tempfile::tempdir().unwrap();
    let path = |name: &str| home.path().join(name).to_str().unwrap().to_string();
    let data_dir = path("data");

    let seeding = Instant::now();
    seed::account_with_history(
        Path::new(&data_dir),
        &backend.base_url(),
        GENERATIONS,
        |i| {
            format!(
                "Clip {i}: a {} drone shot over {} at {}, volumetric light, 35 mm film grain",
                ["slow", "sweeping", "low", "orbiting"][i % 4],
                ["a fjord", "a neon city", "dunes", "a harbour", "a forest"][i % 5],
                ["dawn", "noon", "dusk", "night"][i % 4]
            )
        },
    )
    .await;
    info(&format!(
        "seeded {GENERATIONS} generations in {:.1} s",
        seeding.elapsed().as_secs_f64()
    ));

    startup_steps(Path::new(&data_dir), &backend.base_url()).await;

    let url = backend.base_url();
    let env = [
        ("CLEOM_DATA_DIR", data_dir.as_str()),
        ("CLEOM_BACKEND_URL", url.as_str()),
        ("XDG_DATA_HOME", &path("xdg-data")),
        ("XDG_CONFIG_HOME", &path("xdg-config")),
        ("XDG_CACHE_HOME", &path("xdg-cache")),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // Started as a user starts it: the cold first start (informational), then warm starts.
    let cold = start_to_library(&pairs);
    info(&format!(
        "app_start_to_library (cold, first start) {} ms",
        cold.as_millis()
    ));
    let mut warm: Vec<Duration> = (0..5).map(|_| start_to_library(&pairs)).collect();
    warm.sort();
    info(&format!(
        "app_start_to_library, 5 warm starts (ms): {:?}",
        warm.iter().map(|d| d.as_millis()).collect::<Vec<_>>()
    ));
    bench("app_start_to_library", warm[2].as_secs_f64() * 1000.0, "ms");

    // The same through WebDriver, for the page's own milestones. WebKit's automation session
    // holds the page back until the driver has attached (about half a second here), so this
    // figure is larger than what a user sees.
    let driver = Driver::start_as_installed(&pairs);
    let started = Instant::now();
    let app = driver.open_app().await;
    let driven = first_item_after(&app, started).await;
    info(&format!(
        "app_start_to_library through WebDriver {} ms",
        driven.as_millis()
    ));
    let timings = app
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const invoke = window.__TAURI_INTERNALS__.invoke;
               const time = async (cmd, args) => { const t = performance.now(); await invoke(cmd, args); return Math.round(performance.now() - t); };
               (async () => done({
                 app_status: await time('app_status', {}),
                 library: await time('library', { query: { limit: 50 } }),
                 library2: await time('library', { query: { limit: 50 } }),
                 search_common: await time('library', { query: { text: 'drone', limit: 50 } }),
                 search_prefix: await time('library', { query: { text: 'fj', limit: 50 } }),
                 search_two_words: await time('library', { query: { text: 'neon dus', limit: 50 } }),
                 counts: await time('library_counts', { query: { text: 'drone' } }),
                 draft: await time('draft', {}),
               }))().catch((e) => done(String(e)));"#,
            vec![],
        )
        .await
        .unwrap_or_default();
    info(&format!("command round trips after start (ms): {timings}"));
    screenshot(&app, "90-bench-100k-library").await;

    // Idle memory, before the scroll loads more pages.
    tokio::time::sleep(Duration::from_secs(3)).await;
    match app_rss_kib(&data_dir) {
        Some(kib) => bench("app_idle_rss", kib as f64 / 1024.0, "MB"),
        None => panic!("the app's processes were not found in /proc"),
    }

    let fling = scroll_frames(&app, 400, 300).await;
    info(&format!(
        "scroll: {} frames, median {:.1} ms, max {:.1} ms, at most {} items in the page, {} loaded",
        fling.frames.len(),
        fling.median(),
        fling.frames[fling.frames.len() - 1],
        fling.rendered,
        fling.loaded
    ));
    bench("library_scroll_frame_p95", p95(&fling.frames), "ms");
    // For reading the figure above: frames while still and while scrolling slowly (a strip of
    // new rows to paint per frame), against the fling (half the view new every frame).
    for (px, what) in [(0, "still"), (4, "at 4 px a frame")] {
        let run = scroll_frames(&app, px, 120).await;
        info(&format!("frames {what}: {}", run.summary()));
    }
    screenshot(&app, "91-bench-scrolled").await;
    // The grid view: more items on screen, each with its thumbnail.
    app.execute(
        "document.querySelector('#view-grid').click(); \
         document.querySelector('[data-testid=library-scroller]').scrollTop = 0; return 0;",
        vec![],
    )
    .await
    .expect("the grid view");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let grid = scroll_frames(&app, 400, 300).await;
    info(&format!(
        "scroll in the grid: {}, at most {} items in the page",
        grid.summary(),
        grid.rendered
    ));
    screenshot(&app, "91b-bench-grid-scrolled").await;
    app.execute(
        "document.querySelector('#view-list').click(); return 0;",
        vec![],
    )
    .await
    .expect("back to the list view");

    // Search as the user types, one keystroke at a time: from the keystroke to the results for
    // that text on screen (the list answers that text and the next frame is painted). Common
    // words, rare words, prefixes; typed by a careful typist (the next key once the results
    // show) and by a steady one (a key every 300 ms: each pause is long enough for the
    // Library to start counting the results, which the next key must not wait for).
    let careful = type_searches(&app, 0).await;
    let steady = type_searches(&app, 300).await;
    for (times, who) in [(&careful, "careful"), (&steady, "steady")] {
        info(&format!(
            "search, {who} typist: {} keystrokes, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            times.len(),
            times[times.len() / 2],
            p95(times),
            times[times.len() - 1]
        ));
    }
    let mut times = [careful, steady].concat();
    times.sort_by(|a, b| a.total_cmp(b));
    bench("search_keystroke_to_results", p95(&times), "ms");
    screenshot(&app, "92-bench-search").await;

    app.close().await.unwrap();
    drop(driver);

    // For reading the scroll figure: the same fling with WebKit told to composite (as it does
    // by default, and as the app leaves it on a machine with a GPU). Without a GPU the app
    // paints instead (src-tauri/src/rendering.rs; its choice is in the start-up lines above).
    let mut composited = pairs.clone();
    composited.push(("WEBKIT_DISABLE_COMPOSITING_MODE", "0"));
    let driver = Driver::start_as_installed(&composited);
    let app = driver.open_app().await;
    element(&app, "[data-testid=generation]").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fling = scroll_frames(&app, 400, 300).await;
    info(&format!(
        "scroll composited (WEBKIT_DISABLE_COMPOSITING_MODE=0): {}",
        fling.summary()
    ));
    app.close().await.unwrap();
    drop(driver);
    backend.shutdown().await;
}

/// What the app does before the Library can answer, timed through the core alone: resume the
/// session (open the store), the first sync, and the check for running generations.
async fn startup_steps(data_dir: &Path, backend_url: &str) {
    use cleom_core::device::Device;
    use cleom_core::paths::DataDir;
    use cleom_core::remote::{Endpoints, Remote};
    let remote = Remote::new(Endpoints::local(backend_url).unwrap()).unwrap();
    let device = Device::new(DataDir::at(data_dir), support::keychain(data_dir), remote).unwrap();
    let t = Instant::now();
    let account = device.resume().unwrap().expect("a session to resume");
    let resume = t.elapsed();
    let t = Instant::now();
    let page = account.library(50, None).unwrap();
    let library = t.elapsed();
    let t = Instant::now();
    account.sync().await.unwrap();
    let sync = t.elapsed();
    let t = Instant::now();
    account.has_active_generations().unwrap();
    let active = t.elapsed();
    // The sync's thumbnail step, on a second connection to the same store.
    let key = support::keychain(data_dir)
        .get(&cleom_core::keychain::database_key_entry(account.uid()))
        .unwrap()
        .unwrap();
    let store = cleom_core::store::Store::open(
        &DataDir::at(data_dir).database_path(account.uid()).unwrap(),
        &cleom_core::secret::DatabaseKey::from_hex(&key).unwrap(),
    )
    .unwrap();
    let t = Instant::now();
    store.generations_missing_thumbnail(20).unwrap();
    let thumbnails = t.elapsed();
    info(&format!(
        "core, debug build: resume {} ms, first page ({} items) {} ms, sync {} ms (of which the \
         missing-thumbnail query {} ms), active check {} ms",
        resume.as_millis(),
        page.items.len(),
        library.as_millis(),
        sync.as_millis(),
        thumbnails.as_millis(),
        active.as_millis()
    ));
}

/// The resident memory (KiB) of the app process started on `data_dir` and of its descendants
/// (WebKit's web and network processes), from /proc.
fn app_rss_kib(data_dir: &str) -> Option<u64> {
    let family = app_processes(data_dir)?;
    let rss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    };
    let parts: Vec<String> = family
        .iter()
        .map(|pid| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            format!("{} {} MB", name.trim(), rss(*pid) / 1024)
        })
        .collect();
    info(&format!("app_idle_rss: {}", parts.join(", ")));
    Some(family.into_iter().map(rss).sum())
}
