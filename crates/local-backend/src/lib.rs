//! The embedded Cleom backend: one loopback HTTP server that speaks the subset of Firebase Auth,
//! Firestore REST v1 and the Cleom API that Cleom Desktop uses — same paths, same JSON shapes,
//! same error messages — persisting in its own SQLite file, enforcing owner-only access, and
//! running a generation worker that charges credits and produces real placeholder media.
//!
//! Why it exists: the app must run and be tested end to end with no account at Google and no
//! network. Because it imitates the real services instead of offering a convenient private
//! API, the app's clients are the production clients, and the same contract tests run against
//! Google's emulators too (`tests/contract`). `docs/backend.md` is the contract.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cleom_local_backend::BackendError> {
//! let backend = cleom_local_backend::start(cleom_local_backend::BackendConfig::new("/tmp/cleom-data")).await?;
//! println!("Auth at {}/identitytoolkit.googleapis.com", backend.base_url());
//! backend.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout on the one port: `/identitytoolkit.googleapis.com/v1/…` and
//! `/securetoken.googleapis.com/v1/token` (module `auth`), `/v1/projects/{p}/databases/(default)/…`
//! (module `firestore`), `/api/v1/…` (module `api`).
//!
//! ## Two stores, one API
//! The Auth and Firestore surfaces keep their data in SQLite. The Cleom API and its worker do
//! not touch that file: they act through the app's own REST clients (`cleom_core::remote`)
//! with an admin credential ([`admin_client`](crate) module), as a real Cleom server acts on the
//! real Firestore with a service account. Embedded, those clients call this same loopback port
//! with a random admin token only this process knows (the [`BackendConfig::admin_token`] the
//! app leaves unset is a different, optional one, for tests). With [`start_api`] the very same
//! API serves alone, in front of Google's Auth and Firestore emulators (admin token `owner`):
//! that is how the contract suite checks the API's transactions against the real Firestore
//! semantics. The price is a loopback round trip per store call, well under a millisecond.

mod account;
mod admin_client;
mod analytics_log;
mod api;
mod auth;
mod connections;
mod db;
mod documents;
mod error;
mod faults;
mod firestore;
mod generations;
mod ids;
mod ledger;
mod media;
mod rebinding;
mod sessions;
mod sign_in_limits;
mod value;
mod worker;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use cleom_core::remote::Endpoints;
use cleom_core::secret::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Upper bounds of the analytics reports kept in memory (the oldest are dropped first).
pub const ANALYTICS_KEPT_REPORTS: usize = 500;
pub const ANALYTICS_KEPT_BYTES: usize = 256 * 1024;

pub use error::BackendError;
pub use faults::{Fault, Faults};

use admin_client::AdminClient;
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

/// What the Auth and Firestore handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Arc<Store>,
    /// Bearer tokens with admin rights: the API's internal one, and the configured one if any.
    pub(crate) admin_tokens: Arc<[String]>,
    /// The failed sign-ins of the last minute (`sign_in_limits`).
    pub(crate) sign_in_attempts: Arc<std::sync::Mutex<sign_in_limits::SignInAttempts>>,
}

/// Where and how to run the Cleom API alone, in front of Auth and Firestore served elsewhere —
/// Google's emulators, for the contract suite.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Holds the media; created (owner-only) if missing.
    pub data_dir: PathBuf,
    /// The loopback port; 0 picks a free one.
    pub port: u16,
    pub job_duration: Duration,
    /// The Auth emulator's base URL, e.g. `http://127.0.0.1:9099` (it serves Secure Token too).
    pub auth_url: String,
    /// The Firestore emulator's base URL, e.g. `http://127.0.0.1:8080`.
    pub firestore_url: String,
    /// The stores' admin bearer token (`owner` on Google's emulators).
    pub admin_token: String,
}

/// A started backend. Dropping it also stops it, but [`RunningBackend::shutdown`] waits until
/// it has.
pub struct RunningBackend {
    addr: SocketAddr,
    outside: Arc<Outside>,
    client: Arc<AdminClient>,
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

    /// How many HTTP requests have been received from outside so far (the API's calls to the
    /// Auth and Firestore surfaces on the same port are its own business and not counted).
    pub fn request_count(&self) -> u64 {
        self.outside.requests.load(Ordering::SeqCst)
    }

    /// Writes generations straight into `uid`'s history as the server itself would — each
    /// `updatedAt` the commit time, a `deleted` one as a tombstone — up to 500 a commit: for
    /// development fixtures, benchmarks and tests that need a large or changing history without
    /// paying for it in credits. The user's profile must exist (the API makes it on first use;
    /// the embedded backend at sign-up), else this is `RemoteError::NotFound`.
    pub async fn put_generations(
        &self,
        uid: &str,
        generations: &[cleom_core::model::Generation],
    ) -> Result<(), cleom_core::remote::RemoteError> {
        use cleom_core::remote::documents::generation_to_fields;
        use cleom_core::remote::firestore::{Write, MAX_COMMIT_WRITES};
        // One write of each commit is the profile's own `updatedAt` (see `AdminClient::commit`).
        for chunk in generations.chunks(MAX_COMMIT_WRITES - 1) {
            let writes = chunk
                .iter()
                .map(|g| {
                    Write::update(
                        documents::generation_path(uid, &g.id),
                        generation_to_fields(g),
                    )
                    .server_time("updatedAt")
                })
                .collect();
            self.client.commit(writes).await?;
        }
        Ok(())
    }

