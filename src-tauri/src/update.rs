//! Signed updates through tauri-plugin-updater, driven from Rust so that the webview holds no
//! updater permission: it asks through three commands and hears progress as events.
//!
//! Trust comes from the minisign public key compiled into the release build
//! (`CLEOM_UPDATER_PUBKEY` at build time; the repository holds no key). A build without one
//! offers no updates and says so (`update.not_configured`). The endpoint is Cleom's (tauri.conf.json
//! `plugins.updater.endpoints`) unless `CLEOM_UPDATE_URL` names another; every URL the updater
//! would fetch, the endpoint and the download it announces, passes the same rule as the backend's
//! (`cleom_core::remote::check_url`: https, or http to this computer only). The plugin's own
//! https check is switched off in the config because it would also refuse loopback, which the
//! tests and the installed-package test need.
//!
//! Only a newer version is offered (the plugin's default comparison). An update is downloaded
//! and its signature checked before anything is installed, and it is installed only into an
//! installed bundle: a build run from the source tree (no bundle type stamped into the binary)
//! would otherwise have its own executable overwritten. See docs/updates.md.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use cleom_core::remote::{check_url, is_loopback, RemoteError};
use serde::Serialize;
use tauri::utils::config::BundleType;
use tauri::{AppHandle, Emitter, Manager, Url};
use tauri_plugin_updater::{Error as PluginError, Update, UpdaterExt};
use tokio::sync::Notify;

use crate::error::CommandError;

/// Carries `UpdateProgress` while an update is downloaded and installed.
const PROGRESS_EVENT: &str = "update-progress";
/// Carries an `UpdateOffer` found by the start-up check.
const AVAILABLE_EVENT: &str = "update-available";
/// The window hears about download progress at most this often (the last chunk always goes out).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// The start-up check waits for the Library's first page, or this long (a signed-out window).
const START_UP_CHECK_AFTER: Duration = Duration::from_secs(10);
/// How long one check for updates may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The public key a release build was made with: minisign's public key file, base64-encoded as
/// `tauri signer generate` prints it.
const BUILT_PUBKEY: Option<&str> = option_env!("CLEOM_UPDATER_PUBKEY");

/// Why no update was checked, downloaded or installed. `code()` is stable; messages are for the
/// user and never hold a URL (an endpoint may carry a token in its query).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error(
        "This build of Cleom Desktop was made without an update key, so it does not look for \
         updates."
    )]
    NotConfigured,
    #[error(transparent)]
    Endpoint(RemoteError),
    #[error(
        "Cleom's update server can't be reached or did not answer. Check your connection and \
         try again later."
    )]
    Unreachable,
    #[error("The update server sent an update description Cleom cannot use: {0}.")]
    Malformed(String),
    #[error(
        "The downloaded update is not signed with Cleom's key, so it was not installed. This \
         version keeps working."
    )]
    BadSignature,
    #[error("There is no update to install. Check for updates first.")]
    NotOffered,
    #[error("An update is already being installed.")]
    Busy,
    #[error("The update could not be downloaded: {0}.")]
    DownloadFailed(String),
    #[error(
        "Cleom {version} was downloaded and its signature is valid, but this copy of Cleom was \
         not installed from a package (it runs from a build folder), so it cannot replace \
         itself. Nothing was changed."
    )]
    NotInstalled { version: String },
    #[error(
        "Installing Cleom {version} needs administrator rights. The system's password prompt \
         (pkexec, or zenity/kdialog with sudo) was cancelled, refused or is not available here, \
         so the update was not installed and Cleom {current} keeps working. An administrator \
         can install the new package with the system's package manager."
    )]
    NeedsAdmin { version: String, current: String },
    #[error("Cleom {version} could not be installed: {detail}.")]
    InstallFailed { version: String, detail: String },
}

