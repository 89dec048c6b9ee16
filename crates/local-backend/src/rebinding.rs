//! The DNS-rebinding defence: which `Host` and `Origin` headers the backend answers.
//!
//! Why: any web page the user opens can make the browser send requests to a loopback port. A
//! page of its own origin cannot read the answers, unless it rebinds its own name to
//! `127.0.0.1` — then the browser sends `Host: evil.example:PORT`, which is refused here. A page
//! that calls `http://127.0.0.1:PORT` directly is told apart by its `Origin`. The app and the
//! CLI talk to the backend from Rust (reqwest: `Host: 127.0.0.1:PORT`, no `Origin`); the app's
//! window never loads from it (its CSP forbids it), so only the app's own origins are allowed
//! besides none.

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The `Host` is missing or not a loopback name with this backend's port: 421.
    ForeignHost,
    /// A browser `Origin` other than the app's own: 403.
    ForeignOrigin,
}

/// The origins of the app's own window (Tauri's custom scheme, and its Windows form).
const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// Whether a request with these headers is refused, for a backend listening on `port`.
pub(crate) fn refusal(host: Option<&[u8]>, origin: Option<&[u8]>, port: u16) -> Option<Refusal> {
    let host_is_local = host
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| h.rsplit_once(':'))
        .is_some_and(|(name, p)| {
            p.parse::<u16>() == Ok(port)
                && ["127.0.0.1", "localhost", "[::1]"]
                    .iter()
                    .any(|local| name.eq_ignore_ascii_case(local))
        });
    if !host_is_local {
        return Some(Refusal::ForeignHost);
    }
    match origin {
        None => None,
        Some(o) if APP_ORIGINS.iter().any(|app| o == app.as_bytes()) => None,
        Some(_) => Some(Refusal::ForeignOrigin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_on_the_port_and_the_apps_origins_pass() {
        let r = |host: &str, origin: Option<&str>| {
            refusal(Some(host.as_bytes()), origin.map(str::as_bytes), 4000)
        };
        assert_eq!(r("127.0.0.1:4000", None), None);
        assert_eq!(r("LOCALHOST:4000", None), None);
        assert_eq!(r("[::1]:4000", Some("tauri://localhost")), None);
        assert_eq!(r("127.0.0.1:4001", None), Some(Refusal::ForeignHost));
        assert_eq!(r("127.0.0.1", None), Some(Refusal::ForeignHost));
        assert_eq!(r("evil.example:4000", None), Some(Refusal::ForeignHost));
        assert_eq!(r("127.0.0.1.evil:4000", None), Some(Refusal::ForeignHost));
        assert_eq!(refusal(None, None, 4000), Some(Refusal::ForeignHost));
        assert_eq!(
            r("127.0.0.1:4000", Some("http://evil.example")),
            Some(Refusal::ForeignOrigin)
        );
        assert_eq!(
            r("127.0.0.1:4000", Some("null")),
            Some(Refusal::ForeignOrigin)
        );
    }
}
