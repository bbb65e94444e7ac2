//! Export of enforcement statements in the JSON schema of the EU DSA Transparency Database
//! (the body of its `POST /api/v1/statements` endpoint), with the database's own checks of
//! required and conditional fields, so a batch is known to be acceptable before it is sent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use redress_core::{
    Automation, Ground, Restriction, RestrictionFamily, RestrictionKind, StatementOfReasons,
    TerritorialScope,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::enforcement;
use crate::error::EngineError;

/// The countries the Transparency Database accepts in `territorial_scope` (the EEA).
pub const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The statement categories of the Transparency Database.
pub const CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];

const CONTENT_TYPES: [&str; 8] = [
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];

const SOURCE_TYPES: [&str; 4] = [
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];

/// What the export needs to know that an enforcement does not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TdbSettings {
    /// Statement category per enforcement policy. Terms-of-service enforcements of a policy
    /// not listed fall back to `STATEMENT_CATEGORY_OTHER_VIOLATION_TC`; illegal-content ones
    /// must be listed.
    pub categories: BTreeMap<String, String>,
    /// Content type of enforcements that concern a piece of content.
    pub content_type: String,
}

impl Default for TdbSettings {
    fn default() -> Self {
        Self {
            categories: BTreeMap::new(),
            content_type: "CONTENT_TYPE_IMAGE".to_owned(),
        }
    }
}

/// One statement as the Transparency Database takes it. Absent optional fields are left
/// out rather than sent as null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TdbStatement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_visibility: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_visibility_restriction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_monetary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_monetary_restriction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_provision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_service_restriction: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_account_restriction: Option<String>,
    pub decision_ground: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub illegal_content_legal_ground: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub illegal_content_explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_ground: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_explanation: Option<String>,
    pub category: String,
    pub content_type: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type_other: Option<String>,
    pub territorial_scope: Vec<String>,
    pub content_date: String,
    pub application_date: String,
    pub decision_facts: String,
    pub source_type: String,
    pub automated_detection: String,
    pub automated_decision: String,
    pub puid: String,
}

/// A statement the Transparency Database would refuse, and the field it would name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TdbError {
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: impl Into<String>) -> TdbError {
    TdbError {
        field,
        reason: reason.into(),
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

fn wire(kind: RestrictionKind) -> &'static str {
    use RestrictionKind as K;
    match kind {
        K::ContentRemoved => "DECISION_VISIBILITY_CONTENT_REMOVED",
        K::ContentDisabled => "DECISION_VISIBILITY_CONTENT_DISABLED",
        K::ContentDemoted => "DECISION_VISIBILITY_CONTENT_DEMOTED",
        K::ContentAgeRestricted => "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
        K::InteractionRestricted => "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        K::ContentLabelled => "DECISION_VISIBILITY_CONTENT_LABELLED",
        K::AccountSuspended => "DECISION_ACCOUNT_SUSPENDED",
        K::AccountTerminated => "DECISION_ACCOUNT_TERMINATED",
        K::MonetarySuspended => "DECISION_MONETARY_SUSPENSION",
        K::MonetaryTerminated => "DECISION_MONETARY_TERMINATION",
        K::ServicePartiallySuspended => "DECISION_PROVISION_PARTIAL_SUSPENSION",
        K::ServiceSuspended => "DECISION_PROVISION_TOTAL_SUSPENSION",
        K::ServicePartiallyTerminated => "DECISION_PROVISION_PARTIAL_TERMINATION",
        K::ServiceTerminated => "DECISION_PROVISION_TOTAL_TERMINATION",
    }
}

/// The latest end among restrictions of one family; a family with an indefinite
/// restriction has no end date.
fn end_of<'a>(restrictions: impl Iterator<Item = &'a Restriction>) -> Option<String> {
    let mut latest = None;
    for restriction in restrictions {
        match restriction.ends_at {
            None => return None,
            Some(end) => latest = latest.max(Some(end)),
        }
    }
    latest.map(day)
}

