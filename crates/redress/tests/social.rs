//! Social DMs over real HTTP: platform-shaped webhook deliveries signed in the test, the
//! running service, and a local server speaking the X and Meta send APIs that records the
//! replies. Every test runs on SQLite and PostgreSQL.

mod webhooks;

use std::sync::Arc;

use chrono::TimeDelta;
use redress::config::Config;
use redress_core::{AppealState, Channel};
use redress_engine::delivery::DeliveryError;
use redress_engine::repo::{handles, messages};
use redress_engine::testing::TestDb;
use redress_engine::Clock;
use serde_json::{json, Value};
use webhooks::{
    enforce, meta_messaging, meta_notification, meta_signature, start, start_time, summary, x_dm,
    x_signature, META_SECRET, OUR_IG_ID, OUR_X_ID, VERIFY_TOKEN, X_SECRET,
};

redress_engine::backend_tests! {
    async fn x_crc_and_meta_verification_handshakes(test) {
        let h = start(&test).await;
        let crc: Value = h.http.get(format!("{}/webhooks/x?crc_token=challenge-123", h.base))
            .send().await.expect("crc").json().await.expect("json");
        assert_eq!(crc["response_token"], x_signature(X_SECRET, b"challenge-123"));
        let missing = h.http.get(format!("{}/webhooks/x", h.base)).send().await.expect("crc");
        assert_eq!(missing.status(), 400);

        let ok = h.http.get(format!(
            "{}/webhooks/meta?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444",
            h.base
        )).send().await.expect("verify");
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.expect("body"), "1158201444");
        let wrong = h.http.get(format!(
            "{}/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444",
            h.base
        )).send().await.expect("verify");
        assert_eq!(wrong.status(), 403);
        h.stop(test).await;
    }

    async fn bad_signatures_are_refused_and_store_nothing(test) {
        let h = start(&test).await;
        let now = h.clock.now();
        let payload = serde_json::to_vec(&x_dm("ev-1", "3001969357", "help", now)).expect("json");
        let signed = x_signature(X_SECRET, &payload);
        let mut tampered = payload.clone();
        let last = tampered.len() - 2;
        tampered[last] = b' ';
        for (body, header) in [
            (tampered, Some(("x-twitter-webhooks-signature", signed.clone()))),
            (payload.clone(), Some(("x-twitter-webhooks-signature", x_signature("wrong-secret", &payload)))),
            (payload.clone(), None),
            (payload.clone(), Some(("x-twitter-webhooks-signature", meta_signature(X_SECRET, &payload)))),
        ] {
            let response = h.post_raw("/webhooks/x", body, header).await;
            assert_eq!(response.status(), 401);
        }

        let meta = serde_json::to_vec(&meta_notification(
            "instagram",
            vec![meta_messaging("mid.1", "IGSID-1", OUR_IG_ID, "help", now, false)],
            now,
        )).expect("json");
        for header in [
            None,
            Some(("x-hub-signature-256", meta_signature("wrong-secret", &meta))),
            Some(("x-hub-signature-256", x_signature(META_SECRET, &meta))),
        ] {
            let response = h.post_raw("/webhooks/meta", meta.clone(), header).await;
            assert_eq!(response.status(), 401);
        }
        assert_eq!(h.messages().await, 0);
        assert!(h.outbox().await.is_empty());
        h.stop(test).await;
    }

    async fn an_unknown_x_sender_confirms_by_email_and_gets_replies_by_dm(test) {
        let h = start(&test).await;
        let enforcement = enforce(&h, "acct-77").await;
        let sender = "3001969357";

        let first = summary(h.post_x(&x_dm("ev-1", sender, "My account was banned for a pin I only saved", h.clock.now())).await).await;
        assert_eq!(first["filed"], 1);
        h.clock.advance(TimeDelta::minutes(3));
        let second = summary(h.post_x(&x_dm("ev-2", sender, "My email is ACCT-77@example.org", h.clock.now())).await).await;
        assert_eq!(second["appended"], 1);

        let items = h.outbox().await;
        let appeal_id = items[0].appeal_id.expect("appeal");
        let appeal = h.app.state.engine.appeal(appeal_id).await.expect("appeal");
        assert!(!appeal.appeal.identity_verified);
        assert_eq!(appeal.appeal.account_id, None);
        let mail = items.iter().find(|i| i.topic == "handle_confirmation").expect("mail queued");
        assert_eq!(mail.payload["contact"], "acct-77@example.org");
        let link = mail.payload["link"].as_str().expect("link");
        assert!(link.starts_with("https://appeals.example/social/confirm?token="));
        let path_and_query = link.trim_start_matches("https://appeals.example");

        let outcomes = h.deliver_dms().await;
        assert_eq!(outcomes.len(), 3, "acknowledgement, ask for email, confirmation sent");
        assert!(outcomes.iter().all(|(_, r)| r.is_ok()));
        let sent = h.sent();
        assert!(sent.iter().all(|s| s.path == format!("/2/dm_conversations/with/{sender}/messages")));
        assert!(sent.iter().all(|s| s.authorization == "Bearer x-user-token"));
        let texts: Vec<&str> = sent.iter().map(|s| s.body["text"].as_str().expect("text")).collect();
        assert!(texts.iter().all(|t| t.contains(appeal.reference.as_str())));
        assert!(texts.iter().any(|t| t.contains("reply with the email address")));

        // Opening the link only shows a button (mail scanners open links); pressing it links.
        let page = h.http.get(format!("{}{path_and_query}", h.base)).send().await.expect("page");
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("<form method=\"post\""));
        assert!(!h.app.state.engine.appeal(appeal_id).await.expect("appeal").appeal.identity_verified);
        let confirmed = h.http.post(format!("{}{path_and_query}", h.base)).send().await.expect("confirm");
        assert_eq!(confirmed.status(), 200);
        let again = h.http.post(format!("{}{path_and_query}", h.base)).send().await.expect("confirm");
        assert_eq!(again.status(), 400);
        assert!(again.text().await.expect("html").contains("already used"));

        let appeal = h.app.state.engine.appeal(appeal_id).await.expect("appeal");
        assert!(appeal.appeal.identity_verified);
        assert_eq!(appeal.appeal.account_id.as_deref(), Some("acct-77"));
        assert_eq!(appeal.appeal.enforcement_id, Some(enforcement));
        assert_eq!(
            handles::linked_account(h.app.state.engine.db(), Channel::X, sender).await.expect("link").as_deref(),
            Some("acct-77")
        );
        let history = h.app.state.engine.history(appeal_id).await.expect("history");
        assert!(history.iter().any(|(_, e)| e.kind.name() == "identity_linked"));
        h.stop(test).await;
    }

    async fn duplicate_deliveries_file_once_sequentially_and_concurrently(test) {
        let h = start(&test).await;
        let payload = x_dm("ev-dup", "3001969357", "please look again", h.clock.now());
        assert_eq!(summary(h.post_x(&payload).await).await["filed"], 1);
        let again = summary(h.post_x(&payload).await).await;
        assert_eq!(again["duplicates"], 1);
        assert_eq!(again["filed"], 0);

        let concurrent = meta_notification(
            "page",
            vec![meta_messaging("m_concurrent", "PSID-9", "PAGE-1", "hello?", h.clock.now(), false)],
            h.clock.now(),
        );
        let h = Arc::new(h);
        let posts: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                let payload = concurrent.clone();
                tokio::spawn(async move { summary(h.post_meta(&payload).await).await })
            })
            .collect();
        let mut filed = 0;
        for post in posts {
            let result = post.await.expect("join");
            filed += result["filed"].as_u64().expect("count");
            assert_eq!(result["filed"].as_u64().expect("n") + result["duplicates"].as_u64().expect("n"), 1);
        }
        assert_eq!(filed, 1);
        let h = Arc::into_inner(h).expect("sole owner");
        assert_eq!(h.messages().await, 2);
        let appeals: Vec<_> = h.outbox().await.into_iter().filter_map(|i| i.appeal_id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        assert_eq!(appeals.len(), 2);
        let messenger = h.app.state.engine.appeal(appeals[1]).await.expect("appeal");
        assert_eq!(messenger.appeal.channel, Channel::Messenger);
        h.stop(test).await;
    }

    async fn echoes_deliveries_reads_and_stale_events_store_nothing(test) {
        let h = start(&test).await;
        let now = h.clock.now();
        let mut meta = meta_notification(
            "instagram",
            vec![meta_messaging("mid.echo", OUR_IG_ID, "IGSID-5", "We received your appeal", now, true)],
            now,
        );
        meta["entry"][0]["messaging"].as_array_mut().expect("array").extend([
            json!({ "sender": { "id": "IGSID-5" }, "recipient": { "id": OUR_IG_ID }, "timestamp": now.timestamp_millis(), "read": { "mid": "mid.echo" } }),
            json!({ "sender": { "id": "IGSID-5" }, "recipient": { "id": OUR_IG_ID }, "timestamp": now.timestamp_millis(), "delivery": { "mids": ["mid.echo"], "watermark": now.timestamp_millis() } }),
        ]);
        let result = summary(h.post_meta(&meta).await).await;
        assert_eq!(result["echoes"], 1);
        assert_eq!(result["ignored"], 2);

        let our_own = x_dm("ev-echo", OUR_X_ID, "We received your appeal", now);
        assert_eq!(summary(h.post_x(&our_own).await).await["echoes"], 1);

        let replayed = x_dm("ev-old", "3001969357", "help", now - TimeDelta::days(2));
        assert_eq!(summary(h.post_x(&replayed).await).await["stale"], 1);
        let from_the_future = meta_notification(
            "instagram",
            vec![meta_messaging("mid.future", "IGSID-5", OUR_IG_ID, "help", now + TimeDelta::days(2), false)],
            now,
        );
        assert_eq!(summary(h.post_meta(&from_the_future).await).await["stale"], 1);
        assert_eq!(h.messages().await, 0);
        h.stop(test).await;
    }

    async fn a_linked_sender_files_for_the_account_and_follow_ups_join_the_open_case(test) {
        let h = start(&test).await;
        let enforcement = enforce(&h, "acct-5").await;
        handles::link(h.app.state.engine.db(), Channel::Instagram, "IGSID-5", "acct-5", start_time()).await.expect("link");
        let first = meta_notification(
            "instagram",
            vec![meta_messaging("mid.1", "IGSID-5", OUR_IG_ID, "Why was I banned?", h.clock.now(), false)],
            h.clock.now(),
        );
        assert_eq!(summary(h.post_meta(&first).await).await["filed"], 1);
        h.clock.advance(TimeDelta::hours(2));
        let second = meta_notification(
            "instagram",
            vec![meta_messaging("mid.2", "IGSID-5", OUR_IG_ID, "Here is a screenshot", h.clock.now(), false)],
            h.clock.now(),
        );
        assert_eq!(summary(h.post_meta(&second).await).await["appended"], 1);

        let items: Vec<_> = h.outbox().await.into_iter().filter(|i| i.topic != "platform_event").collect();
        assert!(items.iter().all(|i| i.topic == "notify_appellant"), "a verified sender is not asked for an email");
        let appeal = h.app.state.engine.appeal(items[0].appeal_id.expect("id")).await.expect("appeal");
        assert!(appeal.appeal.identity_verified);
        assert_eq!(appeal.appeal.account_id.as_deref(), Some("acct-5"));
        assert_eq!(appeal.appeal.enforcement_id, Some(enforcement));
        assert_eq!(appeal.appeal.state, AppealState::Filed);
        assert_eq!(h.messages().await, 2);

        let outcomes = h.deliver_dms().await;
        assert_eq!(outcomes.len(), 1);
        let sent = h.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].path, "/v21.0/me/messages");
        assert_eq!(sent[0].authorization, "Bearer ig-token");
        assert_eq!(sent[0].body["recipient"]["id"], "IGSID-5");
        assert_eq!(sent[0].body["messaging_type"], "RESPONSE");
        assert!(sent[0].body["message"]["text"].as_str().expect("text").contains(appeal.reference.as_str()));
        h.stop(test).await;
    }

    async fn send_api_refusals_are_retried_or_dead_lettered_by_status(test) {
        let h = start(&test).await;
        for (id, sender) in [("ev-1", "rate-limited"), ("ev-2", "blocked")] {
            assert_eq!(summary(h.post_x(&x_dm(id, sender, "help", h.clock.now())).await).await["filed"], 1);
        }
        for (id, sender) in [("m-1", "rate-limited"), ("m-2", "blocked")] {
            let payload = meta_notification("page", vec![meta_messaging(id, sender, "PAGE-1", "help", h.clock.now(), false)], h.clock.now());
            assert_eq!(summary(h.post_meta(&payload).await).await["filed"], 1);
        }
        let outcomes = h.deliver_dms().await;
        let retryable = outcomes.iter().filter(|(_, r)| matches!(r, Err(DeliveryError::Retryable(_)))).count();
        let permanent = outcomes.iter().filter(|(_, r)| matches!(r, Err(DeliveryError::Permanent(_)))).count();
        // Each unknown sender gets the acknowledgement and the request for an email.
        assert_eq!(retryable, 4);
        assert_eq!(permanent, 4);
        h.stop(test).await;
    }

    async fn dms_with_nul_in_every_field_are_kept_with_it_replaced(test) {
        let h = start(&test).await;
        let now = h.clock.now();
        let sender = "30019\u{0}69357";
        let mut x = x_dm("ev\u{0}1", sender, "My account\u{0} was banned", now);
        x["users"][sender]["name"] = json!("Ana\u{0} B");
        let meta = meta_notification(
            "instagram",
            vec![meta_messaging("mid.\u{0}1", "IGSID\u{0}5", OUR_IG_ID, "Why\u{0}?", now, false)],
            now,
        );
        let filed = summary(h.post_x(&x).await).await;
        assert_eq!(filed["filed"], 1, "{filed}");
        let filed = summary(h.post_meta(&meta).await).await;
        assert_eq!(filed["filed"], 1, "{filed}");

        let db = h.app.state.engine.db();
        let stored = messages::find_by_channel_id(db, Channel::X, "ev\u{FFFD}1").await.expect("query").expect("the X message");
        assert_eq!(stored.sender, "30019\u{FFFD}69357");
        assert_eq!(stored.body, "My account\u{FFFD} was banned");
        assert_eq!(stored.metadata["sender"]["name"], "Ana\u{FFFD} B");
        let stored = messages::find_by_channel_id(db, Channel::Instagram, "mid.\u{FFFD}1").await.expect("query").expect("the Instagram message");
        assert_eq!(stored.sender, "IGSID\u{FFFD}5");
        assert_eq!(stored.body, "Why\u{FFFD}?");

        assert_eq!(summary(h.post_x(&x).await).await["duplicates"], 1);
        assert_eq!(summary(h.post_meta(&meta).await).await["duplicates"], 1);
        assert_eq!(h.messages().await, 2);
        h.stop(test).await;
    }

    async fn a_dm_refused_for_good_is_acknowledged_and_its_siblings_are_kept(test) {
        let h = start(&test).await;
        let now = h.clock.now();
        let mut x = x_dm("ev-long-sender", &"9".repeat(600), "hi", now);
        for event in [
            x_dm("ev-ok", "3001969357", "help", now),
            x_dm(&"7".repeat(4000), "3001969358", "a very long event id", now),
        ] {
            let event = event["direct_message_events"][0].clone();
            x["direct_message_events"].as_array_mut().expect("events").push(event);
        }
        x["direct_message_events"].as_array_mut().expect("events").push(json!({ "type": "message_create", "id": 5 }));
        let result = summary(h.post_x(&x).await).await;
        assert_eq!(
            (&result["rejected"], &result["filed"], &result["malformed"]),
            (&json!(1), &json!(2), &json!(1)),
            "{result}"
        );

        let at = now.timestamp_millis();
        let mut meta = meta_notification("page", vec![meta_messaging("m-ok", "PSID-1", "PAGE-1", "help", now, false)], now);
        meta["entry"][0]["messaging"].as_array_mut().expect("messaging").extend([
            json!({ "recipient": { "id": "PAGE-1" }, "timestamp": at, "message": { "mid": "m-no-sender", "text": "x" } }),
            json!({ "sender": { "id": "PSID-2" }, "recipient": { "id": "PAGE-1" }, "timestamp": "yesterday", "message": { "mid": "m-text-time", "text": "x" } }),
            json!({ "sender": { "id": 7 }, "recipient": { "id": "PAGE-1" }, "timestamp": at, "message": { "mid": "m-number-id" } }),
            json!("not an object"),
        ]);
        let result = summary(h.post_meta(&meta).await).await;
        assert_eq!((&result["filed"], &result["malformed"]), (&json!(1), &json!(4)), "{result}");
        assert_eq!(h.messages().await, 3);
        h.stop(test).await;
    }
}

#[tokio::test]
async fn webhooks_of_unconfigured_platforms_answer_not_found() {
    let test = TestDb::sqlite().await;
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    // The test delivers the outbox itself.
    config.workers.enabled = false;
    let app = redress::app::start(config).await.expect("start");
    let http = reqwest::Client::new();
    for path in [
        "/webhooks/x?crc_token=abc",
        "/webhooks/meta?hub.mode=subscribe",
    ] {
        let response = http
            .get(format!("http://{}{path}", app.http_addr))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.expect("json");
        assert!(body["error"]
            .as_str()
            .expect("error")
            .contains("not configured"));
    }
    let post = http
        .post(format!("http://{}/webhooks/x", app.http_addr))
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 404);
    app.stop().await.expect("stop");
    test.cleanup().await;
}
