//! Enforcement statements in the JSON schema of the EU DSA Transparency Database (the
//! statements of its batch endpoint, `POST /api/v1/statements`), mapped deterministically,
//! and the database's own checks of every field (its `GroupedSubmissionsService` rules), so
//! a statement is known to be acceptable before it is sent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use redress_core::{
    Automation, Ground, Restriction, RestrictionFamily, RestrictionKind, StatementOfReasons,
    TerritorialScope,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entity::enforcement;
use crate::error::EngineError;

/// The countries the Transparency Database accepts in `territorial_scope` (the EEA).
pub const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub use redress_core::policy::STATEMENT_CATEGORIES as CATEGORIES;

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
// A misspelt field in an operator's correction is refused by name, not dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Why the Transparency Database would refuse a statement, field by field, in the shape of
/// its own 422 answers: `{"field": ["message", ...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `field` is among the refused ones.
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    fn into_result(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, messages) in &self.0 {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

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

// `DECISION_VISIBILITY_OTHER` and `DECISION_MONETARY_OTHER` are left out: the database then
// requires a `*_other` text this schema does not carry, so Redress refuses them itself.
const VISIBILITIES: [&str; 6] = [
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
];
const MONETARIES: [&str; 2] = [
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
];
const PROVISIONS: [&str; 4] = [
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
];
const ACCOUNTS: [&str; 2] = ["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"];
const AUTOMATED_DECISIONS: [&str; 3] = [
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];

/// The most characters the Transparency Database takes for `decision_facts`.
pub const DECISION_FACTS_LIMIT: usize = redress_core::statement::FACTS_LIMIT;
/// The most characters of a PUID.
pub const PUID_LIMIT: usize = 500;
/// The most statements one call of the batch endpoint takes.
pub const BATCH_LIMIT: usize = 100;
/// Earliest `application_date` the database takes.
pub const EARLIEST_APPLICATION: NaiveDate = date_of(2020, 1, 1);
/// Earliest `content_date` the database takes.
pub const EARLIEST_CONTENT: NaiveDate = date_of(2000, 1, 1);
/// Latest date of any date field the database takes.
pub const LATEST_DATE: NaiveDate = date_of(2038, 1, 1);
/// The prefix of a PUID derived from a platform id that does not fit the PUID pattern.
pub const DERIVED_PUID_PREFIX: &str = "rdx-";

const fn date_of(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// Whether `value` is a PUID the database takes: 1 to 500 of `a-z A-Z 0-9 - _`.
pub fn fits_puid(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= PUID_LIMIT
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The PUID of an enforcement: the platform's id when it fits the database's pattern,
/// else `rdx-` and the SHA-256 of the platform's id in hex (the same id always gives the
/// same PUID, on every replica and every run); the enforcement's own id when the platform
/// gave none.
pub fn puid_for(external_id: Option<&str>, enforcement_id: Uuid) -> String {
    match external_id {
        None => enforcement_id.to_string(),
        Some(id) if fits_puid(id) => id.to_owned(),
        Some(id) => format!(
            "{DERIVED_PUID_PREFIX}{}",
            hex::encode(Sha256::digest(id.as_bytes()))
        ),
    }
}

/// The latest end among restrictions of one family; a family with an indefinite
/// restriction has no end date.
fn end_of<'a>(restrictions: impl Iterator<Item = &'a Restriction>) -> Option<DateTime<Utc>> {
    let mut latest = None;
    for restriction in restrictions {
        match restriction.ends_at {
            None => return None,
            Some(end) => latest = latest.max(Some(end)),
        }
    }
    latest
}

/// A statement ready for the database, and what the mapping changed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub statement: TdbStatement,
    pub notes: Vec<String>,
}

fn trimmed(value: &str) -> String {
    value.trim().to_owned()
}

/// Maps one enforcement to its Transparency Database statement and checks it with the
/// database's rules. Deterministic: the same enforcement always maps to the same statement.
pub fn to_tdb(
    enforcement: &enforcement::Model,
    statement: &StatementOfReasons,
    settings: &TdbSettings,
) -> Result<Mapped, FieldErrors> {
    let (mapped, errors) = draft(enforcement, statement, settings);
    errors.into_result()?;
    Ok(mapped)
}

/// The statement an enforcement maps to, and every reason the database would refuse it
/// (the mapping's and [`validate`]'s); the statement is there for an operator to correct
/// even when it would be refused.
pub fn draft(
    enforcement: &enforcement::Model,
    statement: &StatementOfReasons,
    settings: &TdbSettings,
) -> (Mapped, FieldErrors) {
    let mut errors = FieldErrors::default();
    let mut notes = Vec::new();
    let family = |f: RestrictionFamily| statement.restriction_of(f).collect::<Vec<_>>();
    let mut single = |f: RestrictionFamily, field: &'static str| match family(f).as_slice() {
        [] => None,
        [one] => Some(wire(one.kind).to_owned()),
        _ => {
            errors.add(field, "takes one value");
            None
        }
    };
    let decision_monetary = single(RestrictionFamily::Monetary, "decision_monetary");
    let decision_provision = single(RestrictionFamily::Service, "decision_provision");
    let decision_account = single(RestrictionFamily::Account, "decision_account");
    let visibility = family(RestrictionFamily::Visibility);
    let (decision_ground, legal, illegal_why, clause, terms_why) = match &statement.ground {
        Ground::IllegalContent {
            legal_ground,
            explanation,
        } => (
            "DECISION_GROUND_ILLEGAL_CONTENT",
            Some(trimmed(legal_ground)),
            Some(trimmed(explanation)),
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
            Some(trimmed(clause)),
            Some(trimmed(explanation)),
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
            errors.add(
                "category",
                format!("no category configured for policy {:?}", enforcement.policy),
            );
            String::new()
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
        TerritorialScope::Countries { countries } => {
            let (inside, outside): (BTreeSet<&str>, BTreeSet<&str>) = countries
                .iter()
                .map(String::as_str)
                .partition(|c| EEA_COUNTRIES.contains(c));
            if !outside.is_empty() {
                let outside: Vec<&str> = outside.into_iter().collect();
                notes.push(format!(
                    "countries outside the EEA left out of territorial_scope: {}",
                    outside.join(", ")
                ));
            }
            if inside.is_empty() {
                notes.push(
                    "the restriction applies in no EEA country; territorial_scope is empty"
                        .to_owned(),
                );
            }
            inside.into_iter().map(str::to_owned).collect()
        }
    };
    let application = statement
        .restrictions
        .iter()
        .map(|r| r.starts_at)
        .min()
        .unwrap_or(enforcement.enforced_at);
    let mut end_date = |family: RestrictionFamily, field: &str| {
        let end = end_of(statement.restriction_of(family))?;
        if end.date_naive() > LATEST_DATE {
            notes.push(format!(
                "{field}: ends {} after the latest date the database takes ({LATEST_DATE}); \
                 reported as indefinite",
                day(end)
            ));
            return None;
        }
        Some(day(end))
    };
    let end_date_visibility_restriction = end_date(
        RestrictionFamily::Visibility,
        "end_date_visibility_restriction",
    );
    let end_date_monetary_restriction =
        end_date(RestrictionFamily::Monetary, "end_date_monetary_restriction");
    let end_date_service_restriction =
        end_date(RestrictionFamily::Service, "end_date_service_restriction");
    let end_date_account_restriction =
        end_date(RestrictionFamily::Account, "end_date_account_restriction");
    let source_type = match enforcement.source_kind.as_str() {
        "notice" => "SOURCE_ARTICLE_16",
        "trusted_flagger" => "SOURCE_TRUSTED_FLAGGER",
        "other_notification" => "SOURCE_TYPE_OTHER_NOTIFICATION",
        _ => "SOURCE_VOLUNTARY",
    };
    let puid = puid_for(enforcement.external_id.as_deref(), enforcement.id);
    if let Some(external) = &enforcement.external_id {
        if *external != puid {
            notes.push(format!(
                "the platform id does not fit the PUID pattern; the PUID is {puid}"
            ));
        }
    }
    let tdb = TdbStatement {
        decision_visibility: (!visibility.is_empty())
            .then(|| visibility.iter().map(|r| wire(r.kind).to_owned()).collect()),
        end_date_visibility_restriction,
        decision_monetary,
        end_date_monetary_restriction,
        decision_provision,
        end_date_service_restriction,
        decision_account,
        end_date_account_restriction,
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
        decision_facts: trimmed(&statement.facts),
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
        puid,
    };
    if let Err(found) = validate(&tdb) {
        for (field, messages) in found.0 {
            for message in messages {
                if !errors.0.get(&field).is_some_and(|m| m.contains(&message)) {
                    errors.add(&field, message);
                }
            }
        }
    }
    (
        Mapped {
            statement: tdb,
            notes,
        },
        errors,
    )
}

/// A free text as the database reads it: trimmed (its middleware trims every string and
/// turns an empty one into null), required, at most `limit` characters.
fn text(errors: &mut FieldErrors, field: &str, value: Option<&str>, limit: usize) {
    match value.map(str::trim) {
        None | Some("") => errors.add(field, "is required"),
        Some(v) if v.chars().count() > limit => {
            errors.add(field, format!("may not be greater than {limit} characters"));
        }
        Some(_) => {}
    }
}

fn one_of(errors: &mut FieldErrors, field: &str, value: &str, allowed: &[&str]) {
    if value.trim().is_empty() {
        errors.add(field, "is required");
    } else if !allowed.contains(&value) {
        errors.add(
            field,
            format!("{value:?} is not one of the accepted values"),
        );
    }
}

fn date(errors: &mut FieldErrors, field: &str, value: Option<&str>, earliest: Option<NaiveDate>) {
    let Some(value) = value else { return };
    let Ok(parsed) = NaiveDate::parse_from_str(value, "%Y-%m-%d") else {
        errors.add(field, "does not match the format YYYY-MM-DD");
        return;
    };
    // `Y-m-d` with leading zeroes exactly; chrono also reads `2026-5-2`.
    if parsed.format("%Y-%m-%d").to_string() != value {
        errors.add(field, "does not match the format YYYY-MM-DD");
    } else if let Some(earliest) = earliest.filter(|earliest| parsed < *earliest) {
        errors.add(field, format!("must be on or after {earliest}"));
    } else if parsed > LATEST_DATE {
        errors.add(field, format!("must be on or before {LATEST_DATE}"));
    }
}

/// The Transparency Database's checks of the batch endpoint (its `multi_rules`), every
/// field at once, after its trimming of strings.
pub fn validate(s: &TdbStatement) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    let visibility = s.decision_visibility.as_ref().filter(|v| !v.is_empty());
    if visibility.is_none()
        && s.decision_monetary.is_none()
        && s.decision_provision.is_none()
        && s.decision_account.is_none()
    {
        errors.add(
            "decision_visibility",
            "is required when none of decision_monetary, decision_provision, decision_account are present",
        );
    }
    for value in visibility.into_iter().flatten() {
        one_of(&mut errors, "decision_visibility", value, &VISIBILITIES);
    }
    if let Some(value) = &s.decision_monetary {
        one_of(&mut errors, "decision_monetary", value, &MONETARIES);
    }
    if let Some(value) = &s.decision_provision {
        one_of(&mut errors, "decision_provision", value, &PROVISIONS);
    }
    if let Some(value) = &s.decision_account {
        one_of(&mut errors, "decision_account", value, &ACCOUNTS);
    }
    match s.decision_ground.as_str() {
        "DECISION_GROUND_ILLEGAL_CONTENT" => {
            text(
                &mut errors,
                "illegal_content_legal_ground",
                s.illegal_content_legal_ground.as_deref(),
                500,
            );
            text(
                &mut errors,
                "illegal_content_explanation",
                s.illegal_content_explanation.as_deref(),
                2000,
            );
        }
        "DECISION_GROUND_INCOMPATIBLE_CONTENT" => {
            text(
                &mut errors,
                "incompatible_content_ground",
                s.incompatible_content_ground.as_deref(),
                500,
            );
            text(
                &mut errors,
                "incompatible_content_explanation",
                s.incompatible_content_explanation.as_deref(),
                2000,
            );
        }
        "" => errors.add("decision_ground", "is required"),
        other => errors.add(
            "decision_ground",
            format!("{other:?} is not one of the accepted values"),
        ),
    }
    one_of(&mut errors, "category", &s.category, &CATEGORIES);
    if s.content_type.is_empty() {
        errors.add("content_type", "is required");
    }
    for value in &s.content_type {
        one_of(&mut errors, "content_type", value, &CONTENT_TYPES);
    }
    if s.content_type.iter().any(|t| t == "CONTENT_TYPE_OTHER") {
        text(
            &mut errors,
            "content_type_other",
            s.content_type_other.as_deref(),
            500,
        );
    }
    for value in &s.territorial_scope {
        one_of(&mut errors, "territorial_scope", value, &EEA_COUNTRIES);
    }
    if s.content_date.trim().is_empty() {
        errors.add("content_date", "is required");
    }
    date(
        &mut errors,
        "content_date",
        Some(&s.content_date)
            .filter(|d| !d.trim().is_empty())
            .map(String::as_str),
        Some(EARLIEST_CONTENT),
    );
    if s.application_date.trim().is_empty() {
        errors.add("application_date", "is required");
    }
    date(
        &mut errors,
        "application_date",
        Some(&s.application_date)
            .filter(|d| !d.trim().is_empty())
            .map(String::as_str),
        Some(EARLIEST_APPLICATION),
    );
    for (field, value) in [
        (
            "end_date_visibility_restriction",
            &s.end_date_visibility_restriction,
        ),
        (
            "end_date_monetary_restriction",
            &s.end_date_monetary_restriction,
        ),
        (
            "end_date_service_restriction",
            &s.end_date_service_restriction,
        ),
        (
            "end_date_account_restriction",
            &s.end_date_account_restriction,
        ),
    ] {
        date(&mut errors, field, value.as_deref(), None);
    }
    text(
        &mut errors,
        "decision_facts",
        Some(&s.decision_facts),
        DECISION_FACTS_LIMIT,
    );
    one_of(&mut errors, "source_type", &s.source_type, &SOURCE_TYPES);
    one_of(
        &mut errors,
        "automated_detection",
        &s.automated_detection,
        &["Yes", "No"],
    );
    one_of(
        &mut errors,
        "automated_decision",
        &s.automated_decision,
        &AUTOMATED_DECISIONS,
    );
    if s.puid.trim().is_empty() {
        errors.add("puid", "is required");
    } else if s.puid.chars().count() > PUID_LIMIT {
        errors.add(
            "puid",
            format!("may not be greater than {PUID_LIMIT} characters"),
        );
    } else if !fits_puid(&s.puid) {
        errors.add("puid", "format is invalid");
    }
    errors.into_result()
}

