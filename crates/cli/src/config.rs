//! Which backend to talk to, from the same environment variables as the app (see the README).
//! Unlike the app, `cleom` has no embedded backend to fall back on, so a missing setting is an
//! error that says what to set.

use cleom_core::remote::Endpoints;

use crate::Failure;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn config_error(message: String) -> Failure {
    Failure {
        code: "config.backend_missing",
        message,
        usage: false,
    }
}

/// The backend's endpoints: `CLEOM_API_URL` and its companions, else `CLEOM_BACKEND_URL`.
pub fn endpoints_from_env() -> Result<Endpoints, Failure> {
    if let Some(api) = var("CLEOM_API_URL") {
        let required = |name: &str| {
            var(name).ok_or_else(|| config_error(format!("{name} must be set with CLEOM_API_URL")))
        };
        return Ok(Endpoints {
            auth: required("CLEOM_AUTH_URL")?,
            secure_token: required("CLEOM_SECURE_TOKEN_URL")?,
            firestore: required("CLEOM_FIRESTORE_URL")?,
            api,
            project_id: required("CLEOM_PROJECT_ID")?,
            api_key: required("CLEOM_API_KEY")?,
        });
    }
    let Some(url) = var("CLEOM_BACKEND_URL") else {
        return Err(config_error(
            "cleom needs a backend URL: set CLEOM_BACKEND_URL to a Cleom backend's base URL \
             (for example http://127.0.0.1:8787 after `cargo run -p cleom-local-backend -- --port 8787`), \
             or CLEOM_API_URL with CLEOM_AUTH_URL, CLEOM_SECURE_TOKEN_URL, CLEOM_FIRESTORE_URL, \
             CLEOM_PROJECT_ID and CLEOM_API_KEY"
                .to_string(),
        ));
    };
    Endpoints::local(&url).map_err(|e| cleom_core::Error::from(e).into())
}

/// The backend in one line, for `cleom status`.
pub fn describe_backend() -> String {
    var("CLEOM_API_URL")
        .or_else(|| var("CLEOM_BACKEND_URL"))
        .unwrap_or_else(|| "not set".to_string())
}
