//! Every mutation as every role, compared with the role matrix documented in docs/api.md.

#[allow(dead_code)]
mod api;

use std::collections::BTreeMap;

use api::{file_appeal, TestApp};
use redress_core::Role;
use serde_json::json;

/// The matrix of docs/api.md: mutation -> role -> allowed.
fn documented_matrix() -> BTreeMap<String, BTreeMap<Role, bool>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md");
    let section = text
        .split("### Role matrix")
        .nth(1)
        .expect("a role matrix section");
    let section = section.split("\n#").next().unwrap_or_default();
    let mut rows = section.lines().filter(|l| l.starts_with('|'));
    let header: Vec<Role> = rows
        .next()
        .expect("header row")
        .split('|')
        .map(str::trim)
        .skip(2)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().expect("a role name"))
        .collect();
    let mut matrix = BTreeMap::new();
    for row in rows.skip(1) {
        let cells: Vec<&str> = row
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let mutation = cells[0].trim_matches('`').to_owned();
        let allowed = header
            .iter()
            .zip(&cells[1..])
            .map(|(role, cell)| {
                assert!(
                    *cell == "yes" || *cell == "no",
                    "cell {cell:?} of {mutation}"
                );
                (*role, *cell == "yes")
            })
            .collect();
        matrix.insert(mutation, allowed);
    }
    matrix
}

