//! An appeal filed without an account, from an address registered to one, over GraphQL on
//! SQLite and PostgreSQL: the triager who verifies the identity links the claimed account
//! and a restore is carried out; the link is refused while that account has another open
//! appeal about the enforcement; a restore of an appeal linked to no account is refused
//! before it is decided, and its notice is not previewed.

#[allow(dead_code)]
mod api;

use api::{enforcement, file_appeal, TestApp, FILE, RECORD};
use redress_core::Role;
use redress_engine::delivery::topics;
use redress_engine::repo::outbox;
use serde_json::{json, Value};

const TRIAGE: &str = r"mutation($id: ID!, $v: Int!, $link: Boolean) {
  triageAppeal(id: $id, expectedVersion: $v, input: {priority: NORMAL, identityVerified: true, linkClaimedAccount: $link}) {
    version state identityVerified fourEyes accountId claimedAccount { id } enforcement { policy }
    events { kind payload }
  }
}";

const CLAIM: &str =
    r"mutation($id: ID!, $v: Int!) { claimAppeal(id: $id, expectedVersion: $v) { version } }";

const DECIDE: &str = r#"mutation($id: ID!, $v: Int!, $o: Outcome!) {
  decideAppeal(id: $id, expectedVersion: $v, outcome: $o, reasons: "You only saved the pin.") { version state }
}"#;

const PREVIEW: &str = r#"query($id: ID!) {
  previewDecisionNotice(appeal: $id, outcome: RESTORE, reasons: "You only saved the pin.") { mailSubject }
}"#;

const CASE: &str =
    r"query($id: ID!) { appeal(id: $id) { state version accountId claimedAccount { id } } }";

const REFUSED_RESTORE: &str = "this appeal is linked to no account: verify the appellant's identity at triage to link the account they claim, or decide otherwise";

