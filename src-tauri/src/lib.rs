//! Cleom Desktop's Tauri shell.
//!
//! All behaviour lives in `cleom-core`; this crate only wires it to a window: it picks the
//! backend (embedded or remote) and the keychain at start-up, exposes thin commands, runs
//! the background sync that keeps the Library live, and looks for signed updates.

mod clip_protocol;
mod commands;
mod config;
mod error;
#[cfg(test)]
mod ipc_types;
mod links;
mod live;
#[cfg(target_os = "linux")]
mod rendering;
mod state;
mod update;
mod window;

use tauri::Manager;

use crate::config::AppConfig;
use crate::state::AppState;

/// Resumes the account (keychain, encrypted store, maybe the embedded backend) on a thread of
/// its own.
fn resume(started: std::time::Instant) -> std::thread::JoinHandle<Result<AppState, String>> {
    std::thread::spawn(move || {
        let config = AppConfig::from_env().map_err(|e| e.to_string())?;
        tauri::async_runtime::block_on(AppState::start(config, started)).map_err(|e| e.to_string())
    })
}

pub fn run() {
    let started = std::time::Instant::now();
    // Before any thread starts: it may set an environment variable for WebKit.
    #[cfg(target_os = "linux")]
    let rendering = rendering::choose();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The updater plugin logs whole endpoint URLs, which may carry a token; the
                // app's update module logs what happened by code instead.
                .unwrap_or_else(|_| "info,tao=warn,wry=warn,tauri_plugin_updater=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    #[cfg(target_os = "linux")]
    tracing::info!(
        after_ms = state::ms_since(started),
        "start-up: the window will be {}",
        rendering.describe()
    );

    tracing::info!(
        after_ms = state::ms_since(started),
        "start-up: the app is {}",
        match tauri::utils::platform::bundle_type() {
            Some(kind) => format!("installed from a {kind} package"),
            None => "not installed from a package (a build tree's binary)".to_string(),
        }
    );

    // One app per data folder (see `links`): claimed before anything else starts, and held
    // until the process ends. A second launch on the same folder starts nothing and hands over
    // to the first from inside the single-instance plugin.
    let context = tauri::generate_context!();
    let data = cleom_core::paths::DataDir::from_env_or_default().ok();
    let patience = if update::restarted_after_update() {
        links::CLOSING_APP_PATIENCE
    } else {
        links::SECOND_LAUNCH_GRACE
    };
    let claim = data
        .as_ref()
        .map(|data| links::claim_data_folder(data, patience));
    let second_launch = matches!(claim, Some(Err(cleom_core::paths::PathError::InUse { .. })));
    let claim = claim.and_then(Result::ok);
    let instance_plugin =
        links::single_instance_plugin(&context.config().identifier, data.as_ref());

    // The account is resumed (keychain, encrypted store, maybe the embedded backend) while GTK
    // and the window start, not after: both take about a tenth of a second.
    let resuming = (!second_launch).then(|| resume(started));
    let page_started = std::sync::Once::new();

    tauri::Builder::default()
        .plugin(instance_plugin)
        .plugin(tauri_plugin_deep_link::init())
        .manage(links::PendingLink::default())
        .plugin(window::state_plugin())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .on_window_event(window::on_event)
        .on_page_load(move |_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Started {
                page_started.call_once(|| {
                    let after_ms = state::ms_since(started);
                    tracing::info!(after_ms, "start-up: the page begins to load");
                });
            }
        })
        .register_asynchronous_uri_scheme_protocol(clip_protocol::SCHEME, clip_protocol::handle)
        .setup(move |app| set_up(app, data, claim, resuming, started))
        .invoke_handler(commands::handler())
        .run(context)
        .expect("Cleom Desktop could not start");
}

/// The app's state, once the window exists: the data folder's claim (waiting for a closing
/// app's if this launch found it held), the resumed account, the live sync loop, links and
/// updates.
fn set_up(
    app: &mut tauri::App,
    data: Option<cleom_core::paths::DataDir>,
    claim: Option<cleom_core::paths::ProcessLock>,
    resuming: Option<std::thread::JoinHandle<Result<AppState, String>>>,
    started: std::time::Instant,
) -> Result<(), Box<dyn std::error::Error>> {
    let (claim, resuming) = match (claim, resuming) {
        (claim, Some(resuming)) => (claim, resuming),
        // The folder is held, yet no app answered on D-Bus (the plugin would have
        // handed over and exited): the app holding it is closing, or cannot be reached.
        (_, None) => {
            let held = data
                .as_ref()
                .and_then(|data| links::claim_data_folder(data, links::CLOSING_APP_PATIENCE).ok())
                .ok_or_else(|| {
                    format!(
                        "Cleom Desktop is already running with this data folder ({}).",
                        data.as_ref()
                            .map_or_else(String::new, |d| d.root().display().to_string())
                    )
                })?;
            tracing::info!(
                after_ms = state::ms_since(started),
                "start-up: the app that held this data folder has closed"
            );
            (Some(held), resume(started))
        }
    };
    if let Some(claim) = claim {
        app.manage(links::DataFolderClaim { _lock: claim });
    }
    let state = resuming
        .join()
        .map_err(|_| "the start-up thread panicked".to_string())??;
    tracing::info!(
        after_ms = state::ms_since(started),
        "start-up: the window is made and the account resumed"
    );
    app.manage(state);
    app.manage(commands::privacy::ExportJob::default());
    live::spawn(app.handle().clone());
    links::listen(app.handle());
    app.manage(update::Updates::new(app.handle()));
    update::spawn_start_up_check(app.handle().clone());
    Ok(())
}
