//! An account's server-side data: the `users/{uid}` profile with its credit balance, the
//! credit ledger that explains every change of that balance, and the cascade that removes all
//! of it.
//!
//! The balance is only ever changed here, together with a ledger entry, inside the caller's
//! transaction, so the ledger always sums to the balance.

use std::path::Path;

use crate::auth;
use crate::db::{count_collection, delete_tree, Tx};
use crate::error::StoreError;
use crate::firestore::value::{Fields, Value};
use crate::ids;

/// Credits a new account starts with.
pub(crate) const SIGNUP_GRANT: i64 = 2000;

pub(crate) fn profile_path(uid: &str) -> String {
    format!("users/{uid}")
}

/// Creates `users/{uid}` with the sign-up grant and its ledger entry.
pub(crate) fn create_profile(
    tx: &Tx<'_>,
    uid: &str,
    email: &str,
    display_name: Option<&str>,
) -> Result<Fields, StoreError> {
    let mut fields = Fields::new();
    fields.insert("email".into(), Value::String(email.to_string()));
    fields.insert(
        "displayName".into(),
        display_name.map_or(Value::Null, |n| Value::String(n.to_string())),
    );
    fields.insert("creditBalance".into(), Value::Integer(SIGNUP_GRANT));
    fields.insert("analyticsOptIn".into(), Value::Boolean(false));
    fields.insert("createdAt".into(), Value::Timestamp(tx.now));
    fields.insert("updatedAt".into(), Value::Timestamp(tx.now));
    tx.set(&profile_path(uid), &fields)?;
    add_ledger_entry(tx, uid, SIGNUP_GRANT, "signup_grant", None, SIGNUP_GRANT)?;
    Ok(fields)
}

/// The profile, created with the sign-up grant if it is missing (an account made before its
/// profile, e.g. when the Auth user came from elsewhere).
pub(crate) fn ensure_profile(tx: &Tx<'_>, uid: &str) -> Result<Fields, StoreError> {
    if let Some(doc) = tx.get(&profile_path(uid))? {
        return Ok(doc.fields);
    }
    let email = auth::email_of(tx.conn, uid)?.unwrap_or_default();
    create_profile(tx, uid, &email, None)
}

/// Sets some profile fields (and `updatedAt`), if the profile exists.
pub(crate) fn update_profile(
    tx: &Tx<'_>,
    uid: &str,
    changes: Vec<(&str, Value)>,
) -> Result<(), StoreError> {
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

pub(crate) fn credit_balance(profile: &Fields) -> i64 {
    match profile.get("creditBalance") {
        Some(Value::Integer(n)) => *n,
        Some(Value::Double(d)) => *d as i64,
        _ => 0,
    }
}

/// Adds `amount` (negative to spend) to the balance and records why; answers the new balance.
pub(crate) fn move_credits(
    tx: &Tx<'_>,
    uid: &str,
    amount: i64,
    reason: &str,
    generation_id: Option<&str>,
) -> Result<i64, StoreError> {
    let mut profile = ensure_profile(tx, uid)?;
    let balance = credit_balance(&profile).saturating_add(amount);
    profile.insert("creditBalance".into(), Value::Integer(balance));
    profile.insert("updatedAt".into(), Value::Timestamp(tx.now));
    tx.set(&profile_path(uid), &profile)?;
    add_ledger_entry(tx, uid, amount, reason, generation_id, balance)?;
    Ok(balance)
}

fn add_ledger_entry(
    tx: &Tx<'_>,
    uid: &str,
    amount: i64,
    reason: &str,
    generation_id: Option<&str>,
    balance_after: i64,
) -> Result<(), StoreError> {
    let mut fields = Fields::new();
    fields.insert("amount".into(), Value::Integer(amount));
    fields.insert("reason".into(), Value::String(reason.to_string()));
    fields.insert(
        "generationId".into(),
        generation_id.map_or(Value::Null, |g| Value::String(g.to_string())),
    );
    fields.insert("balanceAfter".into(), Value::Integer(balance_after));
    fields.insert("createdAt".into(), Value::Timestamp(tx.now));
    fields.insert("updatedAt".into(), Value::Timestamp(tx.now));
    tx.set(
        &format!("users/{uid}/creditLedger/{}", ids::new_document_id()),
        &fields,
    )
}

/// What an account deletion removed from the database.
#[derive(Debug, Default)]
pub(crate) struct Removal {
    pub(crate) generations: u64,
    pub(crate) ledger_entries: u64,
    pub(crate) purchases: u64,
    pub(crate) auth_user: bool,
    /// Media folders to delete once the transaction has committed.
    pub(crate) media_tokens: Vec<String>,
}

/// Removes the profile, every document below it, the Auth user, its tokens, its jobs and its
/// media index entries.
pub(crate) fn delete_account(tx: &Tx<'_>, uid: &str) -> Result<Removal, StoreError> {
    let root = profile_path(uid);
    let mut removal = Removal {
        generations: count_collection(tx.conn, &root, "generations")?,
        ledger_entries: count_collection(tx.conn, &root, "creditLedger")?,
        purchases: count_collection(tx.conn, &root, "purchases")?,
        ..Removal::default()
    };
    delete_tree(tx.conn, &root)?;
    let mut statement = tx.conn.prepare("SELECT token FROM media WHERE uid = ?1")?;
    removal.media_tokens = statement
        .query_map([uid], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tx.conn.execute("DELETE FROM media WHERE uid = ?1", [uid])?;
    tx.conn.execute("DELETE FROM jobs WHERE uid = ?1", [uid])?;
    removal.auth_user = auth::delete_user(tx.conn, uid)?;
    Ok(removal)
}

/// Deletes media folders; answers how many files were removed.
pub(crate) fn remove_media(media_root: &Path, tokens: &[String]) -> u64 {
    tokens
        .iter()
        .map(|token| crate::media::remove(media_root, token))
        .sum()
}
