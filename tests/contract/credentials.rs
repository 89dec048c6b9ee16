//! Correcting the sign-in credentials, end to end through `cleom_core::Account`: an email change
//! verified by a link sent to the new address (Firebase's `VERIFY_AND_CHANGE_EMAIL`; the link's
//! code is read from the Auth emulator's admin listing, which the local backend serves too),
//! and a password change that keeps this device signed in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cleom_core::device::Device;
use cleom_core::keychain::{self, memory::MemoryKeychain, Keychain};
use cleom_core::paths::DataDir;
use cleom_core::remote::firestore::{Precondition, Value, Write};
use cleom_core::secret::SecretString;
use cleom_core::Account;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::auth::password;
use crate::support::{check, check_eq, expect_code, unique_email, Outcome};
use crate::targets::{Target, PROJECT};

/// Firebase revokes what was issued before the second of a change (`validSince` is in
/// seconds): waiting this long makes the change fall in a later second.
const NEXT_SECOND: Duration = Duration::from_millis(1100);

/// A device with an in-memory keychain, signed up as a new account whose profile exists.
async fn signed_up(
    t: &Target,
    tag: &str,
) -> Result<(Device, Account, Arc<MemoryKeychain>, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let keychain = Arc::new(MemoryKeychain::new());
    let device = Device::new(DataDir::at(dir.path()), keychain.clone(), t.remote.clone())
        .map_err(|e| e.to_string())?;
    let account = device
        .sign_up(&unique_email(tag), &password())
        .await
        .map_err(|e| e.to_string())?;
    ensure_profile(t, &account).await?;
    Ok((device, account, keychain, dir))
}

/// The local backend creates the profile at sign-up; on the emulators the Cleom API would on
/// first use. Written here as that server would, so the test needs no generation.
async fn ensure_profile(t: &Target, account: &Account) -> Result<(), String> {
    let path = format!("users/{}", account.uid());
    let firestore = &t.remote.firestore;
    if firestore
        .get(&path, &t.admin)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(());
    }
    let fields = BTreeMap::from([
        ("email".to_string(), Value::String(account.email().into())),
        ("displayName".to_string(), Value::Null),
        ("creditBalance".to_string(), Value::Integer(2000)),
        ("analyticsOptIn".to_string(), Value::Boolean(false)),
    ]);
    let write = Write::update(path, fields)
        .server_time("createdAt")
        .server_time("updatedAt")
        .precondition(Precondition::Exists(false));
    firestore
        .commit(vec![write], &t.admin)
        .await
        .map_err(|e| format!("creating the profile: {e}"))?;
    Ok(())
}

/// The profile document's `email`, as the server holds it.
async fn profile_email(t: &Target, uid: &str) -> Result<Option<String>, String> {
    let document = t
        .remote
        .firestore
        .get(&format!("users/{uid}"), &t.admin)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the profile document is missing")?;
    Ok(match document.fields.get("email") {
        Some(Value::String(email)) => Some(email.clone()),
        _ => None,
    })
}

/// One pending email code from the Auth emulator's listing (also served by the local backend).
#[derive(Debug)]
struct OobCode {
    email: String,
    new_email: Option<String>,
    request_type: String,
    code: String,
    link: String,
}

/// `GET {auth root}/emulator/v1/projects/{project}/oobCodes` with the admin token. HTTP/1.0 so
/// that the answer is neither chunked nor kept alive: it ends where the connection does.
async fn oob_codes(t: &Target) -> Result<Vec<OobCode>, String> {
    let host = t
        .auth_root
        .strip_prefix("http://")
        .ok_or("only http:// roots")?
        .to_string();
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&host).await?;
        let request = format!(
            "GET /emulator/v1/projects/{PROJECT}/oobCodes HTTP/1.0\r\nHost: {host}\r\n\
             Authorization: Bearer {}\r\n\r\n",
            t.admin.expose()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "the oobCodes listing did not answer within 10 s".to_string())?
        .map_err(|e| format!("reading the oobCodes listing: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("the oobCodes listing is not an HTTP answer")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!(
            "the oobCodes listing answered {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the oobCodes listing: {e}"))?;
    let text_of = |item: &serde_json::Value, key: &str| {
        item.get(key).and_then(|v| v.as_str()).map(str::to_string)
    };
    json.get("oobCodes")
        .and_then(|c| c.as_array())
        .ok_or("the listing has no oobCodes array")?
        .iter()
        .map(|item| {
            Ok(OobCode {
                email: text_of(item, "email").ok_or("a code without its email")?,
                new_email: text_of(item, "newEmail"),
                request_type: text_of(item, "requestType").ok_or("a code without its type")?,
                code: text_of(item, "oobCode").ok_or("a code without the code")?,
                link: text_of(item, "oobLink").ok_or("a code without its link")?,
            })
        })
        .collect()
}

