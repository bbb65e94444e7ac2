//! The SMTP listener on loopback, with lettre as the client and a raw socket for the
//! protocol's edges, on SQLite and PostgreSQL.

mod common;

use common::{corpus, enforcement, intake, message, start_smtp, RawClient};
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redress_engine::entity::{appeal, message as message_entity};
use redress_engine::repo::{messages, outbox};
use redress_intake::email::Classification;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

async fn appeal_count(db: &DatabaseConnection) -> u64 {
    appeal::Entity::find()
        .count(db)
        .await
        .expect("count appeals")
}

async fn stored_messages(db: &DatabaseConnection) -> Vec<message_entity::Model> {
    message_entity::Entity::find()
        .all(db)
        .await
        .expect("messages")
}

fn lettre_client(addr: std::net::SocketAddr) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
        .port(addr.port())
        .build()
}

fn envelope(from: &str) -> Envelope {
    Envelope::new(
        Some(from.parse().expect("from")),
        vec!["appeals@redress.test".parse().expect("to")],
    )
    .expect("envelope")
}

redress_engine::backend_tests! {
    async fn lettre_delivers_a_gmail_message_and_gets_250_with_the_reference(test) {
        let clock = common::clock();
        enforcement(&test.db, "acct-maria", "maria.lopez@example.org").await;
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let client = lettre_client(smtp.addr);
        let response = client
            .send_raw(&envelope("maria.lopez@example.org"), &corpus("gmail_multipart.eml"))
            .await
            .expect("accepted");
        assert_eq!(response.code().to_string(), "250");
        let text: String = response.message().map(|line| common::strip_status(line).to_owned()).collect::<Vec<_>>().join(" ");
        assert!(text.starts_with("accepted as appeal RDR-"), "{text}");

        let stored = stored_messages(&test.db).await;
        assert_eq!(stored.len(), 1);
        let mail = &stored[0];
        assert_eq!(mail.classification, "appeal");
        assert_eq!(mail.channel_message_id.as_deref(), Some("<CAJ7x9Qm1pQ=Zx8fK2b3nLk0a@mail.gmail.com>"));
        assert!(mail.body.contains("I only saved a pin"));
        assert_eq!(mail.metadata["attachments"][0]["name"], "saved-pin.pdf");
        assert_eq!(mail.metadata["identity"]["verdict"], "verified");
        let appeal_id = mail.appeal_id.expect("filed");
        let row = appeal::Entity::find_by_id(appeal_id).one(&test.db).await.expect("load").expect("appeal");
        assert!(text.ends_with(&row.reference), "{text}");
        assert_eq!(row.account_id.as_deref(), Some("acct-maria"), "a verified sender is linked to the account");
        assert!(row.identity_verified);
        let queued: Vec<_> = outbox::for_appeal(&test.db, appeal_id).await.expect("outbox")
            .into_iter().filter(|item| item.topic != "platform_event").collect();
        assert_eq!(queued.len(), 1, "one acknowledgement");
        assert_eq!(queued[0].payload["effect"]["notice"], "acknowledgement");
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn an_unverified_sender_files_without_the_account_link(test) {
        let clock = common::clock();
        enforcement(&test.db, "acct-juergen", "juergen.weiss@example.net").await;
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        assert_eq!(client.command("EHLO client.example.net").await.code, 250);
        let reply = client
            .send_mail("juergen.weiss@example.net", "appeals@redress.test", &corpus("outlook_html_cp1252.eml"))
            .await;
        assert_eq!(reply.code, 250, "{reply:?}");
        let stored = stored_messages(&test.db).await;
        let row = appeal::Entity::find_by_id(stored[0].appeal_id.expect("filed"))
            .one(&test.db).await.expect("load").expect("appeal");
        assert!(!row.identity_verified);
        assert_eq!(row.account_id, None, "no trusted Authentication-Results: no link");
        assert_eq!(stored[0].metadata["claimed_account"], "acct-juergen", "the match is kept for triage");
        assert!(stored[0].body.contains("Grüße aus Köln"));
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn auto_replies_bounces_and_loops_are_recorded_and_never_answered(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO mx.example.org").await;
        for (name, from) in [
            ("out_of_office.eml", "peter.meyer@example.com"),
            ("precedence_bulk.eml", "bounces@shop.example.com"),
            ("autoreply_x_header.eml", "helpdesk@example.net"),
            ("bounce_dsn.eml", ""),
        ] {
            let reply = client.send_mail(from, "appeals@redress.test", &corpus(name)).await;
            assert_eq!(reply.code, 250, "{name}: {reply:?}");
            assert!(reply.text().starts_with("recorded ("), "{name}: {reply:?}");
        }
        let looped = message("Redress <appeals@redress.test>", "<x1@redress.test>", "We received your appeal", "", "hello");
        let reply = client.send_mail("appeals@redress.test", "appeals@redress.test", &looped).await;
        assert_eq!(reply.text(), format!("recorded ({})", Classification::Loop.as_str()));

        assert_eq!(appeal_count(&test.db).await, 0, "nothing became an appeal");
        let stored = stored_messages(&test.db).await;
        assert_eq!(stored.len(), 5, "everything is on record");
        let mut kinds: Vec<_> = stored.iter().map(|m| m.classification.clone()).collect();
        kinds.sort();
        assert_eq!(kinds, ["auto_reply", "auto_reply", "auto_reply", "bounce", "loop"]);
        assert!(stored.iter().all(|m| m.appeal_id.is_none()));
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn the_same_message_twice_files_one_appeal(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let raw = corpus("iso_8859_1_8bit.eml");
        let first = client.send_mail("francoise@example.fr", "appeals@redress.test", &raw).await;
        let second = client.send_mail("francoise@example.fr", "appeals@redress.test", &raw).await;
        assert_eq!(first.code, 250);
        assert_eq!((second.code, second.text()), (250, "already received".to_owned()));
        assert_eq!(appeal_count(&test.db).await, 1);
        assert_eq!(stored_messages(&test.db).await.len(), 1);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn malformed_and_oversized_messages_are_refused_and_the_session_goes_on(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let reply = client.send_mail("x@example.org", "appeals@redress.test", &corpus("malformed_no_from.eml")).await;
        assert_eq!(reply.code, 550, "{reply:?}");
        assert!(reply.text().contains("no From address"), "{reply:?}");

        let huge = message("big@example.org", "<big@example.org>", "big", "", &"a".repeat(300 * 1024));
        let reply = client.send_mail("big@example.org", "appeals@redress.test", &huge).await;
        assert_eq!(reply.code, 552, "{reply:?}");

        let reply = client.send_mail("francoise@example.fr", "appeals@redress.test", &corpus("iso_8859_1_8bit.eml")).await;
        assert_eq!(reply.code, 250, "the next message is unaffected: {reply:?}");
        assert_eq!(appeal_count(&test.db).await, 1);
        assert_eq!(stored_messages(&test.db).await.len(), 1, "refused mail is not stored");
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn protocol_errors_get_precise_replies(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        assert_eq!(client.command("MAIL FROM:<a@example.org>").await.code, 503, "EHLO first");
        let ehlo = client.command("EHLO c").await;
        assert_eq!(ehlo.code, 250);
        assert!(ehlo.lines.iter().any(|l| l == "PIPELINING"), "{ehlo:?}");
        assert!(ehlo.lines.iter().any(|l| l == "SIZE 262144"), "{ehlo:?}");
        assert!(!ehlo.lines.iter().any(|l| l == "STARTTLS"), "no certificate, no STARTTLS");
        assert_eq!(client.command("DATA").await.code, 503);
        assert_eq!(client.command("BOGUS").await.code, 500);
        assert_eq!(client.command("MAIL FROM:<a@example.org> SIZE=999999999").await.code, 552);
        assert_eq!(client.command("MAIL FROM:<a@example.org>").await.code, 250);
        assert_eq!(client.command("RCPT TO:<someone@elsewhere.example>").await.code, 550);
        assert_eq!(client.command("DATA").await.code, 554, "no accepted recipient");
        assert_eq!(client.command("RSET").await.code, 250);
        assert_eq!(client.command("STARTTLS").await.code, 502);
        assert_eq!(client.command("NOOP").await.code, 250);
        assert_eq!(client.command("QUIT").await.code, 221);
        assert!(client.reply().await.is_none(), "closed after QUIT");
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn pipelined_transactions_are_each_answered(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let mut batch = Vec::new();
        for i in 0..3 {
            let raw = message("pipe@example.org", &format!("<pipe{i}@example.org>"), &format!("appeal {i}"), "", "please");
            batch.extend_from_slice(b"MAIL FROM:<pipe@example.org>\r\nRCPT TO:<appeals@redress.test>\r\nDATA\r\n");
            batch.extend_from_slice(&common::dot_stuffed(&raw));
        }
        batch.extend_from_slice(b"QUIT\r\n");
        client.send(batch).await;
        let mut codes = Vec::new();
        while let Some(reply) = client.reply().await {
            codes.push(reply.code);
        }
        assert_eq!(codes, [250, 250, 354, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221]);
        assert_eq!(appeal_count(&test.db).await, 3);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn dot_stuffed_lines_arrive_unstuffed(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let raw = message("dots@example.org", "<dots@example.org>", "dots", "", "line one\r\n.\r\n..two dots\r\nend");
        assert_eq!(client.send_mail("dots@example.org", "appeals@redress.test", &raw).await.code, 250);
        let stored = stored_messages(&test.db).await;
        assert!(stored[0].body.contains("line one\n.\n..two dots\nend") || stored[0].body.contains("line one\r\n.\r\n..two dots\r\nend"), "{:?}", stored[0].body);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn concurrent_deliveries_of_one_message_file_one_appeal(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let addr = smtp.addr;
                tokio::spawn(async move {
                    let mut client = RawClient::connect(addr).await;
                    client.command("EHLO c").await;
                    client.send_mail("francoise@example.fr", "appeals@redress.test", &corpus("iso_8859_1_8bit.eml")).await
                })
            })
            .collect();
        let mut texts = Vec::new();
        for sender in senders {
            let reply = sender.await.expect("client");
            assert_eq!(reply.code, 250, "{reply:?}");
            texts.push(reply.text());
        }
        assert_eq!(texts.iter().filter(|t| t.starts_with("accepted as appeal")).count(), 1, "{texts:?}");
        assert_eq!(texts.iter().filter(|t| *t == "already received").count(), 3, "{texts:?}");
        assert_eq!(appeal_count(&test.db).await, 1);
        assert_eq!(stored_messages(&test.db).await.len(), 1);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn shutdown_tells_idle_clients_to_come_back(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        smtp.stop.send_replace(true);
        let reply = client.reply().await.expect("a parting reply");
        assert_eq!(reply.code, 421);
        smtp.task.await.expect("join").expect("serve");
        let _ = messages::for_appeal(&test.db, uuid::Uuid::nil()).await.expect("db still fine");
        test.cleanup().await;
    }
}
