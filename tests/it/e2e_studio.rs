//! The Studio in the real window: every setting, references from the file picker and from a
//! drop, their validation and the mode they imply, Generate blocked with the reason when the
//! credits are short, hostile text shown literally, and the draft surviving a restart without
//! ever being written in plain text.

use std::path::Path;
use std::time::Duration;

use cleom_core::remote::{documents, Endpoints, Remote};
use cleom_core::secret::SecretString;
use fantoccini::{Client, Locator};

use crate::support;
use crate::window::{
    attr_until, can_run, click, element, screenshot, text_until, type_into, Driver,
};

/// Part of every prompt typed here: the data-dir scan looks for it.
const MARKER: &str = "e2e-studio-5521";

/// The app's own folders for one test: its data dir and the XDG dirs where WebKit keeps
/// localStorage and caches, so a scan sees everything the app wrote.
pub struct AppDirs {
    pub root: tempfile::TempDir,
}

impl AppDirs {
    pub fn new() -> AppDirs {
        AppDirs {
            root: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> String {
        self.root.path().join(name).to_str().unwrap().to_string()
    }

    pub fn env(&self, backend_url: &str) -> Vec<(&'static str, String)> {
        vec![
            ("CLEOM_DATA_DIR", self.path("data")),
            ("CLEOM_BACKEND_URL", backend_url.to_string()),
            ("XDG_DATA_HOME", self.path("xdg-data")),
            ("XDG_CONFIG_HOME", self.path("xdg-config")),
            ("XDG_CACHE_HOME", self.path("xdg-cache")),
        ]
    }
}

pub fn start_driver(env: &[(&'static str, String)]) -> Driver {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Driver::start(&pairs)
}

pub async fn js(app: &Client, script: &str) -> serde_json::Value {
    app.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

pub async fn sign_up(app: &Client, email: &str, password: &str) {
    click(app, "#auth-mode-toggle").await;
    type_into(app, "#auth-email", email).await;
    type_into(app, "#auth-password", password).await;
    click(app, "#auth-submit").await;
    attr_until(app, "#balance", "data-value", "2000").await;
}

fn write_png(path: &Path) {
    // A real 1×1 PNG; only its name, type and size are used.
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    std::fs::write(path, PNG).unwrap();
}

async fn checked(app: &Client, css: &str) -> bool {
    js(
        app,
        &format!("return document.querySelector({css:?})?.checked === true;"),
    )
    .await
        == serde_json::Value::Bool(true)
}

async fn value(app: &Client, css: &str) -> String {
    js(
        app,
        &format!("return document.querySelector({css:?})?.value ?? null;"),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

async fn select(app: &Client, css: &str, option: &str) {
    // As a person would: scroll the control to the middle of the Studio first (WebKitWebDriver
    // does not always scroll an <option> of a nested scroll area into view by itself).
    element(app, css).await;
    js(
        app,
        &format!(
            "document.querySelector({css:?}).scrollIntoView({{ block: 'center' }}); return 0;"
        ),
    )
    .await;
    element(app, css)
        .await
        .select_by_value(option)
        .await
        .unwrap_or_else(|e| panic!("select {option} in {css}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_studio_sends_every_setting_validates_references_and_keeps_the_draft() {
    if !can_run() {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let dirs = AppDirs::new();
    let env = dirs.env(&backend.base_url());
    let driver = start_driver(&env);
    let app = driver.open_app().await;

    // First run: the keychain choice is explained beside the sign-in form.
    element(&app, "#first-run").await;
    text_until(&app, "#first-run", "the keychain state", |t| {
        t.contains("Available") && t.contains("Passphrase")
    })
    .await;
    screenshot(&app, "20-first-run").await;
    sign_up(&app, &support::unique_email("studio"), "a studio password").await;

    // A hostile prompt is only ever text.
    let hostile = format!("<img src=x onerror=alert(1)> {MARKER}");
    type_into(&app, "#prompt", &hostile).await;

    // References from the file picker: two images make it image → video.
    let files = tempfile::tempdir().unwrap();
    for name in ["harbour.png", "<img src=x onerror=alert(2)>.png"] {
        write_png(&files.path().join(name));
    }
    let input = app
        .find(Locator::Css("#reference-input"))
        .await
        .expect("the file input");
    for name in ["harbour.png", "<img src=x onerror=alert(2)>.png"] {
        input
            .send_keys(files.path().join(name).to_str().unwrap())
            .await
            .expect("a file picked");
    }
    attr_until(&app, "#reference-mode", "data-mode", "image_to_video").await;
    text_until(&app, "#reference-list", "both file names as text", |t| {
        t.contains("harbour.png") && t.contains("<img src=x onerror=alert(2)>.png")
    })
    .await;

    // A file dropped on the drop zone (the drop a file manager makes, dispatched in the page:
    // WebDriver cannot drag from outside the window).
    js(
        &app,
        r#"const dt = new DataTransfer();
           dt.items.add(new File([new Uint8Array(64)], 'dropped-still.png', { type: 'image/png' }));
           const zone = document.getElementById('reference-drop');
           for (const type of ['dragenter', 'dragover', 'drop'])
             zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
           return true;"#,
    )
    .await;
    text_until(&app, "#reference-mode", "three images", |t| {
        t.contains("3 of 5 images")
    })
    .await;

    // A video over 50 MB is refused with its size; a small one cannot join images. Each time
    // the reason is given and nothing is added.
    let big = files.path().join("too-big.mp4");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(51 * 1024 * 1024)
        .unwrap();
    input.send_keys(big.to_str().unwrap()).await.unwrap();
    text_until(
        &app,
        "#references-error",
        "why the big video was refused",
        |t| t.contains("too-big.mp4 is 51.0 MB") && t.contains("at most 50 MB"),
    )
    .await;
    let small = files.path().join("small.mp4");
    std::fs::write(&small, [0u8; 2048]).unwrap();
    input.send_keys(small.to_str().unwrap()).await.unwrap();
    text_until(
        &app,
        "#references-error",
        "why the video was refused",
        |t| t.contains("small.mp4") && t.contains("can't be combined"),
    )
    .await;
    text_until(&app, "#reference-mode", "still three images", |t| {
        t.contains("3 of 5 images")
    })
    .await;
    screenshot(&app, "21-references").await;

    // Every Advanced setting.
    click(&app, "#advanced summary").await;
    select(&app, "#aspect-ratio", "9:16").await;
    select(&app, "#style-preset", "Film Noir").await;
    select(&app, "#subject", "Landscape").await;
    select(&app, "#pacing", "Slow").await;
    click(&app, "#voice-over").await;
    select(&app, "#voice-language", "fr").await;
    select(&app, "#voice-type", "male").await;
    type_into(&app, "#voice-script", "Le port dort.").await;
    click(&app, "#music").await;
    click(&app, "#subtitles").await;

    // Credits short: 60 s of 4K with every extra costs more than 2,000.
    type_into(&app, "#duration", "60").await;
    select(&app, "#resolution", "4k").await;
    text_until(&app, "#generate-reason", "why Generate is off", |t| {
        t.contains("Not enough credits")
    })
    .await;
    assert!(
        element(&app, "#generate")
            .await
            .attr("disabled")
            .await
            .unwrap()
            .is_some(),
        "Generate is disabled when the estimate exceeds the balance"
    );
    screenshot(&app, "22-advanced-credits-short").await;

    // 5 s at 1080p fits; the estimate equals what the served table charges for image → video.
    type_into(&app, "#duration", "5").await;
    select(&app, "#resolution", "1080p").await;
    let table = cleom_core::pricing::PricingTable::local_default();
    let settings = cleom_core::model::Settings {
        duration_seconds: 5,
        aspect_ratio: cleom_core::model::AspectRatio::Tall,
        style_preset: Some("Film Noir".into()),
        subject: Some(cleom_core::model::Subject::Landscape),
        pacing: Some(cleom_core::model::Pacing::Slow),
        voice_over: Some(cleom_core::model::VoiceOver {
            language: "fr".into(),
            voice: "male".into(),
            script: Some("Le port dort.".into()),
        }),
        music: true,
        subtitles: true,
        ..Default::default()
    };
    let cost = table
        .estimate(cleom_core::model::Mode::ImageToVideo, &settings)
        .unwrap()
        .total;
    attr_until(&app, "#estimate", "data-value", &cost.to_string()).await;
    click(&app, "#generate").await;

    let item = "[data-testid=generation]";
    attr_until(&app, item, "data-mode", "image_to_video").await;
    text_until(
        &app,
        &format!("{item} .prompt"),
        "the prompt, literally",
        |t| t == hostile,
    )
    .await;
    let injected = js(
        &app,
        "return document.querySelectorAll('img[src=\"x\"], [onerror]').length;",
    )
    .await;
    assert_eq!(injected, serde_json::json!(0), "the prompt became markup");
    attr_until(&app, item, "data-status", "succeeded").await;
    attr_until(&app, "#balance", "data-value", &(2000 - cost).to_string()).await;
    screenshot(&app, "23-generated-literal-prompt").await;

    // What the server received: the settings and the references' metadata.
    let stored = backend_generation(&backend.base_url(), &dirs.root.path().join("data")).await;
    assert_eq!(stored["settings"]["aspectRatio"], "9:16");
    assert_eq!(stored["settings"]["stylePreset"], "Film Noir");
    assert_eq!(stored["settings"]["voiceOver"]["language"], "fr");
    assert_eq!(stored["references"].as_array().map(Vec::len), Some(3));
    assert_eq!(stored["creditsCharged"], cost);

    // The draft: a new unsent prompt survives quitting and starting again.
    let draft = format!("An unsent draft about tide pools, {MARKER}-draft");
    type_into(&app, "#prompt", &draft).await;
    select(&app, "#resolution", "2k").await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.close().await.unwrap();

    let app = driver.open_app().await;
    element(&app, "#prompt").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while value(&app, "#prompt").await != draft {
        assert!(
            std::time::Instant::now() < deadline,
            "the draft was not restored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(value(&app, "#resolution").await, "2k");
    assert_eq!(value(&app, "#duration").await, "5");
    assert!(checked(&app, "#music").await);
    assert!(checked(&app, "#voice-over").await);
    text_until(&app, "#reference-mode", "the references kept", |t| {
        t.contains("3 of 5 images")
    })
    .await;
    screenshot(&app, "24-draft-restored").await;
    app.close().await.unwrap();

    // Neither the prompt nor the draft is readable anywhere the app writes.
    let leaks = support::files_containing(dirs.root.path(), &[MARKER.as_bytes()]);
    assert!(leaks.is_empty(), "private text in plain files: {leaks:?}");
    backend.shutdown().await;
}

/// The one generation the backend holds for the account signed in from `data_dir`, read with
/// the test backend's admin token.
async fn backend_generation(base: &str, data_dir: &Path) -> serde_json::Value {
    let uid = std::fs::read_dir(data_dir.join("accounts"))
        .unwrap()
        .flatten()
        .next()
        .expect("an account folder")
        .file_name()
        .into_string()
        .unwrap();
    let remote = Remote::new(Endpoints::local(base).unwrap()).unwrap();
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    let query = cleom_core::remote::firestore::StructuredQuery::from("generations").limit(10);
    let found = remote
        .firestore
        .run_query(&format!("users/{uid}"), &query, &admin)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "one generation on the backend");
    let generation = documents::generation_from_document(&found[0]).unwrap();
    serde_json::to_value(generation).unwrap()
}
