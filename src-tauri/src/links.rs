//! One app per data folder, and `cleom://` links (tauri-plugin-single-instance with its
//! `deep-link` feature, and tauri-plugin-deep-link).
//!
//! **One instance per data folder, not per user.** Two processes must never share an account's
//! database, but the test suite (and a power user with `CLEOM_DATA_DIR`) runs several apps on
//! one D-Bus session, each with its own data folder. So the single-instance plugin's D-Bus name
//! is the app's identifier plus a hash of the data folder (`com.cleomai.desktop.data_<hex>`):
//! a second launch on the same folder finds the first, hands it its arguments and exits; a
//! launch on another folder is an app of its own. (On macOS and Windows the plugin's lock is
//! per identifier, so there a second launch always hands over.) Before that, `run()` claims the
//! data folder (`DataDir::lock_for_app`) before anything else starts, so a second launch never
//! starts the embedded backend or opens a database while it finds the first (a launch that
//! finds the folder held but no app to hand over to waits for it: `claim_data_folder`); and the core
//! claims each account's database (`DataDir::lock_account`), which keeps the `cleom` command
//! line out too.
//!
//! **Links.** A link reaches the running app from the deep-link plugin (`cleom://` links: a
//! second launch's argument on Linux and Windows, the system's open-URL event on macOS), or as
//! a launch's single argument that is the Auth emulator's `http://127.0.0.1…/emulator/action`
//! link. It is parsed by `cleom_core::link`, kept here (the action code never goes to the
//! webview), and the window is told with a `link-opened` event; it then asks `pending_link`
//! what arrived and completes it (`commands::links`). A link that does not parse is kept as
//! its error, shown once, and does nothing else.
//!
//! **Registering the scheme.** An installed package registers `cleom:` itself (the .deb/.rpm
//! desktop entry's `x-scheme-handler/cleom`, the Windows installers, the macOS bundle). A
//! debug build, which nothing installs, registers its own binary for the user on Linux and
//! Windows when it starts (`register_all`: a .desktop file in `~/.local/share/applications`
//! and `xdg-mime default` on Linux), on a thread of its own so start-up does not wait; a
//! release build never touches the user's handlers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use cleom_core::link::{Link, LinkError};
use cleom_core::paths::{DataDir, PathError, ProcessLock};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// The event that tells the window a link arrived (no payload: it asks `pending_link`).
pub const LINK_OPENED: &str = "link-opened";

/// The link that arrived last, until the window completes or dismisses it.
#[derive(Default)]
pub struct PendingLink(Mutex<Option<Result<Link, LinkError>>>);

