//! `cleom-local-backend --port N --data-dir DIR [--job-seconds S] [--admin-token T]`: the
//! embedded backend as a standalone process, for running the app or its tests against it from
//! outside.
//!
//! With `--auth-url URL --firestore-url URL --admin-token T` it serves only the Cleom API (and
//! media), in front of that Auth and Firestore — Google's emulators, whose admin token is
//! `owner` — keeping nothing but media in the data directory.
//!
//! Prints exactly one line to stdout, `listening on http://127.0.0.1:PORT`, once it accepts
//! requests (tests parse it); logs go to stderr (`RUST_LOG` filters them). Stops cleanly on
//! SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cleom_local_backend::{
    start, start_api, ApiConfig, BackendConfig, BackendError, RunningBackend,
};

const USAGE: &str = "usage: cleom-local-backend --port N --data-dir DIR [--job-seconds S] [--admin-token T]
       cleom-local-backend --port N --data-dir DIR [--job-seconds S] --admin-token T \
                           --auth-url URL --firestore-url URL     (the API alone, in front of them)";

/// What to run.
#[derive(Debug)]
enum Mode {
    /// All three surfaces.
    Embedded(BackendConfig),
    /// The Cleom API alone, in front of other Auth and Firestore servers.
    Api(ApiConfig),
}

impl Mode {
    async fn start(self) -> Result<RunningBackend, BackendError> {
        match self {
            Mode::Embedded(config) => start(config).await,
            Mode::Api(config) => start_api(config).await,
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Mode, String> {
    let mut port = None;
    let mut data_dir = None;
    let mut job_seconds = 3.0_f64;
    let mut admin_token = None;
    let mut auth_url = None;
    let mut firestore_url = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => {
                port = Some(
                    value()?
                        .parse::<u16>()
                        .map_err(|e| format!("--port: {e}"))?,
                )
            }
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--job-seconds" => {
                job_seconds = value()?
                    .parse::<f64>()
                    .map_err(|e| format!("--job-seconds: {e}"))?;
                if !(job_seconds.is_finite() && job_seconds >= 0.0) {
                    return Err("--job-seconds must be a non-negative number".into());
                }
            }
            "--admin-token" => admin_token = Some(value()?),
            "--auth-url" => auth_url = Some(value()?),
            "--firestore-url" => firestore_url = Some(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let data_dir = data_dir.ok_or("--data-dir is required")?;
    let port = port.unwrap_or(0);
    let job_duration = Duration::from_secs_f64(job_seconds);
    match (auth_url, firestore_url) {
        (None, None) => Ok(Mode::Embedded(BackendConfig {
            data_dir,
            port,
            job_duration,
            admin_token,
        })),
        (Some(auth_url), Some(firestore_url)) => Ok(Mode::Api(ApiConfig {
            data_dir,
            port,
            job_duration,
            auth_url,
            firestore_url,
            admin_token: admin_token.ok_or("--admin-token is required in front of other stores")?,
        })),
        _ => Err("--auth-url and --firestore-url go together".into()),
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mode = match parse_args(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let backend = match mode.start().await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("cannot start the local backend: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {}", backend.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Whoever started us is gone; keep serving anyway until told to stop.
        tracing::warn!("could not write the listening line to stdout");
    }
    drop(stdout);
    stop_signal().await;
    tracing::info!("stopping");
    backend.shutdown().await;
    ExitCode::SUCCESS
}
