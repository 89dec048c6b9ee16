//! A whole app session through `cleom_core` — sign up, generate, sync until the clip is done,
//! download it, delete the account — with everything this process logs captured at TRACE
//! (the core, the local backend or the API in front of the emulators, reqwest and hyper), then
//! searched for the password, the tokens and the media signature.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cleom_core::device::Device;
use cleom_core::keychain::{self, memory::MemoryKeychain, Keychain as _};
use cleom_core::model::{Settings, Status};
use cleom_core::paths::DataDir;
use cleom_core::remote::cleom_api::MAX_CLIP_BYTES;
use cleom_core::secret::SecretString;

use crate::support::{check, check_eq, logs, unique_email, wait_for, Outcome};
use crate::targets::Target;

type Failure = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "a very secret passphrase 9981";

pub async fn a_full_app_session_logs_no_secret(t: Arc<Target>) -> Outcome {
    let dir = tempfile::tempdir()?;
    logs::start();
    let session = full_session(&t, dir.path()).await;
    let captured = logs::stop();
    let secrets = session?;

    check!(
        captured.lines().count() > 20 && captured.contains("request"),
        "the capture saw the session ({} lines)",
        captured.lines().count()
    );
    let refresh_token = &secrets[1].1;
    check!(
        !token_like_runs(refresh_token).is_empty(),
        "the detector below recognises this target's tokens"
    );
    for (what, secret) in &secrets {
        // Never print the secret itself: the test output is a log too.
        check!(
            !captured.contains(secret.as_str()),
            "the logs hold the {what}"
        );
    }
    let suspicious = token_like_runs(&captured);
    check!(
        suspicious.is_empty(),
        "the logs hold {} token-like strings (lines {:?})",
        suspicious.len(),
        suspicious
    );
    Ok(())
}

/// Runs the session; answers the secrets it met, named.
async fn full_session(t: &Target, dir: &Path) -> Result<Vec<(&'static str, String)>, Failure> {
    let keychain = Arc::new(MemoryKeychain::new());
    let device = Device::new(DataDir::at(dir), keychain.clone(), t.remote.clone())?;
    let password = SecretString::new(PASSWORD.to_string());
    let account = device.sign_up(&unique_email("session"), &password).await?;
    let refresh_token = keychain
        .get(&keychain::refresh_token_entry(account.uid()))?
        .ok_or("the refresh token is in the keychain")?
        .expose()
        .clone();

    let generation = account
        .generate("a quiet harbour at dawn", Settings::default())
        .await?;
    let done = wait_for(
        "the clip, through sync",
        Duration::from_secs(30),
        || async {
            account.sync().await.map_err(|e| e.to_string())?;
            let stored = account
                .generation(&generation.id)
                .map_err(|e| e.to_string())?;
            Ok(stored.filter(|g| g.status == Status::Succeeded))
        },
    )
    .await?;
    let clip = done.output_url.clone().ok_or("an output URL")?;
    let media_token = clip
        .rsplit('/')
        .nth(1)
        .ok_or("a media token in the URL")?
        .to_string();
    check!(
        account.thumbnail(&generation.id)?.is_some(),
        "sync fetched the thumbnail"
    );
    t.remote
        .api
        .download(&clip, &dir.join("clip.gif"), MAX_CLIP_BYTES, |_, _| {})
        .await?;

    let receipt = account.delete(&password).await?;
    check_eq!(receipt.removed.generations, 1);
    check!(
        account.profile().is_err(),
        "the account is gone from this device"
    );
    Ok(vec![
        ("password", PASSWORD.to_string()),
        ("refresh token", refresh_token),
        ("media token", media_token),
    ])
}

/// Where `text` holds something shaped like a token: a JWT (`eyJ…`, as the Auth emulator's ID
/// and refresh tokens are) or a long run of letters and digits with capitals (as the local
/// backend's tokens are; hex digests and ids are lower-case or short). Answers line numbers.
fn token_like_runs(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let suspicious = words.into_iter().any(|word| {
            let jwt = word.starts_with("eyJ") && word.len() >= 20;
            let run = word
                .split(['-', '_'])
                .any(|part| part.len() >= 40 && part.bytes().any(|b| b.is_ascii_uppercase()));
            jwt || run
        });
        if suspicious {
            lines.push(number + 1);
        }
    }
    lines
}