impl PendingLink {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Option<Result<Link, LinkError>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long a launch waits for the data folder that an app on its way out still holds.
pub const CLOSING_APP_PATIENCE: Duration = Duration::from_secs(10);

/// How long any launch waits for a held data folder before it takes the holder for a running
/// app and hands over to it. An app that is closing still owns its single-instance name for a
/// moment but no longer answers on it, and a hand-over to it fails; a closing app lets go of
/// the folder well within this, and a hand-over to a running app is this much later.
pub const SECOND_LAUNCH_GRACE: Duration = Duration::from_secs(1);

/// The data folder's claim, kept in the app's state so that it is held until the process ends.
pub struct DataFolderClaim {
    pub _lock: ProcessLock,
}

/// Claims the data folder (one app per folder), waiting up to `patience` while another process
/// holds it. An app gives up its D-Bus name before it exits, and releases the folder only when
/// it has: so a launch that found no app to hand over to, yet finds the folder held, is
/// looking at an app that is closing (or at one it cannot reach), and waits for it; as does the
/// new version an update restarted into. Any other launch waits `SECOND_LAUNCH_GRACE`, after
/// which a held folder means a running app to hand over to.
pub fn claim_data_folder(data: &DataDir, patience: Duration) -> Result<ProcessLock, PathError> {
    let deadline = Instant::now() + patience;
    loop {
        match data.lock_for_app() {
            Err(PathError::InUse { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            claim => return claim,
        }
    }
}

/// The single-instance plugin, one instance per data folder (see the module docs). Register it
/// first: a second launch exits from inside it, before the other plugins start.
pub fn single_instance_plugin<R: Runtime>(
    identifier: &str,
    data: Option<&DataDir>,
) -> tauri::plugin::TauriPlugin<R> {
    let dbus_id = match data {
        Some(data) => format!("{identifier}.data_{}", data.short_id()),
        None => identifier.to_string(),
    };
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(dbus_id)
        .callback(|app, args, _cwd| {
            tracing::info!("a second launch handed over to this one");
            focus_main_window(app);
            // `cleom://` arguments went to the deep-link plugin just before this.
            if let Some(link) = emulator_link(&args) {
                received(app, link);
            }
        })
        .build()
}

/// Listens for links and takes the one this launch was started with. Runs in `setup`, once
/// the app's state is managed (`PendingLink` is managed by the builder, before any plugin
/// can hand a link over).
pub fn listen<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            received(&handle, cleom_core::link::parse(url.as_str()));
        }
        focus_main_window(&handle);
    });
    let args: Vec<String> = std::env::args().collect();
    let at_launch = match app.deep_link().get_current() {
        Ok(Some(urls)) => urls
            .first()
            .map(|url| cleom_core::link::parse(url.as_str())),
        _ => emulator_link(&args),
    };
    if let Some(link) = at_launch {
        received(app, link);
    }
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    {
        let handle = app.clone();
        std::thread::spawn(move || {
            if let Err(e) = handle.deep_link().register_all() {
                tracing::warn!("this debug build could not register itself for cleom: links: {e}");
            }
        });
    }
}

/// A launch's argument that is a link the deep-link plugin leaves alone: the Auth emulator's
/// link, a `cleom:` one too broken to be a URL, or anything else that looks like a URL (which
/// then shows why it is not a Cleom link). The plugin takes the `cleom:` URLs.
fn emulator_link(args: &[String]) -> Option<Result<Link, LinkError>> {
    match args {
        [_, only]
            if tauri::Url::parse(only.trim())
                .is_ok_and(|url| url.scheme() == cleom_core::link::SCHEME) =>
        {
            None
        }
        _ => cleom_core::link::from_args(args),
    }
}

fn received<R: Runtime>(app: &AppHandle<R>, link: Result<Link, LinkError>) {
    match &link {
        Ok(link) => tracing::info!(action = link.action(), "a link arrived"),
        Err(e) => tracing::info!(code = e.code(), "a link arrived that cannot be opened"),
    }
    *app.state::<PendingLink>().lock() = Some(link);
    let _ = app.emit(LINK_OPENED, ());
}

/// Brings the main window to the front, as a second launch or a link asks.
fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    if let Err(e) = window.set_focus() {
        tracing::debug!("the window could not take the focus: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cleom_links_are_left_to_the_deep_link_plugin_and_others_are_parsed() {
        let bin = "/usr/bin/cleom-desktop";
        assert!(emulator_link(&args(&[bin, "cleom://auth/action?mode=x"])).is_none());
        assert!(emulator_link(&args(&[bin])).is_none());
        let emulator =
            "http://127.0.0.1:9099/emulator/action?mode=resetPassword&oobCode=abc&apiKey=k";
        assert_eq!(
            emulator_link(&args(&[bin, emulator]))
                .unwrap()
                .unwrap()
                .action(),
            "resetPassword"
        );
        assert_eq!(
            emulator_link(&args(&[bin, "cleom://[auth/action"]))
                .unwrap()
                .unwrap_err()
                .code(),
            "link.malformed"
        );
        assert_eq!(
            emulator_link(&args(&[bin, "https://example.com/x"]))
                .unwrap()
                .unwrap_err()
                .code(),
            "link.unknown_scheme"
        );
    }
}
