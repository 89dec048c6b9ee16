//! The Firebase Auth REST subset (`/identitytoolkit.googleapis.com/v1/accounts:*`) and the
//! Secure Token refresh (`/securetoken.googleapis.com/v1/token`), with Firebase's JSON shapes
//! and error messages, so the app's Auth client needs no special case for the local backend.
//!
//! Tokens are opaque random strings; only their SHA-256 digests are stored. ID tokens live an
//! hour; refresh tokens until the password or email changes or the account is deleted (refresh
//! returns the same refresh token, as Firebase does). Passwords are stored as an iterated,
//! salted SHA-256 — a placeholder for a real KDF that is still never plaintext.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonResponse;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value as Json};
use sha2::{Digest as _, Sha256};

use crate::db::{Store, Tx};
use crate::documents::{self, profile_path};
use crate::error::StoreError;
use crate::ids;
use crate::ledger;
use crate::value::{fields_from_json, Fields, Timestamp, Value};
use crate::AppState;

/// ID token lifetime, in seconds (`expiresIn`).
pub(crate) const ID_TOKEN_SECONDS: i64 = 3600;
/// Deleting the account or changing its email or password needs a sign-in this recent.
const RECENT_LOGIN_SECONDS: i64 = 300;
/// Expired ID tokens are remembered this long, to answer TOKEN_EXPIRED rather than
/// INVALID_ID_TOKEN, then forgotten.
const EXPIRED_TOKEN_MEMORY_SECONDS: i64 = 86_400;
const PASSWORD_ROUNDS: u32 = 10_000;
const MIN_PASSWORD_CHARS: usize = 6;
const PROJECT_ID: &str = "demo-cleom";
/// An email action code (`oobCode`) is valid this long, then `EXPIRED_OOB_CODE`.
const OOB_CODE_SECONDS: i64 = 3600;

/// Who a bearer token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Principal {
    Admin,
    User(String),
}

/// Why a bearer token was not accepted.
#[derive(Debug)]
pub(crate) enum BearerError {
    Invalid,
    Expired,
    Store(StoreError),
}

impl From<StoreError> for BearerError {
    fn from(e: StoreError) -> BearerError {
        BearerError::Store(e)
    }
}

fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// The token of an `Authorization: Bearer …` header: `None` without the header, `Some(None)`
/// when the header is not a usable bearer token.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<Option<&str>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty()),
    )
}

/// The caller named by an `Authorization: Bearer …` header; `None` without the header.
/// `admin_tokens` are the bearer tokens with admin rights.
pub(crate) async fn principal(
    store: &Arc<Store>,
    admin_tokens: &[String],
    headers: &HeaderMap,
) -> Result<Option<Principal>, BearerError> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    let token = token.ok_or(BearerError::Invalid)?;
    if is_one_of(admin_tokens.iter().map(String::as_str), token) {
        return Ok(Some(Principal::Admin));
    }
    let token = token.to_string();
    let session = store
        .run(move |db| Ok::<_, StoreError>(resolve_id_token(db.conn(), &token, now_ms())))
        .await?;
    match session? {
        IdToken::Valid { uid, .. } => Ok(Some(Principal::User(uid))),
        IdToken::Expired => Err(BearerError::Expired),
        IdToken::Unknown => Err(BearerError::Invalid),
    }
}

enum IdToken {
    Valid { uid: String, auth_time_ms: i64 },
    Expired,
    Unknown,
}

fn resolve_id_token(conn: &Connection, token: &str, now_ms: i64) -> Result<IdToken, StoreError> {
    let row: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT uid, expires_at_ms, auth_time_ms FROM auth_tokens WHERE token_digest = ?1 AND kind = 'id'",
            [ids::token_digest(token)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => IdToken::Unknown,
        Some((_, expires, _)) if expires <= now_ms => IdToken::Expired,
        Some((uid, _, auth_time_ms)) => IdToken::Valid { uid, auth_time_ms },
    })
}

/// A fresh pair of tokens.
struct Session {
    id_token: String,
    refresh_token: String,
}

fn issue_id_token(conn: &Connection, uid: &str, auth_time_ms: i64) -> Result<String, StoreError> {
    let token = ids::new_secret();
    conn.execute(
        "INSERT INTO auth_tokens (token_digest, kind, uid, expires_at_ms, auth_time_ms) VALUES (?1, 'id', ?2, ?3, ?4)",
        params![ids::token_digest(&token), uid, now_ms() + ID_TOKEN_SECONDS * 1000, auth_time_ms],
    )?;
    conn.execute(
        "DELETE FROM auth_tokens WHERE kind = 'id' AND expires_at_ms < ?1",
        [now_ms() - EXPIRED_TOKEN_MEMORY_SECONDS * 1000],
    )?;
    Ok(token)
}

/// Signs `uid` in: a new refresh token and ID token, with the sign-in time as auth time.
fn issue_session(conn: &Connection, uid: &str) -> Result<Session, StoreError> {
    let refresh_token = ids::new_secret();
    let auth_time_ms = now_ms();
    conn.execute(
        "INSERT INTO auth_tokens (token_digest, kind, uid, expires_at_ms, auth_time_ms) VALUES (?1, 'refresh', ?2, NULL, ?3)",
        params![ids::token_digest(&refresh_token), uid, auth_time_ms],
    )?;
    let id_token = issue_id_token(conn, uid, auth_time_ms)?;
    Ok(Session {
        id_token,
        refresh_token,
    })
}

/// Forgets every token of `uid` (signs it out everywhere).
pub(crate) fn revoke_tokens(conn: &Connection, uid: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM auth_tokens WHERE uid = ?1", [uid])?;
    Ok(())
}

fn hash_password(salt: &[u8], password: &str) -> [u8; 32] {
    let mut digest: [u8; 32] = Sha256::new()
        .chain_update(salt)
        .chain_update(password.as_bytes())
        .finalize()
        .into();
    for _ in 0..PASSWORD_ROUNDS {
        digest = Sha256::new()
            .chain_update(digest)
            .chain_update(salt)
            .chain_update(password.as_bytes())
            .finalize()
            .into();
    }
    digest
}

