//! The appeal window (DSA Art. 20(1)): an enforcement can be appealed for
//! `appeal_window_months` after its notice. A filing gate, so a deployment without the rule
//! simply does not register it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::EngineError;
use crate::hooks::{FilingGate, FilingRefusal, InTransaction, ProposedCase, Refusal};

/// Refuses a new appeal against an enforcement whose window has closed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppealWindow;

#[async_trait]
impl FilingGate for AppealWindow {
    async fn check(
        &self,
        cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Refusal>, EngineError> {
        let Some(enforcement) = case.enforcement else {
            return Ok(None);
        };
        Ok(cx
            .settings
            .appeal_window_closes(enforcement.enforced_at)
            .filter(|closed_at| cx.now > *closed_at)
            .map(|closed_at| {
                Refusal::new(AppealWindowClosed {
                    enforcement: enforcement.id,
                    closed_at,
                    months: cx.settings.appeal_window_months,
                })
            }))
    }
}

/// The enforcement can no longer be appealed; no case is opened and nothing is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the time to appeal enforcement {enforcement} ended on {closed_at}: appeals are accepted for {months} months after the notice")]
pub struct AppealWindowClosed {
    pub enforcement: Uuid,
    pub closed_at: DateTime<Utc>,
    pub months: u32,
}

impl FilingRefusal for AppealWindowClosed {}
