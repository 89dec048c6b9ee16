//! The `cleom-local-backend` binary: announces its address on one stdout line, serves, and
//! stops cleanly on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cleom-local-backend"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--job-seconds", "0.3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let pricing = reqwest::get(format!("{base}/api/v1/pricing"))
        .await
        .unwrap();
    assert_eq!(pricing.status(), reqwest::StatusCode::OK);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the backend did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(dir.path().join("data/backend.sqlite3").exists());
}

#[test]
fn the_binary_rejects_bad_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_cleom-local-backend"))
        .args(["--port", "nope"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}
