//! The Cleom API in front of each store: prices, charging exactly once, the worker and its
//! media, cancel and delete with refunds, and the account-deletion cascade.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cleom_core::model::{
    Generation, GenerationRequest, Mode, Reference, ReferenceKind, Resolution, Settings, Status,
};
use cleom_core::pricing::PricingTable;
use cleom_core::remote::auth::AuthSession;
use cleom_core::remote::cleom_api::MAX_CLIP_BYTES;
use cleom_core::remote::firestore::{Document, StructuredQuery, Value, Write};
use cleom_core::secret::SecretString;

use crate::auth::password;
use crate::support::{check, check_eq, expect_code, instant, unique_email, wait_for, Outcome};
use crate::targets::Target;

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn request(id: &str, prompt: &str) -> GenerationRequest {
    GenerationRequest {
        id: id.to_string(),
        prompt: prompt.to_string(),
        settings: Settings::default(),
        references: Vec::new(),
    }
}

fn cost(request: &GenerationRequest) -> Result<i64, Failure> {
    Ok(PricingTable::local_default()
        .estimate(Mode::TextToVideo, &request.settings)?
        .total)
}

async fn new_user(t: &Target, tag: &str) -> Result<AuthSession, Failure> {
    Ok(t.remote
        .auth
        .sign_up(&unique_email(tag), &password())
        .await?)
}

async fn profile(t: &Target, me: &AuthSession) -> Result<Document, Failure> {
    Ok(t.remote
        .firestore
        .get(&format!("users/{}", me.uid), &me.id_token)
        .await?
        .ok_or("the profile")?)
}

async fn balance(t: &Target, me: &AuthSession) -> Result<i64, Failure> {
    match profile(t, me).await?.fields.get("creditBalance") {
        Some(Value::Integer(n)) => Ok(*n),
        other => Err(format!("creditBalance is {other:?}").into()),
    }
}

/// The user's ledger as (reason, amount), sorted by reason (two entries may share a request
/// time), checked to add up to the balance.
async fn ledger(t: &Target, me: &AuthSession) -> Result<Vec<(String, i64)>, Failure> {
    let mut entries: Vec<(String, i64)> = Vec::new();
    let mut balances_after = Vec::new();
    let documents = t
        .remote
        .firestore
        .run_query(
            &format!("users/{}", me.uid),
            &StructuredQuery::from("creditLedger"),
            &me.id_token,
        )
        .await?;
    for d in documents {
        let (
            Some(Value::String(reason)),
            Some(Value::Integer(amount)),
            Some(Value::Integer(after)),
        ) = (
            d.fields.get("reason"),
            d.fields.get("amount"),
            d.fields.get("balanceAfter"),
        )
        else {
            return Err(format!("a malformed ledger entry: {:?}", d.fields).into());
        };
        check!(
            matches!(d.fields.get("createdAt"), Some(Value::Timestamp(_))),
            "a ledger entry without its time"
        );
        entries.push((reason.clone(), *amount));
        balances_after.push(*after);
    }
    entries.sort();
    let total: i64 = entries.iter().map(|e| e.1).sum();
    let balance = balance(t, me).await?;
    check_eq!(
        total,
        balance,
        "the ledger sums to the balance: {entries:?}"
    );
    check!(
        balances_after.contains(&balance),
        "one entry ends at the balance: {balances_after:?}"
    );
    Ok(entries)
}

async fn wait_status(
    t: &Target,
    me: &AuthSession,
    id: &str,
    status: Status,
) -> Result<Generation, Failure> {
    let api = &t.remote.api;
    Ok(wait_for(
        &format!("generation {id} to be {}", status.as_str()),
        Duration::from_secs(30),
        || async {
            let g = api
                .generation(id, &me.id_token)
                .await
                .map_err(|e| e.to_string())?;
            Ok((g.status == status).then_some(g))
        },
    )
    .await?)
}

