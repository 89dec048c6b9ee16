//! The Cleom API under `/api/v1`: pricing, generations (create with a client-chosen id so a
//! retry never charges twice, read, cancel, delete), signed-in sessions, the account-deletion
//! cascade, and media downloads. Errors are `{"error": {"code": "INSUFFICIENT_CREDITS", "message": …}}`; the app
//! switches on `code`.
//!
//! Every handler acts through [`AdminClient`]: the caller's ID token is checked with Auth's
//! `accounts:lookup`, and documents are read and written through Firestore REST with the
//! stores' admin credential, so the same handlers serve in front of the embedded stores and in
//! front of Google's emulators.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cleom_core::model::{
    validate_prompt, DeviceSession, Generation, GenerationRequest, Mode, Settings,
};
use cleom_core::pricing::PricingTable;
use cleom_core::remote::RemoteError;
use cleom_core::secret::SecretString;
use serde_json::json;

use crate::account;
use crate::admin_client::AdminClient;
use crate::analytics_log;
use crate::generations::{self, GenerationError};
use crate::ids;
use crate::media::{self, ByteRange};
use crate::sessions;

/// Longest client-chosen generation id.
const MAX_ID_CHARS: usize = 128;

/// An error in the Cleom API's shape.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "not found")
    }

    fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        )
    }
}

impl From<RemoteError> for ApiError {
    /// A failure of the stores behind the API: "try again" when they are unreachable or busy,
    /// an internal error otherwise (logged by code; a `RemoteError` never holds a secret).
    fn from(error: RemoteError) -> ApiError {
        tracing::error!(code = error.code(), %error, "a store call of the API failed");
        match error {
            RemoteError::Unreachable
            | RemoteError::Timeout
            | RemoteError::RateLimited
            | RemoteError::Server(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the service is unavailable; try again",
            ),
            _ => ApiError::internal(),
        }
    }
}

impl From<GenerationError> for ApiError {
    fn from(error: GenerationError) -> ApiError {
        let message = error.to_string();
        match error {
            GenerationError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
            }
            GenerationError::IdConflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "ID_CONFLICT", message)
            }
            GenerationError::InsufficientCredits { .. } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "INSUFFICIENT_CREDITS",
                message,
            ),
            GenerationError::NotCancelable(_) => {
                ApiError::new(StatusCode::CONFLICT, "NOT_CANCELABLE", message)
            }
            GenerationError::Contended => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", message)
            }
            GenerationError::Remote(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

/// The signed-in user making the request.
struct Caller {
    uid: String,
    email: String,
}

/// Checks the request's ID token with Auth (`accounts:lookup`), which answers for the embedded
/// Auth and the Auth emulator alike.
async fn caller(client: &AdminClient, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let unauthenticated =
        |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let Some(token) = crate::auth::bearer_token(headers) else {
        return Err(unauthenticated("sign in first: no Authorization header"));
    };
    let token = token.ok_or_else(|| unauthenticated("the ID token is not valid"))?;
    if client.is_admin_bearer(token) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "the Cleom API acts for a signed-in user, not the admin token",
        ));
    }
    let token = SecretString::new(token.to_string());
    match client.remote.auth.lookup(&token).await {
        Ok(info) => Ok(Caller {
            uid: info.uid,
            email: info.email.unwrap_or_default(),
        }),
        Err(RemoteError::SessionExpired | RemoteError::InvalidRequest(_)) => {
            Err(unauthenticated("the ID token is not valid or has expired"))
        }
        Err(e) => Err(e.into()),
    }
}

/// The features an analytics report may count (`cleom_core::analytics::Feature`).
const ANALYTICS_FEATURES: [&str; 5] = [
    "generate",
    "generate_offline",
    "search",
    "export",
    "delete_generations",
];

/// `POST /api/v1/analytics` (no sign-in): one anonymous report, `{appVersion, counts}` with
/// `counts` a map of known feature names to counts. Anything more — an id, an email, a
/// prompt, an unknown key — is refused, so a report cannot carry who sent it; so is a body over
/// `analytics_log::MAX_REPORT_BYTES`. Only the latest reports are kept (`AnalyticsLog`).
pub(crate) async fn analytics(
    State(client): State<Arc<AdminClient>>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    if body.len() > analytics_log::MAX_REPORT_BYTES {
        return Err(ApiError::invalid_argument("the report is too large"));
    }
    let report: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::invalid_argument("the report is not JSON"))?;
    let anonymous = report.as_object().is_some_and(|fields| {
        fields.len() == 2
            && fields.get("appVersion").is_some_and(|v| v.is_string())
            && fields
                .get("counts")
                .and_then(|c| c.as_object())
                .is_some_and(|counts| {
                    counts.iter().all(|(feature, n)| {
                        ANALYTICS_FEATURES.contains(&feature.as_str()) && n.is_u64()
                    })
                })
    });
    if !anonymous {
        return Err(ApiError::invalid_argument(
            "a report holds appVersion and counts of known features, nothing else",
        ));
    }
    client
        .analytics
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(report);
    Ok(Json(json!({})))
}