impl UpdateError {
    pub fn code(&self) -> &'static str {
        match self {
            UpdateError::NotConfigured => "update.not_configured",
            UpdateError::Endpoint(e) => e.code(),
            UpdateError::Unreachable => "update.unreachable",
            UpdateError::Malformed(_) => "update.malformed",
            UpdateError::BadSignature => "update.bad_signature",
            UpdateError::NotOffered => "update.not_offered",
            UpdateError::Busy => "update.busy",
            UpdateError::DownloadFailed(_) => "update.download_failed",
            UpdateError::NotInstalled { .. } => "update.not_installed",
            UpdateError::NeedsAdmin { .. } => "update.needs_admin",
            UpdateError::InstallFailed { .. } => "update.install_failed",
        }
    }
}

impl From<UpdateError> for CommandError {
    fn from(e: UpdateError) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// Where updates come from and the key they must be signed with, fixed at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSource {
    endpoints: Vec<Url>,
    pubkey: String,
}

impl UpdateSource {
    /// `configured`: tauri.conf.json's endpoints; `override_url`: `CLEOM_UPDATE_URL`;
    /// `pubkey`: the key this build trusts. No key (or one that is not a minisign public key)
    /// is `NotConfigured`; an endpoint that breaks the https rule is refused.
    pub fn new(
        configured: &[String],
        override_url: Option<&str>,
        pubkey: Option<&str>,
    ) -> Result<UpdateSource, UpdateError> {
        let pubkey = pubkey
            .map(str::trim)
            .filter(|k| is_minisign_public_key(k))
            .ok_or(UpdateError::NotConfigured)?;
        let urls: Vec<&str> = match override_url {
            Some(url) => vec![url],
            None => configured.iter().map(String::as_str).collect(),
        };
        if urls.is_empty() {
            return Err(UpdateError::NotConfigured);
        }
        let endpoints = urls
            .into_iter()
            .map(check_url)
            .collect::<Result<Vec<_>, _>>()
            .map_err(UpdateError::Endpoint)?;
        Ok(UpdateSource {
            endpoints,
            pubkey: pubkey.to_string(),
        })
    }

    /// Whether every endpoint is on this computer (a test's update server).
    fn on_this_computer(&self) -> bool {
        self.endpoints.iter().all(is_loopback)
    }

    /// This build's source: the key compiled in; in a debug build also `CLEOM_UPDATER_PUBKEY`
    /// at run time (the window tests make their key pair after the app was built). A release
    /// build never takes its key from the environment it runs in.
    fn from_app(app: &AppHandle) -> Result<UpdateSource, UpdateError> {
        let configured: Vec<String> = app
            .config()
            .plugins
            .0
            .get("updater")
            .and_then(|u| u.get("endpoints"))
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default();
        let run_time_key = std::env::var("CLEOM_UPDATER_PUBKEY").ok();
        if !cfg!(debug_assertions) && run_time_key.is_some() {
            tracing::warn!(
                "updates: CLEOM_UPDATER_PUBKEY is ignored at run time in a release build"
            );
        }
        let pubkey = match (cfg!(debug_assertions), run_time_key.as_deref()) {
            (true, Some(key)) if !key.is_empty() => Some(key),
            _ => BUILT_PUBKEY,
        };
        let override_url = std::env::var("CLEOM_UPDATE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        UpdateSource::new(&configured, override_url.as_deref(), pubkey)
    }
}

/// Whether `key` is what `tauri signer generate` prints as the public key: base64 of minisign's
/// two-line public key file, whose second line is base64 of 42 bytes ("Ed", a key id, the key).
pub fn is_minisign_public_key(key: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Ok(file) = b64.decode(key) else {
        return false;
    };
    let Ok(file) = String::from_utf8(file) else {
        return false;
    };
    let mut lines = file.lines();
    let comment = lines.next().unwrap_or_default();
    let raw = lines.next().and_then(|l| b64.decode(l.trim()).ok());
    comment.starts_with("untrusted comment:")
        && raw.is_some_and(|raw| raw.len() == 42 && raw.starts_with(b"Ed"))
}

/// A newer version the server offers, as the window shows it (camelCase).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct UpdateOffer {
    pub version: String,
    pub current_version: String,
    /// The release notes, plain text.
    pub notes: Option<String>,
    /// When it was published (RFC 3339), if the server said.
    pub date: Option<String>,
}

