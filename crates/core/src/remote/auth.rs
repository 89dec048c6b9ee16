//! Firebase Auth over REST: accounts, sign-in and token refresh.
//!
//! The REST API is used rather than an SDK because there is no Firebase SDK for Rust, and
//! because the same calls must work against production, the Auth emulator and the embedded
//! local backend (they share paths and JSON). Tokens and passwords only ever travel inside
//! [`SecretString`]s; the raw answers that carried them are zeroized once parsed, and
//! [`AuthSession`]'s `Debug` shows no token.

use std::time::{Duration, Instant};

use reqwest::Url;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::error::error_message;
use super::http::{read_body, Http, Replay};
use super::{Endpoints, RemoteError};
use crate::secret::{Secret, SecretString};

/// A signed-in user's tokens. The ID token authorizes calls until `expires_at`; the refresh
/// token gets a new one (see [`AuthClient::refresh`]).
#[derive(Debug)]
pub struct AuthSession {
    pub uid: String,
    /// Absent from a refresh answer.
    pub email: Option<String>,
    pub id_token: SecretString,
    pub refresh_token: SecretString,
    /// Computed from `expiresIn` (at most an hour) and the moment the request was sent, so it
    /// errs early.
    pub expires_at: Instant,
}

/// What `accounts:lookup` says about the signed-in user. Times are RFC 3339 (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub uid: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub email_verified: bool,
    pub created_at: Option<String>,
    pub last_login_at: Option<String>,
    pub password_updated_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthClient {
    http: Http,
    auth_base: String,
    secure_token_base: String,
    api_key: String,
    project_id: String,
}

impl AuthClient {
    pub(crate) fn new(http: Http, endpoints: &Endpoints) -> AuthClient {
        AuthClient {
            http,
            auth_base: endpoints.auth.clone(),
            secure_token_base: endpoints.secure_token.clone(),
            api_key: endpoints.api_key.clone(),
            project_id: endpoints.project_id.clone(),
        }
    }

