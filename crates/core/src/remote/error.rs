//! What can go wrong when talking to the backend, as one enum with stable dotted codes.
//!
//! The three surfaces report errors in three shapes (Firebase Auth puts an upper-case code in
//! `error.message`, Firestore a gRPC status in `error.status`, the Cleom API a string
//! `error.code`); they are all mapped here, in one place, so the UI switches on one set of codes
//! whichever server answered. Messages are written for the user and are built only from things
//! that are safe to show: never a token, a password, or a URL (which may carry a signature or
//! the API key in its query).

/// Every failure of a backend call. `code()` is stable; the message may be reworded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("Cleom can't be reached. Check your internet connection and try again.")]
    Unreachable,
    #[error("Cleom took too long to answer. Try again in a moment.")]
    Timeout,
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    #[error("An account with this email address already exists.")]
    EmailExists,
    #[error("This link is not valid or has already been used. Ask for a new one.")]
    InvalidActionCode,
    #[error("This link has expired. Ask for a new one.")]
    ExpiredActionCode,
    #[error("This password is too weak: {0}.")]
    WeakPassword(String),
    #[error("This email address is not valid.")]
    InvalidEmail,
    #[error("Too many attempts. Wait a few minutes, then try again.")]
    TooManyAttempts,
    #[error("This account has been disabled.")]
    UserDisabled,
    #[error("Your session has expired. Sign in again.")]
    SessionExpired,
    #[error("This device was signed out from another device. Sign in again.")]
    SessionRevoked,
    #[error("For your security, enter your password again to continue.")]
    RequiresRecentLogin,
    #[error("Not enough credits: {0}")]
    InsufficientCredits(String),
    #[error("The request was rejected: {0}")]
    InvalidRequest(String),
    #[error("You don't have access to this.")]
    PermissionDenied,
    #[error("This no longer exists on the server.")]
    NotFound,
    #[error("This conflicts with the server's current state: {0}")]
    Conflict(String),
    #[error("Cleom is busy right now. Try again in a moment.")]
    RateLimited,
    #[error("Cleom is having trouble (HTTP {0}). Try again later.")]
    Server(u16),
    #[error("Cleom sent an answer this version of the app does not understand ({0}).")]
    MalformedResponse(String),
    #[error("The file is larger than the {0} bytes allowed.")]
    TooLarge(u64),
    #[error("A local file could not be written: {0}")]
    Io(String),
    #[error(
        "Refusing to talk to {0} without encryption: only this computer may be reached over \
         plain http."
    )]
    InsecureUrl(String),
    #[error("The server address is not a valid http or https URL.")]
    InvalidUrl,
}

impl RemoteError {
    /// The stable code the UI switches on.
    pub fn code(&self) -> &'static str {
        match self {
            RemoteError::Unreachable => "network.unreachable",
            RemoteError::Timeout => "network.timeout",
            RemoteError::InvalidCredentials => "auth.invalid_credentials",
            RemoteError::EmailExists => "auth.email_exists",
            RemoteError::InvalidActionCode => "auth.invalid_action_code",
            RemoteError::ExpiredActionCode => "auth.expired_action_code",
            RemoteError::WeakPassword(_) => "auth.weak_password",
            RemoteError::InvalidEmail => "auth.invalid_email",
            RemoteError::TooManyAttempts => "auth.too_many_attempts",
            RemoteError::UserDisabled => "auth.user_disabled",
            RemoteError::SessionExpired => "auth.session_expired",
            RemoteError::SessionRevoked => "auth.session_revoked",
            RemoteError::RequiresRecentLogin => "auth.requires_recent_login",
            RemoteError::InsufficientCredits(_) => "credits.insufficient",
            RemoteError::InvalidRequest(_) => "request.invalid",
            RemoteError::PermissionDenied => "permission.denied",
            RemoteError::NotFound => "not_found",
            RemoteError::Conflict(_) => "conflict",
            RemoteError::RateLimited => "server.rate_limited",
            RemoteError::Server(_) => "server.error",
            RemoteError::MalformedResponse(_) => "server.malformed_response",
            RemoteError::TooLarge(_) => "response.too_large",
            RemoteError::Io(_) => "io.failed",
            RemoteError::InsecureUrl(_) => "config.insecure_url",
            RemoteError::InvalidUrl => "config.invalid_url",
        }
    }

    /// True when the request may well succeed later unchanged: no connection, no answer in
    /// time, a busy or failing server, an answer cut short. Anything else is the server's
    /// considered refusal (or a problem on this side) and sending it again would not help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RemoteError::Unreachable
                | RemoteError::Timeout
                | RemoteError::RateLimited
                | RemoteError::Server(_)
                | RemoteError::MalformedResponse(_)
        )
    }

    /// A malformed-answer error for JSON that did not parse. serde's own message is left out
    /// on purpose: it quotes the offending value, which could be a token.
    pub(crate) fn bad_json(what: &str, error: &serde_json::Error) -> RemoteError {
        RemoteError::MalformedResponse(format!(
            "{what}: invalid JSON at line {}, column {}",
            error.line(),
            error.column()
        ))
    }

    /// Maps a non-success answer. `body` is the (possibly empty or non-JSON) response body.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> RemoteError {
        let parsed = ErrorBody::parse(body);
        if let Some(code) = &parsed.code {
            if let Some(e) = from_code(code, &parsed.message) {
                return e;
            }
        }
        if let Some(e) = from_firebase_auth_message(&parsed.message) {
            return e;
        }
        if let Some(e) = parsed
            .status
            .as_deref()
            .and_then(|s| from_grpc_status(s, &parsed.message))
        {
            return e;
        }
        from_http_status(status, &parsed.message)
    }
}