impl UpdateOffer {
    fn of(update: &Update) -> UpdateOffer {
        UpdateOffer {
            version: update.version.clone(),
            current_version: update.current_version.clone(),
            notes: update.body.clone().filter(|n| !n.trim().is_empty()),
            date: update.date.and_then(|d| {
                d.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        }
    }
}

/// What the update panel shows when it opens.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatus {
    pub current_version: String,
    /// The update found by the last check, if any.
    pub offer: Option<UpdateOffer>,
    /// Why this build cannot look for updates (`update.not_configured`, `config.*`), if so.
    pub unavailable: Option<CommandError>,
}

/// An update under way (camelCase): `phase` is `downloading`, `verifying`, `installing` or
/// `restarting`; `total` is null when the server sent no length.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateProgress {
    #[cfg_attr(
        test,
        ts(type = "\"downloading\" | \"verifying\" | \"installing\" | \"restarting\"")
    )]
    phase: &'static str,
    downloaded: u64,
    total: Option<u64>,
}

/// The app's update state: its source, the last offer, one check and one install at a time.
pub struct Updates {
    source: Result<UpdateSource, UpdateError>,
    offer: Mutex<Option<Update>>,
    checking: tokio::sync::Mutex<()>,
    installing: AtomicBool,
    /// Told when the Library shows its first page: the start-up check waits for it.
    pub window_ready: Notify,
}

impl Updates {
    pub fn new(app: &AppHandle) -> Updates {
        let source = UpdateSource::from_app(app);
        match &source {
            Ok(source) => tracing::info!(
                endpoints = source.endpoints.len(),
                "updates: checked against the configured endpoint with this build's key"
            ),
            Err(e) => tracing::info!(code = e.code(), "updates: not offered: {e}"),
        }
        Updates {
            source,
            offer: Mutex::new(None),
            checking: tokio::sync::Mutex::new(()),
            installing: AtomicBool::new(false),
            window_ready: Notify::new(),
        }
    }

    pub fn status(&self, app: &AppHandle) -> UpdateStatus {
        UpdateStatus {
            current_version: app.package_info().version.to_string(),
            offer: self.current_offer().as_ref().map(UpdateOffer::of),
            unavailable: self.source.as_ref().err().cloned().map(CommandError::from),
        }
    }

    fn current_offer(&self) -> Option<Update> {
        self.offer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_offer(&self, update: Option<Update>) {
        *self.offer.lock().unwrap_or_else(|p| p.into_inner()) = update;
    }
}

/// Asks the update server whether a newer version exists → the offer, or `None` when this is
/// the latest (an equal or older version on the server is never offered). The offer is kept
/// for `install`.
pub async fn check(app: &AppHandle) -> Result<Option<UpdateOffer>, UpdateError> {
    let updates = app.state::<Updates>();
    let source = updates.source.clone()?;
    let _one_at_a_time = updates.checking.lock().await;
    let on_this_computer = source.on_this_computer();
    let updater = app
        .updater_builder()
        .pubkey(source.pubkey)
        .endpoints(source.endpoints)
        .map_err(|_| UpdateError::Endpoint(RemoteError::InvalidUrl))?
        .timeout(CHECK_TIMEOUT)
        .configure_client(client_rules(on_this_computer))
        .build()
        .map_err(from_check_error)?;
    let found = updater.check().await.map_err(from_check_error)?;
    if let Some(update) = &found {
        check_url(update.download_url.as_str()).map_err(UpdateError::Endpoint)?;
    }
    let offer = found.as_ref().map(UpdateOffer::of);
    updates.set_offer(found);
    Ok(offer)
}

/// The updater's client settings. Redirects are followed only to addresses that pass the https
/// rule (at most 10 hops), so an https endpoint cannot hand the updater over to plain http
/// elsewhere. An update server on this computer is never reached through a proxy, as no
/// loopback traffic of the app is. The `Update` found by a check keeps these settings for its
/// download.
fn client_rules(
    on_this_computer: bool,
) -> impl Fn(updater_http::ClientBuilder) -> updater_http::ClientBuilder + Send + Sync + 'static {
    move |client| {
        let client = https_rule_on_redirects(client);
        if on_this_computer {
            client.no_proxy()
        } else {
            client
        }
    }
}

