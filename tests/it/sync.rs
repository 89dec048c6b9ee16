//! Sync against a real local backend: the outbox (offline actions sent later, refusals kept),
//! two devices of one account converging, a revoked session, a sync with nothing new, faults
//! injected by the backend, and a syncing process killed at random points.

use std::collections::BTreeMap;
use std::path::Path;
#[cfg(unix)]
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cleom_core::device::Device;
use cleom_core::keychain::passphrase::{KdfParams, PassphraseKeychain};
use cleom_core::keychain::{memory::MemoryKeychain, Channel, Keychain};
use cleom_core::model::{Generation, Resolution, Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::{Endpoints, Remote};
use cleom_core::secret::SecretString;
use cleom_core::store::{OutboxAction, OutboxState, ProfileField};
use cleom_core::Account;
use cleom_local_backend::{Fault, RunningBackend};

use crate::support;

const PASSWORD: &str = "a long enough password";

fn password() -> SecretString {
    SecretString::new(PASSWORD.into())
}

/// A device on `data` with a short request timeout (the fault tests delay answers).
fn device(data: &Path, keychain: Arc<dyn Keychain>, url: &str) -> Device {
    let remote =
        Remote::with_request_timeout(Endpoints::local(url).unwrap(), Duration::from_secs(2))
            .unwrap();
    Device::new(DataDir::at(data), keychain, remote).unwrap()
}

/// The cheapest clip: four of them fit in the sign-up credits.
fn short() -> Settings {
    Settings {
        duration_seconds: 5,
        ..Settings::default()
    }
}

fn memory_keychain() -> Arc<dyn Keychain> {
    Arc::new(MemoryKeychain::default())
}

/// What the server holds for `uid`: each generation's id → (`updatedAt`, deleted), read as
/// the admin.
async fn server_generations(url: &str, uid: &str) -> BTreeMap<String, (String, bool)> {
    let remote = Remote::new(Endpoints::local(url).unwrap()).unwrap();
    let admin = SecretString::new(support::ADMIN_TOKEN.into());
    let mut all = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = remote
            .firestore
            .list(
                &format!("users/{uid}/generations"),
                1000,
                token.as_deref(),
                &admin,
            )
            .await
            .unwrap();
        for doc in page.documents {
            let g = cleom_core::remote::documents::generation_from_document(&doc).unwrap();
            all.insert(g.id, (g.updated_at, g.deleted));
        }
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => return all,
        }
    }
}

/// Every generation this device shows: id → `updatedAt`.
fn local_generations(account: &Account) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    let mut before = None;
    loop {
        let page = account.library(500, before.as_ref()).unwrap();
        for item in page.items {
            let g = item.generation;
            assert!(
                all.insert(g.id.clone(), g.updated_at).is_none(),
                "{} listed twice",
                g.id
            );
        }
        match page.next {
            Some(next) => before = Some(next),
            None => return all,
        }
    }
}

/// The live generations of a server listing, as a device should show them.
fn live(server: &BTreeMap<String, (String, bool)>) -> BTreeMap<String, String> {
    server
        .iter()
        .filter(|(_, (_, deleted))| !deleted)
        .map(|(id, (updated, _))| (id.clone(), updated.clone()))
        .collect()
}

