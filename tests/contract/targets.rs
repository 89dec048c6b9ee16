//! The two targets the contract runs against, and Google's emulators behind the second.
//!
//! - `local`: the embedded local backend (all three surfaces on one port).
//! - `emulators`: the Firebase Auth emulator (npm `firebase-tools`, pinned in
//!   `tests/emulators/package.json`) and Google's Firestore emulator jar (Debian package
//!   `google-cloud-cli-firestore-emulator`, Java 17) loaded with the repo's `firestore.rules`,
//!   with the Cleom API of `crates/local-backend` in front of them (`start_api`).
//!
//! The emulators are started by the suite on free loopback ports, reset between tests with
//! their own `DELETE /emulator/v1/...` endpoints, and stopped at the end (their process group
//! gets SIGTERM, then SIGKILL if it lingers).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use cleom_local_backend::{ApiConfig, BackendConfig, RunningBackend};

use crate::support::raw_request;

/// The emulators' (and the tests' local backend's) admin bearer token.
pub const ADMIN: &str = "owner";
pub const PROJECT: &str = "demo-cleom";
/// Long enough to cancel a job in flight, short enough to keep the suite fast.
pub const JOB_DURATION: Duration = Duration::from_millis(1500);
/// The Auth emulator (node) takes a few seconds to start, more on a busy machine.
const AUTH_START_LIMIT: Duration = Duration::from_secs(120);
const FIRESTORE_START_LIMIT: Duration = Duration::from_secs(60);
/// Where the Debian package puts the jar.
const DEBIAN_JAR: &str =
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar";

/// A backend the contract tests talk to through the app's own clients.
pub struct Target {
    pub name: &'static str,
    pub remote: Remote,
    /// The stores' admin token, to seed and inspect what the rules hide from users.
    pub admin: SecretString,
    /// Where the Auth emulator's own `/emulator/v1/...` endpoints are (the pending email codes).
    pub auth_root: String,
    /// Whether an email or password change revokes the refresh tokens issued before it, as
    /// Firebase does. The Auth emulator (firebase-tools 15) does not: it only refuses ID tokens
    /// issued before the change (`validSince`), so there an old refresh token still works.
    pub revokes_refresh_tokens: bool,
    /// Whether applying an email-change code (`accounts:update {oobCode}`) ends the sessions
    /// from before, as Firebase does for any email change. The Auth emulator does not: it moves
    /// `validSince` only for changes made with an ID token.
    pub applied_email_change_revokes: bool,
    /// Base URLs to reset between tests (the emulators only: the local backend's tests use
    /// fresh accounts instead).
    resets: Vec<(String, String)>,
    /// The local backend or the API in front of the emulators (see [`Target::backend`]).
    backend: RunningBackend,
    _data: tempfile::TempDir,
}

impl Target {
    /// The local backend, or the Cleom API in front of the emulators: what seeds a user's
    /// history as the server would.
    pub fn backend(&self) -> &RunningBackend {
        &self.backend
    }

    /// The embedded local backend with the emulators' admin token, on a fresh data directory.
    pub async fn local() -> Result<Target, String> {
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        let backend = cleom_local_backend::start(BackendConfig {
            data_dir: data.path().join("backend"),
            port: 0,
            job_duration: JOB_DURATION,
            admin_token: Some(ADMIN.to_string()),
        })
        .await
        .map_err(|e| format!("the local backend did not start: {e}"))?;
        let endpoints = Endpoints::local(&backend.base_url()).map_err(|e| e.to_string())?;
        Ok(Target {
            name: "local",
            remote: Remote::new(endpoints).map_err(|e| e.to_string())?,
            admin: SecretString::new(ADMIN.to_string()),
            auth_root: backend.base_url(),
            revokes_refresh_tokens: true,
            applied_email_change_revokes: true,
            resets: Vec::new(),
            backend,
            _data: data,
        })
    }