    /// Creates an account and signs it in.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<AuthSession, RemoteError> {
        let sent = Instant::now();
        let body = Credentials {
            email,
            password: password.expose(),
            return_secure_token: true,
        };
        // Replaying a sign-up that went through would answer EMAIL_EXISTS.
        let answer: SignInAnswer = self
            .call("signUp", &body, Replay::OnlyIfUnprocessed)
            .await?;
        answer.into_session(sent)
    }

    pub async fn sign_in(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<AuthSession, RemoteError> {
        let sent = Instant::now();
        let body = Credentials {
            email,
            password: password.expose(),
            return_secure_token: true,
        };
        let answer: SignInAnswer = self.call("signInWithPassword", &body, Replay::Safe).await?;
        answer.into_session(sent)
    }

    /// Trades a refresh token for a new ID token (Secure Token service, form-encoded).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<AuthSession, RemoteError> {
        let sent = Instant::now();
        let url = self.url(&self.secure_token_base, "token")?;
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose().as_str()),
        ];
        let request = self.http.client().post(url).form(&form);
        let answer: RefreshAnswer = parse_secret_answer(
            self.http.send_bytes(request, Replay::Safe).await?,
            "token refresh",
        )?;
        Ok(AuthSession {
            uid: answer.user_id,
            email: None,
            id_token: Secret::new(answer.id_token),
            refresh_token: Secret::new(answer.refresh_token),
            expires_at: sent + answer.expires_in.0,
        })
    }

    pub async fn lookup(&self, id_token: &SecretString) -> Result<AccountInfo, RemoteError> {
        let answer: LookupAnswer = self
            .call(
                "lookup",
                &IdToken {
                    id_token: id_token.expose(),
                },
                Replay::Safe,
            )
            .await?;
        // An empty list means the token's user no longer exists.
        let user = answer
            .users
            .into_iter()
            .next()
            .ok_or(RemoteError::SessionExpired)?;
        Ok(AccountInfo {
            uid: user.local_id,
            email: user.email,
            display_name: user.display_name,
            email_verified: user.email_verified,
            created_at: millis_to_rfc3339(user.created_at.as_ref(), "createdAt")?,
            last_login_at: millis_to_rfc3339(user.last_login_at.as_ref(), "lastLoginAt")?,
            password_updated_at: millis_to_rfc3339(
                user.password_updated_at.as_ref(),
                "passwordUpdatedAt",
            )?,
        })
    }

    pub async fn update_profile(
        &self,
        id_token: &SecretString,
        display_name: &str,
    ) -> Result<(), RemoteError> {
        let body = Update {
            id_token: id_token.expose(),
            display_name: Some(display_name),
            email: None,
            password: None,
            return_secure_token: false,
        };
        let _: serde_json::Value = self.call("update", &body, Replay::Safe).await?;
        Ok(())
    }

    /// Changes the sign-in email. Firebase revokes the old tokens when it does, so the new
    /// session is returned when the server sends one.
    pub async fn update_email(
        &self,
        id_token: &SecretString,
        email: &str,
    ) -> Result<Option<AuthSession>, RemoteError> {
        let body = Update {
            id_token: id_token.expose(),
            display_name: None,
            email: Some(email),
            password: None,
            return_secure_token: true,
        };
        self.update_with_tokens(&body).await
    }

    /// Changes the password; like [`AuthClient::update_email`], returns the new session.
    pub async fn update_password(
        &self,
        id_token: &SecretString,
        password: &SecretString,
    ) -> Result<Option<AuthSession>, RemoteError> {
        let body = Update {
            id_token: id_token.expose(),
            display_name: None,
            email: None,
            password: Some(password.expose()),
            return_secure_token: true,
        };
        self.update_with_tokens(&body).await
    }

    /// Asks for a password-reset email. Succeeds whether or not an account has this address:
    /// Firebase with email-enumeration protection answers alike for both, and the Auth emulator
    /// (like Firebase without that protection) says `EMAIL_NOT_FOUND`, which must not tell
    /// whoever types an address whether it has an account.
    pub async fn send_password_reset(&self, email: &str) -> Result<(), RemoteError> {
        let body = serde_json::json!({"requestType": "PASSWORD_RESET", "email": email});
        // Not replayed after an unknown outcome: one reset email is enough.
        let sent: Result<serde_json::Value, RemoteError> = self
            .call("sendOobCode", &body, Replay::OnlyIfUnprocessed)
            .await;
        match sent {
            // EMAIL_NOT_FOUND is the only way this call meets "invalid credentials".
            Ok(_) | Err(RemoteError::InvalidCredentials) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Completes a password reset (`accounts:resetPassword {oobCode, newPassword}`) with the
    /// code from the reset email's link; answers the account's email. The account's sessions
    /// end (Firebase revokes them); sign in with the new password to start one. An unknown or
    /// used code is `auth.invalid_action_code`, an expired one `auth.expired_action_code`, a
    /// short password `auth.weak_password`.
    pub async fn reset_password(
        &self,
        oob_code: &SecretString,
        new_password: &SecretString,
    ) -> Result<String, RemoteError> {
        let body = serde_json::json!({
            "oobCode": oob_code.expose(),
            "newPassword": new_password.expose(),
        });
        // A code works once: a replay after success would answer INVALID_OOB_CODE.
        let answer: ActionCodeAnswer = self
            .call("resetPassword", &body, Replay::OnlyIfUnprocessed)
            .await?;
        answer.email.ok_or_else(|| {
            RemoteError::MalformedResponse("a password reset without the email".into())
        })
    }

    /// Asks Firebase to send a verification link to `new_email` (`VERIFY_AND_CHANGE_EMAIL`):
    /// nothing changes until the link's code is applied (see [`AuthClient::apply_action_code`]).
    /// Needs a recent sign-in (`auth.requires_recent_login` otherwise); an address another
    /// account uses is `auth.email_exists`.
    pub async fn request_email_change(
        &self,
        id_token: &SecretString,
        new_email: &str,
    ) -> Result<(), RemoteError> {
        let body = serde_json::json!({
            "requestType": "VERIFY_AND_CHANGE_EMAIL",
            "idToken": id_token.expose(),
            "newEmail": new_email,
        });
        // Not replayed after an unknown outcome: one verification email is enough.
        let _: serde_json::Value = self
            .call("sendOobCode", &body, Replay::OnlyIfUnprocessed)
            .await?;
        Ok(())
    }

    /// Applies the code (`oobCode`) from an email action link with `accounts:update`; for an
    /// email change this makes the new address the sign-in email, verified, and ends every
    /// session of the account. Answers the account's email afterwards. An unknown or used code
    /// is `auth.invalid_action_code`, an expired one `auth.expired_action_code`.
    pub async fn apply_action_code(&self, oob_code: &SecretString) -> Result<String, RemoteError> {
        let body = serde_json::json!({ "oobCode": oob_code.expose() });
        // A code works once: a replay after success would answer INVALID_OOB_CODE.
        let answer: ActionCodeAnswer = self
            .call("update", &body, Replay::OnlyIfUnprocessed)
            .await?;
        answer.new_email.or(answer.email).ok_or_else(|| {
            RemoteError::MalformedResponse("an applied email code without the email".into())
        })
    }

    /// Deletes the Auth user. Needs a recent sign-in (`auth.requires_recent_login` otherwise).
    pub async fn delete(&self, id_token: &SecretString) -> Result<(), RemoteError> {
        let body = IdToken {
            id_token: id_token.expose(),
        };
        // A replay after success would fail with USER_NOT_FOUND.
        let _: serde_json::Value = self
            .call("delete", &body, Replay::OnlyIfUnprocessed)
            .await?;
        Ok(())
    }

    /// Revokes every token of `uid` with the project's admin credential, as the Admin SDK's
    /// `revokeRefreshTokens` does: `POST /v1/projects/{project}/accounts:update {localId,
    /// validSince: now}`. Firebase then refuses the refresh tokens and ID tokens issued before
    /// that second; the Auth emulator refuses only the ID tokens (its refresh tokens go on
    /// working).
    pub async fn revoke_tokens_as_admin(
        &self,
        uid: &str,
        admin_token: &SecretString,
    ) -> Result<(), RemoteError> {
        let mut url = Url::parse(&self.auth_base).map_err(|_| RemoteError::InvalidUrl)?;
        url.path_segments_mut()
            .map_err(|_| RemoteError::InvalidUrl)?
            .pop_if_empty()
            .extend(["v1", "projects", &self.project_id, "accounts:update"]);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let request = self
            .http
            .client()
            .post(url)
            .bearer_auth(admin_token.expose())
            .json(&serde_json::json!({ "localId": uid, "validSince": now.to_string() }));
        let _: serde_json::Value = self
            .http
            .send_json(request, Replay::Safe, "token revocation")
            .await?;
        Ok(())
    }

    /// Deletes the Auth user `uid` with the project's admin credential (what the Cleom API does
    /// at the end of an account deletion): `POST /v1/projects/{project}/accounts:delete
    /// {localId}`, as the Admin SDK and the Auth emulator (`Bearer owner`) speak it. Answers
    /// whether there was such a user.
    pub async fn delete_user_as_admin(
        &self,
        uid: &str,
        admin_token: &SecretString,
    ) -> Result<bool, RemoteError> {
        let mut url = Url::parse(&self.auth_base).map_err(|_| RemoteError::InvalidUrl)?;
        url.path_segments_mut()
            .map_err(|_| RemoteError::InvalidUrl)?
            .pop_if_empty()
            .extend(["v1", "projects", &self.project_id, "accounts:delete"]);
        let request = self
            .http
            .client()
            .post(url)
            .bearer_auth(admin_token.expose())
            .json(&serde_json::json!({ "localId": uid }));
        let response = self
            .http
            .send_raw(request, Replay::OnlyIfUnprocessed)
            .await?;
        if response.status().is_success() {
            return Ok(true);
        }
        let status = response.status().as_u16();
        let body = read_body(response, MAX_ERROR_BODY).await?;
        if error_message(&body).as_deref() == Some("USER_NOT_FOUND") {
            return Ok(false);
        }
        Err(RemoteError::from_response(status, &body))
    }

    async fn update_with_tokens(
        &self,
        body: &Update<'_>,
    ) -> Result<Option<AuthSession>, RemoteError> {
        let sent = Instant::now();
        // Replaying after success would carry the now revoked ID token.
        let answer: UpdateAnswer = self.call("update", body, Replay::OnlyIfUnprocessed).await?;
        match (answer.id_token, answer.refresh_token) {
            (Some(id_token), Some(refresh_token)) => Ok(Some(AuthSession {
                uid: answer.local_id,
                email: answer.email,
                id_token: Secret::new(id_token),
                refresh_token: Secret::new(refresh_token),
                expires_at: sent + answer.expires_in.map_or(DEFAULT_LIFETIME, |s| s.0),
            })),
            _ => Ok(None),
        }
    }

    /// `POST {auth}/v1/accounts:{method}?key=…` with a JSON body.
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        body: &impl Serialize,
        replay: Replay,
    ) -> Result<T, RemoteError> {
        let url = self.url(&self.auth_base, &format!("accounts:{method}"))?;
        let request = self.http.client().post(url).json(body);
        parse_secret_answer(self.http.send_bytes(request, replay).await?, method)
    }

    fn url(&self, base: &str, last: &str) -> Result<Url, RemoteError> {
        let mut url = Url::parse(base).map_err(|_| RemoteError::InvalidUrl)?;
        url.path_segments_mut()
            .map_err(|_| RemoteError::InvalidUrl)?
            .pop_if_empty()
            .extend(["v1", last]);
        url.query_pairs_mut().append_pair("key", &self.api_key);
        Ok(url)
    }
}

