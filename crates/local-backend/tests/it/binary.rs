//! The `cleom-local-backend` binary: announces its address on one stdout line, serves, and
//! stops cleanly on SIGTERM.

use std::process::Command;

// What the SIGTERM test uses; it runs on Unix only.
#[cfg(unix)]
use {
    serde_json::{json, Value},
    std::io::{BufRead as _, BufReader},
    std::process::Stdio,
    std::time::{Duration, Instant},
};

#[cfg(unix)]
#[tokio::test]
async fn the_binary_prints_its_address_serves_and_stops_on_sigterm_without_logging_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cleom-local-backend"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--job-seconds", "0.3"])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
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

    // Exercise every kind of secret: password, ID and refresh tokens, a media token.
    // Loopback, never through a proxy the environment names.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let password = "hunter2-very-secret";
    let session: Value = http
        .post(format!("{base}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=api-key-123"))
        .json(&json!({ "email": "logs@example.com", "password": password, "returnSecureToken": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = session["idToken"].as_str().unwrap().to_string();
    let refresh_token = session["refreshToken"].as_str().unwrap().to_string();
    let created = http
        .post(format!("{base}/api/v1/generations"))
        .bearer_auth(&id_token)
        .json(&json!({ "id": "log-1", "prompt": "p", "settings": { "durationSeconds": 5, "resolution": "1080p" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    let output_url = loop {
        let g: Value = http
            .get(format!("{base}/api/v1/generations/log-1"))
            .bearer_auth(&id_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if g["status"] == "succeeded" {
            break g["outputUrl"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "{g}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        http.get(format!("{base}{output_url}"))
            .send()
            .await
            .unwrap()
            .status(),
        reqwest::StatusCode::OK
    );
    let media_token = output_url.rsplit('/').nth(1).unwrap().to_string();

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

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("request"), "debug logging was on: {log}");
    for secret in [
        password,
        &id_token,
        &refresh_token,
        &media_token,
        "api-key-123",
    ] {
        assert!(!log.contains(secret), "the log holds a secret");
    }
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
