//! The composer's requests: the served price list (remembered for estimates offline), an
//! estimate for every Studio setting, generating a clip, and the unsent draft's limit.
//!
//! Generating is local-first like everything else: a request that cannot be delivered (no
//! connection, a busy server) is not an error but waits in the outbox under its own id, shown as
//! queued, so sending it later can never charge twice; only a refusal is an error.

use crate::error::{Error, Result};
use crate::local_copy::LocalCopy;
use crate::model::{self, Generation, GenerationRequest, Mode, Reference, Settings};
use crate::pricing::{Estimate, PricingTable};
use crate::remote::Remote;
use crate::session::Session;
use crate::store::new_client_id;

/// The store's `sync_state` key under which the last pricing table served is kept, so estimates
/// work offline.
const PRICING_KEY: &str = "pricing-table";

/// The store's `sync_state` key under which the Studio's unsent draft is kept: it is private text
/// (a prompt), so it lives in the encrypted store and never in a plain file.
pub(crate) const DRAFT_KEY: &str = "studio-draft";

/// The largest draft the Studio may keep (a prompt of 4,000 characters and its settings fit
/// many times over); anything bigger is refused rather than stored.
pub const MAX_DRAFT_BYTES: usize = 64 * 1024;

/// Refuses (`request.invalid`) a draft larger than [`MAX_DRAFT_BYTES`].
pub fn check_draft(draft: &str) -> Result<()> {
    if draft.len() > MAX_DRAFT_BYTES {
        return Err(Error::InvalidInput(
            "The draft is too large to keep.".into(),
        ));
    }
    Ok(())
}

/// What became of a generation request.
pub(crate) enum Generated {
    /// The Cleom API accepted it: the generation as it answered.
    Sent(Generation),
    /// Not delivered: queued in the outbox; the placeholder shows as queued meanwhile.
    Queued(Generation),
}

/// The composer's work for one account, over the parts it needs.
pub(crate) struct Studio<'a> {
    pub(crate) local: &'a LocalCopy,
    pub(crate) session: &'a Session,
    pub(crate) remote: &'a Remote,
}

impl Studio<'_> {
    /// The served pricing table, refreshed when online and remembered for offline estimates.
    pub(crate) async fn pricing(&self) -> Result<PricingTable> {
        match self.remote.api.pricing().await {
            Ok(table) => {
                let json = serde_json::to_string(&table)
                    .map_err(|e| Error::InvalidInput(e.to_string()))?;
                self.local
                    .with_store(|s| Ok(s.set_cursor(PRICING_KEY, &json)?))?;
                Ok(table)
            }
            Err(e) => {
                let e = Error::from(e);
                if e.is_offline() {
                    self.saved_pricing()
                } else {
                    Err(e)
                }
            }
        }
    }

    fn saved_pricing(&self) -> Result<PricingTable> {
        let saved = self.local.with_store(|s| Ok(s.cursor(PRICING_KEY)?))?;
        saved
            .and_then(|json| serde_json::from_str(&json).ok())
            .ok_or(Error::PricingUnavailable)
    }

    /// The price of `settings` with `references` attached: the mode they imply is priced too,
    /// exactly as the Cleom API will charge it.
    pub(crate) async fn estimate(
        &self,
        settings: &Settings,
        references: &[Reference],
    ) -> Result<Estimate> {
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let mode = Mode::detect(references).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let table = match self.saved_pricing() {
            Ok(table) => table,
            Err(_) => self.pricing().await?,
        };
        table
            .estimate(mode, settings)
            .map_err(|e| Error::InvalidInput(e.to_string()))
    }

    /// Asks the Cleom API for a new clip, after checking the prompt, the settings and the
    /// balance last synced. The id is chosen here, so a retried request is recognised by the
    /// server and never charged twice.
    pub(crate) async fn generate(
        &self,
        prompt: &str,
        settings: Settings,
        references: Vec<Reference>,
    ) -> Result<Generated> {
        model::validate_prompt(prompt).map_err(|e| Error::InvalidInput(e.to_string()))?;
        settings
            .validate()
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let estimate = self.estimate(&settings, &references).await?;
        if let Some(profile) = self.local.with_store(|s| Ok(s.profile()?))? {
            if estimate.total > profile.credit_balance {
                return Err(Error::InsufficientCredits {
                    needed: estimate.total,
                    balance: profile.credit_balance,
                });
            }
        }
        let request = GenerationRequest {
            id: new_client_id(),
            prompt: prompt.to_string(),
            settings,
            references,
        };
        let api = &self.remote.api;
        let sent = self
            .session
            .authorized(|token| {
                let request = &request;
                async move { Ok(api.create_generation(request, &token).await?) }
            })
            .await;
        match sent {
            Ok(generation) => {
                self.local
                    .with_store(|s| Ok(s.upsert_generations(std::slice::from_ref(&generation))?))?;
                Ok(Generated::Sent(generation))
            }
            // Not refused, just not delivered: the request waits in the outbox.
            Err(Error::Remote(e)) if e.is_transient() => {
                let placeholder = queued_placeholder(&request, &crate::now_rfc3339())?;
                self.local
                    .with_store(|s| Ok(s.enqueue_generation(&request, &placeholder)?))?;
                Ok(Generated::Queued(placeholder))
            }
            Err(e) => Err(e),
        }
    }
}

