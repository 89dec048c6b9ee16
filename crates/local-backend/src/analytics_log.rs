//! The anonymous analytics reports kept in memory, bounded in count and bytes.
//!
//! Why bounded: `POST /api/v1/analytics` needs no sign-in, so any local process (or web page)
//! can post reports; kept without bound they would grow the app's memory for as long as it runs.
//! The oldest are dropped first rather than new ones refused, so a flood cannot keep the
//! latest genuine report out. A report larger than [`MAX_REPORT_BYTES`] — a genuine one is a
//! few hundred bytes — is refused outright.

use std::collections::VecDeque;

use crate::{ANALYTICS_KEPT_BYTES, ANALYTICS_KEPT_REPORTS};

/// The largest report body accepted.
pub(crate) const MAX_REPORT_BYTES: usize = 4 * 1024;

/// The reports kept, oldest first, each with its size in bytes (its compact JSON).
#[derive(Debug, Default)]
pub(crate) struct AnalyticsLog {
    reports: VecDeque<(serde_json::Value, usize)>,
    bytes: usize,
}

impl AnalyticsLog {
    /// Keeps `report`, dropping the oldest reports until both bounds hold again.
    pub(crate) fn push(&mut self, report: serde_json::Value) {
        let size = report.to_string().len();
        self.reports.push_back((report, size));
        self.bytes += size;
        while self.reports.len() > ANALYTICS_KEPT_REPORTS || self.bytes > ANALYTICS_KEPT_BYTES {
            let Some((_, dropped)) = self.reports.pop_front() else {
                break;
            };
            self.bytes -= dropped;
        }
    }

    /// The reports kept, oldest first.
    pub(crate) fn reports(&self) -> Vec<serde_json::Value> {
        self.reports.iter().map(|(r, _)| r.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_oldest_reports_go_first_when_a_bound_is_reached() {
        let mut log = AnalyticsLog::default();
        for i in 0..ANALYTICS_KEPT_REPORTS + 10 {
            log.push(json!({ "n": i }));
        }
        let kept = log.reports();
        assert_eq!(kept.len(), ANALYTICS_KEPT_REPORTS);
        assert_eq!(kept[0]["n"], 10);

        let mut log = AnalyticsLog::default();
        let big = "x".repeat(MAX_REPORT_BYTES - 100);
        for i in 0..ANALYTICS_KEPT_BYTES / big.len() + 5 {
            log.push(json!({ "n": i, "pad": big }));
        }
        assert!(log.bytes <= ANALYTICS_KEPT_BYTES);
        assert_eq!(
            log.bytes,
            log.reports()
                .iter()
                .map(|r| r.to_string().len())
                .sum::<usize>()
        );
    }
}
