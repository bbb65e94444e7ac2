//! Hostile and odd mail over real SMTP on SQLite and PostgreSQL: every message gets a
//! permanent answer or is stored, the server keeps serving, and nothing gets past the
//! identity check by being odd.

mod common;

use common::{
    enforcement, hostile, intake_with, message, start_smtp, RawClient, Reply, TRUSTED_MX,
};
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

    async fn a_from_header_written_as_one_encoded_word_files_the_appeal_unverified(test) {
        let clock = common::clock();
        enforcement(&test.db, "acct-user", "user@example.org").await;
        let smtp = start_smtp(intake_with(&test.db, &clock, common::settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        // A trusted server vouches for example.org, but it judged a From header without an
        // address, so the address found inside the name is not taken as verified.
        let vouched = format!("Authentication-Results: {TRUSTED_MX}; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n");
        let encoded = message("=?utf-8?q?Name_=3Cuser=40example=2Eorg=3E?=", "<enc@example.org>", "appeal", &vouched, "please");
        let reply = client.send_mail("bounce-123@lists.example.net", "appeals@redress.test", &encoded).await;
        assert_eq!(reply.code, 250, "{reply:?}");
        assert!(reply.text().starts_with("accepted as appeal RDR-"), "{reply:?}");

        // No address even after decoding: the envelope sender names the appellant.
        let nameless = message("=?utf-8?q?Maria_L=C3=B3pez?=", "<nameless@example.org>", "appeal", "", "please");
        let reply = client.send_mail("maria@example.org", "appeals@redress.test", &nameless).await;
        assert_eq!(reply.code, 250, "{reply:?}");

        let stored = stored_messages(&test.db).await;
        let by_id = |id: &str| stored.iter().find(|m| m.channel_message_id.as_deref() == Some(id)).expect(id);
        let from_name = by_id("<enc@example.org>");
        assert_eq!(from_name.sender, "user@example.org");
        assert_eq!(from_name.metadata["from_source"], "display_name");
        assert_eq!(from_name.metadata["from_name"], "Name");
        assert_eq!(from_name.metadata["identity"]["verdict"], "unverified");
        assert_eq!(from_name.metadata["claimed_account"], "acct-user", "kept for triage only");
        let appeal = redress_engine::entity::appeal::Entity::find_by_id(from_name.appeal_id.expect("filed"))
            .one(&test.db).await.expect("load").expect("appeal");
        assert!(!appeal.identity_verified);
        assert_eq!(appeal.account_id, None);

        let from_envelope = by_id("<nameless@example.org>");
        assert_eq!(from_envelope.sender, "maria@example.org");
        assert_eq!(from_envelope.metadata["from_source"], "envelope");
        assert_eq!(from_envelope.metadata["from_name"], "Maria López");
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn the_content_language_is_kept_for_routing_and_a_malformed_one_is_not(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake_with(&test.db, &clock, common::settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let cases = [
            ("<de@example.org>", "Content-Language: de-AT, en\r\n"),
            ("<script@example.org>", "Content-Language: <script>de</script>\r\n"),
            ("<long@example.org>", "Content-Language: de-aaaaaaaaa\r\n"),
            ("<none@example.org>", ""),
        ];
        for (id, header) in cases {
            let mail = message("a@example.org", id, "appeal", header, "please restore");
            let reply = client.send_mail("a@example.org", "appeals@redress.test", &mail).await;
            assert_eq!(reply.code, 250, "{id}: {reply:?}");
        }
        let stored = stored_messages(&test.db).await;
        let language = |id: &str| {
            let message = stored.iter().find(|m| m.channel_message_id.as_deref() == Some(id)).expect(id);
            message.metadata["language"].clone()
        };
        // The first tag of the list, recorded as the language it names.
        assert_eq!(language("<de@example.org>"), "de");
        assert_eq!(language("<script@example.org>"), serde_json::Value::Null);
        assert_eq!(language("<long@example.org>"), serde_json::Value::Null, "a subtag over 8 characters");
        assert_eq!(language("<none@example.org>"), serde_json::Value::Null);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn a_french_mail_without_or_with_an_absurd_content_language_is_taken_as_french(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake_with(&test.db, &clock, common::settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let french = "Bonjour, mon compte a été suspendu alors que je n'ai fait qu'enregistrer \
                      cette image. Je vous demande de bien vouloir réexaminer cette décision.";
        let absurd = format!("Content-Language: {}\r\n", "x".repeat(900));
        let cases = [
            ("<fr-none@example.org>", String::new()),
            ("<fr-star@example.org>", "Content-Language: *\r\n".to_owned()),
            ("<fr-klingon@example.org>", "Content-Language: x-klingon\r\n".to_owned()),
            ("<fr-absurd@example.org>", absurd),
        ];
        for (id, header) in &cases {
            let mail = message("b@example.org", id, "recours", header, french);
            let reply = client.send_mail("b@example.org", "appeals@redress.test", &mail).await;
            assert_eq!(reply.code, 250, "{id}: {reply:?}");
        }
        let stored = stored_messages(&test.db).await;
        for (id, _) in &cases {
            let message = stored.iter().find(|m| m.channel_message_id.as_deref() == Some(*id)).expect(id);
            assert_eq!(message.metadata["language"], "fr", "{id}");
            assert_eq!(message.metadata["language_source"], "detected", "{id}");
            let appeal = redress_engine::entity::appeal::Entity::find_by_id(message.appeal_id.expect("filed"))
                .one(&test.db).await.expect("load").expect("appeal");
            let tags: Vec<String> = serde_json::from_value(appeal.tags).expect("tags");
            assert_eq!(tags, ["language:fr"], "{id}");
        }
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn a_nul_anywhere_gets_a_permanent_answer_or_is_stored_never_a_retry(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake_with(&test.db, &clock, common::settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let stored_cases = [
            ("subject", message("a@example.org", "<s@example.org>", "my\0appeal", "", "body")),
            ("body", message("b@example.org", "<b@example.org>", "appeal", "", "please\0restore")),
            ("display name", message("Ma\0ria <c@example.org>", "<n@example.org>", "appeal", "", "body")),
            ("message id", message("d@example.org", "<i\0d@example.org>", "appeal", "", "body")),
            ("references", message("e@example.org", "<r@example.org>", "appeal", "References: <x\0y@example.org>\r\n", "body")),
            ("attachment name", (
                "From: f@example.org\r\nSubject: appeal\r\nMessage-ID: <att@example.org>\r\nContent-Type: multipart/mixed; boundary=\"z\"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--z\r\nContent-Type: application/pdf; name=\"a\0b.pdf\"\r\nContent-Disposition: attachment; filename=\"a\0b.pdf\"\r\n\r\n%PDF\r\n--z--\r\n"
            ).as_bytes().to_vec()),
        ];
        for (field, raw) in &stored_cases {
            let reply = client.send_mail("sender@example.org", "appeals@redress.test", raw).await;
            assert_eq!(reply.code, 250, "NUL in the {field}: {reply:?}");
        }
        let refused = message("us\0er@example.org", "<addr@example.org>", "appeal", "", "body");
        let reply = client.send_mail("sender@example.org", "appeals@redress.test", &refused).await;
        assert_refused(&reply, 550, "5.6.0");

        let reply = client.command("MAIL FROM:<se\0nder@example.org>").await;
        assert!(reply.code >= 500, "NUL in MAIL FROM: {reply:?}");
        assert_eq!(client.command("MAIL FROM:<sender@example.org>").await.code, 250);
        let reply = client.command("RCPT TO:<appe\0als@redress.test>").await;
        assert!(reply.code >= 500, "NUL in RCPT TO: {reply:?}");
        assert_eq!(client.command("RSET").await.code, 250);
        let after = message("g@example.org", "<after@example.org>", "appeal", "", "body");
        let reply = client.send_mail("sender@example.org", "appeals@redress.test", &after).await;
        assert_eq!(reply.code, 250, "{reply:?}");

        let stored = stored_messages(&test.db).await;
        assert_eq!(stored.len(), stored_cases.len() + 1);
        let nul = '\0';
        for row in &stored {
            let text = format!("{} {:?} {} {:?} {}", row.sender, row.subject, row.body, row.channel_message_id, row.metadata);
            assert!(!text.contains(nul) && !text.contains("\\u0000"), "{text}");
        }
        let find = |predicate: &dyn Fn(&message_entity::Model) -> bool| stored.iter().find(|m| predicate(m)).expect("stored");
        assert_eq!(find(&|m| m.sender == "a@example.org").subject.as_deref(), Some("my\u{FFFD}appeal"));
        assert!(find(&|m| m.sender == "b@example.org").body.contains("please\u{FFFD}restore"));
        assert_eq!(find(&|m| m.sender == "c@example.org").metadata["from_name"], "Ma\u{FFFD}ria");
        let no_id = find(&|m| m.sender == "d@example.org");
        assert_eq!(no_id.metadata["has_message_id"], false, "a Message-ID with a NUL is not one");
        assert!(no_id.channel_message_id.as_deref().is_some_and(|id| id.starts_with("<sha256.")), "{no_id:?}");
        assert_eq!(find(&|m| m.sender == "e@example.org").metadata["references"], serde_json::json!([]));
        assert_eq!(find(&|m| m.sender == "f@example.org").metadata["attachments"][0]["name"], "a\u{FFFD}b.pdf");

        // The retry of a message named by its hash is recognised.
        let reply = client.send_mail("sender@example.org", "appeals@redress.test", &stored_cases[3].1).await;
        assert_eq!((reply.code, reply.text()), (250, "already received".to_owned()));
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn ids_and_addresses_too_long_for_an_index_get_a_permanent_answer(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake_with(&test.db, &clock, common::settings())).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        // Random, so that PostgreSQL cannot compress them below its index row limit.
        let random = |len: usize| {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ len as u64;
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    char::from(b'a' + u8::try_from(state % 26).expect("a letter"))
                })
                .collect::<String>()
        };
        let long_id = message("h@example.org", &format!("<{}@example.org>", random(3000)), "appeal", "", "body");
        let reply = client.send_mail("h@example.org", "appeals@redress.test", &long_id).await;
        assert_eq!(reply.code, 250, "named by its hash instead: {reply:?}");
        let long_from = message(&format!("<{}@example.org>", random(2900)), "<long-from@example.org>", "appeal", "", "body");
        let reply = client.send_mail("h@example.org", "appeals@redress.test", &long_from).await;
        assert_refused(&reply, 550, "5.6.0");
        assert!(reply.lines[0].len() < 200, "the address is quoted in part only: {reply:?}");
        let reply = client.command(&format!("MAIL FROM:<{}@example.org>", random(300))).await;
        assert_eq!(reply.code, 501, "{reply:?}");

        let stored = stored_messages(&test.db).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].metadata["has_message_id"], false);
        smtp.shutdown().await;
        test.cleanup().await;
    }
}