    /// The Cleom API in front of running emulators.
    pub async fn emulators(emulators: &Emulators) -> Result<Target, String> {
        let data = tempfile::tempdir().map_err(|e| e.to_string())?;
        let api = cleom_local_backend::start_api(ApiConfig {
            data_dir: data.path().join("api"),
            port: 0,
            job_duration: JOB_DURATION,
            auth_url: emulators.auth_url(),
            firestore_url: emulators.firestore_url(),
            admin_token: ADMIN.to_string(),
        })
        .await
        .map_err(|e| format!("the Cleom API did not start: {e}"))?;
        let endpoints = Endpoints::emulators(
            &emulators.auth_url(),
            &emulators.firestore_url(),
            &format!("{}/api", api.base_url()),
        )
        .map_err(|e| e.to_string())?;
        Ok(Target {
            name: "emulators",
            remote: Remote::new(endpoints).map_err(|e| e.to_string())?,
            admin: SecretString::new(ADMIN.to_string()),
            auth_root: emulators.auth_url(),
            revokes_refresh_tokens: false,
            applied_email_change_revokes: false,
            resets: vec![
                (
                    emulators.auth_url(),
                    format!("/emulator/v1/projects/{PROJECT}/accounts"),
                ),
                (
                    emulators.firestore_url(),
                    format!("/emulator/v1/projects/{PROJECT}/databases/(default)/documents"),
                ),
            ],
            backend: api,
            _data: data,
        })
    }

    /// Empties the emulators (no-op for the local backend).
    pub async fn reset(&self) -> Result<(), String> {
        for (base, path) in &self.resets {
            let status = raw_request(base, "DELETE", path)
                .await
                .map_err(|e| format!("resetting {path}: {e}"))?;
            if status != 200 {
                return Err(format!("resetting {path}: HTTP {status}"));
            }
        }
        Ok(())
    }
}

/// Why the emulators cannot run here.
pub struct Unavailable(pub String);

