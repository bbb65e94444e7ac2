//! What each notice says by direct message. Short, plain, always with the reference.

use chrono::{DateTime, Utc};
use redress_core::Notice;
use redress_engine::delivery::{Delivery, DeliveryError, OutboxMessage};
use redress_engine::direct_messages::prompts;
use redress_engine::outbox::{AppellantNotice, IdentityPrompt, Topic};
use redress_engine::Engine;

use super::texts::{DE, EN, ES, FR, IT, JA, NL, PL, PT};
use crate::case_details::{
    case_details, has_case, CaseDetails, DisputeSettlementBody, NoticeSettings,
};
use crate::mail::statement;

/// What a DM sender sends: its text and the recipient's platform id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectMessage {
    pub recipient: String,
    pub text: String,
}

/// What a DM sender needs to tell the appellant about the case.
#[derive(Debug, Clone)]
pub struct DmNotices {
    pub engine: Engine,
    pub settings: NoticeSettings,
    /// The language of a notice whose appellant's language Redress does not ship.
    pub default_language: String,
}

impl DmNotices {
    /// The texts for `language`, else the default language's, else English.
    fn texts(&self, language: Option<&str>) -> (&'static DmTexts, &'static str) {
        language
            .and_then(texts_for)
            .or_else(|| texts_for(&self.default_language))
            .unwrap_or((&EN, "en"))
    }
}

/// The DM for an outbox item, or a permanent error for an item no DM can carry.
pub async fn for_message(
    message: &OutboxMessage,
    notices: &DmNotices,
) -> Result<DirectMessage, DeliveryError> {
    let (contact, text) = match message.topic.as_str() {
        AppellantNotice::NAME => {
            let notice = Delivery::<AppellantNotice>::read(message)?.payload;
            let (texts, language) = notices.texts(notice.language.as_deref());
            let details = case_details(&notices.engine, &notices.settings, notice.appeal_id)
                .await?
                .filter(|_| has_case(notice.notice));
            let mut text = notice_for(&notice, texts)?;
            if let Some(details) = &details {
                text.push_str(&about_the_case(
                    notice.notice,
                    details,
                    &notices.settings.dispute_settlement_bodies,
                    language,
                ));
            }
            (notice.contact.clone(), text)
        }
        IdentityPrompt::NAME => {
            let prompt = Delivery::<IdentityPrompt>::read(message)?.payload;
            let (_, language) = notices.texts(prompt.language.as_deref());
            let text =
                prompt_text(&prompt.prompt, &prompt.reference, language).ok_or_else(|| {
                    DeliveryError::Permanent(format!("unknown identity prompt {:?}", prompt.prompt))
                })?;
            (prompt.contact, text)
        }
        other => {
            return Err(DeliveryError::Permanent(format!(
                "topic {other} is not sent by direct message"
            )))
        }
    };
    let recipient = contact
        .filter(|contact| !contact.is_empty())
        .ok_or_else(|| DeliveryError::Permanent("the item has no recipient".to_owned()))?;
    Ok(DirectMessage { recipient, text })
}

fn notice_for(notice: &AppellantNotice, texts: &DmTexts) -> Result<String, DeliveryError> {
    let require_reference = || {
        notice
            .reference
            .as_deref()
            .ok_or_else(|| DeliveryError::Permanent("the item has no appeal reference".to_owned()))
    };
    let localized = notice
        .refused_until
        .map(|until| fill(texts.refused_until, &[("date", &format_until(until))]));
    let reason = localized.as_deref().or(notice.reason.as_deref());
    Ok(match notice.notice {
        Notice::AccountRestored => texts.account_restored.to_owned(),
        // A refused appeal has no case, so no reference.
        Notice::AppealRefused => reason.unwrap_or(texts.throttled).to_owned(),
        Notice::ThrottleWarning => fill(
            texts.about_your_appeal,
            &[
                ("reference", require_reference()?),
                ("reason", reason.unwrap_or(texts.throttled)),
            ],
        ),
        other => fill(texts.notice(other), &[("reference", require_reference()?)]),
    })
}

