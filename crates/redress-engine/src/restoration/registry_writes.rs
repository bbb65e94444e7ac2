//! Applying confirmed restorations to the embedded account registry, many accounts per
//! statement.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::error::RestorationError;
use crate::entity::account::{self, AccountStatus, Entity as Accounts};
use crate::repo::json_rows;

/// Reactivates `accounts` and marks `enforcements` reversed.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    accounts: &[String],
    enforcements: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    if json_rows::applies(conn) {
        return apply_in_two_statements(conn, accounts, enforcements, now).await;
    }
    for chunk in accounts.chunks(1000) {
        Accounts::update_many()
            .col_expr(account::Column::Status, Expr::value(AccountStatus::Active))
            .col_expr(account::Column::UpdatedAt, Expr::value(now))
            .filter(account::Column::Id.is_in(chunk.iter().cloned()))
            .exec(conn)
            .await?;
    }
    for chunk in enforcements.chunks(1000) {
        // `reversed_at` belongs to the restoration schema, so it is written by column name.
        let stmt = Query::update()
            .table(Alias::new("enforcements"))
            .value(Alias::new("reversed_at"), now)
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .and_where(Expr::col(Alias::new("reversed_at")).is_null())
            .to_owned();
        conn.execute(&stmt).await?;
    }
    Ok(())
}

async fn apply_in_two_statements<C: ConnectionTrait>(
    conn: &C,
    accounts: &[String],
    enforcements: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    if !accounts.is_empty() {
        let ids: Vec<serde_json::Value> = accounts.iter().map(|id| id.as_str().into()).collect();
        json_rows::execute(
            conn,
            "UPDATE accounts AS a SET status = $2, updated_at = $3 \
             FROM json_array_elements_text($1::json) AS r(id) WHERE a.id = r.id",
            &ids,
            [AccountStatus::Active.into(), now.into()],
        )
        .await?;
    }
    if !enforcements.is_empty() {
        let ids: Vec<serde_json::Value> = enforcements
            .iter()
            .map(|id| id.to_string().into())
            .collect();
        json_rows::execute(
            conn,
            "UPDATE enforcements AS e SET reversed_at = $2 \
             FROM json_array_elements_text($1::json) AS r(id) \
             WHERE e.id = r.id::uuid AND e.reversed_at IS NULL",
            &ids,
            [now.into()],
        )
        .await?;
    }
    Ok(())
}