/// Runs `"$@"` and stops it (TERM, then KILL after 10 s) as soon as its standard input closes:
/// when the suite closes it, and also when the suite dies in any way, since the kernel closes
/// the pipe then — so an emulator never outlives the test run.
const WATCHDOG: &str = r#"
exec 3<&0
"$@" <&- 3<&- &
child=$!
( cat <&3 >/dev/null; kill -TERM "$child" 2>/dev/null; sleep 10; kill -KILL "$child" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$child"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// An emulator under the [`WATCHDOG`] in its own process group, stopped when dropped.
struct Process {
    name: &'static str,
    child: Child,
    /// Closing it stops the emulator.
    lifeline: Option<std::process::ChildStdin>,
    log: PathBuf,
}

impl Process {
    fn spawn(
        name: &'static str,
        program: &str,
        args: Vec<String>,
        cwd: &std::path::Path,
        log: PathBuf,
    ) -> Result<Process, String> {
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new("sh");
        command
            .args(["-c", WATCHDOG, "watchdog", program])
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start the {name}: {e}"))?;
        let lifeline = child.stdin.take();
        Ok(Process {
            name,
            child,
            lifeline,
            log,
        })
    }

    /// The end of its output, for a failure message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Closes the lifeline and waits for the emulator to go; then ends whatever is left of its
    /// process group.
    fn stop(&mut self) {
        self.lifeline = None;
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.has_exited() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Google's Auth and Firestore emulators, started by the suite.
pub struct Emulators {
    auth: Process,
    firestore: Process,
    auth_port: u16,
    firestore_port: u16,
    _dir: tempfile::TempDir,
}

/// The repository root (the root package's folder).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The Firestore emulator jar: `$CLEOM_FIRESTORE_EMULATOR_JAR`, or the Debian package's.
fn firestore_jar() -> Result<PathBuf, Unavailable> {
    if let Some(path) = std::env::var_os("CLEOM_FIRESTORE_EMULATOR_JAR") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Unavailable(format!(
                "CLEOM_FIRESTORE_EMULATOR_JAR={} is not a file",
                path.display()
            )))
        };
    }
    let listed = Command::new("dpkg")
        .args(["-L", "google-cloud-cli-firestore-emulator"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    listed
        .lines()
        .map(PathBuf::from)
        .chain([PathBuf::from(DEBIAN_JAR)])
        .find(|p| p.extension().is_some_and(|e| e == "jar") && p.is_file())
        .ok_or_else(|| {
            Unavailable(
                "the Firestore emulator jar is missing (install the Debian package \
                 google-cloud-cli-firestore-emulator, or set CLEOM_FIRESTORE_EMULATOR_JAR)"
                    .into(),
            )
        })
}

/// firebase-tools' entry point, installed by `npm ci` in tests/emulators.
fn firebase_cli() -> Result<PathBuf, Unavailable> {
    let cli = repo_root().join("tests/emulators/node_modules/firebase-tools/lib/bin/firebase.js");
    if cli.is_file() {
        Ok(cli)
    } else {
        Err(Unavailable(
            "firebase-tools is not installed (run `npm ci` in tests/emulators)".into(),
        ))
    }
}

impl Emulators {
    /// Starts both emulators (without waiting for them: see [`Emulators::wait_ready`]), or says
    /// why they cannot run on this machine.
    pub fn start() -> Result<Emulators, Unavailable> {
        if !runs("java", "-version") {
            return Err(Unavailable(
                "Java is missing (the Firestore emulator needs Java 17+)".into(),
            ));
        }
        let jar = firestore_jar()?;
        if !runs("node", "--version") {
            return Err(Unavailable(
                "Node.js is missing (the Auth emulator needs it)".into(),
            ));
        }
        let cli = firebase_cli()?;
        let broken = |e: String| Unavailable(format!("the emulators could not be started: {e}"));
        let dir = tempfile::tempdir().map_err(|e| broken(e.to_string()))?;
        let [auth_port, hub_port, logging_port, firestore_port] = [(); 4]
            .map(|()| free_port())
            .into_iter()
            .collect::<Result<Vec<u16>, String>>()
            .map_err(broken)?
            .try_into()
            .map_err(|_| broken("no free ports".into()))?;

        // Only the Auth emulator runs under firebase-tools (its own Firestore emulator needs
        // Java 21 and a download); the hub and logging ports are set so nothing fixed is used.
        let config = serde_json::json!({ "emulators": {
            "auth": { "host": "127.0.0.1", "port": auth_port },
            "hub": { "host": "127.0.0.1", "port": hub_port },
            "logging": { "host": "127.0.0.1", "port": logging_port },
            "ui": { "enabled": false }
        }});
        let config_path = dir.path().join("firebase.json");
        std::fs::write(&config_path, config.to_string()).map_err(|e| broken(e.to_string()))?;
        let auth = Process::spawn(
            "Auth emulator",
            "node",
            vec![
                cli.display().to_string(),
                "emulators:start".into(),
                "--only".into(),
                "auth".into(),
                "--project".into(),
                PROJECT.into(),
                "--config".into(),
                config_path.display().to_string(),
            ],
            dir.path(),
            dir.path().join("auth.log"),
        )
        .map_err(broken)?;
        let firestore = Process::spawn(
            "Firestore emulator",
            "java",
            vec![
                "-cp".into(),
                jar.display().to_string(),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore".into(),
                "start".into(),
                "--host=127.0.0.1".into(),
                format!("--port={firestore_port}"),
                format!("--rules={}", repo_root().join("firestore.rules").display()),
                format!("--project_id={PROJECT}"),
                "--single_project_mode=true".into(),
            ],
            dir.path(),
            dir.path().join("firestore.log"),
        )
        .map_err(broken)?;
        Ok(Emulators {
            auth,
            firestore,
            auth_port,
            firestore_port,
            _dir: dir,
        })
    }

    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.auth_port)
    }

    pub fn firestore_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.firestore_port)
    }

    /// Waits until both answer HTTP; a failure names the emulator and shows its last output.
    pub async fn wait_ready(&mut self) -> Result<Duration, String> {
        let started = Instant::now();
        let firestore_url = self.firestore_url();
        wait_http(&mut self.firestore, &firestore_url, FIRESTORE_START_LIMIT).await?;
        let auth_url = self.auth_url();
        wait_http(&mut self.auth, &auth_url, AUTH_START_LIMIT).await?;
        Ok(started.elapsed())
    }

    pub fn stop(mut self) {
        self.auth.stop();
        self.firestore.stop();
    }
}

async fn wait_http(process: &mut Process, base: &str, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if raw_request(base, "GET", "/").await.is_ok() {
            return Ok(());
        }
        if process.has_exited() {
            return Err(format!(
                "the {} stopped while starting:\n{}",
                process.name,
                process.log_tail()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the {} did not answer within {limit:?}:\n{}",
                process.name,
                process.log_tail()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
