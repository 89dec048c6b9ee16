//! The names of the documents the API writes and how it writes them conditionally, in one
//! place, so that the modules that read a document and the ones that change it agree on its
//! path, and each can be used without the others.

use std::collections::BTreeMap;

use cleom_core::remote::firestore::{Document, Value};
use cleom_core::remote::RemoteError;
use sha2::{Digest as _, Sha256};

/// The server-only collection of pending jobs.
pub(crate) const JOBS: &str = "cleomJobs";

/// The server-only collection of signed-in sessions (see `sessions`).
pub(crate) const SESSIONS: &str = "cleomSessions";

/// Optimistic transactions give up after this many conflicting attempts.
pub(crate) const MAX_ATTEMPTS: u32 = 16;

pub(crate) type Fields = BTreeMap<String, Value>;

/// An account's profile, the parent of all its documents.
pub(crate) fn profile_path(uid: &str) -> String {
    format!("users/{uid}")
}

pub(crate) fn generation_path(uid: &str, id: &str) -> String {
    format!("users/{uid}/generations/{id}")
}

/// `cleomJobs/{key}`, the key a digest of (uid, id): unique, and free of the characters a
/// document id may not hold.
pub(crate) fn job_path(uid: &str, id: &str) -> String {
    format!("{JOBS}/{}", digest_key(uid, id))
}

fn digest_key(uid: &str, id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(uid.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .finalize();
    hex::encode(&digest[..20])
}

/// `cleomSessions/{key}`, the key a digest of (uid, session id), as for jobs.
pub(crate) fn session_path(uid: &str, id: &str) -> String {
    format!("{SESSIONS}/{}", digest_key(uid, id))
}

/// A string field of `document`, if it has one.
pub(crate) fn text_field(document: &Document, key: &str) -> Option<String> {
    match document.fields.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The `updateTime` a precondition needs; every stored document has one.
pub(crate) fn update_time(document: &Document) -> Result<String, RemoteError> {
    document
        .update_time
        .clone()
        .ok_or_else(|| RemoteError::MalformedResponse("a document without its updateTime".into()))
}

/// A stored generation document with `fields`, for tests.
#[cfg(test)]
pub(crate) fn test_generation(fields: Fields) -> Document {
    Document {
        name: "projects/p/databases/(default)/documents/users/u/generations/g".into(),
        fields,
        create_time: None,
        update_time: Some("2024-01-01T00:00:00Z".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_paths_are_distinct_per_account_and_generation() {
        assert_ne!(job_path("ab", "c"), job_path("a", "bc"));
        assert_eq!(job_path("u", "g"), job_path("u", "g"));
        let id = job_path("u", "g");
        assert!(id.starts_with("cleomJobs/") && id.len() == "cleomJobs/".len() + 40);
    }
}
