//! The installed package, as a user gets it: the release .deb that
//! `scripts/build-installers.sh` makes, installed on this machine with apt by the test command,
//! which points `$CLEOM_APP_BINARY` at the binary it installed (`/usr/bin/cleom-desktop`).
//!
//! One test, because its steps must run in order on one machine-wide package: what the package
//! put on the system, the release binary through a real-window flow on the embedded backend,
//! then the package's removal, after which nothing of the app may remain outside the user's
//! own folders (which the README tells a user how to remove).
//!
//! Linux only: the package is a .deb, and the window is driven through WebKitWebDriver.
#![cfg(target_os = "linux")]

#[allow(dead_code)]
#[path = "../it/support.rs"]
mod support;
#[allow(dead_code)]
#[path = "../it/update_server.rs"]
mod update_server;
#[allow(dead_code)]
#[path = "../it/window.rs"]
mod window;

use std::path::{Path, PathBuf};
use std::process::Command;

use cleom_core::keychain::{self, os::OsKeychain, Keychain};
use cleom_core::paths::DataDir;

use update_server::{check_offers, manifest, tauri_cli, Key, UpdateServer, CURRENT};
use window::{
    app_processes, attr_until, can_run, click, element, screenshot, text_until, type_into, Driver,
};

/// The package's name, as dpkg knows it.
const PACKAGE: &str = "cleom-desktop";

/// The folders of a user's own that the app writes (the README's "Remove your data" lists
/// them): its data dir, WebKit's storage and cache, and the remembered window size.
const USER_FOLDERS: [&str; 4] = [
    ".local/share/cleomdesktop",
    ".local/share/com.cleomai.desktop",
    ".cache/com.cleomai.desktop",
    ".config/com.cleomai.desktop",
];

/// The installed binary, or `None` (said loudly) where the test command did not install the
/// package; `CLEOM_REQUIRE_INSTALLED=1` (set by the test command) makes that a failure.
fn installed_binary() -> Option<PathBuf> {
    match std::env::var_os("CLEOM_APP_BINARY") {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("CLEOM_REQUIRE_INSTALLED").is_some() => {
            panic!("CLEOM_APP_BINARY is not set: the installed package cannot be tested")
        }
        None => {
            eprintln!(
                "SKIPPED: the installed-package test (CLEOM_APP_BINARY is not set); \
                 scripts/test-all.sh installs the .deb and runs it"
            );
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The package's version, as dpkg has it installed.
fn installed_version() -> String {
    run(Command::new("dpkg-query").args(["-W", "-f", "${Version}", PACKAGE]))
}

/// The files and folders dpkg says the package installed.
fn package_files() -> Vec<PathBuf> {
    run(Command::new("dpkg").args(["-L", PACKAGE]))
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The package's desktop entry: categories, the `cleom:` scheme, and an Exec line that passes
/// a link on.
fn check_desktop_entry(files: &[PathBuf]) {
    let entry = files
        .iter()
        .find(|p| {
            p.starts_with("/usr/share/applications")
                && p.extension().is_some_and(|e| e == "desktop")
        })
        .expect("the package installs a desktop entry");
    let text = std::fs::read_to_string(entry).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{} has no {name}=: {text}", entry.display()))
            .to_string()
    };
    assert!(field("Categories").contains("Video"), "{text}");
    assert!(
        field("MimeType").contains("x-scheme-handler/cleom"),
        "{text}"
    );
    assert!(field("Exec").contains("%u"), "{text}");
    assert_eq!(field("Name"), "Cleom Desktop");
}

/// Starts the binary until its start-up log says how it was installed.
fn logged_bundle(binary: &Path, data_dir: &Path) -> String {
    use std::io::BufRead;
    let mut child = Command::new(binary)
        .env("CLEOM_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the installed app starts");
    let stderr = child.stderr.take().unwrap();
    let line = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("start-up: the app is"))
        .expect("a start-up line on the installed package");
    let _ = child.kill();
    let _ = child.wait();
    line
}

/// The signed update the test command made for this run: the same package at a newer version,
/// signed with the private half of the key pair whose public half the installed build trusts.
struct NextVersion {
    deb: PathBuf,
    version: String,
    key: PathBuf,
}

impl NextVersion {
    fn from_env() -> NextVersion {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: scripts/test-all.sh builds the update the test offers")
            })
        };
        NextVersion {
            deb: var("CLEOM_TEST_UPDATE_DEB").into(),
            version: var("CLEOM_TEST_UPDATE_VERSION"),
            key: var("CLEOM_TEST_UPDATE_KEY").into(),
        }
    }
}

