//! What the Cleom API and its worker act through: the app's own REST clients
//! (`cleom_core::remote`) for Firebase Auth and Firestore, holding the project's admin
//! credential, plus the folder the media are written to.
//!
//! Why REST and not the SQLite file directly: the same API code then sits in front of either
//! store — the embedded one on this backend's own port, or Google's Auth and Firestore emulators
//! in the contract suite — and every credit movement is an ordinary Firestore `:commit`, so
//! what the API relies on (preconditions, atomic commits, request-time transforms) is exactly
//! what the real Firestore offers and what the contract suite checks against Google's emulator.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use cleom_core::remote::firestore::{
    CommitResult, Direction, Document, FieldOp, Precondition, StructuredQuery, Value, Write,
};
use cleom_core::remote::{Endpoints, Remote, RemoteError};
use cleom_core::secret::SecretString;
use tokio::sync::Notify;

use crate::analytics_log::AnalyticsLog;

/// The `User-Agent` of the API's own calls to the stores, so the embedded backend can tell
/// them from the app's requests when it counts those.
pub(crate) const INTERNAL_USER_AGENT: &str = concat!(
    "cleom-local-backend/",
    env!("CARGO_PKG_VERSION"),
    " (internal)"
);

/// Page size of [`AdminClient::query_all`].
const PAGE: u32 = 500;

pub(crate) struct AdminClient {
    pub(crate) remote: Remote,
    /// The admin bearer token of both stores: `owner` on Google's emulators, a random one only
    /// this process knows when the stores are the embedded ones.
    admin: SecretString,
    /// Bearer tokens with admin rights on the stores: the API refuses them from its callers,
    /// because it acts for a signed-in user, never for "everyone".
    admin_bearers: Vec<SecretString>,
    pub(crate) media_root: PathBuf,
    /// Wakes the worker when a generation is queued.
    pub(crate) jobs: Notify,
    /// The latest anonymous analytics reports received, in order (see `api::analytics`).
    pub(crate) analytics: std::sync::Mutex<AnalyticsLog>,
}

impl AdminClient {
    pub(crate) fn new(
        endpoints: Endpoints,
        admin: SecretString,
        other_admin_bearers: Vec<SecretString>,
        media_root: PathBuf,
    ) -> Result<AdminClient, RemoteError> {
        let remote = Remote::with_user_agent(endpoints, INTERNAL_USER_AGENT)?;
        let mut admin_bearers = other_admin_bearers;
        admin_bearers.push(SecretString::new(admin.expose().clone()));
        Ok(AdminClient {
            remote,
            admin,
            admin_bearers,
            media_root,
            jobs: Notify::new(),
            analytics: std::sync::Mutex::default(),
        })
    }

    pub(crate) fn admin(&self) -> &SecretString {
        &self.admin
    }

    /// Whether `token` is one of the stores' admin tokens.
    pub(crate) fn is_admin_bearer(&self, token: &str) -> bool {
        crate::auth::is_one_of(
            self.admin_bearers.iter().map(|t| t.expose().as_str()),
            token,
        )
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Option<Document>, RemoteError> {
        self.remote.firestore.get(path, &self.admin).await
    }

    /// Commits `writes` atomically as the admin. A commit that changes anything below
    /// `users/{uid}` also moves that profile's `updatedAt` to the commit time (unless it writes
    /// the profile itself, which sets it anyway): a client then learns from the profile alone
    /// whether anything of its account changed, so a sync with nothing new is one request.
    pub(crate) async fn commit(&self, mut writes: Vec<Write>) -> Result<CommitResult, RemoteError> {
        writes.extend(profile_touches(&writes));
        self.remote.firestore.commit(writes, &self.admin).await
    }

    /// Every document of the collection `collection_id` under `parent` (`""` for the root),
    /// optionally only those whose `field` equals `value`, in name order, read page by page.
    pub(crate) async fn query_all(
        &self,
        parent: &str,
        collection_id: &str,
        equal: Option<(&str, Value)>,
    ) -> Result<Vec<Document>, RemoteError> {
        let mut out: Vec<Document> = Vec::new();
        loop {
            let mut query = StructuredQuery::from(collection_id)
                .order_by("__name__", Direction::Ascending)
                .limit(PAGE);
            if let Some((field, value)) = &equal {
                query = query.filter(*field, FieldOp::Equal, value.clone());
            }
            if let Some(last) = out.last() {
                query = query.start_at(vec![Value::Reference(last.name.clone())], false);
            }
            let page = self
                .remote
                .firestore
                .run_query(parent, &query, &self.admin)
                .await?;
            let full = page.len() >= PAGE as usize;
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }
}

/// The writes that move `users/{uid}.updatedAt` to the request time for every account whose
/// subcollections `writes` change and whose profile they do not write.
fn profile_touches(writes: &[Write]) -> Vec<Write> {
    let mut below = BTreeSet::new();
    let mut profiles = BTreeSet::new();
    for write in writes {
        let path = write.path();
        let path = path.split_once("/documents/").map_or(path, |(_, p)| p);
        let mut segments = path.split('/');
        if let (Some("users"), Some(uid)) = (segments.next(), segments.next()) {
            if segments.next().is_some() {
                below.insert(uid);
            } else {
                profiles.insert(uid);
            }
        }
    }
    below
        .difference(&profiles)
        .map(|uid| {
            Write::update(format!("users/{uid}"), BTreeMap::new())
                .mask(Vec::<String>::new())
                .server_time("updatedAt")
                .precondition(Precondition::Exists(true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_below_a_profile_touch_it_once_unless_it_is_written() {
        let fields = BTreeMap::new;
        let writes = [
            Write::update("users/a/generations/g1", fields()),
            Write::update("users/a/creditLedger/l1", fields()),
            Write::delete("projects/p/databases/(default)/documents/users/b/generations/g2"),
            Write::update("users/c", fields()),
            Write::update("users/c/creditLedger/l2", fields()),
            Write::delete("cleomJobs/j1"),
        ];
        let touched: Vec<String> = profile_touches(&writes)
            .iter()
            .map(|w| w.path().to_string())
            .collect();
        assert_eq!(touched, ["users/a", "users/b"]);
    }
}
