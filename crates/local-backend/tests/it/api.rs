//! The Cleom API: pricing, charging exactly the estimate, idempotent retries, insufficient
//! credits, validation, cancel and delete.

use std::time::Duration;

use cleom_core::model::{Generation, Mode, Settings, Status};
use cleom_core::pricing::PricingTable;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{generation_request, Harness};

#[tokio::test]
async fn pricing_is_the_core_table_and_needs_no_sign_in() {
    let h = Harness::start().await;
    let (status, body) = h.call(Method::GET, "/api/v1/pricing", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let table: PricingTable = serde_json::from_value(body).unwrap();
    assert_eq!(table, PricingTable::local_default());
    h.shutdown().await;
}

#[tokio::test]
async fn creating_a_generation_charges_exactly_the_estimate_with_a_ledger_entry() {
    let h = Harness::start_with(Duration::from_secs(30)).await;
    let me = h.sign_up("buyer@example.com").await;
    let request = json!({
        "id": "gen-1",
        "prompt": "a paper boat in a storm",
        "settings": { "durationSeconds": 12, "resolution": "2k", "aspectRatio": "9:16", "stylePreset": "Anime",
                      "voiceOver": { "language": "en", "voice": "warm", "script": null }, "music": true, "subtitles": true },
        "references": [{ "name": "boat.png", "kind": "image", "sizeBytes": 1234 }]
    });
    let settings: Settings = serde_json::from_value(request["settings"].clone()).unwrap();
    let cost = PricingTable::local_default()
        .estimate(Mode::ImageToVideo, &settings)
        .unwrap()
        .total;
    assert_eq!(cost, 12 * (70 + 20 + 5 + 10 + 5 + 2));

    let (status, body) = h.create_generation(&me.id_token, request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let generation: Generation = serde_json::from_value(body).unwrap();
    assert_eq!(generation.id, "gen-1");
    assert_eq!(generation.status, Status::Queued);
    assert_eq!(generation.mode, Mode::ImageToVideo);
    assert_eq!(generation.credits_charged, cost);
    assert_eq!(generation.settings, settings);
    assert_eq!(generation.progress, 0.0);
    assert!(!generation.deleted);
    assert_eq!(generation.created_at, generation.updated_at);
    assert_eq!(h.balance(&me).await, 2000 - cost);

    let charges: Vec<Value> = h
        .ledger(&me)
        .await
        .into_iter()
        .filter(|e| e["fields"]["reason"]["stringValue"] == "generation")
        .collect();
    assert_eq!(charges.len(), 1);
    let entry = &charges[0]["fields"];
    assert_eq!(entry["amount"]["integerValue"], (-cost).to_string());
    assert_eq!(entry["generationId"]["stringValue"], "gen-1");
    assert_eq!(
        entry["balanceAfter"]["integerValue"],
        (2000 - cost).to_string()
    );

    // The Firestore document has the contract's fields and types.
    let (status, doc) = h
        .get_doc(&me.id_token, &format!("users/{}/generations/gen-1", me.uid))
        .await;
    assert_eq!(status, StatusCode::OK);
    let f = &doc["fields"];
    assert_eq!(f["status"]["stringValue"], "queued");
    assert_eq!(f["mode"]["stringValue"], "image_to_video");
    assert_eq!(f["creditsCharged"]["integerValue"], cost.to_string());
    assert!(f["progress"].get("doubleValue").is_some());
    assert_eq!(
        f["settings"]["mapValue"]["fields"]["durationSeconds"]["integerValue"],
        "12"
    );
    assert_eq!(
        f["references"]["arrayValue"]["values"][0]["mapValue"]["fields"]["sizeBytes"]
            ["integerValue"],
        "1234"
    );
    assert_eq!(f["outputUrl"], json!({ "nullValue": null }));
    assert_eq!(f["deleted"]["booleanValue"], false);
    assert_eq!(f["deletedAt"], json!({ "nullValue": null }));
    assert!(f["createdAt"].get("timestampValue").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn a_retried_request_is_not_charged_twice_and_a_reused_id_conflicts() {
    let h = Harness::start_with(Duration::from_secs(30)).await;
    let me = h.sign_up("retry@example.com").await;
    let request = generation_request("same-id", "a lighthouse");
    let (status, first) = h.create_generation(&me.id_token, request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, second) = h.create_generation(&me.id_token, request).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(first, second);
    assert_eq!(h.balance(&me).await, 2000 - 700);
    assert_eq!(h.ledger(&me).await.len(), 2, "the grant and one charge");

    let (status, body) = h
        .create_generation(
            &me.id_token,
            generation_request("same-id", "a different prompt"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "ID_CONFLICT");
    assert_eq!(h.balance(&me).await, 2000 - 700);
    h.shutdown().await;
}

#[tokio::test]
async fn insufficient_credits_is_402_and_changes_nothing() {
    let h = Harness::start().await;
    let me = h.sign_up("poor@example.com").await;
    let request = json!({
        "id": "too-big",
        "prompt": "an epic",
        "settings": { "durationSeconds": 60, "resolution": "4k", "music": true },
        "references": []
    });
    let (status, body) = h.create_generation(&me.id_token, request).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(body["error"]["code"], "INSUFFICIENT_CREDITS");
    assert!(body["error"]["message"].as_str().unwrap().contains("7200"));
    assert_eq!(h.balance(&me).await, 2000);
    assert_eq!(h.ledger(&me).await.len(), 1);
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/generations/too-big",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_are_rejected_with_their_codes() {
    let h = Harness::start().await;
    let me = h.sign_up("sloppy@example.com").await;
    let cases = [
        (generation_request("a", "   "), "INVALID_PROMPT"),
        (generation_request("a", &"x".repeat(4001)), "INVALID_PROMPT"),
        (
            json!({ "id": "a", "prompt": "p", "settings": { "durationSeconds": 3, "resolution": "1080p" } }),
            "INVALID_SETTINGS",
        ),
        (
            json!({ "id": "a", "prompt": "p", "settings": { "durationSeconds": 10, "resolution": "8k" } }),
            "INVALID_SETTINGS",
        ),
        (
            json!({ "id": "a", "prompt": "p", "settings": { "durationSeconds": 10, "resolution": "1080p", "stylePreset": "Baroque" } }),
            "INVALID_SETTINGS",
        ),
        (
            json!({ "id": "a", "prompt": "p", "settings": { "durationSeconds": 10, "resolution": "1080p" },
                    "references": [{ "name": "v", "kind": "video", "sizeBytes": 1 }, { "name": "i", "kind": "image", "sizeBytes": 1 }] }),
            "INVALID_SETTINGS",
        ),
        (generation_request("has/slash", "p"), "INVALID_ARGUMENT"),
        (json!({ "prompt": "no id" }), "INVALID_ARGUMENT"),
    ];
    for (request, code) in cases {
        let (status, body) = h.create_generation(&me.id_token, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request} → {body}");
        assert_eq!(body["error"]["code"], code, "{request}");
    }
    let (status, body) = h
        .raw_post("/api/v1/generations", Some(&me.id_token), "{\"id\": ")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "INVALID_ARGUMENT");

    let (status, body) = h
        .create_generation("forged-token", generation_request("b", "p"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    let (status, _) = h
        .call(
            Method::POST,
            "/api/v1/generations",
            None,
            Some(generation_request("b", "p")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.balance(&me).await, 2000);
    h.shutdown().await;
}

#[tokio::test]
async fn cancel_refunds_and_only_works_while_active() {
    let h = Harness::start_with(Duration::from_secs(30)).await;
    let me = h.sign_up("changed-mind@example.com").await;
    h.create_generation(&me.id_token, generation_request("c1", "a slow sunset"))
        .await;
    assert_eq!(h.balance(&me).await, 1300);
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/generations/c1:cancel",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "canceled");
    assert_eq!(h.balance(&me).await, 2000);
    let refunds: Vec<Value> = h
        .ledger(&me)
        .await
        .into_iter()
        .filter(|e| e["fields"]["reason"]["stringValue"] == "refund")
        .collect();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["fields"]["amount"]["integerValue"], "700");
    assert_eq!(refunds[0]["fields"]["balanceAfter"]["integerValue"], "2000");

    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/generations/c1:cancel",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "NOT_CANCELABLE");
    assert_eq!(h.balance(&me).await, 2000, "no second refund");
    let (status, body) = h
        .call(
            Method::POST,
            "/api/v1/generations/nope:cancel",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");

    // Another user cannot see or cancel it.
    let other = h.sign_up("nosy@example.com").await;
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/generations/c1",
            Some(&other.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn deleting_a_generation_leaves_a_tombstone_and_removes_its_media() {
    let h = Harness::start().await;
    let me = h.sign_up("tidy@example.com").await;
    h.create_generation(&me.id_token, generation_request("d1", "a tidy room"))
        .await;
    let done = h
        .wait_for(&me.id_token, "d1", |g| g["status"] == "succeeded")
        .await;
    let poster = done["thumbnailUrl"].as_str().unwrap().to_string();
    assert_eq!(h.download(&poster, None).await.0, StatusCode::OK);

    let (status, body) = h
        .call(
            Method::DELETE,
            "/api/v1/generations/d1",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (_, tombstone) = h
        .call(
            Method::GET,
            "/api/v1/generations/d1",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(tombstone["deleted"], true);
    assert!(tombstone["deletedAt"].is_string());
    assert!(tombstone["updatedAt"].as_str().unwrap() > done["updatedAt"].as_str().unwrap());
    assert_eq!(h.download(&poster, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        h.balance(&me).await,
        1300,
        "a finished generation is not refunded on delete"
    );

    let (status, _) = h
        .call(
            Method::DELETE,
            "/api/v1/generations/d1",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "deleting twice is fine");
    let (status, _) = h
        .call(
            Method::DELETE,
            "/api/v1/generations/never",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn request_count_counts_every_request() {
    let h = Harness::start().await;
    let before = h.backend().request_count();
    for _ in 0..3 {
        h.call(Method::GET, "/api/v1/pricing", None, None).await;
    }
    h.call(Method::GET, "/no/such/route", None, None).await;
    assert_eq!(h.backend().request_count(), before + 4);
    h.shutdown().await;
}

#[tokio::test]
async fn analytics_reports_kept_stay_within_their_count_and_byte_bounds() {
    use cleom_local_backend::{ANALYTICS_KEPT_BYTES, ANALYTICS_KEPT_REPORTS};
    let h = Harness::start().await;
    let url = format!("{}/api/v1/analytics", h.base);
    for i in 0..1_000 {
        // ~600 bytes each, so the 1,000 of them exceed the byte bound too.
        let report =
            json!({ "appVersion": format!("{i}-{}", "x".repeat(560)), "counts": { "search": i } });
        let response = h.http.post(&url).json(&report).send().await.expect("post");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let kept = h.backend().analytics_reports();
    let bytes: usize = kept.iter().map(|r| r.to_string().len()).sum();
    assert!(
        kept.len() <= ANALYTICS_KEPT_REPORTS,
        "{} reports kept",
        kept.len()
    );
    assert!(bytes <= ANALYTICS_KEPT_BYTES, "{bytes} bytes kept");
    // The oldest are dropped: the newest is still there.
    assert_eq!(kept.last().expect("some kept")["counts"]["search"], 999);

    let too_big = json!({ "appVersion": "x".repeat(8 * 1024), "counts": {} });
    let response = h.http.post(&url).json(&too_big).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_foreign_host_or_origin_is_refused_so_a_rebinding_page_cannot_read_answers() {
    let h = Harness::start().await;
    let port = h.backend().addr().port();
    let url = format!("{}/api/v1/pricing", h.base);
    let get = |host: Option<String>, origin: Option<&str>| {
        let mut request = h.http.get(&url);
        if let Some(host) = host {
            request = request.header(reqwest::header::HOST, host);
        }
        if let Some(origin) = origin {
            request = request.header(reqwest::header::ORIGIN, origin);
        }
        async move { request.send().await.expect("send").status() }
    };
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        assert_eq!(
            get(Some(host.clone()), None).await,
            StatusCode::MISDIRECTED_REQUEST,
            "{host}"
        );
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        assert_eq!(
            get(Some(host.clone()), None).await,
            StatusCode::OK,
            "{host}"
        );
    }
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        assert_eq!(
            get(None, Some(origin)).await,
            StatusCode::FORBIDDEN,
            "{origin}"
        );
    }
    for origin in [
        "tauri://localhost",
        "http://tauri.localhost",
        "https://tauri.localhost",
    ] {
        assert_eq!(get(None, Some(origin)).await, StatusCode::OK, "{origin}");
    }
}
