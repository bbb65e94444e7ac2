//! The statement of reasons that the EU Digital Services Act (Art. 17) asks for with every
//! restriction: what was restricted, for how long and where; the facts; how much of it was
//! automated; the ground; and what the person can do about it.
//!
//! Enforcements carry one, and so do appeal decisions that keep a restriction in place.
//! A statement is only accepted once [`StatementOfReasons::validate`] passes, so every
//! stored statement is complete.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::wire_enum;

wire_enum!(
    /// The restriction imposed, in the four families of Art. 17(1): visibility of content,
    /// the account, monetary payments, and the provision of the service.
    RestrictionKind, "restriction kind" {
        ContentRemoved => "content_removed",
        ContentDisabled => "content_disabled",
        ContentDemoted => "content_demoted",
        ContentAgeRestricted => "content_age_restricted",
        InteractionRestricted => "interaction_restricted",
        ContentLabelled => "content_labelled",
        AccountSuspended => "account_suspended",
        AccountTerminated => "account_terminated",
        MonetarySuspended => "monetary_suspended",
        MonetaryTerminated => "monetary_terminated",
        ServicePartiallySuspended => "service_partially_suspended",
        ServiceSuspended => "service_suspended",
        ServicePartiallyTerminated => "service_partially_terminated",
        ServiceTerminated => "service_terminated",
    }
);

wire_enum!(
    /// The family a restriction belongs to; the Transparency Database reports each family
    /// in its own field.
    RestrictionFamily, "restriction family" {
        Visibility => "visibility",
        Account => "account",
        Monetary => "monetary",
        Service => "service",
    }
);

impl RestrictionKind {
    pub fn family(self) -> RestrictionFamily {
        use RestrictionKind as K;
        match self {
            K::ContentRemoved
            | K::ContentDisabled
            | K::ContentDemoted
            | K::ContentAgeRestricted
            | K::InteractionRestricted
            | K::ContentLabelled => RestrictionFamily::Visibility,
            K::AccountSuspended | K::AccountTerminated => RestrictionFamily::Account,
            K::MonetarySuspended | K::MonetaryTerminated => RestrictionFamily::Monetary,
            K::ServicePartiallySuspended
            | K::ServiceSuspended
            | K::ServicePartiallyTerminated
            | K::ServiceTerminated => RestrictionFamily::Service,
        }
    }

    /// Terminations are permanent by definition, so they cannot carry an end date.
    pub fn is_termination(self) -> bool {
        matches!(
            self,
            RestrictionKind::AccountTerminated
                | RestrictionKind::MonetaryTerminated
                | RestrictionKind::ServicePartiallyTerminated
                | RestrictionKind::ServiceTerminated
        )
    }
}

wire_enum!(
    /// How far a step was automated (Art. 17(3)(c)).
    Automation, "automation" {
        Fully => "fully",
        Partially => "partially",
        Not => "not",
    }
);

wire_enum!(
    /// What the account did with the content an enforcement is about.
    ContentRelation, "content relation" {
        Created => "created",
        Saved => "saved",
        Shared => "shared",
    }
);

wire_enum!(
    /// What the person can do about the restriction (Art. 17(3)(f)).
    RedressOption, "redress option" {
        InternalComplaint => "internal_complaint",
        OutOfCourtDisputeSettlement => "out_of_court_dispute_settlement",
        JudicialRedress => "judicial_redress",
    }
);

/// One restriction and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restriction {
    pub kind: RestrictionKind,
    pub starts_at: DateTime<Utc>,
    /// `None` means until further notice.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
}

/// Where the restriction applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum TerritorialScope {
    /// Everywhere the service is offered.
    Worldwide,
    /// Only in these countries (ISO 3166-1 alpha-2 codes, upper case).
    Countries { countries: Vec<String> },
}

/// Why the restriction was imposed (Art. 17(3)(d) and (e)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ground", rename_all = "snake_case")]
pub enum Ground {
    /// The content is illegal: the legal provision relied on and why it applies.
    IllegalContent {
        legal_ground: String,
        explanation: String,
    },
    /// The content is incompatible with the terms of service: the clause and why.
    IncompatibleWithTerms { clause: String, explanation: String },
}

