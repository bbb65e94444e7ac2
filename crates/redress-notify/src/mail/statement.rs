//! A statement of reasons (DSA Art. 17) as plain text for a decision mail, in the mail's
//! language (English where there is no translation).

use std::fmt::Write;

use redress_core::statement::{
    Automation, Ground, RedressOption, RestrictionKind, StatementOfReasons, TerritorialScope,
};
use redress_engine::transparency::EnforcementFacts;

use crate::case_details::DisputeSettlementBody;

struct Labels {
    restriction: &'static str,
    until_further_notice: &'static str,
    until: &'static str,
    scope: &'static str,
    worldwide: &'static str,
    facts: &'static str,
    detection: &'static str,
    decision: &'static str,
    ground: &'static str,
    terms: &'static str,
    illegal: &'static str,
    automation: fn(Automation) -> &'static str,
    kind: fn(RestrictionKind) -> &'static str,
    option: fn(RedressOption) -> &'static str,
    what: &'static str,
    when: &'static str,
    policy: &'static str,
    bodies: &'static str,
    unknown_enforcement: &'static str,
}

const EN: Labels = Labels {
    restriction: "Restriction",
    until_further_notice: "until further notice",
    until: "until",
    scope: "Where it applies",
    worldwide: "everywhere the service is offered",
    facts: "Facts",
    detection: "Detected automatically",
    decision: "Decided automatically",
    ground: "Ground",
    terms: "incompatible with our terms",
    illegal: "illegal content under",
    automation: |a| match a {
        Automation::Fully => "fully",
        Automation::Partially => "partially",
        Automation::Not => "no",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "content removed",
        RestrictionKind::ContentDisabled => "content disabled",
        RestrictionKind::ContentDemoted => "content demoted",
        RestrictionKind::ContentAgeRestricted => "content age-restricted",
        RestrictionKind::InteractionRestricted => "interaction restricted",
        RestrictionKind::ContentLabelled => "content labelled",
        RestrictionKind::AccountSuspended => "account suspended",
        RestrictionKind::AccountTerminated => "account terminated",
        RestrictionKind::MonetarySuspended => "payments suspended",
        RestrictionKind::MonetaryTerminated => "payments terminated",
        RestrictionKind::ServicePartiallySuspended => "service partially suspended",
        RestrictionKind::ServiceSuspended => "service suspended",
        RestrictionKind::ServicePartiallyTerminated => "service partially terminated",
        RestrictionKind::ServiceTerminated => "service terminated",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "reply to this message to have the decision reviewed again"
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "refer the dispute to a certified out-of-court dispute settlement body"
        }
        RedressOption::JudicialRedress => "seek redress before a court",
    },
    what: "What was restricted",
    when: "When",
    policy: "Under which policy",
    bodies: "for example",
    unknown_enforcement: "We could not yet tell which of our decisions you appeal. If you \
                          can, reply with the date and what was restricted.",
};

const DE: Labels = Labels {
    restriction: "Beschränkung",
    until_further_notice: "bis auf Weiteres",
    until: "bis",
    scope: "Geltungsbereich",
    worldwide: "überall, wo der Dienst angeboten wird",
    facts: "Sachverhalt",
    detection: "Automatisch erkannt",
    decision: "Automatisch entschieden",
    ground: "Grund",
    terms: "unvereinbar mit unseren Nutzungsbedingungen",
    illegal: "rechtswidrige Inhalte nach",
    automation: |a| match a {
        Automation::Fully => "vollständig",
        Automation::Partially => "teilweise",
        Automation::Not => "nein",
    },
    kind: |k| match k {
        RestrictionKind::ContentRemoved => "Inhalt entfernt",
        RestrictionKind::ContentDisabled => "Inhalt gesperrt",
        RestrictionKind::ContentDemoted => "Inhalt herabgestuft",
        RestrictionKind::ContentAgeRestricted => "Inhalt mit Altersbeschränkung",
        RestrictionKind::InteractionRestricted => "Interaktion eingeschränkt",
        RestrictionKind::ContentLabelled => "Inhalt gekennzeichnet",
        RestrictionKind::AccountSuspended => "Konto vorübergehend gesperrt",
        RestrictionKind::AccountTerminated => "Konto gekündigt",
        RestrictionKind::MonetarySuspended => "Zahlungen ausgesetzt",
        RestrictionKind::MonetaryTerminated => "Zahlungen eingestellt",
        RestrictionKind::ServicePartiallySuspended => "Dienst teilweise ausgesetzt",
        RestrictionKind::ServiceSuspended => "Dienst ausgesetzt",
        RestrictionKind::ServicePartiallyTerminated => "Dienst teilweise eingestellt",
        RestrictionKind::ServiceTerminated => "Dienst eingestellt",
    },
    option: |o| match o {
        RedressOption::InternalComplaint => {
            "Antworten Sie auf diese Nachricht, um die Entscheidung erneut prüfen zu lassen."
        }
        RedressOption::OutOfCourtDisputeSettlement => {
            "Wenden Sie sich an eine zertifizierte außergerichtliche Streitbeilegungsstelle."
        }
        RedressOption::JudicialRedress => "Beschreiten Sie den Rechtsweg.",
    },
    what: "Was eingeschränkt wurde",
    when: "Wann",
    policy: "Nach welcher Regel",
    bodies: "zum Beispiel",
    unknown_enforcement: "Wir konnten noch nicht feststellen, welche unserer Entscheidungen \
                          Sie anfechten. Antworten Sie wenn möglich mit dem Datum und was \
                          eingeschränkt wurde.",
};

