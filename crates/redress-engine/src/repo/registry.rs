//! The embedded account registry and the enforcements pushed in by the platform.

use chrono::{DateTime, Utc};
use redress_core::{Automation, StatementOfReasons};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::entity::account::AccountStatus;

use crate::entity::account::{self, Entity as Accounts};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::error::EngineError;
use crate::text::WithoutNul;

/// An enforcement as the platform reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEnforcement {
    /// The platform's own id for this action; recording it twice is a no-op.
    pub external_id: Option<String>,
    pub account_id: String,
    pub account_email: Option<String>,
    /// The account's locale (a BCP 47 tag such as `de-AT`), when the platform knows it:
    /// the appellant's notices are written in its language.
    #[serde(default)]
    pub account_locale: Option<String>,
    pub kind: String,
    pub policy: String,
    pub source_kind: String,
    pub source_id: String,
    pub batch_id: Option<String>,
    pub automated_detection: String,
    pub automated_decision: String,
    pub content_id: Option<String>,
    /// What the account did with the content: created, saved or shared.
    pub content_relation: Option<String>,
    pub facts: String,
    pub statement: serde_json::Value,
    pub enforced_at: DateTime<Utc>,
}

impl NewEnforcement {
    /// Whether any of its texts (the statement's keys included) holds U+0000. Field by
    /// field rather than through the JSON form: a wave checks a million of these, and the
    /// usual answer, no, then costs a scan and no copy. The destructuring names every
    /// field, so a field added later does not compile until it is covered here.
    pub(crate) fn holds_nul(&self) -> bool {
        let NewEnforcement {
            external_id,
            account_id,
            account_email,
            account_locale,
            kind,
            policy,
            source_kind,
            source_id,
            batch_id,
            automated_detection,
            automated_decision,
            content_id,
            content_relation,
            facts,
            statement,
            enforced_at: _,
        } = self;
        let texts = [
            account_id,
            kind,
            policy,
            source_kind,
            source_id,
            automated_detection,
            automated_decision,
            facts,
        ];
        let optional = [
            external_id,
            account_email,
            account_locale,
            batch_id,
            content_id,
            content_relation,
        ];
        texts.into_iter().any(|text| text.contains('\0'))
            || optional
                .into_iter()
                .flatten()
                .any(|text| text.contains('\0'))
            || crate::text::has_nul(statement)
    }
}

/// Field by field, as [`NewEnforcement::holds_nul`] reads them.
impl WithoutNul for NewEnforcement {
    fn without_nul(self) -> Self {
        if !self.holds_nul() {
            return self;
        }
        let NewEnforcement {
            external_id,
            account_id,
            account_email,
            account_locale,
            kind,
            policy,
            source_kind,
            source_id,
            batch_id,
            automated_detection,
            automated_decision,
            content_id,
            content_relation,
            facts,
            statement,
            enforced_at,
        } = self;
        NewEnforcement {
            external_id: external_id.without_nul(),
            account_id: account_id.without_nul(),
            account_email: account_email.without_nul(),
            account_locale: account_locale.without_nul(),
            kind: kind.without_nul(),
            policy: policy.without_nul(),
            source_kind: source_kind.without_nul(),
            source_id: source_id.without_nul(),
            batch_id: batch_id.without_nul(),
            automated_detection: automated_detection.without_nul(),
            automated_decision: automated_decision.without_nul(),
            content_id: content_id.without_nul(),
            content_relation: content_relation.without_nul(),
            facts: facts.without_nul(),
            statement: statement.without_nul(),
            enforced_at,
        }
    }
}

pub async fn find_account<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Option<account::Model>, EngineError> {
    Ok(Accounts::find_by_id(account_id.to_owned())
        .one(conn)
        .await?)
}

pub async fn find_account_by_email<C: ConnectionTrait>(
    conn: &C,
    email: &str,
) -> Result<Option<account::Model>, EngineError> {
    Ok(Accounts::find()
        .filter(account::Column::Email.eq(email.to_ascii_lowercase()))
        .one(conn)
        .await?)
}

