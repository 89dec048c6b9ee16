//! The credit balance and the ledger that explains every change of it, written together so
//! the ledger always sums to the balance, on the embedded store and on Google's emulator alike.
//!
//! The balance is changed only together with a ledger entry, in one Firestore `:commit` whose
//! profile write carries a `currentDocument.updateTime` precondition: if anything else changed
//! the profile meanwhile, the commit fails as a whole and the caller reads again and retries
//! (optimistic concurrency).

use std::collections::BTreeMap;

use cleom_core::remote::firestore::{Document, Precondition, Value, Write};
use cleom_core::remote::RemoteError;

use crate::admin_client::AdminClient;
use crate::documents::{profile_path, update_time, Fields, MAX_ATTEMPTS};
use crate::ids;

/// Credits a new account starts with.
pub(crate) const SIGNUP_GRANT: i64 = 2000;

/// A new profile's fields, without its `createdAt`/`updatedAt` (set by whoever writes it).
pub(crate) fn new_profile_fields(email: &str, display_name: Option<&str>) -> Fields {
    BTreeMap::from([
        ("email".to_string(), Value::String(email.to_string())),
        (
            "displayName".to_string(),
            display_name.map_or(Value::Null, |n| Value::String(n.to_string())),
        ),
        ("creditBalance".to_string(), Value::Integer(SIGNUP_GRANT)),
        ("analyticsOptIn".to_string(), Value::Boolean(false)),
    ])
}

/// A ledger entry's fields, without its `createdAt`/`updatedAt`.
pub(crate) fn ledger_fields(
    amount: i64,
    reason: &str,
    generation_id: Option<&str>,
    balance_after: i64,
) -> Fields {
    BTreeMap::from([
        ("amount".to_string(), Value::Integer(amount)),
        ("reason".to_string(), Value::String(reason.to_string())),
        (
            "generationId".to_string(),
            generation_id.map_or(Value::Null, |g| Value::String(g.to_string())),
        ),
        ("balanceAfter".to_string(), Value::Integer(balance_after)),
    ])
}

/// A new ledger entry, stamped with the request time.
pub(crate) fn ledger_write(
    uid: &str,
    amount: i64,
    reason: &str,
    generation_id: Option<&str>,
    balance_after: i64,
) -> Write {
    Write::update(
        format!(
            "{}/creditLedger/{}",
            profile_path(uid),
            ids::new_document_id()
        ),
        ledger_fields(amount, reason, generation_id, balance_after),
    )
    .server_time("createdAt")
    .server_time("updatedAt")
    .precondition(Precondition::Exists(false))
}

/// The balance written as `balance`, on condition that `profile` is still the stored version.
pub(crate) fn balance_write(profile: &Document, balance: i64) -> Result<Write, RemoteError> {
    Ok(Write::update(
        profile.name.clone(),
        BTreeMap::from([("creditBalance".to_string(), Value::Integer(balance))]),
    )
    .mask(["creditBalance"])
    .server_time("updatedAt")
    .precondition(Precondition::UpdateTime(update_time(profile)?)))
}

/// The balance a profile holds (`0` before any grant).
pub(crate) fn credit_balance(profile: &Document) -> Result<i64, RemoteError> {
    match profile.fields.get("creditBalance") {
        Some(Value::Integer(n)) => Ok(*n),
        None => Ok(0),
        Some(_) => Err(RemoteError::MalformedResponse(
            "profile field creditBalance is not an integer".into(),
        )),
    }
}

/// The profile, created with the sign-up grant (and its ledger entry) if it is missing — an
/// account whose Auth user was made elsewhere, as on the Auth emulator, gets it on first use.
pub(crate) async fn ensure_profile(
    client: &AdminClient,
    uid: &str,
    email: &str,
) -> Result<Document, RemoteError> {
    let path = profile_path(uid);
    for _ in 0..MAX_ATTEMPTS {
        if let Some(profile) = client.get(&path).await? {
            return Ok(profile);
        }
        let writes = vec![
            Write::update(path.clone(), new_profile_fields(email, None))
                .server_time("createdAt")
                .server_time("updatedAt")
                .precondition(Precondition::Exists(false)),
            ledger_write(uid, SIGNUP_GRANT, "signup_grant", None, SIGNUP_GRANT),
        ];
        match client.remote.firestore.commit(writes, client.admin()).await {
            // Created by a concurrent request: read that one.
            Ok(_) | Err(RemoteError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(RemoteError::Conflict(
        "the profile keeps changing; try again".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_profile_has_the_grant_and_no_opt_in() {
        let fields = new_profile_fields("a@b.co", Some("Ada"));
        assert_eq!(fields["creditBalance"], Value::Integer(SIGNUP_GRANT));
        assert_eq!(fields["analyticsOptIn"], Value::Boolean(false));
        assert_eq!(fields["displayName"], Value::String("Ada".into()));
        assert_eq!(
            new_profile_fields("a@b.co", None)["displayName"],
            Value::Null
        );
    }

    #[test]
    fn a_balance_write_is_conditional_on_the_version_read() {
        let profile = Document {
            name: "projects/p/databases/(default)/documents/users/u".into(),
            fields: BTreeMap::new(),
            create_time: None,
            update_time: Some("2024-01-01T00:00:00.000001Z".into()),
        };
        assert_eq!(
            balance_write(&profile, 5).unwrap(),
            Write::update(
                profile.name.clone(),
                BTreeMap::from([("creditBalance".to_string(), Value::Integer(5))])
            )
            .mask(["creditBalance"])
            .server_time("updatedAt")
            .precondition(Precondition::UpdateTime(
                "2024-01-01T00:00:00.000001Z".into()
            ))
        );
        let unstamped = Document {
            update_time: None,
            ..profile
        };
        assert_eq!(
            balance_write(&unstamped, 5).unwrap_err().code(),
            "server.malformed_response"
        );
    }
}