/// Whether `password` matches the stored `(salt, hash)`; with none stored (an unknown email) a
/// password is still hashed, with a fixed salt, and `false` returned — the same work either way.
fn password_matches(
    stored: Option<&(Vec<u8>, Vec<u8>)>,
    password: &str,
    hash: impl Fn(&[u8], &str) -> [u8; 32],
) -> bool {
    match stored {
        Some((salt, expected)) => constant_time_eq(&hash(salt, password), expected),
        None => {
            // `black_box`, so the optimizer cannot drop a hash whose result is not used.
            std::hint::black_box(constant_time_eq(
                &hash(&UNKNOWN_EMAIL_SALT, password),
                &[0; 32],
            ));
            false
        }
    }
}

/// The salt hashed with for an unknown email (any fixed one: the result is thrown away).
const UNKNOWN_EMAIL_SALT: [u8; 16] = [0; 16];

/// Whether `candidate` is one of `secrets`, in time that depends on the secrets' lengths and
/// count only, never on how much of one a guess got right: every secret is compared, each in
/// constant time.
pub(crate) fn is_one_of<'a>(secrets: impl IntoIterator<Item = &'a str>, candidate: &str) -> bool {
    secrets.into_iter().fold(false, |found, secret| {
        constant_time_eq(secret.as_bytes(), candidate.as_bytes()) | found
    })
}

/// Byte-wise equality whose time depends on the lengths only (unequal lengths answer at once:
/// a length is no secret worth hiding here).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Salts and hashes off the async runtime (it takes a few milliseconds on purpose).
async fn hash_new_password(password: String) -> Result<([u8; 16], [u8; 32]), AuthError> {
    tokio::task::spawn_blocking(move || {
        let salt = ids::random_bytes::<16>();
        (salt, hash_password(&salt, &password))
    })
    .await
    .map_err(|e| AuthError::from(StoreError::Task(e.to_string())))
}

/// A plausible email address: one `@`, something before it, a dotted domain after it.
pub(crate) fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An error in Firebase Auth's shape.
#[derive(Debug)]
pub(crate) struct AuthError {
    http: StatusCode,
    message: String,
}

impl AuthError {
    fn bad(message: impl Into<String>) -> AuthError {
        AuthError {
            http: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> AuthError {
        tracing::error!(%error, "auth request failed");
        AuthError {
            http: StatusCode::INTERNAL_SERVER_ERROR,
            message: "INTERNAL_ERROR".into(),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": {
            "code": self.http.as_u16(),
            "message": self.message,
            "errors": [{ "message": self.message, "domain": "global", "reason": "invalid" }],
        }});
        if self.http == StatusCode::UNAUTHORIZED {
            body["error"]["status"] = json!("UNAUTHENTICATED");
        }
        (self.http, JsonResponse(body)).into_response()
    }
}

struct AuthUser {
    uid: String,
    email: String,
    display_name: Option<String>,
    created_at_ms: i64,
    last_login_at_ms: i64,
    password_updated_at_ms: i64,
    valid_since_s: i64,
    email_verified: bool,
}

fn user_by_uid(conn: &Connection, uid: &str) -> Result<Option<AuthUser>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT uid, email, display_name, created_at_ms, last_login_at_ms, password_updated_at_ms, valid_since_s,
                 email_verified
             FROM auth_users WHERE uid = ?1",
            [uid],
            |r| {
                Ok(AuthUser {
                    uid: r.get(0)?,
                    email: r.get(1)?,
                    display_name: r.get(2)?,
                    created_at_ms: r.get(3)?,
                    last_login_at_ms: r.get(4)?,
                    password_updated_at_ms: r.get(5)?,
                    valid_since_s: r.get(6)?,
                    email_verified: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// The current sign-in email of `uid`: what Firebase puts in the `email` claim of its ID
/// tokens (an email change revokes every token, so a valid token's claim is always this).
pub(crate) fn email_of(conn: &Connection, uid: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT email FROM auth_users WHERE uid = ?1", [uid], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Deletes the Auth user, its tokens and its pending email codes; answers whether there was one.
fn delete_user(conn: &Connection, uid: &str) -> Result<bool, StoreError> {
    revoke_tokens(conn, uid)?;
    conn.execute("DELETE FROM auth_oob_codes WHERE uid = ?1", [uid])?;
    Ok(conn.execute("DELETE FROM auth_users WHERE uid = ?1", [uid])? > 0)
}

/// Makes `email` the sign-in address of `uid` (verified or not), mirrors it into the profile and
/// signs every session out, as Firebase does for any email change.
fn change_email(tx: &Tx<'_>, uid: &str, email: &str, verified: bool) -> Result<(), AuthError> {
    if email_taken(tx.conn, email)? {
        return Err(AuthError::bad("EMAIL_EXISTS"));
    }
    tx.conn
        .execute(
            "UPDATE auth_users SET email = ?1, email_verified = ?2 WHERE uid = ?3",
            params![email, verified, uid],
        )
        .map_err(StoreError::from)?;
    update_profile(tx, uid, vec![("email", Value::String(email.to_string()))])?;
    sign_out_everywhere(tx.conn, uid)?;
    Ok(())
}

/// Revokes every token of `uid` and moves its `validSince` to now.
fn sign_out_everywhere(conn: &Connection, uid: &str) -> Result<(), StoreError> {
    revoke_tokens(conn, uid)?;
    conn.execute(
        "UPDATE auth_users SET valid_since_s = ?1 WHERE uid = ?2",
        params![now_ms() / 1000, uid],
    )?;
    Ok(())
}

fn email_taken(conn: &Connection, email: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM auth_users WHERE email = ?1",
        [email],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// A string member of the request body (absent or null → `None`).
fn text<'a>(body: &'a Json, key: &str) -> Result<Option<&'a str>, AuthError> {
    match body.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(AuthError::bad(format!(
            "INVALID_ARGUMENT : {key} must be a string"
        ))),
    }
}

fn parse_json(body: &Bytes) -> Result<Json, AuthError> {
    let json: Json = serde_json::from_slice(body)
        .map_err(|_| AuthError::bad("INVALID_ARGUMENT : Invalid JSON payload received."))?;
    if json.is_object() {
        Ok(json)
    } else {
        Err(AuthError::bad(
            "INVALID_ARGUMENT : Invalid JSON payload received.",
        ))
    }
}

fn checked_email(body: &Json) -> Result<String, AuthError> {
    let email = text(body, "email")?.ok_or_else(|| AuthError::bad("MISSING_EMAIL"))?;
    let email = email.trim().to_lowercase();
    if !is_valid_email(&email) {
        return Err(AuthError::bad("INVALID_EMAIL"));
    }
    Ok(email)
}

fn checked_new_password(password: Option<&str>) -> Result<String, AuthError> {
    let password = password.ok_or_else(|| AuthError::bad("MISSING_PASSWORD"))?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::bad(
            "WEAK_PASSWORD : Password should be at least 6 characters",
        ));
    }
    Ok(password.to_string())
}