/// What a DM adds about the case, in `language`: for the acknowledgement the wave it
/// belongs to, the enforcement and the decision date, for a decision its reasons and the redress still open, and
/// always the status link.
pub fn about_the_case(
    notice: Notice,
    details: &CaseDetails,
    bodies: &[DisputeSettlementBody],
    language: &str,
) -> String {
    let texts = texts_for(language).map_or(&EN, |(texts, _)| texts);
    let case = &details.case;
    let mut out = String::new();
    match notice {
        Notice::Acknowledgement => {
            if let Some(wave) = case.wave {
                out.push(' ');
                out.push_str(crate::wave::wave_text(wave, language));
            }
            if let Some(enforcement) = &case.enforcement {
                let date = enforcement.enforced_at.format("%Y-%m-%d").to_string();
                out.push_str(&fill(
                    texts.concerns,
                    &[
                        ("date", &date),
                        (
                            "restriction",
                            &statement::what_was_restricted(enforcement, language),
                        ),
                        ("policy", &enforcement.policy),
                        (
                            "detection",
                            statement::automation(enforcement.automated_detection, language),
                        ),
                        (
                            "decision",
                            statement::automation(enforcement.automated_decision, language),
                        ),
                    ],
                ));
            }
            if let Some(due) = case.decision_due_at {
                let date = due.format("%Y-%m-%d %H:%M UTC").to_string();
                out.push_str(&fill(texts.expect_decision, &[("date", &date)]));
            }
        }
        Notice::DecisionUpheld | Notice::DecisionRestored => {
            if let Some(decision) = &case.decision {
                out.push_str(&fill(
                    texts.reasons,
                    &[("reasons", decision.reasons.trim())],
                ));
            }
            let named = if bodies.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    bodies
                        .iter()
                        .map(|b| format!("{} {}", b.name, b.url))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            out.push_str(&fill(texts.redress, &[("bodies", &named)]));
        }
        _ => {}
    }
    if let Some(link) = &details.status_link {
        out.push_str(&fill(texts.status_link, &[("link", link)]));
    }
    out
}

