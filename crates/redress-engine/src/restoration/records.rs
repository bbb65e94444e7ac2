//! Restoration records and their items.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
};
use uuid::Uuid;

use super::error::RestorationError;
use super::plan::{PlannedItem, RestorationReport};
use crate::entity::restoration::{self, Entity as Restorations};
use crate::entity::restoration_item::{self, Entity as RestorationItems};
use crate::repo::json_rows;

pub use crate::entity::restoration::RestorationStatus;

/// The status a new restoration is recorded with.
fn initial_status(confirmed: bool) -> RestorationStatus {
    if confirmed {
        RestorationStatus::Confirmed
    } else {
        RestorationStatus::Pending
    }
}

/// A restoration about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRestoration {
    pub id: Uuid,
    pub appeal_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub account_id: String,
    pub enforcement_ids: Vec<Uuid>,
    pub backend: &'static str,
    pub reason: String,
    pub requested_by: String,
}

fn active_model(
    new: NewRestoration,
    now: DateTime<Utc>,
    confirmed: bool,
) -> restoration::ActiveModel {
    restoration::ActiveModel {
        id: Set(new.id),
        appeal_id: Set(new.appeal_id),
        job_id: Set(new.job_id),
        account_id: Set(new.account_id),
        enforcement_ids: Set(serde_json::json!(new.enforcement_ids)),
        backend: Set(new.backend.to_owned()),
        status: Set(initial_status(confirmed)),
        reason: Set(new.reason),
        requested_by: Set(new.requested_by),
        last_error: Set(None),
        created_at: Set(now),
        confirmed_at: Set(confirmed.then_some(now)),
    }
}

/// Records restorations; `confirmed` when the backend already did the work in this
/// transaction (the embedded registry).
pub async fn insert_many<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<NewRestoration>,
    now: DateTime<Utc>,
    confirmed: bool,
) -> Result<(), RestorationError> {
    if rows.is_empty() {
        return Ok(());
    }
    if json_rows::applies(conn) {
        return insert_many_in_one_statement(conn, &rows, now, confirmed).await;
    }
    // Keeps each statement well under the bind-parameter limits of SQLite.
    for chunk in rows.chunks(1000) {
        Restorations::insert_many(
            chunk
                .iter()
                .cloned()
                .map(|r| active_model(r, now, confirmed)),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

async fn insert_many_in_one_statement<C: ConnectionTrait>(
    conn: &C,
    rows: &[NewRestoration],
    now: DateTime<Utc>,
    confirmed: bool,
) -> Result<(), RestorationError> {
    let sql = format!(
        "INSERT INTO restorations (id, appeal_id, job_id, account_id, enforcement_ids, backend, \
         status, reason, requested_by, created_at, confirmed_at) \
         SELECT r.id, r.appeal_id, r.job_id, r.account_id, r.enforcement_ids, r.backend, $2, \
         r.reason, r.requested_by, $3, $4 FROM {}",
        json_rows::recordset(
            1,
            &[
                ("id", "uuid"),
                ("appeal_id", "uuid"),
                ("job_id", "uuid"),
                ("account_id", "text"),
                ("enforcement_ids", "jsonb"),
                ("backend", "text"),
                ("reason", "text"),
                ("requested_by", "text"),
            ],
        )
    );
    let documents: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "appeal_id": r.appeal_id,
                "job_id": r.job_id,
                "account_id": r.account_id,
                "enforcement_ids": r.enforcement_ids,
                "backend": r.backend,
                "reason": r.reason,
                "requested_by": r.requested_by,
            })
        })
        .collect();
    json_rows::execute(
        conn,
        &sql,
        &documents,
        [
            initial_status(confirmed).into(),
            now.into(),
            confirmed.then_some(now).into(),
        ],
    )
    .await?;
    Ok(())
}

/// The restoration of an appeal, created on first request. A concurrent request for the
/// same appeal loses the unique-index race and reads the winner's row.
pub async fn ensure_for_appeal<C: ConnectionTrait>(
    conn: &C,
    new: NewRestoration,
    now: DateTime<Utc>,
) -> Result<restoration::Model, RestorationError> {
    let appeal_id = new.appeal_id;
    Restorations::insert(active_model(new, now, false))
        .on_conflict_do_nothing_on([restoration::Column::AppealId])
        .exec_without_returning(conn)
        .await?;
    Restorations::find()
        .filter(restoration::Column::AppealId.eq(appeal_id))
        .one(conn)
        .await?
        .ok_or_else(|| RestorationError::RestorationNotFound(Uuid::nil()))
}

pub async fn find<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<restoration::Model, RestorationError> {
    Restorations::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(RestorationError::RestorationNotFound(id))
}

pub async fn for_appeal<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
) -> Result<Option<restoration::Model>, RestorationError> {
    Ok(Restorations::find()
        .filter(restoration::Column::AppealId.eq(appeal_id))
        .one(conn)
        .await?)
}

