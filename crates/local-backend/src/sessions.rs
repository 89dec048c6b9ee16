//! Signed-in devices, the "session info" of Cleom's privacy policy: each app reports its
//! session (an id it draws at sign-in, the device's name and platform) and the API keeps when
//! that session was first and last seen, so the user can see where the account is signed in and
//! end every other session.
//!
//! The documents live in the server-only `cleomSessions` collection, not under `users/{uid}`: a
//! report must not move the profile's `updatedAt` (`AdminClient::commit`), or every device's
//! next sync would be a full one. `firestore.rules` gives clients no access to it, so a client
//! cannot undo the end of its own session.
//!
//! Ending the other sessions marks their documents `revokedAt` and then revokes the account's
//! tokens at Auth, as the Admin SDK's `revokeRefreshTokens` does (`accounts:update` with
//! `validSince`). That ends the caller's tokens too: the app signs in again with the password
//! it was given. A report for a revoked session is answered `SESSION_REVOKED`, so an app learns
//! its session ended even where Auth lets an old refresh token go on working (the Auth
//! emulator does).

use std::collections::BTreeMap;

use cleom_core::model::DeviceSession;
use cleom_core::remote::firestore::{Document, Precondition, Value, Write};
use cleom_core::remote::RemoteError;

use crate::admin_client::AdminClient;
use crate::documents::{session_path, text_field, update_time, MAX_ATTEMPTS, SESSIONS};

/// Longest session id an app may choose.
const MAX_ID_CHARS: usize = 64;
/// Longest device name kept, in characters (longer ones are cut, not refused: a computer's
/// name is what it is).
const MAX_DEVICE_NAME_CHARS: usize = 100;
const PLATFORMS: [&str; 4] = ["linux", "macos", "windows", "other"];

/// What an app says about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionReport {
    pub(crate) id: String,
    pub(crate) device_name: String,
    pub(crate) platform: String,
}

/// Reads `{id, deviceName, platform}`: an id of letters, digits, `-` and `_`; a device name
/// trimmed, with control characters removed, cut to [`MAX_DEVICE_NAME_CHARS`] ("unknown
/// device" when nothing is left); a known platform. The error says what is wrong.
pub(crate) fn parse_report(body: &serde_json::Value) -> Result<SessionReport, String> {
    let text = |key: &str| body.get(key).and_then(serde_json::Value::as_str);
    let id = text("id").ok_or("the body must be {\"id\", \"deviceName\", \"platform\"}")?;
    if !is_session_id(id) {
        return Err(format!(
            "a session id is 1 to {MAX_ID_CHARS} letters, digits, '-' or '_'"
        ));
    }
    let platform = text("platform").unwrap_or("other");
    if !PLATFORMS.contains(&platform) {
        return Err(format!("platform must be one of {}", PLATFORMS.join(", ")));
    }
    let name: String = text("deviceName")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let name: String = name.trim().chars().take(MAX_DEVICE_NAME_CHARS).collect();
    Ok(SessionReport {
        id: id.to_string(),
        device_name: if name.trim().is_empty() {
            "unknown device".to_string()
        } else {
            name.trim().to_string()
        },
        platform: platform.to_string(),
    })
}

pub(crate) fn is_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What became of a report.
pub(crate) enum Reported {
    Seen(DeviceSession),
    /// The session was ended from another device.
    Revoked,
}