/// Creates the account if it is new; an enforcement that deactivates it marks it so. An
/// account that already says what the enforcement says is left as it is, as the bulk path
/// (`enforcement_batch`) leaves it.
pub async fn ensure_account<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
    email: Option<&str>,
    status: AccountStatus,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    if let Some(existing) = find_account(conn, account_id).await? {
        let same_email = email.is_none_or(|email| {
            existing.email.as_deref() == Some(email.to_ascii_lowercase().as_str())
        });
        if existing.status == status && same_email {
            return Ok(());
        }
        let mut row: account::ActiveModel = existing.into();
        if let Some(email) = email {
            row.email = Set(Some(email.to_ascii_lowercase()));
        }
        row.status = Set(status);
        row.updated_at = Set(now);
        Accounts::update(row).exec(conn).await?;
    } else {
        Accounts::insert(account::ActiveModel {
            id: Set(account_id.to_owned()),
            email: Set(email.map(str::to_ascii_lowercase)),
            status: Set(status),
            locale: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// The enforcement's statement of reasons, complete and consistent with the enforcement's
/// own columns, or an error naming what is wrong.
pub fn enforcement_statement(new: &NewEnforcement) -> Result<StatementOfReasons, EngineError> {
    let invalid =
        |what: String| EngineError::InvalidInput(format!("enforcement statement: {what}"));
    // Read from the borrowed value rather than a copy of the whole tree: a wave checks a
    // million of these.
    let statement =
        StatementOfReasons::deserialize(&new.statement).map_err(|e| invalid(e.to_string()))?;
    statement.validate().map_err(|e| invalid(e.to_string()))?;
    let consistent = |column: &str, value: Automation| column == value.as_str();
    if !consistent(&new.automated_detection, statement.automated_detection) {
        return Err(invalid(format!(
            "automated_detection is {:?} but the statement says {}",
            new.automated_detection, statement.automated_detection
        )));
    }
    if !consistent(&new.automated_decision, statement.automated_decision) {
        return Err(invalid(format!(
            "automated_decision is {:?} but the statement says {}",
            new.automated_decision, statement.automated_decision
        )));
    }
    Ok(statement)
}

/// The account locale an enforcement carries, trimmed; a value that is no BCP 47 language
/// tag is refused, naming the field, rather than kept as a language no notice is written in.
fn account_locale(new: &NewEnforcement) -> Result<Option<String>, EngineError> {
    let Some(locale) = new.account_locale.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if redress_core::language::primary_language(locale).is_none() {
        let shown: String = locale.chars().take(40).collect();
        return Err(EngineError::InvalidInput(format!(
            "account_locale {shown:?} is not a BCP 47 language tag (e.g. de-AT)"
        )));
    }
    Ok(Some(locale.to_owned()))
}

/// Remembers the locale the platform sent for an account; the latest one wins.
pub async fn set_account_locale<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
    locale: &str,
) -> Result<(), EngineError> {
    Accounts::update_many()
        .col_expr(
            account::Column::Locale,
            sea_orm::sea_query::Expr::value(locale.to_owned()),
        )
        .filter(account::Column::Id.eq(account_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records an enforcement (and its account). Returns the enforcement's id, the existing one
/// when the platform sends the same external id again. An enforcement without a complete
/// statement of reasons is refused before anything is written.
pub async fn record_enforcement<C: ConnectionTrait>(
    conn: &C,
    new: NewEnforcement,
    now: DateTime<Utc>,
) -> Result<Uuid, EngineError> {
    let new = new.without_nul();
    enforcement_statement(&new)?;
    let locale = account_locale(&new)?;
    if let Some(external_id) = &new.external_id {
        if let Some(existing) = Enforcements::find()
            .filter(enforcement::Column::ExternalId.eq(external_id.as_str()))
            .one(conn)
            .await?
        {
            // The enforcement is recorded once, but the account's locale is the latest sent.
            if let Some(locale) = locale {
                set_account_locale(conn, &existing.account_id, &locale).await?;
            }
            return Ok(existing.id);
        }
    }
    let status = if new.kind == "account_deactivation" {
        AccountStatus::Deactivated
    } else {
        AccountStatus::Active
    };
    ensure_account(
        conn,
        &new.account_id,
        new.account_email.as_deref(),
        status,
        now,
    )
    .await?;
    if let Some(locale) = locale {
        set_account_locale(conn, &new.account_id, &locale).await?;
    }
    let id = Uuid::now_v7();
    Enforcements::insert(enforcement::ActiveModel {
        id: Set(id),
        external_id: Set(new.external_id),
        account_id: Set(new.account_id),
        kind: Set(new.kind),
        policy: Set(new.policy),
        source_kind: Set(new.source_kind),
        source_id: Set(new.source_id),
        batch_id: Set(new.batch_id),
        automated_detection: Set(new.automated_detection),
        automated_decision: Set(new.automated_decision),
        content_id: Set(new.content_id),
        content_relation: Set(new.content_relation),
        facts: Set(new.facts),
        statement: Set(new.statement),
        enforced_at: Set(new.enforced_at),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

pub async fn find_enforcement<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<enforcement::Model>, EngineError> {
    Ok(Enforcements::find_by_id(id).one(conn).await?)
}

/// The most recent enforcement against an account: what an appeal that names none is about.
pub async fn latest_enforcement<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Option<enforcement::Model>, EngineError> {
    Ok(Enforcements::find()
        .filter(enforcement::Column::AccountId.eq(account_id))
        .order_by_desc(enforcement::Column::EnforcedAt)
        .one(conn)
        .await?)
}

/// An account's enforcements, newest first.
pub async fn enforcements_of<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<enforcement::Model>, EngineError> {
    Ok(Enforcements::find()
        .filter(enforcement::Column::AccountId.eq(account_id))
        .order_by_desc(enforcement::Column::EnforcedAt)
        .all(conn)
        .await?)
}

/// The enforcement recorded under the platform's id, if any.
pub async fn find_by_external_id<C: ConnectionTrait>(
    conn: &C,
    external_id: &str,
) -> Result<Option<enforcement::Model>, EngineError> {
    Ok(Enforcements::find()
        .filter(enforcement::Column::ExternalId.eq(external_id))
        .one(conn)
        .await?)
}
