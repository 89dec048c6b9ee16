use std::time::Instant;
use serde_json::{json, Value};
use crate::common::{Harness, DOCUMENT_NAME_PREFIX};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch_sync_10k() {
    let h = Harness::start().await;
    let me = h.sign_up("perf@example.com").await;
    let parent = format!("users/{}", me.uid);
    let t = Instant::now();
    for batch in 0..20 {
        let writes: Vec<Value> = (0..500).map(|i| {
            let n = batch * 500 + i;
            json!({"update": {"name": format!("{DOCUMENT_NAME_PREFIX}{parent}/generations/g{n:05}"),
              "fields": {"prompt": {"stringValue": format!("a prompt number {n} with some words in it to be realistic")},
                         "status": {"stringValue": "succeeded"}, "progress": {"doubleValue": 1.0},
                         "settings": {"mapValue": {"fields": {"durationSeconds": {"integerValue": "10"}, "resolution": {"stringValue": "1080p"}}}},
                         "createdAt": {"timestampValue": "2024-01-01T00:00:00Z"}}},
              "updateTransforms": [{"fieldPath": "updatedAt", "setToServerValue": "REQUEST_TIME"}]})
        }).collect();
        let (s, b) = h.commit("owner", Value::Array(writes)).await;
        assert_eq!(s, 200, "{b}");
    }
    println!("seed {:?}", t.elapsed());
    for page_size in [300usize, 1000] {
    let t = Instant::now();
    let mut last: Option<(Value, Value)> = None;
    let mut n = 0;
    loop {
        let mut q = json!({"from": [{"collectionId": "generations"}],
          "where": {"fieldFilter": {"field": {"fieldPath": "updatedAt"}, "op": "GREATER_THAN_OR_EQUAL", "value": {"timestampValue": "1970-01-01T00:00:00Z"}}},
          "orderBy": [{"field": {"fieldPath": "updatedAt"}}, {"field": {"fieldPath": "__name__"}}], "limit": page_size});
        if let Some((u, nm)) = &last { q["startAt"] = json!({"values": [u, {"referenceValue": nm}], "before": false}); }
        let (s, b) = h.run_query(&me.id_token, &parent, q).await;
        assert_eq!(s, 200);
        let docs: Vec<&Value> = b.as_array().unwrap().iter().filter_map(|i| i.get("document")).collect();
        if docs.is_empty() { break; }
        n += docs.len();
        let tail = docs.last().unwrap();
        last = Some((tail["fields"]["updatedAt"].clone(), tail["name"].clone()));
    }
    assert_eq!(n, 10000);
    println!("sync page {page_size}: {:?}", t.elapsed());
    }
    let t = Instant::now();
    let (s, _) = h.call(reqwest::Method::DELETE, "/api/v1/account", Some(&me.id_token), None).await;
    assert_eq!(s, 200);
    println!("account delete {:?}", t.elapsed());
    h.shutdown().await;
}