pub async fn pricing_and_who_may_call(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    check_eq!(
        api.pricing().await?,
        PricingTable::local_default(),
        "the served table"
    );
    let forged = SecretString::new("forged-token".into());
    expect_code(
        api.create_generation(&request("x1", "a fox"), &forged)
            .await,
        "auth.session_expired",
    )?;
    expect_code(api.generation("x1", &forged).await, "auth.session_expired")?;
    // The stores' admin token speaks for nobody here.
    expect_code(
        api.create_generation(&request("x1", "a fox"), &t.admin)
            .await,
        "permission.denied",
    )?;
    expect_code(api.delete_account(&t.admin).await, "permission.denied")?;
    let me = new_user(&t, "caller").await?;
    expect_code(
        api.generation("never-made", &me.id_token).await,
        "not_found",
    )?;
    expect_code(api.cancel("never-made", &me.id_token).await, "not_found")?;
    expect_code(
        api.delete_generation("never-made", &me.id_token).await,
        "not_found",
    )?;
    Ok(())
}

pub async fn a_generation_is_charged_once_per_id(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let me = new_user(&t, "charged").await?;
    let first = request("once-1", "a red fox in the snow");
    let price = cost(&first)?;
    let created = api.create_generation(&first, &me.id_token).await?;
    check_eq!(created.id, "once-1");
    check_eq!(created.credits_charged, price);
    check!(
        matches!(created.status, Status::Queued | Status::Running),
        "{:?}",
        created.status
    );
    check!(!created.created_at.is_empty(), "a creation time");
    check_eq!(balance(&t, &me).await?, 2000 - price);

    // The same request again (a retry after a lost answer) is the same generation, free.
    let again = api.create_generation(&first, &me.id_token).await?;
    check_eq!(again.id, created.id);
    check_eq!(again.created_at, created.created_at);
    check_eq!(balance(&t, &me).await?, 2000 - price, "not charged twice");
    // Four at once with one id: still one charge, and every one answers the generation — also
    // those that read the balance after a twin spent it (a regression: they said "not enough
    // credits").
    let twin = request("once-2", "twins");
    let (a, b, c, d) = tokio::join!(
        api.create_generation(&twin, &me.id_token),
        api.create_generation(&twin, &me.id_token),
        api.create_generation(&twin, &me.id_token),
        api.create_generation(&twin, &me.id_token)
    );
    let ids = [a?.id, b?.id, c?.id, d?.id];
    check!(ids.iter().all(|id| id == "once-2"), "{ids:?}");
    check_eq!(
        balance(&t, &me).await?,
        2000 - 2 * price,
        "concurrent retries are charged once"
    );

    let mut changed = first.clone();
    changed.prompt = "another prompt".into();
    expect_code(
        api.create_generation(&changed, &me.id_token).await,
        "conflict",
    )?;

    let reasons: Vec<(String, i64)> = ledger(&t, &me).await?;
    check_eq!(
        reasons,
        [
            ("generation".to_string(), -price),
            ("generation".to_string(), -price),
            ("signup_grant".to_string(), 2000)
        ],
        "one grant and one charge per generation"
    );
    Ok(())
}

pub async fn invalid_requests_and_insufficient_credits_change_nothing(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let me = new_user(&t, "careful").await?;
    let mut too_long = request("bad-1", "a fox");
    too_long.settings.duration_seconds = 61;
    expect_code(
        api.create_generation(&too_long, &me.id_token).await,
        "request.invalid",
    )?;
    expect_code(
        api.create_generation(&request("bad-2", "   "), &me.id_token)
            .await,
        "request.invalid",
    )?;
    expect_code(
        api.create_generation(&request("bad/3", "a fox"), &me.id_token)
            .await,
        "request.invalid",
    )?;
    let mut mixed = request("bad-4", "a fox");
    mixed.references = vec![
        Reference {
            name: "a.png".into(),
            kind: ReferenceKind::Image,
            size_bytes: 10,
        },
        Reference {
            name: "b.mp4".into(),
            kind: ReferenceKind::Video,
            size_bytes: 10,
        },
    ];
    expect_code(
        api.create_generation(&mixed, &me.id_token).await,
        "request.invalid",
    )?;

    let mut huge = request("big-1", "an epic");
    huge.settings.duration_seconds = 60;
    huge.settings.resolution = Resolution::K4;
    check!(
        cost(&huge)? > 2000,
        "the test needs a price above the grant"
    );
    expect_code(
        api.create_generation(&huge, &me.id_token).await,
        "credits.insufficient",
    )?;
    expect_code(api.generation("big-1", &me.id_token).await, "not_found")?;
    check_eq!(balance(&t, &me).await?, 2000, "nothing charged");
    check_eq!(ledger(&t, &me).await?.len(), 1, "only the grant");
    Ok(())
}