/// The `error.message` of an error answer (Firebase Auth's upper-case code lives there), for the
/// few callers that must tell apart codes `from_response` maps alike.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    Some(ErrorBody::parse(body).message).filter(|m| !m.is_empty())
}

/// The parts of `{"error": {...}}` that matter, from any of the three surfaces.
#[derive(Debug, Default)]
struct ErrorBody {
    /// The Cleom API's string code (`INSUFFICIENT_CREDITS`); Firebase's numeric code is ignored.
    code: Option<String>,
    message: String,
    /// Firestore's gRPC status name (`PERMISSION_DENIED`).
    status: Option<String>,
}

impl ErrorBody {
    fn parse(body: &[u8]) -> ErrorBody {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorBody::default();
        };
        // Some gateways answer with a one-element array around the error object.
        let error = match &json {
            serde_json::Value::Array(items) => items.first().and_then(|i| i.get("error")),
            other => other.get("error"),
        };
        let Some(error) = error else {
            return ErrorBody::default();
        };
        let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(str::to_string);
        ErrorBody {
            code: text("code"),
            message: text("message").unwrap_or_default(),
            status: text("status"),
        }
    }
}

/// The Cleom API's codes.
fn from_code(code: &str, message: &str) -> Option<RemoteError> {
    let message = message.to_string();
    Some(match code {
        "INSUFFICIENT_CREDITS" => RemoteError::InsufficientCredits(message),
        "INVALID_SETTINGS" | "INVALID_PROMPT" | "INVALID_ARGUMENT" | "INVALID_REQUEST" => {
            RemoteError::InvalidRequest(message)
        }
        "NOT_FOUND" => RemoteError::NotFound,
        "ID_CONFLICT" | "NOT_CANCELABLE" | "CONFLICT" | "ALREADY_EXISTS" => {
            RemoteError::Conflict(message)
        }
        "UNAUTHENTICATED" | "INVALID_ID_TOKEN" | "TOKEN_EXPIRED" => RemoteError::SessionExpired,
        "SESSION_REVOKED" => RemoteError::SessionRevoked,
        "PERMISSION_DENIED" | "FORBIDDEN" => RemoteError::PermissionDenied,
        "RATE_LIMITED" | "RESOURCE_EXHAUSTED" => RemoteError::RateLimited,
        _ => return None,
    })
}

/// Firebase Auth's upper-case messages. Some carry a human suffix after `" : "`
/// (`WEAK_PASSWORD : Password should be at least 6 characters`); the code is the prefix.
fn from_firebase_auth_message(message: &str) -> Option<RemoteError> {
    let (code, detail) = match message.split_once(" : ") {
        Some((code, detail)) => (code.trim(), Some(detail.trim())),
        None => (message.trim(), None),
    };
    Some(match code {
        "INVALID_PASSWORD" | "EMAIL_NOT_FOUND" | "INVALID_LOGIN_CREDENTIALS" => {
            RemoteError::InvalidCredentials
        }
        "EMAIL_EXISTS" => RemoteError::EmailExists,
        "WEAK_PASSWORD" => RemoteError::WeakPassword(
            detail
                .map(|d| d.trim_end_matches('.').to_string())
                .unwrap_or_else(|| "use at least 6 characters".to_string()),
        ),
        "INVALID_EMAIL" | "MISSING_EMAIL" | "INVALID_NEW_EMAIL" | "MISSING_NEW_EMAIL" => {
            RemoteError::InvalidEmail
        }
        "INVALID_OOB_CODE" | "MISSING_OOB_CODE" => RemoteError::InvalidActionCode,
        "EXPIRED_OOB_CODE" => RemoteError::ExpiredActionCode,
        "MISSING_PASSWORD" => RemoteError::InvalidRequest("enter a password".to_string()),
        "TOO_MANY_ATTEMPTS_TRY_LATER" => RemoteError::TooManyAttempts,
        "USER_DISABLED" => RemoteError::UserDisabled,
        "INVALID_REFRESH_TOKEN"
        | "TOKEN_EXPIRED"
        | "USER_NOT_FOUND"
        | "INVALID_ID_TOKEN"
        | "MISSING_REFRESH_TOKEN"
        | "MISSING_ID_TOKEN"
        | "INVALID_GRANT_TYPE" => RemoteError::SessionExpired,
        "CREDENTIAL_TOO_OLD_LOGIN_AGAIN" => RemoteError::RequiresRecentLogin,
        "INSUFFICIENT_PERMISSION" => RemoteError::PermissionDenied,
        _ => return None,
    })
}