fn format_until(until: DateTime<Utc>) -> String {
    until.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Why new appeals are refused until `until`, in `language` (English for a language
/// Redress does not ship).
pub fn refused_until_text(until: DateTime<Utc>, language: &str) -> String {
    let texts = texts_for(language).map_or(&EN, |(texts, _)| texts);
    fill(texts.refused_until, &[("date", &format_until(until))])
}

/// Replaces each `{name}` of `template` by its value.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value = after.find('}').and_then(|end| {
            values
                .iter()
                .find(|(name, _)| *name == &after[..end])
                .map(|(_, value)| (end, *value))
        });
        if let Some((end, value)) = value {
            out.push_str(value);
            rest = &after[end + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Sent by a bulk restoration to someone who had no appeal open, so there is no reference.
pub const ACCOUNT_RESTORED: &str = EN.account_restored;

/// Said when a throttle notice carries no explanation of its own.
pub const THROTTLED: &str = EN.throttled;

/// The DM of `notice` on the appeal `reference`, in `language` (English for a language
/// Redress does not ship).
pub fn notice_text(notice: Notice, reference: &str, language: &str) -> String {
    let texts = texts_for(language).map_or(&EN, |(texts, _)| texts);
    match notice {
        Notice::ThrottleWarning => fill(
            texts.about_your_appeal,
            &[("reference", reference), ("reason", texts.throttled)],
        ),
        Notice::AppealRefused => texts.throttled.to_owned(),
        Notice::AccountRestored => texts.account_restored.to_owned(),
        other => fill(texts.notice(other), &[("reference", reference)]),
    }
}

/// The identity prompt `prompt` on the appeal `reference`, in `language`.
pub fn prompt_text(prompt: &str, reference: &str, language: &str) -> Option<String> {
    let texts = texts_for(language).map_or(&EN, |(texts, _)| texts);
    let template = match prompt {
        prompts::ASK_FOR_EMAIL => texts.ask_for_email,
        prompts::CONFIRMATION_SENT => texts.confirmation_sent,
        prompts::IDENTITY_LINKED => texts.identity_linked,
        _ => return None,
    };
    Some(fill(template, &[("reference", reference)]))
}

/// Everything a DM says, in one language. `{name}` marks a value.
#[derive(Debug)]
pub struct DmTexts {
    pub(crate) acknowledgement: &'static str,
    pub(crate) information_request: &'static str,
    pub(crate) decision_upheld: &'static str,
    pub(crate) decision_restored: &'static str,
    pub(crate) reopened: &'static str,
    pub(crate) closed_no_response: &'static str,
    /// `{reference}`, `{reason}`.
    pub(crate) about_your_appeal: &'static str,
    pub(crate) account_restored: &'static str,
    pub(crate) throttled: &'static str,
    /// `{date}`: until when new appeals are refused.
    pub(crate) refused_until: &'static str,
    /// `{date}`, `{restriction}`, `{policy}`, `{detection}`, `{decision}`.
    pub(crate) concerns: &'static str,
    /// `{date}`.
    pub(crate) expect_decision: &'static str,
    /// `{reasons}`.
    pub(crate) reasons: &'static str,
    /// `{bodies}`: the configured bodies in parentheses, or nothing.
    pub(crate) redress: &'static str,
    /// `{link}`.
    pub(crate) status_link: &'static str,
    pub(crate) ask_for_email: &'static str,
    pub(crate) confirmation_sent: &'static str,
    pub(crate) identity_linked: &'static str,
}

impl DmTexts {
    /// The text of a notice about a case (each names `{reference}`).
    fn notice(&self, notice: Notice) -> &'static str {
        match notice {
            Notice::Acknowledgement => self.acknowledgement,
            Notice::InformationRequest => self.information_request,
            Notice::DecisionUpheld => self.decision_upheld,
            Notice::DecisionRestored => self.decision_restored,
            Notice::Reopened => self.reopened,
            Notice::ClosedNoResponse => self.closed_no_response,
            Notice::ThrottleWarning => self.about_your_appeal,
            Notice::AccountRestored => self.account_restored,
            Notice::AppealRefused => self.throttled,
        }
    }

    /// Every text with its name, for checking translations against English.
    #[cfg(test)]
    fn all(&self) -> [(&'static str, &'static str); 18] {
        [
            ("acknowledgement", self.acknowledgement),
            ("information_request", self.information_request),
            ("decision_upheld", self.decision_upheld),
            ("decision_restored", self.decision_restored),
            ("reopened", self.reopened),
            ("closed_no_response", self.closed_no_response),
            ("about_your_appeal", self.about_your_appeal),
            ("account_restored", self.account_restored),
            ("throttled", self.throttled),
            ("refused_until", self.refused_until),
            ("concerns", self.concerns),
            ("expect_decision", self.expect_decision),
            ("reasons", self.reasons),
            ("redress", self.redress),
            ("status_link", self.status_link),
            ("ask_for_email", self.ask_for_email),
            ("confirmation_sent", self.confirmation_sent),
            ("identity_linked", self.identity_linked),
        ]
    }
}

/// The texts of a shipped language, with the language's name as `'static`.
pub fn texts_for(language: &str) -> Option<(&'static DmTexts, &'static str)> {
    Some(match language {
        "en" => (&EN, "en"),
        "de" => (&DE, "de"),
        "fr" => (&FR, "fr"),
        "es" => (&ES, "es"),
        "it" => (&IT, "it"),
        "pt" => (&PT, "pt"),
        "nl" => (&NL, "nl"),
        "pl" => (&PL, "pl"),
        "ja" => (&JA, "ja"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use redress_core::{AppealState, Automation, Decision, Outcome};
    use redress_engine::transparency::{AppellantCase, EnforcementFacts};
    use uuid::Uuid;

    use super::*;
    use crate::mail::templates::SHIPPED_LANGUAGES as SHIPPED;

    fn details(decision: Option<Decision>) -> CaseDetails {
        let at = |day| {
            Utc.with_ymd_and_hms(2026, 6, day, 9, 0, 0)
                .single()
                .expect("date")
        };
        CaseDetails {
            case: AppellantCase {
                appeal_id: Uuid::nil(),
                reference: "RDR-7K3Q-9M2X".to_owned(),
                state: AppealState::Filed,
                enforcement: Some(EnforcementFacts {
                    kind: "account_deactivation".to_owned(),
                    policy: "spam".to_owned(),
                    enforced_at: at(1),
                    automated_detection: Automation::Fully,
                    automated_decision: Automation::Partially,
                    facts: "Forty identical links.".to_owned(),
                    statement: None,
                }),
                decision_due_at: Some(at(3)),
                decision,
                status_token: Some("t0ken".to_owned()),
                wave: None,
            },
            status_link: Some(
                "https://appeals.example/status/RDR-7K3Q-9M2X?token=t0ken".to_owned(),
            ),
        }
    }

    #[test]
    fn the_acknowledgement_dm_names_the_enforcement_the_date_and_the_link() {
        let text = about_the_case(Notice::Acknowledgement, &details(None), &[], "en");
        for expected in [
            "our decision of 2026-06-01 (account deactivation) under the policy \"spam\"",
            "Automated detection: fully; automated decision: partially.",
            "Expect a decision by 2026-06-03 09:00 UTC.",
            "https://appeals.example/status/RDR-7K3Q-9M2X?token=t0ken",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
    }

    #[test]
    fn a_decision_dm_gives_the_reasons_the_redress_and_the_same_link() {
        let decision = Decision {
            outcome: Outcome::Uphold,
            reasons: "The links were spam.".to_owned(),
            decided_by: "rita".to_owned(),
            approved_by: None,
            statement: None,
            manifestly_unfounded: false,
        };
        let bodies = [DisputeSettlementBody {
            name: "Appeals Centre Europe".to_owned(),
            url: "https://www.appealscentre.eu".to_owned(),
        }];
        let text = about_the_case(
            Notice::DecisionUpheld,
            &details(Some(decision)),
            &bodies,
            "en",
        );
        for expected in [
            "Reasons: The links were spam.",
            "out-of-court dispute settlement body (Appeals Centre Europe https://www.appealscentre.eu) or to a court",
            "https://appeals.example/status/RDR-7K3Q-9M2X?token=t0ken",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
        for notice in Notice::ALL.iter().filter(|n| has_case(**n)) {
            for language in SHIPPED {
                let text = about_the_case(*notice, &details(None), &[], language);
                assert!(
                    text.contains("?token=t0ken"),
                    "{language}/{notice} carries the link"
                );
            }
        }
    }

    #[test]
    fn every_notice_names_the_reference() {
        for notice in Notice::ALL
            .iter()
            // Neither a restoration without an appeal nor a refused appeal has a case.
            .filter(|n| !matches!(n, Notice::AccountRestored | Notice::AppealRefused))
        {
            for language in SHIPPED {
                assert!(
                    notice_text(*notice, "RDR-7K3Q-9M2X", language).contains("RDR-7K3Q-9M2X"),
                    "{language}/{notice}"
                );
            }
        }
        for prompt in [
            prompts::ASK_FOR_EMAIL,
            prompts::CONFIRMATION_SENT,
            prompts::IDENTITY_LINKED,
        ] {
            for language in SHIPPED {
                let text = prompt_text(prompt, "RDR-7K3Q-9M2X", language).expect("known prompt");
                assert!(text.contains("RDR-7K3Q-9M2X"), "{language}/{prompt}");
            }
        }
    }

    /// The `{name}`s a text uses.
    fn values(text: &str) -> std::collections::BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_shipped_language_has_every_dm_text_with_the_values_english_uses() {
        for language in SHIPPED {
            let Some((texts, _)) = texts_for(language) else {
                panic!("no DM texts in {language}");
            };
            for ((name, ours), (_, english)) in texts.all().into_iter().zip(EN.all()) {
                assert!(
                    !ours.trim().is_empty() || name == "none",
                    "{language}/{name} is empty"
                );
                assert_eq!(
                    values(ours),
                    values(english),
                    "{language}/{name} uses other values than en"
                );
                if *language != "en" && !["about_your_appeal", "reasons"].contains(&name) {
                    assert_ne!(ours, english, "{language}/{name} is not translated");
                }
            }
        }
    }

    #[test]
    fn a_german_acknowledgement_dm_is_german_through_and_through() {
        let mut text = notice_text(Notice::Acknowledgement, "RDR-7K3Q-9M2X", "de");
        text.push_str(&about_the_case(
            Notice::Acknowledgement,
            &details(None),
            &[],
            "de",
        ));
        for expected in [
            "Wir haben Ihren Einspruch erhalten",
            "RDR-7K3Q-9M2X",
            "unsere Entscheidung vom 2026-06-01",
            "Automatisch erkannt: vollständig; automatisch entschieden: teilweise.",
            "Sie erhalten eine Entscheidung bis 2026-06-03 09:00 UTC.",
            "?token=t0ken",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
    }

    #[test]
    fn a_throttle_refusal_says_the_date_in_the_appellants_language() {
        let until = Utc
            .with_ymd_and_hms(2026, 7, 1, 9, 0, 0)
            .single()
            .expect("date");
        let notice = AppellantNotice {
            appeal_id: None,
            reference: None,
            version: None,
            channel: redress_core::Channel::X,
            contact: Some("4711".to_owned()),
            event: "appeal_refused".to_owned(),
            notice: Notice::AppealRefused,
            reason: Some(redress_engine::transparency::throttle::refusal_text(until)),
            language: Some("de".to_owned()),
            account_id: None,
            job_id: None,
            refused_until: Some(until),
        };
        let Some((german, _)) = texts_for("de") else {
            panic!("German is shipped");
        };
        let text = notice_for(&notice, german).expect("text");
        assert!(
            text.contains(
                "Neue Einsprüche von Ihrem Konto nehmen wir bis 2026-07-01 09:00 UTC nicht an."
            ),
            "{text}"
        );
        assert!(!text.contains("manifestly"), "{text}");
        for language in SHIPPED {
            assert!(
                refused_until_text(until, language).contains("2026-07-01 09:00 UTC"),
                "{language}"
            );
        }
    }

    #[test]
    fn an_unknown_language_or_value_is_left_as_it_is() {
        assert_eq!(fill("a {b} {c} {", &[("b", "B")]), "a B {c} {");
        assert!(notice_text(Notice::Reopened, "R", "sv").starts_with("Your appeal R"));
    }
}
