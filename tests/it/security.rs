//! Security: what still holds when the computer around the app is hostile (issue 15, "trust
//! under hostile conditions"). A failure here is a leak of a password or a token, not a wrong
//! answer, so these checks have an area of their own; each test is named after what it proves.
//!
//! The tests that depend on the process environment run the real binaries as child processes
//! with that environment: the environment is process-wide, and the tests of this binary run in
//! parallel in one process.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cleom_core::device::Device;
use cleom_core::model::{Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;

use crate::support;

/// Every variable through which reqwest (and curl, and most tools) takes a proxy.
const PROXY_VARIABLES: [&str; 6] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// A "proxy" that forwards nothing: it keeps the request line of every connection made to it
/// and answers `502 Bad Gateway`.
struct ProxyTrap {
    url: String,
    request_lines: Arc<Mutex<Vec<String>>>,
}

impl ProxyTrap {
    fn start() -> ProxyTrap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let request_lines = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&request_lines);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                seen.lock().unwrap().push(line.trim_end().to_string());
                let _ = (&stream).write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        ProxyTrap { url, request_lines }
    }

    fn request_lines(&self) -> Vec<String> {
        self.request_lines.lock().unwrap().clone()
    }

    /// Points every proxy variable of `command` at this trap (and clears `NO_PROXY`, which
    /// would hide the problem on a machine that sets it).
    fn set_in<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        for variable in PROXY_VARIABLES {
            command.env(variable, &self.url);
        }
        command.env_remove("no_proxy").env_remove("NO_PROXY")
    }
}

