//! Firestore REST: owner-only rules, server-only fields, writes and preconditions, typed values,
//! and the incremental-sync query paged with cursors.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Harness, ADMIN, DOCUMENTS, DOCUMENT_NAME_PREFIX, FAST_JOBS};

fn name(path: &str) -> String {
    format!("{DOCUMENT_NAME_PREFIX}{path}")
}

#[tokio::test]
async fn users_reach_only_their_own_documents() {
    let h = Harness::start().await;
    let me = h.sign_up("me@example.com").await;
    let other = h.sign_up("other@example.com").await;
    let theirs = format!("users/{}", other.uid);

    let (status, body) = h.get_doc(&me.id_token, &theirs).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        json!({ "code": 403, "message": "Missing or insufficient permissions.", "status": "PERMISSION_DENIED" })
    );
    let (status, _) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/{theirs}?updateMask.fieldPaths=displayName"),
            Some(&me.id_token),
            Some(json!({ "fields": { "displayName": { "stringValue": "pwned" } } })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .run_query(
            &me.id_token,
            &theirs,
            json!({ "from": [{ "collectionId": "generations" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .run_query(
            &me.id_token,
            "",
            json!({ "from": [{ "collectionId": "users" }] }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "listing all users is admin-only"
    );

    let (status, _) = h
        .call(
            Method::GET,
            &format!("{DOCUMENTS}/users/{}", me.uid),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token, no access");
    let (status, body) = h.get_doc("not-a-token", &format!("users/{}", me.uid)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");

    let (status, _) = h
        .get_doc(&me.id_token, &format!("users/{}/generations/none", me.uid))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.get_doc(ADMIN, &theirs).await;
    assert_eq!(status, StatusCode::OK, "the admin token reads anything");
    h.shutdown().await;
}

#[tokio::test]
async fn without_a_configured_admin_token_owner_is_just_a_bad_token() {
    let h = Harness::start_config(FAST_JOBS, None).await;
    let me = h.sign_up("embedded@example.com").await;
    let (status, _) = h.get_doc(ADMIN, &format!("users/{}", me.uid)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h.get_doc(&me.id_token, &format!("users/{}", me.uid)).await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn clients_cannot_write_credits_or_server_documents() {
    let h = Harness::start().await;
    let me = h.sign_up("greedy@example.com").await;
    let profile = format!("users/{}", me.uid);

    let (status, _) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/{profile}?updateMask.fieldPaths=creditBalance"),
            Some(&me.id_token),
            Some(json!({ "fields": { "creditBalance": { "integerValue": "1000000" } } })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let forbidden_writes = [
        json!([{ "update": { "name": name(&profile), "fields": { "creditBalance": { "integerValue": "9" } } },
                 "updateMask": { "fieldPaths": ["creditBalance"] } }]),
        json!([{ "update": { "name": name(&profile), "fields": { "email": { "stringValue": "x@y.z" } } },
                 "updateMask": { "fieldPaths": ["email"] } }]),
        json!([{ "update": { "name": name(&format!("{profile}/creditLedger/free")),
                             "fields": { "amount": { "integerValue": "5000" } } } }]),
        json!([{ "update": { "name": name(&format!("{profile}/generations/g")),
                             "fields": { "deleted": { "booleanValue": true } } } }]),
        json!([{ "delete": name(&profile) }]),
    ];
    for writes in forbidden_writes {
        let (status, body) = h.commit(&me.id_token, writes.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{writes} → {body}");
        assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
    }
    assert_eq!(h.balance(&me).await, 2000);
    assert_eq!(h.ledger(&me).await.len(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn clients_edit_their_profile_with_the_request_time_transform() {
    let h = Harness::start().await;
    let me = h.sign_up("editor@example.com").await;
    let profile = format!("users/{}", me.uid);
    let (status, body) = h
        .commit(
            &me.id_token,
            json!([{
                "update": { "name": name(&profile), "fields": {
                    "displayName": { "stringValue": "Ada" }, "analyticsOptIn": { "booleanValue": true } } },
                "updateMask": { "fieldPaths": ["displayName", "analyticsOptIn"] },
                "updateTransforms": [{ "fieldPath": "updatedAt", "setToServerValue": "REQUEST_TIME" }],
                "currentDocument": { "exists": true }
            }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let commit_time = body["commitTime"].as_str().unwrap();
    assert_eq!(body["writeResults"][0]["updateTime"], commit_time);
    assert_eq!(
        body["writeResults"][0]["transformResults"][0]["timestampValue"],
        commit_time
    );

    let (_, doc) = h.get_doc(&me.id_token, &profile).await;
    assert_eq!(doc["fields"]["displayName"]["stringValue"], "Ada");
    assert_eq!(doc["fields"]["analyticsOptIn"]["booleanValue"], true);
    assert_eq!(doc["fields"]["updatedAt"]["timestampValue"], commit_time);
    assert_eq!(
        doc["fields"]["creditBalance"]["integerValue"], "2000",
        "unmasked fields are kept"
    );

    // A made-up updatedAt would break other devices' sync cursors.
    let (status, _) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/{profile}?updateMask.fieldPaths=updatedAt"),
            Some(&me.id_token),
            Some(
                json!({ "fields": { "updatedAt": { "timestampValue": "2001-01-01T00:00:00Z" } } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, doc) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/{profile}?updateMask.fieldPaths=displayName&currentDocument.exists=true"),
            Some(&me.id_token),
            Some(json!({ "fields": { "displayName": { "nullValue": null } } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["name"], name(&profile));
    assert_eq!(doc["fields"]["displayName"], json!({ "nullValue": null }));
    h.shutdown().await;
}

#[tokio::test]
async fn preconditions_fail_whole_commits() {
    let h = Harness::start().await;
    let missing = "things/missing";
    let (status, body) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/{missing}?currentDocument.exists=true"),
            Some(ADMIN),
            Some(json!({ "fields": {} })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["status"], "NOT_FOUND");

    let (status, created) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/things/a"),
            Some(ADMIN),
            Some(json!({ "fields": { "n": { "integerValue": "1" } } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = h
        .commit(ADMIN, json!([{ "update": { "name": name("things/a"), "fields": {} }, "currentDocument": { "exists": false } }]))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["status"], "ALREADY_EXISTS");
    let (status, body) = h
        .commit(
            ADMIN,
            json!([{ "update": { "name": name("things/a"), "fields": {} },
                     "currentDocument": { "updateTime": "2000-01-01T00:00:00Z" } }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["status"], "FAILED_PRECONDITION");
    let (status, _) = h
        .commit(
            ADMIN,
            json!([{ "update": { "name": name("things/a"), "fields": { "n": { "integerValue": "2" } } },
                     "currentDocument": { "updateTime": created["updateTime"] } }]),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the matching updateTime is accepted"
    );

    // Atomic: the first write must not survive the second one's failure.
    let (status, _) = h
        .commit(
            ADMIN,
            json!([
                { "update": { "name": name("things/b"), "fields": {} } },
                { "update": { "name": name(missing), "fields": {} }, "currentDocument": { "exists": true } }
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.get_doc(ADMIN, "things/b").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = h
        .call(
            Method::DELETE,
            &format!("{DOCUMENTS}/things/a"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, _) = h.get_doc(ADMIN, "things/a").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn typed_values_round_trip() {
    let h = Harness::start().await;
    let fields = json!({
        "s": { "stringValue": "héllo" },
        "i": { "integerValue": "-9007199254740993" },
        "d": { "doubleValue": 2.5 },
        "b": { "booleanValue": true },
        "n": { "nullValue": null },
        "t": { "timestampValue": "2024-02-29T12:00:00.123456Z" },
        "y": { "bytesValue": "AAEC/w==" },
        "r": { "referenceValue": name("users/x") },
        "m": { "mapValue": { "fields": { "inner": { "arrayValue": { "values": [{ "integerValue": "1" }, { "stringValue": "two" }] } } } } },
        "e": { "arrayValue": {} }
    });
    let (status, written) = h
        .call(
            Method::PATCH,
            &format!("{DOCUMENTS}/types/all"),
            Some(ADMIN),
            Some(json!({ "fields": fields })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{written}");
    let (_, read) = h.get_doc(ADMIN, "types/all").await;
    assert_eq!(read["fields"], fields);
    assert_eq!(read["createTime"], written["createTime"]);

    let (status, masked) = h
        .call(
            Method::GET,
            &format!("{DOCUMENTS}/types/all?mask.fieldPaths=s&mask.fieldPaths=m.inner"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(masked["fields"].as_object().unwrap().len(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_are_invalid_arguments() {
    let h = Harness::start().await;
    let (status, body) = h
        .raw_post(
            &format!("{DOCUMENTS}:commit"),
            Some(ADMIN),
            "{\"writes\": [",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    let (status, _) = h
        .commit(ADMIN, json!([{ "update": { "name": name("a/b"), "fields": { "x": { "integerValue": "one" } } } }]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .commit(
            ADMIN,
            json!([{ "update": { "name": name("odd"), "fields": {} } }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h.commit(ADMIN, json!([{ "frobnicate": true }])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .run_query(
            ADMIN,
            "",
            json!({ "from": [{ "collectionId": "a" }], "limit": "ten" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .call(
            Method::GET,
            "/v1/projects/demo-cleom/databases/other/documents/a/b",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

/// Seeds `count` documents in one commit (so they share one `updatedAt`).
async fn seed_batch(h: &Harness, parent: &str, first: usize, count: usize) {
    let writes: Vec<Value> = (first..first + count)
        .map(|i| {
            json!({
                "update": { "name": name(&format!("{parent}/generations/g{i:03}")),
                            "fields": { "prompt": { "stringValue": format!("prompt {i}") } } },
                "updateTransforms": [{ "fieldPath": "updatedAt", "setToServerValue": "REQUEST_TIME" }]
            })
        })
        .collect();
    let (status, body) = h.commit(ADMIN, Value::Array(writes)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn sync_query(cursor: &str, after: Option<(&Value, &Value)>, limit: usize) -> Value {
    let mut query = json!({
        "from": [{ "collectionId": "generations" }],
        "where": { "fieldFilter": { "field": { "fieldPath": "updatedAt" }, "op": "GREATER_THAN_OR_EQUAL",
                                    "value": { "timestampValue": cursor } } },
        "orderBy": [{ "field": { "fieldPath": "updatedAt" }, "direction": "ASCENDING" },
                    { "field": { "fieldPath": "__name__" }, "direction": "ASCENDING" }],
        "limit": limit
    });
    if let Some((updated_at, name)) = after {
        query["startAt"] =
            json!({ "values": [updated_at, { "referenceValue": name }], "before": false });
    }
    query
}

#[tokio::test]
async fn paging_by_updated_at_with_start_at_returns_every_document_exactly_once() {
    let h = Harness::start().await;
    let me = h.sign_up("sync@example.com").await;
    let other = h.sign_up("bystander@example.com").await;
    let parent = format!("users/{}", me.uid);
    // Batches share a timestamp, so pages split ties and must fall back to __name__.
    let mut seeded = 0;
    for size in [3, 1, 4, 1, 5, 9, 2] {
        seed_batch(&h, &parent, seeded, size).await;
        seeded += size;
    }
    seed_batch(&h, &format!("users/{}", other.uid), 100, 3).await;
    let (status, _) = h
        .commit(ADMIN, json!([{ "update": { "name": name(&format!("{parent}/generations/no-updated-at")), "fields": {} } }]))
        .await;
    assert_eq!(status, StatusCode::OK);

    let mut seen: Vec<String> = Vec::new();
    let mut last: Option<(Value, Value)> = None;
    let mut pages = 0;
    loop {
        let after = last.as_ref().map(|(t, n)| (t, n));
        let (status, body) = h
            .run_query(
                &me.id_token,
                &parent,
                sync_query("1970-01-01T00:00:00Z", after, 4),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let docs: Vec<&Value> = body
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.get("document"))
            .collect();
        if docs.is_empty() {
            assert!(
                body[0]["readTime"].is_string(),
                "an empty answer still carries readTime: {body}"
            );
            break;
        }
        assert!(docs.len() <= 4);
        for doc in &docs {
            seen.push(doc["name"].as_str().unwrap().to_string());
        }
        let tail = docs.last().unwrap();
        last = Some((tail["fields"]["updatedAt"].clone(), tail["name"].clone()));
        pages += 1;
        if pages == 2 {
            // Written while the client pages: sorts after everything seen so far.
            seed_batch(&h, &parent, seeded, 2).await;
            seeded += 2;
        }
        assert!(pages < 50, "paging does not end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a document came twice: {seen:?}");
    let expected: HashSet<String> = (0..seeded)
        .map(|i| name(&format!("{parent}/generations/g{i:03}")))
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<HashSet<_>>(),
        expected
    );

    // A cursor equal to the newest write finds exactly that batch, however the instant is
    // spelled: timestamps compare as instants, not as strings.
    let (_, body) = h
        .run_query(
            &me.id_token,
            &parent,
            sync_query("1970-01-01T00:00:00Z", None, 1000),
        )
        .await;
    let newest = body.as_array().unwrap().last().unwrap()["document"]["fields"]["updatedAt"]
        ["timestampValue"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = h
        .run_query(&me.id_token, &parent, sync_query(&newest, None, 1000))
        .await;
    assert_eq!(
        body.as_array().unwrap().len(),
        2,
        "only the last batch is at or after its own time"
    );
    let hour: u32 = newest[11..13].parse().unwrap();
    if hour < 23 {
        let shifted = format!(
            "{}{:02}{}+01:00",
            &newest[..11],
            hour + 1,
            &newest[13..newest.len() - 1]
        );
        let (_, body) = h
            .run_query(&me.id_token, &parent, sync_query(&shifted, None, 1000))
            .await;
        assert_eq!(
            body.as_array().unwrap().len(),
            2,
            "{shifted} is the same instant as {newest}"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn queries_filter_order_and_limit_like_firestore() {
    let h = Harness::start().await;
    let writes: Vec<Value> = [("a", 3, "x"), ("b", 1, "y"), ("c", 2, "x"), ("d", 5, "x")]
        .iter()
        .map(|(id, n, tag)| {
            json!({ "update": { "name": name(&format!("things/{id}")),
                                "fields": { "n": { "integerValue": n.to_string() }, "tag": { "stringValue": tag } } } })
        })
        .collect();
    assert_eq!(
        h.commit(ADMIN, Value::Array(writes)).await.0,
        StatusCode::OK
    );
    let (status, body) = h
        .run_query(
            ADMIN,
            "",
            json!({
                "from": [{ "collectionId": "things" }],
                "where": { "compositeFilter": { "op": "AND", "filters": [
                    { "fieldFilter": { "field": { "fieldPath": "tag" }, "op": "EQUAL", "value": { "stringValue": "x" } } },
                    { "fieldFilter": { "field": { "fieldPath": "n" }, "op": "GREATER_THAN", "value": { "doubleValue": 2.0 } } }
                ] } },
                "orderBy": [{ "field": { "fieldPath": "n" }, "direction": "DESCENDING" }],
                "limit": 5
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["document"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![name("things/d"), name("things/a")]);

    let (_, body) = h
        .run_query(ADMIN, "", json!({ "from": [{ "collectionId": "things" }], "select": { "fields": [{ "fieldPath": "tag" }] }, "limit": 1 }))
        .await;
    let doc = &body[0]["document"];
    assert_eq!(
        doc["name"],
        name("things/a"),
        "ordered by __name__ by default"
    );
    assert!(doc["fields"].get("n").is_none() && doc["fields"].get("tag").is_some());

    let (_, body) = h
        .run_query(
            ADMIN,
            "",
            json!({ "from": [{ "collectionId": "nothing" }] }),
        )
        .await;
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert!(body[0].get("document").is_none() && body[0]["readTime"].is_string());
    h.shutdown().await;
}