/// Maps one enforcement to its Transparency Database statement.
pub fn to_tdb(
    enforcement: &enforcement::Model,
    statement: &StatementOfReasons,
    settings: &TdbSettings,
) -> Result<TdbStatement, TdbError> {
    let family = |f: RestrictionFamily| statement.restriction_of(f).collect::<Vec<_>>();
    let single = |f: RestrictionFamily, field: &'static str| match family(f).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(wire(one.kind).to_owned())),
        _ => Err(refuse(field, "takes one value")),
    };
    let visibility = family(RestrictionFamily::Visibility);
    let (decision_ground, legal, illegal_why, clause, terms_why) = match &statement.ground {
        Ground::IllegalContent {
            legal_ground,
            explanation,
        } => (
            "DECISION_GROUND_ILLEGAL_CONTENT",
            Some(legal_ground.clone()),
            Some(explanation.clone()),
            None,
            None,
        ),
        Ground::IncompatibleWithTerms {
            clause,
            explanation,
        } => (
            "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            None,
            None,
            Some(clause.clone()),
            Some(explanation.clone()),
        ),
    };
    let category = match (
        settings.categories.get(&enforcement.policy),
        &statement.ground,
    ) {
        (Some(category), _) => category.clone(),
        (None, Ground::IncompatibleWithTerms { .. }) => {
            "STATEMENT_CATEGORY_OTHER_VIOLATION_TC".to_owned()
        }
        (None, Ground::IllegalContent { .. }) => {
            return Err(refuse(
                "category",
                format!("no category configured for policy {:?}", enforcement.policy),
            ))
        }
    };
    let (content_type, content_type_other) = if enforcement.content_id.is_some() {
        (vec![settings.content_type.clone()], None)
    } else {
        (
            vec!["CONTENT_TYPE_OTHER".to_owned()],
            Some("account".to_owned()),
        )
    };
    let territorial_scope = match &statement.territorial_scope {
        TerritorialScope::Worldwide => EEA_COUNTRIES.iter().map(|c| (*c).to_owned()).collect(),
        TerritorialScope::Countries { countries } => countries
            .iter()
            .filter(|c| EEA_COUNTRIES.contains(&c.as_str()))
            .cloned()
            .collect(),
    };
    let application = statement
        .restrictions
        .iter()
        .map(|r| r.starts_at)
        .min()
        .unwrap_or(enforcement.enforced_at);
    let source_type = match enforcement.source_kind.as_str() {
        "notice" => "SOURCE_ARTICLE_16",
        "trusted_flagger" => "SOURCE_TRUSTED_FLAGGER",
        "other_notification" => "SOURCE_TYPE_OTHER_NOTIFICATION",
        _ => "SOURCE_VOLUNTARY",
    };
    let tdb = TdbStatement {
        decision_visibility: (!visibility.is_empty())
            .then(|| visibility.iter().map(|r| wire(r.kind).to_owned()).collect()),
        end_date_visibility_restriction: end_of(visibility.iter().copied()),
        decision_monetary: single(RestrictionFamily::Monetary, "decision_monetary")?,
        end_date_monetary_restriction: end_of(
            statement.restriction_of(RestrictionFamily::Monetary),
        ),
        decision_provision: single(RestrictionFamily::Service, "decision_provision")?,
        end_date_service_restriction: end_of(statement.restriction_of(RestrictionFamily::Service)),
        decision_account: single(RestrictionFamily::Account, "decision_account")?,
        end_date_account_restriction: end_of(statement.restriction_of(RestrictionFamily::Account)),
        decision_ground: decision_ground.to_owned(),
        illegal_content_legal_ground: legal,
        illegal_content_explanation: illegal_why,
        incompatible_content_ground: clause,
        incompatible_content_explanation: terms_why,
        category,
        content_type,
        content_type_other,
        territorial_scope,
        content_date: day(enforcement.enforced_at),
        application_date: day(application),
        decision_facts: statement.facts.clone(),
        source_type: source_type.to_owned(),
        automated_detection: if statement.automated_detection == Automation::Not {
            "No"
        } else {
            "Yes"
        }
        .to_owned(),
        automated_decision: match statement.automated_decision {
            Automation::Fully => "AUTOMATED_DECISION_FULLY",
            Automation::Partially => "AUTOMATED_DECISION_PARTIALLY",
            Automation::Not => "AUTOMATED_DECISION_NOT_AUTOMATED",
        }
        .to_owned(),
        puid: enforcement
            .external_id
            .clone()
            .unwrap_or_else(|| enforcement.id.to_string()),
    };
    validate(&tdb)?;
    Ok(tdb)
}

/// The most characters the Transparency Database takes for `decision_facts`.
pub const DECISION_FACTS_LIMIT: usize = redress_core::statement::FACTS_LIMIT;

fn text(field: &'static str, value: Option<&str>, limit: usize) -> Result<(), TdbError> {
    match value {
        None => Err(refuse(field, "is required")),
        Some(v) if v.trim().is_empty() => Err(refuse(field, "is required")),
        Some(v) if v.chars().count() > limit => {
            Err(refuse(field, format!("is limited to {limit} characters")))
        }
        Some(_) => Ok(()),
    }
}

fn date(field: &'static str, value: &str) -> Result<(), TdbError> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| refuse(field, "must be a date as YYYY-MM-DD"))
}