/// The user behind an `idToken` member, or Firebase's error for it.
fn user_for_id_token(conn: &Connection, body: &Json) -> Result<(AuthUser, i64), AuthError> {
    let token = text(body, "idToken")?.ok_or_else(|| AuthError::bad("MISSING_ID_TOKEN"))?;
    match resolve_id_token(conn, token, now_ms())? {
        IdToken::Unknown => Err(AuthError::bad("INVALID_ID_TOKEN")),
        IdToken::Expired => Err(AuthError::bad("TOKEN_EXPIRED")),
        IdToken::Valid { uid, auth_time_ms } => match user_by_uid(conn, &uid)? {
            Some(user) => Ok((user, auth_time_ms)),
            None => Err(AuthError::bad("USER_NOT_FOUND")),
        },
    }
}

fn require_recent_login(auth_time_ms: i64) -> Result<(), AuthError> {
    if now_ms() - auth_time_ms > RECENT_LOGIN_SECONDS * 1000 {
        Err(AuthError::bad("CREDENTIAL_TOO_OLD_LOGIN_AGAIN"))
    } else {
        Ok(())
    }
}

/// `POST /identitytoolkit.googleapis.com/v1/{action}` (`accounts:signUp`, …).
pub(crate) async fn identity_toolkit(
    State(app): State<AppState>,
    Path(action): Path<String>,
    body: Bytes,
) -> Response {
    let result = match parse_json(&body) {
        Err(e) => Err(e),
        Ok(body) => match action.as_str() {
            "accounts:signUp" => sign_up(&app, body).await,
            "accounts:signInWithPassword" => sign_in(&app, body).await,
            "accounts:lookup" => lookup(&app, body).await,
            "accounts:update" => match text(&body, "oobCode") {
                Ok(Some(code)) if !code.is_empty() => apply_oob_code(&app, code.to_string()).await,
                Ok(_) => update(&app, body).await,
                Err(e) => Err(e),
            },
            "accounts:sendOobCode" => send_oob_code(&app, body).await,
            "accounts:resetPassword" => reset_password(&app, body).await,
            "accounts:delete" => delete(&app, body).await,
            _ => Err(AuthError {
                http: StatusCode::NOT_FOUND,
                message: "NOT_FOUND".into(),
            }),
        },
    };
    match result {
        Ok(json) => JsonResponse(json).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn sign_up(app: &AppState, body: Json) -> Result<Json, AuthError> {
    let email = checked_email(&body)?;
    let password = checked_new_password(text(&body, "password")?)?;
    let display_name = text(&body, "displayName")?
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let (salt, hash) = hash_new_password(password).await?;
    app.store
        .run(move |db| {
            db.write(|tx: &Tx<'_>| {
                if email_taken(tx.conn, &email)? {
                    return Err(AuthError::bad("EMAIL_EXISTS"));
                }
                let uid = ids::new_uid();
                let now = now_ms();
                tx.conn
                    .execute(
                        "INSERT INTO auth_users (uid, email, password_salt, password_hash, display_name,
                             created_at_ms, last_login_at_ms, password_updated_at_ms, valid_since_s)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7)",
                        params![uid, email, &salt[..], &hash[..], display_name, now, now / 1000],
                    )
                    .map_err(StoreError::from)?;
                create_profile(tx, &uid, &email, display_name.as_deref())?;
                let session = issue_session(tx.conn, &uid)?;
                Ok(json!({
                    "kind": "identitytoolkit#SignupNewUserResponse",
                    "idToken": session.id_token,
                    "email": email,
                    "refreshToken": session.refresh_token,
                    "expiresIn": ID_TOKEN_SECONDS.to_string(),
                    "localId": uid,
                }))
            })
        })
        .await
}

/// Firebase Auth's answer once `sign_in_limits` says no.
const TOO_MANY_ATTEMPTS: &str = "TOO_MANY_ATTEMPTS_TRY_LATER : Access to this account has been temporarily disabled due to many failed login attempts. You can immediately restore it by resetting your password or you can try again later.";