/// Firestore's gRPC status names.
fn from_grpc_status(status: &str, message: &str) -> Option<RemoteError> {
    let message = message.to_string();
    Some(match status {
        "INVALID_ARGUMENT" | "OUT_OF_RANGE" => RemoteError::InvalidRequest(message),
        "UNAUTHENTICATED" => RemoteError::SessionExpired,
        "PERMISSION_DENIED" => RemoteError::PermissionDenied,
        "NOT_FOUND" => RemoteError::NotFound,
        "ALREADY_EXISTS" | "FAILED_PRECONDITION" | "ABORTED" => RemoteError::Conflict(message),
        "RESOURCE_EXHAUSTED" => RemoteError::RateLimited,
        _ => return None,
    })
}

fn from_http_status(status: u16, message: &str) -> RemoteError {
    let message = if message.is_empty() {
        format!("HTTP {status}")
    } else {
        message.to_string()
    };
    match status {
        401 => RemoteError::SessionExpired,
        402 => RemoteError::InsufficientCredits(message),
        403 => RemoteError::PermissionDenied,
        404 | 410 => RemoteError::NotFound,
        300..=399 => RemoteError::MalformedResponse(format!("unexpected redirect (HTTP {status})")),
        408 => RemoteError::Timeout,
        409 | 412 => RemoteError::Conflict(message),
        429 => RemoteError::RateLimited,
        500..=599 => RemoteError::Server(status),
        _ => RemoteError::InvalidRequest(message),
    }
}

