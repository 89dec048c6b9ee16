//! The main window's size and position are remembered between runs (tauri-plugin-window-state).
//! The plugin saves when the app exits normally; it is also saved shortly after every move or
//! resize, so a crash or a killed process does not lose it. The window's own webview gets no
//! window-state permission: all of this happens on the Rust side.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::{Manager, Runtime, Window, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Size, position and the maximized/fullscreen state; never visibility or decorations.
fn flags() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED | StateFlags::FULLSCREEN
}

pub fn state_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::new()
        .with_state_flags(flags())
        .build()
}

/// Bumped on every move or resize; a save runs only if no newer one came in meanwhile.
static LAST_CHANGE: AtomicU64 = AtomicU64::new(0);
const SAVE_AFTER: Duration = Duration::from_millis(400);

pub fn on_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
        return;
    }
    let change = LAST_CHANGE.fetch_add(1, Ordering::SeqCst) + 1;
    let app = window.app_handle().clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SAVE_AFTER).await;
        if LAST_CHANGE.load(Ordering::SeqCst) == change {
            if let Err(e) = app.save_window_state(flags()) {
                tracing::debug!("the window's size and position were not saved: {e}");
            }
        }
    });
}