/// The code sent for a change to `new_email`.
async fn code_for(t: &Target, new_email: &str) -> Result<OobCode, String> {
    oob_codes(t)
        .await?
        .into_iter()
        .find(|c| c.new_email.as_deref() == Some(new_email))
        .ok_or_else(|| format!("no code was sent for {new_email}"))
}

pub async fn an_email_change_is_verified_by_a_link_then_applied(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let (device, account, _keychain, _dir) = signed_up(&t, "moving").await?;
    let uid = account.uid().to_string();
    let old_email = account.email().to_string();
    account.sync().await?;
    // Another session of the same account, from before the change.
    let before = auth.sign_in(&old_email, &password()).await?;
    tokio::time::sleep(NEXT_SECOND).await;

    let new_email = unique_email("Moved").to_lowercase();
    expect_code(
        account
            .request_email_change(&SecretString::new("not the password".into()), &new_email)
            .await
            .map_err(remote),
        "auth.invalid_credentials",
    )?;
    account
        .request_email_change(&password(), &new_email.to_uppercase())
        .await?;
    let sent = code_for(&t, &new_email).await?;
    check_eq!(sent.request_type, "VERIFY_AND_CHANGE_EMAIL");
    check_eq!(sent.email, old_email, "the code names the current address");
    check!(
        sent.link.contains(&format!("oobCode={}", sent.code)),
        "the link carries the code: {}",
        sent.link
    );
    // Nothing changes until the link is followed.
    expect_code(
        auth.sign_in(&new_email, &password()).await,
        "auth.invalid_credentials",
    )?;
    check_eq!(auth.sign_in(&old_email, &password()).await?.uid, uid);

    let code = SecretString::new(sent.code.clone());
    check_eq!(auth.apply_action_code(&code).await?, new_email);
    expect_code(
        auth.apply_action_code(&code).await,
        "auth.invalid_action_code",
    )
    .map_err(|e| format!("a code works once: {e}"))?;
    check!(
        code_for(&t, &new_email).await.is_err(),
        "an applied code leaves the listing"
    );

    // Signing in: the new address works, the old one does not.
    let moved = auth.sign_in(&new_email, &password()).await?;
    check_eq!(moved.uid, uid);
    expect_code(
        auth.sign_in(&old_email, &password()).await,
        "auth.invalid_credentials",
    )?;
    let info = auth.lookup(&moved.id_token).await?;
    check_eq!(info.email.as_deref(), Some(new_email.as_str()));
    check!(
        info.email_verified,
        "a verified change verifies the address"
    );

    // Every session from before the change is over (Firebase; see `Target`).
    if t.applied_email_change_revokes {
        expect_code(auth.lookup(&before.id_token).await, "auth.session_expired")
            .map_err(|e| format!("an ID token from before the change: {e}"))?;
    }
    if t.revokes_refresh_tokens && t.applied_email_change_revokes {
        expect_code(
            auth.refresh(&before.refresh_token).await,
            "auth.session_expired",
        )
        .map_err(|e| format!("a refresh token from before the change: {e}"))?;
        // This device learns it at its next sync, which is what makes the app ask for a
        // sign-in again.
        let e = account
            .sync()
            .await
            .err()
            .ok_or("the old session still syncs")?;
        check_eq!(e.code(), "auth.session_expired");
    }

    // Signed in again with the new address: the account and its profile show it.
    drop(account);
    let account = device.sign_in(&new_email, &password()).await?;
    check_eq!(account.uid(), uid);
    check_eq!(account.email(), new_email);
    account.sync().await?;
    let stored = account.profile()?.ok_or("a synced profile")?;
    check_eq!(stored.email, new_email, "the stored profile");
    check_eq!(
        profile_email(&t, &uid).await?.as_deref(),
        Some(new_email.as_str()),
        "the profile document"
    );
    // And a sync after that writes nothing more.
    let report = account.sync().await?;
    check!(!report.profile_changed, "{report:?}");
    Ok(())
}

pub async fn bad_codes_and_taken_addresses_are_refused(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let (_device, account, _keychain, _dir) = signed_up(&t, "stays").await?;
    let other = unique_email("taken");
    auth.sign_up(&other, &password()).await?;

    expect_code(
        account
            .request_email_change(&password(), &other)
            .await
            .map_err(remote),
        "auth.email_exists",
    )?;
    expect_code(
        account
            .request_email_change(&password(), "no-at-sign")
            .await
            .map_err(remote),
        "auth.invalid_email",
    )?;
    let code = |s: &str| SecretString::new(s.to_string());
    expect_code(
        auth.apply_action_code(&code("not-a-real-code")).await,
        "auth.invalid_action_code",
    )?;

    // A code for an address that another account took meanwhile does not move this one.
    let wanted = unique_email("wanted").to_lowercase();
    account.request_email_change(&password(), &wanted).await?;
    let sent = code_for(&t, &wanted).await?;
    auth.sign_up(&wanted, &password()).await?;
    expect_code(
        auth.apply_action_code(&code(&sent.code)).await,
        "auth.email_exists",
    )?;
    check_eq!(
        auth.sign_in(account.email(), &password()).await?.uid,
        account.uid(),
        "the account keeps its address"
    );
    Ok(())
}

