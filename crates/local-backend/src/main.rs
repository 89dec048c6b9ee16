//! `cleom-local-backend --port N --data-dir DIR [--job-seconds S] [--admin-token T]`: the
//! embedded backend as a
//! standalone process, for running the app or its tests against it from outside.
//!
//! Prints exactly one line to stdout, `listening on http://127.0.0.1:PORT`, once it accepts
//! requests (tests parse it); logs go to stderr (`RUST_LOG` filters them). Stops cleanly on
//! SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cleom_local_backend::{start, BackendConfig};

const USAGE: &str =
    "usage: cleom-local-backend --port N --data-dir DIR [--job-seconds S] [--admin-token T]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<BackendConfig, String> {
    let mut port = None;
    let mut data_dir = None;
    let mut job_seconds = 3.0_f64;
    let mut admin_token = None;
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
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let data_dir = data_dir.ok_or("--data-dir is required")?;
    Ok(BackendConfig {
        data_dir,
        port: port.unwrap_or(0),
        job_duration: Duration::from_secs_f64(job_seconds),
        admin_token,
    })
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
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let backend = match start(config).await {
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
