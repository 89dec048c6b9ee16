use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cleom_core::account::DeletionReceipt;
use cleom_core::export::{self, ExportOptions, ExportProgress, ExportSummary};
use cleom_core::reveal::{self, Revealable};
use cleom_core::secret::SecretString;
use tauri::{AppHandle, Emitter, State};

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// The event that carries an export's progress to the window.
const PROGRESS_EVENT: &str = "export-progress";
/// The window is told about progress at most this often (the last update always goes out).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The export running now, if any: its cancel flag. One export at a time.
#[derive(Default)]
pub struct ExportJob(Mutex<Option<Arc<AtomicBool>>>);

/// Clears the running export when the command ends, however it ends.
struct Running<'a>(&'a ExportJob);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        *self.0 .0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Exports everything into the export folder under a new name → `ExportResult`, emitting
/// `export-progress` events (`ExportProgress`) as it goes. The
/// arguments are optional, so `export_data()` alone is the plain one-click export.
/// `password` (not empty) makes a password-protected (AES-256) export named `...-encrypted.zip`.
/// `ids` (a Library selection) exports only those generations, with the whole profile, credit
/// history and purchases.
#[tauri::command]
pub async fn export_data(
    app: AppHandle,
    state: State<'_, AppState>,
    job: State<'_, ExportJob>,
    include_videos: Option<bool>,
    password: Option<String>,
    ids: Option<Vec<String>>,
) -> CommandResult<ExportSummary> {
    let account = state.account().await?;
    let password = password.map(SecretString::new);
    let options = ExportOptions {
        include_videos: include_videos.unwrap_or(false),
        password: password.filter(|p| !p.expose().is_empty()),
        only: ids.map(|ids| ids.into_iter().collect()),
    };
    let dest = export::unique_export_path(&state.export_dir, options.password.is_some())
        .map_err(cleom_core::Error::from)?;

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let mut running = job.0.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return Err(CommandError {
                code: "export.busy",
                message: "An export is already running.".into(),
            });
        }
        *running = Some(Arc::clone(&cancel));
    }
    let _running = Running(&job);

    let last = Mutex::new(None::<Instant>);
    let progress = move |p: ExportProgress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        let step_done = p.items_done >= p.items_total;
        if step_done || last.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
            *last = Some(Instant::now());
            let _ = app.emit(PROGRESS_EVENT, p);
        }
    };
    Ok(account
        .export_to(dest, options, Arc::new(progress), cancel)
        .await?)
}

/// Stops the running export (it ends with `export.canceled` and leaves no file behind; clips
/// already downloaded are kept for the next try). Returns whether an export was running.
#[tauri::command]
pub fn cancel_export(job: State<'_, ExportJob>) -> bool {
    match job.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        Some(cancel) => {
            cancel.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// "Show in folder": reveals a file the app saved (an export, a clip, a history set aside by a
/// reset, to send for recovery) in Finder, Explorer or the file manager, selected in its folder.
/// Only a file in the export folder or the data folder's `set-aside` (or a folder inside them)
/// or in the folder the user last chose with "Download to…", so the window cannot make the app
/// show arbitrary paths. On Linux a desktop without the `org.freedesktop.FileManager1`
/// service (nor the portal that opens folders) gets the file's folder opened instead.
/// `system.no_app` when the system has no file manager at all.
#[tauri::command]
pub async fn show_in_folder(state: State<'_, AppState>, path: String) -> CommandResult<()> {
    let chosen = state.download_folder();
    let Revealable { file, folder } = reveal::revealable(
        Path::new(&path),
        &state.export_dir,
        &state.device.data_dir().set_aside_root(),
        chosen.as_deref(),
    )?;
    // Blocking (a D-Bus call on Linux, a shell call elsewhere): off the async runtime's threads.
    tauri::async_runtime::spawn_blocking(move || {
        tauri_plugin_opener::reveal_item_in_dir(&file).or_else(|error| {
            tracing::debug!(%error, "the file could not be revealed; opening its folder");
            open::that_detached(&folder)
        })
    })
    .await
    .map_err(|e| CommandError::no_app("the folder", &std::io::Error::other(e.to_string())))?
    .map_err(|e| CommandError::no_app("the folder", &e))?;
    Ok(())
}

#[tauri::command]
pub async fn delete_account(
    state: State<'_, AppState>,
    password: String,
) -> CommandResult<DeletionReceipt> {
    let account = state.account().await?;
    let receipt = account.delete(&SecretString::new(password)).await?;
    *state.account.write().await = None;
    *state.last_receipt.lock().unwrap_or_else(|p| p.into_inner()) = Some(receipt.clone());
    Ok(receipt)
}

/// "Save the receipt": the last account deletion's receipt as a text file in the export folder
/// → its path. The text is made here from what the deletion returned, not sent by the window.
#[tauri::command]
pub fn save_receipt(state: State<'_, AppState>) -> CommandResult<String> {
    let receipt = state
        .last_receipt
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or_else(|| cleom_core::Error::InvalidInput("No account was deleted.".into()))?;
    Ok(receipt.save(&state.export_dir)?.display().to_string())
}

/// "Everything we store about you" → `AccessReport` (`cleom_core::access`). Secrets are
/// named, never shown.
#[tauri::command]
pub async fn access_report(
    state: State<'_, AppState>,
) -> CommandResult<cleom_core::access::AccessReport> {
    Ok(state.account().await?.access_report().await?)
}
