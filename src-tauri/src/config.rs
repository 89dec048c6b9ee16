//! Start-up configuration, read once from the environment so that the same binary runs on the
//! embedded backend (the default), on a standalone local backend, or on production.

use std::path::PathBuf;

pub struct AppConfig {
    /// Base URL of a backend with the local backend's one-port layout; `None` = embedded.
    pub backend_url: Option<String>,
    /// Where one-click exports are written.
    pub export_dir: PathBuf,
    /// How long the embedded backend takes to make a clip.
    pub embedded_job_seconds: f64,
}

impl AppConfig {
    pub fn from_env() -> AppConfig {
        let export_dir = std::env::var_os("CLEOM_EXPORT_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::UserDirs::new().and_then(|d| d.download_dir().map(PathBuf::from))
            })
            .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().join("Cleom exports")))
            .unwrap_or_else(std::env::temp_dir);
        AppConfig {
            backend_url: std::env::var("CLEOM_BACKEND_URL")
                .ok()
                .filter(|s| !s.is_empty()),
            export_dir,
            embedded_job_seconds: std::env::var("CLEOM_EMBEDDED_JOB_SECONDS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(6.0),
        }
    }
}