/// Parses an answer that may hold tokens, then wipes the raw bytes.
fn parse_secret_answer<T: DeserializeOwned>(
    mut body: Vec<u8>,
    what: &str,
) -> Result<T, RemoteError> {
    let parsed = serde_json::from_slice(&body)
        .map_err(|e| RemoteError::bad_json(&format!("{what} answer"), &e));
    body.zeroize();
    parsed
}

/// An error answer is read this far (its code is at the start).
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Firebase's ID token lifetime, assumed when an update answer omits `expiresIn`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The longest token lifetime believed, Firebase's own: its ID tokens last an hour. A longer
/// `expiresIn` is cut to this rather than refused. It only says when to refresh, and refreshing
/// early is always safe, so the session goes on working; trusting it instead would keep an
/// expired token in use, and a huge one (`u64::MAX` seconds) does not fit an `Instant` at all
/// (adding it to the clock panicked).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Credentials<'a> {
    email: &'a str,
    password: &'a str,
    return_secure_token: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdToken<'a> {
    id_token: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Update<'a> {
    id_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    return_secure_token: bool,
}

/// `expiresIn` / `expires_in`: a string of seconds (`"3600"`), tolerated as a number too, cut
/// to [`MAX_TOKEN_LIFETIME`].
#[derive(Debug, Clone, Copy)]
struct TokenLifetime(Duration);