pub async fn a_password_change_keeps_this_device_signed_in(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let (device, account, keychain, _dir) = signed_up(&t, "rekey").await?;
    let uid = account.uid().to_string();
    let email = account.email().to_string();
    account.sync().await?;
    let elsewhere = auth.sign_in(&email, &password()).await?;
    let entry = keychain::refresh_token_entry(&uid);
    let old_refresh = keychain.get(&entry)?.ok_or("a stored refresh token")?;
    tokio::time::sleep(NEXT_SECOND).await;

    let new_password = SecretString::new("a brand new passphrase".into());
    expect_code(
        account
            .change_password(&SecretString::new("not the password".into()), &new_password)
            .await
            .map_err(remote),
        "auth.invalid_credentials",
    )?;
    expect_code(
        account
            .change_password(&password(), &SecretString::new("12345".into()))
            .await
            .map_err(remote),
        "auth.weak_password",
    )?;
    account.change_password(&password(), &new_password).await?;

    expect_code(
        auth.sign_in(&email, &password()).await,
        "auth.invalid_credentials",
    )?;
    check_eq!(auth.sign_in(&email, &new_password).await?.uid, uid);

    // This device: a new refresh token in the keychain, which works, and the sync goes on.
    let new_refresh = keychain.get(&entry)?.ok_or("a stored refresh token")?;
    if t.revokes_refresh_tokens {
        // The emulator's refresh tokens are the same for every session of a user.
        check!(
            new_refresh.expose() != old_refresh.expose(),
            "the keychain holds the new refresh token"
        );
    }
    check_eq!(auth.refresh(&new_refresh).await?.uid, uid);
    account.sync().await?;
    drop(account);
    let resumed = device.resume()?.ok_or("the device resumes the session")?;
    resumed.sync().await?;
    check_eq!(resumed.email(), email);

    // Other sessions are over.
    expect_code(
        auth.lookup(&elsewhere.id_token).await,
        "auth.session_expired",
    )?;
    if t.revokes_refresh_tokens {
        expect_code(
            auth.refresh(&elsewhere.refresh_token).await,
            "auth.session_expired",
        )?;
        expect_code(auth.refresh(&old_refresh).await, "auth.session_expired")?;
    }
    Ok(())
}

/// "Forgot password?" then the link from the email, as the app follows it: the link (the local
/// backend's `cleom://auth/action?…`, the Auth emulator's `http://127.0.0.1:…/emulator/action?…`)
/// parses to the code, the new password is set and the device is signed in with it, the old
/// password no longer works and the code works once.
pub async fn a_reset_link_sets_the_new_password_and_signs_in(t: Arc<Target>) -> Outcome {
    let auth = &t.remote.auth;
    let (device, account, _keychain, _dir) = signed_up(&t, "forgot").await?;
    let uid = account.uid().to_string();
    let email = account.email().to_string();
    drop(account);
    device.send_password_reset(&email).await?;
    let sent = oob_codes(&t)
        .await?
        .into_iter()
        .find(|c| c.email == email && c.request_type == "PASSWORD_RESET")
        .ok_or_else(|| format!("no reset code was sent for {email}"))?;
    let link = cleom_core::link::parse(&sent.link)
        .map_err(|e| format!("the email's link {} does not parse: {e}", sent.link))?;
    check_eq!(link.action(), "resetPassword");
    let oob_code = link.oob_code();
    check_eq!(oob_code.expose(), &sent.code);

    let new_password = SecretString::new("a password after the reset".into());
    let account = device.reset_password(oob_code, &new_password).await?;
    check_eq!(account.uid(), uid, "signed in to the same account");
    account.sync().await?;
    expect_code(
        auth.sign_in(&email, &password()).await,
        "auth.invalid_credentials",
    )
    .map_err(|e| format!("the old password: {e}"))?;
    check_eq!(auth.sign_in(&email, &new_password).await?.uid, uid);
    expect_code(
        device
            .reset_password(oob_code, &SecretString::new("yet another password".into()))
            .await
            .map(|_| ())
            .map_err(remote),
        "auth.invalid_action_code",
    )
    .map_err(|e| format!("a code works once: {e}"))?;
    Ok(())
}

/// A core error as the `RemoteError` it wraps, for `expect_code`.
fn remote(e: cleom_core::Error) -> cleom_core::remote::RemoteError {
    match e {
        cleom_core::Error::Remote(e) => e,
        other => {
            cleom_core::remote::RemoteError::InvalidRequest(format!("{} ({})", other, other.code()))
        }
    }
}