fn https_rule_on_redirects(client: updater_http::ClientBuilder) -> updater_http::ClientBuilder {
    client.redirect(updater_http::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if check_url(attempt.url().as_str()).is_ok() {
            attempt.follow()
        } else {
            attempt.error("a redirect to an address that breaks the https rule")
        }
    }))
}

/// Set in the environment of the process an update restarts the app into.
const RESTARTED_AFTER_UPDATE: &str = "CLEOM_RESTARTED_AFTER_UPDATE";

/// Whether this process is the new version an update restarted the app into (and forgets it,
/// so that the app's own later launches do not inherit it). The old process starts the new one
/// and only then exits, so the new one waits for the data folder (`links::claim_data_folder`).
pub fn restarted_after_update() -> bool {
    let restarted = std::env::var_os(RESTARTED_AFTER_UPDATE).is_some();
    std::env::remove_var(RESTARTED_AFTER_UPDATE);
    restarted
}

/// Downloads the offered update, checks its signature, installs it and restarts the app into
/// the new version, emitting `update-progress` on the way. Nothing is installed unless the
/// signature is valid and this copy is an installed bundle.
pub async fn install(app: &AppHandle) -> Result<(), UpdateError> {
    let updates = app.state::<Updates>();
    let update = updates.current_offer().ok_or(UpdateError::NotOffered)?;
    if updates.installing.swap(true, Ordering::SeqCst) {
        return Err(UpdateError::Busy);
    }
    let result = download_and_install(app, &update).await;
    updates.installing.store(false, Ordering::SeqCst);
    match &result {
        Ok(()) => {
            tracing::info!(version = %update.version, "updates: installed; restarting");
            emit_progress(app, "restarting", 0, None);
            // The new process inherits this and waits for the data folder (`restarted_after_update`).
            std::env::set_var(RESTARTED_AFTER_UPDATE, "1");
            app.request_restart();
        }
        Err(e) => tracing::warn!(code = e.code(), version = %update.version, "updates: {e}"),
    }
    result
}

async fn download_and_install(app: &AppHandle, update: &Update) -> Result<(), UpdateError> {
    let mut downloaded = 0u64;
    let mut last = None::<Instant>;
    let bytes = update
        .download(
            |chunk, total| {
                downloaded += chunk as u64;
                let done = total.is_some_and(|t| downloaded >= t);
                if done || last.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
                    last = Some(Instant::now());
                    emit_progress(app, "downloading", downloaded, total);
                }
            },
            || emit_progress(app, "verifying", 0, None),
        )
        .await
        .map_err(from_download_error)?;
    let bundle = tauri::utils::platform::bundle_type();
    if bundle.is_none() {
        return Err(UpdateError::NotInstalled {
            version: update.version.clone(),
        });
    }
    emit_progress(app, "installing", 0, None);
    update
        .install(bytes)
        .map_err(|e| from_install_error(e, bundle, update))
}

fn emit_progress(app: &AppHandle, phase: &'static str, downloaded: u64, total: Option<u64>) {
    let _ = app.emit(
        PROGRESS_EVENT,
        UpdateProgress {
            phase,
            downloaded,
            total,
        },
    );
}

/// The start-up check: once the Library shows (or after `START_UP_CHECK_AFTER`), in the
/// background, never delaying the window. An offer is announced with `update-available`;
/// anything else only goes to the log: the user did not ask.
pub fn spawn_start_up_check(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        {
            let updates = app.state::<Updates>();
            if updates.source.is_err() {
                return;
            }
            let _ =
                tokio::time::timeout(START_UP_CHECK_AFTER, updates.window_ready.notified()).await;
        }
        match check(&app).await {
            Ok(Some(offer)) => {
                tracing::info!(version = %offer.version, "updates: a newer version is available");
                let _ = app.emit(AVAILABLE_EVENT, offer);
            }
            Ok(None) => tracing::info!("updates: this is the latest version"),
            Err(e) => tracing::info!(code = e.code(), "updates: the start-up check failed: {e}"),
        }
    });
}

