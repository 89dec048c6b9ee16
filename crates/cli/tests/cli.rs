//! The real `cleom` binary against a real local backend, with the real OS keychain.
//!
//! The binary keeps its session in the OS keychain (as the app does), so these tests run only
//! where a Secret Service is available: `CLEOM_REAL_KEYCHAIN=1`, which `scripts/test-all.sh`
//! sets inside a private D-Bus session with an unlocked gnome-keyring. Elsewhere they print a
//! SKIPPED line and pass, rather than touch the developer's own keychain.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cleom_local_backend::{BackendConfig, RunningBackend};

const PASSWORD: &str = "a long enough password";

fn real_keychain(test: &str) -> bool {
    let on = std::env::var("CLEOM_REAL_KEYCHAIN").is_ok_and(|v| v == "1");
    if !on {
        eprintln!(
            "\n*** SKIPPED {test}: the `cleom` binary keeps its session in the OS keychain. \
             Set CLEOM_REAL_KEYCHAIN=1 inside a D-Bus session with an unlocked keyring \
             (scripts/test-all.sh does) to run it.\n"
        );
    }
    on
}

async fn backend(dir: &Path) -> RunningBackend {
    cleom_local_backend::start(BackendConfig {
        data_dir: dir.to_path_buf(),
        port: 0,
        job_duration: Duration::from_millis(300),
        admin_token: Some("owner".into()),
    })
    .await
    .expect("the local backend starts")
}

/// Runs `cleom` with the test's data folder and backend, `stdin` as its standard input.
struct Cleom {
    data: PathBuf,
    backend_url: String,
}

impl Cleom {
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cleom"))
            .args(args)
            .env("CLEOM_DATA_DIR", &self.data)
            .env("CLEOM_BACKEND_URL", &self.backend_url)
            .env_remove("CLEOM_API_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cleom runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("cleom ends")
    }