/// Syncs until a sync succeeds with nothing left to send; panics after `attempts`.
async fn sync_until_settled(account: &Account, attempts: usize) -> usize {
    for attempt in 1..=attempts {
        if account.sync().await.is_ok() && account.outbox_counts().unwrap().0 == 0 {
            return attempt;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sync did not settle in {attempts} attempts");
}

/// Syncs until no generation is queued or running any more.
async fn sync_until_finished(account: &Account) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        account.sync().await.unwrap();
        if !account.has_active_generations().unwrap() {
            return;
        }
        assert!(Instant::now() < deadline, "generations did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `count` finished generations, created a second apart, for the server's history.
fn history(count: usize) -> Vec<Generation> {
    let newest = 1_767_225_600;
    (0..count)
        .map(|i| {
            crate::seed::generation(
                i,
                newest - i as i64,
                format!("server history {i}: a lantern drifting over a quiet harbour"),
            )
        })
        .collect()
}

async fn started_backend(dir: &Path) -> RunningBackend {
    support::backend(dir, 0).await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_devices_converge_including_changes_made_offline() {
    let backend_dir = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let backend = started_backend(backend_dir.path()).await;
    let port = backend.addr().port();
    let url = backend.base_url();
    let email = support::unique_email("two-devices");

    let a = device(data_a.path(), memory_keychain(), &url)
        .sign_up(&email, &password())
        .await
        .unwrap();
    let uid = a.uid().to_string();
    let mut ids = Vec::new();
    for prompt in [
        "first: a red kite",
        "second: a blue kite",
        "third: a green kite",
    ] {
        ids.push(a.generate(prompt, short()).await.unwrap().id);
    }
    sync_until_finished(&a).await;
    let device_b = device(data_b.path(), memory_keychain(), &url);
    let b = device_b.sign_in(&email, &password()).await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(local_generations(&a), local_generations(&b));
    assert_eq!(local_generations(&b).len(), 3);

    // The server goes away. Each device deletes one generation, and A renames the account:
    // all of it shows at once, and waits.
    backend.shutdown().await;
    assert_eq!(b.delete_generations(&ids[0..1]).unwrap(), 1);
    assert_eq!(a.delete_generations(&ids[1..2]).unwrap(), 1);
    a.set_profile_field(ProfileField::DisplayName(Some("Ada <b>L</b>".into())))
        .unwrap();
    assert_eq!(
        a.delete_generations(&ids[1..2]).unwrap(),
        0,
        "a second delete of the same generation queues nothing"
    );
    assert!(!local_generations(&b).contains_key(&ids[0]));
    assert!(!local_generations(&a).contains_key(&ids[1]));
    assert_eq!(
        a.profile().unwrap().unwrap().display_name.as_deref(),
        Some("Ada <b>L</b>")
    );
    assert_eq!(a.outbox_counts().unwrap(), (2, 0));
    let err = a.sync().await.unwrap_err();
    assert!(err.is_offline(), "{}", err.code());
    assert_eq!(a.outbox_counts().unwrap(), (2, 0), "nothing lost offline");

    // The server is back: both send what waits, and both end with the server's state.
    let backend = support::backend(backend_dir.path(), port).await;
    for _ in 0..2 {
        for account in [&b, &a] {
            let report = account.sync().await.unwrap();
            assert_eq!(report.refused, 0);
        }
    }
    assert_eq!(a.outbox_counts().unwrap(), (0, 0));
    assert_eq!(b.outbox_counts().unwrap(), (0, 0));
    let server = server_generations(&url, &uid).await;
    assert!(
        server[&ids[0]].1 && server[&ids[1]].1,
        "both deletes reached the server"
    );
    let expected = live(&server);
    assert_eq!(expected.len(), 1);
    assert_eq!(local_generations(&a), expected);
    assert_eq!(local_generations(&b), expected);
    assert_eq!(
        b.profile().unwrap().unwrap().display_name.as_deref(),
        Some("Ada <b>L</b>"),
        "the other device sees the new name, exactly as typed"
    );

    // Online: a generation made on B shows on A; deleted on A, it leaves B.
    let fresh = b
        .generate("fourth: a kite in a storm", Settings::default())
        .await
        .unwrap();
    sync_until_finished(&b).await;
    a.sync().await.unwrap();
    assert!(local_generations(&a).contains_key(&fresh.id));
    a.delete_generations(std::slice::from_ref(&fresh.id))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let expected = live(&server_generations(&url, &uid).await);
    assert_eq!(local_generations(&a), expected);
    assert_eq!(local_generations(&b), expected);
    assert!(!expected.contains_key(&fresh.id));
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_with_nothing_new_is_one_request() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let url = backend.base_url();
    let account = device(data.path(), memory_keychain(), &url)
        .sign_up(&support::unique_email("noop"), &password())
        .await
        .unwrap();
    backend
        .put_generations(account.uid(), &history(1200))
        .await
        .unwrap();
    let report = account.sync().await.unwrap();
    assert_eq!(report.generations, 1200);

    for _ in 0..3 {
        let before = backend.request_count();
        let report = account.sync().await.unwrap();
        assert_eq!(report, cleom_core::sync::SyncReport::default());
        assert_eq!(
            backend.request_count() - before,
            1,
            "one request, counted at the backend"
        );
    }

    // One change on the server: the next sync finds it (and only it).
    let mut changed = history(1200).remove(7);
    changed.prompt = "an edited prompt".into();
    backend
        .put_generations(account.uid(), std::slice::from_ref(&changed))
        .await
        .unwrap();
    let report = account.sync().await.unwrap();
    assert_eq!(report.generations, 1);
    assert_eq!(
        account.generation(&changed.id).unwrap().unwrap().prompt,
        "an edited prompt"
    );
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_reports_each_generation_it_saw_finish_once() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let account = device(data.path(), memory_keychain(), &backend.base_url())
        .sign_up(&support::unique_email("finished"), &password())
        .await
        .unwrap();
    let made = account
        .generate_with("a paper boat in the rain", short(), Vec::new())
        .await
        .unwrap();
    let mut finished = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while account.has_active_generations().unwrap() {
        assert!(Instant::now() < deadline, "the generation did not finish");
        finished.extend(account.sync().await.unwrap().finished);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ids: Vec<&str> = finished.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, [made.id.as_str()]);
    assert_eq!(finished[0].status, Status::Succeeded);
    let report = account.sync().await.unwrap();
    assert!(report.finished.is_empty(), "reported once: {report:?}");
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_offline_generation_comes_back_failed_and_is_never_lost() {
    let backend_dir = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let backend = started_backend(backend_dir.path()).await;
    let port = backend.addr().port();
    let url = backend.base_url();
    let email = support::unique_email("refused");
    let a = device(data_a.path(), memory_keychain(), &url)
        .sign_up(&email, &password())
        .await
        .unwrap();
    a.sync().await.unwrap();
    let b = device(data_b.path(), memory_keychain(), &url)
        .sign_in(&email, &password())
        .await
        .unwrap();
    b.sync().await.unwrap();
    let costly = Settings {
        duration_seconds: 15,
        resolution: Resolution::P1080,
        ..Settings::default()
    };
    let cost = a.estimate(&costly).await.unwrap().total;
    assert!(
        cost <= 2000 && 2 * cost > 2000,
        "the test needs {cost} to fit once only"
    );

    // A composes one offline; B spends the credits meanwhile.
    backend.shutdown().await;
    let queued = a
        .generate("offline: a castle of ice", costly.clone())
        .await
        .unwrap();
    assert_eq!(queued.status, Status::Queued);
    let backend = support::backend(backend_dir.path(), port).await;
    b.generate("online: a castle of sand", costly)
        .await
        .unwrap();

    // A's request is refused: it stays, failed, with the server's reason, and the Library shows
    // it failed; nothing was charged for it.
    let report = a.sync().await.unwrap();
    assert_eq!((report.sent, report.refused), (0, 1));
    let outbox = a.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].state, OutboxState::Refused);
    let refusal = outbox[0].refusal.clone().unwrap();
    assert_eq!(refusal.code, "credits.insufficient");
    let shown = a.generation(&queued.id).unwrap().unwrap();
    assert_eq!(shown.status, Status::Failed);
    assert_eq!(shown.error.as_deref(), Some(refusal.message.as_str()));
    assert!(matches!(
        &outbox[0].action,
        OutboxAction::CreateGeneration { request } if request.prompt == "offline: a castle of ice"
    ));
    assert_eq!(a.profile().unwrap().unwrap().credit_balance, 2000 - cost);
    assert!(!server_generations(&url, a.uid())
        .await
        .contains_key(&queued.id));

    // A sync later does not drop it; "retry" sends it again (refused again); "dismiss" removes it.
    a.sync().await.unwrap();
    assert_eq!(a.outbox().unwrap().len(), 1);
    assert!(a.retry_action(outbox[0].seq).unwrap());
    assert_eq!(a.sync().await.unwrap().refused, 1);
    assert!(a.dismiss_action(outbox[0].seq).unwrap());
    assert!(a.outbox().unwrap().is_empty());
    assert!(a.generation(&queued.id).unwrap().is_none());
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_session_keeps_the_history_and_the_outbox() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let url = backend.base_url();
    let email = support::unique_email("revoked");
    let keychain = memory_keychain();
    let this = device(data.path(), keychain.clone(), &url);
    let account = this.sign_up(&email, &password()).await.unwrap();
    backend
        .put_generations(account.uid(), &history(3))
        .await
        .unwrap();
    account.sync().await.unwrap();

    // The password is changed elsewhere: every session of the account is revoked.
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let elsewhere = remote.auth.sign_in(&email, &password()).await.unwrap();
    let new_password = SecretString::new("another long password".into());
    remote
        .auth
        .update_password(&elsewhere.id_token, &new_password)
        .await
        .unwrap();

    let ids: Vec<String> = local_generations(&account).into_keys().collect();
    account.delete_generations(&ids[..1]).unwrap();
    let err = account.sync().await.unwrap_err();
    assert_eq!(err.code(), "auth.session_expired");
    // The app signs out and asks for the password; the history and the outbox stay.
    this.sign_out(&account).unwrap();
    drop(account);
    let again = this.sign_in(&email, &new_password).await.unwrap();
    assert_eq!(local_generations(&again).len(), 2);
    assert_eq!(again.outbox_counts().unwrap(), (1, 0));
    assert_eq!(again.sync().await.unwrap().sent, 1);
    let server = server_generations(&url, again.uid()).await;
    assert!(
        server[&ids[0]].1,
        "the delete made before the sign-in reached the server"
    );
    backend.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_faults_lose_nothing_and_double_nothing() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let url = backend.base_url();
    let account = device(data.path(), memory_keychain(), &url)
        .sign_up(&support::unique_email("faults"), &password())
        .await
        .unwrap();
    let uid = account.uid().to_string();
    let server_history = history(1300);
    backend
        .put_generations(&uid, &server_history)
        .await
        .unwrap();
    account.sync().await.unwrap();

    // Every kind of fault, on about a third of the requests: a sync fails now and then, and
    // each next one picks up where it stopped.
    let faults = backend.faults();
    faults.random(0.35, &Fault::all(Duration::from_secs(3)), 20261130);
    let mut changed: Vec<Generation> = server_history[..400].to_vec();
    for g in &mut changed {
        g.prompt.push_str(" (edited on the server)");
    }
    changed[3].deleted = true;
    backend.put_generations(&uid, &changed).await.unwrap();
    let ids: Vec<String> = server_history[500..505]
        .iter()
        .map(|g| g.id.clone())
        .collect();
    account.delete_generations(&ids).unwrap();
    account
        .set_profile_field(ProfileField::AnalyticsOptIn(true))
        .unwrap();
    let made = account
        .generate("made while the network misbehaves", Settings::default())
        .await
        .unwrap();
    let attempts = sync_until_settled(&account, 80).await;
    eprintln!(
        "faults: settled after {attempts} syncs, {} faults injected",
        faults.injected()
    );
    assert!(faults.injected() > 0);
    faults.clear();
    sync_until_finished(&account).await;

    let server = server_generations(&url, &uid).await;
    for id in &ids {
        assert!(server[id].1, "delete of {id} reached the server");
    }
    assert_eq!(
        local_generations(&account),
        live(&server),
        "exactly the server's state"
    );
    assert!(account
        .generation(&changed[0].id)
        .unwrap()
        .unwrap()
        .prompt
        .ends_with("(edited on the server)"));
    // The generation sent through faults was created and charged exactly once.
    let charges = account
        .ledger()
        .unwrap()
        .iter()
        .filter(|e| e.generation_id.as_deref() == Some(made.id.as_str()))
        .count();
    assert_eq!(charges, 1, "charged once");
    assert!(account.profile().unwrap().unwrap().analytics_opt_in);
    backend.shutdown().await;
}

// --- A syncing process killed at random points ------------------------------------------------

const CHILD_DATA: &str = "CLEOM_SYNC_CHILD_DATA";
const CHILD_URL: &str = "CLEOM_SYNC_CHILD_URL";
const PASSPHRASE: &str = "a passphrase for the killed-sync test";

/// The keys of the killed-sync test live in a passphrase file, which the parent and its child
/// processes share (an in-memory keychain could not be shared; the OS keychain is tested
/// elsewhere). Cheap KDF parameters: this test is about syncing.
fn shared_keychain(data: &Path) -> Arc<dyn Keychain> {
    let keychain = PassphraseKeychain::with_params(
        data.join("keys.json"),
        Channel::Debug,
        KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        },
    );
    let passphrase = SecretString::new(PASSPHRASE.into());
    if keychain.is_set_up() {
        keychain.unlock(&passphrase).unwrap();
    } else {
        keychain.set_up(&passphrase).unwrap();
    }
    Arc::new(keychain)
}

/// Not a test of its own: the syncing process of `a_killed_sync_converges_to_the_server`.
/// Resumes the session on the shared data dir and syncs until there is nothing left.
#[tokio::test(flavor = "multi_thread")]
async fn sync_child() {
    let (Some(data), Ok(url)) = (std::env::var_os(CHILD_DATA), std::env::var(CHILD_URL)) else {
        return;
    };
    let data = Path::new(&data);
    let account = device(data, shared_keychain(data), &url)
        .resume()
        .unwrap()
        .expect("the session resumes");
    loop {
        if account.sync().await.is_ok() {
            println!("synced");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[cfg(unix)]
async fn a_killed_sync_converges_to_the_server() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let url = backend.base_url();
    let device_here = device(data.path(), shared_keychain(data.path()), &url);
    let account = device_here
        .sign_up(&support::unique_email("killed"), &password())
        .await
        .unwrap();
    let uid = account.uid().to_string();
    drop(account);
    let mut server_history = history(4000);
    backend
        .put_generations(&uid, &server_history)
        .await
        .unwrap();

    // Kill points spread over the whole sync, different on every run (the seed is printed).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("killed sync: seed {seed}");
    let rounds = 12;
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sync::sync_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DATA, data.path())
            .env(CHILD_URL, &url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = 100 + (seed + round as u64 * 7_919) % 1_400;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // SIGKILL: no destructor, no flush, no goodbye.
        child.kill().unwrap();
        child.wait().unwrap();
        // The server moves on between rounds: edits, tombstones, new generations.
        let start = (round * 300) % 3500;
        let mut changes: Vec<Generation> = server_history[start..start + 40].to_vec();
        for (i, g) in changes.iter_mut().enumerate() {
            g.prompt = format!("round {round} edit {i}");
            g.deleted = i % 9 == 0;
        }
        backend.put_generations(&uid, &changes).await.unwrap();
        for change in changes {
            let at = server_history
                .iter()
                .position(|g| g.id == change.id)
                .unwrap();
            server_history[at] = change;
        }
    }

    let account = device_here.resume().unwrap().unwrap();
    account.sync().await.unwrap();
    let server = server_generations(&url, &uid).await;
    let local = local_generations(&account);
    assert_eq!(
        local.len(),
        live(&server).len(),
        "nothing lost, nothing doubled"
    );
    assert_eq!(local, live(&server), "exactly the server's state");
    for g in server_history.iter().filter(|g| !g.deleted).take(50) {
        assert_eq!(account.generation(&g.id).unwrap().unwrap().prompt, g.prompt);
    }
    backend.shutdown().await;
}

/// "Delete all history" with 1,200 generations: gone here at once, and on the server after one
/// sync that sends the deletes 499 at a time (3 requests, not 1,200).
#[tokio::test(flavor = "multi_thread")]
async fn deleting_all_history_reaches_the_server_in_batches() {
    let backend_dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let backend = started_backend(backend_dir.path()).await;
    let url = backend.base_url();
    let remote = Remote::new(Endpoints::local(&url).unwrap()).unwrap();
    let account = Device::new(DataDir::at(data.path()), memory_keychain(), remote)
        .unwrap()
        .sign_up(&support::unique_email("delete-all"), &password())
        .await
        .unwrap();
    let uid = account.uid().to_string();
    backend.put_generations(&uid, &history(1200)).await.unwrap();
    account.sync().await.unwrap();
    assert_eq!(local_generations(&account).len(), 1200);

    assert_eq!(account.delete_all_generations().unwrap(), 1200);
    assert!(local_generations(&account).is_empty());
    assert_eq!(account.outbox_counts().unwrap(), (1200, 0));
    let before = backend.request_count();
    let report = account.sync().await.unwrap();
    assert_eq!(report.sent, 1200);
    // 3 batches of deletes, then the pull: the profile, 3 pages of the 1,200 tombstones, the
    // ledger and the purchases.
    let requests = backend.request_count() - before;
    assert_eq!(requests, 3 + 1 + 3 + 1 + 1, "requests for 1,200 deletes");
    assert_eq!(account.outbox_counts().unwrap(), (0, 0));
    let server = server_generations(&url, &uid).await;
    assert_eq!(server.len(), 1200);
    assert!(
        server.values().all(|(_, deleted)| *deleted),
        "all tombstoned"
    );
    assert!(local_generations(&account).is_empty());
    backend.shutdown().await;
}