async fn sign_in(app: &AppState, body: Json) -> Result<Json, AuthError> {
    let email = checked_email(&body)?;
    let password = text(&body, "password")?
        .ok_or_else(|| AuthError::bad("MISSING_PASSWORD"))?
        .to_string();
    let attempts = || {
        app.sign_in_attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    };
    if !attempts().allows(&email, Instant::now()) {
        return Err(AuthError::bad(TOO_MANY_ATTEMPTS));
    }
    let lookup_email = email.clone();
    let stored: Option<(String, Vec<u8>, Vec<u8>)> = app
        .store
        .run(move |db| {
            db.conn()
                .query_row(
                    "SELECT uid, password_salt, password_hash FROM auth_users WHERE email = ?1",
                    [&lookup_email],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(StoreError::from)
        })
        .await?;
    // Unknown email and wrong password answer alike, as Firebase does with email enumeration
    // protection on.
    // An unknown email costs the same hash as a known one, so timing does not tell them apart.
    let (uid, hashed) = match stored {
        Some((uid, salt, expected)) => (Some(uid), Some((salt, expected))),
        None => (None, None),
    };
    let matches = tokio::task::spawn_blocking(move || {
        password_matches(hashed.as_ref(), &password, hash_password)
    })
    .await
    .map_err(|e| AuthError::from(StoreError::Task(e.to_string())))?;
    let (Some(uid), true) = (uid, matches) else {
        attempts().failed(&email, Instant::now());
        return Err(AuthError::bad("INVALID_LOGIN_CREDENTIALS"));
    };
    attempts().succeeded(&email);
    app.store
        .run(move |db| {
            db.write(|tx| {
                tx.conn
                    .execute(
                        "UPDATE auth_users SET last_login_at_ms = ?1 WHERE uid = ?2",
                        params![now_ms(), uid],
                    )
                    .map_err(StoreError::from)?;
                let user = user_by_uid(tx.conn, &uid)?
                    .ok_or_else(|| AuthError::bad("INVALID_LOGIN_CREDENTIALS"))?;
                let session = issue_session(tx.conn, &uid)?;
                Ok(json!({
                    "kind": "identitytoolkit#VerifyPasswordResponse",
                    "localId": user.uid,
                    "email": user.email,
                    "displayName": user.display_name.unwrap_or_default(),
                    "idToken": session.id_token,
                    "registered": true,
                    "refreshToken": session.refresh_token,
                    "expiresIn": ID_TOKEN_SECONDS.to_string(),
                }))
            })
        })
        .await
}

fn user_json(user: &AuthUser) -> Json {
    let mut provider = json!({
        "providerId": "password",
        "federatedId": user.email,
        "email": user.email,
        "rawId": user.email,
    });
    let mut out = json!({
        "localId": user.uid,
        "email": user.email,
        "emailVerified": user.email_verified,
        "providerUserInfo": [],
        "passwordUpdatedAt": user.password_updated_at_ms,
        "validSince": user.valid_since_s.to_string(),
        "createdAt": user.created_at_ms.to_string(),
        "lastLoginAt": user.last_login_at_ms.to_string(),
    });
    if let Some(name) = &user.display_name {
        out["displayName"] = json!(name);
        provider["displayName"] = json!(name);
    }
    out["providerUserInfo"] = json!([provider]);
    out
}

async fn lookup(app: &AppState, body: Json) -> Result<Json, AuthError> {
    app.store
        .run(move |db| {
            let (user, _) = user_for_id_token(db.conn(), &body)?;
            Ok(json!({ "kind": "identitytoolkit#GetAccountInfoResponse", "users": [user_json(&user)] }))
        })
        .await
}

/// What an `accounts:update` asks to change, checked, with a new password already hashed.
struct AccountChanges {
    email: Option<String>,
    /// `Some(None)` removes the display name.
    display_name: Option<Option<String>>,
    password_hash: Option<([u8; 16], [u8; 32])>,
}

impl AccountChanges {
    /// Reads and checks the changes `body` asks for (the password is hashed off the runtime).
    async fn from_request(body: &Json) -> Result<AccountChanges, AuthError> {
        let email = match text(body, "email")? {
            None => None,
            Some(_) => Some(checked_email(body)?),
        };
        let new_password = match text(body, "password")? {
            None => None,
            Some(p) => Some(checked_new_password(Some(p))?),
        };
        let delete_display_name = body
            .get("deleteAttribute")
            .and_then(Json::as_array)
            .is_some_and(|attrs| attrs.iter().any(|a| a == "DISPLAY_NAME"));
        let display_name: Option<Option<String>> = if delete_display_name {
            Some(None)
        } else {
            text(body, "displayName")?.map(|n| (!n.is_empty()).then(|| n.to_string()))
        };
        let password_hash = match new_password {
            Some(p) => Some(hash_new_password(p).await?),
            None => None,
        };
        Ok(AccountChanges {
            email,
            display_name,
            password_hash,
        })
    }

    /// Whether a credential changes (a new email or any password): that needs a recent sign-in
    /// and signs every other session out.
    fn changes_credentials(&self, user: &AuthUser) -> bool {
        self.email.as_ref().is_some_and(|e| *e != user.email) || self.password_hash.is_some()
    }
}

async fn update(app: &AppState, body: Json) -> Result<Json, AuthError> {
    let changes = AccountChanges::from_request(&body).await?;
    app.store
        .run(move |db| {
            db.write(|tx| {
                let (user, auth_time_ms) = user_for_id_token(tx.conn, &body)?;
                let credentials_change = changes.changes_credentials(&user);
                if credentials_change {
                    require_recent_login(auth_time_ms)?;
                }
                let uid = user.uid.clone();
                let profile_changes = write_account_changes(tx, &user, &changes)?;
                if !profile_changes.is_empty() {
                    update_profile(tx, &uid, profile_changes)?;
                }
                let session = if credentials_change {
                    Some(sign_out_other_sessions(tx.conn, &uid)?)
                } else {
                    None
                };
                let user =
                    user_by_uid(tx.conn, &uid)?.ok_or_else(|| AuthError::bad("USER_NOT_FOUND"))?;
                let mut out = user_json(&user);
                out["kind"] = json!("identitytoolkit#SetAccountInfoResponse");
                if let Some(session) = session {
                    out["idToken"] = json!(session.id_token);
                    out["refreshToken"] = json!(session.refresh_token);
                    out["expiresIn"] = json!(ID_TOKEN_SECONDS.to_string());
                }
                Ok(out)
            })
        })
        .await
}

/// Writes `changes` to `user`'s Auth record; answers the profile document's fields that
/// follow them (`email`, `displayName`).
fn write_account_changes(
    tx: &Tx<'_>,
    user: &AuthUser,
    changes: &AccountChanges,
) -> Result<Vec<(&'static str, Value)>, AuthError> {
    let uid = &user.uid;
    let mut profile_changes = Vec::new();
    if let Some(email) = &changes.email {
        if *email != user.email {
            if email_taken(tx.conn, email)? {
                return Err(AuthError::bad("EMAIL_EXISTS"));
            }
            tx.conn
                .execute(
                    "UPDATE auth_users SET email = ?1, email_verified = 0 WHERE uid = ?2",
                    params![email, uid],
                )
                .map_err(StoreError::from)?;
            profile_changes.push(("email", Value::String(email.clone())));
        }
    }
    if let Some(name) = &changes.display_name {
        tx.conn
            .execute(
                "UPDATE auth_users SET display_name = ?1 WHERE uid = ?2",
                params![name, uid],
            )
            .map_err(StoreError::from)?;
        profile_changes.push((
            "displayName",
            name.as_ref()
                .map_or(Value::Null, |n| Value::String(n.clone())),
        ));
    }
    if let Some((salt, hash)) = &changes.password_hash {
        tx.conn
            .execute(
                "UPDATE auth_users SET password_salt = ?1, password_hash = ?2, password_updated_at_ms = ?3
                 WHERE uid = ?4",
                params![&salt[..], &hash[..], now_ms(), uid],
            )
            .map_err(StoreError::from)?;
    }
    Ok(profile_changes)
}

/// After a new email or password: every session of `uid` is signed out and a new one issued
/// for the caller.
fn sign_out_other_sessions(conn: &Connection, uid: &str) -> Result<Session, StoreError> {
    revoke_tokens(conn, uid)?;
    conn.execute(
        "UPDATE auth_users SET valid_since_s = ?1 WHERE uid = ?2",
        params![now_ms() / 1000, uid],
    )?;
    issue_session(conn, uid)
}

/// `accounts:sendOobCode`. No mail is sent locally: the code is kept in the database, where the
/// admin listing ([`list_oob_codes`]) shows it with the email's link, as the Auth emulator does.
/// The link is the app's own `cleom://auth/action?mode=…&oobCode=…` (see `cleom_core::link`),
/// as a Firebase project whose action URL points at the app makes its emails' links.
async fn send_oob_code(app: &AppState, body: Json) -> Result<Json, AuthError> {
    match text(&body, "requestType")? {
        None | Some("") => Err(AuthError::bad("MISSING_REQ_TYPE")),
        Some("PASSWORD_RESET") => {
            let email = checked_email(&body)?;
            app.store
                .run(move |db| {
                    db.write(|tx| {
                        // The answer is the same whether or not the account exists; only an
                        // existing one gets a code.
                        let uid: Option<String> = tx
                            .conn
                            .query_row("SELECT uid FROM auth_users WHERE email = ?1", [&email], |r| r.get(0))
                            .optional()
                            .map_err(StoreError::from)?;
                        if let Some(uid) = uid {
                            store_oob_code(tx.conn, OobRequest::PasswordReset, &uid, &email, None)?;
                        }
                        Ok(json!({ "kind": "identitytoolkit#GetOobConfirmationCodeResponse", "email": email }))
                    })
                })
                .await
        }
        Some("VERIFY_AND_CHANGE_EMAIL") => {
            let new_email = text(&body, "newEmail")?
                .ok_or_else(|| AuthError::bad("MISSING_NEW_EMAIL"))?
                .trim()
                .to_lowercase();
            if !is_valid_email(&new_email) {
                return Err(AuthError::bad("INVALID_NEW_EMAIL"));
            }
            app.store
                .run(move |db| {
                    db.write(|tx| {
                        let (user, auth_time_ms) = user_for_id_token(tx.conn, &body)?;
                        // Firebase asks for a recent sign-in here (the emulator does not).
                        require_recent_login(auth_time_ms)?;
                        if email_taken(tx.conn, &new_email)? {
                            return Err(AuthError::bad("EMAIL_EXISTS"));
                        }
                        store_oob_code(
                            tx.conn,
                            OobRequest::VerifyAndChangeEmail,
                            &user.uid,
                            &user.email,
                            Some(&new_email),
                        )?;
                        Ok(json!({
                            "kind": "identitytoolkit#GetOobConfirmationCodeResponse",
                            "email": user.email,
                        }))
                    })
                })
                .await
        }
        Some(_) => Err(AuthError::bad(
            "INVALID_REQ_TYPE : Unsupported request type.",
        )),
    }
}

/// The email actions the local backend sends codes for.
#[derive(Debug, Clone, Copy)]
enum OobRequest {
    PasswordReset,
    VerifyAndChangeEmail,
}

impl OobRequest {
    /// `requestType`, as `sendOobCode` takes it and the listing shows it.
    fn request_type(self) -> &'static str {
        match self {
            OobRequest::PasswordReset => "PASSWORD_RESET",
            OobRequest::VerifyAndChangeEmail => "VERIFY_AND_CHANGE_EMAIL",
        }
    }

    /// The link's `mode`, as Firebase's action links name it.
    fn mode(self) -> &'static str {
        match self {
            OobRequest::PasswordReset => "resetPassword",
            OobRequest::VerifyAndChangeEmail => "verifyAndChangeEmail",
        }
    }
}

