//! The Transparency Database's rules for a statement, as table tests taken from the
//! database's own test cases (`StatementMultipleAPIControllerTest`, `StatementAPIControllerTest`)
//! and the bounds of its batch endpoint's rules; then what the mapping does with the
//! enforcements the database would refuse as they stand, stored on SQLite and PostgreSQL.

use chrono::{TimeDelta, TimeZone, Utc};
use redress_engine::clock::Clock;
use redress_engine::repo::registry;
use redress_engine::testing::automated_deactivation;
use redress_engine::transparency::tdb::{self, TdbSettings, TdbStatement};
use redress_engine::transparency::tdb_submission::{BatchAnswer, Created, SubmitSettings, TdbApi};
use redress_engine::{Engine, EngineSettings, ManualClock};
use serde_json::json;

/// The database tests' `required_fields` (illegal content, two visibility restrictions).
fn required_fields() -> TdbStatement {
    TdbStatement {
        decision_visibility: Some(vec![
            "DECISION_VISIBILITY_CONTENT_DISABLED".into(),
            "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED".into(),
        ]),
        end_date_visibility_restriction: None,
        decision_monetary: None,
        end_date_monetary_restriction: None,
        decision_provision: None,
        end_date_service_restriction: None,
        decision_account: None,
        end_date_account_restriction: None,
        decision_ground: "DECISION_GROUND_ILLEGAL_CONTENT".into(),
        illegal_content_legal_ground: Some("foo".into()),
        illegal_content_explanation: Some("bar".into()),
        incompatible_content_ground: None,
        incompatible_content_explanation: None,
        category: "STATEMENT_CATEGORY_ANIMAL_WELFARE".into(),
        content_type: vec!["CONTENT_TYPE_SYNTHETIC_MEDIA".into()],
        content_type_other: None,
        territorial_scope: vec!["BE".into(), "DE".into(), "FR".into()],
        content_date: "2023-05-18".into(),
        application_date: "2023-05-18".into(),
        decision_facts: "decision and facts".into(),
        source_type: "SOURCE_ARTICLE_16".into(),
        automated_detection: "No".into(),
        automated_decision: "AUTOMATED_DECISION_PARTIALLY".into(),
        puid: "TK421".into(),
    }
}

type Change = fn(&mut TdbStatement);