/// The Transparency Database's checks of required and conditional fields.
pub fn validate(s: &TdbStatement) -> Result<(), TdbError> {
    if s.decision_visibility.is_none()
        && s.decision_monetary.is_none()
        && s.decision_provision.is_none()
        && s.decision_account.is_none()
    {
        return Err(refuse(
            "decision_visibility",
            "one of decision_visibility, decision_monetary, decision_provision or decision_account is required",
        ));
    }
    match s.decision_ground.as_str() {
        "DECISION_GROUND_ILLEGAL_CONTENT" => {
            text(
                "illegal_content_legal_ground",
                s.illegal_content_legal_ground.as_deref(),
                500,
            )?;
            text(
                "illegal_content_explanation",
                s.illegal_content_explanation.as_deref(),
                2000,
            )?;
        }
        "DECISION_GROUND_INCOMPATIBLE_CONTENT" => {
            text(
                "incompatible_content_ground",
                s.incompatible_content_ground.as_deref(),
                500,
            )?;
            text(
                "incompatible_content_explanation",
                s.incompatible_content_explanation.as_deref(),
                2000,
            )?;
        }
        _ => return Err(refuse("decision_ground", "is required")),
    }
    if !CATEGORIES.contains(&s.category.as_str()) {
        return Err(refuse(
            "category",
            format!("{:?} is not a category", s.category),
        ));
    }
    if s.content_type.is_empty() {
        return Err(refuse("content_type", "is required"));
    }
    if let Some(unknown) = s
        .content_type
        .iter()
        .find(|t| !CONTENT_TYPES.contains(&t.as_str()))
    {
        return Err(refuse(
            "content_type",
            format!("{unknown:?} is not a content type"),
        ));
    }
    if s.content_type.iter().any(|t| t == "CONTENT_TYPE_OTHER") {
        text("content_type_other", s.content_type_other.as_deref(), 500)?;
    }
    if s.territorial_scope.is_empty() {
        return Err(refuse(
            "territorial_scope",
            "must name at least one EEA country",
        ));
    }
    if let Some(unknown) = s
        .territorial_scope
        .iter()
        .find(|c| !EEA_COUNTRIES.contains(&c.as_str()))
    {
        return Err(refuse(
            "territorial_scope",
            format!("{unknown:?} is not an EEA country"),
        ));
    }
    date("content_date", &s.content_date)?;
    date("application_date", &s.application_date)?;
    text(
        "decision_facts",
        Some(&s.decision_facts),
        DECISION_FACTS_LIMIT,
    )?;
    if !SOURCE_TYPES.contains(&s.source_type.as_str()) {
        return Err(refuse("source_type", "is required"));
    }
    if !["Yes", "No"].contains(&s.automated_detection.as_str()) {
        return Err(refuse("automated_detection", "must be Yes or No"));
    }
    if ![
        "AUTOMATED_DECISION_FULLY",
        "AUTOMATED_DECISION_PARTIALLY",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    ]
    .contains(&s.automated_decision.as_str())
    {
        return Err(refuse("automated_decision", "is required"));
    }
    text("puid", Some(&s.puid), 500)?;
    Ok(())
}

/// A statement left out of an export, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub enforcement_id: Uuid,
    pub field: &'static str,
    pub reason: String,
}

/// The statements of the enforcements of `[from, to)`, ready for the database's batch
/// endpoint, and those that would be refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdbExport {
    pub statements: Vec<TdbStatement>,
    pub rejected: Vec<Rejected>,
}

pub async fn export<C: ConnectionTrait>(
    conn: &C,
    settings: &TdbSettings,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TdbExport, EngineError> {
    let rows = enforcement::Entity::find()
        .filter(enforcement::Column::EnforcedAt.gte(from))
        .filter(enforcement::Column::EnforcedAt.lt(to))
        .order_by_asc(enforcement::Column::EnforcedAt)
        .order_by_asc(enforcement::Column::Id)
        .all(conn)
        .await?;
    let mut export = TdbExport {
        statements: Vec::with_capacity(rows.len()),
        rejected: Vec::new(),
    };
    for row in rows {
        let mapped = serde_json::from_value::<StatementOfReasons>(row.statement.clone())
            .map_err(|e| refuse("statement", e.to_string()))
            .and_then(|statement| to_tdb(&row, &statement, settings));
        match mapped {
            Ok(statement) => export.statements.push(statement),
            Err(error) => export.rejected.push(Rejected {
                enforcement_id: row.id,
                field: error.field,
                reason: error.reason,
            }),
        }
    }
    Ok(export)
}
