//! Out-of-court disputes (DSA Art. 21): recorded against the appeal they contest, counted in
//! the transparency report.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::entity::out_of_court_dispute::{self, Entity as Disputes};
use crate::error::EngineError;
use crate::repo::appeals;

#[derive(Debug, Clone, PartialEq)]
pub struct NewDispute {
    pub appeal_id: Uuid,
    /// The certified settlement body that took the dispute.
    pub settlement_body: String,
    pub submitted_at: DateTime<Utc>,
}

/// Records a dispute about an existing appeal.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    dispute: NewDispute,
    now: DateTime<Utc>,
) -> Result<Uuid, EngineError> {
    if dispute.settlement_body.trim().is_empty() {
        return Err(EngineError::InvalidInput(
            "a dispute needs the name of its settlement body".to_owned(),
        ));
    }
    appeals::find(conn, dispute.appeal_id).await?;
    let id = Uuid::now_v7();
    Disputes::insert(out_of_court_dispute::ActiveModel {
        id: Set(id),
        appeal_id: Set(dispute.appeal_id),
        settlement_body: Set(dispute.settlement_body.trim().to_owned()),
        outcome: Set(None),
        submitted_at: Set(dispute.submitted_at),
        resolved_at: Set(None),
        recorded_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}