/// Keeps a new code for `uid` (whose address is `email` now) and forgets codes expired a day ago.
fn store_oob_code(
    conn: &Connection,
    request: OobRequest,
    uid: &str,
    email: &str,
    new_email: Option<&str>,
) -> Result<(), StoreError> {
    let code = ids::random_alphanumeric(54);
    let link = cleom_core::link::action_link(request.mode(), &code);
    let now = now_ms();
    conn.execute(
        "DELETE FROM auth_oob_codes WHERE expires_at_ms < ?1",
        [now - EXPIRED_TOKEN_MEMORY_SECONDS * 1000],
    )?;
    conn.execute(
        "INSERT INTO auth_oob_codes (oob_code, request_type, uid, email, new_email, oob_link,
             created_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            code,
            request.request_type(),
            uid,
            email,
            new_email,
            link,
            now,
            now + OOB_CODE_SECONDS * 1000
        ],
    )?;
    Ok(())
}

/// A pending code of `request_type`: the account it was sent for, while that account still has
/// the address it was sent to. Unknown, used, other-typed and voided codes are
/// `INVALID_OOB_CODE`; an expired one is removed and `EXPIRED_OOB_CODE`.
fn pending_code(
    tx: &Tx<'_>,
    code: &str,
    request: OobRequest,
) -> Result<(AuthUser, Option<String>), AuthError> {
    let row: Option<(String, String, String, Option<String>, i64)> = tx
        .conn
        .query_row(
            "SELECT request_type, uid, email, new_email, expires_at_ms FROM auth_oob_codes
             WHERE oob_code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(StoreError::from)?;
    let (request_type, uid, email, new_email, expires_at_ms) =
        row.ok_or_else(|| AuthError::bad("INVALID_OOB_CODE"))?;
    if request_type != request.request_type() {
        return Err(AuthError::bad("INVALID_OOB_CODE"));
    }
    if expires_at_ms <= now_ms() {
        tx.conn
            .execute("DELETE FROM auth_oob_codes WHERE oob_code = ?1", [code])
            .map_err(StoreError::from)?;
        return Err(AuthError::bad("EXPIRED_OOB_CODE"));
    }
    // A code sent for an address the account no longer has is void.
    let user = user_by_uid(tx.conn, &uid)?
        .filter(|u| u.email == email)
        .ok_or_else(|| AuthError::bad("INVALID_OOB_CODE"))?;
    Ok((user, new_email))
}

/// `accounts:resetPassword {oobCode, newPassword}`: sets the password with a reset code, which
/// then works no more, and signs every session out; answers `{email, requestType}` and no
/// tokens, as Firebase does. Without `newPassword` the code is only checked (Firebase's
/// "verify the code" call), and stays usable.
async fn reset_password(app: &AppState, body: Json) -> Result<Json, AuthError> {
    let code = text(&body, "oobCode")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AuthError::bad("MISSING_OOB_CODE"))?
        .to_string();
    let new_password = match text(&body, "newPassword")? {
        None => None,
        Some(p) => Some(hash_new_password(checked_new_password(Some(p))?).await?),
    };
    app.store
        .run(move |db| {
            db.write(|tx| {
                let (user, _) = pending_code(tx, &code, OobRequest::PasswordReset)?;
                if let Some((salt, hash)) = &new_password {
                    tx.conn
                        .execute("DELETE FROM auth_oob_codes WHERE oob_code = ?1", [&code])
                        .map_err(StoreError::from)?;
                    tx.conn
                        .execute(
                            "UPDATE auth_users SET password_salt = ?1, password_hash = ?2, password_updated_at_ms = ?3
                             WHERE uid = ?4",
                            params![&salt[..], &hash[..], now_ms(), user.uid],
                        )
                        .map_err(StoreError::from)?;
                    sign_out_everywhere(tx.conn, &user.uid)?;
                }
                Ok(json!({
                    "kind": "identitytoolkit#ResetPasswordResponse",
                    "email": user.email,
                    "requestType": "PASSWORD_RESET",
                }))
            })
        })
        .await
}