/// `GET /api/v1/pricing`.
pub(crate) async fn pricing() -> Json<PricingTable> {
    Json(PricingTable::local_default())
}

fn is_valid_generation_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !(id.starts_with("__") && id.ends_with("__"))
}

/// Parses the body, telling apart broken JSON, bad settings and other malformed members.
fn parse_request(body: &Bytes) -> Result<GenerationRequest, ApiError> {
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_argument(format!("malformed JSON: {e}")))?;
    match serde_json::from_value::<GenerationRequest>(json.clone()) {
        Ok(request) => Ok(request),
        Err(error) => {
            if let Some(settings) = json.get("settings") {
                if let Err(e) = serde_json::from_value::<Settings>(settings.clone()) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "INVALID_SETTINGS",
                        e.to_string(),
                    ));
                }
            }
            Err(ApiError::invalid_argument(format!(
                "invalid generation request: {error}"
            )))
        }
    }
}

/// `POST /api/v1/generations`.
pub(crate) async fn create_generation(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Generation>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let request = parse_request(&body)?;
    if !is_valid_generation_id(&request.id) {
        return Err(ApiError::invalid_argument(
            "id must be 1 to 128 characters of letters, digits, '-' and '_'",
        ));
    }
    validate_prompt(&request.prompt)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_PROMPT", e.to_string()))?;
    let invalid_settings =
        |message: String| ApiError::new(StatusCode::BAD_REQUEST, "INVALID_SETTINGS", message);
    request
        .settings
        .validate()
        .map_err(|e| invalid_settings(e.to_string()))?;
    let mode = Mode::detect(&request.references).map_err(|e| invalid_settings(e.to_string()))?;
    let estimate = PricingTable::local_default()
        .estimate(mode, &request.settings)
        .map_err(|e| invalid_settings(e.to_string()))?;
    let generation = generations::create(
        &client,
        &caller.uid,
        &caller.email,
        &request,
        mode,
        estimate.total,
    )
    .await?;
    Ok(Json(generation))
}

/// A generation id from the path; an id the API would never have created is simply not found.
fn known_id(id: &str) -> Result<&str, ApiError> {
    if is_valid_generation_id(id) {
        Ok(id)
    } else {
        Err(ApiError::not_found())
    }
}

/// `GET /api/v1/generations/{id}`.
pub(crate) async fn get_generation(
    State(client): State<Arc<AdminClient>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Generation>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let found = generations::get(&client, &caller.uid, known_id(&id)?).await?;
    found
        .map(|(generation, _)| Json(generation))
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v1/generations/{id}:cancel` (the only action; the colon is part of the segment).
pub(crate) async fn generation_action(
    State(client): State<Arc<AdminClient>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Generation>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let Some(id) = segment.strip_suffix(":cancel") else {
        return Err(ApiError::not_found());
    };
    let generation = generations::cancel(&client, &caller.uid, known_id(id)?).await?;
    Ok(Json(generation))
}

/// `DELETE /api/v1/generations/{id}`.
pub(crate) async fn delete_generation(
    State(client): State<Arc<AdminClient>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    generations::tombstone(&client, &caller.uid, known_id(&id)?).await?;
    Ok(Json(json!({})))
}

/// The most ids one batch delete takes: one commit holds them and the profile's `updatedAt`.
const MAX_BATCH_DELETE: usize = cleom_core::remote::cleom_api::MAX_BATCH_DELETE;

/// `POST /api/v1/generations:batchDelete` with `{ids: [...]}` (1 to 499): tombstones each, as
/// `DELETE /api/v1/generations/{id}` does, the finished ones in one commit; ids already deleted
/// or unknown are not an error
/// (deleting is idempotent) and are answered in `missing`. → `{deleted: n, missing: [ids]}`.
pub(crate) async fn batch_delete_generations(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let ids: Vec<String> = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("ids")?.clone()).ok())
        .ok_or_else(|| ApiError::invalid_argument("the body must be {\"ids\": [...]}"))?;
    if ids.is_empty() || ids.len() > MAX_BATCH_DELETE {
        return Err(ApiError::invalid_argument(format!(
            "a batch holds 1 to {MAX_BATCH_DELETE} ids"
        )));
    }
    for id in &ids {
        known_id(id)?;
    }
    let missing = generations::tombstone_many(&client, &caller.uid, &ids).await?;
    Ok(Json(
        json!({ "deleted": ids.len() - missing.len(), "missing": missing }),
    ))
}

/// `POST /api/v1/sessions` `{id, deviceName, platform}`: this device's session is in use (see
/// `sessions`). → the session as recorded; 401 `SESSION_REVOKED` once it was ended.
pub(crate) async fn report_session(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DeviceSession>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let body: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::invalid_argument("the body must be JSON"))?;
    let report = sessions::parse_report(&body).map_err(ApiError::invalid_argument)?;
    match sessions::report(&client, &caller.uid, &report).await? {
        sessions::Reported::Seen(session) => Ok(Json(session)),
        sessions::Reported::Revoked => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "SESSION_REVOKED",
            "this session was signed out from another device",
        )),
    }
}

/// `GET /api/v1/sessions` → `{sessions: [...]}`, the ones not ended, the latest seen first.
pub(crate) async fn list_sessions(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let sessions = sessions::list(&client, &caller.uid).await?;
    Ok(Json(json!({ "sessions": sessions })))
}

/// `DELETE /api/v1/sessions/{id}`: the caller's device signed out; its session leaves the list.
pub(crate) async fn end_session(
    State(client): State<Arc<AdminClient>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    if !sessions::is_session_id(&id) {
        return Err(ApiError::not_found());
    }
    sessions::end(&client, &caller.uid, &id).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/sessions:signOutOthers` `{keep}`: ends every other session of the caller's
/// account and revokes its tokens, the caller's too. → `{signedOut: n}`.
pub(crate) async fn sign_out_other_sessions(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let keep = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("keep")?.as_str().map(str::to_string))
        .filter(|keep| sessions::is_session_id(keep))
        .ok_or_else(|| ApiError::invalid_argument("the body must be {\"keep\": session id}"))?;
    let signed_out = sessions::sign_out_others(&client, &caller.uid, &keep).await?;
    Ok(Json(json!({ "signedOut": signed_out })))
}

