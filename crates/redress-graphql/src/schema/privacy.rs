//! Personal data, for administrators: legal holds, everything held about a person
//! (GDPR Art. 15), erasure (Art. 17), and the audit log those and every other audited act
//! write to.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::{Actor, Role};
use redress_engine::privacy::{AuditCursor, AuditEntry, AuditFilter, PrivacyError, Subject};
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::ids::parse_id;
use crate::settings::GraphqlSettings;

const DEFAULT_PAGE_SIZE: usize = 50;

/// Longest value an audit log filter takes: longer than any actor, action or id, so a
/// longer one can match nothing and is refused rather than sent to the database.
const MAX_FILTER_LEN: usize = 320;

impl From<PrivacyError> for ApiError {
    fn from(err: PrivacyError) -> Self {
        match err {
            PrivacyError::Engine(engine) => engine.into(),
            PrivacyError::Invalid { field, .. } => ApiError::invalid_field(field, err.to_string()),
            PrivacyError::NothingHeld { .. } => ApiError::NotFound(err.to_string()),
            PrivacyError::LegalHold { .. } | PrivacyError::OpenAppeals { .. } => {
                ApiError::InvalidTransition(err.to_string())
            }
            other => {
                tracing::error!(error = %other, "erasure incomplete");
                ApiError::Internal
            }
        }
    }
}

/// The caller, who must be an administrator.
fn admin(ctx: &Context<'_>, what: &str) -> Result<Actor, ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(&[Role::Admin]) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(format!("{what} needs one of: admin")))
    }
}

/// Whom a request is about: exactly one of the fields.
#[derive(InputObject, Debug)]
pub struct PersonalDataSubjectInput {
    /// A platform account id: its appeals, address and linked handles with it.
    pub account_id: Option<String>,
    /// An email address (compared without regard to case).
    pub email: Option<String>,
    /// A social handle as the channel sends it (the sender's id on X or Meta).
    pub handle: Option<String>,
}

impl TryFrom<PersonalDataSubjectInput> for Subject {
    type Error = ApiError;
    fn try_from(input: PersonalDataSubjectInput) -> Result<Self, ApiError> {
        match (input.account_id, input.email, input.handle) {
            (Some(account), None, None) => Ok(Subject::Account(account)),
            (None, Some(email), None) => Ok(Subject::Email(email)),
            (None, None, Some(handle)) => Ok(Subject::Handle(handle)),
            _ => Err(ApiError::invalid_field(
                "subject",
                "give exactly one of accountId, email, handle",
            )),
        }
    }
}

/// Which audit entries to list; every filter given must match.
#[derive(InputObject, Debug, Default)]
pub struct AuditLogFilterInput {
    /// Who acted: a staff member's subject, a system component, an appellant's identity.
    pub actor: Option<String>,
    /// The action, e.g. `legal_hold_set`, `policy_updated`, `retention_purged`.
    pub action: Option<String>,
    /// What the entry is about: an appeal's id or an account's id.
    pub subject: Option<String>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One audited act.
#[derive(SimpleObject, Debug)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryNode {
    pub id: ID,
    pub occurred_at: DateTime<Utc>,
    /// `staff`, `system` or `appellant`; null if the stored actor no longer reads.
    pub actor_kind: Option<String>,
    /// The staff member's subject, the component, or the appellant's identity.
    pub actor: Option<String>,
    pub action: String,
    pub account_id: Option<String>,
    pub appeal_id: Option<ID>,
    /// What the action recorded, as it recorded it.
    pub details: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryNode {
    fn from(entry: AuditEntry) -> Self {
        let (actor_kind, actor) = match entry.actor {
            Some(Actor::Staff { subject, .. }) => (Some("staff"), Some(subject)),
            Some(Actor::System { component }) => (Some("system"), Some(component)),
            Some(Actor::Appellant { identity }) => (Some("appellant"), Some(identity)),
            None => (None, None),
        };
        Self {
            id: ID(entry.id.to_string()),
            occurred_at: entry.occurred_at,
            actor_kind: actor_kind.map(str::to_owned),
            actor,
            action: entry.action,
            account_id: entry.account_id,
            appeal_id: entry.appeal_id.map(|id| ID(id.to_string())),
            details: entry.details,
        }
    }
}

fn nonempty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Debug, Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// The audit log, newest first, as a Relay connection. Administrators only.
    #[graphql(complexity = "first.unwrap_or(DEFAULT_PAGE_SIZE).saturating_mul(child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilterInput>,
        first: Option<usize>,
        after: Option<String>,
    ) -> Result<Connection<String, AuditEntryNode, EmptyFields, EmptyFields>> {
        admin(ctx, "auditLog").or_api()?;
        let max = ctx.data::<GraphqlSettings>()?.max_page_size;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if first == 0 || first > max {
            return Err(ApiError::invalid_field(
                "first",
                format!("first must be between 1 and {max}"),
            ))
            .or_api();
        }
        let after = after
            .map(|cursor| {
                AuditCursor::decode(&cursor)
                    .ok_or_else(|| ApiError::invalid_field("after", "not a cursor of auditLog"))
            })
            .transpose()
            .or_api()?;
        let filter = filter.unwrap_or_default();
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if to <= from {
                return Err(ApiError::invalid_field(
                    "to",
                    "the period must end after it starts",
                ))
                .or_api();
            }
        }
        for (field, value) in [
            ("actor", &filter.actor),
            ("action", &filter.action),
            ("subject", &filter.subject),
        ] {
            if value.as_ref().is_some_and(|v| v.len() > MAX_FILTER_LEN) {
                return Err(ApiError::invalid_field(
                    field,
                    format!("must be at most {MAX_FILTER_LEN} bytes"),
                ))
                .or_api();
            }
        }
        let filter = AuditFilter {
            actor: nonempty(filter.actor),
            action: nonempty(filter.action),
            subject: nonempty(filter.subject),
            from: filter.from,
            to: filter.to,
        };
        let page = ctx
            .data::<Engine>()?
            .audit_log(&filter, first as u64, after)
            .await
            .or_api()?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(
            page.entries
                .into_iter()
                .map(|entry| Edge::new(entry.cursor().encode(), AuditEntryNode::from(entry))),
        );
        Ok(connection)
    }

    /// Whether the appeal is under legal hold. Administrators only.
    async fn legal_hold(&self, ctx: &Context<'_>, appeal_id: ID) -> Result<bool> {
        admin(ctx, "legalHold").or_api()?;
        let id = parse_id(&appeal_id)?;
        ctx.data::<Engine>()?.legal_hold(id).await.or_api()
    }
}