/// `(case, change, the field refused or None when accepted)`.
const CASES: &[(&str, Change, Option<&str>)] = &[
    ("the required fields", |_| {}, None),
    (
        "the light statement: monetary only",
        |s| {
            s.decision_visibility = None;
            s.decision_monetary = Some("DECISION_MONETARY_TERMINATION".into());
        },
        None,
    ),
    (
        "no restriction at all",
        |s| s.decision_visibility = None,
        Some("decision_visibility"),
    ),
    (
        "an empty visibility list counts as none",
        |s| s.decision_visibility = Some(Vec::new()),
        Some("decision_visibility"),
    ),
    (
        "visibility other needs a text this schema lacks",
        |s| {
            s.decision_visibility = Some(vec!["DECISION_VISIBILITY_OTHER".into()]);
        },
        Some("decision_visibility"),
    ),
    (
        "a bad puid",
        |s| s.puid = "very bad + â pu+id !".into(),
        Some("puid"),
    ),
    (
        "a puid with a colon and slash",
        |s| s.puid = "pin:123/abc".into(),
        Some("puid"),
    ),
    (
        "a puid with a space",
        |s| s.puid = "pin 123".into(),
        Some("puid"),
    ),
    (
        "a puid with a trailing newline",
        |s| s.puid = "TK421\n".into(),
        Some("puid"),
    ),
    (
        "a uuid puid",
        |s| s.puid = "b5ec958d-892a-4c11-a3f2-6a3ad597eeb1".into(),
        None,
    ),
    ("a uniqid puid", |s| s.puid = "6571a3f2c9e1b".into(), None),
    (
        "the cache test's puid",
        |s| s.puid = "foo-bar-123".into(),
        None,
    ),
    ("a 500 character puid", |s| s.puid = "p".repeat(500), None),
    (
        "a 501 character puid",
        |s| s.puid = "p".repeat(501),
        Some("puid"),
    ),
    (
        "content type other without its text",
        |s| s.content_type = vec!["CONTENT_TYPE_OTHER".into()],
        Some("content_type_other"),
    ),
    (
        "content type image and other without text",
        |s| {
            s.content_type = vec!["CONTENT_TYPE_IMAGE".into(), "CONTENT_TYPE_OTHER".into()];
        },
        Some("content_type_other"),
    ),
    (
        "content type other with its text",
        |s| {
            s.content_type = vec!["CONTENT_TYPE_OTHER".into()];
            s.content_type_other = Some("content type other required field".into());
        },
        None,
    ),
    (
        "an unknown content type",
        |s| s.content_type = vec!["DECISION_VISIBILITY_CONTENT_REMOVED".into()],
        Some("content_type"),
    ),
    (
        "incompatible content with its ground",
        |s| {
            s.decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT".into();
            s.incompatible_content_ground =
                Some("incompatible_content_ground should be persisted".into());
            s.incompatible_content_explanation =
                Some("incompatible_content_explanation should be persisted".into());
        },
        None,
    ),
    (
        "incompatible content without its ground",
        |s| s.decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT".into(),
        Some("incompatible_content_ground"),
    ),
    (
        "an unknown decision ground",
        |s| s.decision_ground = "DECISION_GROUND_BAD".into(),
        Some("decision_ground"),
    ),
    (
        "a legal ground of 501 characters",
        |s| s.illegal_content_legal_ground = Some("g".repeat(501)),
        Some("illegal_content_legal_ground"),
    ),
    (
        "an explanation of 2000 characters",
        |s| s.illegal_content_explanation = Some("e".repeat(2000)),
        None,
    ),
    (
        "an explanation of 2001 characters",
        |s| s.illegal_content_explanation = Some("e".repeat(2001)),
        Some("illegal_content_explanation"),
    ),
    (
        "repeated countries (the database deduplicates)",
        |s| {
            s.territorial_scope = ["DE", "ES", "PT", "DE", "ES", "PT"]
                .map(String::from)
                .to_vec();
        },
        None,
    ),
    (
        "no country (nullable)",
        |s| s.territorial_scope = Vec::new(),
        None,
    ),
    (
        "a country outside the EEA",
        |s| s.territorial_scope = vec!["US".into()],
        Some("territorial_scope"),
    ),
    (
        "facts of 5000 characters",
        |s| s.decision_facts = "f".repeat(5000),
        None,
    ),
    (
        "facts of 5001 characters",
        |s| s.decision_facts = "f".repeat(5001),
        Some("decision_facts"),
    ),
    (
        "facts of 5000 characters in whitespace (trimmed first)",
        |s| {
            s.decision_facts = format!("  \n{}\t ", "f".repeat(5000));
        },
        None,
    ),
    (
        "blank facts",
        |s| s.decision_facts = "   ".into(),
        Some("decision_facts"),
    ),
    (
        "5000 non-ASCII characters",
        |s| s.decision_facts = "é".repeat(5000),
        None,
    ),
    (
        "application date on 2020-01-01",
        |s| s.application_date = "2020-01-01".into(),
        None,
    ),
    (
        "application date before 2020",
        |s| s.application_date = "2019-12-31".into(),
        Some("application_date"),
    ),
    (
        "application date on 2038-01-01",
        |s| s.application_date = "2038-01-01".into(),
        None,
    ),
    (
        "application date after 2038-01-01",
        |s| s.application_date = "2038-01-02".into(),
        Some("application_date"),
    ),
    (
        "application date without leading zeroes",
        |s| s.application_date = "2023-5-18".into(),
        Some("application_date"),
    ),
    (
        "application date with an hour",
        |s| s.application_date = "2023-05-18-10".into(),
        Some("application_date"),
    ),
    (
        "content date on 2000-01-01",
        |s| s.content_date = "2000-01-01".into(),
        None,
    ),
    (
        "content date before 2000",
        |s| s.content_date = "1999-12-31".into(),
        Some("content_date"),
    ),
    (
        "no content date",
        |s| s.content_date = String::new(),
        Some("content_date"),
    ),
    (
        "an account end on 2038-01-01",
        |s| s.end_date_account_restriction = Some("2038-01-01".into()),
        None,
    ),
    (
        "an account end after 2038-01-01",
        |s| s.end_date_account_restriction = Some("2040-06-01".into()),
        Some("end_date_account_restriction"),
    ),
    (
        "a visibility end in another format",
        |s| s.end_date_visibility_restriction = Some("18/05/2023".into()),
        Some("end_date_visibility_restriction"),
    ),
    (
        "automated decision \"maybe\"",
        |s| s.automated_decision = "maybe".into(),
        Some("automated_decision"),
    ),
    (
        "automated detection lower case",
        |s| s.automated_detection = "no".into(),
        Some("automated_detection"),
    ),
    (
        "an unknown source type",
        |s| s.source_type = "SOURCE_RUMOUR".into(),
        Some("source_type"),
    ),
    (
        "an unknown category",
        |s| s.category = "STATEMENT_CATEGORY_SPAM".into(),
        Some("category"),
    ),
];

