//! Dead letters of the outbox, for administrators: see what could not be delivered and
//! queue it again.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::Role;
use redress_engine::dead_letters::DeadLetter;
use redress_engine::Engine;
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::settings::GraphqlSettings;

const DEFAULT_PAGE_SIZE: usize = 50;

/// An outbox item given up on after its attempts ran out or a permanent failure.
#[derive(SimpleObject, Debug)]
#[graphql(name = "DeadLetter")]
pub struct DeadLetterNode {
    pub id: ID,
    /// `notify_appellant`, `alert_queue`, `request_restoration`, ...
    pub topic: String,
    pub appeal_id: Option<ID>,
    pub idempotency_key: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub failed_at: DateTime<Utc>,
    /// The item as it was queued (channel, contact, reference, event, effect).
    pub payload: serde_json::Value,
}

impl From<DeadLetter> for DeadLetterNode {
    fn from(letter: DeadLetter) -> Self {
        Self {
            id: ID(letter.id.to_string()),
            topic: letter.topic,
            appeal_id: letter.appeal_id.map(|id| ID(id.to_string())),
            idempotency_key: letter.idempotency_key,
            attempts: letter.attempts,
            last_error: letter.last_error,
            created_at: letter.created_at,
            failed_at: letter.failed_at,
            payload: letter.payload,
        }
    }
}

fn parse_uuid(value: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value).map_err(|_| ApiError::bad_input(format!("{value:?} is not {what}")))
}

/// Administrators only; the caller's token decides.
fn admin(ctx: &Context<'_>) -> Result<(), ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(&[Role::Admin]) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "deadLetters needs one of: admin".to_owned(),
        ))
    }
}

#[derive(Debug, Default)]
pub struct DeadLetterQuery;

#[Object]
impl DeadLetterQuery {
    /// Dead letters, newest first, as a Relay connection. Administrators only.
    #[graphql(complexity = "first.unwrap_or(DEFAULT_PAGE_SIZE) * child_complexity")]
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        first: Option<usize>,
        after: Option<String>,
    ) -> Result<Connection<String, DeadLetterNode, EmptyFields, EmptyFields>> {
        admin(ctx).or_api()?;
        let max = ctx.data::<GraphqlSettings>()?.max_page_size;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if first == 0 || first > max {
            return Err(ApiError::bad_input(format!(
                "first must be between 1 and {max}"
            )))
            .or_api();
        }
        let after = after
            .map(|cursor| parse_uuid(&cursor, "a cursor"))
            .transpose()
            .or_api()?;
        let mut page = ctx
            .data::<Engine>()?
            .dead_letters(first as u64 + 1, after)
            .await
            .or_api()?;
        let has_next = page.len() > first;
        page.truncate(first);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            page.into_iter()
                .map(|letter| Edge::new(letter.id.to_string(), DeadLetterNode::from(letter))),
        );
        Ok(connection)
    }
}

/// What a retry did.
#[derive(SimpleObject, Debug)]
pub struct RetriedDeadLetter {
    /// The outbox item, pending again with a fresh attempt budget.
    pub id: ID,
}

#[derive(Debug, Default)]
pub struct DeadLetterMutation;

#[Object]
impl DeadLetterMutation {
    /// Queues a dead letter again, due at once. Administrators only. Retrying something
    /// that is not a dead letter is `BAD_USER_INPUT` and changes nothing.
    async fn retry_dead_letter(&self, ctx: &Context<'_>, id: ID) -> Result<RetriedDeadLetter> {
        rbac::authorize(ctx, "retryDeadLetter").or_api()?;
        let uuid = parse_uuid(id.as_str(), "an outbox item id").or_api()?;
        ctx.data::<Engine>()?
            .retry_dead_letter(uuid)
            .await
            .or_api()?;
        Ok(RetriedDeadLetter { id })
    }
}
