//! The one HTTP layer under the three clients: timeouts, retries, error mapping, logging.
//!
//! A desktop app lives on flaky networks (laptops sleep, Wi-Fi drops, servers get busy), so
//! transient failures are retried here, in one place for every call, instead of in each
//! caller. The rule is deliberately narrow: a request is replayed only when that cannot do harm.
//! Connection failures, `429` and `503` mean the server did not act, so any request may be
//! replayed; a timeout or another `5xx` may come after the server *did* act, so only requests
//! that are safe to repeat ([`Replay::Safe`]: reads, and writes the server deduplicates, like a
//! generation with its client-chosen id) are replayed then. Other `4xx` answers are final.
//!
//! Logging is at debug level and names the method and path only: query strings can hold the
//! API key, and headers and bodies hold tokens and passwords.
//!
//! Requests to this computer never go through a proxy. reqwest takes one from the environment
//! (`HTTP_PROXY`, `ALL_PROXY`, …) for plain http too, so the local backend's and the emulators'
//! traffic, passwords and tokens in the clear, would otherwise go to whatever such a variable
//! names. Requests off this computer are https and still use the system's proxy settings, as
//! users behind one expect.

use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response};

use super::endpoints::{check_url, is_loopback};
use super::error::from_transport;
use super::RemoteError;

/// Whether a request may be sent again after an answer that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Repeating it changes nothing (a read, an idempotent or deduplicated write).
    Safe,
    /// Repeating it after it took effect would fail or act twice (sign-up, deletes, cancel):
    /// only replayed when the server certainly did not act.
    OnlyIfUnprocessed,
}

/// Why an attempt failed, as far as the retry decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The server answered with a non-success status.
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No connection could be made: the request never reached the server.
    Connect,
    /// The connection broke or timed out after the request was sent.
    AfterSend,
}