pub async fn the_worker_delivers_media_that_downloads_with_resume(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let me = new_user(&t, "maker").await?;
    api.create_generation(&request("media-1", "a lighthouse at dusk"), &me.id_token)
        .await?;
    let done = wait_status(&t, &me, "media-1", Status::Succeeded).await?;
    check_eq!(done.progress, 1.0);
    check_eq!(done.error, None);
    let clip = done.output_url.clone().ok_or("an output URL")?;
    let poster = done.thumbnail_url.clone().ok_or("a thumbnail URL")?;

    let (mime, png) = api.fetch_bytes(&poster).await?;
    check_eq!(mime, "image/png");
    check!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");

    let dir = tempfile::tempdir()?;
    let whole = dir.path().join("whole.gif");
    let size = api
        .download(&clip, &whole, MAX_CLIP_BYTES, |_, _| {})
        .await?;
    let bytes = std::fs::read(&whole)?;
    check_eq!(bytes.len() as u64, size);
    check!(bytes.starts_with(b"GIF89a"), "a GIF");

    // A download cut short resumes from where it stopped (Range), and ends up identical.
    let partial = dir.path().join("partial.gif");
    std::fs::write(&partial, &bytes[..100])?;
    let mut first_progress = None;
    api.download(&clip, &partial, MAX_CLIP_BYTES, |done, _| {
        first_progress.get_or_insert(done);
    })
    .await?;
    check_eq!(first_progress, Some(100), "resumed at byte 100");
    check!(
        std::fs::read(&partial)? == bytes,
        "the resumed file is the same file"
    );
    // The worker's progress is visible in the synced document too.
    let document = t
        .remote
        .firestore
        .get(
            &format!("users/{}/generations/media-1", me.uid),
            &me.id_token,
        )
        .await?
        .ok_or("the generation document")?;
    check_eq!(
        document.fields.get("status"),
        Some(&Value::String("succeeded".into()))
    );
    Ok(())
}

pub async fn cancel_refunds_once(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let me = new_user(&t, "changed-mind").await?;
    let asked = request("cancel-1", "a slow sunrise");
    let price = cost(&asked)?;
    api.create_generation(&asked, &me.id_token).await?;
    let canceled = api.cancel("cancel-1", &me.id_token).await?;
    check_eq!(canceled.status, Status::Canceled);
    check_eq!(balance(&t, &me).await?, 2000, "refunded");
    expect_code(api.cancel("cancel-1", &me.id_token).await, "conflict")?;
    check_eq!(balance(&t, &me).await?, 2000, "refunded once");
    let reasons: Vec<String> = ledger(&t, &me).await?.into_iter().map(|(r, _)| r).collect();
    check_eq!(reasons, ["generation", "refund", "signup_grant"]);
    // The worker leaves a canceled job alone.
    tokio::time::sleep(crate::targets::JOB_DURATION + Duration::from_millis(500)).await;
    let later = api.generation("cancel-1", &me.id_token).await?;
    check_eq!(later.status, Status::Canceled);
    check_eq!(later.output_url, None);
    check!(price > 0, "a priced generation");
    Ok(())
}