/// Marks a pending restoration confirmed. Returns false when it was confirmed already (a
/// repeated delivery), in which case the caller must not apply the confirmation again.
pub async fn mark_confirmed<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, RestorationError> {
    let result = Restorations::update_many()
        .col_expr(
            restoration::Column::Status,
            Expr::value(RestorationStatus::Confirmed),
        )
        .col_expr(restoration::Column::ConfirmedAt, Expr::value(now))
        .col_expr(
            restoration::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(restoration::Column::Id.eq(id))
        .filter(restoration::Column::Status.ne(RestorationStatus::Confirmed))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records why the backend refused; the outbox dead-letters the request visibly.
pub async fn mark_failed<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    error: &str,
) -> Result<(), RestorationError> {
    Restorations::update_many()
        .col_expr(
            restoration::Column::Status,
            Expr::value(RestorationStatus::Failed),
        )
        .col_expr(restoration::Column::LastError, Expr::value(error))
        .filter(restoration::Column::Id.eq(id))
        .filter(restoration::Column::Status.ne(RestorationStatus::Confirmed))
        .exec(conn)
        .await?;
    Ok(())
}

/// Writes what the backend reported, item by item.
pub async fn insert_items<C: ConnectionTrait>(
    conn: &C,
    reports: &[(Uuid, &RestorationReport)],
) -> Result<(), RestorationError> {
    if json_rows::applies(conn) {
        return insert_items_in_one_statement(conn, reports).await;
    }
    let rows: Vec<_> = reports
        .iter()
        .flat_map(|(id, report)| {
            report
                .items
                .iter()
                .enumerate()
                .map(move |(position, item)| restoration_item::ActiveModel {
                    restoration_id: Set(*id),
                    position: Set(position as i32),
                    item_kind: Set(item.kind),
                    item_id: Set(item.item_id.clone()),
                    enforcement_id: Set(item.enforcement_id),
                    outcome: Set(item.outcome),
                    detail: Set(item.detail.clone()),
                })
        })
        .collect();
    // Keeps each statement well under the bind-parameter limits of both databases.
    for chunk in rows.chunks(2000) {
        RestorationItems::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

async fn insert_items_in_one_statement<C: ConnectionTrait>(
    conn: &C,
    reports: &[(Uuid, &RestorationReport)],
) -> Result<(), RestorationError> {
    let documents: Vec<serde_json::Value> = reports
        .iter()
        .flat_map(|(id, report)| {
            report
                .items
                .iter()
                .enumerate()
                .map(move |(position, item)| {
                    serde_json::json!({
                        "restoration_id": id,
                        "position": position,
                        "item_kind": item.kind.as_str(),
                        "item_id": item.item_id,
                        "enforcement_id": item.enforcement_id,
                        "outcome": item.outcome.as_str(),
                        "detail": item.detail,
                    })
                })
        })
        .collect();
    if documents.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO restoration_items (restoration_id, position, item_kind, item_id, \
         enforcement_id, outcome, detail) \
         SELECT r.restoration_id, r.position, r.item_kind, r.item_id, r.enforcement_id, \
         r.outcome, r.detail FROM {}",
        json_rows::recordset(
            1,
            &[
                ("restoration_id", "uuid"),
                ("position", "integer"),
                ("item_kind", "text"),
                ("item_id", "text"),
                ("enforcement_id", "uuid"),
                ("outcome", "text"),
                ("detail", "text"),
            ],
        )
    );
    json_rows::execute(conn, &sql, &documents, []).await?;
    Ok(())
}

pub async fn items<C: ConnectionTrait>(
    conn: &C,
    restoration_id: Uuid,
) -> Result<Vec<restoration_item::Model>, RestorationError> {
    use sea_orm::QueryOrder;
    Ok(RestorationItems::find()
        .filter(restoration_item::Column::RestorationId.eq(restoration_id))
        .order_by_asc(restoration_item::Column::Position)
        .all(conn)
        .await?)
}

#[derive(Debug, Clone, FromQueryResult)]
struct PlannedRow {
    id: Uuid,
    kind: String,
    content_id: Option<String>,
}

/// The enforcements of a restoration as the backend needs them.
pub async fn planned_items<C: ConnectionTrait>(
    conn: &C,
    enforcement_ids: &[Uuid],
) -> Result<Vec<PlannedItem>, RestorationError> {
    if enforcement_ids.is_empty() {
        return Ok(Vec::new());
    }
    let enforcements = Alias::new("enforcements");
    let stmt = Query::select()
        .columns([
            Alias::new("id"),
            Alias::new("kind"),
            Alias::new("content_id"),
        ])
        .from(enforcements)
        .and_where(Expr::col(Alias::new("id")).is_in(enforcement_ids.iter().copied()))
        .to_owned();
    let backend = conn.get_database_backend();
    let rows = PlannedRow::find_by_statement(backend.build(&stmt))
        .all(conn)
        .await?;
    Ok(enforcement_ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .map(|r| PlannedItem {
            enforcement_id: r.id,
            kind: r.kind.clone(),
            content_id: r.content_id.clone(),
        })
        .collect())
}