    /// The anonymous analytics reports kept, in order: the latest received, at most
    /// [`ANALYTICS_KEPT_REPORTS`] of them and [`ANALYTICS_KEPT_BYTES`] of compact JSON.
    pub fn analytics_reports(&self) -> Vec<serde_json::Value> {
        self.client
            .analytics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .reports()
    }

    /// The faults injected into the answers to requests from outside (none unless asked for).
    pub fn faults(&self) -> &Faults {
        &self.outside.faults
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

/// Opens (or creates) the data directory and starts serving all three surfaces on `127.0.0.1`.
pub async fn start(config: BackendConfig) -> Result<RunningBackend, BackendError> {
    let data_dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || -> Result<Store, BackendError> {
        prepare_data_dir(&data_dir)?;
        Store::open(&data_dir.join(DATABASE_FILE))
    })
    .await
    .map_err(|e| BackendError::DataDir {
        path: config.data_dir.clone(),
        source: std::io::Error::other(e),
    })??;

    let listener = bind(Some(&store), config.port).await?;
    let addr = local_addr(&listener, config.port)?;
    let port = addr.port().to_string();
    store.run_blocking(|db| db.set_meta(LAST_PORT_KEY, &port))?;

    let base_url = format!("http://{addr}");
    let internal_admin = ids::new_secret();
    let mut admin_tokens = vec![internal_admin.clone()];
    admin_tokens.extend(config.admin_token.clone());
    let endpoints = Endpoints::local(&base_url).map_err(|source| BackendError::Endpoint {
        surface: "local backend",
        source,
    })?;
    let client = AdminClient::new(
        endpoints,
        SecretString::new(internal_admin),
        config
            .admin_token
            .iter()
            .map(|t| SecretString::new(t.clone()))
            .collect(),
        config.data_dir.join(MEDIA_DIR),
    )
    .map_err(|source| BackendError::Endpoint {
        surface: "local backend",
        source,
    })?;
    let stores = stores_router(AppState {
        store: Arc::new(store),
        admin_tokens: admin_tokens.into(),
        sign_in_attempts: Arc::default(),
    });
    serve(
        listener,
        addr,
        stores,
        Arc::new(client),
        config.job_duration,
    )
}

/// Starts only the Cleom API (and its worker and media) on `127.0.0.1`, in front of the Auth
/// and Firestore at `config`'s URLs — Google's emulators. Nothing is stored locally but media.
pub async fn start_api(config: ApiConfig) -> Result<RunningBackend, BackendError> {
    let data_dir = config.data_dir.clone();
    tokio::task::spawn_blocking(move || prepare_data_dir(&data_dir))
        .await
        .map_err(|e| BackendError::DataDir {
            path: config.data_dir.clone(),
            source: std::io::Error::other(e),
        })??;
    let listener = bind(None, config.port).await?;
    let addr = local_addr(&listener, config.port)?;
    let base_url = format!("http://{addr}");
    let endpoints = Endpoints::emulators(
        &config.auth_url,
        &config.firestore_url,
        &format!("{base_url}/api"),
    )
    .map_err(|source| BackendError::Endpoint {
        surface: "Auth or Firestore",
        source,
    })?;
    let client = AdminClient::new(
        endpoints,
        SecretString::new(config.admin_token.clone()),
        Vec::new(),
        config.data_dir.join(MEDIA_DIR),
    )
    .map_err(|source| BackendError::Endpoint {
        surface: "Auth or Firestore",
        source,
    })?;
    serve(
        listener,
        addr,
        Router::new(),
        Arc::new(client),
        config.job_duration,
    )
}

fn local_addr(listener: &TcpListener, port: u16) -> Result<SocketAddr, BackendError> {
    listener
        .local_addr()
        .map_err(|source| BackendError::Bind { port, source })
}

/// Serves `stores` and the Cleom API on `listener` and starts the worker.
fn serve(
    listener: TcpListener,
    addr: SocketAddr,
    stores: Router,
    client: Arc<AdminClient>,
    job_duration: Duration,
) -> Result<RunningBackend, BackendError> {
    let outside = Arc::new(Outside::default());
    let (shutdown, shutdown_signal) = watch::channel(false);
    let worker = worker::spawn(client.clone(), job_duration, shutdown_signal.clone());
    let router = stores
        .merge(api_router(client.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            outside.clone(),
            from_outside,
        ))
        .layer(middleware::from_fn_with_state(
            addr.port(),
            from_loopback_only,
        ));
    let server = tokio::spawn(connections::serve(
        listener,
        router,
        connections::ConnectionLimits::DEFAULT,
        shutdown_signal,
    ));
    tracing::info!(%addr, "local backend listening");
    Ok(RunningBackend {
        addr,
        outside,
        client,
        shutdown,
        server,
        worker,
    })
}

/// Binds `127.0.0.1:port`. For port 0 with a store, the port used last time with this data
/// directory is tried first, so a URL given to a tool (the CLI's `CLEOM_BACKEND_URL`) keeps
/// working across restarts. Nothing stored depends on it: media URLs are root-relative.
async fn bind(store: Option<&Store>, port: u16) -> Result<TcpListener, BackendError> {
    if let (0, Some(store)) = (port, store) {
        let last = store.run_blocking(|db| db.meta(LAST_PORT_KEY))?;
        if let Some(last) = last.and_then(|p| p.parse::<u16>().ok()).filter(|p| *p != 0) {
            if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, last)).await {
                return Ok(listener);
            }
            tracing::warn!(
                port = last,
                "the previous port is taken; listening on another"
            );
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| BackendError::Bind { port, source })
}

