//! Applying confirmed restorations to the embedded account registry, many accounts per
//! statement.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::error::RestorationError;
use crate::entity::account::{self, Entity as Accounts};

/// Reactivates `accounts` and marks `enforcements` reversed.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    accounts: &[String],
    enforcements: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    for chunk in accounts.chunks(1000) {
        Accounts::update_many()
            .col_expr(account::Column::Status, Expr::value("active"))
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
