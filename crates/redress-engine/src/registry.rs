//! The embedded account registry as its readers see it: accounts, the enforcements the
//! platform recorded against them, and recording those enforcements.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use redress_core::Automation;
use uuid::Uuid;

use crate::engine::Engine;
pub use crate::entity::account::AccountStatus;
use crate::entity::{account, enforcement};
use crate::error::EngineError;
pub use crate::repo::enforcement_batch::BatchOutcome;
use crate::repo::registry;
pub use crate::repo::registry::NewEnforcement;
use crate::text::WithoutNul;

/// An account of the platform, as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The platform's account id.
    pub id: String,
    /// Personal data.
    pub email: Option<String>,
    pub status: AccountStatus,
    /// The account's locale as the platform last sent it (a BCP 47 tag).
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An enforcement as the platform recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct Enforcement {
    pub id: Uuid,
    /// The platform's own id of the action.
    pub external_id: Option<String>,
    pub account_id: String,
    /// The platform's name for the action, e.g. `account_deactivation`, `content_removal`.
    pub kind: String,
    pub policy: String,
    /// What decided it, e.g. `rule`, `model` or `batch`, in the platform's words.
    pub source_kind: String,
    pub source_id: String,
    pub batch_id: Option<String>,
    pub automated_detection: Automation,
    pub automated_decision: Automation,
    pub content_id: Option<String>,
    pub content_relation: Option<ContentRelation>,
    pub facts: String,
    /// The statement of reasons given to the account holder, as the platform sent it.
    pub statement: serde_json::Value,
    pub enforced_at: DateTime<Utc>,
    /// When Redress recorded it.
    pub created_at: DateTime<Utc>,
}

pub use redress_core::ContentRelation;

