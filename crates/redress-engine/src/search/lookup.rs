//! Exact lookups, each answered by a unique or ordinary b-tree index: `appeals_reference`,
//! `appeals_channel_contact`, `appeals_contact_folded`, `accounts_email`, `appeals_account`,
//! `enforcements_external_id`, `appeals_enforcement` and the primary key of
//! `linked_handles`.

use redress_core::Channel;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::account::{self, Entity as Accounts};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::entity::linked_handle::{self, Entity as LinkedHandles};
use crate::error::EngineError;

/// Channels whose contact is an email address.
const ADDRESS_CHANNELS: &[Channel] = &[Channel::Email, Channel::Api];
/// Channels whose contact is a social id.
const SOCIAL_CHANNELS: &[Channel] = &[Channel::X, Channel::Instagram, Channel::Messenger];

fn names(channels: &[Channel]) -> Vec<&'static str> {
    channels.iter().map(|c| c.as_str()).collect()
}

/// Ids of appeals answered at `contact` on one of `channels`, newest first.
pub async fn by_contact<C: ConnectionTrait>(
    conn: &C,
    channels: &[Channel],
    contacts: Vec<String>,
    limit: u64,
) -> Result<Vec<Uuid>, EngineError> {
    Ok(Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(appeal::Column::Channel.is_in(names(channels)))
        .filter(appeal::Column::Contact.is_in(contacts))
        .order_by_desc(appeal::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Ids of the appeals of any of `accounts`, newest first.
pub async fn by_accounts<C: ConnectionTrait>(
    conn: &C,
    accounts: Vec<String>,
    limit: u64,
) -> Result<Vec<Uuid>, EngineError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(appeal::Column::AccountId.is_in(accounts))
        .order_by_desc(appeal::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Ids of appeals filed by email or the API from `address`, without regard to ASCII case
/// (index `appeals_contact_folded`).
pub async fn by_contact_address<C: ConnectionTrait>(
    conn: &C,
    address: &str,
    limit: u64,
) -> Result<Vec<Uuid>, EngineError> {
    let folded_contact_is = match conn.get_database_backend() {
        DbBackend::Postgres => r#"lower("appeals"."contact" COLLATE "C") = $1"#,
        _ => r#"lower("appeals"."contact") = ?"#,
    };
    Ok(Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(Expr::cust_with_values(
            folded_contact_is,
            [address.to_ascii_lowercase()],
        ))
        .filter(appeal::Column::Channel.is_in(names(ADDRESS_CHANNELS)))
        .order_by_desc(appeal::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Accounts registered with `address` (stored in lower case).
pub async fn accounts_with_address<C: ConnectionTrait>(
    conn: &C,
    address: &str,
) -> Result<Vec<String>, EngineError> {
    Ok(Accounts::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::Email.eq(address.to_ascii_lowercase()))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Ids of appeals sent from the social id `handle` on any DM channel.
pub async fn by_handle<C: ConnectionTrait>(
    conn: &C,
    handle: &str,
    limit: u64,
) -> Result<Vec<Uuid>, EngineError> {
    by_contact(conn, SOCIAL_CHANNELS, vec![handle.to_owned()], limit).await
}

/// Accounts the social id `handle` was linked to by its owner's confirmation.
pub async fn accounts_linked_to<C: ConnectionTrait>(
    conn: &C,
    handle: &str,
) -> Result<Vec<String>, EngineError> {
    Ok(LinkedHandles::find()
        .select_only()
        .column(linked_handle::Column::AccountId)
        .filter(linked_handle::Column::Channel.is_in(names(SOCIAL_CHANNELS)))
        .filter(linked_handle::Column::SocialId.eq(handle))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Ids of appeals against the enforcement the platform calls `external_id`.
pub async fn by_enforcement<C: ConnectionTrait>(
    conn: &C,
    external_id: &str,
    limit: u64,
) -> Result<Vec<Uuid>, EngineError> {
    let enforcements: Vec<Uuid> = Enforcements::find()
        .select_only()
        .column(enforcement::Column::Id)
        .filter(enforcement::Column::ExternalId.eq(external_id))
        .into_tuple()
        .all(conn)
        .await?;
    if enforcements.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(appeal::Column::EnforcementId.is_in(enforcements))
        .order_by_desc(appeal::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}