#[test]
fn statements_are_checked_field_by_field_as_the_database_does() {
    for (case, change, refused) in CASES {
        let mut statement = required_fields();
        change(&mut statement);
        let result = tdb::validate(&statement);
        match refused {
            None => assert_eq!(result, Ok(()), "{case}"),
            Some(field) => {
                let errors = result.expect_err(case);
                assert!(errors.has(field), "{case}: {errors}");
            }
        }
    }
}

#[test]
fn every_field_at_fault_is_named_at_once() {
    let mut statement = required_fields();
    statement.puid = "pin:1".into();
    statement.application_date = "2019-01-01".into();
    statement.decision_facts = String::new();
    let errors = tdb::validate(&statement).expect_err("refused");
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        vec!["application_date", "decision_facts", "puid"]
    );
}

#[test]
fn puids_are_the_platform_id_when_it_fits_and_a_stable_hash_when_not() {
    let id = uuid::Uuid::now_v7();
    assert_eq!(tdb::puid_for(Some("pin-991_a"), id), "pin-991_a");
    assert_eq!(tdb::puid_for(None, id), id.to_string());
    for unfit in ["pin:123/abc", "pin 123", "pïn-123", "", &"x".repeat(501)] {
        let puid = tdb::puid_for(Some(unfit), id);
        assert!(
            puid.starts_with("rdx-") && puid.len() == 4 + 64,
            "{unfit:?} -> {puid}"
        );
        assert!(tdb::fits_puid(&puid));
        assert_eq!(
            puid,
            tdb::puid_for(Some(unfit), uuid::Uuid::now_v7()),
            "stable"
        );
    }
    assert_ne!(
        tdb::puid_for(Some("pin:1"), id),
        tdb::puid_for(Some("pin:2"), id)
    );
}

fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("date"),
    )
}

/// A database that takes every batch.
struct Accepting;

#[async_trait::async_trait]
impl TdbApi for Accepting {
    async fn submit(&self, statements: &[TdbStatement]) -> BatchAnswer {
        BatchAnswer::Created(
            statements
                .iter()
                .map(|s| Created {
                    puid: s.puid.clone(),
                    uuid: None,
                })
                .collect(),
        )
    }

