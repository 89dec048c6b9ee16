//! Signed-in devices ("session info"): each app reports its session to the Cleom API, the
//! account lists them with when each was first and last seen, and "sign out everywhere else"
//! ends all but the caller's — on the embedded backend and in front of Google's emulators.

use std::sync::Arc;
use std::time::Duration;

use cleom_core::remote::cleom_api::SessionReport;
use cleom_core::remote::firestore::{FieldOp, StructuredQuery, Value};
use cleom_core::remote::RemoteError;
use cleom_core::secret::SecretString;

use crate::auth::password;
use crate::support::{check, check_eq, expect_code, instant, unique_email, Outcome};
use crate::targets::Target;

/// The emulators keep `validSince` and a token's issue time in whole seconds: a token issued
/// in the same second as a revocation would survive it there.
const NEXT_SECOND: Duration = Duration::from_millis(1100);

fn report<'a>(id: &'a str, device_name: &'a str, platform: &'a str) -> SessionReport<'a> {
    SessionReport {
        id,
        device_name,
        platform,
    }
}

pub async fn each_device_reports_its_session_and_the_account_lists_them(t: Arc<Target>) -> Outcome {
    let (auth, api) = (&t.remote.auth, &t.remote.api);
    let email = unique_email("devices");
    let laptop = auth.sign_up(&email, &password()).await?;
    let desk = auth.sign_in(&email, &password()).await?;

    let first = api
        .report_session(
            &report("laptop-1", "Ada's <b>laptop</b>", "linux"),
            &laptop.id_token,
        )
        .await?;
    check_eq!(first.id, "laptop-1");
    check_eq!(first.device_name, "Ada's <b>laptop</b>", "kept as text");
    check_eq!(first.platform, "linux");
    check_eq!(first.first_seen, first.last_seen, "a first report");
    tokio::time::sleep(NEXT_SECOND).await;
    api.report_session(&report("desk-1", "Studio", "macos"), &desk.id_token)
        .await?;
    let again = api
        .report_session(
            &report("laptop-1", "Ada's laptop", "linux"),
            &laptop.id_token,
        )
        .await?;
    check_eq!(again.first_seen, first.first_seen, "first seen stays");
    check!(
        instant(&again.last_seen) > instant(&first.last_seen),
        "last seen moves: {} then {}",
        first.last_seen,
        again.last_seen
    );
    check_eq!(again.device_name, "Ada's laptop", "a renamed computer");

    let listed = api.sessions(&desk.id_token).await?;
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    check_eq!(ids, ["laptop-1", "desk-1"], "the latest seen first");

    // A device that signs out leaves the list (ending it again, or an unknown one, is fine).
    api.report_session(&report("gone-1", "Old laptop", "linux"), &desk.id_token)
        .await?;
    check_eq!(api.sessions(&desk.id_token).await?.len(), 3);
    api.end_session("gone-1", &desk.id_token).await?;
    api.end_session("gone-1", &desk.id_token).await?;
    check_eq!(api.sessions(&desk.id_token).await?.len(), 2);

    // Another account neither sees these nor touches them with the same session id.
    let other = auth
        .sign_up(&unique_email("devices-other"), &password())
        .await?;
    check!(
        api.sessions(&other.id_token).await?.is_empty(),
        "nothing of Ada's"
    );
    api.report_session(&report("laptop-1", "Mallory", "windows"), &other.id_token)
        .await?;
    let ada = api.sessions(&laptop.id_token).await?;
    check_eq!(ada.len(), 2);
    check!(ada.iter().all(|s| s.device_name != "Mallory"), "{ada:?}");

    // Bad reports are refused, a missing sign-in too.
    for bad in [
        report("../x", "x", "linux"),
        report("", "x", "linux"),
        report("ok", "x", "amiga"),
    ] {
        expect_code(
            api.report_session(&bad, &laptop.id_token).await,
            "request.invalid",
        )?;
    }
    expect_code(
        api.sessions(&SecretString::new("not-a-token".into())).await,
        "auth.session_expired",
    )?;
    Ok(())
}

pub async fn signing_out_everywhere_else_ends_every_other_session(t: Arc<Target>) -> Outcome {
    let (auth, api) = (&t.remote.auth, &t.remote.api);
    let email = unique_email("everywhere");
    let here = auth.sign_up(&email, &password()).await?;
    let there = auth.sign_in(&email, &password()).await?;
    let phone = auth.sign_in(&email, &password()).await?;
    api.report_session(&report("here", "Desk", "linux"), &here.id_token)
        .await?;
    api.report_session(&report("there", "Laptop", "windows"), &there.id_token)
        .await?;
    api.report_session(&report("phone", "Tablet", "other"), &phone.id_token)
        .await?;
    tokio::time::sleep(NEXT_SECOND).await;

    // As the app does it: the password checked by a fresh sign-in, the others ended, then a
    // new session for this device.
    let checked = auth.sign_in(&email, &password()).await?;
    check_eq!(
        api.sign_out_other_sessions("here", &checked.id_token)
            .await?,
        2
    );
    // Every token from before the revocation is refused. (Not `checked`'s: on the emulators a
    // token of the revocation's own second stays valid.)
    expect_code(api.sessions(&there.id_token).await, "auth.session_expired")?;
    expect_code(api.sessions(&phone.id_token).await, "auth.session_expired")?;
    let renewed = auth.sign_in(&email, &password()).await?;
    let ids: Vec<String> = api
        .sessions(&renewed.id_token)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    check_eq!(ids, ["here"]);
    api.report_session(&report("here", "Desk", "linux"), &renewed.id_token)
        .await?;

    // An ended session stays ended: Auth refuses its refresh token (Firebase, the embedded
    // backend); where Auth does not (the emulator), the API still answers its report so.
    if t.revokes_refresh_tokens {
        expect_code(
            auth.refresh(&there.refresh_token).await,
            "auth.session_expired",
        )?;
    } else {
        let still = auth.refresh(&there.refresh_token).await?;
        expect_code(
            api.report_session(&report("there", "Laptop", "windows"), &still.id_token)
                .await,
            "auth.session_revoked",
        )?;
    }
    expect_code(
        api.report_session(&report("there", "Laptop", "windows"), &renewed.id_token)
            .await,
        "auth.session_revoked",
    )?;

    // The sessions are the server's: the user's own token cannot read them (nor undo an end).
    let query = StructuredQuery::from("cleomSessions").filter(
        "uid",
        FieldOp::Equal,
        Value::String(here.uid.clone()),
    );
    expect_code(
        t.remote
            .firestore
            .run_query("", &query, &renewed.id_token)
            .await,
        "permission.denied",
    )?;

    // Deleting the account removes its sessions, ended ones included.
    let count = || async {
        let found = t.remote.firestore.run_query("", &query, &t.admin).await?;
        Ok::<usize, RemoteError>(found.len())
    };
    check_eq!(count().await?, 3);
    api.delete_account(&renewed.id_token).await?;
    check_eq!(count().await?, 0, "no session of a deleted account is kept");
    Ok(())
}