impl<'de> Deserialize<'de> for TokenLifetime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let seconds = match &value {
            serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        };
        seconds
            .map(|s| TokenLifetime(Duration::from_secs(s).min(MAX_TOKEN_LIFETIME)))
            .ok_or_else(|| serde::de::Error::custom("expected a number of seconds"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInAnswer {
    local_id: String,
    #[serde(default)]
    email: Option<String>,
    id_token: String,
    refresh_token: String,
    expires_in: TokenLifetime,
}

impl SignInAnswer {
    fn into_session(self, sent: Instant) -> Result<AuthSession, RemoteError> {
        if self.local_id.is_empty() || self.id_token.is_empty() || self.refresh_token.is_empty() {
            return Err(RemoteError::MalformedResponse(
                "sign-in answer without a user or tokens".into(),
            ));
        }
        Ok(AuthSession {
            uid: self.local_id,
            email: self.email,
            id_token: Secret::new(self.id_token),
            refresh_token: Secret::new(self.refresh_token),
            expires_at: sent + self.expires_in.0,
        })
    }
}

#[derive(Deserialize)]
struct RefreshAnswer {
    user_id: String,
    id_token: String,
    refresh_token: String,
    expires_in: TokenLifetime,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAnswer {
    local_id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<TokenLifetime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionCodeAnswer {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    new_email: Option<String>,
}

#[derive(Deserialize)]
struct LookupAnswer {
    #[serde(default)]
    users: Vec<LookupUser>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupUser {
    local_id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(default)]
    created_at: Option<serde_json::Value>,
    #[serde(default)]
    last_login_at: Option<serde_json::Value>,
    #[serde(default)]
    password_updated_at: Option<serde_json::Value>,
}

/// Firebase gives account times as milliseconds since the epoch, as a string or a number.
fn millis_to_rfc3339(
    value: Option<&serde_json::Value>,
    field: &str,
) -> Result<Option<String>, RemoteError> {
    let millis = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(_) => None,
    };
    let bad = || RemoteError::MalformedResponse(format!("account field {field} is not a time"));
    let millis = millis.ok_or_else(bad)?;
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|_| bad())?;
    time.format(&time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::test_server::{fast_http, Canned, TestServer};

    async fn client(answers: Vec<Canned>) -> (AuthClient, TestServer) {
        let server = TestServer::start(answers).await;
        let endpoints = Endpoints::local(server.base()).unwrap();
        (AuthClient::new(fast_http(), &endpoints), server)
    }

    fn secret(s: &str) -> SecretString {
        Secret::new(s.to_string())
    }

    const SIGN_IN: &str = r#"{
        "kind": "identitytoolkit#VerifyPasswordResponse",
        "localId": "u1", "email": "ada@example.com", "displayName": "",
        "idToken": "id-token-abc", "registered": true,
        "refreshToken": "refresh-token-xyz", "expiresIn": "3600"
    }"#;

    #[tokio::test]
    async fn sign_in_posts_the_credentials_and_returns_a_session() {
        let (auth, server) = client(vec![Canned::json(200, SIGN_IN)]).await;
        let before = Instant::now();
        let session = auth
            .sign_in("ada@example.com", &secret("hunter22"))
            .await
            .unwrap();
        assert_eq!(session.uid, "u1");
        assert_eq!(session.email.as_deref(), Some("ada@example.com"));
        assert_eq!(session.id_token.expose(), "id-token-abc");
        assert_eq!(session.refresh_token.expose(), "refresh-token-xyz");
        assert!(session.expires_at >= before + Duration::from_secs(3599));
        assert!(session.expires_at <= Instant::now() + Duration::from_secs(3600));

        let request = &server.requests()[0];
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.target,
            "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=local"
        );
        assert_eq!(
            request.json(),
            serde_json::json!({"email": "ada@example.com", "password": "hunter22", "returnSecureToken": true})
        );
    }

    #[tokio::test]
    async fn a_session_debug_shows_no_token() {
        let (auth, _server) = client(vec![Canned::json(200, SIGN_IN)]).await;
        let session = auth
            .sign_up("ada@example.com", &secret("hunter22"))
            .await
            .unwrap();
        let debug = format!("{session:?}");
        assert!(debug.contains("u1"));
        assert!(
            !debug.contains("id-token-abc") && !debug.contains("refresh-token-xyz"),
            "{debug}"
        );
    }

    #[tokio::test]
    async fn wrong_credentials_and_weak_passwords_have_their_codes() {
        let (auth, _server) = client(vec![
            Canned::json(400, r#"{"error":{"code":400,"message":"INVALID_LOGIN_CREDENTIALS","errors":[{"message":"INVALID_LOGIN_CREDENTIALS","domain":"global","reason":"invalid"}]}}"#),
            Canned::json(400, r#"{"error":{"code":400,"message":"WEAK_PASSWORD : Password should be at least 6 characters","errors":[]}}"#),
        ])
        .await;
        let e = auth
            .sign_in("ada@example.com", &secret("nope"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "auth.invalid_credentials");
        let e = auth
            .sign_up("ada@example.com", &secret("123"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "auth.weak_password");
        assert!(!e.to_string().contains("123"));
    }

    /// `u64::MAX` seconds: past what an `Instant` can hold, so adding it to the clock panicked.
    const HUGE_EXPIRES_IN: &str = "18446744073709551615";

    #[tokio::test]
    async fn a_huge_expires_in_is_cut_to_an_hour_in_every_answer_that_sets_it() {
        let sign_in = SIGN_IN.replace(
            r#""expiresIn": "3600""#,
            &format!(r#""expiresIn": "{HUGE_EXPIRES_IN}""#),
        );
        let refresh = format!(
            r#"{{"expires_in":"{HUGE_EXPIRES_IN}","refresh_token":"r-2","id_token":"id-2","user_id":"u1"}}"#
        );
        let update = format!(
            r#"{{"localId":"u1","idToken":"id-3","refreshToken":"r-3","expiresIn":{HUGE_EXPIRES_IN}}}"#
        );
        let (auth, _server) = client(vec![
            Canned::json(200, &sign_in),
            Canned::json(200, &refresh),
            Canned::json(200, &update),
        ])
        .await;
        let signed_in = auth
            .sign_in("ada@example.com", &secret("hunter22"))
            .await
            .unwrap();
        let refreshed = auth.refresh(&secret("r-1")).await.unwrap();
        let updated = auth
            .update_password(&secret("id"), &secret("s3cret!!"))
            .await
            .unwrap()
            .unwrap();
        let an_hour_from_now = Instant::now() + Duration::from_secs(3600);
        for session in [signed_in, refreshed, updated] {
            assert!(session.expires_at <= an_hour_from_now, "{session:?}");
        }
    }

    #[tokio::test]
    async fn refresh_is_form_encoded_to_the_secure_token_service() {
        let answer = r#"{"access_token":"new-id","expires_in":"3600","token_type":"Bearer",
            "refresh_token":"refresh-2","id_token":"new-id","user_id":"u1","project_id":"demo-cleom"}"#;
        let (auth, server) = client(vec![Canned::json(200, answer)]).await;
        let session = auth.refresh(&secret("refresh-1")).await.unwrap();
        assert_eq!(session.uid, "u1");
        assert_eq!(session.email, None);
        assert_eq!(session.id_token.expose(), "new-id");
        assert_eq!(session.refresh_token.expose(), "refresh-2");

        let request = &server.requests()[0];
        assert_eq!(
            request.target,
            "/securetoken.googleapis.com/v1/token?key=local"
        );
        assert_eq!(
            request.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            String::from_utf8_lossy(&request.body),
            "grant_type=refresh_token&refresh_token=refresh-1"
        );
    }

    #[tokio::test]
    async fn a_revoked_refresh_token_means_the_session_expired() {
        let (auth, _server) =
            client(vec![Canned::json(400, r#"{"error":{"code":400,"message":"INVALID_REFRESH_TOKEN","status":"INVALID_ARGUMENT"}}"#)])
                .await;
        assert_eq!(
            auth.refresh(&secret("old")).await.unwrap_err(),
            RemoteError::SessionExpired
        );
    }

    #[tokio::test]
    async fn an_answer_missing_its_tokens_is_malformed_not_a_panic() {
        let (auth, _server) = client(vec![
            Canned::json(200, r#"{"localId":"u1","expiresIn":"3600"}"#),
            Canned::json(
                200,
                r#"{"localId":"u1","idToken":"t","refreshToken":"r","expiresIn":"soon"}"#,
            ),
            Canned::json(200, "not json"),
        ])
        .await;
        for _ in 0..3 {
            let e = auth.sign_in("a@b.c", &secret("pw")).await.unwrap_err();
            assert_eq!(e.code(), "server.malformed_response");
        }
    }

    #[tokio::test]
    async fn lookup_reads_the_first_user_and_converts_times() {
        let answer = r#"{"kind":"identitytoolkit#GetAccountInfoResponse","users":[{
            "localId":"u1","email":"ada@example.com","displayName":"Ada","emailVerified":false,
            "createdAt":"1700000000000","lastLoginAt":"1700000360000","passwordUpdatedAt":1700000000000,
            "providerUserInfo":[]}]}"#;
        let (auth, server) = client(vec![
            Canned::json(200, answer),
            Canned::json(200, r#"{"users":[]}"#),
        ])
        .await;
        let info = auth.lookup(&secret("id")).await.unwrap();
        assert_eq!(info.uid, "u1");
        assert_eq!(info.display_name.as_deref(), Some("Ada"));
        assert_eq!(info.created_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(info.last_login_at.as_deref(), Some("2023-11-14T22:19:20Z"));
        assert_eq!(
            info.password_updated_at.as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            server.requests()[0].json(),
            serde_json::json!({"idToken": "id"})
        );
        assert_eq!(
            auth.lookup(&secret("id")).await.unwrap_err().code(),
            "auth.session_expired"
        );
    }

    #[tokio::test]
    async fn updates_send_only_what_changes() {
        let rotated = r#"{"localId":"u1","email":"new@example.com","idToken":"id-2","refreshToken":"r-2","expiresIn":"3600"}"#;
        let (auth, server) = client(vec![
            Canned::json(
                200,
                r#"{"localId":"u1","email":"ada@example.com","displayName":"Ada L."}"#,
            ),
            Canned::json(200, rotated),
            Canned::json(200, r#"{"localId":"u1","email":"new@example.com"}"#),
        ])
        .await;
        auth.update_profile(&secret("id"), "Ada L.").await.unwrap();
        let session = auth
            .update_email(&secret("id"), "new@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(session.id_token.expose(), "id-2");
        assert!(auth
            .update_password(&secret("id"), &secret("s3cret!!"))
            .await
            .unwrap()
            .is_none());

        let requests = server.requests();
        assert_eq!(
            requests[0].json(),
            serde_json::json!({"idToken": "id", "displayName": "Ada L.", "returnSecureToken": false})
        );
        assert_eq!(
            requests[1].json(),
            serde_json::json!({"idToken": "id", "email": "new@example.com", "returnSecureToken": true})
        );
        assert_eq!(
            requests[2].json(),
            serde_json::json!({"idToken": "id", "password": "s3cret!!", "returnSecureToken": true})
        );
        assert!(requests
            .iter()
            .all(|r| r.target == "/identitytoolkit.googleapis.com/v1/accounts:update?key=local"));
    }

    #[tokio::test]
    async fn reset_and_delete_hit_their_endpoints() {
        let (auth, server) = client(vec![
            Canned::json(200, r#"{"email":"ada@example.com"}"#),
            Canned::json(
                400,
                r#"{"error":{"code":400,"message":"CREDENTIAL_TOO_OLD_LOGIN_AGAIN"}}"#,
            ),
            Canned::json(200, "{}"),
        ])
        .await;
        auth.send_password_reset("ada@example.com").await.unwrap();
        assert_eq!(
            auth.delete(&secret("old")).await.unwrap_err().code(),
            "auth.requires_recent_login"
        );
        auth.delete(&secret("fresh")).await.unwrap();
        let requests = server.requests();
        assert_eq!(
            requests[0].target,
            "/identitytoolkit.googleapis.com/v1/accounts:sendOobCode?key=local"
        );
        assert_eq!(
            requests[0].json(),
            serde_json::json!({"requestType": "PASSWORD_RESET", "email": "ada@example.com"})
        );
        assert_eq!(
            requests[2].target,
            "/identitytoolkit.googleapis.com/v1/accounts:delete?key=local"
        );
        assert_eq!(requests[2].json(), serde_json::json!({"idToken": "fresh"}));
    }

    #[tokio::test]
    async fn an_email_change_is_requested_then_applied_with_the_code() {
        let (auth, server) = client(vec![
            Canned::json(
                200,
                r#"{"kind":"identitytoolkit#GetOobConfirmationCodeResponse","email":"ada@example.com"}"#,
            ),
            Canned::json(
                200,
                r#"{"kind":"identitytoolkit#SetAccountInfoResponse","localId":"u1","emailVerified":true,
                    "email":"new@example.com","newEmail":"new@example.com"}"#,
            ),
            Canned::json(200, r#"{"localId":"u1","email":"new@example.com"}"#),
        ])
        .await;
        auth.request_email_change(&secret("id"), "new@example.com")
            .await
            .unwrap();
        assert_eq!(
            auth.apply_action_code(&secret("code-1")).await.unwrap(),
            "new@example.com"
        );
        // Without `newEmail` (as real Firebase may answer), the email is the new one.
        assert_eq!(
            auth.apply_action_code(&secret("code-2")).await.unwrap(),
            "new@example.com"
        );
        let requests = server.requests();
        assert_eq!(
            requests[0].target,
            "/identitytoolkit.googleapis.com/v1/accounts:sendOobCode?key=local"
        );
        assert_eq!(
            requests[0].json(),
            serde_json::json!({"requestType": "VERIFY_AND_CHANGE_EMAIL", "idToken": "id", "newEmail": "new@example.com"})
        );
        assert_eq!(
            requests[1].target,
            "/identitytoolkit.googleapis.com/v1/accounts:update?key=local"
        );
        assert_eq!(requests[1].json(), serde_json::json!({"oobCode": "code-1"}));
    }

    #[tokio::test]
    async fn email_change_errors_have_their_codes() {
        let error = |message: &str| {
            Canned::json(
                400,
                &format!(r#"{{"error":{{"code":400,"message":"{message}","errors":[]}}}}"#),
            )
        };
        let (auth, server) = client(vec![
            error("EMAIL_EXISTS"),
            error("CREDENTIAL_TOO_OLD_LOGIN_AGAIN"),
            error("INVALID_NEW_EMAIL"),
            error("INVALID_OOB_CODE"),
            error("EXPIRED_OOB_CODE"),
        ])
        .await;
        for code in [
            "auth.email_exists",
            "auth.requires_recent_login",
            "auth.invalid_email",
        ] {
            let e = auth
                .request_email_change(&secret("id"), "taken@example.com")
                .await
                .unwrap_err();
            assert_eq!(e.code(), code);
        }
        for code in ["auth.invalid_action_code", "auth.expired_action_code"] {
            let e = auth.apply_action_code(&secret("code")).await.unwrap_err();
            assert_eq!(e.code(), code);
            assert!(!e.to_string().contains("code\""), "{e}");
        }
        assert_eq!(server.requests().len(), 5, "no error is retried");
    }

    #[tokio::test]
    async fn a_reset_code_sets_the_new_password() {
        let (auth, server) = client(vec![
            Canned::json(
                200,
                r#"{"kind":"identitytoolkit#ResetPasswordResponse","email":"ada@example.com","requestType":"PASSWORD_RESET"}"#,
            ),
            Canned::json(400, r#"{"error":{"code":400,"message":"INVALID_OOB_CODE"}}"#),
            Canned::json(
                400,
                r#"{"error":{"code":400,"message":"WEAK_PASSWORD : Password should be at least 6 characters"}}"#,
            ),
        ])
        .await;
        let email = auth
            .reset_password(&secret("code-1"), &secret("new horse"))
            .await
            .unwrap();
        assert_eq!(email, "ada@example.com");
        for code in ["auth.invalid_action_code", "auth.weak_password"] {
            let e = auth
                .reset_password(&secret("code-2"), &secret("x"))
                .await
                .unwrap_err();
            assert_eq!(e.code(), code);
        }
        let requests = server.requests();
        assert_eq!(
            requests[0].target,
            "/identitytoolkit.googleapis.com/v1/accounts:resetPassword?key=local"
        );
        assert_eq!(
            requests[0].json(),
            serde_json::json!({"oobCode": "code-1", "newPassword": "new horse"})
        );
        assert_eq!(requests.len(), 3, "no error is retried");
    }

    #[tokio::test]
    async fn a_reset_for_an_unknown_address_looks_like_any_other() {
        let (auth, _server) = client(vec![
            Canned::json(400, r#"{"error":{"code":400,"message":"EMAIL_NOT_FOUND"}}"#),
            Canned::json(400, r#"{"error":{"code":400,"message":"INVALID_EMAIL"}}"#),
        ])
        .await;
        auth.send_password_reset("nobody@example.com")
            .await
            .unwrap();
        assert_eq!(
            auth.send_password_reset("not an address")
                .await
                .unwrap_err()
                .code(),
            "auth.invalid_email"
        );
    }

    #[tokio::test]
    async fn admin_deletion_names_the_project_and_tells_whether_the_user_existed() {
        let (auth, server) = client(vec![
            Canned::json(200, r#"{"kind":"identitytoolkit#DeleteAccountResponse"}"#),
            Canned::json(400, r#"{"error":{"code":400,"message":"USER_NOT_FOUND"}}"#),
            Canned::json(
                400,
                r#"{"error":{"code":400,"message":"INSUFFICIENT_PERMISSION : Only authenticated requests can specify target_project_id."}}"#,
            ),
        ])
        .await;
        let admin = secret("owner");
        assert!(auth.delete_user_as_admin("u1", &admin).await.unwrap());
        assert!(!auth.delete_user_as_admin("u1", &admin).await.unwrap());
        assert_eq!(
            auth.delete_user_as_admin("u1", &secret("nope"))
                .await
                .unwrap_err()
                .code(),
            "permission.denied"
        );
        let request = &server.requests()[0];
        assert_eq!(
            request.target,
            "/identitytoolkit.googleapis.com/v1/projects/demo-cleom/accounts:delete"
        );
        assert_eq!(request.header("authorization"), Some("Bearer owner"));
        assert_eq!(request.json(), serde_json::json!({"localId": "u1"}));
    }
}
