//! Faults injected into the answers to requests from outside, so tests can show that a client
//! survives what real networks and servers do: errors, rate limits, slow answers, connections
//! dropped in the middle of an answer, answers cut short.
//!
//! Off unless asked for: [`RunningBackend::faults`](crate::RunningBackend::faults) hands out
//! the switch. The API's own calls to the stores are never disturbed — a real Firestore does
//! not fail a commit half-way — only what a client sees.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// One way of answering badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500, without running the request.
    ServerError,
    /// 429 with `Retry-After`, without running the request.
    TooManyRequests { retry_after_seconds: u64 },
    /// Runs the request after this delay (a client with a shorter timeout gives up first).
    Delay(Duration),
    /// Runs the request, sends the first half of the answer, then drops the connection.
    DropMidBody,
    /// Runs the request and answers with only the first half of its body.
    TruncateBody,
}

impl Fault {
    /// Every kind, for random plans.
    pub fn all(delay: Duration) -> [Fault; 5] {
        [
            Fault::ServerError,
            Fault::TooManyRequests {
                retry_after_seconds: 1,
            },
            Fault::Delay(delay),
            Fault::DropMidBody,
            Fault::TruncateBody,
        ]
    }
}

/// The faults still to inject: first those queued, in order, one per request; then, if set, a
/// random one with some probability.
#[derive(Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
}

#[derive(Default)]
struct Plan {
    queue: VecDeque<Fault>,
    random: Option<RandomFaults>,
    injected: u64,
}

struct RandomFaults {
    rate: f64,
    choices: Vec<Fault>,
    rng: StdRng,
}

impl Faults {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next request from outside gets `fault` (after those queued before it).
    pub fn push(&self, fault: Fault) {
        self.plan().queue.push_back(fault);
    }

    /// From now on each request from outside gets one of `choices` with probability `rate`,
    /// drawn from a generator seeded with `seed` (so a failing run can be repeated).
    pub fn random(&self, rate: f64, choices: &[Fault], seed: u64) {
        self.plan().random = Some(RandomFaults {
            rate,
            choices: choices.to_vec(),
            rng: StdRng::seed_from_u64(seed),
        });
    }

    /// No more faults.
    pub fn clear(&self) {
        let mut plan = self.plan();
        plan.queue.clear();
        plan.random = None;
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.plan().injected
    }

    pub(crate) fn next(&self) -> Option<Fault> {
        let mut plan = self.plan();
        let fault = match plan.queue.pop_front() {
            Some(fault) => Some(fault),
            None => plan.random.as_mut().and_then(|random| {
                (!random.choices.is_empty() && random.rng.random_bool(random.rate.clamp(0.0, 1.0)))
                    .then(|| random.choices[random.rng.random_range(0..random.choices.len())])
            }),
        };
        if fault.is_some() {
            plan.injected += 1;
        }
        fault
    }
}

/// The answer for a fault that does not run the request, if `fault` is one.
pub(crate) fn instead_of_running(fault: Fault) -> Option<Response> {
    let error = |status: StatusCode, name: &str| {
        let body = serde_json::json!({
            "error": { "code": status.as_u16(), "message": "injected fault", "status": name }
        });
        (status, axum::Json(body)).into_response()
    };
    match fault {
        Fault::ServerError => Some(error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")),
        Fault::TooManyRequests {
            retry_after_seconds,
        } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "RESOURCE_EXHAUSTED");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            Some(response)
        }
        Fault::Delay(_) | Fault::DropMidBody | Fault::TruncateBody => None,
    }
}

/// Spoils a real answer as `fault` says.
pub(crate) async fn spoil(fault: Fault, response: Response) -> Response {
    if !matches!(fault, Fault::DropMidBody | Fault::TruncateBody) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    if fault == Fault::TruncateBody {
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(half));
    }
    // The full length is announced, half is sent, then the stream fails: the server closes the
    // connection and the client is left with an incomplete answer.
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let chunks: [Result<Bytes, std::io::Error>; 2] = [
        Ok(half),
        Err(std::io::Error::other("injected: connection dropped")),
    ];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)))
}
