//! Replies land on their case: by the Message-IDs Redress signed, then by the reference in
//! the subject when it comes from the appeal's own sender; anything else opens a new case.

mod common;

use std::sync::Arc;

use common::{corpus, enforcement, intake, message, signer, start_smtp, RawClient};
use redress_core::{Actor, AppealState, Command, Role};
use redress_engine::repo::{events, messages};
use redress_engine::{Engine, EngineSettings, MessageIdSigner};
use uuid::Uuid;

struct Filed {
    id: Uuid,
    reference: String,
}

async fn file_gmail(db: &sea_orm::DatabaseConnection, client: &mut RawClient) -> Filed {
    let reply = client
        .send_mail(
            "maria.lopez@example.org",
            "appeals@redress.test",
            &corpus("gmail_multipart.eml"),
        )
        .await;
    assert_eq!(reply.code, 250, "{reply:?}");
    let reference = reply
        .text()
        .rsplit(' ')
        .next()
        .expect("reference")
        .to_owned();
    let id = common::appeal_id_by_reference(db, &reference).await;
    Filed { id, reference }
}

redress_engine::backend_tests! {
    async fn a_reply_threads_by_its_headers_even_with_another_subject(test) {
        let clock = common::clock();
        enforcement(&test.db, "acct-maria", "maria.lopez@example.org").await;
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let reply_to = file_gmail(&test.db, &mut client).await.id;
        let ours = signer().sign(reply_to, "acknowledgement", "redress.test");
        let answer = message(
            "Maria Lopez <maria.lopez@example.org>",
            "<CAJ7x9Qm2@mail.gmail.com>",
            "here is the screenshot you asked for",
            &format!("In-Reply-To: {ours}\r\nReferences: <CAJ7x9Qm1pQ=Zx8fK2b3nLk0a@mail.gmail.com> {ours}\r\n"),
            "Attached again.",
        );
        let reply = client.send_mail("maria.lopez@example.org", "appeals@redress.test", &answer).await;
        assert_eq!(reply.code, 250, "{reply:?}");
        assert!(reply.text().starts_with("added to appeal"), "{reply:?}");
        assert_eq!(common::appeal_count(&test.db).await, 1);
        let thread = messages::for_appeal(&test.db, reply_to).await.expect("messages");
        assert_eq!(thread.len(), 2);
        assert_eq!(thread[1].metadata["thread"]["by"], "headers");
        let history = events::history(&test.db, reply_to).await.expect("history");
        assert_eq!(history.last().map(|(_, e)| e.kind.name()), Some("message_received"));
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn a_forged_message_id_opens_a_new_case(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let first = file_gmail(&test.db, &mut client).await;
        let forged = MessageIdSigner::new("guessed key").sign(first.id, "acknowledgement", "redress.test");
        let answer = message("mallory@example.com", "<m1@example.com>", "about that appeal", &format!("In-Reply-To: {forged}\r\n"), "Add this to the case.");
        let reply = client.send_mail("mallory@example.com", "appeals@redress.test", &answer).await;
        assert!(reply.text().starts_with("accepted as appeal"), "{reply:?}");
        assert_eq!(common::appeal_count(&test.db).await, 2);
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn the_subject_reference_counts_only_from_the_appeals_own_sender(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let first = file_gmail(&test.db, &mut client).await;
        let subject = format!("Re: [{}] We received your appeal", first.reference.to_lowercase());
        let own = message("maria.lopez@example.org", "<own@example.org>", &subject, "", "One more detail.");
        let reply = client.send_mail("maria.lopez@example.org", "appeals@redress.test", &own).await;
        assert_eq!(reply.text(), format!("added to appeal {}", first.reference));

        let stranger = message("someone@example.com", "<stranger@example.com>", &subject, "", "I know this reference.");
        let reply = client.send_mail("someone@example.com", "appeals@redress.test", &stranger).await;
        assert!(reply.text().starts_with("accepted as appeal"), "{reply:?}");
        assert_ne!(reply.text(), format!("accepted as appeal {}", first.reference));
        assert_eq!(common::appeal_count(&test.db).await, 2);
        let stored = common::message_by_id(&test.db, "<stranger@example.com>").await;
        assert_eq!(stored.metadata["thread"]["by"], "new_refused_reference");
        smtp.shutdown().await;
        test.cleanup().await;
    }

    async fn a_reply_to_an_information_request_resumes_the_case(test) {
        let clock = common::clock();
        let smtp = start_smtp(intake(&test.db, &clock)).await;
        let mut client = RawClient::connect(smtp.addr).await;
        client.command("EHLO c").await;
        let first = file_gmail(&test.db, &mut client).await;
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        engine
            .apply(first.id, None, &Command::RequestInfo { message: "Which board was the pin on?".into() }, &Actor::staff("alice", [Role::Reviewer]))
            .await
            .expect("ask");
        assert_eq!(engine.appeal(first.id).await.expect("load").appeal.state, AppealState::AwaitingUser);
        let ours = signer().sign(first.id, "information_request", "redress.test");
        let answer = message("maria.lopez@example.org", "<answer@example.org>", "Re: your question", &format!("In-Reply-To: {ours}\r\n"), "The art board.");
        let reply = client.send_mail("maria.lopez@example.org", "appeals@redress.test", &answer).await;
        assert_eq!(reply.code, 250, "{reply:?}");
        assert_eq!(engine.appeal(first.id).await.expect("load").appeal.state, AppealState::Filed);
        smtp.shutdown().await;
        test.cleanup().await;
    }
}
