//! `device.json`: who is signed in on this device, so the app can resume that account offline.
//!
//! A uid, an email and a session id, nothing secret, in one small private file. Its own module because two
//! pieces change it: `device` when a session starts or ends, and `local_copy` when an account's
//! copy is wiped from this device.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::{self, DataDir};

const FILE: &str = "device.json";

/// The contents of `device.json`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignedIn {
    /// The signed-in account's uid.
    #[serde(rename = "signedIn")]
    pub(crate) uid: Option<String>,
    /// The signed-in account's email, for when its local copy has no profile yet.
    #[serde(default)]
    pub(crate) email: Option<String>,
    /// This sign-in's session id (see `signed_in_devices`); missing in a file written before
    /// sessions were listed, and then drawn on the next start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<String>,
}

/// Where the file is.
pub(crate) fn path(data: &DataDir) -> std::path::PathBuf {
    data.root().join(FILE)
}

/// Who is signed in; nobody when the file is missing or unreadable.
pub(crate) fn read(data: &DataDir) -> SignedIn {
    std::fs::read(path(data))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

pub(crate) fn write(data: &DataDir, signed_in: &SignedIn) -> Result<()> {
    let bytes =
        serde_json::to_vec_pretty(signed_in).map_err(|e| Error::InvalidInput(e.to_string()))?;
    paths::write_private_file(&path(data), &bytes)?;
    Ok(())
}

/// Nobody is signed in any more (the file goes; a missing one is fine).
pub(crate) fn forget(data: &DataDir) -> Result<()> {
    match std::fs::remove_file(path(data)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_keeps_its_names_and_a_missing_or_broken_one_is_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::at(dir.path());
        data.ensure().unwrap();
        assert_eq!(read(&data), SignedIn::default());
        let ada = SignedIn {
            uid: Some("u1".into()),
            email: Some("ada@example.com".into()),
            session_id: Some("s1".into()),
        };
        write(&data, &ada).unwrap();
        // The field names a file written by an earlier version has.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(FILE)).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"signedIn": "u1", "email": "ada@example.com", "sessionId": "s1"})
        );
        // A file from before sessions were listed reads, without one.
        std::fs::write(
            dir.path().join(FILE),
            br#"{"signedIn": "u1", "email": "a@b.c"}"#,
        )
        .unwrap();
        assert_eq!(read(&data).session_id, None);
        write(&data, &ada).unwrap();
        assert_eq!(read(&data), ada);
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert_eq!(read(&data), SignedIn::default());
        forget(&data).unwrap();
        forget(&data).unwrap();
        assert_eq!(read(&data), SignedIn::default());
    }
}