    /// Runs `cleom` and insists that it succeeds; returns its standard output.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "cleom {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rewrites the zip at `from` into `to`, replacing `name`'s content with `content`.
fn tamper(from: &Path, to: &Path, name: &str, content: &[u8]) {
    let mut source = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..source.len() {
        let mut file = source.by_index(i).unwrap();
        let file_name = file.name().to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        out.start_file(file_name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(if file_name == name { content } else { &bytes })
            .unwrap();
    }
    out.finish().unwrap();
}

/// Creates a user with a few finished generations straight through the backend's API (the
/// production client of cleom-core), so the CLI has a history to sync.
async fn seed_user(url: &str, email: &str, prompts: &[&str]) {
    use cleom_core::device::Device;
    use cleom_core::keychain::memory::MemoryKeychain;
    use cleom_core::model::{Resolution, Settings};
    use cleom_core::paths::DataDir;
    use cleom_core::remote::{Endpoints, Remote};
    use cleom_core::secret::SecretString;

    let scratch = tempfile::tempdir().unwrap();
    let remote = Remote::new(Endpoints::local(url).unwrap()).unwrap();
    let device = Device::new(
        DataDir::at(scratch.path()),
        std::sync::Arc::new(MemoryKeychain::new()),
        remote,
    )
    .unwrap();
    let account = device
        .sign_up(email, &SecretString::new(PASSWORD.into()))
        .await
        .unwrap();
    account.sync().await.unwrap();
    let settings = Settings {
        duration_seconds: 5,
        resolution: Resolution::P1080,
        ..Settings::default()
    };
    for prompt in prompts {
        account.generate(prompt, settings.clone()).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        account.sync().await.unwrap();
        if !account.has_active_generations().unwrap() {
            break;
        }
        assert!(Instant::now() < deadline, "the generations never finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_sync_export_verify_tamper_and_delete() {
    if !real_keychain("sign_in_sync_export_verify_tamper_and_delete") {
        return;
    }
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let backend = backend(backend_dir.path()).await;
    let email = format!("cli-{}@example.com", std::process::id());
    let prompts = [
        "cli prompt one: a lighthouse in a storm",
        "cli prompt two: </script><img src=x onerror=alert(1)> ../../etc/passwd",
    ];
    seed_user(&backend.base_url(), &email, &prompts).await;
    let cleom = Cleom {
        data: data.path().to_path_buf(),
        backend_url: backend.base_url(),
    };

    // Not signed in yet: a clear error and exit 1.
    let out = cleom.run(&["sync"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error[auth.not_signed_in]: "),
        "{}",
        stderr(&out)
    );

    // A wrong password is refused with its code.
    let out = cleom.run(
        &["sign-in", "--email", &email, "--password-stdin"],
        "wrong\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[auth.invalid_credentials]"),
        "{}",
        stderr(&out)
    );

    let signed_in = cleom.ok(
        &["sign-in", "--email", &email, "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(signed_in.contains(&email), "{signed_in}");
    let uid = signed_in
        .split("(uid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the uid is printed")
        .to_string();

    let synced = cleom.ok(&["sync"], "");
    assert!(synced.contains("2 generations"), "{synced}");
    let status = cleom.ok(&["status"], "");
    assert!(
        status.contains(&email) && status.contains("Keychain: available"),
        "{status}"
    );

    // Export, with the videos, then verify.
    let zip_path = exports.path().join("mine.zip");
    let zip_arg = zip_path.to_str().unwrap();
    let exported = cleom.ok(&["export", "--out", zip_arg, "--include-videos"], "");
    assert!(exported.contains("Exported 2 generations"), "{exported}");
    assert!(exported.contains("2 videos"), "{exported}");
    let verified = cleom.ok(&["export", "verify", zip_arg], "");
    assert!(verified.starts_with("OK: "), "{verified}");

    // An export never replaces a file.
    let out = cleom.run(&["export", "--out", zip_arg], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[export.exists]"),
        "{}",
        stderr(&out)
    );

    // A changed byte in any file fails the check, with a non-zero exit.
    let tampered = exports.path().join("tampered.zip");
    tamper(&zip_path, &tampered, "generations.csv", b"id\r\nforged\r\n");
    let out = cleom.run(&["export", "verify", tampered.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("MISMATCH generations.csv: its content differs"),
        "{report}"
    );
    assert!(
        stderr(&out).contains("error[export.verify_failed]"),
        "{}",
        stderr(&out)
    );

    // The encrypted variant needs its password to be checked.
    let secret_zip = exports.path().join("secret.zip");
    let secret_arg = secret_zip.to_str().unwrap();
    cleom.ok(
        &["export", "--out", secret_arg, "--password-stdin"],
        "zip password\n",
    );
    let out = cleom.run(&["export", "verify", secret_arg], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[export.password_required]"),
        "{}",
        stderr(&out)
    );
    cleom.ok(
        &["export", "verify", secret_arg, "--password-stdin"],
        "zip password\n",
    );
    // A password shorter than the app accepts is refused too, before anything is written.
    let short_zip = exports.path().join("short.zip");
    let out = cleom.run(
        &[
            "export",
            "--out",
            short_zip.to_str().unwrap(),
            "--password-stdin",
        ],
        "1234567\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error[export.password_too_short]"),
        "{}",
        stderr(&out)
    );
    assert!(!short_zip.exists());

    // Usage mistakes exit with 2.
    assert_eq!(cleom.run(&["export"], "").status.code(), Some(2));
    assert_eq!(cleom.run(&["frobnicate"], "").status.code(), Some(2));
    let out = cleom.run(
        &["delete-account", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "no confirmation without a terminal"
    );

    // Delete the account: nothing of it remains on disk or in the keychain.
    let deleted = cleom.ok(
        &["delete-account", "--password-stdin", "--yes"],
        &format!("{PASSWORD}\n"),
    );
    assert!(deleted.contains("2 generations"), "{deleted}");
    assert!(deleted.contains("2 keychain entries"), "{deleted}");
    assert!(!data.path().join("accounts").join(&uid).exists());
    assert!(!data.path().join("device.json").exists());
    let keychain = cleom_core::keychain::os::OsKeychain::new(
        cleom_core::keychain::Channel::current(),
        &cleom_core::paths::DataDir::at(data.path()),
    );
    for entry in cleom_core::keychain::account_entries(&uid) {
        assert!(
            cleom_core::keychain::Keychain::get(&keychain, &entry)
                .unwrap()
                .is_none(),
            "{entry} is still in the keychain"
        );
    }
    let out = cleom.run(
        &["sign-in", "--email", &email, "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the account is gone on the server too"
    );
    backend.shutdown().await;
}

#[test]
fn without_a_backend_url_cleom_says_what_to_set() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cleom"))
        .arg("status")
        .env("CLEOM_DATA_DIR", data.path())
        .env_remove("CLEOM_BACKEND_URL")
        .env_remove("CLEOM_API_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.starts_with("error[config.backend_missing]: "),
        "{text}"
    );
    assert!(text.contains("CLEOM_BACKEND_URL"), "{text}");
}

#[test]
fn verify_needs_no_backend_and_rejects_what_is_not_an_export() {
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("x.zip");
    std::fs::write(&not_zip, b"not a zip").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cleom"))
        .args(["export", "verify", not_zip.to_str().unwrap()])
        .env_remove("CLEOM_BACKEND_URL")
        .env_remove("CLEOM_API_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error[export.not_an_export]: "),
        "{}",
        stderr(&out)
    );
}
