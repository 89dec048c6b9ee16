//! Anonymous feature counts, sent only when the user opted in (off by default; the choice is the
//! profile's `analyticsOptIn`, which the user changes in Account & Privacy).
//!
//! What a report holds is exactly [`Feature`]'s names with how many times each was used since
//! the last report, and the app's version: no account id, no email, no prompt, no generation
//! id, no time finer than "the report was sent". The counts live in memory only and are dropped,
//! unsent, whenever the user has not opted in — so with the toggle off no analytics request of
//! any kind leaves the app. The README lists the features.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// What is counted. The names are the report's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// A generation started from the Studio.
    Generate,
    /// A generation composed offline and queued.
    GenerateOffline,
    /// A Library search or filter.
    Search,
    /// A one-click export.
    Export,
    /// Generations deleted from the Library (one per delete action, whatever its size).
    DeleteGenerations,
}

/// One report: counts since the last one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub app_version: &'static str,
    pub counts: BTreeMap<Feature, u64>,
}

/// The counts since the last report.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    counts: Mutex<BTreeMap<Feature, u64>>,
}

impl Counter {
    fn counts(&self) -> std::sync::MutexGuard<'_, BTreeMap<Feature, u64>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn record(&self, feature: Feature) {
        *self.counts().entry(feature).or_default() += 1;
    }

    /// Takes the counts for a report (empty: nothing to send).
    pub(crate) fn take(&self) -> Option<Report> {
        let counts = std::mem::take(&mut *self.counts());
        (!counts.is_empty()).then_some(Report {
            app_version: env!("CARGO_PKG_VERSION"),
            counts,
        })
    }

    /// Forgets the counts (the user has not opted in).
    pub(crate) fn clear(&self) {
        self.counts().clear();
    }

    /// Puts back the counts of a report that could not be sent.
    pub(crate) fn restore(&self, report: Report) {
        let mut counts = self.counts();
        for (feature, n) in report.counts {
            *counts.entry(feature).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_counts_and_the_version_and_nothing_else() {
        let counter = Counter::default();
        assert_eq!(counter.take(), None);
        counter.record(Feature::Search);
        counter.record(Feature::Search);
        counter.record(Feature::Export);
        let report = counter.take().unwrap();
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "appVersion": env!("CARGO_PKG_VERSION"),
                "counts": {"search": 2, "export": 1}
            })
        );
        assert_eq!(counter.take(), None, "taken once");
        counter.restore(report);
        counter.record(Feature::Export);
        assert_eq!(counter.take().unwrap().counts[&Feature::Export], 2);
        counter.record(Feature::Generate);
        counter.clear();
        assert_eq!(counter.take(), None);
    }
}
