//! Firebase Auth: the flows the app uses and the errors it must tell apart.

use std::sync::Arc;

use cleom_core::secret::SecretString;

use crate::support::{check, check_eq, expect_code, unique_email, Outcome};
use crate::targets::Target;

pub const PASSWORD: &str = "correct horse battery";

pub fn password() -> SecretString {
    SecretString::new(PASSWORD.to_string())
}

pub async fn sign_up_sign_in_refresh_and_lookup(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let email = unique_email("Flow");
    let session = auth.sign_up(&email, &password()).await?;
    check!(!session.uid.is_empty(), "a uid");
    check_eq!(
        session.email.as_deref(),
        Some(email.to_lowercase().as_str()),
        "emails are stored lower-cased"
    );

    let again = auth.sign_in(&email.to_uppercase(), &password()).await?;
    check_eq!(
        again.uid,
        session.uid,
        "signing in finds the same user, whatever the case"
    );

    let refreshed = auth.refresh(&again.refresh_token).await?;
    check_eq!(refreshed.uid, session.uid);
    let info = auth.lookup(&refreshed.id_token).await?;
    check_eq!(info.uid, session.uid);
    check_eq!(info.email.as_deref(), Some(email.to_lowercase().as_str()));
    check_eq!(info.display_name, None, "no name set yet");
    check!(
        info.created_at.is_some(),
        "lookup tells when the account was made"
    );
    Ok(())
}

pub async fn errors_have_stable_codes(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let email = unique_email("errors");
    auth.sign_up(&email, &password()).await?;
    expect_code(auth.sign_up(&email, &password()).await, "auth.email_exists")?;
    expect_code(
        auth.sign_up(&unique_email("weak"), &SecretString::new("12345".into()))
            .await,
        "auth.weak_password",
    )?;
    expect_code(
        auth.sign_up("not-an-address", &password()).await,
        "auth.invalid_email",
    )?;
    // Firebase says INVALID_PASSWORD / EMAIL_NOT_FOUND, or INVALID_LOGIN_CREDENTIALS with
    // enumeration protection; the app sees one code either way.
    expect_code(
        auth.sign_in(&email, &SecretString::new("wrong password".into()))
            .await,
        "auth.invalid_credentials",
    )?;
    expect_code(
        auth.sign_in(&unique_email("nobody"), &password()).await,
        "auth.invalid_credentials",
    )?;
    let forged = SecretString::new("not-a-real-token".into());
    expect_code(auth.refresh(&forged).await, "auth.session_expired")?;
    expect_code(auth.lookup(&forged).await, "auth.session_expired")?;
    Ok(())
}

pub async fn profile_email_and_password_changes(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let email = unique_email("changes");
    let session = auth.sign_up(&email, &password()).await?;
    // Firebase revokes tokens issued before the second of a password change (`validSince` is
    // in seconds), so the change must come in a later second for the old token to be refused.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    auth.update_profile(&session.id_token, "Ada Lovelace")
        .await?;
    let info = auth.lookup(&session.id_token).await?;
    check_eq!(info.display_name.as_deref(), Some("Ada Lovelace"));

    let new_password = SecretString::new("an even better one".into());
    let rotated = auth
        .update_password(&session.id_token, &new_password)
        .await?
        .ok_or("a password change answers with new tokens")?;
    check_eq!(rotated.uid, session.uid);
    expect_code(auth.lookup(&session.id_token).await, "auth.session_expired")
        .map_err(|e| format!("the ID token from before the change: {e}"))?;
    expect_code(
        auth.sign_in(&email, &password()).await,
        "auth.invalid_credentials",
    )?;
    let signed_in = auth.sign_in(&email, &new_password).await?;

    let new_email = unique_email("moved");
    let moved = auth
        .update_email(&signed_in.id_token, &new_email)
        .await?
        .ok_or("an email change answers with new tokens")?;
    check_eq!(moved.uid, session.uid);
    check_eq!(
        auth.sign_in(&new_email, &new_password).await?.uid,
        session.uid
    );
    expect_code(
        auth.sign_in(&email, &new_password).await,
        "auth.invalid_credentials",
    )?;
    Ok(())
}

pub async fn password_reset_never_reveals_accounts(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let email = unique_email("forgetful");
    auth.sign_up(&email, &password()).await?;
    auth.send_password_reset(&email).await?;
    // The emulator says EMAIL_NOT_FOUND here; the client answers alike for both.
    auth.send_password_reset(&unique_email("stranger")).await?;
    Ok(())
}

pub async fn deleting_the_user_ends_its_sessions(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let email = unique_email("leaving");
    let session = auth.sign_up(&email, &password()).await?;
    // A sign-in this recent is what deletion needs (older: auth.requires_recent_login).
    auth.delete(&session.id_token).await?;
    expect_code(
        auth.sign_in(&email, &password()).await,
        "auth.invalid_credentials",
    )?;
    expect_code(
        auth.refresh(&session.refresh_token).await,
        "auth.session_expired",
    )?;
    expect_code(auth.lookup(&session.id_token).await, "auth.session_expired")?;
    // The admin path the Cleom API uses for the same: gone is "false", not an error.
    let other = auth
        .sign_up(&unique_email("admin-deleted"), &password())
        .await?;
    check!(
        auth.delete_user_as_admin(&other.uid, &t.admin).await?,
        "the user existed"
    );
    check!(
        !auth.delete_user_as_admin(&other.uid, &t.admin).await?,
        "and is gone"
    );
    // Without the admin credential (here: a user's own ID token) it is refused, as a 401.
    let third = auth
        .sign_up(&unique_email("not-admin"), &password())
        .await?;
    expect_code(
        auth.delete_user_as_admin(&third.uid, &third.id_token).await,
        "auth.session_expired",
    )?;
    check!(
        auth.lookup(&third.id_token).await.is_ok(),
        "and the user is still there"
    );
    Ok(())
}
