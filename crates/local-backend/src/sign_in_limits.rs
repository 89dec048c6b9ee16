//! How many failed sign-ins are allowed: per account, and from all clients together.
//!
//! Why: the password check is deliberately slow, but without a limit any local process (or web
//! page) could still try passwords for an account as fast as the CPU allows. After
//! [`PER_ACCOUNT`] failures for one email within [`WINDOW`], or [`PER_CLIENT`] failures in all
//! within it, sign-ins answer `TOO_MANY_ATTEMPTS_TRY_LATER` as Firebase Auth does — whatever the
//! password, so the limit is not a way to test one either. Every client is on loopback, so "per
//! client" is all of them together. The time is passed in (`now`), so the decision is a pure
//! function of the attempts seen and tests need not wait a minute.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The window failures are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
/// Failures allowed for one email within the window.
pub(crate) const PER_ACCOUNT: usize = 10;
/// Failures allowed for all emails together within the window.
pub(crate) const PER_CLIENT: usize = 100;

/// The failed sign-ins of the last [`WINDOW`]. Its size is bounded: failures are only recorded
/// while fewer than [`PER_CLIENT`] are in the window.
#[derive(Debug, Default)]
pub(crate) struct SignInAttempts {
    by_email: HashMap<String, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

impl SignInAttempts {
    /// Whether a sign-in for `email` may be tried at `now`.
    pub(crate) fn allows(&mut self, email: &str, now: Instant) -> bool {
        self.forget_before(now);
        self.all.len() < PER_CLIENT
            && self
                .by_email
                .get(email)
                .is_none_or(|failures| failures.len() < PER_ACCOUNT)
    }

    /// Records a failed sign-in for `email` at `now`.
    pub(crate) fn failed(&mut self, email: &str, now: Instant) {
        self.all.push_back(now);
        self.by_email
            .entry(email.to_string())
            .or_default()
            .push_back(now);
    }

    /// Forgets `email`'s failures after it signed in.
    pub(crate) fn succeeded(&mut self, email: &str) {
        self.by_email.remove(email);
    }

    fn forget_before(&mut self, now: Instant) {
        let recent = |t: &Instant| now.saturating_duration_since(*t) < WINDOW;
        self.all.retain(recent);
        self.by_email.retain(|_, failures| {
            failures.retain(recent);
            !failures.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_ten_failures_for_a_minute() {
        let mut attempts = SignInAttempts::default();
        let start = Instant::now();
        for i in 0..PER_ACCOUNT {
            assert!(attempts.allows("a@example.com", start), "attempt {i}");
            attempts.failed("a@example.com", start);
        }
        assert!(!attempts.allows("a@example.com", start));
        assert!(!attempts.allows("a@example.com", start + WINDOW - Duration::from_secs(1)));
        assert!(attempts.allows("b@example.com", start));
        assert!(attempts.allows("a@example.com", start + WINDOW));
    }

    #[test]
    fn failures_across_all_accounts_are_limited_too_and_success_forgets_an_account() {
        let mut attempts = SignInAttempts::default();
        let start = Instant::now();
        for i in 0..PER_CLIENT {
            let email = format!("{i}@example.com");
            assert!(attempts.allows(&email, start));
            attempts.failed(&email, start);
        }
        assert!(!attempts.allows("new@example.com", start));
        assert!(attempts.allows("new@example.com", start + WINDOW));

        let mut attempts = SignInAttempts::default();
        for _ in 0..PER_ACCOUNT {
            attempts.failed("a@example.com", start);
        }
        attempts.succeeded("a@example.com");
        assert!(attempts.allows("a@example.com", start));
    }
}