/// Records that `uid`'s session `report.id` was seen now: created with its first-seen time on
/// its first report, its name, platform and last-seen time updated after that.
pub(crate) async fn report(
    client: &AdminClient,
    uid: &str,
    report: &SessionReport,
) -> Result<Reported, RemoteError> {
    let path = session_path(uid, &report.id);
    for _ in 0..MAX_ATTEMPTS {
        let stored = client.get(&path).await?;
        if stored.as_ref().is_some_and(is_revoked) {
            return Ok(Reported::Revoked);
        }
        let fields = BTreeMap::from([
            ("uid".to_string(), Value::String(uid.to_string())),
            ("sessionId".to_string(), Value::String(report.id.clone())),
            (
                "deviceName".to_string(),
                Value::String(report.device_name.clone()),
            ),
            (
                "platform".to_string(),
                Value::String(report.platform.clone()),
            ),
        ]);
        let keys: Vec<String> = fields.keys().cloned().collect();
        let write = Write::update(path.clone(), fields).mask(keys);
        let write = match &stored {
            None => write
                .server_time("firstSeen")
                .server_time("lastSeen")
                .precondition(Precondition::Exists(false)),
            Some(document) => write
                .server_time("lastSeen")
                .precondition(Precondition::UpdateTime(update_time(document)?)),
        };
        match client.commit(vec![write]).await {
            Ok(_) => {}
            Err(RemoteError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
        let document = client
            .get(&path)
            .await?
            .ok_or_else(|| RemoteError::MalformedResponse("a session just written".into()))?;
        return Ok(Reported::Seen(session_of(&document)?));
    }
    Err(RemoteError::Conflict(
        "the session changed too often at once; try again".into(),
    ))
}

/// `uid`'s sessions that have not been ended, the most recently seen first.
pub(crate) async fn list(
    client: &AdminClient,
    uid: &str,
) -> Result<Vec<DeviceSession>, RemoteError> {
    let mut sessions = documents_of(client, uid)
        .await?
        .iter()
        .filter(|d| !is_revoked(d))
        .map(session_of)
        .collect::<Result<Vec<_>, _>>()?;
    sessions.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
    Ok(sessions)
}

/// Ends every session of `uid` but `keep`: their documents are marked `revokedAt`, then the
/// account's tokens are revoked at Auth (the caller's too: see the module docs). Answers how
/// many sessions were ended.
pub(crate) async fn sign_out_others(
    client: &AdminClient,
    uid: &str,
    keep: &str,
) -> Result<u64, RemoteError> {
    let others: Vec<Document> = documents_of(client, uid)
        .await?
        .into_iter()
        .filter(|d| !is_revoked(d) && text_field(d, "sessionId").as_deref() != Some(keep))
        .collect();
    let writes: Vec<Write> = others
        .iter()
        .map(|d| {
            Write::update(d.name.clone(), BTreeMap::new())
                .mask(Vec::<String>::new())
                .server_time("revokedAt")
                .precondition(Precondition::Exists(true))
        })
        .collect();
    for chunk in writes.chunks(cleom_core::remote::firestore::MAX_COMMIT_WRITES) {
        client.commit(chunk.to_vec()).await?;
    }
    client
        .remote
        .auth
        .revoke_tokens_as_admin(uid, client.admin())
        .await?;
    Ok(others.len() as u64)
}

/// Forgets `uid`'s session `id`: the device signed out, so it leaves the list. Deleting a
/// session that is not there is fine.
pub(crate) async fn end(client: &AdminClient, uid: &str, id: &str) -> Result<(), RemoteError> {
    client
        .commit(vec![Write::delete(session_path(uid, id))])
        .await?;
    Ok(())
}

/// Every session document of `uid`, ended ones included (the account deletion removes them).
pub(crate) async fn documents_of(
    client: &AdminClient,
    uid: &str,
) -> Result<Vec<Document>, RemoteError> {
    client
        .query_all("", SESSIONS, Some(("uid", Value::String(uid.to_string()))))
        .await
}

fn is_revoked(document: &Document) -> bool {
    document.fields.contains_key("revokedAt")
}

fn session_of(document: &Document) -> Result<DeviceSession, RemoteError> {
    let malformed = |field: &str| RemoteError::MalformedResponse(format!("a session's {field}"));
    let time = |field: &str| match document.fields.get(field) {
        Some(Value::Timestamp(t)) => Ok(t.clone()),
        _ => Err(malformed(field)),
    };
    let text = |field: &str| text_field(document, field).ok_or_else(|| malformed(field));
    Ok(DeviceSession {
        id: text("sessionId")?,
        device_name: text("deviceName")?,
        platform: text("platform")?,
        first_seen: time("firstSeen")?,
        last_seen: time("lastSeen")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_keeps_a_clean_name_and_refuses_bad_ids_and_platforms() {
        let report = parse_report(&json!({
            "id": "s-1_A", "deviceName": "  Ada's\u{0007} <b>laptop</b>\n ", "platform": "linux"
        }))
        .unwrap();
        assert_eq!(
            report,
            SessionReport {
                id: "s-1_A".into(),
                device_name: "Ada's <b>laptop</b>".into(),
                platform: "linux".into(),
            }
        );
        let long = parse_report(&json!({"id": "s", "deviceName": "x".repeat(500)})).unwrap();
        assert_eq!(long.device_name.chars().count(), MAX_DEVICE_NAME_CHARS);
        assert_eq!(long.platform, "other");
        let blank = parse_report(&json!({"id": "s", "deviceName": " \t", "platform": "macos"}));
        assert_eq!(blank.unwrap().device_name, "unknown device");
        for bad in [
            json!({}),
            json!({"id": ""}),
            json!({"id": "../x"}),
            json!({"id": "a".repeat(65)}),
            json!({"id": 7}),
            json!({"id": "s", "platform": "amiga"}),
        ] {
            assert!(parse_report(&bad).is_err(), "{bad}");
        }
    }
}