/// The Auth and Firestore surfaces over the SQLite store.
fn stores_router(app: AppState) -> Router {
    Router::new()
        .route(
            "/identitytoolkit.googleapis.com/v1/{action}",
            post(auth::identity_toolkit),
        )
        .route(
            "/identitytoolkit.googleapis.com/v1/projects/{project}/{action}",
            post(auth::admin_action),
        )
        .route(
            "/emulator/v1/projects/{project}/oobCodes",
            get(auth::list_oob_codes),
        )
        .route(
            "/securetoken.googleapis.com/v1/token",
            post(auth::secure_token),
        )
        .route(
            "/v1/projects/{project}/databases/{database}/{*rest}",
            any(firestore::handle),
        )
        .with_state(app)
}

/// The Cleom API.
fn api_router(client: Arc<AdminClient>) -> Router {
    Router::new()
        .route("/api/v1/pricing", get(api::pricing))
        .route("/api/v1/analytics", post(api::analytics))
        .route("/api/v1/generations", post(api::create_generation))
        .route(
            "/api/v1/generations:batchDelete",
            post(api::batch_delete_generations),
        )
        .route(
            "/api/v1/generations/{id}",
            get(api::get_generation)
                .post(api::generation_action)
                .delete(api::delete_generation),
        )
        .route(
            "/api/v1/sessions",
            get(api::list_sessions).post(api::report_session),
        )
        .route(
            "/api/v1/sessions:signOutOthers",
            post(api::sign_out_other_sessions),
        )
        .route("/api/v1/sessions/{id}", delete(api::end_session))
        .route("/api/v1/account", delete(api::delete_account))
        .route("/api/v1/media/{token}/{file}", get(api::media))
        .with_state(client)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": { "code": 404, "message": "not found" } })),
    )
        .into_response()
}

/// Refuses requests with a foreign `Host` (421) or browser `Origin` (403): see `rebinding`.
async fn from_loopback_only(State(port): State<u16>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let refusal = rebinding::refusal(
        headers.get(header::HOST).map(|h| h.as_bytes()),
        headers.get(header::ORIGIN).map(|o| o.as_bytes()),
        port,
    );
    let (status, message) = match refusal {
        None => return next.run(request).await,
        Some(rebinding::Refusal::ForeignHost) => (
            StatusCode::MISDIRECTED_REQUEST,
            "this server answers only to its loopback address",
        ),
        Some(rebinding::Refusal::ForeignOrigin) => {
            (StatusCode::FORBIDDEN, "requests from web pages are refused")
        }
    };
    (
        status,
        axum::Json(serde_json::json!({ "error": { "code": status.as_u16(), "message": message } })),
    )
        .into_response()
}

/// What is known of the requests from outside: how many came, and the faults to inject.
#[derive(Default)]
struct Outside {
    requests: AtomicU64,
    faults: Faults,
}

/// Counts every request from outside (the API's own calls to the stores are not counted),
/// injects the planned faults into them, and logs each by route pattern — never by its URI,
/// which may carry a media token or an API key.
async fn from_outside(
    State(outside): State<Arc<Outside>>,
    request: Request,
    next: Next,
) -> Response {
    let internal = request
        .headers()
        .get(header::USER_AGENT)
        .is_some_and(|agent| agent.as_bytes() == admin_client::INTERNAL_USER_AGENT.as_bytes());
    let fault = if internal {
        None
    } else {
        outside.requests.fetch_add(1, Ordering::SeqCst);
        outside.faults.next()
    };
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let response = match fault {
        None => next.run(request).await,
        Some(fault) => match faults::instead_of_running(fault) {
            Some(answer) => answer,
            None => {
                if let Fault::Delay(delay) = fault {
                    tokio::time::sleep(delay).await;
                }
                faults::spoil(fault, next.run(request).await).await
            }
        },
    };
    tracing::debug!(%method, route, internal, ?fault, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}