pub async fn deleting_a_generation_leaves_a_tombstone(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let me = new_user(&t, "tidy").await?;
    api.create_generation(&request("del-1", "a passing cloud"), &me.id_token)
        .await?;
    let done = wait_status(&t, &me, "del-1", Status::Succeeded).await?;
    let clip = done.output_url.ok_or("an output URL")?;
    api.delete_generation("del-1", &me.id_token).await?;
    api.delete_generation("del-1", &me.id_token).await?;

    let tombstone = api.generation("del-1", &me.id_token).await?;
    check!(tombstone.deleted, "a tombstone");
    check!(tombstone.deleted_at.is_some(), "with its time");
    check_eq!(tombstone.output_url, None);
    check_eq!(tombstone.thumbnail_url, None);
    check!(
        instant(&tombstone.updated_at) > instant(&done.updated_at),
        "a newer updatedAt, so sync sees it: {} after {}",
        tombstone.updated_at,
        done.updated_at
    );
    let dir = tempfile::tempdir()?;
    expect_code(
        api.download(
            &clip,
            &dir.path().join("gone.gif"),
            MAX_CLIP_BYTES,
            |_, _| {},
        )
        .await,
        "not_found",
    )?;

    // A running one is canceled and refunded on the way.
    api.create_generation(&request("del-2", "a falling leaf"), &me.id_token)
        .await?;
    api.delete_generation("del-2", &me.id_token).await?;
    let gone = api.generation("del-2", &me.id_token).await?;
    check!(gone.deleted && gone.status == Status::Canceled, "{gone:?}");
    let reasons: Vec<String> = ledger(&t, &me).await?.into_iter().map(|(r, _)| r).collect();
    check_eq!(
        reasons,
        ["generation", "generation", "refund", "signup_grant"]
    );
    Ok(())
}

pub async fn deleting_the_account_cascades(t: Arc<Target>) -> Outcome {
    let api = &t.remote.api;
    let fs = &t.remote.firestore;
    let me = new_user(&t, "goodbye").await?;
    let bystander = new_user(&t, "bystander").await?;
    api.create_generation(&request("acct-1", "a last sunset"), &me.id_token)
        .await?;
    let done = wait_status(&t, &me, "acct-1", Status::Succeeded).await?;
    api.create_generation(&request("b-1", "still here"), &bystander.id_token)
        .await?;
    let purchase = BTreeMap::from([
        ("credits".to_string(), Value::Integer(1000)),
        ("amountCents".to_string(), Value::Integer(999)),
        ("currency".to_string(), Value::String("EUR".into())),
    ]);
    fs.commit(
        vec![Write::update(
            format!("users/{}/purchases/p1", me.uid),
            purchase,
        )],
        &t.admin,
    )
    .await?;

    let removed = api.delete_account(&me.id_token).await?;
    check_eq!(removed.generations, 1);
    check_eq!(removed.ledger_entries, 2, "the grant and the charge");
    check_eq!(removed.purchases, 1);
    check_eq!(removed.media_files, 2, "the poster and the clip");
    check!(removed.auth_user, "the Auth user");

    check_eq!(fs.get(&format!("users/{}", me.uid), &t.admin).await?, None);
    for collection in ["generations", "creditLedger", "purchases"] {
        let left = fs
            .run_query(
                &format!("users/{}", me.uid),
                &StructuredQuery::from(collection),
                &t.admin,
            )
            .await?;
        check!(left.is_empty(), "{collection} is empty: {left:?}");
    }
    expect_code(
        t.remote
            .auth
            .sign_in(&me.email.clone().unwrap_or_default(), &password())
            .await,
        "auth.invalid_credentials",
    )?;
    expect_code(
        api.generation("acct-1", &me.id_token).await,
        "auth.session_expired",
    )?;
    let dir = tempfile::tempdir()?;
    let clip = done.output_url.ok_or("an output URL")?;
    expect_code(
        api.download(
            &clip,
            &dir.path().join("gone.gif"),
            MAX_CLIP_BYTES,
            |_, _| {},
        )
        .await,
        "not_found",
    )?;

    // Nothing of anyone else went with it.
    check!(
        balance(&t, &bystander).await? < 2000,
        "the bystander's charge stands"
    );
    check_eq!(api.generation("b-1", &bystander.id_token).await?.id, "b-1");
    Ok(())
}
