//! The embedded Cleom backend: one loopback HTTP server that speaks the subset of Firebase Auth,
//! Firestore REST v1 and the Cleom API that Cleom Desktop uses — same paths, same JSON shapes,
//! same error messages — persisting in its own SQLite file, enforcing owner-only access, and
//! running a generation worker that charges credits and produces real placeholder media.
//!
//! Why it exists: the app must run and be tested end to end with no account at Google and no
//! network. Because it imitates the real services instead of offering a convenient private
//! API, the app's clients are the production clients, and the same contract tests can run
//! against Google's emulators too. `docs/backend.md` is the contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cleom_local_backend::BackendError> {
//! let backend = cleom_local_backend::start(cleom_local_backend::BackendConfig::new("/tmp/cleom-data")).await?;
//! println!("Auth at {}/identitytoolkit.googleapis.com", backend.base_url());
//! backend.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout on the one port: `/identitytoolkit.googleapis.com/v1/accounts:*` and
//! `/securetoken.googleapis.com/v1/token` (module `auth`), `/v1/projects/{p}/databases/(default)/…`
//! (module `firestore`), `/api/v1/…` (module `api`).

mod account;
mod api;
mod auth;
mod db;
mod error;
mod firestore;
mod generations;
mod ids;
mod media;
mod worker;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub use error::BackendError;

use db::Store;

/// The database file inside the data directory.
const DATABASE_FILE: &str = "backend.sqlite3";
/// The media folder inside the data directory.
const MEDIA_DIR: &str = "media";
/// The `meta` key remembering the port.
const LAST_PORT_KEY: &str = "last_port";
/// How long `shutdown` waits for open requests before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Where and how to run the backend.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Holds the database and the media; created (owner-only) if missing.
    pub data_dir: PathBuf,
    /// The loopback port; 0 picks a free one (preferring the one this data directory used
    /// last, so stored media URLs stay valid).
    pub port: u16,
    /// How long a generation takes from queued to succeeded.
    pub job_duration: Duration,
    /// The bearer token that reads and writes every user's data, as `owner` does on Google's
    /// emulators; `None` (the embedded app's choice) accepts no such token, so no other local
    /// process can read the users' data through the port.
    pub admin_token: Option<String>,
}

impl BackendConfig {
    /// Any free port and the default 3-second jobs.
    pub fn new(data_dir: impl Into<PathBuf>) -> BackendConfig {
        BackendConfig {
            data_dir: data_dir.into(),
            port: 0,
            job_duration: Duration::from_secs(3),
            admin_token: None,
        }
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    pub(crate) media_root: Arc<Path>,
    /// `http://127.0.0.1:PORT`, for the media URLs the worker writes.
    pub(crate) base_url: Arc<str>,
    /// Wakes the worker when a generation is queued.
    pub(crate) jobs: Arc<Notify>,
    pub(crate) admin_token: Option<Arc<str>>,
}

/// A started backend. Dropping it also stops it, but [`RunningBackend::shutdown`] waits until
/// it has.
pub struct RunningBackend {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
}

impl RunningBackend {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many HTTP requests have been received so far.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stops accepting requests, lets open ones finish (for a few seconds at most) and stops
    /// the worker.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let mut server = self.server;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "the server stopped with an error"),
            Ok(Err(error)) => tracing::warn!(%error, "the server task failed"),
            Err(_) => {
                tracing::warn!("open requests did not finish in time; closing them");
                server.abort();
            }
        }
        if let Err(error) = self.worker.await {
            tracing::warn!(%error, "the worker task failed");
        }
    }
}

fn prepare_data_dir(path: &Path) -> Result<(), BackendError> {
    let error = |source| BackendError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(error)?;
    db::restrict_dir(path).map_err(error)
}

