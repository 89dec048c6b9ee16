//! Who is signed in, and the account's sign-in credentials.
//!
//! The types that cross are generated into `ui/src/lib/generated/`; errors are `AppError`s:
//! - `app_status()` → `AppStatus`; its `keychain` is null while an account is signed in (only
//!   the sign-in screen shows it).
//! - `sign_up({email, password})`, `sign_in({email, password})` → `AccountView`
//! - `sign_out()`
//! - `ledger()` → `LedgerEntry[]`, `purchases()` → `Purchase[]`, oldest first
//! - `request_email_change({password, newEmail})`: the password is checked (a fresh
//!   sign-in) and a verification link is sent to `newEmail`; nothing changes until the user
//!   follows it. Then every session of the account ends: the sync gets `auth.session_expired`,
//!   the app emits `signed-out`, and the user signs in with the new address. Errors:
//!   `auth.invalid_credentials` (wrong password), `auth.email_exists` (another account has
//!   it), `auth.invalid_email`, `request.invalid` (it is the current address),
//!   `auth.too_many_attempts`, `auth.not_signed_in`, `network.*`.
//! - `change_password({currentPassword, newPassword})`: this device stays signed in
//!   (other devices are signed out). Errors: `auth.invalid_credentials` (wrong current
//!   password), `auth.weak_password`, `auth.too_many_attempts`, `auth.not_signed_in`,
//!   `network.*`.
//! - `sign_out_everywhere_else({password})` → how many sessions ended: every other device of
//!   the account is signed out (the access report lists them); this one stays. Errors:
//!   `auth.invalid_credentials` (nothing changed), `auth.too_many_attempts`,
//!   `auth.not_signed_in`, `network.*`.

use std::sync::Arc;

use cleom_core::keychain::KeychainState;
use cleom_core::model::{LedgerEntry, Purchase};
use cleom_core::secret::SecretString;
use cleom_core::Account;
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::{AppState, BackendInfo, SyncPhase};

/// The account as the header shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub uid: String,
    pub email: String,
    pub display_name: Option<String>,
    pub credit_balance: i64,
    pub analytics_opt_in: bool,
}

impl AccountView {
    pub fn of(account: &Account) -> cleom_core::Result<AccountView> {
        let profile = account.profile()?;
        Ok(AccountView {
            uid: account.uid().to_string(),
            email: account.email().to_string(),
            display_name: profile.as_ref().and_then(|p| p.display_name.clone()),
            credit_balance: profile.as_ref().map_or(0, |p| p.credit_balance),
            analytics_opt_in: profile.is_some_and(|p| p.analytics_opt_in),
        })
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// Only checked for the sign-in screen (null while an account is signed in): a check writes
    /// to the keychain and takes a tenth of a second, and a signed-in account has just read
    /// its secrets from it.
    keychain: Option<KeychainState>,
    backend: BackendInfo,
    account: Option<AccountView>,
    online: bool,
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CommandResult<AppStatus> {
    let account = state.account.read().await.clone();
    let account = account.map(|a| AccountView::of(&a)).transpose()?;
    Ok(AppStatus {
        keychain: account.is_none().then(|| state.device.keychain_state()),
        backend: state.backend.clone(),
        account,
        online: state.sync_state().state != SyncPhase::Offline,
    })
}

#[tauri::command]
pub async fn sign_up(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> CommandResult<AccountView> {
    let account = state
        .device
        .sign_up(email.trim(), &SecretString::new(password))
        .await?;
    start_session(&state, account, FirstSync::Before).await
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> CommandResult<AccountView> {
    let account = state
        .device
        .sign_in(email.trim(), &SecretString::new(password))
        .await?;
    start_session(&state, account, FirstSync::Before).await
}

/// When the account's first sync after [`start_session`] runs.
pub(crate) enum FirstSync {
    /// Before the session starts, so the header shows the balance (after signing in).
    Before,
    /// In the background, where it fills the Library (after an unlock or a reset).
    After,
}

/// Makes `account` the signed-in one and wakes the sync.
pub(crate) async fn start_session(
    state: &AppState,
    account: Account,
    first_sync: FirstSync,
) -> CommandResult<AccountView> {
    let account = Arc::new(account);
    if let FirstSync::Before = first_sync {
        if let Err(e) = account.sync().await {
            tracing::warn!(code = e.code(), "first sync after sign-in failed");
        }
    }
    *state.account.write().await = Some(Arc::clone(&account));
    state.sync_now.notify_one();
    Ok(AccountView::of(&account)?)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CommandResult<()> {
    if let Some(account) = state.account.write().await.take() {
        account.end_session().await;
        state.device.sign_out(&account)?;
    }
    Ok(())
}

/// The credit ledger, oldest first.
#[tauri::command]
pub async fn ledger(state: State<'_, AppState>) -> CommandResult<Vec<LedgerEntry>> {
    Ok(state.account().await?.ledger()?)
}

/// The purchases, oldest first.
#[tauri::command]
pub async fn purchases(state: State<'_, AppState>) -> CommandResult<Vec<Purchase>> {
    Ok(state.account().await?.purchases()?)
}

/// Sends a verification link to `new_email`; the change happens when it is followed.
#[tauri::command]
pub async fn request_email_change(
    state: State<'_, AppState>,
    password: String,
    new_email: String,
) -> CommandResult<()> {
    let account = state.account().await?;
    account
        .request_email_change(&SecretString::new(password), &new_email)
        .await?;
    Ok(())
}

/// Changes the password; this device's session survives (its new refresh token is kept).
#[tauri::command]
pub async fn sign_out_everywhere_else(
    state: State<'_, AppState>,
    password: String,
) -> CommandResult<u64> {
    let account = state.account().await?;
    Ok(account
        .sign_out_everywhere_else(&SecretString::new(password))
        .await?)
}

#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> CommandResult<()> {
    let account = state.account().await?;
    account
        .change_password(
            &SecretString::new(current_password),
            &SecretString::new(new_password),
        )
        .await?;
    Ok(())
}