impl From<account::Model> for Account {
    fn from(row: account::Model) -> Self {
        Account {
            id: row.id,
            email: row.email,
            status: row.status,
            locale: row.locale,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Names the account a row that could not be read belongs to.
fn unreadable_account(err: EngineError, key: &str) -> EngineError {
    match err {
        EngineError::Corrupt { reason, .. } => EngineError::corrupt("account", key, reason),
        other => other,
    }
}

impl TryFrom<enforcement::Model> for Enforcement {
    type Error = EngineError;

    fn try_from(row: enforcement::Model) -> Result<Self, Self::Error> {
        let corrupt = |err: String| EngineError::corrupt("enforcement", row.id, err);
        let automation = |value: &str| {
            value
                .parse::<Automation>()
                .map_err(|e| corrupt(e.to_string()))
        };
        let automated_detection = automation(&row.automated_detection)?;
        let automated_decision = automation(&row.automated_decision)?;
        let content_relation = row
            .content_relation
            .as_deref()
            .map(ContentRelation::from_str)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?;
        Ok(Enforcement {
            id: row.id,
            external_id: row.external_id,
            account_id: row.account_id,
            kind: row.kind,
            policy: row.policy,
            source_kind: row.source_kind,
            source_id: row.source_id,
            batch_id: row.batch_id,
            automated_detection,
            automated_decision,
            content_id: row.content_id,
            content_relation,
            facts: row.facts,
            statement: row.statement,
            enforced_at: row.enforced_at,
            created_at: row.created_at,
        })
    }
}

impl Engine {
    pub async fn account(&self, id: &str) -> Result<Option<Account>, EngineError> {
        let row = registry::find_account(self.db(), id)
            .await
            .map_err(|err| unreadable_account(err, id))?;
        Ok(row.map(Account::from))
    }

    /// The account registered with this mail address (compared without case).
    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, EngineError> {
        let row = registry::find_account_by_email(self.db(), email)
            .await
            .map_err(|err| unreadable_account(err, email))?;
        Ok(row.map(Account::from))
    }

    pub async fn enforcement(&self, id: Uuid) -> Result<Option<Enforcement>, EngineError> {
        registry::find_enforcement(self.db(), id)
            .await?
            .map(Enforcement::try_from)
            .transpose()
    }

    /// An account's enforcements, newest first.
    pub async fn enforcements_of(&self, account_id: &str) -> Result<Vec<Enforcement>, EngineError> {
        registry::enforcements_of(self.db(), account_id)
            .await?
            .into_iter()
            .map(Enforcement::try_from)
            .collect()
    }

    /// Records a batch of enforcements in one transaction: all or none. Each id is returned
    /// in input order; an external id seen before returns the existing enforcement.
    pub async fn record_enforcements(
        &self,
        batch: Vec<NewEnforcement>,
    ) -> Result<Vec<Uuid>, EngineError> {
        let now = self.clock().now();
        self.transact_once(async |txn| {
            let mut ids = Vec::with_capacity(batch.len());
            for new in batch {
                ids.push(registry::record_enforcement(txn, new, now).await?);
            }
            Ok(ids)
        })
        .await
    }
}

/// The longest platform enforcement id a batch may carry.
pub const MAX_EXTERNAL_ID_LENGTH: usize = 200;

/// Why one enforcement of a batch was refused: the field (the wire name of
/// [`NewEnforcement`]'s) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRefusal {
    pub field: &'static str,
    pub message: String,
}

impl FieldRefusal {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Checks one enforcement of a bulk batch as [`Engine::ingest_enforcements`] will store it:
/// the platform's id is required (it makes a retried batch harmless), the texts that name
/// the enforcement must not be empty, the locale must be a language tag and the statement
/// of reasons complete and consistent.
pub fn check_enforcement(new: &NewEnforcement) -> Result<(), FieldRefusal> {
    match new.external_id.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(FieldRefusal::new(
                "external_id",
                "the platform's enforcement id is required",
            ))
        }
        Some(id) if id.chars().count() > MAX_EXTERNAL_ID_LENGTH => {
            return Err(FieldRefusal::new(
                "external_id",
                format!("longer than {MAX_EXTERNAL_ID_LENGTH} characters"),
            ))
        }
        Some(_) => {}
    }
    for (field, value) in [
        ("account_id", &new.account_id),
        ("kind", &new.kind),
        ("policy", &new.policy),
        ("source_kind", &new.source_kind),
        ("source_id", &new.source_id),
    ] {
        if value.trim().is_empty() {
            return Err(FieldRefusal::new(field, "must not be empty"));
        }
    }
    if let Some(locale) = new.account_locale.as_deref().map(str::trim) {
        if redress_core::language::primary_language(locale).is_none() {
            return Err(FieldRefusal::new(
                "account_locale",
                "is not a BCP 47 language tag (e.g. de-AT)",
            ));
        }
    }
    registry::enforcement_statement(new)
        .map(|_| ())
        .map_err(|err| FieldRefusal::new("statement", err.to_string()))
}

impl Engine {
    /// Records a batch of checked enforcements ([`check_enforcement`]) in one transaction,
    /// in a few statements on PostgreSQL. An enforcement whose platform id is recorded
    /// already is left as it is, and so is its account: sending a batch again writes
    /// nothing twice. The batch is borrowed, so a caller whose batch is refused as a whole
    /// can still write its items one by one.
    pub async fn ingest_enforcements(
        &self,
        batch: &[NewEnforcement],
    ) -> Result<BatchOutcome, EngineError> {
        let now = self.clock().now();
        // U+0000 is stored as U+FFFD, as everywhere else; only a batch that holds one is
        // copied.
        let batch: Cow<'_, [NewEnforcement]> = if batch.iter().any(NewEnforcement::holds_nul) {
            Cow::Owned(batch.iter().cloned().map(WithoutNul::without_nul).collect())
        } else {
            Cow::Borrowed(batch)
        };
        self.transact_once(async |txn| {
            crate::repo::enforcement_batch::record(txn, &batch, now).await
        })
        .await
    }
}
