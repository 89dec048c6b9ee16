use std::sync::Arc;

use cleom_core::keychain::KeychainState;
use cleom_core::model::{LedgerEntry, Purchase};
use cleom_core::secret::SecretString;
use cleom_core::Account;
use serde::Serialize;
use tauri::State;

use crate::error::CommandResult;
use crate::state::{AppState, BackendInfo};

/// The account as the header shows it.
#[derive(Debug, Clone, Serialize)]
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
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    keychain: KeychainState,
    backend: BackendInfo,
    account: Option<AccountView>,
    online: bool,
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CommandResult<AppStatus> {
    let account = state.account.read().await.clone();
    let account = account.map(|a| AccountView::of(&a)).transpose()?;
    Ok(AppStatus {
        keychain: state.device.keychain_state(),
        backend: state.backend.clone(),
        account,
        online: state.sync_state().state != "offline",
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
    start_session(&state, account).await
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
    start_session(&state, account).await
}

/// Makes `account` the signed-in one and syncs it at once, so the header shows the balance.
async fn start_session(state: &AppState, account: Account) -> CommandResult<AccountView> {
    let account = Arc::new(account);
    if let Err(e) = account.sync().await {
        tracing::warn!(code = e.code(), "first sync after sign-in failed");
    }
    *state.account.write().await = Some(Arc::clone(&account));
    state.sync_now.notify_one();
    Ok(AccountView::of(&account)?)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CommandResult<()> {
    if let Some(account) = state.account.write().await.take() {
        state.device.sign_out(&account)?;
    }
    Ok(())
}

/// The credit ledger, oldest first: `{id, amount, reason, generationId, balanceAfter,
/// createdAt, updatedAt}[]`.
#[tauri::command]
pub async fn ledger(state: State<'_, AppState>) -> CommandResult<Vec<LedgerEntry>> {
    Ok(state.account().await?.ledger()?)
}

/// The purchases, oldest first: `{id, credits, amountCents, currency, createdAt, updatedAt}[]`.
#[tauri::command]
pub async fn purchases(state: State<'_, AppState>) -> CommandResult<Vec<Purchase>> {
    Ok(state.account().await?.purchases()?)
}