/// A binary of the workspace, from the folder cargo builds the app's binary into. `cargo test
/// --workspace` (scripts/test-all.sh) builds them all; a narrower run needs `cargo build -p
/// <package>` first, and then tests what that build holds.
fn workspace_binary(name: &str, package: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_cleom-desktop"))
        .with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {package}` first (`cargo test --workspace` builds it)",
        path.display()
    );
    path
}

/// The local backend as its own process (`cleom-local-backend`), stopped when dropped.
struct BackendProcess {
    child: Child,
    base_url: String,
}

impl BackendProcess {
    /// Starts it on a free loopback port with its data in `dir`, with `proxy` in its
    /// environment. No `--admin-token`: its API calls its stores with a random admin token, as
    /// in the app.
    fn start(dir: &Path, proxy: &ProxyTrap) -> BackendProcess {
        let mut command = Command::new(workspace_binary(
            "cleom-local-backend",
            "cleom-local-backend",
        ));
        let mut child = proxy
            .set_in(&mut command)
            .args(["--port", "0", "--data-dir"])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the local backend starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("not a listening line: {line:?}"))
            .to_string();
        BackendProcess { child, base_url }
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the `cleom` CLI with its data in `data`, against `backend`, with `proxy` in its
/// environment and `stdin` as its standard input.
fn cleom(
    data: &Path,
    backend: &BackendProcess,
    proxy: &ProxyTrap,
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut command = Command::new(workspace_binary("cleom", "cleom-cli"));
    let mut child = proxy
        .set_in(&mut command)
        .args(args)
        .env("CLEOM_DATA_DIR", data)
        .env("CLEOM_BACKEND_URL", &backend.base_url)
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

/// The CLI and the local backend each keep their traffic on loopback while a proxy is set in
/// their environment: the sign-up's and the sign-in's passwords, the ID and refresh tokens of
/// the sync, and the backend's own admin-token calls to its stores (the account deletion)
/// never reach it.
#[test]
fn loopback_traffic_never_goes_through_a_proxy_from_the_environment() {
    // The CLI keeps its session in the OS keychain; only the test session provides one. Straight
    // to stderr: the harness would swallow an `eprintln!` of a passing test.
    if !std::env::var("CLEOM_REAL_KEYCHAIN").is_ok_and(|v| v == "1") {
        std::io::stderr()
            .write_all(
                b"\n*** SKIPPED loopback_traffic_never_goes_through_a_proxy_from_the_environment: \
                  the `cleom` binary needs the OS keychain. Set CLEOM_REAL_KEYCHAIN=1 inside a \
                  D-Bus session with an unlocked keyring (scripts/test-all.sh does). ***\n",
            )
            .unwrap();
        return;
    }
    let proxy = ProxyTrap::start();
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(backend_dir.path(), &proxy);
    let email = support::unique_email("proxy");
    let password = "a long enough password\n";
    let steps: [(&[&str], &str); 5] = [
        (
            &["sign-up", "--email", &email, "--password-stdin"],
            password,
        ),
        (&["sign-out"], ""),
        (
            &["sign-in", "--email", &email, "--password-stdin"],
            password,
        ),
        (&["sync"], ""),
        (&["delete-account", "--password-stdin", "--yes"], password),
    ];
    for (args, stdin) in steps {
        let out = cleom(data.path(), &backend, &proxy, args, stdin);
        assert_eq!(
            proxy.request_lines(),
            Vec::<String>::new(),
            "`cleom {}` went through the proxy",
            args[0]
        );
        assert!(
            out.status.success(),
            "cleom {args:?} failed ({:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A clip made before the local backend moved to another port (its last port was taken at
/// start) still downloads, from the new port, and whoever holds the old port receives nothing:
/// not the request, not the clip's media token.
#[tokio::test(flavor = "multi_thread")]
async fn a_clip_made_before_the_backend_moved_ports_never_sends_its_token_to_the_old_port() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let keychain = support::keychain(data.path());
    let device = |url: &str| {
        let remote = Remote::new(Endpoints::local(url).unwrap()).unwrap();
        Device::new(DataDir::at(data.path()), keychain.clone(), remote).unwrap()
    };

    let backend = support::backend(backend_dir.path(), 0).await;
    let old_port = backend.addr().port();
    let password = SecretString::new("a long enough password".into());
    let account = device(&backend.base_url())
        .sign_up(&support::unique_email("port"), &password)
        .await
        .unwrap();
    let id = account
        .generate(
            "port-move: a tram crossing a bridge at dusk",
            Settings::default(),
        )
        .await
        .unwrap()
        .id;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        account.sync().await.unwrap();
        let done = account
            .library(10, None)
            .unwrap()
            .items
            .into_iter()
            .any(|i| i.generation.id == id && i.generation.status == Status::Succeeded);
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "the generation did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(account);
    backend.shutdown().await;

    // Another process takes the old port; the backend starts on a new one.
    let squatter = TcpListener::bind(("127.0.0.1", old_port)).expect("the old port is free");
    squatter.set_nonblocking(true).unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    assert_ne!(backend.addr().port(), old_port);
    let account = device(&backend.base_url())
        .resume()
        .unwrap()
        .expect("still signed in");
    let saved = account.save_clip(&id, downloads.path()).await.unwrap();

    assert!(
        std::fs::read(&saved).unwrap().starts_with(b"GIF89a"),
        "the clip itself was saved"
    );
    assert!(
        matches!(squatter.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the old port's holder was contacted"
    );
    backend.shutdown().await;
}

/// "Sign out everywhere else" through the app's own `Account`, with two devices of one account
/// (two data folders, each with its keychain): both are listed with this device marked; a wrong
/// password changes nothing; afterwards the other device's next sync signs it out, and this
/// one goes on syncing after a restart, with only itself listed.
#[tokio::test(flavor = "multi_thread")]
async fn signing_out_everywhere_else_ends_the_other_device_and_keeps_this_one() {
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let (desk_dir, laptop_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let keychains = [
        support::keychain(desk_dir.path()),
        support::keychain(laptop_dir.path()),
    ];
    let device = |data: &Path| {
        let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
        let keychain = keychains[usize::from(data == laptop_dir.path())].clone();
        Device::new(DataDir::at(data), keychain, remote).unwrap()
    };
    let email = support::unique_email("everywhere");
    let password = SecretString::new("a long enough password".into());
    let desk = device(desk_dir.path())
        .sign_up(&email, &password)
        .await
        .unwrap();
    let laptop = device(laptop_dir.path())
        .sign_in(&email, &password)
        .await
        .unwrap();
    laptop.sync().await.unwrap();
    desk.sync().await.unwrap();

    let listed = desk.access_report().await.unwrap().on_the_server;
    assert_eq!(listed.sessions_error, None);
    let marks: Vec<bool> = listed
        .signed_in_devices
        .iter()
        .map(|d| d.this_device)
        .collect();
    assert_eq!(
        marks,
        [true, false],
        "the desk synced last, so it is listed first"
    );
    let platform = cleom_core::signed_in_devices::platform();
    assert!(listed
        .signed_in_devices
        .iter()
        .all(|d| d.session.platform == platform && !d.session.device_name.is_empty()));

    let wrong = SecretString::new("not the password".into());
    let err = desk.sign_out_everywhere_else(&wrong).await.unwrap_err();
    assert_eq!(err.code(), "auth.invalid_credentials");
    laptop.sync().await.expect("a wrong password ends nothing");

    assert_eq!(desk.sign_out_everywhere_else(&password).await.unwrap(), 1);
    let err = laptop.sync().await.unwrap_err();
    assert!(err.ends_the_session(), "{err:?}");
    desk.sync().await.expect("this device stays signed in");
    drop(desk);
    let desk = device(desk_dir.path())
        .resume()
        .unwrap()
        .expect("still signed in after a restart");
    desk.sync().await.unwrap();
    let listed = desk.access_report().await.unwrap().on_the_server;
    let ids: Vec<bool> = listed
        .signed_in_devices
        .iter()
        .map(|d| d.this_device)
        .collect();
    assert_eq!(ids, [true], "only this device is left");
    backend.shutdown().await;
}

/// Two data folders on one computer signed in to one account keep their own keychain entries:
/// resetting this device's copy in one folder and signing out there leave the other folder
/// signed in, with a history its own key still opens.
#[tokio::test(flavor = "multi_thread")]
async fn a_reset_and_a_sign_out_in_one_data_folder_leave_another_folder_of_the_account_alone() {
    let backend_dir = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let device = |data: &Path| {
        let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
        Device::new(DataDir::at(data), support::keychain(data), remote).unwrap()
    };
    let (first, second) = (device(first_dir.path()), device(second_dir.path()));
    let email = support::unique_email("two-folders");
    let password = SecretString::new("a long enough password".into());
    let account = first.sign_up(&email, &password).await.unwrap();
    let uid = account.uid().to_string();
    account.sync().await.unwrap();
    drop(account);
    let account = second.sign_in(&email, &password).await.unwrap();
    account.sync().await.unwrap();
    drop(account);

    first.reset_local_copy(&uid).unwrap();
    let account = first
        .resume()
        .unwrap()
        .expect("the reset keeps the session");
    first.sign_out(&account).unwrap();
    drop(account);
    assert!(
        first.resume().unwrap().is_none(),
        "signed out in the first folder"
    );

    let account = second
        .resume()
        .expect("the second folder's key still opens its history")
        .expect("and it is still signed in");
    assert_eq!(account.profile().unwrap().unwrap().email, email);
    account.sync().await.expect("its refresh token still works");
    backend.shutdown().await;
}

/// A generation document the app cannot read (its progress a text, as a broken server might
/// write it) is set aside with its reason: the rest of the history syncs past it, the sync does not
/// stall on it, and it is read once the server writes it properly.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_document_is_set_aside_and_the_rest_of_the_history_syncs_past_it() {
    use cleom_core::remote::documents::generation_to_fields;
    use cleom_core::remote::firestore::{Value, Write};

    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = support::backend(backend_dir.path(), 0).await;
    let url = backend.base_url();
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let device = Device::new(
        DataDir::at(data.path()),
        support::keychain(data.path()),
        remote.clone(),
    )
    .unwrap();
    let account = device
        .sign_up(
            &support::unique_email("hostile"),
            &SecretString::new("a long enough password".into()),
        )
        .await
        .unwrap();
    let uid = account.uid().to_string();
    account.sync().await.unwrap();
    let now = 1_780_000_000;
    let good: Vec<_> = (0..3)
        .map(|i| crate::seed::generation(i, now + i as i64, format!("hostile-good-{i}")))
        .collect();
    backend.put_generations(&uid, &good).await.unwrap();
    let mut broken = crate::seed::generation(9, now + 9, "hostile-broken".into());
    let mut fields = generation_to_fields(&broken);
    fields.insert("progress".into(), Value::String("half way".into()));
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    remote
        .firestore
        .commit(
            vec![
                Write::update(format!("users/{uid}/generations/{}", broken.id), fields)
                    .server_time("updatedAt"),
                Write::update(format!("users/{uid}"), Default::default())
                    .mask(Vec::<String>::new())
                    .server_time("updatedAt"),
            ],
            &admin,
        )
        .await
        .unwrap();

    let report = account.sync().await.unwrap();
    assert_eq!(report.set_aside, 1, "{report:?}");
    let ids = |account: &cleom_core::Account| -> Vec<String> {
        let mut ids: Vec<String> = account
            .library(10, None)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.generation.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&account), ["seed0000000", "seed0000001", "seed0000002"]);
    let (count, reason) = account.set_aside_summary().unwrap();
    assert_eq!(count, 1);
    assert!(reason.is_some_and(|r| !r.is_empty()), "a reason is kept");
    let again = account
        .sync()
        .await
        .expect("the next sync is not stuck on it");
    assert_eq!(again.set_aside, 0, "{again:?}");

    broken.progress = 1.0;
    backend
        .put_generations(&uid, std::slice::from_ref(&broken))
        .await
        .unwrap();
    account.sync().await.unwrap();
    assert_eq!(
        ids(&account).len(),
        4,
        "read once the server wrote it properly"
    );
    assert_eq!(account.set_aside_summary().unwrap().0, 0);
    backend.shutdown().await;
}
