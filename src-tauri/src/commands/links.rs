//! "Forgot password?", and completing the links from Cleom's emails (see `links`).
//!
//! The types that cross are generated into `ui/src/lib/generated/`; errors are `AppError`s:
//! - `send_password_reset({email})`, alike whether or not an account has the address.
//!   Errors: `auth.invalid_email`, `auth.too_many_attempts`, `network.*`.
//! - `pending_link()` → `LinkView | null`: the link that
//!   arrived last and is not done yet. A link that cannot be opened rejects once with its
//!   `link.*` code (`link.unknown_scheme`, `link.unknown_action`, `link.unknown_mode`,
//!   `link.missing_code`, `link.too_long`, `link.malformed`) and is then forgotten.
//! - `dismiss_link()`: the user closed it.
//! - `reset_password({newPassword})` → `AccountView`: the pending reset link's code sets the
//!   password, and the user is signed in with it. Errors: `auth.weak_password` (the link stays,
//!   to try another), `auth.invalid_action_code`, `auth.expired_action_code` (the link is
//!   done), `link.none` (no reset link is pending), `network.*`.
//! - `verify_email_change()` → the new sign-in email: the pending verification link's code is
//!   applied; every session of the account ends, so a signed-in window gets `signed-out` next.
//!   Errors: `auth.invalid_action_code`, `auth.expired_action_code`, `auth.email_exists`,
//!   `link.none`, `network.*`.

use cleom_core::secret::SecretString;
use serde::Serialize;
use tauri::State;

use crate::commands::session::{start_session, AccountView, FirstSync};
use crate::error::{CommandError, CommandResult};
use crate::links::PendingLink;
use crate::state::AppState;

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LinkView {
    #[cfg_attr(test, ts(type = "\"resetPassword\" | \"verifyEmail\""))]
    action: &'static str,
}

#[tauri::command]
pub async fn send_password_reset(state: State<'_, AppState>, email: String) -> CommandResult<()> {
    Ok(state.device.send_password_reset(&email).await?)
}

#[tauri::command]
pub fn pending_link(pending: State<'_, PendingLink>) -> CommandResult<Option<LinkView>> {
    let mut slot = pending.lock();
    if matches!(slot.as_ref(), Some(Err(_))) {
        if let Some(Err(e)) = slot.take() {
            return Err(cleom_core::Error::from(e).into());
        }
    }
    Ok(slot
        .as_ref()
        .and_then(|link| link.as_ref().ok())
        .map(|link| LinkView {
            action: link.action(),
        }))
}

#[tauri::command]
pub fn dismiss_link(pending: State<'_, PendingLink>) {
    pending.lock().take();
}

#[tauri::command]
pub async fn reset_password(
    state: State<'_, AppState>,
    pending: State<'_, PendingLink>,
    new_password: String,
) -> CommandResult<AccountView> {
    let code = pending_code(&pending, "resetPassword")?;
    let done = state
        .device
        .reset_password(&code, &SecretString::new(new_password))
        .await;
    forget_when_done(&pending, &done);
    start_session(&state, done?, FirstSync::Before).await
}

#[tauri::command]
pub async fn verify_email_change(
    state: State<'_, AppState>,
    pending: State<'_, PendingLink>,
) -> CommandResult<String> {
    let code = pending_code(&pending, "verifyEmail")?;
    let done = state.device.verify_email_change(&code).await;
    forget_when_done(&pending, &done);
    let email = done?;
    // The sessions are over: the sync finds out now, and the window is asked to sign in.
    state.sync_now.notify_one();
    Ok(email)
}

/// The pending link's code, when it is a link for `action`.
fn pending_code(pending: &PendingLink, action: &str) -> CommandResult<SecretString> {
    match pending.lock().as_ref() {
        Some(Ok(link)) if link.action() == action => {
            Ok(SecretString::new(link.oob_code().expose().clone()))
        }
        _ => Err(CommandError {
            code: "link.none",
            message: "No link from Cleom is waiting here. Open the link in the email again.".into(),
        }),
    }
}

/// A link is done once it worked, or its code will never work; after a weak password, say, it
/// stays for the next try.
fn forget_when_done<T>(pending: &PendingLink, result: &cleom_core::Result<T>) {
    let done = match result {
        Ok(_) => true,
        Err(e) => matches!(
            e.code(),
            "auth.invalid_action_code" | "auth.expired_action_code" | "auth.email_exists"
        ),
    };
    if done {
        pending.lock().take();
    }
}
