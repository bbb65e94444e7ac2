//! Each account's outcome in a job, the audit trail: one row per account, written per chunk.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use crate::entity::bulk_restore_outcome::{self, BulkOutcome, Entity as Outcomes};
use crate::repo::json_rows;
use crate::restoration::error::RestorationError;

/// What a job did for one account.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccountOutcome {
    pub account_id: String,
    pub outcome: BulkOutcome,
    pub detail: Option<String>,
    pub restoration_id: Option<Uuid>,
    pub appeals: Vec<Uuid>,
}

pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    rows: &[AccountOutcome],
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    if rows.is_empty() {
        return Ok(());
    }
    if json_rows::applies(conn) {
        return insert_in_one_statement(conn, job_id, rows, now).await;
    }
    // Keeps each statement well under the bind-parameter limit of SQLite.
    for chunk in rows.chunks(1000) {
        Outcomes::insert_many(chunk.iter().map(|row| bulk_restore_outcome::ActiveModel {
            job_id: Set(job_id),
            account_id: Set(row.account_id.clone()),
            outcome: Set(row.outcome),
            detail: Set(row.detail.clone()),
            restoration_id: Set(row.restoration_id),
            appeals: Set(json!(row.appeals)),
            recorded_at: Set(now),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

async fn insert_in_one_statement<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    rows: &[AccountOutcome],
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    let documents: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            json!({
                "account_id": row.account_id,
                "outcome": row.outcome,
                "detail": row.detail,
                "restoration_id": row.restoration_id,
                "appeals": row.appeals,
            })
        })
        .collect();
    let sql = format!(
        "INSERT INTO bulk_restore_outcomes (job_id, account_id, outcome, detail, restoration_id, \
         appeals, recorded_at) \
         SELECT $2, r.account_id, r.outcome, r.detail, r.restoration_id, r.appeals, $3 FROM {}",
        json_rows::recordset(
            1,
            &[
                ("account_id", "text"),
                ("outcome", "text"),
                ("detail", "text"),
                ("restoration_id", "uuid"),
                ("appeals", "jsonb"),
            ],
        )
    );
    json_rows::execute(conn, &sql, &documents, [job_id.into(), now.into()]).await?;
    Ok(())
}
