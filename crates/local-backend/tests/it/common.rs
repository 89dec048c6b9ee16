//! A started backend plus a small HTTP client that speaks its three surfaces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cleom_local_backend::{start, BackendConfig, RunningBackend};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const DOCUMENTS: &str = "/v1/projects/demo-cleom/databases/(default)/documents";
pub const DOCUMENT_NAME_PREFIX: &str = "projects/demo-cleom/databases/(default)/documents/";
pub const PASSWORD: &str = "correct horse";
/// Short jobs keep the suite fast.
/// The emulators' admin token, which these tests configure.
pub const ADMIN: &str = "owner";
pub const FAST_JOBS: Duration = Duration::from_millis(300);

pub struct Harness {
    pub backend: Option<RunningBackend>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Account {
    pub uid: String,
    pub email: String,
    pub id_token: String,
    pub refresh_token: String,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(FAST_JOBS).await
    }

    pub async fn start_with(job_duration: Duration) -> Harness {
        Harness::start_config(job_duration, Some(ADMIN)).await
    }

    /// A backend with the given admin token; `None` as the desktop app embeds it.
    pub async fn start_config(job_duration: Duration, admin_token: Option<&str>) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = start(BackendConfig {
            data_dir: dir.path().join("data"),
            port: 0,
            job_duration,
            admin_token: admin_token.map(str::to_string),
        })
        .await
        .expect("backend starts");
        let base = backend.base_url();
        Harness {
            backend: Some(backend),
            dir,
            // Loopback, never through a proxy the environment names.
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            base,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn backend(&self) -> &RunningBackend {
        self.backend.as_ref().expect("backend running")
    }

    /// Stops the backend and starts it again on the same data directory.
    pub async fn restart(&mut self, job_duration: Duration) {
        if let Some(backend) = self.backend.take() {
            backend.shutdown().await;
        }
        let backend = start(BackendConfig {
            data_dir: self.data_dir(),
            port: 0,
            job_duration,
            admin_token: Some(ADMIN.to_string()),
        })
        .await
        .expect("backend restarts");
        self.base = backend.base_url();
        self.backend = Some(backend);
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("body read");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn raw_post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &'static str,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST /identitytoolkit.googleapis.com/v1/accounts:{action}?key=…`.
    pub async fn auth(&self, action: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/identitytoolkit.googleapis.com/v1/accounts:{action}?key=fake-api-key"),
            None,
            Some(body),
        )
        .await
    }

    pub async fn sign_up(&self, email: &str) -> Account {
        let (status, body) = self
            .auth(
                "signUp",
                json!({ "email": email, "password": PASSWORD, "returnSecureToken": true }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Account {
            uid: body["localId"].as_str().expect("localId").to_string(),
            email: body["email"].as_str().expect("email").to_string(),
            id_token: body["idToken"].as_str().expect("idToken").to_string(),
            refresh_token: body["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_string(),
        }
    }

    pub async fn get_doc(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(
            Method::GET,
            &format!("{DOCUMENTS}/{path}"),
            Some(token),
            None,
        )
        .await
    }

    pub async fn commit(&self, token: &str, writes: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("{DOCUMENTS}:commit"),
            Some(token),
            Some(json!({ "writes": writes })),
        )
        .await
    }

    /// `runQuery` under `parent` ("" for the root, or a document path).
    pub async fn run_query(&self, token: &str, parent: &str, query: Value) -> (StatusCode, Value) {
        let path = if parent.is_empty() {
            format!("{DOCUMENTS}:runQuery")
        } else {
            format!("{DOCUMENTS}/{parent}:runQuery")
        };
        self.call(
            Method::POST,
            &path,
            Some(token),
            Some(json!({ "structuredQuery": query })),
        )
        .await
    }

    /// Every document of a collection under `parent`, as `{name, fields}` values.
    pub async fn list(&self, token: &str, parent: &str, collection: &str) -> Vec<Value> {
        let (status, body) = self
            .run_query(
                token,
                parent,
                json!({ "from": [{ "collectionId": collection }] }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .expect("an array")
            .iter()
            .filter_map(|item| item.get("document").cloned())
            .collect()
    }

    pub async fn balance(&self, account: &Account) -> i64 {
        let (status, body) = self
            .get_doc(&account.id_token, &format!("users/{}", account.uid))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["fields"]["creditBalance"]["integerValue"]
            .as_str()
            .expect("creditBalance")
            .parse()
            .expect("an integer")
    }

    pub async fn ledger(&self, account: &Account) -> Vec<Value> {
        self.list(
            &account.id_token,
            &format!("users/{}", account.uid),
            "creditLedger",
        )
        .await
    }

    pub async fn create_generation(&self, token: &str, request: Value) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v1/generations",
            Some(token),
            Some(request),
        )
        .await
    }

    /// Polls the generation until `done` holds (or fails the test after 10 s).
    pub async fn wait_for(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self
                .call(
                    Method::GET,
                    &format!("/api/v1/generations/{id}"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if done(&body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "generation never got there: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Fetches a media URL as the documents hold it: root-relative, so on this backend.
    pub async fn download(
        &self,
        url: &str,
        range: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        assert!(url.starts_with("/api/v1/media/"), "not a media URL: {url}");
        let mut request = self.http.get(format!("{}{url}", self.base));
        if let Some(range) = range {
            request = request.header("range", range);
        }
        let response = request.send().await.expect("download sent");
        let status = response.status();
        let headers = response.headers().clone();
        (
            status,
            headers,
            response.bytes().await.expect("bytes").to_vec(),
        )
    }

    pub async fn shutdown(self) {
        self.stop_keeping_data().await;
    }

    /// Stops the backend but keeps its data directory, for inspecting the files it left.
    pub async fn stop_keeping_data(mut self) -> tempfile::TempDir {
        if let Some(backend) = self.backend.take() {
            backend.shutdown().await;
        }
        self.dir
    }
}

/// A plain generation request.
pub fn generation_request(id: &str, prompt: &str) -> Value {
    json!({
        "id": id,
        "prompt": prompt,
        "settings": { "durationSeconds": 10, "resolution": "1080p", "aspectRatio": "16:9" },
        "references": []
    })
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
