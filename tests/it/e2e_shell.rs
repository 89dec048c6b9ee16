//! The shell in the real window: keyboard shortcuts and their help sheet, a generation made
//! with the keyboard alone, visible focus, the dark theme when the system asks for it, and the
//! window's size and position remembered across runs; and how the window is drawn on a machine
//! without a GPU.

use std::path::Path;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;

use crate::e2e_studio::{js, sign_up, start_driver, AppDirs};
use crate::notifications::{NotificationService, Shown};
use crate::window::{
    app_processes, attr_until, can_run, click, element, js_until, process_environment, screenshot,
    text_until, type_into, Driver, PrivateDisplay,
};
use crate::{seed, support};

async fn press(app: &fantoccini::Client, keys: &str) {
    let target = app.active_element().await.unwrap();
    target.send_keys(keys).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn shortcuts_keyboard_only_generation_and_the_remembered_window() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let env = dirs.env(&backend.base_url());
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    sign_up(&app, &support::unique_email("shell"), "a shell password").await;

    // "?" opens the shortcut sheet; Esc closes it and gives the focus back.
    app.find(Locator::Css("body")).await.unwrap();
    js(&app, "document.activeElement?.blur(); return 0;").await;
    press(&app, "?").await;
    element(&app, "#help-sheet").await;
    text_until(&app, "#help-sheet", "the shortcuts", |t| {
        t.contains("Ctrl+N") && t.contains("Ctrl+L") && t.contains("Ctrl+Enter")
    })
    .await;
    screenshot(&app, "40-shortcuts").await;
    press(&app, &Key::Escape.to_string()).await;
    js_until(
        &app,
        "return document.getElementById('help-sheet') === null;",
        "the sheet closed",
    )
    .await;

    // Keyboard alone: Ctrl+N to the prompt, type, Ctrl+Enter to generate.
    press(&app, &format!("{}n{}", Key::Control, Key::Control)).await;
    js_until(
        &app,
        "return document.activeElement?.id === 'prompt';",
        "Ctrl+N focused the prompt",
    )
    .await;
    press(&app, "A lighthouse blinks in fog, made with the keyboard").await;
    // Tab moves through the controls with a visible focus ring.
    press(&app, &Key::Tab.to_string()).await;
    js_until(
        &app,
        "const el = document.activeElement; const s = getComputedStyle(el);
         return el.id === 'choose-references' && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;",
        "a visible focus ring on the next control",
    )
    .await;
    screenshot(&app, "41-focus-visible").await;
    press(&app, &format!("{}n{}", Key::Control, Key::Control)).await;
    attr_until(&app, "#estimate", "data-value", "700").await;
    press(
        &app,
        &format!("{}{}{}", Key::Control, Key::Enter, Key::Control),
    )
    .await;
    attr_until(&app, "[data-testid=generation]", "data-status", "succeeded").await;

    // Every control has a name (a label, aria-label or aria-labelledby).
    let unnamed = js(
        &app,
        "return [...document.querySelectorAll('input:not([aria-hidden=true]), select, textarea, button')]
           .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.textContent.trim()))
           .map((el) => el.id || el.outerHTML.slice(0, 60));",
    )
    .await;
    assert_eq!(unnamed, serde_json::json!([]), "controls without a name");

    // The window: moved and resized, then remembered by the next run.
    app.set_window_rect(60, 40, 1024, 700).await.unwrap();
    let (_, _, w, h) = app.get_window_rect().await.unwrap();
    assert_eq!((w, h), (1024, 700), "the window was resized");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.close().await.unwrap();
    let saved = std::fs::read_to_string(
        std::path::Path::new(&dirs.path("xdg-config"))
            .join("com.cleomai.desktop")
            .join(".window-state.json"),
    )
    .expect("the window state is saved in the config dir");
    assert!(saved.contains("1024"), "saved: {saved}");

    let app = driver.open_app().await;
    element(&app, "#prompt").await;
    let (_, _, w, h) = app.get_window_rect().await.unwrap();
    assert_eq!((w, h), (1024, 700), "the size came back");
    screenshot(&app, "42-window-restored").await;
    app.close().await.unwrap();
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dark_theme_follows_the_system() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let mut env = dirs.env(&backend.base_url());
    env.push(("GTK_THEME", "Adwaita:dark".to_string()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    element(&app, "#auth-email").await;
    js_until(
        &app,
        "return matchMedia('(prefers-color-scheme: dark)').matches;",
        "the page sees the system's dark preference",
    )
    .await;
    // The dark tokens are in use: a dark background behind light text.
    let bg = js(
        &app,
        "return getComputedStyle(document.documentElement).backgroundColor;",
    )
    .await;
    assert_eq!(bg, serde_json::json!("rgb(15, 17, 21)"));
    screenshot(&app, "43-dark-sign-in").await;
    sign_up(&app, &support::unique_email("dark"), "a dark password").await;
    screenshot(&app, "44-dark-main").await;
    app.close().await.unwrap();
    backend.shutdown().await;
}

/// Generates a clip of `seconds` from the Studio once its estimate is shown.
async fn generate(app: &fantoccini::Client, prompt: &str, seconds: u32) {
    type_into(app, "#prompt", prompt).await;
    type_into(app, "#duration", &seconds.to_string()).await;
    js_until(
        app,
        "return document.getElementById('estimate')?.dataset.value > 0
           && !document.getElementById('generate').disabled;",
        "an estimate and Generate enabled",
    )
    .await;
    click(app, "#generate").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_generation_that_finishes_unwatched_is_announced_on_the_desktop() {
    if !can_run() {
        return;
    }
    let desktop = NotificationService::start().await;
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    // Alone on its display, the window has the focus exactly while it is under the pointer.
    let display = PrivateDisplay::start();
    let mut env = dirs.env(&backend.base_url());
    env.push(("DISPLAY", display.name.clone()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    sign_up(
        &app,
        &support::unique_email("notify"),
        "a notified password",
    )
    .await;

    // Unusual lengths tell this test's notifications from any other window test's.
    let made_for = |seconds: u32| Shown {
        summary: "Your clip is ready".into(),
        body: format!("A {seconds} s 1080p clip is in your Library."),
    };
    // Watched: the window has the focus, the Library shows the clip, the desktop stays quiet.
    generate(&app, "A kite over dunes, <b>watched</b>", 12).await;
    attr_until(&app, "[data-testid=generation]", "data-status", "succeeded").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !desktop.shown().contains(&made_for(12)),
        "a notification while the user was looking: {:?}",
        desktop.shown()
    );

    // Unwatched: the user turns to something else. Without a window manager X gives the focus
    // to the window under the pointer (the middle of the screen), so moving the window away
    // from it takes the focus away.
    generate(&app, "A kite over dunes, <b>announced</b>", 13).await;
    app.set_window_rect(760, 500, 500, 280).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !desktop.shown().contains(&made_for(13)) {
        assert!(
            std::time::Instant::now() < deadline,
            "no desktop notification; the desktop received {:?}",
            desktop.shown()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let prompts_shown = desktop
        .shown()
        .iter()
        .any(|n| n.body.contains("kite") || n.summary.contains("kite"));
    assert!(!prompts_shown, "a prompt reached the notification history");
    screenshot(&app, "45-notified").await;
    app.close().await.unwrap();
    backend.shutdown().await;
}

/// Without a GPU, the app has WebKit paint the window rather than composite it with software
/// OpenGL (src-tauri/src/rendering.rs): its web process starts with
/// `WEBKIT_DISABLE_COMPOSITING_MODE=1`, and the Library shows and scrolls. With a GPU render
/// node WebKit's default stays. Driven by scripts only: see `Driver::start_as_installed`.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_gpu_the_window_is_painted_and_the_library_scrolls() {
    if !can_run() || !seed::can_seed_for_the_app() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let data_dir = dirs.path("data");
    seed::account_with_history(Path::new(&data_dir), &backend.base_url(), 500, |i| {
        format!("Painted clip {i}: a tram at dusk")
    })
    .await;
    let env = dirs.env(&backend.base_url());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let driver = Driver::start_as_installed(&pairs);
    let app = driver.open_app().await;
    element(&app, "[data-testid=generation]").await;

    // To the end of the list, again as each page arrives: the rows there are rendered (and
    // painted into the screenshot).
    js_until(
        &app,
        "const s = document.querySelector('[data-testid=library-scroller]');
         s.scrollTop = s.scrollHeight;
         return [...document.querySelectorAll('[data-testid=generation]')]
           .some((el) => Number(el.dataset.index) > 200);",
        "rows far down the list rendered",
    )
    .await;
    screenshot(&app, "46-painted-library-scrolled").await;

    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    let expected = match std::env::var("WEBKIT_DISABLE_COMPOSITING_MODE") {
        Ok(own) => Some(own),
        Err(_) if !render_node || std::env::var_os("LIBGL_ALWAYS_SOFTWARE").is_some() => {
            Some("1".to_string())
        }
        Err(_) => None,
    };
    let processes = app_processes(&data_dir).expect("the app's processes in /proc");
    let web = processes
        .iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("WebKitWebProces"))
        })
        .expect("the app's WebKit web process");
    let told = process_environment(*web).into_iter().find_map(|v| {
        v.strip_prefix("WEBKIT_DISABLE_COMPOSITING_MODE=")
            .map(str::to_string)
    });
    assert_eq!(
        told, expected,
        "what the web process was told (render node: {render_node})"
    );
    app.close().await.unwrap();
    backend.shutdown().await;
}