fn call(mutation: &str) -> String {
    let args = match mutation {
        "recordEnforcements" => return "mutation { recordEnforcements(enforcements: []) { ids } }".into(),
        "fileAppeal" => {
            return r#"mutation { fileAppeal(input: {accountId: "acct-rbac", sender: "a@example.test", body: "hello"}) { outcome } }"#.into()
        }
        "claimNextAppeal" => return r#"mutation { claimNextAppeal(queue: "nothing-here") { id } }"#.into(),
        "retryDeadLetter" => return format!(r#"mutation {{ retryDeadLetter(id: "{}") {{ __typename }} }}"#, uuid::Uuid::nil()),
        "bulkDecisionDryRun" => {
            return r#"mutation { bulkDecisionDryRun(filter: {queue: "rbac-none"}, templateId: "rbac-none") { __typename } }"#.into()
        }
        "startBulkDecision" => {
            return r#"mutation { startBulkDecision(filter: {queue: "rbac-none"}, templateId: "rbac-none") { __typename } }"#.into()
        }
        "cancelBulkDecision" => return format!(r#"mutation {{ cancelBulkDecision(jobId: "{}") {{ __typename }} }}"#, uuid::Uuid::nil()),
        "bulkRestoreDryRun" => return r#"mutation { bulkRestoreDryRun(selector: {sourceId: "rbac-none"}) { __typename } }"#.into(),
        "startBulkRestore" => {
            return r#"mutation { startBulkRestore(selector: {sourceId: "rbac-none"}, reason: "role check") { __typename } }"#.into()
        }
        "cancelBulkRestore" => return format!(r#"mutation {{ cancelBulkRestore(jobId: "{}") {{ __typename }} }}"#, uuid::Uuid::nil()),
        "resolveIncident" => return format!(r#"mutation {{ resolveIncident(id: "{}") {{ __typename }} }}"#, uuid::Uuid::nil()),
        "resubmitTdbStatement" => {
            return format!(r#"mutation {{ resubmitTdbStatement(enforcementId: "{}") {{ __typename }} }}"#, uuid::Uuid::nil())
        }
        "recordOutOfCourtDispute" => {
            return format!(
                r#"mutation {{ recordOutOfCourtDispute(input: {{appealId: "{}", settlementBody: "ADR", submittedAt: "2026-11-01T00:00:00Z"}}) {{ __typename }} }}"#,
                uuid::Uuid::nil()
            )
        }
        // Rule changes that pass the role check still fail on the nil id (NOT_FOUND) or on
        // the input, so the matrix run leaves no rule behind to route later filings.
        "createRoutingRule" => {
            return r#"mutation { createRoutingRule(input: {name: "rbac", queue: ""}) { id } }"#.into()
        }
        "updateRoutingRule" => {
            return format!(r#"mutation {{ updateRoutingRule(id: "{}", input: {{name: "rbac", queue: "q"}}) {{ id }} }}"#, uuid::Uuid::nil())
        }
        "disableRoutingRule" | "enableRoutingRule" => {
            return format!(r#"mutation {{ {mutation}(id: "{}") {{ id }} }}"#, uuid::Uuid::nil())
        }
        "takeSecondReview" => return "mutation { takeSecondReview { id } }".into(),
        "recordSecondReview" => {
            return format!(r#"mutation {{ recordSecondReview(id: "{}", outcome: RESTORE) {{ id }} }}"#, uuid::Uuid::nil())
        }
        "reorderRoutingRules" => return r#"mutation { reorderRoutingRules(ids: ["not-an-id"]) { id } }"#.into(),
        // Catalog changes that pass the role check fail on the input or the unknown id, so
        // the matrix run leaves the catalog as it was.
        "createPolicy" | "updatePolicy" => {
            return format!(r#"mutation {{ {mutation}(input: {{id: "rbac", groundKind: "none", category: "", texts: []}}) {{ version }} }}"#)
        }
        "createDecisionTemplate" | "updateDecisionTemplate" => {
            return format!(
                r#"mutation {{ {mutation}(input: {{id: "rbac", policy: "rbac-none", outcome: UPHOLD, language: "en", title: "t", reasons: "r"}}) {{ version }} }}"#
            )
        }
        // An unknown appeal, and a person nobody holds anything about.
        "setLegalHold" | "clearLegalHold" => {
            return format!(r#"mutation {{ {mutation}(appealId: "{}", reason: "role check") {{ held }} }}"#, uuid::Uuid::nil())
        }
        "exportPersonalData" | "erasePersonalData" => {
            return format!(r#"mutation {{ {mutation}(subject: {{handle: "rbac-nobody"}}) {{ appeals }} }}"#)
        }
        "retirePolicy" | "retireDecisionTemplate" => return format!(r#"mutation {{ {mutation}(id: "rbac-none") {{ version }} }}"#),
        // Endpoint changes that pass the role check fail on the input or the nil id, so the
        // matrix run leaves no endpoint behind to post to.
        "createWebhookEndpoint" => {
            return r#"mutation { createWebhookEndpoint(input: {url: "ftp://rbac.invalid/", events: [APPEAL_FILED]}) { secret } }"#.into()
        }
        "updateWebhookEndpoint" => {
            return format!(r#"mutation {{ updateWebhookEndpoint(id: "{}", input: {{enabled: false}}) {{ id }} }}"#, uuid::Uuid::nil())
        }
        "rotateWebhookSecret" => return format!(r#"mutation {{ rotateWebhookSecret(id: "{}") {{ secret }} }}"#, uuid::Uuid::nil()),
        "deleteWebhookEndpoint" => return format!(r#"mutation {{ deleteWebhookEndpoint(id: "{}") }}"#, uuid::Uuid::nil()),
        "triageAppeal" => "input: {priority: NORMAL, identityVerified: true}",
        "claimAppeal" | "heartbeatClaim" | "releaseAppeal" | "approveDecision" => "",
        "requestInfo" => r#"message: "which pin?""#,
        "addNote" => r#"text: "looked at it""#,
        "decideAppeal" => r#"outcome: RESTORE, reasons: "saved, not created""#,
        "rejectDecision" => r#"note: "needs more""#,
        "reopenAppeal" | "withdrawAppeal" | "escalateAppeal" => r#"reason: "because""#,
        other => panic!("no call written for {other}"),
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!(", {args}")
    };
    format!("mutation($id: ID!, $v: Int!) {{ {mutation}(id: $id, expectedVersion: $v{args}) {{ version }} }}")
}

redress_engine::backend_tests! {
    async fn every_mutation_allows_exactly_the_documented_roles(test) {
        let app = TestApp::start(&test).await;
        let matrix = documented_matrix();
        let coded: Vec<&str> = redress_graphql::rbac::MUTATION_ROLES.iter().map(|(m, _)| *m).collect();
        assert_eq!(
            matrix.keys().map(String::as_str).collect::<Vec<_>>(),
            { let mut sorted = coded.clone(); sorted.sort_unstable(); sorted },
            "docs/api.md documents exactly the mutations of the role table"
        );
        let appeal = file_appeal(&app, "acct-rbac", "spam").await;
        let id = appeal["id"].clone();
        let reader = app.token("reader", &[Role::Triager]);
        for (mutation, roles) in &matrix {
            for (role, allowed) in roles {
                let token = app.token(&format!("{}-{}", role.as_str(), mutation), &[*role]);
                let current = app.ok(&reader, "query($id: ID!) { appeal(id: $id) { version } }", json!({"id": id})).await;
                let (_, body) = app.post(Some(&token), &call(mutation), json!({"id": id, "v": current["appeal"]["version"]})).await;
                let code = body["errors"][0]["extensions"]["code"].as_str();
                assert!(body["errors"].is_null() || code.is_some(), "{mutation} as {role}: uncoded error {body}");
                if *allowed {
                    assert_ne!(code, Some("FORBIDDEN"), "{mutation} as {role} should pass the role check: {body}");
                    assert_ne!(code, Some("UNAUTHENTICATED"), "{mutation} as {role}: {body}");
                } else {
                    assert_eq!(code, Some("FORBIDDEN"), "{mutation} as {role} should be refused: {body}");
                }
            }
        }
        app.stop().await;
        test.cleanup().await;
    }
}