/// An appeal's legal hold after a change.
#[derive(SimpleObject, Debug)]
pub struct LegalHoldChange {
    pub appeal_id: ID,
    pub held: bool,
    pub was_held: bool,
}

/// Everything held about a person.
#[derive(SimpleObject, Debug)]
pub struct PersonalDataExport {
    /// Appeals the document covers.
    pub appeals: i32,
    /// The document: the subject, accounts with linked handles and audit entries, and per
    /// appeal the case, enforcement and statement of reasons, messages, history with the
    /// decisions, notices and audit entries.
    pub document: serde_json::Value,
}

/// What an erasure did.
#[derive(SimpleObject, Debug)]
pub struct PersonalDataErasure {
    /// The request's id, as the audit log records it.
    pub request_id: ID,
    pub appeals: i32,
    /// Rows rewritten or deleted.
    pub rows: i64,
    /// What the person's account ids became.
    pub pseudonyms: Vec<String>,
    /// Mail files naming the person that were removed.
    pub mail_files: i64,
}

#[derive(Debug, Default)]
pub struct PrivacyMutation;

impl PrivacyMutation {
    async fn change_hold(
        ctx: &Context<'_>,
        what: &str,
        appeal_id: ID,
        hold: bool,
        reason: String,
    ) -> Result<LegalHoldChange> {
        let actor = admin(ctx, what).or_api()?;
        let id = parse_id(&appeal_id)?;
        let was_held = ctx
            .data::<Engine>()?
            .set_legal_hold(&actor, id, hold, &reason)
            .await
            .or_api()?;
        Ok(LegalHoldChange {
            appeal_id,
            held: hold,
            was_held,
        })
    }
}

#[Object]
impl PrivacyMutation {
    /// Puts an appeal under legal hold: the retention purge and erasures leave it alone
    /// until the hold is cleared. Audited with the reason. Administrators only.
    async fn set_legal_hold(
        &self,
        ctx: &Context<'_>,
        appeal_id: ID,
        reason: String,
    ) -> Result<LegalHoldChange> {
        Self::change_hold(ctx, "setLegalHold", appeal_id, true, reason).await
    }

    /// Releases an appeal's legal hold. Audited with the reason. Administrators only.
    async fn clear_legal_hold(
        &self,
        ctx: &Context<'_>,
        appeal_id: ID,
        reason: String,
    ) -> Result<LegalHoldChange> {
        Self::change_hold(ctx, "clearLegalHold", appeal_id, false, reason).await
    }

    /// Everything held about a person as one document (GDPR Art. 15); audited.
    /// Administrators only.
    async fn export_personal_data(
        &self,
        ctx: &Context<'_>,
        subject: PersonalDataSubjectInput,
    ) -> Result<PersonalDataExport> {
        let actor = admin(ctx, "exportPersonalData").or_api()?;
        let subject = Subject::try_from(subject).or_api()?;
        let export = ctx
            .data::<Engine>()?
            .personal_data(&actor, subject)
            .await
            .or_api()?;
        Ok(PersonalDataExport {
            appeals: i32::try_from(export.appeals).unwrap_or(i32::MAX),
            document: export.document,
        })
    }

    /// Erases a person's personal data (GDPR Art. 17); refused (`INVALID_TRANSITION`,
    /// nothing changed) while any of their appeals is under legal hold or still open. The
    /// request, a refusal and the completion are audited. Administrators only.
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        subject: PersonalDataSubjectInput,
    ) -> Result<PersonalDataErasure> {
        let actor = admin(ctx, "erasePersonalData").or_api()?;
        let subject = Subject::try_from(subject).or_api()?;
        let erasure = ctx
            .data::<Engine>()?
            .erase_personal_data(&actor, subject)
            .await
            .or_api()?;
        Ok(PersonalDataErasure {
            request_id: ID(erasure.request.to_string()),
            appeals: i32::try_from(erasure.appeals).unwrap_or(i32::MAX),
            rows: i64::try_from(erasure.rows).unwrap_or(i64::MAX),
            pseudonyms: erasure.pseudonyms,
            mail_files: i64::try_from(erasure.outside_copies).unwrap_or(i64::MAX),
        })
    }
}
