//! What every notice tells the appellant about the case, whatever the channel: the link to
//! the status page with its token, the enforcement the appeal concerns, when a decision is
//! due, and where the person can turn after a decision (DSA Art. 17 and 20).

use redress_core::Notice;
use redress_engine::delivery::DeliveryError;
use redress_engine::transparency::AppellantCase;
use redress_engine::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::mail::deliverer::engine_error;

/// A certified out-of-court dispute settlement body (DSA Art. 21) the appellant may turn to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeSettlementBody {
    pub name: String,
    /// Where the body takes disputes.
    pub url: String,
}

/// What notices need from configuration.
#[derive(Debug, Clone, Default)]
pub struct NoticeSettings {
    /// Where appellants reach this service, without a trailing slash.
    pub public_url: String,
    pub dispute_settlement_bodies: Vec<DisputeSettlementBody>,
}

impl NoticeSettings {
    pub fn new(public_url: &str, bodies: Vec<DisputeSettlementBody>) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            dispute_settlement_bodies: bodies,
        }
    }

    /// The status page of `reference`, opened by `token`.
    pub fn status_link(&self, reference: &str, token: &str) -> String {
        format!("{}/status/{reference}?token={token}", self.public_url)
    }
}

/// The case a notice is about, with its link.
#[derive(Debug, Clone)]
pub struct CaseDetails {
    pub case: AppellantCase,
    /// The status page, `None` when the case has no token (see `Engine::appellant_case`).
    pub status_link: Option<String>,
}

/// The details of `appeal_id`, or `None` for a notice that belongs to no case.
pub async fn case_details(
    engine: &Engine,
    settings: &NoticeSettings,
    appeal_id: Option<Uuid>,
) -> Result<Option<CaseDetails>, DeliveryError> {
    let Some(appeal_id) = appeal_id else {
        return Ok(None);
    };
    let case = engine
        .appellant_case(appeal_id)
        .await
        .map_err(engine_error)?;
    let status_link = case
        .status_token
        .as_deref()
        .map(|token| settings.status_link(&case.reference, token));
    Ok(Some(CaseDetails { case, status_link }))
}

/// Whether `notice` is about a case, and so carries the status link.
pub fn has_case(notice: Notice) -> bool {
    !matches!(notice, Notice::AccountRestored | Notice::AppealRefused)
}
