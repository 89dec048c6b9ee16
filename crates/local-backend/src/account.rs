//! Deleting an account is a cascade over everything the other modules write (generations,
//! the ledger, purchases, pending jobs, signed-in sessions, media files and the Auth user), in an order that lets a
//! failed deletion simply be asked for again; it sits above them so none of them needs to know
//! about it.

use cleom_core::remote::firestore::Write;
use cleom_core::remote::RemoteError;

use crate::admin_client::AdminClient;
use crate::documents::profile_path;
use crate::generations;
use crate::media;
use crate::sessions;

/// What an account deletion removed.
#[derive(Debug, Default)]
pub(crate) struct Removal {
    pub(crate) generations: u64,
    pub(crate) ledger_entries: u64,
    pub(crate) purchases: u64,
    pub(crate) media_files: u64,
    pub(crate) auth_user: bool,
}

/// Deletes everything of `uid`: media files first (so a failure half way leaves no file that
/// nothing refers to), then every document under `users/{uid}` and the account's pending jobs and sessions,
/// then the Auth user, last, so that a failed deletion can simply be asked for again.
pub(crate) async fn delete_account(
    client: &AdminClient,
    uid: &str,
) -> Result<Removal, RemoteError> {
    let root = profile_path(uid);
    let generations = client.query_all(&root, "generations", None).await?;
    let ledger = client.query_all(&root, "creditLedger", None).await?;
    let purchases = client.query_all(&root, "purchases", None).await?;
    let jobs = generations::jobs_of(client, uid).await?;
    let sessions = sessions::documents_of(client, uid).await?;

    let tokens: Vec<String> = generations.iter().flat_map(media::tokens_of).collect();
    let media_root = client.media_root.clone();
    let media_files = tokio::task::spawn_blocking(move || media::remove_all(&media_root, &tokens))
        .await
        .map_err(|_| RemoteError::Io("the media removal stopped".into()))?;

    let mut names: Vec<String> = generations
        .iter()
        .chain(&ledger)
        .chain(&purchases)
        .chain(&jobs)
        .chain(&sessions)
        .map(|d| d.name.clone())
        .collect();
    names.push(root);
    for chunk in names.chunks(cleom_core::remote::firestore::MAX_COMMIT_WRITES) {
        let deletes = chunk.iter().cloned().map(Write::delete).collect();
        client
            .remote
            .firestore
            .commit(deletes, client.admin())
            .await?;
    }
    let auth_user = client
        .remote
        .auth
        .delete_user_as_admin(uid, client.admin())
        .await?;
    Ok(Removal {
        generations: generations.len() as u64,
        ledger_entries: ledger.len() as u64,
        purchases: purchases.len() as u64,
        media_files,
        auth_user,
    })
}