/// Maps a transport failure. reqwest's own message is never shown: it contains the URL.
pub(crate) fn from_transport(error: &reqwest::Error) -> RemoteError {
    if error.is_timeout() {
        RemoteError::Timeout
    } else if error.is_decode() {
        RemoteError::MalformedResponse("the answer could not be decoded".to_string())
    } else if error.is_builder() {
        RemoteError::InvalidUrl
    } else {
        RemoteError::Unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn firebase(status: u16, message: &str) -> RemoteError {
        let body = serde_json::json!({
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": "invalid"}]
            }
        });
        RemoteError::from_response(status, body.to_string().as_bytes())
    }

    #[test]
    fn firebase_auth_messages_map_to_codes() {
        let cases = [
            ("EMAIL_EXISTS", "auth.email_exists"),
            ("EMAIL_NOT_FOUND", "auth.invalid_credentials"),
            ("INVALID_PASSWORD", "auth.invalid_credentials"),
            ("INVALID_LOGIN_CREDENTIALS", "auth.invalid_credentials"),
            ("INVALID_EMAIL", "auth.invalid_email"),
            ("MISSING_PASSWORD", "request.invalid"),
            ("INVALID_ID_TOKEN", "auth.session_expired"),
            ("TOKEN_EXPIRED", "auth.session_expired"),
            ("INVALID_REFRESH_TOKEN", "auth.session_expired"),
            ("USER_NOT_FOUND", "auth.session_expired"),
            ("USER_DISABLED", "auth.user_disabled"),
            (
                "CREDENTIAL_TOO_OLD_LOGIN_AGAIN",
                "auth.requires_recent_login",
            ),
            ("TOO_MANY_ATTEMPTS_TRY_LATER", "auth.too_many_attempts"),
            ("INVALID_NEW_EMAIL", "auth.invalid_email"),
            ("MISSING_NEW_EMAIL", "auth.invalid_email"),
            ("INVALID_OOB_CODE", "auth.invalid_action_code"),
            ("MISSING_OOB_CODE", "auth.invalid_action_code"),
            ("EXPIRED_OOB_CODE", "auth.expired_action_code"),
            (
                "INSUFFICIENT_PERMISSION : Only authenticated requests can specify target_project_id.",
                "permission.denied",
            ),
        ];
        for (message, code) in cases {
            assert_eq!(firebase(400, message).code(), code, "{message}");
        }
    }

    #[test]
    fn a_suffixed_firebase_message_is_matched_on_its_prefix() {
        let e = firebase(
            400,
            "WEAK_PASSWORD : Password should be at least 6 characters",
        );
        assert_eq!(e.code(), "auth.weak_password");
        assert_eq!(
            e.to_string(),
            "This password is too weak: Password should be at least 6 characters."
        );
        let e = firebase(
            429,
            "TOO_MANY_ATTEMPTS_TRY_LATER : Access to this account has been temporarily disabled",
        );
        assert_eq!(e.code(), "auth.too_many_attempts");
    }

    #[test]
    fn the_secure_token_endpoint_shape_maps_too() {
        // securetoken.googleapis.com answers with the same envelope, status "INVALID_ARGUMENT".
        let body = br#"{"error":{"code":400,"message":"INVALID_REFRESH_TOKEN","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            RemoteError::from_response(400, body).code(),
            "auth.session_expired"
        );
    }

    #[test]
    fn firestore_statuses_map_to_codes() {
        let cases = [
            (403, "PERMISSION_DENIED", "permission.denied"),
            (401, "UNAUTHENTICATED", "auth.session_expired"),
            (404, "NOT_FOUND", "not_found"),
            (409, "ALREADY_EXISTS", "conflict"),
            (400, "FAILED_PRECONDITION", "conflict"),
            (400, "INVALID_ARGUMENT", "request.invalid"),
            (429, "RESOURCE_EXHAUSTED", "server.rate_limited"),
            (503, "UNAVAILABLE", "server.error"),
        ];
        for (status, name, code) in cases {
            let body = serde_json::json!({
                "error": {"code": status, "message": "Missing or insufficient permissions.", "status": name}
            });
            assert_eq!(
                RemoteError::from_response(status, body.to_string().as_bytes()).code(),
                code,
                "{name}"
            );
        }
    }

    #[test]
    fn cleom_api_codes_map_and_carry_the_server_message() {
        let api = |status: u16, code: &str, message: &str| {
            let body = serde_json::json!({"error": {"code": code, "message": message}});
            RemoteError::from_response(status, body.to_string().as_bytes())
        };
        let e = api(
            402,
            "INSUFFICIENT_CREDITS",
            "this needs 700 credits, the balance is 500",
        );
        assert_eq!(e.code(), "credits.insufficient");
        assert!(e.to_string().contains("700 credits"));
        let e = api(
            400,
            "INVALID_SETTINGS",
            "duration must be between 5 and 60 seconds",
        );
        assert_eq!(
            e,
            RemoteError::InvalidRequest("duration must be between 5 and 60 seconds".into())
        );
        assert_eq!(
            api(400, "INVALID_PROMPT", "the prompt is empty").code(),
            "request.invalid"
        );
        assert_eq!(api(409, "ID_CONFLICT", "other content").code(), "conflict");
        assert_eq!(
            api(409, "NOT_CANCELABLE", "already done").code(),
            "conflict"
        );
        assert_eq!(
            api(404, "NOT_FOUND", "no such generation").code(),
            "not_found"
        );
        // An unknown code falls back on the HTTP status.
        assert_eq!(api(403, "SOMETHING_NEW", "no").code(), "permission.denied");
    }

    #[test]
    fn bodies_that_are_not_json_fall_back_on_the_status() {
        assert_eq!(
            RemoteError::from_response(502, b"<html>Bad gateway</html>"),
            RemoteError::Server(502)
        );
        assert_eq!(
            RemoteError::from_response(401, b""),
            RemoteError::SessionExpired
        );
        assert_eq!(
            RemoteError::from_response(404, b"{}"),
            RemoteError::NotFound
        );
        assert_eq!(
            RemoteError::from_response(429, b"[]"),
            RemoteError::RateLimited
        );
        assert_eq!(
            RemoteError::from_response(400, b"null").code(),
            "request.invalid"
        );
        assert_eq!(
            RemoteError::from_response(418, br#"{"error": 5}"#).code(),
            "request.invalid"
        );
    }

    #[test]
    fn bad_json_never_quotes_the_value() {
        let error = serde_json::from_str::<u32>("\"secret-token-value\"").unwrap_err();
        let e = RemoteError::bad_json("sign-in answer", &error);
        assert_eq!(e.code(), "server.malformed_response");
        assert!(!e.to_string().contains("secret-token-value"));
    }
}