/// Records an enforcement against `account` (registered to `account@example.test`) and
/// files an appeal from that address that names no account, as a mail nobody vouched for
/// is filed; returns its id.
async fn unlinked_appeal(app: &TestApp, account: &str, record: bool) -> String {
    let platform = app.token("platform", &[Role::Integration]);
    if record {
        app.ok(
            &platform,
            RECORD,
            json!({"e": [enforcement(account, "spam")]}),
        )
        .await;
    }
    let filed = app
        .ok(
            &platform,
            FILE,
            json!({"i": {
                "requestId": format!("req-unlinked-{account}"),
                "sender": format!("{account}@example.test"),
                "body": "It was not me who posted that pin.",
            }}),
        )
        .await;
    filed["fileAppeal"]["appeal"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn error(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (_, body) = app.post(Some(token), query, variables).await;
    assert!(
        body["data"].is_null() || body["errors"].is_array(),
        "{body}"
    );
    body["errors"][0].clone()
}

redress_engine::backend_tests! {
    async fn a_triager_links_the_claimed_account_and_the_restore_is_carried_out(test) {
        let app = TestApp::start(&test).await;
        let id = unlinked_appeal(&app, "acct-claimed", true).await;
        let tina = app.token("tina", &[Role::Triager]);
        let rita = app.token("rita", &[Role::Reviewer]);
        let before = app.ok(&tina, CASE, json!({"id": id})).await;
        assert_eq!(before["appeal"]["accountId"], Value::Null);
        assert_eq!(before["appeal"]["claimedAccount"], json!({"id": "acct-claimed"}));

        let triaged = app.ok(&tina, TRIAGE, json!({"id": id, "v": 1, "link": true})).await["triageAppeal"].clone();
        assert_eq!(
            (&triaged["state"], &triaged["identityVerified"], &triaged["accountId"], &triaged["claimedAccount"], &triaged["enforcement"]),
            (&json!("TRIAGED"), &json!(true), &json!("acct-claimed"), &Value::Null, &json!({"policy": "spam"})),
            "{triaged}"
        );
        let event = triaged["events"].as_array().expect("events").iter().find(|e| e["kind"] == "triaged").expect("triaged");
        assert_eq!(event["payload"]["linked"]["account_id"], "acct-claimed", "{event}");

        let claimed = app.ok(&rita, CLAIM, json!({"id": id, "v": triaged["version"]})).await;
        let decided = app.ok(&rita, DECIDE, json!({"id": id, "v": claimed["claimAppeal"]["version"], "o": "RESTORE"})).await;
        assert_eq!(decided["decideAppeal"]["state"], "REVIEWED");
        assert_eq!(api::deliver_pending(&app, &test, &id, topics::REQUEST_RESTORATION).await, 1);

        let after = app.ok(&rita, CASE, json!({"id": id})).await;
        assert_eq!(after["appeal"]["state"], "RESTORED", "{after}");
        let account = app.ok(&rita, r#"{ account(id: "acct-claimed") { status } }"#, json!({})).await;
        assert_eq!(account["account"]["status"], "active", "{account}");
        let notices = outbox::for_appeal(&test.db, id.parse().expect("uuid")).await.expect("outbox");
        assert_eq!(
            notices.iter().filter(|n| n.payload["effect"]["notice"] == "decision_restored").count(),
            1,
            "the decision notice is queued"
        );
        app.stop().await;
        test.cleanup().await;
    }

    async fn the_link_is_refused_while_the_claimed_account_has_an_open_appeal_about_it(test) {
        let app = TestApp::start(&test).await;
        let open = file_appeal(&app, "acct-twice", "spam").await;
        let id = unlinked_appeal(&app, "acct-twice", false).await;
        let tina = app.token("tina", &[Role::Triager]);
        for link in [json!(true), Value::Null] {
            let refused = error(&app, &tina, TRIAGE, json!({"id": id, "v": 1, "link": link})).await;
            assert_eq!(refused["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
            assert_eq!(refused["extensions"]["field"], "linkClaimedAccount", "{refused}");
            let message = refused["message"].as_str().expect("message");
            assert!(message.contains(open["reference"].as_str().expect("reference")), "{message}");
        }
        let unchanged = app.ok(&tina, CASE, json!({"id": id})).await;
        assert_eq!((&unchanged["appeal"]["state"], &unchanged["appeal"]["version"]), (&json!("FILED"), &json!(1)));

        let unlinked = app.ok(&tina, TRIAGE, json!({"id": id, "v": 1, "link": false})).await;
        assert_eq!(unlinked["triageAppeal"]["accountId"], Value::Null, "triaged without the link");
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_restore_of_an_appeal_linked_to_no_account_is_refused_and_not_previewed(test) {
        let app = TestApp::start(&test).await;
        let id = unlinked_appeal(&app, "acct-unsure", true).await;
        let tina = app.token("tina", &[Role::Triager]);
        let rita = app.token("rita", &[Role::Reviewer]);
        let triaged = app.ok(&tina, TRIAGE, json!({"id": id, "v": 1, "link": false})).await;
        let claimed = app.ok(&rita, CLAIM, json!({"id": id, "v": triaged["triageAppeal"]["version"]})).await;
        let version = claimed["claimAppeal"]["version"].clone();

        let refused = error(&app, &rita, DECIDE, json!({"id": id, "v": version, "o": "RESTORE"})).await;
        assert_eq!(refused["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
        assert_eq!(refused["extensions"]["field"], "outcome", "{refused}");
        assert_eq!(refused["message"], REFUSED_RESTORE);
        let preview = error(&app, &rita, PREVIEW, json!({"id": id})).await;
        assert_eq!(preview["message"], REFUSED_RESTORE, "no notice promising a restoration");

        let case = app.ok(&rita, CASE, json!({"id": id})).await;
        assert_eq!((&case["appeal"]["state"], &case["appeal"]["version"]), (&json!("TRIAGED"), &version), "nothing was decided");
        let requests = outbox::for_appeal(&test.db, id.parse().expect("uuid")).await.expect("outbox");
        assert!(requests.iter().all(|row| row.topic != topics::REQUEST_RESTORATION));
        app.stop().await;
        test.cleanup().await;
    }
}