/// The most characters of a statement's facts the EU Transparency Database takes
/// (`decision_facts`): the export refuses more, and texts that end up there are held to it.
pub const FACTS_LIMIT: usize = 5000;

/// A complete statement of reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementOfReasons {
    pub restrictions: Vec<Restriction>,
    pub territorial_scope: TerritorialScope,
    /// The facts and circumstances relied on.
    pub facts: String,
    pub automated_detection: Automation,
    pub automated_decision: Automation,
    pub ground: Ground,
    pub redress: Vec<RedressOption>,
}

/// Why a statement of reasons is incomplete or contradictory; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statement of reasons: {field} {reason}")]
pub struct StatementError {
    pub field: &'static str,
    pub reason: &'static str,
}

fn invalid(field: &'static str, reason: &'static str) -> StatementError {
    StatementError { field, reason }
}

fn required(field: &'static str, value: &str) -> Result<(), StatementError> {
    if value.trim().is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

impl StatementOfReasons {
    /// Checks that every field Art. 17 requires is present and that the statement does not
    /// contradict itself. The first problem found is returned.
    pub fn validate(&self) -> Result<(), StatementError> {
        self.validate_restrictions()?;
        self.validate_scope()?;
        required("facts", &self.facts)?;
        match &self.ground {
            Ground::IllegalContent {
                legal_ground,
                explanation,
            } => {
                required("ground.legal_ground", legal_ground)?;
                required("ground.explanation", explanation)?;
            }
            Ground::IncompatibleWithTerms {
                clause,
                explanation,
            } => {
                required("ground.clause", clause)?;
                required("ground.explanation", explanation)?;
            }
        }
        if self.redress.is_empty() {
            return Err(invalid("redress", "must name at least one redress option"));
        }
        if has_duplicates(&self.redress) {
            return Err(invalid("redress", "names an option twice"));
        }
        Ok(())
    }

    fn validate_restrictions(&self) -> Result<(), StatementError> {
        if self.restrictions.is_empty() {
            return Err(invalid(
                "restrictions",
                "must name at least one restriction",
            ));
        }
        let kinds: Vec<RestrictionKind> = self.restrictions.iter().map(|r| r.kind).collect();
        if has_duplicates(&kinds) {
            return Err(invalid("restrictions", "names a restriction twice"));
        }
        let account_measures = kinds
            .iter()
            .filter(|k| k.family() == RestrictionFamily::Account)
            .count();
        if account_measures > 1 {
            return Err(invalid(
                "restrictions",
                "an account is either suspended or terminated, not both",
            ));
        }
        for restriction in &self.restrictions {
            match restriction.ends_at {
                Some(_) if restriction.kind.is_termination() => {
                    return Err(invalid(
                        "restrictions.ends_at",
                        "a termination is permanent and has no end",
                    ));
                }
                Some(end) if end <= restriction.starts_at => {
                    return Err(invalid("restrictions.ends_at", "must be after starts_at"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn validate_scope(&self) -> Result<(), StatementError> {
        let TerritorialScope::Countries { countries } = &self.territorial_scope else {
            return Ok(());
        };
        if countries.is_empty() {
            return Err(invalid(
                "territorial_scope.countries",
                "must name at least one country",
            ));
        }
        let well_formed =
            |code: &String| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
        if !countries.iter().all(well_formed) {
            return Err(invalid(
                "territorial_scope.countries",
                "must be ISO 3166-1 alpha-2 codes in upper case",
            ));
        }
        if has_duplicates(countries) {
            return Err(invalid(
                "territorial_scope.countries",
                "names a country twice",
            ));
        }
        Ok(())
    }

    /// The restriction of one family, if the statement imposes one.
    pub fn restriction_of(&self, family: RestrictionFamily) -> impl Iterator<Item = &Restriction> {
        self.restrictions
            .iter()
            .filter(move |r| r.kind.family() == family)
    }
}

fn has_duplicates<T: Ord + Clone>(items: &[T]) -> bool {
    let mut sorted = items.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0)
            .single()
            .expect("valid date")
    }

    fn statement() -> StatementOfReasons {
        StatementOfReasons {
            restrictions: vec![Restriction {
                kind: RestrictionKind::AccountSuspended,
                starts_at: t0(),
                ends_at: Some(t0() + TimeDelta::days(30)),
            }],
            territorial_scope: TerritorialScope::Worldwide,
            facts: "Twelve pins linking to counterfeit goods were created in one hour.".into(),
            automated_detection: Automation::Fully,
            automated_decision: Automation::Partially,
            ground: Ground::IncompatibleWithTerms {
                clause: "Community guidelines 4.2 (spam)".into(),
                explanation: "Mass-posting commercial links is spam under 4.2.".into(),
            },
            redress: vec![
                RedressOption::InternalComplaint,
                RedressOption::OutOfCourtDisputeSettlement,
                RedressOption::JudicialRedress,
            ],
        }
    }

    fn rejected(statement: &StatementOfReasons) -> &'static str {
        statement.validate().expect_err("invalid statement").field
    }

    #[test]
    fn a_complete_statement_is_valid() {
        assert_eq!(statement().validate(), Ok(()));
    }

    #[test]
    fn a_statement_without_restrictions_is_rejected() {
        let mut s = statement();
        s.restrictions.clear();
        assert_eq!(rejected(&s), "restrictions");
    }

    #[test]
    fn blank_facts_are_rejected() {
        let mut s = statement();
        s.facts = "  ".into();
        assert_eq!(rejected(&s), "facts");
    }

    #[test]
    fn an_illegal_content_ground_needs_its_legal_provision() {
        let mut s = statement();
        s.ground = Ground::IllegalContent {
            legal_ground: String::new(),
            explanation: "Counterfeit trade mark goods.".into(),
        };
        assert_eq!(rejected(&s), "ground.legal_ground");
    }

    #[test]
    fn a_terms_ground_needs_its_clause_and_explanation() {
        let mut s = statement();
        s.ground = Ground::IncompatibleWithTerms {
            clause: "4.2".into(),
            explanation: String::new(),
        };
        assert_eq!(rejected(&s), "ground.explanation");
        s.ground = Ground::IncompatibleWithTerms {
            clause: " ".into(),
            explanation: "spam".into(),
        };
        assert_eq!(rejected(&s), "ground.clause");
    }

    #[test]
    fn redress_options_are_required_and_unique() {
        let mut s = statement();
        s.redress.clear();
        assert_eq!(rejected(&s), "redress");
        s.redress = vec![
            RedressOption::JudicialRedress,
            RedressOption::JudicialRedress,
        ];
        assert_eq!(rejected(&s), "redress");
    }

    #[test]
    fn a_restriction_cannot_end_before_it_starts() {
        let mut s = statement();
        s.restrictions[0].ends_at = Some(t0() - TimeDelta::hours(1));
        assert_eq!(rejected(&s), "restrictions.ends_at");
    }

    #[test]
    fn a_termination_has_no_end() {
        let mut s = statement();
        s.restrictions[0].kind = RestrictionKind::AccountTerminated;
        assert_eq!(rejected(&s), "restrictions.ends_at");
        s.restrictions[0].ends_at = None;
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn an_account_is_not_both_suspended_and_terminated() {
        let mut s = statement();
        s.restrictions.push(Restriction {
            kind: RestrictionKind::AccountTerminated,
            starts_at: t0(),
            ends_at: None,
        });
        assert_eq!(rejected(&s), "restrictions");
    }

    #[test]
    fn countries_must_be_iso_codes() {
        let mut s = statement();
        s.territorial_scope = TerritorialScope::Countries {
            countries: vec!["DE".into(), "fr".into()],
        };
        assert_eq!(rejected(&s), "territorial_scope.countries");
        s.territorial_scope = TerritorialScope::Countries { countries: vec![] };
        assert_eq!(rejected(&s), "territorial_scope.countries");
        s.territorial_scope = TerritorialScope::Countries {
            countries: vec!["DE".into(), "FR".into()],
        };
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn the_wire_format_round_trips() {
        let s = statement();
        let json = serde_json::to_value(&s).expect("serialise");
        assert_eq!(json["ground"]["ground"], "incompatible_with_terms");
        assert_eq!(json["territorial_scope"]["scope"], "worldwide");
        assert_eq!(json["restrictions"][0]["kind"], "account_suspended");
        let back: StatementOfReasons = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, s);
    }
}
