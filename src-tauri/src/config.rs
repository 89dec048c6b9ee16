//! Start-up configuration, read once from the environment so that the same binary runs on the
//! embedded backend (the default), on a standalone local backend, or on any deployment of the
//! three surfaces (production, or Google's emulators with a Cleom API in front).

use std::path::PathBuf;

use cleom_core::remote::Endpoints;

pub struct AppConfig {
    pub backend: BackendChoice,
    /// Where one-click exports are written.
    pub export_dir: PathBuf,
    /// How long the embedded backend takes to make a clip.
    pub embedded_job_seconds: f64,
}

pub enum BackendChoice {
    /// Start the local backend in-process on loopback.
    Embedded,
    /// A backend with the local backend's one-port layout (`CLEOM_BACKEND_URL`).
    OnePort(String),
    /// Each surface at its own base URL (`CLEOM_AUTH_URL`, `CLEOM_SECURE_TOKEN_URL`,
    /// `CLEOM_FIRESTORE_URL`, `CLEOM_API_URL`, `CLEOM_PROJECT_ID`, `CLEOM_API_KEY`).
    Endpoints(Endpoints),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

impl AppConfig {
    pub fn from_env() -> Result<AppConfig, String> {
        let export_dir = var("CLEOM_EXPORT_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::UserDirs::new().and_then(|d| d.download_dir().map(PathBuf::from))
            })
            .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().join("Cleom exports")))
            .unwrap_or_else(std::env::temp_dir);
        let backend = if let Some(api) = var("CLEOM_API_URL") {
            let required = |name: &str| {
                var(name).ok_or_else(|| format!("{name} must be set with CLEOM_API_URL"))
            };
            BackendChoice::Endpoints(Endpoints {
                auth: required("CLEOM_AUTH_URL")?,
                secure_token: required("CLEOM_SECURE_TOKEN_URL")?,
                firestore: required("CLEOM_FIRESTORE_URL")?,
                api,
                project_id: required("CLEOM_PROJECT_ID")?,
                api_key: required("CLEOM_API_KEY")?,
            })
        } else if let Some(url) = var("CLEOM_BACKEND_URL") {
            BackendChoice::OnePort(url)
        } else {
            BackendChoice::Embedded
        };
        Ok(AppConfig {
            backend,
            export_dir,
            embedded_job_seconds: var("CLEOM_EMBEDDED_JOB_SECONDS")
                .and_then(|s| s.parse().ok())
                .unwrap_or(6.0),
        })
    }
}