/// `accounts:update {oobCode}`: applies a verification code. For VERIFY_AND_CHANGE_EMAIL the
/// new address becomes the (verified) sign-in email and every session ends; the answer carries
/// the new email and no tokens, as Firebase's does. A code works once.
async fn apply_oob_code(app: &AppState, code: String) -> Result<Json, AuthError> {
    app.store
        .run(move |db| {
            db.write(|tx| {
                let (user, new_email) = pending_code(tx, &code, OobRequest::VerifyAndChangeEmail)?;
                tx.conn
                    .execute("DELETE FROM auth_oob_codes WHERE oob_code = ?1", [&code])
                    .map_err(StoreError::from)?;
                let new_email = new_email.ok_or_else(|| AuthError::bad("INVALID_OOB_CODE"))?;
                change_email(tx, &user.uid, &new_email, true)?;
                let user = user_by_uid(tx.conn, &user.uid)?
                    .ok_or_else(|| AuthError::bad("INVALID_OOB_CODE"))?;
                let mut out = user_json(&user);
                out["kind"] = json!("identitytoolkit#SetAccountInfoResponse");
                out["newEmail"] = json!(new_email);
                Ok(out)
            })
        })
        .await
}

/// `GET /emulator/v1/projects/{project}/oobCodes`: the pending email codes, as the Auth
/// emulator lists them (`{oobCodes: [{email, newEmail, requestType, oobCode, oobLink}]}`), so
/// tests can follow a "link in the email". The emulator needs no credential; here only an admin
/// bearer token may read it, so no other local process learns the codes.
pub(crate) async fn list_oob_codes(
    State(app): State<AppState>,
    Path(_project): Path<String>,
    headers: HeaderMap,
) -> Response {
    let listed = async {
        match principal(&app.store, &app.admin_tokens, &headers).await {
            Ok(Some(Principal::Admin)) => {}
            Err(BearerError::Store(e)) => return Err(AuthError::from(e)),
            _ => {
                return Err(AuthError {
                    http: StatusCode::FORBIDDEN,
                    message: "PERMISSION_DENIED : the admin token is required".into(),
                })
            }
        }
        app.store
            .run(|db| {
                let mut statement = db
                    .conn()
                    .prepare(
                        "SELECT email, new_email, request_type, oob_code, oob_link FROM auth_oob_codes
                         WHERE expires_at_ms > ?1 ORDER BY created_at_ms, oob_code",
                    )
                    .map_err(StoreError::from)?;
                let rows = statement
                    .query_map([now_ms()], |r| {
                        Ok(json!({
                            "email": r.get::<_, String>(0)?,
                            "newEmail": r.get::<_, Option<String>>(1)?,
                            "requestType": r.get::<_, String>(2)?,
                            "oobCode": r.get::<_, String>(3)?,
                            "oobLink": r.get::<_, String>(4)?,
                        }))
                    })
                    .map_err(StoreError::from)?;
                let codes = rows
                    .collect::<Result<Vec<Json>, _>>()
                    .map_err(StoreError::from)?;
                Ok::<_, AuthError>(json!({ "oobCodes": codes }))
            })
            .await
    };
    match listed.await {
        Ok(json) => JsonResponse(json).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn delete(app: &AppState, body: Json) -> Result<Json, AuthError> {
    app.store
        .run(move |db| {
            db.write(|tx| {
                let (user, auth_time_ms) = user_for_id_token(tx.conn, &body)?;
                require_recent_login(auth_time_ms)?;
                delete_user(tx.conn, &user.uid)?;
                Ok(json!({ "kind": "identitytoolkit#DeleteAccountResponse" }))
            })
        })
        .await
}

/// `POST /identitytoolkit.googleapis.com/v1/projects/{project}/accounts:{delete,update}` with an
/// admin bearer token, as the Admin SDK speaks them (the Auth emulator answers the same way,
/// down to its errors):
/// - `accounts:delete {localId}` deletes a user (the Cleom API's last step of an account
///   deletion). Afterwards the WAL is emptied: the deletion cascade has just removed the
///   account's documents, and no page image holding them may stay behind on disk.
/// - `accounts:update {localId, validSince}` revokes every token of the user and moves its
///   `validSince` to now (`revokeRefreshTokens`; "sign out everywhere else"). Other changes
///   through this admin call are not needed by the API and are refused.
pub(crate) async fn admin_action(
    State(app): State<AppState>,
    Path((_project, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match admin_call(&app, &action, &headers, &body).await {
        Ok(json) => JsonResponse(json).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn admin_call(
    app: &AppState,
    action: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Json, AuthError> {
    if action != "accounts:delete" && action != "accounts:update" {
        return Err(AuthError {
            http: StatusCode::NOT_FOUND,
            message: "NOT_FOUND".into(),
        });
    }
    // As the Auth emulator answers: no credential at all is a 400, any bearer token but an
    // admin one (a user's ID token included) a 401.
    match principal(&app.store, &app.admin_tokens, headers).await {
        Ok(Some(Principal::Admin)) => {}
        Ok(None) => {
            return Err(AuthError::bad(
                "INSUFFICIENT_PERMISSION : Only authenticated requests can specify target_project_id.",
            ))
        }
        Ok(Some(Principal::User(_))) | Err(BearerError::Invalid | BearerError::Expired) => {
            return Err(AuthError {
                http: StatusCode::UNAUTHORIZED,
                message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.".into(),
            })
        }
        Err(BearerError::Store(e)) => return Err(e.into()),
    }
    let body = parse_json(body)?;
    let uid = text(&body, "localId")?
        .ok_or_else(|| AuthError::bad("MISSING_LOCAL_ID"))?
        .to_string();
    if action == "accounts:update" {
        return revoke_as_admin(app, uid, &body).await;
    }
    app.store
        .run(move |db| {
            let existed = db.write(|tx| delete_user(tx.conn, &uid))?;
            if !existed {
                return Err(AuthError::bad("USER_NOT_FOUND"));
            }
            db.checkpoint()?;
            Ok(json!({ "kind": "identitytoolkit#DeleteAccountResponse" }))
        })
        .await
}

/// The admin `accounts:update {localId, validSince}`: every token of the user is revoked and
/// its `validSince` is now, whatever time was asked for (as the Auth emulator does).
async fn revoke_as_admin(app: &AppState, uid: String, body: &Json) -> Result<Json, AuthError> {
    let asks_only_revocation = body.as_object().is_some_and(|o| {
        o.contains_key("validSince") && o.keys().all(|k| k == "localId" || k == "validSince")
    });
    if !asks_only_revocation {
        return Err(AuthError::bad(
            "OPERATION_NOT_ALLOWED : only {localId, validSince} is supported here",
        ));
    }
    app.store
        .run(move |db| {
            db.write(|tx| {
                if user_by_uid(tx.conn, &uid)?.is_none() {
                    return Err(AuthError::bad("USER_NOT_FOUND"));
                }
                sign_out_everywhere(tx.conn, &uid)?;
                Ok(json!({ "kind": "identitytoolkit#SetAccountInfoResponse", "localId": uid }))
            })
        })
        .await
}

/// Firestore fields in this store's representation, from the Cleom API's (both are Firestore
/// JSON, so the layout is written once, in `account`).
fn stored_fields(fields: &documents::Fields, now: Timestamp) -> Result<Fields, StoreError> {
    let json = serde_json::Value::Object(
        fields
            .iter()
            .map(|(key, value)| (key.clone(), value.to_json()))
            .collect(),
    );
    let mut stored = fields_from_json(&json).map_err(|e| StoreError::CorruptDocument {
        path: "a new profile".into(),
        reason: e.0,
    })?;
    stored.insert("createdAt".into(), Value::Timestamp(now));
    stored.insert("updatedAt".into(), Value::Timestamp(now));
    Ok(stored)
}

/// What the real backend's sign-up trigger would do: `users/{uid}` with the sign-up grant and
/// its ledger entry, in the sign-up's transaction (the same layout the Cleom API creates when
/// it meets an account without a profile, as on the Auth emulator).
fn create_profile(
    tx: &Tx<'_>,
    uid: &str,
    email: &str,
    display_name: Option<&str>,
) -> Result<(), StoreError> {
    let profile = ledger::new_profile_fields(email, display_name);
    tx.set(&profile_path(uid), &stored_fields(&profile, tx.now)?)?;
    let grant = ledger::SIGNUP_GRANT;
    let entry = ledger::ledger_fields(grant, "signup_grant", None, grant);
    tx.set(
        &format!("users/{uid}/creditLedger/{}", ids::new_document_id()),
        &stored_fields(&entry, tx.now)?,
    )
}

/// Mirrors a change of the Auth user (display name, email) into its profile, if it has one.
fn update_profile(tx: &Tx<'_>, uid: &str, changes: Vec<(&str, Value)>) -> Result<(), StoreError> {
    let path = profile_path(uid);
    let Some(mut doc) = tx.get(&path)? else {
        return Ok(());
    };
    for (key, value) in changes {
        doc.fields.insert(key.to_string(), value);
    }
    doc.fields
        .insert("updatedAt".into(), Value::Timestamp(tx.now));
    tx.set(&path, &doc.fields)
}

/// `POST /securetoken.googleapis.com/v1/token`: a new ID token for a refresh token.
pub(crate) async fn secure_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match refresh(&app, &headers, &body).await {
        Ok(json) => JsonResponse(json).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn refresh(app: &AppState, headers: &HeaderMap, body: &Bytes) -> Result<Json, AuthError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (grant_type, refresh_token) = if is_json {
        let body = parse_json(body)?;
        (
            text(&body, "grant_type")?.map(str::to_string),
            text(&body, "refresh_token")?.map(str::to_string),
        )
    } else {
        let mut grant_type = None;
        let mut refresh_token = None;
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "grant_type" => grant_type = Some(value.into_owned()),
                "refresh_token" => refresh_token = Some(value.into_owned()),
                _ => {}
            }
        }
        (grant_type, refresh_token)
    };
    if grant_type.as_deref() != Some("refresh_token") {
        return Err(AuthError::bad("INVALID_GRANT_TYPE"));
    }
    let refresh_token = refresh_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::bad("MISSING_REFRESH_TOKEN"))?;
    app.store
        .run(move |db| {
            db.write(|tx| {
                let row: Option<(String, i64)> = tx
                    .conn
                    .query_row(
                        "SELECT uid, auth_time_ms FROM auth_tokens WHERE token_digest = ?1 AND kind = 'refresh'",
                        [ids::token_digest(&refresh_token)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(StoreError::from)?;
                let (uid, auth_time_ms) = row.ok_or_else(|| AuthError::bad("INVALID_REFRESH_TOKEN"))?;
                if user_by_uid(tx.conn, &uid)?.is_none() {
                    return Err(AuthError::bad("USER_NOT_FOUND"));
                }
                let id_token = issue_id_token(tx.conn, &uid, auth_time_ms)?;
                Ok(json!({
                    "access_token": id_token,
                    "expires_in": ID_TOKEN_SECONDS.to_string(),
                    "token_type": "Bearer",
                    "refresh_token": refresh_token,
                    "id_token": id_token,
                    "user_id": uid,
                    "project_id": PROJECT_ID,
                }))
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn admin_tokens_compare_equal_unequal_and_of_other_lengths() {
        let secrets = ["s3cret-token", "owner"];
        assert!(super::is_one_of(secrets, "s3cret-token"));
        assert!(super::is_one_of(secrets, "owner"));
        assert!(!super::is_one_of(secrets, "s3cret-tokem"));
        assert!(!super::is_one_of(secrets, "s3cret"));
        assert!(!super::is_one_of(secrets, "s3cret-token-and-more"));
        assert!(!super::is_one_of(secrets, ""));
        assert!(!super::is_one_of([], "owner"));
        assert!(super::constant_time_eq(b"", b""));
        assert!(!super::constant_time_eq(b"a", b"b"));
        assert!(!super::constant_time_eq(b"ab", b"a"));
    }

    #[test]
    fn an_unknown_email_costs_the_same_password_hash_as_a_known_one() {
        let calls = std::cell::Cell::new(0);
        let counting = |salt: &[u8], password: &str| {
            calls.set(calls.get() + 1);
            super::hash_password(salt, password)
        };
        let salt = vec![7u8; 16];
        let stored = (salt.clone(), super::hash_password(&salt, "right").to_vec());
        assert!(super::password_matches(Some(&stored), "right", counting));
        assert!(!super::password_matches(Some(&stored), "wrong", counting));
        assert_eq!(calls.get(), 2);
        assert!(!super::password_matches(None, "right", counting));
        assert_eq!(calls.get(), 3, "an unknown email runs the hash too");
    }

    use super::*;

    #[test]
    fn id_tokens_expire_after_an_hour_and_unknown_ones_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        store.run_blocking(|db| {
            let session = issue_session(db.conn(), "uid-1").unwrap();
            let now = now_ms();
            assert!(matches!(
                resolve_id_token(db.conn(), &session.id_token, now).unwrap(),
                IdToken::Valid { ref uid, .. } if uid == "uid-1"
            ));
            let later = now + ID_TOKEN_SECONDS * 1000 + 1000;
            assert!(matches!(
                resolve_id_token(db.conn(), &session.id_token, later).unwrap(),
                IdToken::Expired
            ));
            assert!(matches!(
                resolve_id_token(db.conn(), "forged", now).unwrap(),
                IdToken::Unknown
            ));
            // A refresh token is not an ID token.
            assert!(matches!(
                resolve_id_token(db.conn(), &session.refresh_token, now).unwrap(),
                IdToken::Unknown
            ));
            // Only digests are stored.
            let stored: i64 = db
                .conn()
                .query_row(
                    "SELECT count(*) FROM auth_tokens WHERE token_digest = ?1",
                    [&session.id_token],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(stored, 0);
        });
    }

    #[test]
    fn sensitive_changes_need_a_recent_sign_in() {
        assert!(require_recent_login(now_ms() - 60_000).is_ok());
        let too_old =
            require_recent_login(now_ms() - (RECENT_LOGIN_SECONDS + 1) * 1000).unwrap_err();
        assert_eq!(too_old.message, "CREDENTIAL_TOO_OLD_LOGIN_AGAIN");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for good in ["a@b.co", "first.last+tag@mail.example.org"] {
            assert!(is_valid_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a@@b.co", "a b@c.de", "a@.b", "a@b.", "a@b..c",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn password_hashes_depend_on_salt_and_password() {
        let a = hash_password(b"salt-one", "secret1");
        assert_eq!(a, hash_password(b"salt-one", "secret1"));
        assert_ne!(a, hash_password(b"salt-two", "secret1"));
        assert_ne!(a, hash_password(b"salt-one", "secret2"));
        assert!(constant_time_eq(&a, &a));
        assert!(!constant_time_eq(&a, &a[..31]));
    }
}