/// How a request waiting in the outbox shows in the Library until it is sent: queued, nothing
/// charged, made `now`.
fn queued_placeholder(request: &GenerationRequest, now: &str) -> Result<Generation> {
    Ok(Generation {
        id: request.id.clone(),
        prompt: request.prompt.clone(),
        mode: Mode::detect(&request.references).map_err(|e| Error::InvalidInput(e.to_string()))?,
        settings: request.settings.clone(),
        references: request.references.clone(),
        status: model::Status::Queued,
        progress: 0.0,
        credits_charged: 0,
        output_url: None,
        thumbnail_url: None,
        error: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
        deleted: false,
        deleted_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_is_kept_up_to_its_limit() {
        check_draft("").unwrap();
        check_draft(&"x".repeat(MAX_DRAFT_BYTES)).unwrap();
        // Bytes, not characters: 2-byte characters reach the limit at half the count.
        check_draft(&"é".repeat(MAX_DRAFT_BYTES / 2)).unwrap();
        assert_eq!(
            check_draft(&"é".repeat(MAX_DRAFT_BYTES / 2 + 1))
                .unwrap_err()
                .code(),
            "request.invalid"
        );
        assert_eq!(
            check_draft(&"x".repeat(MAX_DRAFT_BYTES + 1))
                .unwrap_err()
                .code(),
            "request.invalid"
        );
    }

    #[test]
    fn a_request_waiting_to_be_sent_shows_queued_with_its_mode_and_nothing_charged() {
        let image = Reference {
            name: "dawn.png".into(),
            kind: model::ReferenceKind::Image,
            size_bytes: 1_000,
        };
        let request = GenerationRequest {
            id: "req-1".into(),
            prompt: "a fox at dawn".into(),
            settings: Settings::default(),
            references: vec![image],
        };
        let shown = queued_placeholder(&request, "2026-12-02T03:00:00Z").unwrap();
        assert_eq!(
            shown.id, "req-1",
            "the request's own id, so the answer replaces it"
        );
        assert_eq!(shown.mode, Mode::ImageToVideo);
        assert_eq!(shown.status, model::Status::Queued);
        assert_eq!(shown.credits_charged, 0);
        assert_eq!(shown.created_at, "2026-12-02T03:00:00Z");
        assert_eq!(shown.references, request.references);

        let mut too_many = request.clone();
        too_many.references = vec![request.references[0].clone(); model::MAX_REFERENCE_IMAGES + 1];
        assert_eq!(
            queued_placeholder(&too_many, "2026-12-02T03:00:00Z")
                .unwrap_err()
                .code(),
            "request.invalid"
        );
    }
}
