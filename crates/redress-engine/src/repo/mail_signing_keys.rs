//! The Message-ID signing secret, generated once and shared through the database.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entity::mail_signing_key::{self, Entity as MailSigningKeys};
use crate::error::EngineError;

/// The secret stored under `name`; when there is none yet, `candidate` is stored and
/// returned. Replicas starting together race on the primary key and all read the winner.
pub async fn get_or_create<C: ConnectionTrait>(
    conn: &C,
    name: &str,
    candidate: &str,
    now: DateTime<Utc>,
) -> Result<String, EngineError> {
    MailSigningKeys::insert(mail_signing_key::ActiveModel {
        name: Set(name.to_owned()),
        secret: Set(candidate.to_owned()),
        created_at: Set(now),
    })
    .on_conflict_do_nothing_on([mail_signing_key::Column::Name])
    .exec_without_returning(conn)
    .await?;
    MailSigningKeys::find_by_id(name.to_owned())
        .one(conn)
        .await?
        .map(|row| row.secret)
        .ok_or_else(|| EngineError::corrupt("mail signing key", name, "vanished after insert"))
}
