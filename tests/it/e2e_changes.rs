//! The Library's search, filters and detail view, deletes made offline that wait in the outbox
//! and go out when the server is back, and the Account & Privacy corrections — in the real
//! window, with a screenshot of every step.

use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use fantoccini::key::Key;
use fantoccini::Locator;

use crate::e2e_studio::{js, start_driver, AppDirs};
use crate::seed;
use crate::support;
use crate::window::{
    attr_until, can_run, click, element, js_until, screenshot, text_until, type_into,
};

const COUNT: usize = 200;

fn prompt(i: usize) -> String {
    if i.is_multiple_of(5) {
        format!("Aurora clip {i}: green aurora over a frozen lake")
    } else {
        format!("Seeded clip {i}: a slow pan over a salt flat at dawn")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn search_filter_detail_offline_deletes_and_account_corrections() {
    if !can_run() || !seed::can_seed_for_the_app() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let port = backend.addr().port();
    let url = backend.base_url();
    let dirs = AppDirs::new();
    let uid = seed::account_with_history(&dirs.root.path().join("data"), &url, COUNT, prompt).await;
    let exports = dirs.path("exports");
    let mut env = dirs.env(&url);
    env.push(("CLEOM_EXPORT_DIR", exports.clone()));
    let driver = start_driver(&env);
    let app = driver.open_app().await;
    text_until(
        &app,
        "#library-count",
        "the first page of the history",
        |t| t.starts_with("50+ "),
    )
    .await;

    // Search as you type: 40 prompts say "aurora"; the match is highlighted, as text.
    type_into(&app, "#library-search", "auror").await;
    attr_until(&app, "#library", "data-results-for", "auror").await;
    attr_until(&app, "#library", "data-searching", "false").await;
    text_until(&app, "#library-count", "40 results", |t| {
        t.starts_with("40 ")
    })
    .await;
    js_until(
        &app,
        "return [...document.querySelectorAll('[data-testid=generation] mark')]
            .some(m => m.textContent.toLowerCase().startsWith('auror'));",
        "a highlighted match",
    )
    .await;
    screenshot(&app, "50-search").await;

    // A filter on top: failed ones among them (seeds 0, 85 and 170).
    click(&app, "#library-filters-toggle").await;
    click(&app, "#filter-status-failed").await;
    text_until(&app, "#library-count", "3 results", |t| t.starts_with("3 ")).await;
    screenshot(&app, "51-search-and-filter").await;
    click(&app, "#library-clear-filters").await;
    text_until(&app, "#library-count", "40 results again", |t| {
        t.starts_with("40 ")
    })
    .await;

    // The detail view: every setting, closed with Escape.
    click(&app, "[data-testid=generation][data-index='0']").await;
    element(&app, "dialog#generation-detail[open]").await;
    let shown = text_until(&app, "#detail-prompt", "the prompt", |t| {
        t.starts_with("Aurora clip 0")
    })
    .await;
    assert_eq!(shown, prompt(0));
    text_until(&app, "#detail-settings", "the settings", |t| !t.is_empty()).await;
    screenshot(&app, "52-detail").await;
    app.find(Locator::Css("dialog#generation-detail"))
        .await
        .unwrap()
        .send_keys(&Key::Escape.to_string())
        .await
        .unwrap();
    js_until(
        &app,
        "return !document.querySelector('dialog#generation-detail[open]');",
        "the detail view closes",
    )
    .await;

    // Export of a selection: two selected search results, and only those, in the zip.
    for index in [2, 3] {
        click(
            &app,
            &format!(
                "[data-testid=generation][data-index='{index}'] [data-testid=select-generation]"
            ),
        )
        .await;
    }
    attr_until(&app, "#library-selected-count", "data-value", "2").await;
    click(&app, "#library-export-selected").await;
    text_until(
        &app,
        "#library-export-status",
        "the selection exported",
        |t| t.starts_with("Exported 2 generations"),
    )
    .await;
    screenshot(&app, "52b-selection-exported").await;
    let zip_path = std::fs::read_dir(&exports)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("the export");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut json = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("generations.json").unwrap(), &mut json)
        .unwrap();
    let exported: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(exported.len(), 2);
    assert!(exported
        .iter()
        .all(|g| g["prompt"].as_str().unwrap().starts_with("Aurora clip")));
    click(&app, "#library-clear-selection").await;
    js_until(
        &app,
        "return document.querySelectorAll('[data-testid=generation][data-selected=true]').length === 0;",
        "the selection is cleared",
    )
    .await;

    // Offline: two selected generations are deleted at once and wait in the outbox.
    backend.shutdown().await;
    for index in [0, 1] {
        click(
            &app,
            &format!(
                "[data-testid=generation][data-index='{index}'] [data-testid=select-generation]"
            ),
        )
        .await;
    }
    attr_until(&app, "#library-selected-count", "data-value", "2").await;
    click(&app, "#library-delete-selected").await;
    attr_until(&app, "#delete-generations-dialog", "data-count", "2").await;
    screenshot(&app, "53-confirm-delete").await;
    click(&app, "#confirm-delete-generations").await;
    text_until(&app, "#library-count", "38 results", |t| {
        t.starts_with("38 ")
    })
    .await;
    attr_until(&app, "#sync-status", "data-pending", "2").await;
    // The delete woke the sync, which found the server gone.
    attr_until(&app, "#sync-status", "data-state", "offline").await;
    click(&app, "#sync-pending").await;
    js_until(
        &app,
        "return document.querySelectorAll('[data-testid=outbox-entry][data-state=pending]').length === 2;",
        "two pending deletes in the outbox",
    )
    .await;
    screenshot(&app, "54-outbox-pending").await;
    click(&app, "#outbox-close").await;

    // The server is back: the retry sends them, and nothing is pending any more.
    let backend = support::backend(backend_dir.path(), port).await;
    click(&app, "#sync-retry").await;
    attr_until(&app, "#sync-status", "data-pending", "0").await;
    attr_until(&app, "#sync-status", "data-state", "idle").await;
    screenshot(&app, "55-outbox-sent").await;

    // Account & Privacy: a new display name (shown literally) and analytics switched on reach
    // the server; the ledger is listed.
    click(&app, "#open-account").await;
    let name = "Ada <i>Lovelace</i>";
    type_into(&app, "#display-name", name).await;
    click(&app, "#save-display-name").await;
    text_until(&app, "#account-name", "the new name, as text", |t| {
        t == name
    })
    .await;
    let switch = element(&app, "#analytics-opt-in").await;
    assert_eq!(
        switch.prop("checked").await.unwrap().as_deref(),
        Some("false"),
        "analytics are off by default"
    );
    switch.click().await.unwrap();
    element(&app, "#ledger-table [data-testid=ledger-row]").await;
    screenshot(&app, "56-account-privacy").await;
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let profile = remote
            .firestore
            .get(&format!("users/{uid}"), &admin)
            .await
            .unwrap()
            .unwrap();
        let profile = cleom_core::remote::documents::profile_from_document(&profile).unwrap();
        if profile.display_name.as_deref() == Some(name) && profile.analytics_opt_in {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never got the corrections: {profile:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let rendered_html = js(
        &app,
        "return document.querySelector('#account-name').innerHTML;",
    )
    .await;
    assert!(
        !rendered_html.as_str().unwrap().contains("<i>"),
        "the name is text, not markup"
    );
    app.close().await.unwrap();
    backend.shutdown().await;
}
