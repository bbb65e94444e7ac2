//! Linked social handles and their pending email confirmations.

use chrono::{DateTime, Utc};
use redress_core::Channel;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::handle_confirmation::{self, Entity as Confirmations};
use crate::entity::linked_handle::{self, Entity as LinkedHandles};
use crate::error::EngineError;

/// The account a social id is linked to, if any.
pub async fn linked_account<C: ConnectionTrait>(
    conn: &C,
    channel: Channel,
    social_id: &str,
) -> Result<Option<String>, EngineError> {
    Ok(
        LinkedHandles::find_by_id((channel.as_str().to_owned(), social_id.to_owned()))
            .one(conn)
            .await?
            .map(|row| row.account_id),
    )
}

/// Links (or re-links) a social id to an account.
pub async fn link<C: ConnectionTrait>(
    conn: &C,
    channel: Channel,
    social_id: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    LinkedHandles::insert(linked_handle::ActiveModel {
        channel: Set(channel.as_str().to_owned()),
        social_id: Set(social_id.to_owned()),
        account_id: Set(account_id.to_owned()),
        linked_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            linked_handle::Column::Channel,
            linked_handle::Column::SocialId,
        ])
        .update_columns([
            linked_handle::Column::AccountId,
            linked_handle::Column::LinkedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConfirmation {
    pub token_hash: String,
    pub channel: Channel,
    pub social_id: String,
    pub appeal_id: Uuid,
    pub account_id: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_confirmation<C: ConnectionTrait>(
    conn: &C,
    new: NewConfirmation,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    Confirmations::insert(handle_confirmation::ActiveModel {
        token_hash: Set(new.token_hash),
        channel: Set(new.channel.as_str().to_owned()),
        social_id: Set(new.social_id),
        appeal_id: Set(new.appeal_id),
        account_id: Set(new.account_id),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn find_confirmation<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<handle_confirmation::Model>, EngineError> {
    Ok(Confirmations::find_by_id(token_hash.to_owned())
        .one(conn)
        .await?)
}

/// Marks an unused confirmation used. Returns false when another request used it first,
/// so a link works exactly once even when followed twice at the same moment.
pub async fn consume_confirmation<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let result = Confirmations::update_many()
        .col_expr(
            handle_confirmation::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(handle_confirmation::Column::TokenHash.eq(token_hash))
        .filter(handle_confirmation::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