/// Opens (or creates) the data directory and starts serving on `127.0.0.1`.
pub async fn start(config: BackendConfig) -> Result<RunningBackend, BackendError> {
    let data_dir = config.data_dir.clone();
    let media_root: Arc<Path> = Arc::from(data_dir.join(MEDIA_DIR));
    let cleanup_root = media_root.clone();
    let store = tokio::task::spawn_blocking(move || -> Result<Store, BackendError> {
        prepare_data_dir(&data_dir)?;
        let store = Store::open(&data_dir.join(DATABASE_FILE))?;
        let known = store.run_blocking(|db| -> Result<HashSet<String>, rusqlite::Error> {
            let mut statement = db.conn().prepare("SELECT token FROM media")?;
            let tokens = statement
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(tokens)
        })?;
        worker::remove_orphan_media(&cleanup_root, &known);
        Ok(store)
    })
    .await
    .map_err(|e| BackendError::DataDir {
        path: config.data_dir.clone(),
        source: std::io::Error::other(e),
    })??;

    let listener = bind(&store, config.port).await?;
    let addr = listener.local_addr().map_err(|source| BackendError::Bind {
        port: config.port,
        source,
    })?;
    let port = addr.port().to_string();
    store.run_blocking(|db| db.set_meta(LAST_PORT_KEY, &port))?;

    let app = AppState {
        store: Arc::new(store),
        media_root,
        base_url: Arc::from(format!("http://{addr}")),
        jobs: Arc::new(Notify::new()),
        admin_token: config.admin_token.as_deref().map(Arc::from),
    };
    let requests = Arc::new(AtomicU64::new(0));
    let (shutdown, shutdown_signal) = watch::channel(false);
    let worker = worker::spawn(app.clone(), config.job_duration, shutdown_signal.clone());
    let router = router(app, requests.clone());
    let mut server_signal = shutdown_signal;
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                // A send or the sender being dropped both mean "stop".
                let _ = server_signal.changed().await;
            })
            .await
    });
    tracing::info!(%addr, "local backend listening");
    Ok(RunningBackend {
        addr,
        requests,
        shutdown,
        server,
        worker,
    })
}

/// Binds `127.0.0.1:port`. For port 0, the port used last time with this data directory is
/// tried first: media URLs stored in documents name the port, so keeping it keeps them working
/// across restarts.
async fn bind(store: &Store, port: u16) -> Result<tokio::net::TcpListener, BackendError> {
    if port == 0 {
        let last = store.run_blocking(|db| db.meta(LAST_PORT_KEY))?;
        if let Some(last) = last.and_then(|p| p.parse::<u16>().ok()).filter(|p| *p != 0) {
            if let Ok(listener) = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, last)).await {
                return Ok(listener);
            }
            tracing::warn!(
                port = last,
                "the previous port is taken; media URLs from before will not resolve"
            );
        }
    }
    tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| BackendError::Bind { port, source })
}

fn router(app: AppState, requests: Arc<AtomicU64>) -> Router {
    Router::new()
        .route(
            "/identitytoolkit.googleapis.com/v1/{action}",
            post(auth::identity_toolkit),
        )
        .route(
            "/securetoken.googleapis.com/v1/token",
            post(auth::secure_token),
        )
        .route(
            "/v1/projects/{project}/databases/{database}/{*rest}",
            any(firestore::handle),
        )
        .route("/api/v1/pricing", get(api::pricing))
        .route("/api/v1/generations", post(api::create_generation))
        .route(
            "/api/v1/generations/{id}",
            get(api::get_generation)
                .post(api::generation_action)
                .delete(api::delete_generation),
        )
        .route("/api/v1/account", delete(api::delete_account))
        .route("/api/v1/media/{token}/{file}", get(api::media))
        .fallback(not_found)
        .with_state(app)
        .layer(middleware::from_fn_with_state(requests, count_and_log))
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": { "code": 404, "message": "not found" } })),
    )
        .into_response()
}

/// Counts every request and logs it by route pattern — never by its URI, which may carry a
/// media token or an API key.
async fn count_and_log(
    State(requests): State<Arc<AtomicU64>>,
    request: Request,
    next: Next,
) -> Response {
    requests.fetch_add(1, Ordering::SeqCst);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(%method, route, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}
