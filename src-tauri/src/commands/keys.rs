//! The keys' lifecycle as the user sees it: passphrase mode (when this machine has no usable
//! OS keychain) and "reset this device's copy and download it again from Cleom" (the way out of
//! a lost or wrong database key).
//!
//! The commands (their types are generated into `ui/src/lib/generated/`):
//! - `app_status().keychain` (a `KeychainState`) says which applies.
//! - `set_up_passphrase({passphrase})`. Errors: `keychain.weak_passphrase` (under 8
//!   characters), `keychain.passphrase_exists`, `keychain.no_passphrase` (the OS keychain is
//!   in use).
//! - `unlock_with_passphrase({passphrase})` → the resumed account (`AccountView`) or `null` when
//!   nobody was signed in. Errors: `keychain.wrong_passphrase`, `store.key_missing`,
//!   `store.key_rejected` (then offer the reset).
//! - `reset_local_copy()` → the account, now with an empty local history that the sync (started
//!   at once) fills again, or `null` when the session is gone too (then sign in). For
//!   `store.key_missing` / `store.key_rejected`; the server's copy is not touched, and the
//!   history that would not open is set aside for 30 days (the access report lists it).
//!   Errors: `local_copy.set_aside_failed` (nothing was reset).

use cleom_core::secret::SecretString;
use tauri::State;

use crate::commands::session::{start_session, AccountView, FirstSync};
use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn set_up_passphrase(
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<()> {
    Ok(state
        .device
        .set_up_passphrase(&SecretString::new(passphrase))?)
}

#[tauri::command]
pub async fn unlock_with_passphrase(
    state: State<'_, AppState>,
    passphrase: String,
) -> CommandResult<Option<AccountView>> {
    let account = state
        .device
        .unlock_with_passphrase(&SecretString::new(passphrase))?;
    Ok(match account {
        Some(account) => Some(start_session(&state, account, FirstSync::After).await?),
        None => None,
    })
}

#[tauri::command]
pub async fn reset_local_copy(state: State<'_, AppState>) -> CommandResult<Option<AccountView>> {
    let open = state.account.write().await.take();
    match open {
        Some(account) => account.reset_local_copy()?,
        None => {
            let uid = state
                .device
                .signed_in_uid()
                .ok_or(cleom_core::Error::NotSignedIn)?;
            state.device.reset_local_copy(&uid)?;
        }
    }
    Ok(match state.device.resume()? {
        Some(account) => Some(start_session(&state, account, FirstSync::After).await?),
        None => None,
    })
}
