//! Shared fixtures of the engine tests.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::DateTime;
use chrono::{TimeZone, Utc};
use redress_core::{
    Automation, Channel, Ground, GroundKind, Policy, PolicyText, RedressOption, Restriction,
    RestrictionKind, StatementOfReasons, TerritorialScope,
};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::{Engine, EngineSettings, IncomingAppeal, ManualClock};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

pub fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("valid date"),
    )
}

pub fn engine(db: &DatabaseConnection, clock: &ManualClock, settings: EngineSettings) -> Engine {
    Engine::new(db.clone(), settings, Arc::new(clock.clone()))
}

pub async fn enforcement(db: &DatabaseConnection, account: &str, policy: &str) -> Uuid {
    registry::record_enforcement(
        db,
        NewEnforcement {
            external_id: Some(format!("ext-{account}-{policy}")),
            account_id: account.to_owned(),
            account_email: Some(format!("{account}@example.org")),
            account_locale: None,
            kind: "account_deactivation".into(),
            policy: policy.into(),
            source_kind: "model".into(),
            source_id: "nudity-v7".into(),
            batch_id: Some("wave-2026-05".into()),
            automated_detection: "fully".into(),
            automated_decision: "fully".into(),
            content_id: Some("pin-991".into()),
            content_relation: Some("saved".into()),
            facts: "A saved pin matched the classifier.".into(),
            statement: serde_json::to_value(enforcement_statement(Utc::now())).expect("statement"),
            enforced_at: Utc::now(),
        },
        Utc::now(),
    )
    .await
    .expect("record enforcement")
}

pub fn email(message_id: &str, account: Option<&str>) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(message_id.to_owned()),
        sender: "person@example.org".into(),
        contact: None,
        account_id: account.map(str::to_owned),
        enforcement_id: None,
        identity_verified: true,
        subject: Some("My account was banned".into()),
        body: "I only saved that pin.".into(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

/// The spam policy of the catalog and bulk decision tests: a suspension only, in English.
pub fn spam_policy() -> Policy {
    Policy {
        id: "spam".into(),
        ground_kind: GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".into(),
        restrictions: vec![RestrictionKind::AccountSuspended],
        texts: [(
            "en".to_owned(),
            PolicyText {
                title: "Spam".into(),
                ground: "Community guidelines 4.2".into(),
                explanation: "Mass-posting links is spam.".into(),
            },
        )]
        .into(),
    }
}

/// A complete statement for upholding an account suspension that started at `at`.
pub fn upheld_statement(at: DateTime<Utc>) -> StatementOfReasons {
    StatementOfReasons {
        restrictions: vec![Restriction {
            kind: RestrictionKind::AccountSuspended,
            starts_at: at,
            ends_at: None,
        }],
        territorial_scope: TerritorialScope::Worldwide,
        facts: "The account created the pin and posted it forty times.".into(),
        automated_detection: Automation::Fully,
        automated_decision: Automation::Not,
        ground: Ground::IncompatibleWithTerms {
            clause: "Community guidelines 4.2".into(),
            explanation: "Repeated commercial posting is spam.".into(),
        },
        redress: vec![
            RedressOption::OutOfCourtDisputeSettlement,
            RedressOption::JudicialRedress,
        ],
    }
}

/// The statement a platform sends with a fully automated account suspension.
pub fn enforcement_statement(at: DateTime<Utc>) -> StatementOfReasons {
    StatementOfReasons {
        automated_decision: Automation::Fully,
        facts: "A saved pin matched the classifier.".into(),
        redress: vec![
            RedressOption::InternalComplaint,
            RedressOption::OutOfCourtDisputeSettlement,
            RedressOption::JudicialRedress,
        ],
        ..upheld_statement(at)
    }
}