/// The flow a new user of the installed app goes through, on its embedded backend: sign up,
/// generate until the clip succeeded, export, update the app (a tampered download is refused,
/// the signed one installed over the package, and the app restarts as the new version), then
/// delete the account.
async fn smoke_flow(data_dir: &Path, export_dir: &Path, next: &NextVersion) {
    let cli = tauri_cli().expect("the Tauri CLI signs the update");
    let package = std::fs::read(&next.deb).unwrap();
    let signature = Key {
        private: next.key.clone(),
        public: String::new(),
    }
    .sign(&cli, &next.deb);
    let mut tampered = package.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    let server = UpdateServer::start();
    let offer = manifest(&next.version, &server.artifact_url(), &signature);
    server.serve(offer.clone(), &tampered);
    let env = [
        ("CLEOM_DATA_DIR", data_dir.to_str().unwrap().to_string()),
        ("CLEOM_EXPORT_DIR", export_dir.to_str().unwrap().to_string()),
        ("CLEOM_EMBEDDED_JOB_SECONDS", "1".to_string()),
        ("CLEOM_UPDATE_URL", server.endpoint()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let driver = Driver::start(&env);
    let app = driver.open_app().await;
    let email = support::unique_email("installed");
    let password = "an installed password";
    click(&app, "#auth-mode-toggle").await;
    type_into(&app, "#auth-email", &email).await;
    type_into(&app, "#auth-password", password).await;
    click(&app, "#auth-submit").await;
    attr_until(&app, "#balance", "data-value", "2000").await;
    type_into(
        &app,
        "#prompt",
        "A lighthouse in fog, from the installed package",
    )
    .await;
    click(&app, "#generate").await;
    attr_until(&app, "[data-testid=generation]", "data-status", "succeeded").await;
    element(&app, "[data-testid=generation] img.thumbnail").await;
    screenshot(&app, "installed-01-succeeded").await;

    click(&app, "#open-account").await;
    click(&app, "#export").await;
    text_until(&app, "#export-result", "the zip's path", |t| {
        t.contains(".zip")
    })
    .await;
    let zip = std::fs::read_dir(export_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("the export's zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut generations = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("generations.json").unwrap(),
        &mut generations,
    )
    .unwrap();
    assert!(generations.contains("A lighthouse in fog"), "{generations}");

    // The update: offered with its version; the tampered download installs nothing.
    click(&app, "[data-testid=update-open]").await;
    text_until(
        &app,
        "[data-testid=update-current-version]",
        "this version",
        |t| t == format!("This is Cleom Desktop {CURRENT}."),
    )
    .await;
    check_offers(&app, &next.version).await;
    screenshot(&app, "installed-02-update-offered").await;
    click(&app, "[data-testid=update-install]").await;
    attr_until(
        &app,
        "[data-testid=update-error]",
        "data-code",
        "update.bad_signature",
    )
    .await;
    assert_eq!(
        installed_version(),
        CURRENT,
        "a tampered update was installed"
    );

    // The signed one: installed over the package, and the app restarts into it.
    server.serve(offer, &package);
    check_offers(&app, &next.version).await;
    let before = app_processes(data_dir.to_str().unwrap()).expect("the running app")[0];
    let _ = app
        .execute(
            "document.querySelector('[data-testid=update-install]').click(); return 0;",
            vec![],
        )
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let restarted = loop {
        if let Some(pids) = app_processes(data_dir.to_str().unwrap()) {
            if pids[0] != before && installed_version() == next.version {
                break pids[0];
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the update was not installed and restarted within 120 s (the package is at {})",
            installed_version()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    eprintln!(
        "info the update installed {} and restarted the app (pid {restarted})",
        next.version
    );
    drop(app);
    // The restarted app is in the driver's process group: stopping the driver stops it.
    drop(driver);

    // Opened again: the new version, still signed in; the deletion starts from the account.
    let driver = Driver::start(&env);
    let app = driver.open_app().await;
    element(&app, "#balance").await;
    click(&app, "#open-account").await;
    click(&app, "[data-testid=update-open]").await;
    text_until(
        &app,
        "[data-testid=update-current-version]",
        "the new version",
        |t| t == format!("This is Cleom Desktop {}.", next.version),
    )
    .await;
    screenshot(&app, "installed-03-updated").await;
    click(&app, "#update-dialog .done").await;

    let uid = std::fs::read_dir(data_dir.join("accounts"))
        .unwrap()
        .flatten()
        .next()
        .expect("an account folder")
        .file_name()
        .into_string()
        .unwrap();
    click(&app, "#delete-account").await;
    type_into(&app, "#delete-password", password).await;
    click(&app, "#confirm-delete").await;
    element(&app, "#deletion-receipt").await;
    screenshot(&app, "installed-04-deleted").await;
    app.close().await.unwrap();

    assert!(!data_dir.join("accounts").join(&uid).exists());
    let keychain = OsKeychain::new(support::app_channel(), &DataDir::at(data_dir));
    for entry in keychain::account_entries(&uid) {
        assert!(
            keychain.get(&entry).unwrap().is_none(),
            "{entry} is still in the release keychain"
        );
    }
}

/// Every file or folder outside `home` that names the app, in the places a package or an app
/// could write to. dpkg's own records of removed packages are not the app's.
fn system_leftovers() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = ["/usr", "/etc", "/opt", "/var/lib", "/var/cache"]
        .iter()
        .map(PathBuf::from)
        .collect();
    while let Some(dir) = stack.pop() {
        if dir.starts_with("/var/lib/dpkg") || dir.starts_with("/var/cache/apt") {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_lowercase();
            if name.contains("cleom") {
                found.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_installed_package_runs_the_app_and_leaves_nothing_once_removed() {
    let Some(binary) = installed_binary() else {
        return;
    };
    if !can_run() {
        return;
    }
    let status =
        run(Command::new("dpkg-query").args(["-W", "-f", "${Status} ${Version}", PACKAGE]));
    assert!(status.starts_with("install ok installed"), "{status}");
    let files = package_files();
    assert!(
        files.contains(&binary),
        "{} is not the package's binary: {files:?}",
        binary.display()
    );
    check_desktop_entry(&files);

    let home = PathBuf::from(std::env::var("HOME").unwrap());
    let scratch = tempfile::tempdir().unwrap();
    let line = logged_bundle(&binary, &scratch.path().join("probe"));
    assert!(line.contains("installed from a deb package"), "{line}");

    smoke_flow(
        &scratch.path().join("data"),
        &scratch.path().join("exports"),
        &NextVersion::from_env(),
    )
    .await;

    run(Command::new("apt-get").args(["remove", "--purge", "-y", "-q", PACKAGE]));
    let still: Vec<_> = files
        .iter()
        .filter(|p| p.is_file() || p.is_symlink())
        .collect();
    assert!(still.is_empty(), "the package's files remain: {still:?}");
    let leftovers = system_leftovers();
    assert!(leftovers.is_empty(), "left on the system: {leftovers:?}");
    // In the user's home, only the folders the README tells a user to remove.
    let in_home: Vec<_> = support::all_files(&home)
        .into_iter()
        .filter(|p| p.to_string_lossy().to_lowercase().contains("cleom"))
        .filter(|p| !USER_FOLDERS.iter().any(|f| p.starts_with(home.join(f))))
        .filter(|p| !p.starts_with(scratch.path()))
        .collect();
    assert!(in_home.is_empty(), "left in the user's home: {in_home:?}");
}