fn labels(language: &str) -> &'static Labels {
    match language {
        "de" => &DE,
        _ => &EN,
    }
}

/// The statement as lines of `label: value`.
pub fn describe(statement: &StatementOfReasons, language: &str) -> String {
    let l = labels(language);
    let mut out = String::new();
    for restriction in &statement.restrictions {
        let until = restriction.ends_at.map_or_else(
            || l.until_further_notice.to_owned(),
            |end| format!("{} {}", l.until, end.format("%Y-%m-%d")),
        );
        let _ = writeln!(
            out,
            "{}: {}, {until}",
            l.restriction,
            (l.kind)(restriction.kind)
        );
    }
    let scope = match &statement.territorial_scope {
        TerritorialScope::Worldwide => l.worldwide.to_owned(),
        TerritorialScope::Countries { countries } => countries.join(", "),
    };
    let _ = writeln!(out, "{}: {scope}", l.scope);
    let _ = writeln!(out, "{}: {}", l.facts, statement.facts.trim());
    let _ = writeln!(
        out,
        "{}: {}",
        l.detection,
        (l.automation)(statement.automated_detection)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        l.decision,
        (l.automation)(statement.automated_decision)
    );
    let ground = match &statement.ground {
        Ground::IncompatibleWithTerms {
            clause,
            explanation,
        } => format!("{} ({clause}): {explanation}", l.terms),
        Ground::IllegalContent {
            legal_ground,
            explanation,
        } => format!("{} {legal_ground}: {explanation}", l.illegal),
    };
    let _ = write!(out, "{}: {ground}", l.ground);
    out
}

/// The redress options as a list, one `- ` line each; the out-of-court option names the
/// configured certified bodies.
pub fn redress_options(
    options: &[RedressOption],
    bodies: &[DisputeSettlementBody],
    language: &str,
) -> String {
    let l = labels(language);
    options
        .iter()
        .map(|option| {
            let mut line = format!("- {}", (l.option)(*option));
            if *option == RedressOption::OutOfCourtDisputeSettlement && !bodies.is_empty() {
                let named = bodies
                    .iter()
                    .map(|body| format!("{} ({})", body.name, body.url))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = write!(line, " ({}: {named})", l.bodies);
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Said when the appeal names no enforcement Redress knows.
pub fn unknown_enforcement(language: &str) -> String {
    labels(language).unknown_enforcement.to_owned()
}

/// The enforcement an appeal concerns: what was restricted, when, under which policy and
/// whether it was automated, from its statement of reasons where there is one.
pub fn describe_enforcement(facts: &EnforcementFacts, language: &str) -> String {
    let l = labels(language);
    let what = facts.statement.as_ref().map_or_else(
        || facts.kind.replace('_', " "),
        |statement| {
            statement
                .restrictions
                .iter()
                .map(|r| (l.kind)(r.kind))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    let policy = match facts.statement.as_ref().map(|s| &s.ground) {
        Some(Ground::IncompatibleWithTerms { clause, .. }) => {
            format!("{} ({} {clause})", facts.policy, l.terms)
        }
        Some(Ground::IllegalContent { legal_ground, .. }) => {
            format!("{} ({} {legal_ground})", facts.policy, l.illegal)
        }
        None => facts.policy.clone(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}: {what}", l.what);
    let _ = writeln!(
        out,
        "{}: {}",
        l.when,
        facts.enforced_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "{}: {policy}", l.policy);
    let _ = writeln!(
        out,
        "{}: {}",
        l.detection,
        (l.automation)(facts.automated_detection)
    );
    let _ = writeln!(
        out,
        "{}: {}",
        l.decision,
        (l.automation)(facts.automated_decision)
    );
    let _ = write!(out, "{}: {}", l.facts, facts.facts.trim());
    out
}

/// The options every decision mail offers when the decision carries no statement.
pub const DEFAULT_REDRESS: &[RedressOption] = &[
    RedressOption::InternalComplaint,
    RedressOption::OutOfCourtDisputeSettlement,
    RedressOption::JudicialRedress,
];