/// Reads an enforcement's stored statement of reasons and drafts its statement; `Err` when
/// the stored statement is unreadable.
pub fn draft_enforcement(
    row: &enforcement::Model,
    settings: &TdbSettings,
) -> Result<(Mapped, FieldErrors), FieldErrors> {
    let statement = serde_json::from_value::<StatementOfReasons>(row.statement.clone())
        .map_err(|e| FieldErrors::one("statement", format!("unreadable: {e}")))?;
    Ok(draft(row, &statement, settings))
}

/// Reads an enforcement's stored statement of reasons and maps it.
pub fn map_enforcement(
    row: &enforcement::Model,
    settings: &TdbSettings,
) -> Result<Mapped, FieldErrors> {
    let (mapped, errors) = draft_enforcement(row, settings)?;
    errors.into_result()?;
    Ok(mapped)
}

/// A statement left out of an export, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub enforcement_id: Uuid,
    pub errors: FieldErrors,
}

/// The statements of the enforcements of `[from, to)`, ready for the database's batch
/// endpoint, and those that would be refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdbExport {
    pub statements: Vec<TdbStatement>,
    pub rejected: Vec<Rejected>,
}

impl TdbExport {
    /// The statements in bodies the batch endpoint takes: at most [`BATCH_LIMIT`] each.
    pub fn batches(&self) -> impl Iterator<Item = &[TdbStatement]> {
        self.statements.chunks(BATCH_LIMIT)
    }
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
        match map_enforcement(&row, settings) {
            Ok(mapped) => export.statements.push(mapped.statement),
            Err(errors) => export.rejected.push(Rejected {
                enforcement_id: row.id,
                errors,
            }),
        }
    }
    Ok(export)
}
