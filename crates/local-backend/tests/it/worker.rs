//! The generation worker: progress to success with real media, failure with a refund, and
//! resuming after a restart.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{generation_request, Harness, FAST_JOBS};

#[tokio::test]
async fn a_generation_runs_to_success_with_a_real_png_and_an_animated_gif() {
    let h = Harness::start().await;
    let me = h.sign_up("maker@example.com").await;
    let (status, _) = h
        .create_generation(&me.id_token, generation_request("w1", "a red fox in snow"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let done = h
        .wait_for(&me.id_token, "w1", |g| g["status"] == "succeeded")
        .await;
    assert_eq!(done["progress"], 1.0);
    assert!(done["error"].is_null());
    let output = done["outputUrl"].as_str().unwrap();
    let poster = done["thumbnailUrl"].as_str().unwrap();
    // Root-relative: a document never names the port the backend happened to listen on.
    assert!(output.starts_with("/api/v1/media/") && output.ends_with("/clip.gif"));
    assert!(poster.ends_with("/poster.png"));

    let (status, headers, png_bytes) = h.download(poster, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png_bytes[12..16], b"IHDR");
    let info = png::Decoder::new(std::io::Cursor::new(png_bytes.clone()))
        .read_info()
        .unwrap();
    assert_eq!((info.info().width, info.info().height), (320, 180));

    let (status, headers, gif_bytes) = h.download(output, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/gif");
    assert_eq!(&gif_bytes[..6], b"GIF89a");
    let mut decoder = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(gif_bytes.clone()))
        .unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert!(frames > 1, "an animated clip, got {frames} frame(s)");

    // Range requests, for resumable downloads and video players.
    let (status, headers, tail) = h.download(output, Some("bytes=100-")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail, gif_bytes[100..]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 100-{}/{}", gif_bytes.len() - 1, gif_bytes.len())
    );
    let (status, _, _) = h
        .download(output, Some(&format!("bytes={}-", gif_bytes.len())))
        .await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);

    // The same prompt always gives the same poster.
    h.create_generation(&me.id_token, generation_request("w2", "a red fox in snow"))
        .await;
    let again = h
        .wait_for(&me.id_token, "w2", |g| g["status"] == "succeeded")
        .await;
    let (_, _, again_png) = h
        .download(again["thumbnailUrl"].as_str().unwrap(), None)
        .await;
    assert_eq!(again_png, png_bytes);

    let (status, _, _) = h
        .download(
            &format!("/api/v1/media/{}/poster.png", "x".repeat(48)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = h
        .download("/api/v1/media/..%2F..%2Fbackend.sqlite3/poster.png", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn progress_moves_through_running_with_increasing_update_times() {
    let h = Harness::start_with(Duration::from_millis(1000)).await;
    let me = h.sign_up("watcher@example.com").await;
    h.create_generation(&me.id_token, generation_request("p1", "a ticking clock"))
        .await;
    let mut observed: Vec<(String, f64, String)> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, g) = h
            .call(
                reqwest::Method::GET,
                "/api/v1/generations/p1",
                Some(&me.id_token),
                None,
            )
            .await;
        let entry = (
            g["status"].as_str().unwrap().to_string(),
            g["progress"].as_f64().unwrap(),
            g["updatedAt"].as_str().unwrap().to_string(),
        );
        if observed.last() != Some(&entry) {
            observed.push(entry);
        }
        if g["status"] == "succeeded" || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses: Vec<&str> = observed.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(statuses.first(), Some(&"queued"));
    assert_eq!(statuses.last(), Some(&"succeeded"));
    assert!(statuses.contains(&"running"), "{observed:?}");
    assert!(observed.len() >= 4, "several progress steps: {observed:?}");
    for pair in observed.windows(2) {
        assert!(
            pair[1].1 >= pair[0].1,
            "progress never goes back: {observed:?}"
        );
        assert!(
            pair[1].2 > pair[0].2,
            "updatedAt strictly increases: {observed:?}"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn when_media_cannot_be_written_the_generation_fails_and_is_refunded() {
    let h = Harness::start().await;
    let me = h.sign_up("unlucky@example.com").await;
    // A file where the media folder should be makes every media write fail.
    let media = h.data_dir().join("media");
    let _ = std::fs::remove_dir_all(&media);
    std::fs::write(&media, b"not a folder").unwrap();

    h.create_generation(&me.id_token, generation_request("f1", "a doomed idea"))
        .await;
    let failed = h
        .wait_for(&me.id_token, "f1", |g| g["status"] == "failed")
        .await;
    assert!(!failed["error"].as_str().unwrap().is_empty());
    assert!(failed["outputUrl"].is_null());
    assert_eq!(h.balance(&me).await, 2000);
    let reasons: Vec<String> = h
        .ledger(&me)
        .await
        .iter()
        .map(|e| {
            e["fields"]["reason"]["stringValue"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| *r == "refund").count(),
        1,
        "{reasons:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn jobs_resume_after_a_restart() {
    let mut h = Harness::start_with(Duration::from_secs(60)).await;
    let me = h.sign_up("patient@example.com").await;
    h.create_generation(&me.id_token, generation_request("r1", "a long exposure"))
        .await;
    h.restart(FAST_JOBS).await;
    // Sessions survive the restart too.
    let done = h
        .wait_for(&me.id_token, "r1", |g| g["status"] == "succeeded")
        .await;
    assert!(done["outputUrl"]
        .as_str()
        .unwrap()
        .starts_with("/api/v1/media/"));
    assert_eq!(
        h.balance(&me).await,
        1300,
        "charged once, across the restart"
    );
    h.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_database_and_media_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::start().await;
    let me = h.sign_up("private@example.com").await;
    h.create_generation(&me.id_token, generation_request("m1", "a locked diary"))
        .await;
    h.wait_for(&me.id_token, "m1", |g| g["status"] == "succeeded")
        .await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let data = h.data_dir();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("media")), 0o700);
    for file in crate::common::files_under(&data) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        assert_eq!(mode(file.parent().unwrap()), 0o700, "{}", file.display());
    }
    assert!(data.join("backend.sqlite3-wal").exists(), "WAL mode");
    h.shutdown().await;
}
