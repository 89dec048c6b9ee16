//! The Cleom API: prices, generations, signed-in sessions, account deletion and media downloads.
//!
//! Everything that costs credits or must cascade on the server goes through this API rather
//! than a Firestore write, so a client can never charge, refund or half-delete by itself.
//! Creating a generation carries a client-chosen id, which is what makes the shared retry
//! policy safe here: the server recognises a replayed id and charges nothing twice.
//!
//! Media (posters, clips) are fetched from signed URLs without sending the ID token: the URL
//! is the credential, and a token must never leak to whatever host a URL names. Downloads
//! resume a partial file with a `Range` request, so a large clip survives a dropped connection.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::endpoints::{check_url, is_loopback};
use super::error::from_transport;
use super::http::{error_from, read_body, Http, Replay};
use super::{Endpoints, RemoteError};
use crate::model::{DeviceSession, Generation, GenerationRequest};
use crate::pricing::PricingTable;
use crate::secret::SecretString;

/// Thumbnails and posters fetched into memory are at most this large.
pub const MAX_FETCH_BYTES: u64 = 5 * 1024 * 1024;

/// The largest clip a download accepts. A minute of 4K video at a high bit rate is well under
/// 1 GiB; an answer larger than this is not a clip, and would only fill the user's disk.
pub const MAX_CLIP_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// A download may take this long in all (the usual request timeout would cut large files)...
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);
/// ...but may not stall for longer than this between two chunks.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// What `DELETE /v1/account` removed on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRemoval {
    pub generations: u64,
    pub ledger_entries: u64,
    pub purchases: u64,
    pub media_files: u64,
    pub auth_user: bool,
}

#[derive(Deserialize)]
struct AccountRemovalAnswer {
    removed: AccountRemoval,
}

/// What this device says about its session (`POST /v1/sessions`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionReport<'a> {
    pub id: &'a str,
    pub device_name: &'a str,
    pub platform: &'a str,
}

#[derive(Deserialize)]
struct SessionsAnswer {
    sessions: Vec<DeviceSession>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedOutAnswer {
    signed_out: u64,
}

#[derive(Debug, Clone)]
pub struct CleomApi {
    http: Http,
    base: String,
}

/// The most generations one batch delete takes (with the profile's own `updatedAt`, one
/// Firestore commit of at most 500 writes).
pub const MAX_BATCH_DELETE: usize = 499;

impl CleomApi {
    pub(crate) fn new(http: Http, endpoints: &Endpoints) -> CleomApi {
        CleomApi {
            http,
            base: endpoints.api.clone(),
        }
    }

    /// The served price list (no sign-in needed).
    pub async fn pricing(&self) -> Result<PricingTable, RemoteError> {
        let request = self.http.client().get(self.url(&["pricing"])?);
        self.http.send_json(request, Replay::Safe, "pricing").await
    }

    /// Starts a generation. Sending the same request (same id) again returns the existing one.
    pub async fn create_generation(
        &self,
        request: &GenerationRequest,
        id_token: &SecretString,
    ) -> Result<Generation, RemoteError> {
        let request = self
            .http
            .client()
            .post(self.url(&["generations"])?)
            .bearer_auth(id_token.expose())
            .json(request);
        self.http
            .send_json(request, Replay::Safe, "generation")
            .await
    }

    pub async fn generation(
        &self,
        id: &str,
        token: &SecretString,
    ) -> Result<Generation, RemoteError> {
        let request = self
            .http
            .client()
            .get(self.url(&["generations", id])?)
            .bearer_auth(token.expose());
        self.http
            .send_json(request, Replay::Safe, "generation")
            .await
    }

    /// Cancels a queued or running generation; the answer is the refunded generation.
    pub async fn cancel(&self, id: &str, token: &SecretString) -> Result<Generation, RemoteError> {
        let url = self.url(&["generations", &format!("{id}:cancel")])?;
        let request = self.http.client().post(url).bearer_auth(token.expose());
        // A replay after success would answer NOT_CANCELABLE.
        self.http
            .send_json(request, Replay::OnlyIfUnprocessed, "generation")
            .await
    }

