//! Out-of-court disputes (DSA Art. 21): recorded against the appeal they contest, audited
//! with who recorded them, counted in the transparency report.

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::entity::out_of_court_dispute::{self, Entity as Disputes};
use crate::error::EngineError;
use crate::repo::appeals;
use crate::repo::audit::{self, NewAuditEntry};
use crate::text::WithoutNul;

#[derive(Debug, Clone, PartialEq)]
pub struct NewDispute {
    pub appeal_id: Uuid,
    /// The certified settlement body that took the dispute.
    pub settlement_body: String,
    pub submitted_at: DateTime<Utc>,
    /// What the body decided, once it has.
    pub outcome: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl WithoutNul for NewDispute {
    fn without_nul(self) -> Self {
        NewDispute {
            settlement_body: self.settlement_body.without_nul(),
            outcome: self.outcome.without_nul(),
            ..self
        }
    }
}

impl NewDispute {
    fn validate(&self, now: DateTime<Utc>) -> Result<(), EngineError> {
        let invalid = |message: &str| Err(EngineError::InvalidInput(message.to_owned()));
        if self.settlement_body.trim().is_empty() {
            return invalid("a dispute needs the name of its settlement body");
        }
        if self.submitted_at > now {
            return invalid("a dispute cannot be submitted in the future");
        }
        if self.outcome.as_deref().is_some_and(|o| o.trim().is_empty()) {
            return invalid("a dispute outcome must not be blank");
        }
        match (&self.outcome, self.resolved_at) {
            (None, Some(_)) => invalid("a resolved dispute needs its outcome"),
            (_, Some(resolved)) if resolved < self.submitted_at => {
                invalid("a dispute cannot be resolved before it was submitted")
            }
            _ => Ok(()),
        }
    }
}

/// Records a dispute about an existing appeal, and who recorded it in the audit log.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    dispute: NewDispute,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Uuid, EngineError> {
    let dispute = dispute.without_nul();
    let actor = &actor.clone().without_nul();
    dispute.validate(now)?;
    let appeal = appeals::find(conn, dispute.appeal_id).await?;
    let id = Uuid::now_v7();
    let settlement_body = dispute.settlement_body.trim().to_owned();
    let outcome = dispute.outcome.map(|o| o.trim().to_owned());
    // A dispute with an outcome but no date was settled when it is recorded.
    let resolved_at = dispute.resolved_at.or(outcome.as_ref().map(|_| now));
    Disputes::insert(out_of_court_dispute::ActiveModel {
        id: Set(id),
        appeal_id: Set(dispute.appeal_id),
        settlement_body: Set(settlement_body.clone()),
        outcome: Set(outcome.clone()),
        submitted_at: Set(dispute.submitted_at),
        resolved_at: Set(resolved_at),
        recorded_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    audit::record(
        conn,
        NewAuditEntry {
            actor: actor.clone(),
            action: audit::DISPUTE_RECORDED,
            account_id: appeal.appeal.account_id.clone(),
            appeal_id: Some(dispute.appeal_id),
            details: json!({
                "dispute_id": id,
                "reference": appeal.reference,
                "settlement_body": settlement_body,
                "outcome": outcome,
                "submitted_at": dispute.submitted_at,
                "resolved_at": resolved_at,
            }),
        },
        now,
    )
    .await?;
    Ok(id)
}
