//! Clients for the three backend surfaces: Firebase Auth, Firestore and the Cleom API.
//!
//! They are plain async functions over one shared HTTP layer (`http.rs`), configured only by
//! base URLs ([`Endpoints`]), so the same code talks to production, Google's emulators and the
//! embedded local backend, and the contract in `docs/backend.md` is tested once for all three.
//! Every failure is a [`RemoteError`] with a stable dotted code for the UI, and nothing here
//! logs or displays a token, a password or a signed URL.
//!
//! - [`auth`]: sign-up, sign-in, refresh and account changes.
//! - [`firestore`]: typed values and documents, reads, commits and queries, for sync.
//! - [`documents`]: Firestore documents ⇄ `crate::model` types.
//! - [`cleom_api`]: prices, generations (charged only here), account deletion, media.

pub mod auth;
pub mod cleom_api;
pub mod documents;
mod endpoints;
mod error;
pub mod firestore;
mod http;
#[cfg(test)]
pub(crate) mod test_server;

pub use endpoints::{check_url, is_loopback, Endpoints};
pub use error::RemoteError;

use auth::AuthClient;
use cleom_api::CleomApi;
use firestore::FirestoreClient;
use http::{Http, HttpConfig};

/// The three clients, sharing one connection pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Remote {
    pub auth: AuthClient,
    pub firestore: FirestoreClient,
    pub api: CleomApi,
}

impl Remote {
    /// Checks `endpoints` (https, or http to loopback only) and builds the clients.
    pub fn new(endpoints: Endpoints) -> Result<Remote, RemoteError> {
        Remote::build(endpoints, HttpConfig::default())
    }

    /// Like [`Remote::new`], for a server that calls the backend with these same clients (the
    /// local backend's Cleom API) and names itself in the `User-Agent` header.
    pub fn with_user_agent(
        endpoints: Endpoints,
        user_agent: &'static str,
    ) -> Result<Remote, RemoteError> {
        Remote::build(
            endpoints,
            HttpConfig {
                user_agent,
                ..HttpConfig::default()
            },
        )
    }

    /// Like [`Remote::new`], giving up on an answer after `request_timeout` instead of 30 s
    /// (each try; retries follow the usual policy).
    pub fn with_request_timeout(
        endpoints: Endpoints,
        request_timeout: std::time::Duration,
    ) -> Result<Remote, RemoteError> {
        Remote::build(
            endpoints,
            HttpConfig {
                request_timeout,
                ..HttpConfig::default()
            },
        )
    }

    fn build(endpoints: Endpoints, config: HttpConfig) -> Result<Remote, RemoteError> {
        endpoints.validate()?;
        let http = Http::new(config)?;
        Ok(Remote {
            auth: AuthClient::new(http.clone(), &endpoints),
            firestore: FirestoreClient::new(http.clone(), &endpoints),
            api: CleomApi::new(http, &endpoints),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::test_server::{Canned, TestServer};
    use crate::secret::Secret;

    #[test]
    fn an_insecure_endpoint_is_refused_before_any_request() {
        let mut endpoints = Endpoints::local("http://127.0.0.1:4000").unwrap();
        endpoints.firestore = "http://firestore.example.com".into();
        assert_eq!(
            Remote::new(endpoints).unwrap_err().code(),
            "config.insecure_url"
        );
    }

    #[tokio::test]
    async fn one_remote_reaches_all_three_surfaces_of_the_local_layout() {
        let server = TestServer::start(vec![
            Canned::json(200, r#"{"users":[{"localId":"u1"}]}"#),
            Canned::json(404, "{}"),
            Canned::json(
                200,
                &serde_json::to_string(&crate::pricing::PricingTable::local_default()).unwrap(),
            ),
        ])
        .await;
        let remote = Remote::new(Endpoints::local(server.base()).unwrap()).unwrap();
        let token = Secret::new("t".to_string());
        assert_eq!(remote.auth.lookup(&token).await.unwrap().uid, "u1");
        assert_eq!(
            remote.firestore.get("users/u1", &token).await.unwrap(),
            None
        );
        remote.api.pricing().await.unwrap();
        let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
        assert_eq!(
            targets,
            [
                "/identitytoolkit.googleapis.com/v1/accounts:lookup?key=local",
                "/v1/projects/demo-cleom/databases/(default)/documents/users/u1",
                "/api/v1/pricing",
            ]
        );
    }
}
