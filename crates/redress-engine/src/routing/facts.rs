//! The facts rules look at, read from what filing already holds and, for the account's
//! context, from one query.

use chrono::{DateTime, Utc};
use redress_core::{AppealState, Channel};
use redress_routing::{AppealFacts, ContextFacts, EnforcementFacts};
use sea_orm::{ConnectionTrait, Statement, Value};
use uuid::Uuid;

use crate::entity::enforcement;
use crate::entity::enforcement_incident::IncidentStatus;
use crate::error::EngineError;
use crate::repo::numbered;

pub use crate::language::LANGUAGE_KEY;

pub fn enforcement_facts(enforcement: &enforcement::Model) -> EnforcementFacts {
    EnforcementFacts {
        source_kind: enforcement.source_kind.clone(),
        source_id: enforcement.source_id.clone(),
        batch: enforcement.batch_id.clone(),
        policy: enforcement.policy.clone(),
        kind: enforcement.kind.clone(),
        automated_detection: enforcement.automated_detection.parse().ok(),
        automated_decision: enforcement.automated_decision.parse().ok(),
        content_relation: enforcement
            .content_relation
            .as_deref()
            .and_then(|relation| relation.parse().ok()),
    }
}

pub fn appeal_facts(
    channel: Channel,
    identity_verified: bool,
    metadata: &serde_json::Value,
) -> AppealFacts {
    AppealFacts {
        channel,
        identity_verified,
        language: metadata
            .get(LANGUAGE_KEY)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
    }
}

/// The account's appeals filed up to `until` other than `appeal`, its upheld appeals, and
/// whether an open incident names the enforcement's source (its batch, or the whole
/// source), in one round trip.
pub async fn context<C: ConnectionTrait>(
    conn: &C,
    appeal: Uuid,
    until: DateTime<Utc>,
    account_id: Option<&str>,
    enforcement: Option<&enforcement::Model>,
) -> Result<ContextFacts, EngineError> {
    let backend = conn.get_database_backend();
    let account: Value = account_id.map(str::to_owned).into();
    let (source_kind, source_id, batch): (Value, Value, Value) = match enforcement {
        Some(e) => (
            Some(e.source_kind.clone()).into(),
            Some(e.source_id.clone()).into(),
            e.batch_id.clone().into(),
        ),
        None => (
            Option::<String>::None.into(),
            Option::<String>::None.into(),
            Option::<String>::None.into(),
        ),
    };
    let sql = numbered(
        backend,
        "SELECT \
           (SELECT COUNT(*) FROM appeals WHERE account_id = ? AND id <> ? AND filed_at <= ?), \
           (SELECT COUNT(*) FROM appeals WHERE account_id = ? AND state = ?), \
           (SELECT COUNT(*) FROM enforcement_incidents WHERE status = ? \
              AND source_kind = ? AND source_id = ? AND (batch_id IS NULL OR batch_id = ?))",
    );
    let values: Vec<Value> = vec![
        account.clone(),
        appeal.into(),
        until.into(),
        account,
        AppealState::Upheld.as_str().into(),
        IncidentStatus::Open.as_str().into(),
        source_kind,
        source_id,
        batch,
    ];
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| EngineError::corrupt("routing context", appeal, "no row"))?;
    let count = |index: usize| -> Result<u32, EngineError> {
        let count: i64 = row.try_get_by_index(index)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    };
    Ok(ContextFacts {
        earlier_appeals: count(0)?,
        upheld_decisions: count(1)?,
        open_incident: count(2)? > 0,
    })
}
