//! Where the account is signed in: Cleom's privacy policy lists "session info" among what it
//! stores, so the access view shows each session the Cleom API has recorded (device name,
//! platform, first and last seen) and offers "sign out everywhere else".
//!
//! Each sign-in on this device draws a session id, kept in `device.json` (it is not a secret:
//! it names the session, it opens nothing). The sync reports it to the API on its first run
//! and then at most hourly ([`report_due`]), so a session's "last seen" is honest to the hour
//! and an idle sync stays one request most of the time. A report answered "revoked" means the
//! user ended this session from another device: the sync stops with `auth.session_revoked`.
//!
//! Ending the other sessions revokes every token of the account at Auth, this device's too, so
//! it asks for the password: checked first (a wrong one changes nothing), and used again once
//! the others are revoked, for this device's new session.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::DeviceSession;
use crate::remote::cleom_api::{CleomApi, SessionReport};
use crate::remote::RemoteError;
use crate::secret::SecretString;
use crate::session::Session;

/// How often a sync reports this device's session.
pub const REPORT_EVERY: Duration = Duration::from_secs(60 * 60);
/// How long signing out waits to tell Cleom that this session ended.
const END_WAIT: Duration = Duration::from_secs(5);

/// One entry of the list in the access view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct SignedInDevice {
    #[serde(flatten)]
    pub session: DeviceSession,
    pub this_device: bool,
}

/// Whether a sync at `now` reports the session, last reported at `last` (`None`: not yet in
/// this run of the app).
pub fn report_due(last: Option<Instant>, now: Instant) -> bool {
    last.is_none_or(|last| now.saturating_duration_since(last) >= REPORT_EVERY)
}

/// The list as the access view shows it: the API's order, this device's session marked.
pub fn mark_this_device(sessions: Vec<DeviceSession>, this_session: &str) -> Vec<SignedInDevice> {
    sessions
        .into_iter()
        .map(|session| SignedInDevice {
            this_device: session.id == this_session,
            session,
        })
        .collect()
}

/// This computer's name as the user knows it, or `None` when the OS does not say.
pub fn device_name() -> Option<String> {
    gethostname::gethostname()
        .into_string()
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// `linux`, `macos`, `windows` (the only OSes the app builds for).
pub fn platform() -> &'static str {
    std::env::consts::OS
}

/// This device's session of the account, and when the sync last reported it.
pub(crate) struct ThisDevice {
    session_id: String,
    last_reported: Mutex<Option<Instant>>,
}

impl ThisDevice {
    pub(crate) fn new(session_id: String) -> ThisDevice {
        ThisDevice {
            session_id,
            last_reported: Mutex::new(None),
        }
    }

    /// Reports the session if [`report_due`]. `auth.session_revoked` is the one failure that
    /// matters; any other leaves the report for the next sync, and the sync goes on.
    pub(crate) async fn report_if_due(&self, session: &Session, api: &CleomApi) -> Result<()> {
        let due = report_due(*self.last(), Instant::now());
        if !due {
            return Ok(());
        }
        let name = device_name().unwrap_or_default();
        let report = SessionReport {
            id: &self.session_id,
            device_name: &name,
            platform: platform(),
        };
        let reported = session
            .authorized(|token| {
                let report = report.clone();
                async move { Ok(api.report_session(&report, &token).await?) }
            })
            .await;
        match reported {
            Ok(_) => {
                *self.last() = Some(Instant::now());
                Ok(())
            }
            Err(e @ Error::Remote(RemoteError::SessionRevoked)) => Err(e),
            Err(e) => {
                tracing::warn!(code = e.code(), "the session report did not reach Cleom");
                Ok(())
            }
        }
    }

    /// The account's signed-in devices, this one marked.
    pub(crate) async fn list(
        &self,
        session: &Session,
        api: &CleomApi,
    ) -> Result<Vec<SignedInDevice>> {
        let sessions = session
            .authorized(|token| async move { Ok(api.sessions(&token).await?) })
            .await?;
        Ok(mark_this_device(sessions, &self.session_id))
    }

    /// The user signs out here: the session leaves the account's list, if Cleom can be told
    /// within [`END_WAIT`]. Signing out never waits longer, nor fails for it: offline, the
    /// session stays listed (its last-seen time tells how old it is).
    pub(crate) async fn end(&self, session: &Session, api: &CleomApi) {
        let ended = tokio::time::timeout(
            END_WAIT,
            session.authorized(|token| async move {
                Ok(api.end_session(&self.session_id, &token).await?)
            }),
        )
        .await;
        match ended {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(code = e.code(), "the session's end did not reach Cleom"),
            Err(_) => tracing::warn!("the session's end did not reach Cleom in time"),
        }
    }

    /// "Sign out everywhere else" (see the module docs); answers how many sessions ended.
    pub(crate) async fn sign_out_others(
        &self,
        session: &Session,
        api: &CleomApi,
        password: &SecretString,
    ) -> Result<u64> {
        let checked = session.reauthenticate(password).await?;
        let ended = api
            .sign_out_other_sessions(&self.session_id, &checked.id_token)
            .await?;
        let renewed = session.reauthenticate(password).await?;
        session.replace(renewed).await?;
        Ok(ended)
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.last_reported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_reported_on_the_first_sync_then_hourly() {
        let start = Instant::now();
        assert!(report_due(None, start));
        assert!(!report_due(Some(start), start));
        assert!(!report_due(
            Some(start),
            start + REPORT_EVERY - Duration::from_secs(1)
        ));
        assert!(report_due(Some(start), start + REPORT_EVERY));
    }

    #[test]
    fn only_this_devices_session_is_marked_and_the_order_is_kept() {
        let session = |id: &str| DeviceSession {
            id: id.into(),
            device_name: format!("{id}-laptop"),
            platform: "linux".into(),
            first_seen: "2026-12-01T10:00:00Z".into(),
            last_seen: "2026-12-02T10:00:00Z".into(),
        };
        let marked = mark_this_device(vec![session("b"), session("a"), session("c")], "a");
        let flags: Vec<(&str, bool)> = marked
            .iter()
            .map(|d| (d.session.id.as_str(), d.this_device))
            .collect();
        assert_eq!(flags, [("b", false), ("a", true), ("c", false)]);
        assert!(mark_this_device(vec![session("b")], "gone")
            .iter()
            .all(|d| !d.this_device));
    }

    #[test]
    fn the_platform_is_one_the_api_knows() {
        assert!(["linux", "macos", "windows"].contains(&platform()));
    }
}