/// `DELETE /api/v1/account`: the server-side cascade.
pub(crate) async fn delete_account(
    State(client): State<Arc<AdminClient>>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = caller(&client, &headers).await?;
    let removal = account::delete_account(&client, &caller.uid).await?;
    Ok(Json(json!({ "removed": {
        "generations": removal.generations,
        "ledgerEntries": removal.ledger_entries,
        "purchases": removal.purchases,
        "mediaFiles": removal.media_files,
        "authUser": removal.auth_user,
    }})))
}

/// `GET /api/v1/media/{token}/{file}`: no auth (the token is the signature), `Range` honoured.
pub(crate) async fn media(
    State(client): State<Arc<AdminClient>>,
    Path((token, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(content_type) = media::content_type(&file).filter(|_| ids::is_media_token(&token))
    else {
        return Err(ApiError::not_found());
    };
    let bytes = match tokio::fs::read(client.media_root.join(&token).join(&file)).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::not_found()),
        Err(error) => {
            tracing::error!(%error, "cannot read a media file");
            return Err(ApiError::internal());
        }
    };
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut response = match media::parse_range(range, len) {
        ByteRange::Full => (StatusCode::OK, Body::from(bytes)).into_response(),
        ByteRange::Partial { start, end } => {
            let part = usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(first, last)| bytes.get(first..=last));
            let Some(part) = part else {
                return Ok(range_not_satisfiable(len));
            };
            let mut response =
                (StatusCode::PARTIAL_CONTENT, Body::from(part.to_vec())).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
        ByteRange::Unsatisfiable => return Ok(range_not_satisfiable(len)),
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

fn range_not_satisfiable(len: u64) -> Response {
    let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_ids_are_url_and_document_safe() {
        assert!(is_valid_generation_id(
            "0b5c2f3e-9a1d-4c2e-8f00-123456789abc"
        ));
        assert!(is_valid_generation_id("gen_1"));
        for bad in ["", "a/b", "a:cancel", "..", "__x__", "ü", &"x".repeat(129)] {
            assert!(!is_valid_generation_id(bad), "{bad}");
        }
    }

    #[test]
    fn bad_settings_are_told_apart_from_broken_json() {
        let broken = parse_request(&Bytes::from_static(b"{not json")).unwrap_err();
        assert_eq!(broken.code, "INVALID_ARGUMENT");
        let bad_settings = parse_request(&Bytes::from_static(
            br#"{"id":"a","prompt":"p","settings":{"durationSeconds":10,"resolution":"8k"}}"#,
        ))
        .unwrap_err();
        assert_eq!(bad_settings.code, "INVALID_SETTINGS");
        let missing_prompt = parse_request(&Bytes::from_static(
            br#"{"id":"a","settings":{"durationSeconds":10,"resolution":"4k"}}"#,
        ))
        .unwrap_err();
        assert_eq!(missing_prompt.code, "INVALID_ARGUMENT");
    }
}