    /// Tombstones the generation on the server and deletes its media.
    pub async fn delete_generation(
        &self,
        id: &str,
        token: &SecretString,
    ) -> Result<(), RemoteError> {
        let request = self
            .http
            .client()
            .request(Method::DELETE, self.url(&["generations", id])?)
            .bearer_auth(token.expose());
        self.http
            .send_bytes(request, Replay::OnlyIfUnprocessed)
            .await?;
        Ok(())
    }

    /// Sends one anonymous analytics report (no sign-in: it carries no identity).
    pub async fn analytics(&self, report: &crate::analytics::Report) -> Result<(), RemoteError> {
        let request = self
            .http
            .client()
            .post(self.url(&["analytics"])?)
            .json(report);
        // Counts sent twice would count twice: only replayed when the server never saw it.
        self.http
            .send_bytes(request, Replay::OnlyIfUnprocessed)
            .await?;
        Ok(())
    }

    /// Deletes up to [`MAX_BATCH_DELETE`] generations at once (tombstones, as
    /// [`CleomApi::delete_generation`]); ids already gone are fine. Safe to repeat.
    pub async fn delete_generations(
        &self,
        ids: &[String],
        token: &SecretString,
    ) -> Result<(), RemoteError> {
        let request = self
            .http
            .client()
            .post(self.url(&["generations:batchDelete"])?)
            .bearer_auth(token.expose())
            .json(&serde_json::json!({ "ids": ids }));
        let _: serde_json::Value = self
            .http
            .send_json(request, Replay::Safe, "batch delete")
            .await?;
        Ok(())
    }

    /// Tells the API that this device's session `id` is in use (see `core::signed_in_devices`);
    /// `auth.session_revoked` once it was ended from another device. Safe to repeat.
    pub async fn report_session(
        &self,
        report: &SessionReport<'_>,
        token: &SecretString,
    ) -> Result<DeviceSession, RemoteError> {
        let request = self
            .http
            .client()
            .post(self.url(&["sessions"])?)
            .bearer_auth(token.expose())
            .json(report);
        self.http.send_json(request, Replay::Safe, "session").await
    }

    /// The account's sessions that have not been ended, the most recently seen first.
    pub async fn sessions(&self, token: &SecretString) -> Result<Vec<DeviceSession>, RemoteError> {
        let request = self
            .http
            .client()
            .get(self.url(&["sessions"])?)
            .bearer_auth(token.expose());
        let answer: SessionsAnswer = self
            .http
            .send_json(request, Replay::Safe, "sessions")
            .await?;
        Ok(answer.sessions)
    }

    /// This device signed out: its session `id` leaves the account's list. Safe to repeat.
    pub async fn end_session(&self, id: &str, token: &SecretString) -> Result<(), RemoteError> {
        let request = self
            .http
            .client()
            .request(Method::DELETE, self.url(&["sessions", id])?)
            .bearer_auth(token.expose());
        self.http.send_bytes(request, Replay::Safe).await?;
        Ok(())
    }

    /// Ends every session of the account but `keep` and revokes the account's tokens, the
    /// caller's included (sign in again afterwards). Answers how many sessions were ended.
    pub async fn sign_out_other_sessions(
        &self,
        keep: &str,
        token: &SecretString,
    ) -> Result<u64, RemoteError> {
        let request = self
            .http
            .client()
            .post(self.url(&["sessions:signOutOthers"])?)
            .bearer_auth(token.expose())
            .json(&serde_json::json!({ "keep": keep }));
        // After success the caller's token is revoked, so a replay could only fail.
        let answer: SignedOutAnswer = self
            .http
            .send_json(
                request,
                Replay::OnlyIfUnprocessed,
                "sign-out of other sessions",
            )
            .await?;
        Ok(answer.signed_out)
    }

    /// Deletes the account on the server: profile, all subcollections, media and Auth user.
    pub async fn delete_account(
        &self,
        id_token: &SecretString,
    ) -> Result<AccountRemoval, RemoteError> {
        let request = self
            .http
            .client()
            .delete(self.url(&["account"])?)
            .bearer_auth(id_token.expose());
        // After success the token's user is gone, so a replay could only fail.
        let answer: AccountRemovalAnswer = self
            .http
            .send_json(request, Replay::OnlyIfUnprocessed, "account deletion")
            .await?;
        Ok(answer.removed)
    }

