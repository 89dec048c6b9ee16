//! The app's sync (`cleom_core::sync`) against each target: an initial pull of more than one
//! page, an incremental pull of edits and tombstones, a sync with nothing new that stops at the
//! profile, and an action from the outbox reaching the store.

use std::sync::Arc;

use cleom_core::device::Device;
use cleom_core::keychain::memory::MemoryKeychain;
use cleom_core::model::{Generation, Mode, Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::secret::SecretString;
use cleom_core::sync::SyncReport;
use cleom_core::Account;

use crate::support::{check, check_eq, unique_email, Outcome};
use crate::targets::Target;

/// `count` finished generations for the server's history (more than one 500-document page).
fn history(count: usize) -> Vec<Generation> {
    (0..count)
        .map(|i| Generation {
            id: format!("hist{i:05}"),
            prompt: format!("history {i}: a paper lantern over dark water"),
            mode: Mode::TextToVideo,
            settings: Settings::default(),
            references: Vec::new(),
            status: Status::Succeeded,
            progress: 1.0,
            credits_charged: 350,
            output_url: None,
            thumbnail_url: None,
            error: None,
            created_at: format!(
                "2026-01-01T{:02}:{:02}:{:02}Z",
                i / 3600,
                i / 60 % 60,
                i % 60
            ),
            updated_at: "2026-01-01T00:00:00Z".into(),
            deleted: false,
            deleted_at: None,
        })
        .collect()
}

fn count(account: &Account) -> Result<usize, cleom_core::Error> {
    let mut n = 0;
    let mut before = None;
    loop {
        let page = account.library(500, before.as_ref())?;
        n += page.items.len();
        match page.next {
            Some(next) => before = Some(next),
            None => return Ok(n),
        }
    }
}

pub async fn pull_is_paged_incremental_and_stops_at_the_profile(t: Arc<Target>) -> Outcome {
    let dir = tempfile::tempdir()?;
    let device = Device::new(
        DataDir::at(dir.path()),
        Arc::new(MemoryKeychain::new()),
        t.remote.clone(),
    )?;
    let password = SecretString::new("a long enough password".into());
    let account = device.sign_up(&unique_email("sync"), &password).await?;
    let uid = account.uid().to_string();
    // The API creates the profile on first use (the Auth emulator knows nothing of it): one
    // generation, canceled at once so that the worker changes nothing later.
    let first = account
        .generate("a first clip", Settings::default())
        .await?;
    let token = t
        .remote
        .auth
        .sign_in(account.email(), &password)
        .await?
        .id_token;
    t.remote.api.cancel(&first.id, &token).await?;
    account.sync().await?;
    check_eq!(count(&account)?, 1);

    let mut server = history(620);
    t.backend().put_generations(&uid, &server).await?;
    let report = account.sync().await?;
    check_eq!(report.generations, 620);
    check_eq!(count(&account)?, 621);

    // Three edits and two tombstones: only those five come down.
    for g in &mut server[10..13] {
        g.prompt = format!("{} (edited)", g.prompt);
    }
    for g in &mut server[20..22] {
        g.deleted = true;
    }
    let changed: Vec<Generation> = server[10..13]
        .iter()
        .chain(&server[20..22])
        .cloned()
        .collect();
    t.backend().put_generations(&uid, &changed).await?;
    let report = account.sync().await?;
    check_eq!(report.generations, 5);
    check_eq!(count(&account)?, 619);
    let edited = account
        .generation("hist00011")?
        .ok_or("hist00011 is kept")?;
    check!(edited.prompt.ends_with("(edited)"), "{}", edited.prompt);
    check!(
        account.generation("hist00020")?.is_none(),
        "a tombstone removes the row"
    );

    // Nothing new: the profile says so and nothing else is read.
    check_eq!(account.sync().await?, SyncReport::default());

    // A delete from the outbox reaches the store as a tombstone.
    check_eq!(account.delete_generations(&["hist00030".to_string()])?, 1);
    let report = account.sync().await?;
    check_eq!(report.sent, 1);
    let document = t
        .remote
        .firestore
        .get(&format!("users/{uid}/generations/hist00030"), &t.admin)
        .await?
        .ok_or("the tombstone stays on the server")?;
    let stored = cleom_core::remote::documents::generation_from_document(&document)?;
    check!(stored.deleted, "the server holds a tombstone");
    check_eq!(count(&account)?, 618);
    Ok(())
}