    async fn existing_uuid(&self, _puid: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

redress_engine::backend_tests! {
    async fn enforcements_the_database_would_refuse_as_they_stand_are_mapped_or_named(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), std::sync::Arc::new(clock.clone()));
        let at = clock.now();
        let statement = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut value = redress_engine::testing::automated_suspension_statement(at);
            change(&mut value);
            value
        };
        let new = |external: &str, statement: serde_json::Value| redress_engine::registry::NewEnforcement {
            external_id: Some(external.to_owned()),
            statement,
            ..automated_deactivation(&format!("acct-{external}"), "model", "spam-v1", at)
        };
        let padded = format!("  {}  ", "f".repeat(5000));
        let ids = engine
            .record_enforcements(vec![
                new("pin:123/abc", statement(&|_| {})),
                new("trimmed", statement(&|s| s["facts"] = json!(padded))),
                new("long-suspension", statement(&|s| {
                    s["restrictions"][0]["ends_at"] = json!("2041-03-01T00:00:00Z");
                })),
                new("old", statement(&|s| s["restrictions"][0]["starts_at"] = json!("2019-06-01T00:00:00Z"))),
                new("outside", statement(&|s| s["territorial_scope"] = json!({"scope": "countries", "countries": ["US", "DE", "TR"]}))),
                new("nowhere-in-eea", statement(&|s| s["territorial_scope"] = json!({"scope": "countries", "countries": ["US"]}))),
                new("too-long", statement(&|s| s["facts"] = json!("f".repeat(5001)))),
            ])
            .await
            .expect("recorded");
        let export = engine
            .export_statements(&TdbSettings::default(), at - TimeDelta::days(1), at + TimeDelta::days(1))
            .await
            .expect("export");
        let by_puid = |puid: &str| export.statements.iter().find(|s| s.puid == puid).cloned();
        let derived = tdb::puid_for(Some("pin:123/abc"), ids[0]);
        assert!(by_puid(&derived).is_some(), "the derived PUID is sent");
        assert_eq!(by_puid("trimmed").expect("trimmed").decision_facts.len(), 5000);
        let long = by_puid("long-suspension").expect("long suspension");
        assert_eq!(long.end_date_account_restriction, None, "past 2038 is reported as indefinite");
        assert_eq!(by_puid("outside").expect("outside").territorial_scope, vec!["DE".to_owned()]);
        assert!(by_puid("nowhere-in-eea").expect("sent").territorial_scope.is_empty());
        let refused: Vec<_> = export.rejected.iter().map(|r| (r.enforcement_id, r.errors.clone())).collect();
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused.iter().any(|(id, errors)| *id == ids[3] && errors.has("application_date")));
        assert!(refused.iter().any(|(id, errors)| *id == ids[6] && errors.has("decision_facts")));
        for statement in &export.statements {
            assert_eq!(tdb::validate(statement), Ok(()), "{}", statement.puid);
        }
        test.cleanup().await;
    }

    async fn a_policy_of_the_catalog_is_reported_under_the_category_its_entry_names(test) {
        let clock = clock();
        let counterfeit = redress_core::Policy {
            id: "counterfeit_goods".into(),
            ground_kind: redress_core::GroundKind::IllegalContent,
            category: "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS".into(),
            restrictions: vec![redress_core::RestrictionKind::AccountSuspended],
            texts: [("en".to_owned(), redress_core::PolicyText {
                title: "Counterfeit goods".into(),
                ground: "Regulation (EU) 2017/1001, Art. 9".into(),
                explanation: "Trade mark infringement.".into(),
            })]
            .into(),
        };
        let settings = EngineSettings {
            policies: redress_engine::policies::PolicyCatalog::new("en", vec![counterfeit], Vec::new()).expect("catalog"),
            ..EngineSettings::default()
        };
        let engine = Engine::new(test.db.clone(), settings, std::sync::Arc::new(clock.clone()));
        let at = clock.now();
        let mut statement = redress_engine::testing::automated_suspension_statement(at);
        statement["ground"] = json!({"ground": "illegal_content", "legal_ground": "Regulation (EU) 2017/1001, Art. 9", "explanation": "A counterfeit bag."});
        let under = |policy: &str, external: &str| redress_engine::registry::NewEnforcement {
            external_id: Some(external.to_owned()),
            policy: policy.to_owned(),
            statement: statement.clone(),
            ..automated_deactivation(&format!("acct-{external}"), "model", "brand-v2", at)
        };
        engine
            .record_enforcements(vec![under("counterfeit_goods", "catalogued"), under("fake_tickets", "configured"), under("unknown", "neither")])
            .await
            .expect("recorded");
        let configured = TdbSettings {
            categories: [
                ("fake_tickets".to_owned(), "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".to_owned()),
                // The catalog's entry wins over the file for a policy it holds.
                ("counterfeit_goods".to_owned(), "STATEMENT_CATEGORY_OTHER_VIOLATION_TC".to_owned()),
            ]
            .into(),
            ..TdbSettings::default()
        };
        let export = engine
            .export_statements(&configured, at - TimeDelta::days(1), at + TimeDelta::days(1))
            .await
            .expect("export");
        let category = |puid: &str| export.statements.iter().find(|s| s.puid == puid).map(|s| s.category.clone());
        assert_eq!(category("catalogued").as_deref(), Some("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"));
        assert_eq!(category("configured").as_deref(), Some("STATEMENT_CATEGORY_SCAMS_AND_FRAUD"));
        assert_eq!(category("neither"), None, "illegal content needs a category");
        assert_eq!(export.rejected.len(), 1);
        assert!(export.rejected[0].errors.has("category"));
        test.cleanup().await;
    }

    async fn rounds_look_for_new_enforcements_from_the_newest_with_a_row_and_a_full_scan_finds_the_rest(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), std::sync::Arc::new(clock.clone()));
        let at = clock.now();
        let new = |external: &str| redress_engine::registry::NewEnforcement {
            external_id: Some(external.to_owned()),
            ..automated_deactivation(&format!("acct-{external}"), "model", "spam-v1", at)
        };
        engine.record_enforcements(vec![new("first")]).await.expect("recorded");
        let quick = SubmitSettings { full_scan: false, ..SubmitSettings::default() };
        assert_eq!(engine.tdb_submit_round(&Accepting, &quick).await.expect("round").submitted, 1);
        // Recorded with a clock two hours behind: before the newest with a row, less the
        // margin.
        registry::record_enforcement(&test.db, new("late"), at - TimeDelta::hours(2)).await.expect("late");
        registry::record_enforcement(&test.db, new("recent"), at - TimeDelta::minutes(30)).await.expect("recent");
        let report = engine.tdb_submit_round(&Accepting, &quick).await.expect("round");
        assert_eq!((report.enqueued, report.submitted), (1, 1), "only the one within the margin");
        let report = engine.tdb_submit_round(&Accepting, &SubmitSettings::default()).await.expect("round");
        assert_eq!((report.enqueued, report.submitted), (1, 1), "the full scan finds the late one");
        let counts = engine.tdb_submission_counts().await.expect("counts");
        assert_eq!(counts.get("submitted"), Some(&3));
        test.cleanup().await;
    }

    async fn an_enforcement_whose_platform_id_repeats_a_recorded_puid_gets_one_of_its_own(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), std::sync::Arc::new(clock.clone()));
        let at = clock.now();
        let without_id = redress_engine::registry::NewEnforcement {
            external_id: None,
            ..automated_deactivation("acct-plain", "model", "spam-v1", at)
        };
        let first = engine.record_enforcements(vec![without_id]).await.expect("recorded")[0];
        assert_eq!(engine.tdb_submit_round(&Accepting, &SubmitSettings::default()).await.expect("round").submitted, 1);
        // The platform's id of the second is the first's own id, which is the first's PUID.
        let echoing = redress_engine::registry::NewEnforcement {
            external_id: Some(first.to_string()),
            ..automated_deactivation("acct-echo", "model", "spam-v1", at)
        };
        let second = engine.record_enforcements(vec![echoing]).await.expect("recorded")[0];
        let report = engine.tdb_submit_round(&Accepting, &SubmitSettings::default()).await.expect("round");
        assert_eq!((report.enqueued, report.submitted), (1, 1), "the second has a row and is sent");
        let rows = engine.tdb_submissions(None, 10).await.expect("rows");
        let puid_of = |id| rows.iter().find(|r| r.enforcement_id == id).map(|r| r.puid.clone()).expect("row");
        assert_eq!(puid_of(first), first.to_string());
        let derived = tdb::puid_for(Some(&format!("enforcement:{second}")), second);
        assert_eq!(puid_of(second), derived, "derived from the enforcement's own id");
        test.cleanup().await;
    }
}
