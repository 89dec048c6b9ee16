//! Deleting an account removes everything of it — documents, media, the Auth user, sessions —
//! down to the bytes of the database file, and nothing of anyone else.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{
    contains, files_under, generation_request, Harness, ADMIN, DOCUMENT_NAME_PREFIX, PASSWORD,
};

const EMAIL: &str = "cascade-7731@example.com";
const PROMPT: &str = "zebra quokka 7731 over a neon lagoon";

#[tokio::test]
async fn account_deletion_leaves_nothing_of_the_user_behind() {
    let h = Harness::start().await;
    let me = h.sign_up(EMAIL).await;
    assert_eq!(me.email, EMAIL);
    let bystander = h.sign_up("bystander-7731@example.com").await;
    h.create_generation(&me.id_token, generation_request("g1", PROMPT))
        .await;
    let done = h
        .wait_for(&me.id_token, "g1", |g| g["status"] == "succeeded")
        .await;
    let clip = done["outputUrl"].as_str().unwrap().to_string();
    h.create_generation(
        &me.id_token,
        generation_request("g2", &format!("{PROMPT} again")),
    )
    .await;
    h.create_generation(
        &bystander.id_token,
        generation_request("b1", "the bystander's own prompt"),
    )
    .await;
    // A purchase, written server-side.
    let (status, _) = h
        .commit(
            ADMIN,
            json!([{ "update": {
                "name": format!("{DOCUMENT_NAME_PREFIX}users/{}/purchases/p1", me.uid),
                "fields": { "credits": { "integerValue": "1000" }, "amountCents": { "integerValue": "999" },
                            "currency": { "stringValue": "EUR" } } } }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = h
        .call(Method::DELETE, "/api/v1/account", Some(&me.id_token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let removed = &body["removed"];
    assert_eq!(removed["generations"], 2);
    assert_eq!(removed["ledgerEntries"], 3, "the grant and two charges");
    assert_eq!(removed["purchases"], 1);
    // g1's two files, and g2's too if its (300 ms) job happened to finish first.
    let media_files = removed["mediaFiles"].as_u64().unwrap();
    assert!(media_files == 2 || media_files == 4, "{removed}");
    assert_eq!(removed["authUser"], true);

    // On disk, right away (the WAL was emptied too).
    assert_no_trace(&h.data_dir());

    // Through every surface: gone.
    let (status, _) = h.get_doc(ADMIN, &format!("users/{}", me.uid)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for collection in ["generations", "creditLedger", "purchases"] {
        assert!(
            h.list(ADMIN, &format!("users/{}", me.uid), collection)
                .await
                .is_empty(),
            "{collection}"
        );
    }
    let (status, body) = h
        .call(
            Method::GET,
            "/api/v1/generations/g1",
            Some(&me.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, body) = h
        .auth(
            "signInWithPassword",
            json!({ "email": EMAIL, "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["error"]["message"], "INVALID_LOGIN_CREDENTIALS");
    let (status, _) = h
        .call(
            Method::POST,
            "/securetoken.googleapis.com/v1/token",
            None,
            Some(json!({ "grant_type": "refresh_token", "refresh_token": me.refresh_token })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(h.download(&clip, None).await.0, StatusCode::NOT_FOUND);

    // The bystander is untouched.
    assert_eq!(h.balance(&bystander).await, 1300);
    let (status, _) = h
        .call(
            Method::GET,
            "/api/v1/generations/b1",
            Some(&bystander.id_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Once the bystander's job is done, only its two files are left; then the raw bytes.
    h.wait_for(&bystander.id_token, "b1", |g| g["status"] == "succeeded")
        .await;
    assert_eq!(files_under(&h.data_dir().join("media")).len(), 2);
    let data_dir = h.data_dir();
    let _kept = h.stop_keeping_data().await;
    assert_no_trace(&data_dir);
    let bystander_left = files_under(&data_dir)
        .iter()
        .any(|f| contains(&read_unless_gone(f), b"bystander-7731@example.com"));
    assert!(bystander_left, "the scan does see live data");
}

/// Fails if any file under `dir` holds the deleted user's email or prompt.
fn assert_no_trace(dir: &std::path::Path) {
    let mut scanned = 0;
    for file in files_under(dir) {
        let bytes = read_unless_gone(&file);
        scanned += bytes.len();
        for needle in [EMAIL.as_bytes(), PROMPT.as_bytes(), b"zebra quokka 7731"] {
            assert!(
                !contains(&bytes, needle),
                "{} still holds {:?}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(scanned > 0, "nothing was scanned");
}

/// A file's bytes; none if it was removed since it was listed, as SQLite's `-wal` and `-shm`
/// files are when its connection closes (seen once in a full run, just after the backend
/// stopped): a file that is gone holds no trace.
fn read_unless_gone(file: &std::path::Path) -> Vec<u8> {
    match std::fs::read(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        read => read.unwrap_or_else(|e| panic!("{}: {e}", file.display())),
    }
}
