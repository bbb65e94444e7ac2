//! Email through the running service: the SMTP listener, the raw-MIME webhook, and the
//! mail deliverer of the outbox, end to end on SQLite and PostgreSQL.

#[allow(dead_code)]
mod smtp_client;

use mail_parser::MessageParser;
use redress::config::{Config, Secret};
use redress_engine::delivery::{topics, OutboxMessage};
use redress_engine::repo::outbox;
use redress_engine::testing::TestDb;

const SENDER: &str = "maria.lopez@example.org";
const APPEAL: &str = "From: Maria Lopez <maria.lopez@example.org>\r\nTo: appeals@redress.test\r\nSubject: My account was deactivated\r\nMessage-ID: <first@mail.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI only saved a pin.\r\n";

fn config_for(test: &TestDb, outgoing: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    // The test delivers the outbox itself.
    config.workers.enabled = false;
    config.email.accepted_domains = vec!["redress.test".to_owned()];
    "Redress Appeals <appeals@redress.test>".clone_into(&mut config.email.from);
    config.email.webhook_secret = Some(Secret::new("webhook-token"));
    outgoing.clone_into(&mut config.email.outgoing_dir);
    config
}

/// An appeal whose body is a `message/rfc822` holding another, `depth` times over.
fn nested_messages(depth: usize) -> Vec<u8> {
    let mut raw = String::from("From: Nesting <nest@example.org>\r\nTo: appeals@redress.test\r\nSubject: nested\r\nMessage-ID: <deep@example.org>\r\nContent-Type: message/rfc822\r\n\r\n");
    for _ in 1..depth {
        raw.push_str("From: inner@example.org\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    raw.push_str("From: inner@example.org\r\n\r\nhello\r\n");
    raw.into_bytes()
}

redress_engine::backend_tests! {
    async fn mail_in_acknowledgement_out_and_the_reply_lands_on_the_case(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let app = redress::app::start(config_for(&test, outgoing.path())).await.expect("start");
        let smtp = app.smtp_addr.expect("SMTP is on by default");
        let accepted = smtp_client::send(smtp, SENDER, APPEAL.as_bytes()).await;
        let reference = accepted.rsplit(' ').next().expect("reference").to_owned();
        assert!(accepted.contains("accepted as appeal RDR-"), "{accepted}");

        let appeal = app.state.engine.appeal_by_reference(&reference.parse().expect("reference")).await.expect("appeal");
        let row = outbox::for_appeal(&test.db, appeal.id).await.expect("outbox").remove(0);
        let item = OutboxMessage::from(row);
        let registry = redress::deliverers::registry(&app.state).expect("registry");
        assert_eq!(item.topic, topics::NOTIFY_APPELLANT);
        registry.deliverer_for(&item).expect("mail takes email notices").deliver(&item).await.expect("deliver");

        let written: Vec<_> = std::fs::read_dir(outgoing.path()).expect("dir").map(|e| e.expect("entry").path()).collect();
        assert_eq!(written.len(), 1);
        let raw = std::fs::read(&written[0]).expect("read");
        let ack = MessageParser::default().parse(&raw).expect("parse");
        assert!(ack.subject().expect("subject").contains(&reference));
        let ack_id = ack.message_id().expect("id").to_owned();

        let reply = format!(
            "From: maria.lopez@example.org\r\nTo: appeals@redress.test\r\nSubject: a different subject\r\nMessage-ID: <second@mail.example.org>\r\nIn-Reply-To: <{ack_id}>\r\n\r\nHere is more.\r\n"
        );
        let threaded = smtp_client::send(smtp, SENDER, reply.as_bytes()).await;
        assert!(threaded.ends_with(&format!("added to appeal {reference}")), "{threaded}");

        let looped = String::from_utf8_lossy(&raw).replace("\r\n", "\n").replace('\n', "\r\n");
        let recorded = smtp_client::send(smtp, SENDER, looped.as_bytes()).await;
        assert!(recorded.ends_with("already received"), "our sent mail is on the case's record: {recorded}");
        let notices: Vec<_> = outbox::for_appeal(&test.db, appeal.id).await.expect("outbox")
            .into_iter().filter(|item| item.topic != "platform_event").collect();
        assert_eq!(notices.len(), 1, "neither the reply nor our own mail is answered");
        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn the_webhook_takes_raw_mime_behind_its_secret(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let app = redress::app::start(config_for(&test, outgoing.path())).await.expect("start");
        let url = format!("http://{}/intake/email?mail_from=maria.lopez@example.org", app.http_addr);
        let http = reqwest::Client::new();

        let anonymous = http.post(&url).body(APPEAL).send().await.expect("post");
        assert_eq!(anonymous.status(), 401);
        let wrong = http.post(&url).bearer_auth("guess").body(APPEAL).send().await.expect("post");
        assert_eq!(wrong.status(), 401);

        let filed = http.post(&url).bearer_auth("webhook-token").body(APPEAL).send().await.expect("post");
        assert_eq!(filed.status(), 200);
        let body: serde_json::Value = filed.json().await.expect("json");
        assert_eq!(body["outcome"], "filed");
        assert!(body["reference"].as_str().expect("reference").starts_with("RDR-"));

        let again: serde_json::Value = http.post(&url).bearer_auth("webhook-token").body(APPEAL).send().await.expect("post").json().await.expect("json");
        assert_eq!(again["outcome"], "duplicate");
        assert_eq!(again["appeal_id"], body["appeal_id"]);

        let malformed = http.post(&url).bearer_auth("webhook-token").body("Subject: no sender\r\n\r\nbody\r\n").send().await.expect("post");
        assert_eq!(malformed.status(), 422);
        let reason: serde_json::Value = malformed.json().await.expect("json");
        assert!(reason["reason"].as_str().expect("reason").contains("no From address"));
        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn a_deeply_nested_message_on_the_webhook_is_refused_and_the_service_keeps_serving(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let app = redress::app::start(config_for(&test, outgoing.path())).await.expect("start");
        let url = format!("http://{}/intake/email", app.http_addr);
        let http = reqwest::Client::new();
        let deep = nested_messages(30_000);
        assert!(deep.len() > 1_500_000);
        for _ in 0..2 {
            let refused = http.post(&url).bearer_auth("webhook-token").body(deep.clone()).send().await.expect("post");
            assert_eq!(refused.status(), 422, "a permanent refusal, also for the provider's retry");
            let reason: serde_json::Value = refused.json().await.expect("json");
            assert!(reason["reason"].as_str().expect("reason").contains("nested deeper than 100 levels"), "{reason}");
        }
        let filed = http.post(&url).bearer_auth("webhook-token").body(APPEAL).send().await.expect("post");
        assert_eq!(filed.status(), 200);
        let smtp = smtp_client::send(app.smtp_addr.expect("SMTP"), SENDER, APPEAL.replace("<first@", "<second@").as_bytes()).await;
        assert!(smtp.contains("appeal RDR-"), "SMTP is still up: {smtp}");
        app.stop().await.expect("stop");
        test.cleanup().await;
    }
}

#[tokio::test]
async fn without_a_secret_there_is_no_webhook_and_smtp_can_be_off() {
    let test = TestDb::sqlite().await;
    let outgoing = tempfile::tempdir().expect("tempdir");
    let mut config = config_for(&test, outgoing.path());
    config.email.webhook_secret = None;
    config.email.smtp_enabled = false;
    let app = redress::app::start(config).await.expect("start");
    assert_eq!(app.smtp_addr, None);
    let response = reqwest::Client::new()
        .post(format!("http://{}/intake/email", app.http_addr))
        .bearer_auth("anything")
        .body(APPEAL)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 404);
    app.stop().await.expect("stop");
    test.cleanup().await;
}

#[test]
fn inconsistent_email_settings_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("redress.toml");
    std::fs::write(&path, "[email]\ntransport = \"smtp\"\n").expect("write");
    let error = Config::load(Some(&path)).expect_err("no relay");
    assert!(error.to_string().contains("relay_url"), "{error}");
    std::fs::write(&path, "[email]\ntls_cert = \"cert.pem\"\n").expect("write");
    assert!(Config::load(Some(&path)).is_err());
    std::fs::write(
        &path,
        "[email]\nsmtp_bind = \"0.0.0.0:25\"\naccepted_domains = [\"appeals.example.org\"]\n",
    )
    .expect("write");
    let config = Config::load(Some(&path)).expect("valid");
    assert_eq!(config.email.smtp_bind.port(), 25);
    assert_eq!(config.email.from, "Redress Appeals <appeals@localhost>");
}
