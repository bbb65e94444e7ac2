//! Hostile and odd mail over real SMTP on SQLite and PostgreSQL: every message gets a
//! permanent answer or is stored, and the server keeps serving.

mod common;

use common::{hostile, intake_with, message, start_smtp, RawClient, Reply};
use redress_engine::entity::message as message_entity;
use sea_orm::{DatabaseConnection, EntityTrait};

async fn stored_messages(db: &DatabaseConnection) -> Vec<message_entity::Model> {
    message_entity::Entity::find()
        .all(db)
        .await
        .expect("messages")
}

/// The common settings with room for a 1.5 MB message.
fn roomy_settings() -> redress_intake::email::EmailIntakeSettings {
    let mut settings = common::settings();
    settings.max_message_bytes = 4 * 1024 * 1024;
    settings
}

fn assert_refused(reply: &Reply, code: u16, status: &str) {
    assert_eq!(reply.code, code, "{reply:?}");
    assert!(reply.lines[0].starts_with(status), "{reply:?}");
}

redress_engine::backend_tests! {
    async fn a_deeply_nested_message_is_refused_and_the_server_keeps_serving(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake_with(&test.db, &clock, roomy_settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let deep = hostile::nested_messages(30_000, "<deep@example.org>");
        assert!(deep.len() > 1_500_000);
        let reply = client.send_mail("nest@example.org", "appeals@redress.test", &deep).await;
        assert_refused(&reply, 554, "5.6.0");
        assert!(reply.text().contains("nested deeper than 100 levels"), "{reply:?}");

        // The sender's retry gets the same answer; the server is still there to give it.
        let again = client.send_mail("nest@example.org", "appeals@redress.test", &deep).await;
        assert_refused(&again, 554, "5.6.0");
        let multiparts = hostile::nested_multiparts(20_000, "<mp@example.org>");
        let reply = client.send_mail("nest@example.org", "appeals@redress.test", &multiparts).await;
        assert_refused(&reply, 554, "5.6.0");
        let hidden = hostile::encoded_nested_messages(20_000, "<b64@example.org>");
        let reply = client.send_mail("fwd@example.org", "appeals@redress.test", &hidden).await;
        assert_refused(&reply, 554, "5.6.0");
        let bomb = hostile::encoded_sibling_messages(8_000, "<bomb@example.org>");
        let reply = client.send_mail("fwd@example.org", "appeals@redress.test", &bomb).await;
        assert_refused(&reply, 552, "5.3.4");

        let next = message("Maria <maria@example.org>", "<next@example.org>", "my appeal", "", "please");
        let reply = client.send_mail("maria@example.org", "appeals@redress.test", &next).await;
        assert_eq!(reply.code, 250, "the same session goes on: {reply:?}");
        let mut other = RawClient::connect(smtp.addr).await;
        other.command("EHLO d").await;
        let later = message("Maria <maria@example.org>", "<later@example.org>", "more", "", "again");
        assert_eq!(other.send_mail("maria@example.org", "appeals@redress.test", &later).await.code, 250);
        assert_eq!(stored_messages(&test.db).await.len(), 2, "refused mail is not stored");
        smtp.shutdown().await;
        test.cleanup().await;
    }
}
