//! One account's session with Firebase Auth on this device: who it is, the short-lived ID token
//! every request carries, and the refresh token in the keychain that renews it.
//!
//! It is its own piece so that everything that talks to the backend (the sync, the export's
//! clip downloads, the access report) needs only this and the clients, never the whole
//! `Account`; and so that the token rules are in one place: an ID token is refreshed shortly
//! before it expires, a refused one is refreshed once and the call repeated, and the refresh
//! token is replaced only by a credential change, never dropped because a call failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::keychain::{self, Keychain};
use crate::remote::auth::{AuthClient, AuthSession};
use crate::remote::RemoteError;
use crate::secret::{Secret, SecretString};

/// An ID token is refreshed when it has less than this left.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

pub struct Session {
    uid: String,
    email: String,
    keychain: Arc<dyn Keychain>,
    auth: AuthClient,
    /// The sign-in email Firebase Auth reported when this session began (`None` for a session
    /// resumed from the keychain): the sync makes the profile's `email` follow it.
    auth_email: Option<String>,
    id_token: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl Session {
    /// The session of `uid`: `begun` is the answer of a sign-in just now (its ID token is used
    /// until it expires), `None` for a session resumed from the keychain's refresh token.
    pub(crate) fn new(
        uid: String,
        email: String,
        keychain: Arc<dyn Keychain>,
        auth: AuthClient,
        begun: Option<AuthSession>,
    ) -> Session {
        let auth_email = begun.as_ref().and_then(|s| s.email.clone());
        let id_token = begun.map(|s| (s.id_token, s.expires_at));
        Session {
            uid,
            email,
            keychain,
            auth,
            auth_email,
            id_token: tokio::sync::Mutex::new(id_token),
        }
    }

    pub fn uid(&self) -> &str {
        &self.uid
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    /// The sign-in email Firebase Auth reported when this session began, if it began here.
    pub(crate) fn auth_email(&self) -> Option<&str> {
        self.auth_email.as_deref()
    }

    /// Runs `call` with a valid ID token. If the server still answers "session expired" (the
    /// token was revoked, or this computer's clock is off), the ID token is refreshed once and
    /// the call repeated — a call is never retried twice, and the refresh token stays in the
    /// keychain whatever happens, so a refused ID token alone never signs the user out. Only
    /// calls that are safe to repeat go through here (a generation carries its own id).
    pub(crate) async fn authorized<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(SecretString) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let (token, just_refreshed) = self.id_token().await?;
        match call(token).await {
            Err(e) if !just_refreshed && e.is_session_expired() => {
                tracing::debug!("the ID token was refused; refreshing it and trying once more");
                let token = self.refresh_id_token().await?;
                call(token).await
            }
            other => other,
        }
    }

    /// Signs in again with `password` (Firebase wants a recent sign-in for sensitive changes):
    /// a fresh session of this same account.
    pub(crate) async fn reauthenticate(&self, password: &SecretString) -> Result<AuthSession> {
        let fresh = self.auth.sign_in(&self.email, password).await?;
        if fresh.uid != self.uid {
            return Err(Error::InvalidInput(
                "That password belongs to another account.".into(),
            ));
        }
        Ok(fresh)
    }

    /// See `Account::request_email_change`.
    pub(crate) async fn request_email_change(
        &self,
        password: &SecretString,
        new_email: &str,
    ) -> Result<()> {
        let new_email = new_email.trim().to_lowercase();
        if new_email.is_empty() || !new_email.contains('@') {
            return Err(RemoteError::InvalidEmail.into());
        }
        if new_email == self.email.to_lowercase() {
            return Err(Error::InvalidInput(
                "That is already this account's email address.".into(),
            ));
        }
        let fresh = self.reauthenticate(password).await?;
        self.auth
            .request_email_change(&fresh.id_token, &new_email)
            .await?;
        Ok(())
    }

    /// See `Account::change_password`.
    pub(crate) async fn change_password(
        &self,
        current: &SecretString,
        new_password: &SecretString,
    ) -> Result<()> {
        let fresh = self.reauthenticate(current).await?;
        let session = match self
            .auth
            .update_password(&fresh.id_token, new_password)
            .await?
        {
            Some(session) => session,
            // A server that answers without tokens has still revoked the old ones.
            None => self.reauthenticate(new_password).await?,
        };
        self.replace(session).await
    }

    /// Carries on with `session`, a fresh sign-in of this account, after the old tokens were
    /// revoked (a credential change, "sign out everywhere else").
    pub(crate) async fn replace(&self, session: AuthSession) -> Result<()> {
        // Held while the keychain changes, so no refresh runs with the revoked token meanwhile.
        let mut slot = self.id_token.lock().await;
        self.keychain.set(
            &keychain::refresh_token_entry(&self.uid),
            &session.refresh_token,
        )?;
        *slot = Some((session.id_token, session.expires_at));
        Ok(())
    }

    /// A valid ID token, refreshed with the keychain's refresh token when it is about to expire;
    /// `true` when it was refreshed just now.
    async fn id_token(&self) -> Result<(SecretString, bool)> {
        {
            let slot = self.id_token.lock().await;
            if let Some((token, expires_at)) = slot.as_ref() {
                if *expires_at > Instant::now() + TOKEN_MARGIN {
                    return Ok((Secret::new(token.expose().clone()), false));
                }
            }
        }
        Ok((self.refresh_id_token().await?, true))
    }

    /// A new ID token from the keychain's refresh token, remembered for the next calls.
    async fn refresh_id_token(&self) -> Result<SecretString> {
        let mut slot = self.id_token.lock().await;
        let refresh = self
            .keychain
            .get(&keychain::refresh_token_entry(&self.uid))?
            .ok_or(Error::NotSignedIn)?;
        let session = self.auth.refresh(&refresh).await?;
        let token = Secret::new(session.id_token.expose().clone());
        *slot = Some((session.id_token, session.expires_at));
        Ok(token)
    }
}