    /// Downloads `url` into `dest`, resuming if `dest` already holds the start of the file
    /// (`Range: bytes=N-`; a `200` answer restarts it from scratch). `on_progress(done, total)`
    /// is called after every chunk. Returns the size of the complete file. Download into a
    /// temporary name and rename when this returns: a file left by a failed call is partial.
    /// A file larger than `limit` is `TooLarge`, found from its announced size where there is
    /// one, and otherwise once that many bytes have arrived.
    pub async fn download(
        &self,
        url: &str,
        dest: &Path,
        limit: u64,
        mut on_progress: impl FnMut(u64, Option<u64>),
    ) -> Result<u64, RemoteError> {
        let url = self.media_url(url)?;
        let mut resume_from = match tokio::fs::metadata(dest).await {
            Ok(meta) if meta.is_file() => meta.len(),
            _ => 0,
        };
        loop {
            let mut request = self
                .http
                .client()
                .get(url.clone())
                .timeout(DOWNLOAD_TIMEOUT);
            if resume_from > 0 {
                request = request.header(RANGE, format!("bytes={resume_from}-"));
            }
            let mut response = self.http.send_raw(request, Replay::Safe).await?;
            let status = response.status();
            let (append, total) = if resume_from > 0 && status == StatusCode::PARTIAL_CONTENT {
                match parse_content_range(&response) {
                    Some((start, total)) if start == resume_from => (true, total),
                    _ => {
                        return Err(RemoteError::MalformedResponse(
                            "download: the resumed range does not match".into(),
                        ))
                    }
                }
            } else if resume_from > 0 && status == StatusCode::RANGE_NOT_SATISFIABLE {
                // The range starts at or past the end: the file is complete, or not the same file.
                if parse_unsatisfied_length(&response) == Some(resume_from) {
                    on_progress(resume_from, Some(resume_from));
                    return Ok(resume_from);
                }
                resume_from = 0;
                continue;
            } else if status == StatusCode::OK {
                (false, response.content_length())
            } else if status.is_success() {
                return Err(RemoteError::MalformedResponse(format!(
                    "download: unexpected HTTP {}",
                    status.as_u16()
                )));
            } else {
                return Err(error_from(response).await);
            };

            if total.is_some_and(|total| total > limit) {
                return Err(RemoteError::TooLarge(limit));
            }
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(dest)
                .await
                .map_err(io_error)?;
            let done = if append { resume_from } else { 0 };
            on_progress(done, total);
            let done = write_body(&mut response, file, done, limit, |done| {
                on_progress(done, total)
            })
            .await?;
            if total.is_some_and(|total| done != total) {
                return Err(RemoteError::Unreachable);
            }
            return Ok(done);
        }
    }

    /// Fetches a small media file (a thumbnail) into memory: `(mime type, bytes)`, at most
    /// [`MAX_FETCH_BYTES`].
    pub async fn fetch_bytes(&self, url: &str) -> Result<(String, Vec<u8>), RemoteError> {
        let request = self.http.client().get(self.media_url(url)?);
        let response = self.http.send(request, Replay::Safe).await?;
        let mime = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "application/octet-stream".to_string());
        let bytes = read_body(response, MAX_FETCH_BYTES).await?;
        Ok((mime, bytes))
    }

    /// `{api}/v1/{segments...}`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Result<Url, RemoteError> {
        if segments.iter().any(|s| s.is_empty()) {
            return Err(RemoteError::InvalidRequest("empty id".into()));
        }
        let mut url = Url::parse(&self.base).map_err(|_| RemoteError::InvalidUrl)?;
        url.path_segments_mut()
            .map_err(|_| RemoteError::InvalidUrl)?
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    fn media_url(&self, url: &str) -> Result<Url, RemoteError> {
        let base = Url::parse(&self.base).map_err(|_| RemoteError::InvalidUrl)?;
        media_url(&base, url)
    }
}

