//! What the contract tests share: their result type and checks, unique names, polling, the log
//! capture for the secrets test, and a minimal HTTP request for the emulators' own endpoints.

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use cleom_core::remote::RemoteError;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A test's result: `Err` carries the reason it failed.
pub type Outcome = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Fails the test with a message (and where) unless `cond` holds.
macro_rules! check {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!("{} ({}:{})", format!($($message)+), file!(), line!()).into());
        }
    };
}

/// Fails the test unless both sides are equal, showing both.
macro_rules! check_eq {
    ($left:expr, $right:expr) => {
        check_eq!($left, $right, "")
    };
    ($left:expr, $right:expr, $($message:tt)+) => {
        // A `match` keeps temporaries in the operands alive, as `assert_eq!` does.
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(format!(
                        "{:?} != {:?} {} ({}:{})",
                        left,
                        right,
                        format!($($message)+),
                        file!(),
                        line!()
                    )
                    .into());
                }
            }
        }
    };
}

pub(crate) use {check, check_eq};

/// Passes when `result` is the error with `code` (a `RemoteError` or `cleom_core::Error` code).
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, RemoteError>, code: &str) -> Outcome {
    match result {
        Err(e) if e.code() == code => Ok(()),
        Err(e) => Err(format!("expected {code}, got {}: {e}", e.code()).into()),
        Ok(value) => Err(format!("expected {code}, got Ok({value:?})").into()),
    }
}

/// An email address no other test (or earlier run against the same emulator) has used.
pub fn unique_email(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{tag}-{nanos}-{n}@example.com")
}

/// An RFC 3339 UTC time (`…T12:00:00Z`, `…T12:00:00.5Z`, as servers write them with 0 to 9
/// fractional digits) as something that orders by instant: the text would not.
pub fn instant(time: &str) -> (String, u32) {
    let time = time.trim_end_matches('Z');
    match time.split_once('.') {
        Some((seconds, fraction)) => {
            let digits: String = fraction
                .chars()
                .chain("000000000".chars())
                .take(9)
                .collect();
            (seconds.to_string(), digits.parse().unwrap_or(0))
        }
        None => (time.to_string(), 0),
    }
}

/// Polls `probe` every 100 ms until it answers `Some`, for at most `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = probe().await? {
            return Ok(value);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One HTTP/1.1 request to a loopback server (`base` is `http://127.0.0.1:PORT`); answers the
/// status. For the emulators' own reset and readiness endpoints, which the app never calls.
/// Only the status line is read (the Firestore emulator keeps connections open regardless of
/// `Connection: close`), and the whole exchange is bounded in time.
pub async fn raw_request(base: &str, method: &str, path: &str) -> std::io::Result<u16> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http://host:port bases"))?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 512];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
        let head = String::from_utf8_lossy(&answer).to_string();
        head.split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| std::io::Error::other("no answer within 10 s"))?
}

/// Everything logged by this process (core, local backend, reqwest/hyper through `log`), at
/// TRACE level, while a capture is on.
pub mod logs {
    use super::*;

    static CAPTURING: AtomicBool = AtomicBool::new(false);
    static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    struct Capture;

    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if CAPTURING.load(Ordering::SeqCst) {
                BUFFER
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Installs the process-wide subscriber (and the `log` bridge, so crates logging through
    /// `log` are captured too). Events are formatted only while capturing.
    pub fn install() {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| Capture)
            // Dynamic: decided per event, never cached per call site (a cached "no" from
            // before a capture started would hide that call site for good).
            .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
                CAPTURING.load(Ordering::SeqCst)
            }));
        if tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .is_err()
        {
            let _ = writeln!(std::io::stderr(), "note: a log subscriber was already set");
        }
    }

    use tracing_subscriber::Layer as _;

    /// Starts capturing, from an empty buffer.
    pub fn start() {
        BUFFER.lock().unwrap_or_else(|p| p.into_inner()).clear();
        CAPTURING.store(true, Ordering::SeqCst);
    }

    /// Stops capturing and answers what was captured.
    pub fn stop() -> String {
        CAPTURING.store(false, Ordering::SeqCst);
        let bytes = std::mem::take(&mut *BUFFER.lock().unwrap_or_else(|p| p.into_inner()));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
