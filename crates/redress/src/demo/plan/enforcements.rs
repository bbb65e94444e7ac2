//! What the platform did: the misfiring model's wave, and the everyday enforcements of
//! other sources around it, each with its statement of reasons, as the platform sends them.

use chrono::{DateTime, Utc};
use redress_core::{
    Automation, Ground, RedressOption, Restriction, RestrictionKind, StatementOfReasons,
    TerritorialScope,
};
use redress_engine::registry::{ContentRelation, NewEnforcement};

/// The model version that misfired, and the batch it ran in.
pub const FAULTY_MODEL: &str = "image-safety-v7.3";
pub const FAULTY_BATCH: &str = "image-safety-v7.3-rollout";
/// Everyday sources whose decisions mostly stand.
pub const SPAM_RULE: &str = "spam-links-r12";
pub const MODERATORS: &str = "trust-and-safety-team";

/// Which source an enforcement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    FaultyModel,
    SpamRule,
    Moderators,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::FaultyModel, Source::SpamRule, Source::Moderators];

    /// The policy its enforcements are under: one of the example configuration's catalog,
    /// which the demo imports.
    pub fn policy(self) -> &'static str {
        match self {
            Source::FaultyModel => "adult_content",
            Source::SpamRule => "spam",
            Source::Moderators => "harassment",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Source::FaultyModel => FAULTY_MODEL,
            Source::SpamRule => SPAM_RULE,
            Source::Moderators => MODERATORS,
        }
    }

    pub fn deactivates(self) -> bool {
        self != Source::Moderators
    }
}

/// One enforcement of the plan: the platform's record and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEnforcement {
    pub person: usize,
    pub source: Source,
    pub relation: ContentRelation,
    pub record: NewEnforcement,
}

impl PlannedEnforcement {
    pub fn enforced_at(&self) -> DateTime<Utc> {
        self.record.enforced_at
    }
}

fn statement(
    kind: RestrictionKind,
    starts_at: DateTime<Utc>,
    facts: String,
    detection: Automation,
    decision: Automation,
    clause: &str,
    explanation: &str,
) -> StatementOfReasons {
    StatementOfReasons {
        restrictions: vec![Restriction {
            kind,
            starts_at,
            ends_at: None,
        }],
        territorial_scope: TerritorialScope::Worldwide,
        facts,
        automated_detection: detection,
        automated_decision: decision,
        ground: Ground::IncompatibleWithTerms {
            clause: clause.to_owned(),
            explanation: explanation.to_owned(),
        },
        redress: vec![
            RedressOption::InternalComplaint,
            RedressOption::OutOfCourtDisputeSettlement,
            RedressOption::JudicialRedress,
        ],
    }
}

/// The statement of reasons the platform gave with an enforcement of `source`.
pub fn enforcement_statement(
    source: Source,
    relation: ContentRelation,
    content_id: &str,
    at: DateTime<Utc>,
) -> StatementOfReasons {
    match source {
        Source::FaultyModel => statement(
            RestrictionKind::AccountSuspended,
            at,
            format!(
                "Image {content_id}, which the account {relation}, was classified as adult nudity by {FAULTY_MODEL}."
            ),
            Automation::Fully,
            Automation::Fully,
            "Community guidelines, section 2.1 (nudity and sexual content)",
            "Accounts that post or collect adult nudity are deactivated.",
        ),
        Source::SpamRule => statement(
            RestrictionKind::AccountSuspended,
            at,
            format!("The account posted the link in {content_id} on more than 200 boards within an hour."),
            Automation::Fully,
            Automation::Fully,
            "Community guidelines, section 4.2 (spam)",
            "Repeated commercial posting is spam.",
        ),
        Source::Moderators => statement(
            RestrictionKind::ContentRemoved,
            at,
            format!("A moderator found that comment {content_id} targets another member with insults."),
            Automation::Partially,
            Automation::Not,
            "Community guidelines, section 2.4 (harassment)",
            "Insulting other members is harassment.",
        ),
    }
}

/// The statement a reviewer gives when the enforcement stands.
pub fn upheld_statement(enforcement: &PlannedEnforcement, facts: &str) -> StatementOfReasons {
    let kind = if enforcement.source.deactivates() {
        RestrictionKind::AccountSuspended
    } else {
        RestrictionKind::ContentRemoved
    };
    statement(
        kind,
        enforcement.enforced_at(),
        facts.to_owned(),
        Automation::Not,
        Automation::Not,
        match enforcement.source {
            Source::FaultyModel => "Community guidelines, section 2.1 (nudity and sexual content)",
            Source::SpamRule => "Community guidelines, section 4.2 (spam)",
            Source::Moderators => "Community guidelines, section 2.4 (harassment)",
        },
        "A reviewer looked at the content again and the enforcement stands.",
    )
}

/// The platform's record of an enforcement of `source` against `account`.
pub fn record(
    index: usize,
    account_id: &str,
    email: &str,
    source: Source,
    relation: ContentRelation,
    at: DateTime<Utc>,
) -> NewEnforcement {
    let content_id = match source {
        Source::Moderators => format!("comment-{:09}", 500_000_000 + index * 37),
        _ => format!("pin-{:09}", 100_000_000 + index * 7919),
    };
    let statement = enforcement_statement(source, relation, &content_id, at);
    let kind = if source.deactivates() {
        "account_deactivation"
    } else {
        "content_removal"
    };
    let policy = source.policy();
    NewEnforcement {
        external_id: Some(format!("enf-{index:08}")),
        account_id: account_id.to_owned(),
        account_email: Some(email.to_owned()),
        account_locale: None,
        kind: kind.to_owned(),
        policy: policy.to_owned(),
        source_kind: match source {
            Source::FaultyModel => "model",
            Source::SpamRule => "rule",
            Source::Moderators => "moderator",
        }
        .to_owned(),
        source_id: source.id().to_owned(),
        batch_id: (source == Source::FaultyModel).then(|| FAULTY_BATCH.to_owned()),
        automated_detection: statement.automated_detection.as_str().to_owned(),
        automated_decision: statement.automated_decision.as_str().to_owned(),
        content_id: Some(content_id),
        content_relation: Some(relation.as_str().to_owned()),
        facts: statement.facts.clone(),
        statement: serde_json::to_value(&statement).unwrap_or_default(),
        enforced_at: at,
    }
}