/// When and how often to try again. Pure data, so the decision is unit-tested without a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A server's `Retry-After` is honoured up to this long.
    pub max_retry_after: Duration,
    /// No retry starts after this much time has passed since the first attempt.
    pub max_total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
            max_total: Duration::from_secs(45),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retries_done + 1`, or `None` to give up.
    /// `jitter` is a random number in `[0, 1)`: the backoff is spread over its upper half so
    /// that many clients failing together do not come back together.
    pub fn delay(
        &self,
        retries_done: u32,
        failure: Failure,
        replay: Replay,
        jitter: f64,
        elapsed: Duration,
    ) -> Option<Duration> {
        if retries_done >= self.max_retries {
            return None;
        }
        let retry_after = match failure {
            Failure::Connect => None,
            Failure::AfterSend if replay == Replay::Safe => None,
            Failure::AfterSend => return None,
            Failure::Status {
                status: 429 | 503,
                retry_after,
            } => retry_after,
            Failure::Status {
                status: 500..=599, ..
            } if replay == Replay::Safe => None,
            Failure::Status { .. } => return None,
        };
        let exponential = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retries_done))
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut delay = exponential / 2 + exponential.mul_f64(jitter / 2.0);
        if let Some(asked) = retry_after {
            delay = delay.max(asked.min(self.max_retry_after));
        }
        if elapsed.saturating_add(delay) > self.max_total {
            return None;
        }
        Some(delay)
    }
}

/// The seconds form of `Retry-After` (the HTTP-date form is rare for APIs and is ignored).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: &'static str,
}

/// The `User-Agent` of the app's requests.
pub(crate) const APP_USER_AGENT: &str = concat!("cleom-desktop/", env!("CARGO_PKG_VERSION"));

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: APP_USER_AGENT,
        }
    }
}

/// The largest JSON answer read into memory (a page of a few thousand documents fits easily).
const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// Error bodies are read only this far: the code and message are at the start.
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// Where a request goes, which decides the client it is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// To this computer: never through a proxy.
    Loopback,
    /// Off this computer: through the system's proxy, if it has one.
    Network,
}

impl Route {
    fn of(url: &reqwest::Url) -> Route {
        if is_loopback(url) {
            Route::Loopback
        } else {
            Route::Network
        }
    }
}

/// The shared `reqwest::Client`s, one per [`Route`] (a connection pool each), plus the retry
/// policy.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    loopback: reqwest::Client,
    network: reqwest::Client,
    retry: RetryPolicy,
}

impl Http {
    pub fn new(config: HttpConfig) -> Result<Http, RemoteError> {
        Ok(Http {
            loopback: build_client(&config, Route::Loopback)?,
            network: build_client(&config, Route::Network)?,
            retry: config.retry,
        })
    }

    /// The client requests are built with. A built request does not keep its client:
    /// [`Http::send_raw`] sends each one on the client of its [`Route`].
    pub fn client(&self) -> &reqwest::Client {
        &self.loopback
    }

    fn client_for(&self, url: &reqwest::Url) -> &reqwest::Client {
        match Route::of(url) {
            Route::Loopback => &self.loopback,
            Route::Network => &self.network,
        }
    }

    /// Sends with retries and returns the last answer, whatever its status.
    pub async fn send_raw(
        &self,
        request: RequestBuilder,
        replay: Replay,
    ) -> Result<Response, RemoteError> {
        let started = Instant::now();
        let mut retries = 0;
        loop {
            let attempt = request
                .try_clone()
                .ok_or_else(|| {
                    RemoteError::InvalidRequest("the request body cannot be replayed".into())
                })?
                .build()
                .map_err(|e| from_transport(&e))?;
            let method = attempt.method().clone();
            let path = loggable_path(attempt.url());
            tracing::debug!(%method, %path, retries, "request");
            let outcome = self.client_for(attempt.url()).execute(attempt).await;
            let failure = match &outcome {
                Ok(response) if response.status().is_success() => None,
                Ok(response) => Some(Failure::Status {
                    status: response.status().as_u16(),
                    retry_after: retry_after(response),
                }),
                Err(e) if e.is_connect() => Some(Failure::Connect),
                Err(_) => Some(Failure::AfterSend),
            };
            let Some(failure) = failure else {
                return outcome.map_err(|e| from_transport(&e));
            };
            match self.retry.delay(
                retries,
                failure,
                replay,
                rand::random::<f64>(),
                started.elapsed(),
            ) {
                Some(delay) => {
                    tracing::debug!(%method, %path, ?failure, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                    retries += 1;
                }
                None => {
                    tracing::debug!(%method, %path, ?failure, "giving up");
                    return outcome.map_err(|e| from_transport(&e));
                }
            }
        }
    }

    /// Sends with retries; a non-success answer becomes its [`RemoteError`].
    pub async fn send(
        &self,
        request: RequestBuilder,
        replay: Replay,
    ) -> Result<Response, RemoteError> {
        let response = self.send_raw(request, replay).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_from(response).await)
        }
    }

    /// Sends with retries and returns the success body, read whole.
    pub async fn send_bytes(
        &self,
        request: RequestBuilder,
        replay: Replay,
    ) -> Result<Vec<u8>, RemoteError> {
        let response = self.send(request, replay).await?;
        read_body(response, MAX_JSON_BYTES).await
    }

    /// Sends with retries and parses the success body as `T`; `what` names it in errors.
    pub async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
        replay: Replay,
        what: &str,
    ) -> Result<T, RemoteError> {
        let body = self.send_bytes(request, replay).await?;
        serde_json::from_slice(&body).map_err(|e| RemoteError::bad_json(what, &e))
    }
}

/// How long a loopback connection may stay idle in the pool.
const LOOPBACK_POOL_IDLE: Duration = Duration::from_secs(5);

/// The client for `route`: the loopback one ignores every proxy setting, the network one
/// keeps reqwest's default (the system's proxy settings).
fn build_client(config: &HttpConfig, route: Route) -> Result<reqwest::Client, RemoteError> {
    let builder = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .user_agent(config.user_agent)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            // A redirect must not downgrade to plain http off this computer, nor cross between
            // this computer and the network: it stays on the client of the first address, so a
            // hop to loopback would go through the proxy.
            if attempt.previous().len() < MAX_REDIRECTS
                && check_url(attempt.url().as_str()).is_ok()
                && Route::of(attempt.url()) == route
            {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }));
    match route {
        // Idle connections are let go before the local backend's header-read timeout (10 s)
        // closes them, so a request never goes out on a connection closing under it.
        Route::Loopback => builder.no_proxy().pool_idle_timeout(LOOPBACK_POOL_IDLE),
        Route::Network => builder,
    }
    .build()
    .map_err(|_| RemoteError::Unreachable)
}

/// The path of `url` as it is logged. A media URL's path carries its signature (the Cleom API's
/// `/v1/media/{token}/{file}`), so the segment after `media` is replaced by `<redacted>`.
fn loggable_path(url: &reqwest::Url) -> String {
    let mut out = String::new();
    let mut redact_next = false;
    for segment in url.path_segments().into_iter().flatten() {
        out.push('/');
        if redact_next {
            out.push_str("<redacted>");
            redact_next = false;
        } else {
            out.push_str(segment);
            redact_next = segment == "media";
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// The error a non-success answer stands for, from its status and (the start of) its body.
pub(crate) async fn error_from(response: Response) -> RemoteError {
    let status = response.status().as_u16();
    let body = read_prefix(response, MAX_ERROR_BYTES).await;
    RemoteError::from_response(status, &body)
}

/// Reads a body whole, failing with `TooLarge` past `limit` bytes.
pub(crate) async fn read_body(mut response: Response, limit: u64) -> Result<Vec<u8>, RemoteError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(RemoteError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| from_transport(&e))? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(RemoteError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads at most `limit` bytes of a body, ignoring transport errors (it is only for messages).
async fn read_prefix(mut response: Response, limit: u64) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = (limit as usize).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() as u64 >= limit {
            break;
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::test_server::{fast_http, Canned, TestServer};

    const ZERO: Duration = Duration::ZERO;

    fn status(status: u16) -> Failure {
        Failure::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn logged_paths_hide_media_signatures_but_keep_the_rest() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert_eq!(
            loggable_path(&url(
                "http://127.0.0.1:1/api/v1/media/SeCrEt123/clip.gif?x=1"
            )),
            "/api/v1/media/<redacted>/clip.gif"
        );
        assert_eq!(
            loggable_path(&url("https://api.cleomai.com/v1/generations/g1:cancel")),
            "/v1/generations/g1:cancel"
        );
        assert_eq!(loggable_path(&url("https://api.cleomai.com")), "/");
    }

    #[test]
    fn busy_and_unavailable_are_retried_for_every_request() {
        let p = RetryPolicy::default();
        for replay in [Replay::Safe, Replay::OnlyIfUnprocessed] {
            assert!(p.delay(0, status(429), replay, 0.5, ZERO).is_some());
            assert!(p.delay(0, status(503), replay, 0.5, ZERO).is_some());
            assert!(p.delay(0, Failure::Connect, replay, 0.5, ZERO).is_some());
        }
    }

    #[test]
    fn ambiguous_failures_are_retried_only_for_safe_requests() {
        let p = RetryPolicy::default();
        for failure in [status(500), status(502), status(504), Failure::AfterSend] {
            assert!(
                p.delay(0, failure, Replay::Safe, 0.5, ZERO).is_some(),
                "{failure:?}"
            );
            assert_eq!(
                p.delay(0, failure, Replay::OnlyIfUnprocessed, 0.5, ZERO),
                None,
                "{failure:?}"
            );
        }
    }

    #[test]
    fn other_client_errors_are_final() {
        let p = RetryPolicy::default();
        for code in [400, 401, 402, 403, 404, 409, 416] {
            assert_eq!(
                p.delay(0, status(code), Replay::Safe, 0.5, ZERO),
                None,
                "{code}"
            );
        }
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap_and_stop_after_max_retries() {
        let p = RetryPolicy {
            max_total: Duration::from_secs(3600),
            ..RetryPolicy::default()
        };
        let at = |n, jitter| p.delay(n, status(503), Replay::Safe, jitter, ZERO).unwrap();
        // With jitter 1 the delay is the full exponential step.
        assert_eq!(at(0, 1.0), Duration::from_millis(300));
        assert_eq!(at(1, 1.0), Duration::from_millis(600));
        assert_eq!(at(2, 1.0), Duration::from_millis(1200));
        // With jitter 0 it is half of it, never less.
        assert_eq!(at(0, 0.0), Duration::from_millis(150));
        assert!(at(1, 0.3) > at(0, 0.3));
        let many = RetryPolicy {
            max_retries: 50,
            ..p
        };
        assert_eq!(
            many.delay(40, status(503), Replay::Safe, 1.0, ZERO),
            Some(p.max_delay)
        );
        assert_eq!(p.delay(3, status(503), Replay::Safe, 0.5, ZERO), None);
        // A broken random source cannot break the delay.
        assert_eq!(
            p.delay(0, status(503), Replay::Safe, f64::NAN, ZERO),
            Some(Duration::from_millis(150))
        );
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let p = RetryPolicy::default();
        let asked = |secs| Failure::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            p.delay(0, asked(2), Replay::Safe, 0.0, ZERO),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p.delay(0, asked(3600), Replay::Safe, 0.0, ZERO),
            Some(p.max_retry_after)
        );
        // A Retry-After shorter than the backoff does not shorten it.
        assert_eq!(
            p.delay(0, asked(0), Replay::Safe, 1.0, ZERO),
            Some(Duration::from_millis(300))
        );
    }

    #[test]
    fn no_retry_starts_past_the_total_budget() {
        let p = RetryPolicy::default();
        assert!(p
            .delay(1, status(503), Replay::Safe, 0.5, Duration::from_secs(10))
            .is_some());
        assert_eq!(
            p.delay(1, status(503), Replay::Safe, 0.5, p.max_total),
            None
        );
    }

    #[tokio::test]
    async fn a_503_is_retried_until_success() {
        let server = TestServer::start(vec![
            Canned::json(
                503,
                r#"{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}"#,
            ),
            Canned::json(503, "{}"),
            Canned::json(200, r#"{"ok":true}"#),
        ])
        .await;
        let http = fast_http();
        let answer: serde_json::Value = http
            .send_json(http.client().get(server.url("/x")), Replay::Safe, "test")
            .await
            .unwrap();
        assert_eq!(answer["ok"], true);
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn a_400_is_not_retried() {
        let server = TestServer::start(vec![Canned::json(
            400,
            r#"{"error":{"code":400,"message":"EMAIL_EXISTS"}}"#,
        )])
        .await;
        let http = fast_http();
        let e = http
            .send_bytes(http.client().post(server.url("/x")), Replay::Safe)
            .await
            .unwrap_err();
        assert_eq!(e, RemoteError::EmailExists);
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn retries_are_bounded_and_end_with_the_last_error() {
        let server = TestServer::start(vec![Canned::json(500, "{}"); 4]).await;
        let http = fast_http();
        let e = http
            .send_bytes(http.client().get(server.url("/x")), Replay::Safe)
            .await
            .unwrap_err();
        assert_eq!(e, RemoteError::Server(500));
        assert_eq!(server.requests().len(), 4);
    }

    #[tokio::test]
    async fn a_500_is_not_replayed_for_an_unsafe_request() {
        let server = TestServer::start(vec![Canned::json(500, "{}")]).await;
        let http = fast_http();
        let e = http
            .send_bytes(
                http.client().delete(server.url("/x")),
                Replay::OnlyIfUnprocessed,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "server.error");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn retry_after_is_waited_for() {
        let server = TestServer::start(vec![
            Canned::json(429, "{}").header("Retry-After", "1"),
            Canned::json(200, "{}"),
        ])
        .await;
        let http = fast_http();
        let started = Instant::now();
        http.send_bytes(http.client().get(server.url("/x")), Replay::Safe)
            .await
            .unwrap();
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn a_slow_server_times_out() {
        let slow = Canned::json(200, "{}").delayed(Duration::from_secs(3));
        let server = TestServer::start(vec![slow; 4]).await;
        let http = fast_http();
        let e = http
            .send_bytes(
                http.client().get(server.url("/x")),
                Replay::OnlyIfUnprocessed,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "network.timeout");
        // A timeout leaves the effect unknown, so an unsafe request is not replayed.
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_after_retries() {
        let url = TestServer::closed_port_url().await;
        let http = fast_http();
        let e = http
            .send_bytes(http.client().get(url), Replay::OnlyIfUnprocessed)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "network.unreachable");
        assert!(!e.to_string().contains("127.0.0.1"));
    }

    #[tokio::test]
    async fn redirects_are_followed_only_to_acceptable_urls() {
        let target = TestServer::start(vec![Canned::json(200, r#"{"ok":true}"#)]).await;
        let server = TestServer::start(vec![
            Canned::bytes(302, b"").header("Location", &target.url("/y")),
            Canned::bytes(302, b"").header("Location", "http://downgrade.example.com/y"),
            // https, but off this computer: it would continue on the loopback client.
            Canned::bytes(302, b"").header("Location", "https://cleom.invalid/y"),
        ])
        .await;
        let http = fast_http();
        http.send_bytes(http.client().get(server.url("/x")), Replay::Safe)
            .await
            .unwrap();
        assert_eq!(target.requests().len(), 1);
        for _ in 0..2 {
            let e = http
                .send_bytes(http.client().get(server.url("/x")), Replay::Safe)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "server.malformed_response");
        }
    }

    #[tokio::test]
    async fn loopback_requests_skip_the_proxy_that_other_requests_use() {
        let proxy = TestServer::start(vec![Canned::bytes(502, b""); 4]).await;
        let target = TestServer::start(vec![Canned::json(200, "{}")]).await;
        let mut http = fast_http();
        // The network client with a proxy, as reqwest makes it from `HTTPS_PROXY` or `ALL_PROXY`.
        http.network = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(proxy.base()).unwrap())
            .build()
            .unwrap();

        http.send_bytes(http.client().get(target.url("/x")), Replay::Safe)
            .await
            .unwrap();
        assert_eq!(target.requests().len(), 1);
        assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());

        // Off this computer the proxy is used: it is asked for a tunnel to the host.
        http.send_bytes(
            http.client().get("https://cleom.invalid/x"),
            Replay::OnlyIfUnprocessed,
        )
        .await
        .unwrap_err();
        let tunnels = proxy.requests();
        assert!(!tunnels.is_empty());
        for tunnel in tunnels {
            assert_eq!(
                (tunnel.method.as_str(), tunnel.target.as_str()),
                ("CONNECT", "cleom.invalid:443")
            );
        }
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let server = TestServer::start(vec![Canned::json(200, &"x".repeat(100))]).await;
        let http = fast_http();
        let response = http
            .send(http.client().get(server.url("/x")), Replay::Safe)
            .await
            .unwrap();
        assert_eq!(
            read_body(response, 10).await.unwrap_err(),
            RemoteError::TooLarge(10)
        );
    }
}