fn from_check_error(e: PluginError) -> UpdateError {
    match e {
        PluginError::Reqwest(e) if e.is_decode() => {
            UpdateError::Malformed("its answer is not JSON".into())
        }
        PluginError::Reqwest(e) => {
            tracing::debug!(error = %e.without_url(), "updates: the check's request failed");
            UpdateError::Unreachable
        }
        PluginError::ReleaseNotFound => UpdateError::Unreachable,
        PluginError::Serialization(e) => UpdateError::Malformed(e.to_string()),
        PluginError::Semver(e) => {
            UpdateError::Malformed(format!("the version is not a version number ({e})"))
        }
        PluginError::UrlParse(_) => {
            UpdateError::Malformed("a download address is not a URL".into())
        }
        PluginError::TargetNotFound(target) => {
            UpdateError::Malformed(format!("it offers no package for this system ({target})"))
        }
        PluginError::TargetsNotFound(targets) => UpdateError::Malformed(format!(
            "it offers no package for this system ({})",
            targets.join(" or ")
        )),
        PluginError::EmptyEndpoints => UpdateError::NotConfigured,
        PluginError::InsecureTransportProtocol => UpdateError::Endpoint(RemoteError::InvalidUrl),
        other => {
            tracing::debug!(error = %other, "updates: the check failed");
            UpdateError::Unreachable
        }
    }
}

fn from_download_error(e: PluginError) -> UpdateError {
    match e {
        PluginError::Minisign(_) | PluginError::Base64(_) | PluginError::SignatureUtf8(_) => {
            UpdateError::BadSignature
        }
        // The plugin's own text: "Download request failed with status: 404 Not Found".
        PluginError::Network(status) => UpdateError::DownloadFailed(status),
        PluginError::Reqwest(e) => {
            tracing::debug!(error = %e.without_url(), "updates: the download failed");
            UpdateError::DownloadFailed("the connection to the update server broke off".into())
        }
        other => UpdateError::DownloadFailed(other.to_string()),
    }
}

