//! The Library in the real window with a long history: only a screenful of items is in the
//! page however long the history, pages load as the user scrolls or moves down with the
//! keyboard, and the grid and list layouts both work.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;

use crate::e2e_studio::{js, start_driver, AppDirs};
use crate::seed;
use crate::support;
use crate::window::{attr_until, can_run, click, element, js_until, screenshot, text_until};

const COUNT: usize = 3_000;

#[tokio::test(flavor = "multi_thread")]
async fn a_long_library_is_virtualised_paged_and_keyboard_navigable() {
    if !can_run() || !seed::can_seed_for_the_app() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    seed::account_with_history(
        &dirs.root.path().join("data"),
        &backend.base_url(),
        COUNT,
        |i| match i {
            0 => "<script>alert('newest')</script> A hostile newest prompt".to_string(),
            _ => format!("Seeded clip {i}: a slow pan over a salt flat at dawn"),
        },
    )
    .await;
    let driver = start_driver(&dirs.env(&backend.base_url()));
    let app = driver.open_app().await;

    let first = "[data-testid=generation][data-index='0']";
    text_until(
        &app,
        &format!("{first} .prompt"),
        "the newest, as text",
        |t| t.starts_with("<script>"),
    )
    .await;
    let rendered = || async {
        js(
            &app,
            "return document.querySelectorAll('[data-testid=generation]').length;",
        )
        .await
        .as_u64()
        .unwrap()
    };
    assert!(rendered().await < 30, "only a screenful is rendered");
    screenshot(&app, "30-library-list").await;

    // Keyboard only: Ctrl+L goes to the Library, End and Page Down walk it, pages load.
    let body = app.find(Locator::Css("body")).await.unwrap();
    body.send_keys(&format!("{}l{}", Key::Control, Key::Control))
        .await
        .unwrap();
    let focused = || async {
        js(
            &app,
            "return Number(document.activeElement?.dataset?.index ?? -1);",
        )
        .await
        .as_i64()
        .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while focused().await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "Ctrl+L did not focus the first item"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let active = app.active_element().await.unwrap();
    active.send_keys(&Key::Down.to_string()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(focused().await, 1);
    for _ in 0..3 {
        let active = app.active_element().await.unwrap();
        active.send_keys(&Key::End.to_string()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let loaded: u64 = element(&app, "[data-testid=library-scroller]")
        .await
        .attr("data-count")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(loaded > 250, "pages loaded while moving down: {loaded}");
    assert!(focused().await > 200);
    assert!(rendered().await < 30, "still only a screenful");
    screenshot(&app, "31-library-keyboard").await;

    // Scrolling with the wheel (here: the scroll position) loads the rest, to the very end.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let count = js(
            &app,
            "const s = document.querySelector('[data-testid=library-scroller]');
             s.scrollTop = s.scrollHeight; return Number(s.dataset.count);",
        )
        .await
        .as_u64()
        .unwrap();
        if count == COUNT as u64 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stuck at {count}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    text_until(&app, "#library-count", "the whole history", |t| {
        t == "3,000 generations"
    })
    .await;
    element(
        &app,
        &format!("[data-testid=generation][data-index='{}']", COUNT - 1),
    )
    .await;

    // The grid.
    js(
        &app,
        "document.querySelector('[data-testid=library-scroller]').scrollTop = 0; return 0;",
    )
    .await;
    click(&app, "#view-grid").await;
    attr_until(&app, "[data-testid=library-scroller]", "data-view", "grid").await;
    js_until(
        &app,
        "return document.querySelector(\"[data-testid=generation][data-index='0']\")?.classList.contains('grid') === true;",
        "the first card in grid layout",
    )
    .await;
    assert!(rendered().await < 60, "the grid is virtualised too");
    screenshot(&app, "32-library-grid").await;
    app.close().await.unwrap();
    backend.shutdown().await;
}
