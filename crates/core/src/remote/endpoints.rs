//! Where the three backend surfaces live.
//!
//! Every surface is a base URL, so one binary runs against production, Google's emulators or
//! the embedded local backend. Plain http is accepted only for this computer (loopback): an
//! ID token or a password sent over the network unencrypted would be readable by anyone on the
//! path, so a misconfigured `http://` production URL is refused before any request is made.

use std::net::IpAddr;

use reqwest::Url;

use super::RemoteError;

/// The base URLs (no trailing slash) and the Firebase project settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Firebase Auth, e.g. `https://identitytoolkit.googleapis.com`.
    pub auth: String,
    /// Firebase's token refresh service, e.g. `https://securetoken.googleapis.com`.
    pub secure_token: String,
    /// Firestore's REST root (the part before `/v1/projects/...`).
    pub firestore: String,
    /// The Cleom API, e.g. `https://api.cleomai.com`.
    pub api: String,
    pub project_id: String,
    /// The Firebase web API key, sent as `?key=` to Auth (not a secret: it is in every web app).
    pub api_key: String,
}

/// The local backend's and the emulators' project id.
const DEMO_PROJECT: &str = "demo-cleom";
const LOCAL_API_KEY: &str = "local";

impl Endpoints {
    /// The embedded local backend, which serves all three surfaces on one port at `base_url`.
    pub fn local(base_url: &str) -> Result<Endpoints, RemoteError> {
        let base = base_url.trim_end_matches('/');
        let endpoints = Endpoints {
            auth: format!("{base}/identitytoolkit.googleapis.com"),
            secure_token: format!("{base}/securetoken.googleapis.com"),
            firestore: base.to_string(),
            api: format!("{base}/api"),
            project_id: DEMO_PROJECT.to_string(),
            api_key: LOCAL_API_KEY.to_string(),
        };
        endpoints.validate()?;
        Ok(endpoints)
    }

    /// Google's Firebase emulators (Auth and Firestore on their own ports) with a Cleom API in
    /// front of them. The Auth emulator serves both Auth and Secure Token under path prefixes.
    pub fn emulators(
        auth_emulator_base: &str,
        firestore_emulator_base: &str,
        api_base: &str,
    ) -> Result<Endpoints, RemoteError> {
        let auth = auth_emulator_base.trim_end_matches('/');
        let endpoints = Endpoints {
            auth: format!("{auth}/identitytoolkit.googleapis.com"),
            secure_token: format!("{auth}/securetoken.googleapis.com"),
            firestore: firestore_emulator_base.trim_end_matches('/').to_string(),
            api: api_base.trim_end_matches('/').to_string(),
            project_id: DEMO_PROJECT.to_string(),
            api_key: LOCAL_API_KEY.to_string(),
        };
        endpoints.validate()?;
        Ok(endpoints)
    }

    /// Checks every base URL with [`check_url`]. `Remote::new` calls it, so hand-built
    /// endpoints are checked too.
    pub fn validate(&self) -> Result<(), RemoteError> {
        for url in [&self.auth, &self.secure_token, &self.firestore, &self.api] {
            let parsed = check_url(url)?;
            if parsed.query().is_some() || parsed.fragment().is_some() {
                return Err(RemoteError::InvalidUrl);
            }
        }
        Ok(())
    }
}

/// Parses `url` and accepts it only if it is https, or http to this computer (127.0.0.0/8,
/// `::1`, `localhost`).
pub fn check_url(url: &str) -> Result<Url, RemoteError> {
    let parsed = Url::parse(url).map_err(|_| RemoteError::InvalidUrl)?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(RemoteError::InvalidUrl);
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(RemoteError::InvalidUrl)?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(RemoteError::InsecureUrl(host.to_string())),
        _ => Err(RemoteError::InvalidUrl),
    }
}

/// Whether `url` names this computer: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // The url crate lower-cases domains and writes IPv6 hosts in brackets.
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    host == "localhost" || ip.is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_always_accepted() {
        assert!(check_url("https://api.cleomai.com").is_ok());
        assert!(check_url("https://firestore.googleapis.com/v1").is_ok());
    }

    #[test]
    fn plain_http_is_accepted_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9099/x",
            "http://LOCALHOST",
            "http://[::1]:80",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for (bad, host) in [
            ("http://api.cleomai.com", "api.cleomai.com"),
            ("http://192.168.1.10:8080", "192.168.1.10"),
            ("http://localhost.evil.com", "localhost.evil.com"),
            ("http://[::2]", "[::2]"),
            ("http://0.0.0.0:80", "0.0.0.0"),
        ] {
            let e = check_url(bad).unwrap_err();
            assert_eq!(e.code(), "config.insecure_url", "{bad}");
            assert_eq!(e, RemoteError::InsecureUrl(host.to_string()));
        }
    }

    #[test]
    fn other_schemes_credentials_and_garbage_are_invalid() {
        for bad in [
            "ftp://127.0.0.1",
            "file:///etc/passwd",
            "not a url",
            "",
            "https://user:pw@example.com",
        ] {
            assert_eq!(
                check_url(bad).unwrap_err().code(),
                "config.invalid_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn local_uses_the_one_port_layout() {
        let e = Endpoints::local("http://127.0.0.1:4000/").unwrap();
        assert_eq!(
            e.auth,
            "http://127.0.0.1:4000/identitytoolkit.googleapis.com"
        );
        assert_eq!(
            e.secure_token,
            "http://127.0.0.1:4000/securetoken.googleapis.com"
        );
        assert_eq!(e.firestore, "http://127.0.0.1:4000");
        assert_eq!(e.api, "http://127.0.0.1:4000/api");
        assert_eq!(e.project_id, "demo-cleom");
        assert_eq!(e.api_key, "local");
        assert_eq!(
            Endpoints::local("http://10.0.0.1:4000").unwrap_err().code(),
            "config.insecure_url"
        );
    }

    #[test]
    fn emulators_put_secure_token_on_the_auth_emulator() {
        let e = Endpoints::emulators(
            "http://127.0.0.1:9099",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:4000/api",
        )
        .unwrap();
        assert_eq!(
            e.auth,
            "http://127.0.0.1:9099/identitytoolkit.googleapis.com"
        );
        assert_eq!(
            e.secure_token,
            "http://127.0.0.1:9099/securetoken.googleapis.com"
        );
        assert_eq!(e.firestore, "http://127.0.0.1:8080");
        assert_eq!(e.api, "http://127.0.0.1:4000/api");
        let insecure = Endpoints::emulators(
            "http://127.0.0.1:9099",
            "http://example.com",
            "http://127.0.0.1:4000",
        );
        assert_eq!(insecure.unwrap_err().code(), "config.insecure_url");
    }

    #[test]
    fn validate_rejects_a_hand_built_insecure_endpoint_or_a_query() {
        let mut e = Endpoints::local("http://127.0.0.1:4000").unwrap();
        e.api = "http://api.cleomai.com".into();
        assert_eq!(e.validate().unwrap_err().code(), "config.insecure_url");
        e.api = "https://api.cleomai.com?key=x".into();
        assert_eq!(e.validate().unwrap_err().code(), "config.invalid_url");
    }
}