/// Where a generation's media URL is fetched from: absolute, or relative to the API `base`, and
/// held to the same rule as the endpoints (https, or http to this computer only).
///
/// A URL on this computer under the API's own path is the API's, whatever port it names, and is
/// fetched from the API's origin: a port in a document is where a local backend listened when
/// it wrote it, and after a restart on another port whoever holds the old one must not receive
/// the URL's media token.
fn media_url(base: &Url, url: &str) -> Result<Url, RemoteError> {
    let joined = base.join(url).map_err(|_| RemoteError::InvalidUrl)?;
    let mut joined = check_url(joined.as_str())?;
    let api_path = base.path().trim_end_matches('/');
    let under_api = joined
        .path()
        .strip_prefix(api_path)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if joined.scheme() == "http"
        && is_loopback(&joined)
        && under_api
        && joined.origin() != base.origin()
    {
        let mut rebased = base.clone();
        rebased.set_path(joined.path());
        rebased.set_query(joined.query());
        joined = rebased;
    }
    Ok(joined)
}

/// Appends `response`'s body to `file` (which holds `done` bytes), up to `limit` bytes in all;
/// returns the bytes the file holds then.
async fn write_body(
    response: &mut reqwest::Response,
    mut file: tokio::fs::File,
    mut done: u64,
    limit: u64,
    mut on_progress: impl FnMut(u64),
) -> Result<u64, RemoteError> {
    loop {
        let chunk = tokio::time::timeout(STALL_TIMEOUT, response.chunk())
            .await
            .map_err(|_| RemoteError::Timeout)?
            .map_err(|e| from_transport(&e))?;
        let Some(chunk) = chunk else { break };
        done += chunk.len() as u64;
        if done > limit {
            return Err(RemoteError::TooLarge(limit));
        }
        file.write_all(&chunk).await.map_err(io_error)?;
        on_progress(done);
    }
    file.flush().await.map_err(io_error)?;
    file.sync_all().await.map_err(io_error)?;
    Ok(done)
}

fn io_error(error: std::io::Error) -> RemoteError {
    RemoteError::Io(error.kind().to_string())
}

/// `Content-Range: bytes START-END/TOTAL` → `(START, TOTAL)`; TOTAL may be `*`.
fn parse_content_range(response: &reqwest::Response) -> Option<(u64, Option<u64>)> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        n => Some(n.parse::<u64>().ok()?),
    };
    Some((start, total))
}

