//! Privacy promises checked at the backend: analytics are off by default and nothing leaves the
//! app for them across a whole session; opted in, only anonymous feature counts do.

use std::sync::Arc;

use cleom_core::device::Device;
use cleom_core::keychain::memory::MemoryKeychain;
use cleom_core::model::Settings;
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use cleom_core::store::{LibraryQuery, ProfileField};

use crate::support;

#[tokio::test(flavor = "multi_thread")]
async fn analytics_are_off_by_default_and_anonymous_when_on() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let remote = Remote::new(Endpoints::local(&backend.base_url()).unwrap()).unwrap();
    let device = Device::new(
        DataDir::at(data.path()),
        Arc::new(MemoryKeychain::default()),
        remote,
    )
    .unwrap();
    let email = support::unique_email("analytics");
    let password = SecretString::new("a long enough password".into());
    let account = device.sign_up(&email, &password).await.unwrap();
    let prompt = "analytics-secret-prompt: a fox in the snow";

    // A whole session with the default choice: every counted feature is used, and the app
    // offers its report after each step, as the background loop does.
    account.sync().await.unwrap();
    assert!(
        !account.profile().unwrap().unwrap().analytics_opt_in,
        "off by default"
    );
    let g = account.generate(prompt, Settings::default()).await.unwrap();
    assert!(!account.send_analytics().await.unwrap());
    let query = LibraryQuery {
        text: Some("fox".into()),
        ..LibraryQuery::default()
    };
    account.query(&query).unwrap();
    account.export(exports.path()).unwrap();
    account
        .delete_generations(std::slice::from_ref(&g.id))
        .unwrap();
    account.sync().await.unwrap();
    assert!(!account.send_analytics().await.unwrap());
    assert!(
        backend.analytics_reports().is_empty(),
        "no analytics request of any kind reached the backend"
    );

    // Opted in: the next report carries counts of features and the version, nothing else.
    account
        .set_profile_field(ProfileField::AnalyticsOptIn(true))
        .unwrap();
    account.sync().await.unwrap();
    account.query(&query).unwrap();
    account.query(&query).unwrap();
    account.export(exports.path()).unwrap();
    assert!(account.send_analytics().await.unwrap());
    let reports = backend.analytics_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0],
        serde_json::json!({
            "appVersion": env!("CARGO_PKG_VERSION"),
            "counts": {"search": 2, "export": 1}
        }),
        "only what was used since opting in, anonymously"
    );
    let text = reports[0].to_string();
    for private in [account.uid(), email.as_str(), prompt, g.id.as_str()] {
        assert!(!text.contains(private), "the report holds {private}");
    }
    assert!(
        !account.send_analytics().await.unwrap(),
        "nothing new, nothing sent"
    );

    // Opting out again stops it at once.
    account
        .set_profile_field(ProfileField::AnalyticsOptIn(false))
        .unwrap();
    account.query(&query).unwrap();
    assert!(!account.send_analytics().await.unwrap());
    assert_eq!(backend.analytics_reports().len(), 1);
    backend.shutdown().await;
}

/// The right of access: the report lists what is here and on the server, names the keychain
/// entries without their values; a clip saved from the Library is the real clip, recorded as
/// downloaded, never overwriting a file of the same name.
#[tokio::test(flavor = "multi_thread")]
async fn the_access_report_names_everything_and_reveals_no_secret() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let remote = Remote::new(Endpoints::local(&backend.base_url()).unwrap()).unwrap();
    let keychain: Arc<dyn cleom_core::keychain::Keychain> = Arc::new(MemoryKeychain::default());
    let device = Device::new(DataDir::at(data.path()), keychain.clone(), remote).unwrap();
    let password = SecretString::new("a long enough password".into());
    let account = device
        .sign_up(&support::unique_email("access"), &password)
        .await
        .unwrap();
    let g = account
        .generate(
            "../../etc/passwd: a clip with a hostile name",
            Settings::default(),
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while account.has_active_generations().unwrap() || account.thumbnail(&g.id).unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the clip never finished"
        );
        account.sync().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // "Download": the real clip, under a safe name, never over a file already there, recorded;
    // saving again answers the same file.
    let expected = cleom_core::export::safe_file_name(&g.prompt, &g.id, "gif");
    assert!(
        expected.starts_with("etc-passwd-a-clip-with-a-hostile-name"),
        "{expected}"
    );
    std::fs::write(downloads.path().join(&expected), b"the user's own file").unwrap();
    let saved = account.save_clip(&g.id, downloads.path()).await.unwrap();
    assert_eq!(saved.parent().unwrap(), downloads.path());
    assert_eq!(
        saved.file_name().unwrap().to_str().unwrap(),
        expected.replace(".gif", " (2).gif")
    );
    assert_eq!(
        std::fs::read(downloads.path().join(&expected)).unwrap(),
        b"the user's own file"
    );
    assert_eq!(&std::fs::read(&saved).unwrap()[..6], b"GIF89a");
    assert_eq!(
        account.save_clip(&g.id, downloads.path()).await.unwrap(),
        saved
    );
    let item = account.item_with_thumbnail(&g.id).unwrap().unwrap();
    assert_eq!(
        item.item.download.unwrap().path,
        saved.display().to_string()
    );

    let report = account.access_report().await.unwrap();
    assert_eq!(report.uid, account.uid());
    let here = &report.on_this_device;
    assert_eq!(here.holdings.generations, 1);
    assert_eq!(here.holdings.thumbnails, 1);
    assert!(here.holdings.thumbnail_bytes > 100);
    assert!(here.holdings.ledger_entries >= 2, "grant and charge");
    assert_eq!(here.holdings.saved_clips.len(), 1);
    assert!(here.database_bytes > 0);
    assert!(here.database_path.ends_with("history.db"));
    // Every file the app keeps for the account is listed, and each is really there.
    let files: Vec<&str> = here.files.iter().map(|f| f.path.as_str()).collect();
    for name in ["history.db", "history.lock", "device.json"] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "{name} in {files:?}"
        );
    }
    assert!(here
        .files
        .iter()
        .all(|f| std::path::Path::new(&f.path).is_file()));
    let names: Vec<&str> = here
        .keychain_entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        names,
        cleom_core::keychain::account_entries(account.uid())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(here.keychain_entries.iter().all(|e| e.present));
    let server = report.on_the_server.profile.clone().expect("online");
    assert_eq!(server.uid, account.uid());
    let json = serde_json::to_string(&report).unwrap();
    for entry in cleom_core::keychain::account_entries(account.uid()) {
        let secret = keychain.get(&entry).unwrap().unwrap();
        assert!(
            !json.contains(secret.expose().as_str()),
            "{entry}'s value leaked"
        );
    }

    // Offline, the report still answers from this device and says why the server is missing.
    backend.shutdown().await;
    let report = account.access_report().await.unwrap();
    assert!(report.on_the_server.profile.is_none());
    assert!(report.on_the_server.error.is_some());
    assert_eq!(report.on_this_device.holdings.generations, 1);
}
