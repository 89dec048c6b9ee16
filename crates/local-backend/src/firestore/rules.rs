//! The security rules, in Rust: what `firestore.rules` says for the real Firestore.
//!
//! - A signed-in user may read `users/{their uid}` and everything below it; nothing else.
//! - On their profile document a user may change only `displayName` (string or null),
//!   `analyticsOptIn` (boolean), `updatedAt` (only to the request time, i.e. through the
//!   `REQUEST_TIME` transform) and `email` (only to their sign-in email, the `email` claim of
//!   their ID token, so the profile can follow a verified email change). They cannot create or
//!   delete it: the server does.
//! - Everything in subcollections (generations, credit ledger, purchases) is written by the
//!   server only, so credits can only change through the Cleom API.
//! - `Bearer owner` (the emulators' admin token) bypasses the rules.

use crate::value::{Fields, Timestamp, Value};

/// Who is making a Firestore request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    Admin,
    User(String),
    Anonymous,
}

/// The profile fields a client may change.
const CLIENT_PROFILE_FIELDS: [&str; 4] = ["displayName", "analyticsOptIn", "updatedAt", "email"];

fn owner_of(path: &str) -> Option<&str> {
    let mut segments = path.split('/');
    match (segments.next(), segments.next()) {
        (Some("users"), Some(uid)) if !uid.is_empty() => Some(uid),
        _ => None,
    }
}

/// May `caller` read the document at (or query the collection under) `path`?
pub(crate) fn can_read(caller: &Caller, path: &str) -> bool {
    match caller {
        Caller::Admin => true,
        Caller::User(uid) => owner_of(path) == Some(uid.as_str()),
        Caller::Anonymous => false,
    }
}

/// May `caller` touch `path` with a write at all? Checked before preconditions, so a write to
/// someone else's document does not reveal whether it exists.
pub(crate) fn may_write_path(caller: &Caller, path: &str) -> bool {
    can_read(caller, path)
}

/// May `caller` turn the document at `path` from `before` into `after` (`None` = absent)?
/// `auth_email` is the caller's sign-in email (the `email` claim of its ID token): the only
/// value a client may give its profile's `email`.
pub(crate) fn can_write(
    caller: &Caller,
    path: &str,
    before: Option<&Fields>,
    after: Option<&Fields>,
    request_time: Timestamp,
    auth_email: Option<&str>,
) -> bool {
    let uid = match caller {
        Caller::Admin => return true,
        Caller::Anonymous => return false,
        Caller::User(uid) => uid,
    };
    if owner_of(path) != Some(uid.as_str()) || path.matches('/').count() != 1 {
        // Only the profile document itself is client-writable.
        return false;
    }
    let (Some(before), Some(after)) = (before, after) else {
        return false;
    };
    let keys = before.keys().chain(after.keys());
    for key in keys {
        if before.get(key) == after.get(key) {
            continue;
        }
        if !CLIENT_PROFILE_FIELDS.contains(&key.as_str()) {
            return false;
        }
        let allowed = match (key.as_str(), after.get(key)) {
            ("displayName", Some(Value::String(_) | Value::Null)) => true,
            ("analyticsOptIn", Some(Value::Boolean(_))) => true,
            ("updatedAt", Some(Value::Timestamp(t))) => *t == request_time,
            ("email", Some(Value::String(email))) => Some(email.as_str()) == auth_email,
            _ => false,
        };
        if !allowed {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Fields {
        let mut f = Fields::new();
        f.insert("email".into(), Value::String("a@b.c".into()));
        f.insert("displayName".into(), Value::Null);
        f.insert("creditBalance".into(), Value::Integer(2000));
        f.insert("analyticsOptIn".into(), Value::Boolean(false));
        f.insert(
            "updatedAt".into(),
            Value::Timestamp(Timestamp::from_micros(1)),
        );
        f
    }

    #[test]
    fn users_read_only_their_own_tree() {
        let me = Caller::User("me".into());
        assert!(can_read(&me, "users/me"));
        assert!(can_read(&me, "users/me/generations/g"));
        assert!(!can_read(&me, "users/you"));
        assert!(!can_read(&me, "users/meme"));
        assert!(!can_read(&me, "other/me"));
        assert!(!can_read(&Caller::Anonymous, "users/me"));
        assert!(can_read(&Caller::Admin, "anything/x"));
    }

    #[test]
    fn clients_change_only_their_editable_profile_fields() {
        let me = Caller::User("me".into());
        let now = Timestamp::from_micros(5);
        let before = profile();
        let mut after = before.clone();
        after.insert("displayName".into(), Value::String("Ada".into()));
        after.insert("analyticsOptIn".into(), Value::Boolean(true));
        after.insert("updatedAt".into(), Value::Timestamp(now));
        assert!(can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&after),
            now,
            None
        ));

        let mut richer = before.clone();
        richer.insert("creditBalance".into(), Value::Integer(1_000_000));
        assert!(!can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&richer),
            now,
            None
        ));

        let mut backdated = before.clone();
        backdated.insert(
            "updatedAt".into(),
            Value::Timestamp(Timestamp::from_micros(2)),
        );
        assert!(!can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&backdated),
            now,
            None
        ));

        let mut wrong_type = before.clone();
        wrong_type.insert("analyticsOptIn".into(), Value::String("yes".into()));
        assert!(!can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&wrong_type),
            now,
            None
        ));

        assert!(
            !can_write(&me, "users/me", Some(&before), None, now, None),
            "no deleting the profile"
        );
        assert!(
            !can_write(&me, "users/me", None, Some(&after), now, None),
            "no creating the profile"
        );
        assert!(!can_write(
            &me,
            "users/me/generations/g",
            None,
            Some(&after),
            now,
            None
        ));
        assert!(can_write(
            &Caller::Admin,
            "users/me",
            Some(&before),
            Some(&richer),
            now,
            None
        ));

        // The email only to the address Auth vouches for (the ID token's `email` claim).
        let mut moved = before.clone();
        moved.insert("email".into(), Value::String("new@b.c".into()));
        moved.insert("updatedAt".into(), Value::Timestamp(now));
        let vouched = Some("new@b.c");
        assert!(can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&moved),
            now,
            vouched
        ));
        assert!(!can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&moved),
            now,
            Some("a@b.c")
        ));
        assert!(!can_write(
            &me,
            "users/me",
            Some(&before),
            Some(&moved),
            now,
            None
        ));
    }
}