/// On Linux a .deb or .rpm is installed system-wide: the plugin asks pkexec, then zenity or
/// kdialog for a password for sudo, then sudo itself (which has no terminal to ask on). Each
/// refusal ends in one of these errors; `sudo` missing altogether is a NotFound.
fn from_install_error(e: PluginError, bundle: Option<BundleType>, update: &Update) -> UpdateError {
    let system_package = matches!(bundle, Some(BundleType::Deb | BundleType::Rpm));
    let needs_admin = match &e {
        PluginError::AuthenticationFailed
        | PluginError::PackageInstallFailed
        | PluginError::DebInstallFailed => true,
        PluginError::Io(io) => system_package && io.kind() == std::io::ErrorKind::NotFound,
        _ => false,
    };
    if needs_admin {
        UpdateError::NeedsAdmin {
            version: update.version.clone(),
            current: update.current_version.clone(),
        }
    } else {
        UpdateError::InstallFailed {
            version: update.version.clone(),
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public key as `tauri signer generate` prints it (made for this test; no secret key).
    const KEY: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IDVEMTFDM0UxRkVDQ0VDQzQKUldURTdNeis0Y01SWFM0VjJHYU5zdTFwRXN4WjB1RmJGei9YbUI5MFNtYVZlT3NsaXRkN040b0EK";
    const CLEOM: &str =
        "https://updates.cleomai.com/desktop/{{target}}/{{arch}}/{{current_version}}";

    #[test]
    fn only_an_update_server_on_this_computer_is_reached_without_the_proxy() {
        let source = |url: &str| UpdateSource::new(&[CLEOM.into()], Some(url), Some(KEY)).unwrap();
        assert!(source("http://127.0.0.1:4567/latest.json").on_this_computer());
        assert!(source("http://localhost:4567/latest.json").on_this_computer());
        assert!(!source(CLEOM).on_this_computer());
        assert!(!source("https://127.0.0.1.example.com/latest.json").on_this_computer());
    }

    #[test]
    fn a_build_without_a_key_offers_no_updates() {
        for key in [
            None,
            Some(""),
            Some("  "),
            Some("not base64!"),
            Some("aGVsbG8="),
        ] {
            let e = UpdateSource::new(&[CLEOM.into()], None, key).unwrap_err();
            assert_eq!(e.code(), "update.not_configured", "{key:?}");
        }
        assert!(UpdateSource::new(&[], None, Some(KEY)).is_err());
    }

    #[test]
    fn the_default_endpoint_is_cleoms_and_an_override_replaces_it() {
        let source = UpdateSource::new(&[CLEOM.into()], None, Some(KEY)).unwrap();
        assert_eq!(source.endpoints.len(), 1);
        assert_eq!(source.endpoints[0].host_str(), Some("updates.cleomai.com"));
        let local = "http://127.0.0.1:4321/u/{{target}}/{{arch}}/{{current_version}}";
        let source = UpdateSource::new(&[CLEOM.into()], Some(local), Some(KEY)).unwrap();
        assert_eq!(source.endpoints.len(), 1);
        assert_eq!(source.endpoints[0].host_str(), Some("127.0.0.1"));
    }

    #[test]
    fn plain_http_is_refused_except_to_this_computer() {
        let e = UpdateSource::new(&[], Some("http://updates.example.com/x"), Some(KEY));
        assert_eq!(e.unwrap_err().code(), "config.insecure_url");
        let e = UpdateSource::new(&["http://192.168.1.2/x".into()], None, Some(KEY));
        assert_eq!(e.unwrap_err().code(), "config.insecure_url");
        let e = UpdateSource::new(&[], Some("file:///tmp/latest.json"), Some(KEY));
        assert_eq!(e.unwrap_err().code(), "config.invalid_url");
    }

    #[test]
    fn the_repository_holds_no_update_key_and_points_at_cleom() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        let updater = &conf["plugins"]["updater"];
        assert_eq!(
            updater["pubkey"], "",
            "the public key comes from the build environment"
        );
        let endpoints: Vec<String> = serde_json::from_value(updater["endpoints"].clone()).unwrap();
        assert_eq!(endpoints, [CLEOM]);
        assert!(UpdateSource::new(&endpoints, None, Some(KEY)).is_ok());
    }

    /// Answers every request on a loopback port with a redirect to `location`; the port.
    fn redirecting_server(location: &'static str) -> u16 {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let _ = stream.read(&mut [0u8; 4096]);
                let location = location.replace("{port}", &port.to_string());
                let _ = write!(
                    stream,
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        port
    }

    #[tokio::test]
    async fn redirects_are_followed_only_where_the_https_rule_allows() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = https_rule_on_redirects(updater_http::ClientBuilder::new())
            .build()
            .unwrap();
        let away = redirecting_server("http://updates.example.com/latest.json");
        let e = client
            .get(format!("http://127.0.0.1:{away}/x"))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.is_redirect() && format!("{e:?}").contains("https rule"),
            "{e:?}"
        );
        let looping = redirecting_server("http://127.0.0.1:{port}/again");
        let e = client
            .get(format!("http://127.0.0.1:{looping}/x"))
            .send()
            .await
            .unwrap_err();
        assert!(
            e.is_redirect() && format!("{e:?}").contains("too many"),
            "{e:?}"
        );
    }

    #[test]
    fn messages_say_what_happened_without_a_url() {
        let e = UpdateError::NeedsAdmin {
            version: "0.2.0".into(),
            current: "0.1.0".into(),
        };
        assert_eq!(e.code(), "update.needs_admin");
        let text = e.to_string();
        assert!(
            text.contains("administrator") && text.contains("0.1.0 keeps working"),
            "{text}"
        );
        let e = from_check_error(PluginError::TargetsNotFound(vec![
            "linux-x86_64-deb".into(),
            "linux-x86_64".into(),
        ]));
        assert_eq!(e.code(), "update.malformed");
        assert!(
            e.to_string().contains("linux-x86_64-deb or linux-x86_64"),
            "{e}"
        );
        assert_eq!(
            from_download_error(PluginError::SignatureUtf8("x".into())).code(),
            "update.bad_signature"
        );
    }
}
