//! What the platform pushes in: enforcements, and appeals filed through its own product.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::Channel;
use redress_engine::language::LANGUAGE_KEY;
use redress_engine::registry::{ContentRelation, NewEnforcement};
use redress_engine::{Engine, Filing, IncomingAppeal};

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::ids::parse_id;
use crate::settings::GraphqlSettings;

#[derive(Debug, Default)]
pub struct IntakeMutation;

#[derive(InputObject, Debug)]
pub struct EnforcementInput {
    /// The platform's id of the action; sending it again records nothing new.
    pub external_id: Option<String>,
    pub account_id: String,
    pub account_email: Option<String>,
    /// The account's locale, a BCP 47 language tag such as `de-AT`: the appellant's notices
    /// are written in its language. The latest one sent for an account wins.
    pub account_locale: Option<String>,
    pub kind: String,
    pub policy: String,
    pub source_kind: String,
    pub source_id: String,
    pub batch_id: Option<String>,
    pub automated_detection: String,
    pub automated_decision: String,
    pub content_id: Option<String>,
    /// `created`, `saved` or `shared`.
    pub content_relation: Option<String>,
    pub facts: String,
    /// The statement of reasons as given to the account holder.
    pub statement: serde_json::Value,
    pub enforced_at: DateTime<Utc>,
}

#[derive(InputObject, Debug)]
pub struct FileAppealInput {
    /// The caller's id for this request: filing it again returns the same appeal.
    pub request_id: Option<String>,
    pub account_id: Option<String>,
    pub enforcement_id: Option<ID>,
    /// Who appeals (an address or handle the platform verified).
    pub sender: String,
    /// Where answers go, when not the sender.
    pub contact: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// Whether the platform verified the appellant owns the account.
    #[graphql(default)]
    pub identity_verified: bool,
    /// The language the appellant wrote in, a BCP 47 tag, when the platform knows it (its
    /// product's language at the time). The account's locale still comes first.
    pub language: Option<String>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingOutcome {
    /// A new case was opened and acknowledged.
    Created,
    /// The account already had an open case on this enforcement; the message joined it.
    Appended,
    /// This request was received before; nothing changed.
    Duplicate,
}

#[derive(SimpleObject, Debug)]
pub struct FileAppealPayload {
    pub outcome: FilingOutcome,
    pub appeal: Option<AppealNode>,
}

#[derive(SimpleObject, Debug)]
pub struct RecordEnforcementsPayload {
    /// The enforcements' ids, in input order.
    pub ids: Vec<ID>,
}

fn non_empty(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_input(format!("{field} must not be empty")));
    }
    Ok(())
}

/// A BCP 47 language tag, trimmed, or an error naming the field.
fn language_tag(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim();
    if redress_core::language::primary_language(value).is_none() {
        let shown: String = value.chars().take(40).collect();
        return Err(ApiError::bad_input(format!(
            "{field} must be a BCP 47 language tag such as de or pt-BR, not {shown:?}"
        )));
    }
    Ok(Some(value.to_owned()))
}

fn to_new_enforcement(input: EnforcementInput) -> Result<NewEnforcement, ApiError> {
    for (field, value) in [
        ("accountId", &input.account_id),
        ("kind", &input.kind),
        ("policy", &input.policy),
        ("sourceKind", &input.source_kind),
        ("sourceId", &input.source_id),
    ] {
        non_empty(field, value)?;
    }
    if let Some(relation) = &input.content_relation {
        if relation.parse::<ContentRelation>().is_err() {
            return Err(ApiError::bad_input(format!(
                "contentRelation must be created, saved or shared, not {relation:?}"
            )));
        }
    }
    let account_locale = language_tag("accountLocale", input.account_locale)?;
    Ok(NewEnforcement {
        external_id: input.external_id,
        account_id: input.account_id,
        account_email: input.account_email,
        account_locale,
        kind: input.kind,
        policy: input.policy,
        source_kind: input.source_kind,
        source_id: input.source_id,
        batch_id: input.batch_id,
        automated_detection: input.automated_detection,
        automated_decision: input.automated_decision,
        content_id: input.content_id,
        content_relation: input.content_relation,
        facts: input.facts,
        statement: input.statement,
        enforced_at: input.enforced_at,
    })
}

#[Object]
impl IntakeMutation {
    /// Records enforcements in one transaction: all of the batch or none of it.
    async fn record_enforcements(
        &self,
        ctx: &Context<'_>,
        enforcements: Vec<EnforcementInput>,
    ) -> Result<RecordEnforcementsPayload> {
        rbac::authorize(ctx, "recordEnforcements").or_api()?;
        let limit = ctx.data::<GraphqlSettings>()?.max_enforcement_batch;
        if enforcements.len() > limit {
            return Err(ApiError::bad_input(format!(
                "at most {limit} enforcements per call, got {}",
                enforcements.len()
            )))
            .or_api();
        }
        let batch = enforcements
            .into_iter()
            .map(to_new_enforcement)
            .collect::<Result<Vec<_>, _>>()
            .or_api()?;
        let ids = ctx
            .data::<Engine>()?
            .record_enforcements(batch)
            .await
            .or_api()?;
        Ok(RecordEnforcementsPayload {
            ids: ids.into_iter().map(|id| ID(id.to_string())).collect(),
        })
    }

    /// Files an appeal through the platform (the API channel).
    async fn file_appeal(
        &self,
        ctx: &Context<'_>,
        input: FileAppealInput,
    ) -> Result<FileAppealPayload> {
        let actor = rbac::authorize(ctx, "fileAppeal").or_api()?;
        non_empty("sender", &input.sender).or_api()?;
        non_empty("body", &input.body).or_api()?;
        let enforcement_id = input.enforcement_id.as_ref().map(parse_id).transpose()?;
        let language = language_tag("language", input.language).or_api()?;
        let engine = ctx.data::<Engine>()?;
        let incoming = IncomingAppeal {
            channel: Channel::Api,
            channel_message_id: input.request_id,
            sender: input.sender,
            contact: input.contact,
            account_id: input.account_id,
            enforcement_id,
            identity_verified: input.identity_verified,
            subject: input.subject,
            body: input.body,
            in_reply_to: None,
            metadata: match language {
                Some(language) => serde_json::json!({ LANGUAGE_KEY: language }),
                None => serde_json::json!({}),
            },
        };
        let filing = engine.file(&actor, incoming).await.or_api()?;
        let withheld = Withheld::from_actor(engine, Some(&actor)).await?;
        Ok(match filing {
            Filing::Created(stored) => FileAppealPayload {
                outcome: FilingOutcome::Created,
                appeal: withheld.show(stored),
            },
            Filing::Appended(stored) => FileAppealPayload {
                outcome: FilingOutcome::Appended,
                appeal: withheld.show(stored),
            },
            Filing::Refused { until } => {
                return Err(ApiError::bad_input(
                    redress_engine::transparency::throttle::refusal_text(until),
                ))
                .or_api()
            }
            Filing::Duplicate { appeal_id } => FileAppealPayload {
                outcome: FilingOutcome::Duplicate,
                appeal: match appeal_id {
                    Some(id) => withheld.show(engine.appeal(id).await.or_api()?),
                    None => None,
                },
            },
        })
    }
}
