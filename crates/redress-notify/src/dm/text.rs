//! What each notice says by direct message. Short, plain, always with the reference.

use std::fmt::Write;

use redress_core::{Automation, Notice};
use redress_engine::delivery::{Delivery, DeliveryError, OutboxMessage};
use redress_engine::direct_messages::prompts;
use redress_engine::outbox::{AppellantNotice, IdentityPrompt, Topic};
use redress_engine::Engine;

use crate::case_details::{
    case_details, has_case, CaseDetails, DisputeSettlementBody, NoticeSettings,
};

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
}

/// The DM for an outbox item, or a permanent error for an item no DM can carry.
pub async fn for_message(
    message: &OutboxMessage,
    notices: &DmNotices,
) -> Result<DirectMessage, DeliveryError> {
    let (contact, text) = match message.topic.as_str() {
        AppellantNotice::NAME => {
            let notice = Delivery::<AppellantNotice>::read(message)?.payload;
            let details = case_details(&notices.engine, &notices.settings, notice.appeal_id)
                .await?
                .filter(|_| has_case(notice.notice));
            let mut text = notice_for(&notice)?;
            if let Some(details) = &details {
                text.push_str(&about_the_case(
                    notice.notice,
                    details,
                    &notices.settings.dispute_settlement_bodies,
                ));
            }
            (notice.contact.clone(), text)
        }
        IdentityPrompt::NAME => {
            let prompt = Delivery::<IdentityPrompt>::read(message)?.payload;
            let text = prompt_text(&prompt.prompt, &prompt.reference).ok_or_else(|| {
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

fn notice_for(notice: &AppellantNotice) -> Result<String, DeliveryError> {
    let require_reference = || {
        notice
            .reference
            .as_deref()
            .ok_or_else(|| DeliveryError::Permanent("the item has no appeal reference".to_owned()))
    };
    let reason = notice.reason.as_deref();
    Ok(match notice.notice {
        Notice::AccountRestored => ACCOUNT_RESTORED.to_owned(),
        // A refused appeal has no case, so no reference.
        Notice::AppealRefused => reason.unwrap_or(THROTTLED).to_owned(),
        Notice::ThrottleWarning => format!(
            "About your appeal {}: {}",
            require_reference()?,
            reason.unwrap_or(THROTTLED)
        ),
        other => notice_text(other, require_reference()?),
    })
}

/// What a DM adds about the case: for the acknowledgement the enforcement and the
/// decision date, for a decision its reasons and the redress still open, and always the
/// status link.
pub fn about_the_case(
    notice: Notice,
    details: &CaseDetails,
    bodies: &[DisputeSettlementBody],
) -> String {
    let case = &details.case;
    let mut out = String::new();
    match notice {
        Notice::Acknowledgement => {
            if let Some(enforcement) = &case.enforcement {
                let _ = write!(
                    out,
                    " It concerns our decision of {} ({}) under the policy \"{}\"; detection \
                     was {} automated and the decision {} automated.",
                    enforcement.enforced_at.format("%Y-%m-%d"),
                    enforcement.kind.replace('_', " "),
                    enforcement.policy,
                    automation(enforcement.automated_detection),
                    automation(enforcement.automated_decision),
                );
            }
            if let Some(due) = case.decision_due_at {
                let _ = write!(
                    out,
                    " Expect a decision by {}.",
                    due.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        Notice::DecisionUpheld | Notice::DecisionRestored => {
            if let Some(decision) = &case.decision {
                let _ = write!(out, " Reasons: {}", decision.reasons.trim());
            }
            let _ = write!(
                out,
                " If you disagree you can still turn to a certified out-of-court dispute \
                 settlement body{} or to a court.",
                if bodies.is_empty() {
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
                }
            );
        }
        _ => {}
    }
    if let Some(link) = &details.status_link {
        let _ = write!(
            out,
            "\n\nYour appeal, its history and a form to add information: {link}"
        );
    }
    out
}

fn automation(level: Automation) -> &'static str {
    match level {
        Automation::Fully => "fully",
        Automation::Partially => "partly",
        Automation::Not => "not",
    }
}

/// Sent by a bulk restoration to someone who had no appeal open, so there is no reference.
pub const ACCOUNT_RESTORED: &str = "Your account has been restored. An enforcement that \
     affected it was found to be wrong and reversed. We are sorry for the trouble.";

/// Said when a throttle notice carries no explanation of its own.
pub const THROTTLED: &str = "Several of your appeals were found manifestly unfounded, so new \
     appeals from your account are not accepted for a while.";

pub fn notice_text(notice: Notice, reference: &str) -> String {
    match notice {
        Notice::ThrottleWarning => format!("About your appeal {reference}: {THROTTLED}"),
        Notice::AppealRefused => THROTTLED.to_owned(),
        Notice::AccountRestored => ACCOUNT_RESTORED.to_owned(),
        Notice::Acknowledgement => format!(
            "We received your appeal. Its reference is {reference}. A person will review it and \
             we will answer here. You can add anything you want us to know by replying."
        ),
        Notice::InformationRequest => format!(
            "About your appeal {reference}: the reviewer needs more information. Please reply \
             to this message; your appeal waits for your answer."
        ),
        Notice::DecisionUpheld => format!(
            "Your appeal {reference} was reviewed and the decision stands. The statement of \
             reasons explains the policy and the facts it rests on; you can ask for it here."
        ),
        Notice::DecisionRestored => format!(
            "Your appeal {reference} was successful: your account has been restored. We are \
             sorry for the trouble."
        ),
        Notice::Reopened => {
            format!("Your appeal {reference} has been reopened and will be reviewed again.")
        }
        Notice::ClosedNoResponse => format!(
            "Your appeal {reference} was closed because we did not hear back. Send us a new \
             message at any time to appeal again."
        ),
    }
}

pub fn prompt_text(prompt: &str, reference: &str) -> Option<String> {
    Some(match prompt {
        prompts::ASK_FOR_EMAIL => format!(
            "To connect this conversation to your account (appeal {reference}), reply with the \
             email address of your account. We will send a confirmation link to that address."
        ),
        prompts::CONFIRMATION_SENT => format!(
            "Thank you. If that address belongs to an account, we sent it a link; open it to \
             connect this conversation to appeal {reference}."
        ),
        prompts::IDENTITY_LINKED => {
            format!("Your account is now connected to appeal {reference}. We will answer here.")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use redress_core::{AppealState, Decision, Outcome};
    use redress_engine::transparency::{AppellantCase, EnforcementFacts};
    use uuid::Uuid;

    use super::*;

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
            },
            status_link: Some(
                "https://appeals.example/status/RDR-7K3Q-9M2X?token=t0ken".to_owned(),
            ),
        }
    }

    #[test]
    fn the_acknowledgement_dm_names_the_enforcement_the_date_and_the_link() {
        let text = about_the_case(Notice::Acknowledgement, &details(None), &[]);
        for expected in [
            "our decision of 2026-06-01 (account deactivation) under the policy \"spam\"",
            "detection was fully automated and the decision partly automated",
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
        let text = about_the_case(Notice::DecisionUpheld, &details(Some(decision)), &bodies);
        for expected in [
            "Reasons: The links were spam.",
            "out-of-court dispute settlement body (Appeals Centre Europe https://www.appealscentre.eu) or to a court",
            "https://appeals.example/status/RDR-7K3Q-9M2X?token=t0ken",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from {text}");
        }
        for notice in Notice::ALL.iter().filter(|n| has_case(**n)) {
            let text = about_the_case(*notice, &details(None), &[]);
            assert!(text.contains("?token=t0ken"), "{notice} carries the link");
        }
    }

    #[test]
    fn every_notice_names_the_reference() {
        for notice in Notice::ALL
            .iter()
            // Neither a restoration without an appeal nor a refused appeal has a case.
            .filter(|n| !matches!(n, Notice::AccountRestored | Notice::AppealRefused))
        {
            assert!(notice_text(*notice, "RDR-7K3Q-9M2X").contains("RDR-7K3Q-9M2X"));
        }
        for prompt in [
            prompts::ASK_FOR_EMAIL,
            prompts::CONFIRMATION_SENT,
            prompts::IDENTITY_LINKED,
        ] {
            let text = prompt_text(prompt, "RDR-7K3Q-9M2X").expect("known prompt");
            assert!(text.contains("RDR-7K3Q-9M2X"));
        }
    }
}
