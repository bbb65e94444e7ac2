//! The appeals throttle in the write path: a filing gate that refuses the new appeals of a
//! warned account, and an observer of decisions that gives the warning.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redress_core::EventKind;

use super::throttle::{self, Refusal as AuditedRefusal};
use crate::correspondence::{self, Recorded};
use crate::error::EngineError;
use crate::filing::IncomingAppeal;
use crate::hooks::{
    DecisionObserver, FilingGate, FilingRefusal, InTransaction, ProposedCase, RecordedCommand,
    Refusal,
};
use crate::language;
use crate::repo::registry;

/// Refuses a new appeal of an account while its throttle period runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThrottleGate;

#[async_trait]
impl FilingGate for ThrottleGate {
    async fn check(
        &self,
        cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Refusal>, EngineError> {
        let Some(account) = case.account_id else {
            return Ok(None);
        };
        let until = throttle::refused_until(cx.txn, cx.settings, account, cx.now).await?;
        Ok(until.map(|until| {
            Refusal::new(AppealsThrottled {
                account: account.to_owned(),
                until,
            })
        }))
    }
}

/// The account's new appeals are refused until `until`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", throttle::refusal_text(*until))]
pub struct AppealsThrottled {
    pub account: String,
    pub until: DateTime<Utc>,
}

impl AppealsThrottled {
    fn audited<'a>(&'a self, incoming: &'a IncomingAppeal) -> AuditedRefusal<'a> {
        AuditedRefusal {
            account_id: &self.account,
            channel: incoming.channel,
            sender: &incoming.sender,
            until: self.until,
        }
    }
}

#[async_trait]
impl FilingRefusal for AppealsThrottled {
    fn until(&self) -> Option<DateTime<Utc>> {
        Some(self.until)
    }

    async fn record(
        &self,
        cx: &InTransaction<'_>,
        incoming: &IncomingAppeal,
    ) -> Result<(), EngineError> {
        throttle::audit_refusal(cx.txn, self.audited(incoming), cx.now).await
    }

    /// Keeps the message without a case, audits the refusal and tells the sender why; a
    /// redelivered message is neither audited nor answered again.
    async fn answer_unfiled(
        &self,
        cx: &InTransaction<'_>,
        incoming: &IncomingAppeal,
    ) -> Result<bool, EngineError> {
        let recorded =
            correspondence::record_unfiled(cx.txn, incoming, "refused_throttled", cx.now).await?;
        if let Recorded::New(message_id) = recorded {
            throttle::audit_refusal(cx.txn, self.audited(incoming), cx.now).await?;
            let language = refused_language(cx, &self.account, incoming).await?;
            throttle::notify_refusal(
                cx.txn,
                incoming.channel,
                &incoming.sender,
                message_id,
                self.until,
                language,
                cx.now,
            )
            .await?;
        }
        Ok(true)
    }
}

/// The language a refused sender is answered in, decided as a filing would have: the
/// account's locale, the channel's declaration, the text.
async fn refused_language(
    cx: &InTransaction<'_>,
    account: &str,
    incoming: &IncomingAppeal,
) -> Result<Option<String>, EngineError> {
    let locale = registry::find_account(cx.txn, account)
        .await?
        .and_then(|row| row.locale);
    let declared = incoming
        .metadata
        .get(language::LANGUAGE_KEY)
        .and_then(serde_json::Value::as_str);
    Ok(language::decide(locale.as_deref(), declared, &incoming.body).map(|d| d.language))
}

/// Warns the account when an appeal upheld as manifestly unfounded completes a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct WarnAfterUnfoundedAppeals;

#[async_trait]
impl DecisionObserver for WarnAfterUnfoundedAppeals {
    async fn observe(
        &self,
        cx: &InTransaction<'_>,
        recorded: &RecordedCommand<'_>,
    ) -> Result<(), EngineError> {
        if recorded
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Upheld))
        {
            throttle::after_upheld(cx.txn, cx.settings, recorded.appeal, cx.now).await?;
        }
        Ok(())
    }
}