/// `Content-Range: bytes */TOTAL` of a 416 answer → TOTAL.
fn parse_unsatisfied_length(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    value.trim().strip_prefix("bytes */")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Settings, Status};
    use crate::remote::test_server::{fast_http, Canned, TestServer};
    use crate::secret::Secret;
    use serde_json::json;

    async fn client(answers: Vec<Canned>) -> (CleomApi, TestServer) {
        let server = TestServer::start(answers).await;
        let endpoints = Endpoints::local(server.base()).unwrap();
        (CleomApi::new(fast_http(), &endpoints), server)
    }

    fn token() -> SecretString {
        Secret::new("id-token".to_string())
    }

    #[test]
    fn an_api_media_url_on_this_computer_is_fetched_from_the_apis_origin_whatever_port_it_names() {
        let base = Url::parse("http://127.0.0.1:4100/api").unwrap();
        let url = |u: &str| media_url(&base, u).map(String::from);
        for (stored, fetched) in [
            // Root-relative, as the local backend writes them.
            (
                "/api/v1/media/t/clip.gif",
                "http://127.0.0.1:4100/api/v1/media/t/clip.gif",
            ),
            // Written before a restart on another port: never sent to that port.
            (
                "http://127.0.0.1:4099/api/v1/media/t/clip.gif",
                "http://127.0.0.1:4100/api/v1/media/t/clip.gif",
            ),
            (
                "http://localhost:4099/api/v1/media/t/a.png?x=1",
                "http://127.0.0.1:4100/api/v1/media/t/a.png?x=1",
            ),
            ("http://[::1]:80/api/m", "http://127.0.0.1:4100/api/m"),
            // Already the API's origin, not the API's path, or elsewhere over https: as it is.
            (
                "http://127.0.0.1:4100/api/v1/media/t/clip.gif",
                "http://127.0.0.1:4100/api/v1/media/t/clip.gif",
            ),
            (
                "https://cdn.example.com/t/clip.mp4",
                "https://cdn.example.com/t/clip.mp4",
            ),
        ] {
            assert_eq!(url(stored).as_deref(), Ok(fetched), "{stored}");
        }
        assert_eq!(
            url("http://cdn.example.com/clip.mp4"),
            Err(RemoteError::InsecureUrl("cdn.example.com".into()))
        );
        assert_eq!(url("ftp://127.0.0.1/clip"), Err(RemoteError::InvalidUrl));
    }

    fn generation_json(id: &str, status: &str) -> String {
        json!({
            "id": id, "prompt": "a fox", "mode": "text_to_video",
            "settings": {"durationSeconds": 10, "resolution": "1080p", "aspectRatio": "16:9"},
            "references": [], "status": status, "progress": 0.0, "creditsCharged": 700,
            "outputUrl": null, "thumbnailUrl": null, "error": null,
            "createdAt": "2024-05-01T10:00:00Z", "updatedAt": "2024-05-01T10:00:00Z",
            "deleted": false, "deletedAt": null
        })
        .to_string()
    }

    #[tokio::test]
    async fn pricing_needs_no_token() {
        let table = serde_json::to_string(&PricingTable::local_default()).unwrap();
        let (api, server) = client(vec![Canned::json(200, &table)]).await;
        assert_eq!(api.pricing().await.unwrap(), PricingTable::local_default());
        let request = &server.requests()[0];
        assert_eq!(request.target, "/api/v1/pricing");
        assert_eq!(request.header("authorization"), None);
    }

    #[tokio::test]
    async fn create_generation_is_retried_with_the_same_id_after_a_5xx() {
        let (api, server) = client(vec![
            Canned::json(502, "bad gateway"),
            Canned::json(200, &generation_json("g1", "queued")),
        ])
        .await;
        let request = GenerationRequest {
            id: "g1".into(),
            prompt: "a fox".into(),
            settings: Settings::default(),
            references: vec![],
        };
        let generation = api.create_generation(&request, &token()).await.unwrap();
        assert_eq!(generation.id, "g1");
        assert_eq!(generation.status, Status::Queued);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        for r in &requests {
            assert_eq!(r.target, "/api/v1/generations");
            assert_eq!(r.header("authorization"), Some("Bearer id-token"));
            assert_eq!(r.json()["id"], "g1");
        }
    }

    #[tokio::test]
    async fn api_errors_map_to_their_codes() {
        let (api, _server) = client(vec![
            Canned::json(402, r#"{"error":{"code":"INSUFFICIENT_CREDITS","message":"this needs 700 credits, the balance is 100"}}"#),
            Canned::json(400, r#"{"error":{"code":"INVALID_SETTINGS","message":"duration must be between 5 and 60 seconds"}}"#),
            Canned::json(404, r#"{"error":{"code":"NOT_FOUND","message":"no such generation"}}"#),
            Canned::json(409, r#"{"error":{"code":"NOT_CANCELABLE","message":"the generation has finished"}}"#),
        ])
        .await;
        let request = GenerationRequest {
            id: "g1".into(),
            prompt: "a fox".into(),
            settings: Settings::default(),
            references: vec![],
        };
        let e = api.create_generation(&request, &token()).await.unwrap_err();
        assert_eq!(e.code(), "credits.insufficient");
        let e = api.create_generation(&request, &token()).await.unwrap_err();
        assert_eq!(
            e,
            RemoteError::InvalidRequest("duration must be between 5 and 60 seconds".into())
        );
        assert_eq!(
            api.generation("nope", &token()).await.unwrap_err().code(),
            "not_found"
        );
        assert_eq!(
            api.cancel("g1", &token()).await.unwrap_err().code(),
            "conflict"
        );
    }

    #[tokio::test]
    async fn generation_cancel_and_delete_use_their_paths() {
        let (api, server) = client(vec![
            Canned::json(200, &generation_json("g 1", "running")),
            Canned::json(200, &generation_json("g1", "canceled")),
            Canned::json(200, "{}"),
        ])
        .await;
        assert_eq!(
            api.generation("g 1", &token()).await.unwrap().status,
            Status::Running
        );
        assert_eq!(
            api.cancel("g1", &token()).await.unwrap().status,
            Status::Canceled
        );
        api.delete_generation("g1", &token()).await.unwrap();
        let requests = server.requests();
        assert_eq!(
            (requests[0].method.as_str(), requests[0].target.as_str()),
            ("GET", "/api/v1/generations/g%201")
        );
        assert_eq!(
            (requests[1].method.as_str(), requests[1].target.as_str()),
            ("POST", "/api/v1/generations/g1:cancel")
        );
        assert_eq!(
            (requests[2].method.as_str(), requests[2].target.as_str()),
            ("DELETE", "/api/v1/generations/g1")
        );
        assert_eq!(
            api.generation("", &token()).await.unwrap_err().code(),
            "request.invalid"
        );
    }

    #[tokio::test]
    async fn delete_account_reads_the_removed_counts() {
        let answer = r#"{"removed":{"generations":12,"ledgerEntries":14,"purchases":1,"mediaFiles":20,"authUser":true}}"#;
        let (api, server) = client(vec![
            Canned::json(200, answer),
            Canned::json(200, r#"{"removed":{"generations":1}}"#),
        ])
        .await;
        let removed = api.delete_account(&token()).await.unwrap();
        assert_eq!(
            removed,
            AccountRemoval {
                generations: 12,
                ledger_entries: 14,
                purchases: 1,
                media_files: 20,
                auth_user: true
            }
        );
        assert_eq!(server.requests()[0].target, "/api/v1/account");
        assert_eq!(server.requests()[0].method, "DELETE");
        assert_eq!(
            api.delete_account(&token()).await.unwrap_err().code(),
            "server.malformed_response"
        );
    }

    #[tokio::test]
    async fn a_malformed_generation_is_an_error_not_a_panic() {
        let (api, _server) = client(vec![
            Canned::json(200, r#"{"id":"g1","status":"exploded"}"#),
            Canned::json(200, "<html>"),
        ])
        .await;
        assert_eq!(
            api.generation("g1", &token()).await.unwrap_err().code(),
            "server.malformed_response"
        );
        assert_eq!(
            api.generation("g1", &token()).await.unwrap_err().code(),
            "server.malformed_response"
        );
    }

    const CLIP: &[u8] = b"GIF89a-0123456789-abcdefghij";

    #[tokio::test]
    async fn a_partial_download_resumes_with_a_range_request() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("clip.gif.part");
        std::fs::write(&dest, &CLIP[..10]).unwrap();
        let rest = Canned::bytes(206, &CLIP[10..])
            .header(
                "Content-Range",
                &format!("bytes 10-{}/{}", CLIP.len() - 1, CLIP.len()),
            )
            .header("Content-Type", "image/gif");
        let (api, server) = client(vec![rest]).await;
        let mut progress = Vec::new();
        let url = format!("{}/api/v1/media/tok/clip.gif", server.base());
        let size = api
            .download(&url, &dest, MAX_CLIP_BYTES, |done, total| {
                progress.push((done, total))
            })
            .await
            .unwrap();
        assert_eq!(size, CLIP.len() as u64);
        assert_eq!(std::fs::read(&dest).unwrap(), CLIP);
        let request = &server.requests()[0];
        assert_eq!(request.header("range"), Some("bytes=10-"));
        assert_eq!(request.header("authorization"), None);
        assert_eq!(progress.first(), Some(&(10, Some(CLIP.len() as u64))));
        assert_eq!(
            progress.last(),
            Some(&(CLIP.len() as u64, Some(CLIP.len() as u64)))
        );
    }

    #[tokio::test]
    async fn a_server_ignoring_the_range_restarts_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("clip.gif");
        std::fs::write(
            &dest,
            b"stale bytes from another file, longer than the clip itself",
        )
        .unwrap();
        let (api, _server) = client(vec![Canned::bytes(200, CLIP)]).await;
        let url = format!("{}/api/v1/media/tok/clip.gif", _server.base());
        assert_eq!(
            api.download(&url, &dest, MAX_CLIP_BYTES, |_, _| {})
                .await
                .unwrap(),
            CLIP.len() as u64
        );
        assert_eq!(std::fs::read(&dest).unwrap(), CLIP);
    }

    #[tokio::test]
    async fn a_complete_file_is_recognised_and_a_mismatched_one_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("clip.gif");
        std::fs::write(&dest, CLIP).unwrap();
        let complete =
            Canned::bytes(416, b"").header("Content-Range", &format!("bytes */{}", CLIP.len()));
        let (api, server) = client(vec![complete]).await;
        let url = format!("{}/m/clip.gif", server.base());
        assert_eq!(
            api.download(&url, &dest, MAX_CLIP_BYTES, |_, _| {})
                .await
                .unwrap(),
            CLIP.len() as u64
        );
        assert_eq!(server.requests().len(), 1);

        std::fs::write(&dest, b"a longer file than the one on the server now").unwrap();
        let other =
            Canned::bytes(416, b"").header("Content-Range", &format!("bytes */{}", CLIP.len()));
        let (api, server) = client(vec![other, Canned::bytes(200, CLIP)]).await;
        let url = format!("{}/m/clip.gif", server.base());
        assert_eq!(
            api.download(&url, &dest, MAX_CLIP_BYTES, |_, _| {})
                .await
                .unwrap(),
            CLIP.len() as u64
        );
        assert_eq!(std::fs::read(&dest).unwrap(), CLIP);
        let requests = server.requests();
        assert_eq!(requests[1].header("range"), None);
    }

    #[tokio::test]
    async fn a_wrong_resumed_range_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("clip.gif");
        std::fs::write(&dest, &CLIP[..10]).unwrap();
        let wrong = Canned::bytes(206, &CLIP[5..]).header(
            "Content-Range",
            &format!("bytes 5-{}/{}", CLIP.len() - 1, CLIP.len()),
        );
        let (api, server) = client(vec![wrong]).await;
        let url = format!("{}/m/clip.gif", server.base());
        assert_eq!(
            api.download(&url, &dest, MAX_CLIP_BYTES, |_, _| {})
                .await
                .unwrap_err()
                .code(),
            "server.malformed_response"
        );
        assert_eq!(std::fs::read(&dest).unwrap(), &CLIP[..10]);
    }

    #[tokio::test]
    async fn a_download_larger_than_its_limit_stops_whether_or_not_its_size_is_announced() {
        let (api, server) = client(vec![
            Canned::bytes(200, CLIP),
            // No Content-Length: the size is only found while it arrives.
            Canned::bytes(200, CLIP).without_length(),
        ])
        .await;
        let dir = tempfile::tempdir().unwrap();
        let url = server.url("/media/clip.gif");
        let limit = CLIP.len() as u64 - 1;
        for _ in 0..2 {
            let dest = dir.path().join("clip.gif.part");
            let err = api
                .download(&url, &dest, limit, |_, _| {})
                .await
                .unwrap_err();
            assert_eq!(err, RemoteError::TooLarge(limit));
            let kept = std::fs::metadata(&dest).map_or(0, |m| m.len());
            assert!(kept <= limit, "{kept} bytes written");
            let _ = std::fs::remove_file(&dest);
        }
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn media_urls_must_be_https_or_loopback() {
        let (api, server) = client(vec![]).await;
        let dir = tempfile::tempdir().unwrap();
        let e = api
            .download(
                "http://cdn.example.com/clip.gif",
                &dir.path().join("x"),
                MAX_CLIP_BYTES,
                |_, _| {},
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "config.insecure_url");
        assert_eq!(
            api.fetch_bytes("http://10.1.2.3/poster.png")
                .await
                .unwrap_err()
                .code(),
            "config.insecure_url"
        );
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn fetch_bytes_returns_the_mime_type_and_caps_the_size() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        let too_big = vec![0u8; MAX_FETCH_BYTES as usize + 1];
        let (api, server) = client(vec![
            Canned::bytes(200, png).header("Content-Type", "image/png; charset=binary"),
            Canned::bytes(200, &too_big),
            Canned::bytes(404, b""),
        ])
        .await;
        // A relative URL is resolved against the API base.
        let (mime, bytes) = api
            .fetch_bytes("/api/v1/media/tok/poster.png")
            .await
            .unwrap();
        assert_eq!((mime.as_str(), bytes.as_slice()), ("image/png", &png[..]));
        let url = format!("{}/api/v1/media/tok/big.png", server.base());
        assert_eq!(
            api.fetch_bytes(&url).await.unwrap_err(),
            RemoteError::TooLarge(MAX_FETCH_BYTES)
        );
        assert_eq!(api.fetch_bytes(&url).await.unwrap_err().code(), "not_found");
        assert_eq!(server.requests()[0].target, "/api/v1/media/tok/poster.png");
    }
}
