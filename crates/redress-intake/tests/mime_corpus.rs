//! The test corpus through the parser and the classifier: charsets, encodings, HTML,
//! attachments, and the mail that must never be answered.

mod common;

use std::fmt::Write;

use common::{corpus, signer};
use redress_intake::email::classify::{classify, Classification};
use redress_intake::email::mime::{self, MimeError};

fn parsed(name: &str) -> mime::ParsedEmail {
    mime::parse(&corpus(name), 20).expect(name)
}

fn class_of(name: &str, envelope_from: Option<&str>) -> Classification {
    classify(
        &parsed(name),
        envelope_from,
        &["appeals@redress.test".to_owned()],
        &signer(),
    )
}

#[test]
fn gmail_multipart_gives_text_sender_and_attachment_metadata() {
    let email = parsed("gmail_multipart.eml");
    assert_eq!(
        email.from, "maria.lopez@example.org",
        "addresses are lower-cased"
    );
    assert_eq!(email.from_name.as_deref(), Some("María López"));
    assert_eq!(
        email.subject.as_deref(),
        Some("My account was deactivated – I only saved a pin")
    );
    assert_eq!(
        email.message_id,
        "<CAJ7x9Qm1pQ=Zx8fK2b3nLk0a@mail.gmail.com>"
    );
    assert!(email.text.contains(
        "I never posted anything like that – I only saved a pin of a Renaissance painting"
    ));
    assert!(
        !email.text.contains("<p>"),
        "the text part is used, not the HTML"
    );
    assert_eq!(email.attachments.len(), 1);
    let pdf = &email.attachments[0];
    assert_eq!(pdf.name.as_deref(), Some("saved-pin.pdf"));
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(
        pdf.size,
        39 + 256 * 4,
        "the decoded size, not the base64 size"
    );
}

#[test]
fn html_only_windows_1252_becomes_utf8_text() {
    let email = parsed("outlook_html_cp1252.eml");
    assert_eq!(
        email.subject.as_deref(),
        Some("Konto gesperrt – bitte prüfen")
    );
    assert_eq!(email.from_name.as_deref(), Some("Jürgen Weiß"));
    assert!(
        email
            .text
            .contains("Ich habe nur ein Foto gespeichert – das ist alles. Grüße aus Köln."),
        "{}",
        email.text
    );
    assert!(!email.text.contains("<p"), "markup is gone: {}", email.text);
}

#[test]
fn japanese_charsets_become_utf8() {
    let jis = parsed("iso_2022_jp.eml");
    assert_eq!(jis.subject.as_deref(), Some("アカウント停止について"));
    assert_eq!(jis.from_name.as_deref(), Some("山田 花子"));
    assert!(
        jis.text.contains("私はピンを保存しただけです。"),
        "{}",
        jis.text
    );
    let sjis = parsed("shift_jis_base64.eml");
    assert_eq!(sjis.subject.as_deref(), Some("停止の解除をお願いします"));
    assert!(
        sjis.text.contains("アカウントが停止されました。"),
        "{}",
        sjis.text
    );
}

#[test]
fn latin1_eight_bit_becomes_utf8() {
    let email = parsed("iso_8859_1_8bit.eml");
    assert_eq!(email.subject.as_deref(), Some("Compte désactivé"));
    assert!(
        email.text.contains("mon compte a été désactivé à tort"),
        "{}",
        email.text
    );
}

#[test]
fn appeals_are_appeals() {
    for name in [
        "gmail_multipart.eml",
        "outlook_html_cp1252.eml",
        "iso_2022_jp.eml",
        "shift_jis_base64.eml",
        "iso_8859_1_8bit.eml",
    ] {
        assert_eq!(
            class_of(name, Some("someone@example.org")),
            Classification::Appeal,
            "{name}"
        );
    }
}

#[test]
fn auto_replies_and_bulk_mail_are_recognised() {
    assert_eq!(
        class_of("out_of_office.eml", Some("peter.meyer@example.com")),
        Classification::AutoReply
    );
    assert_eq!(
        class_of("precedence_bulk.eml", Some("bounces@shop.example.com")),
        Classification::AutoReply
    );
    assert_eq!(
        class_of("autoreply_x_header.eml", Some("helpdesk@example.net")),
        Classification::AutoReply
    );
}

#[test]
fn bounces_are_recognised_by_report_type_null_sender_or_mailer_daemon() {
    assert_eq!(class_of("bounce_dsn.eml", Some("")), Classification::Bounce);
    assert_eq!(class_of("bounce_dsn.eml", None), Classification::Bounce);
    let plain_null_sender = class_of("iso_8859_1_8bit.eml", Some(""));
    assert_eq!(
        plain_null_sender,
        Classification::Bounce,
        "MAIL FROM:<> is never a person"
    );
}

#[test]
fn our_own_mail_coming_back_is_a_loop() {
    let signer = signer();
    let own_id = signer.sign(uuid::Uuid::now_v7(), "ack", "redress.test");
    let raw = format!(
        "From: Redress <appeals@elsewhere.test>\r\nTo: appeals@redress.test\r\nSubject: [RDR] We received your appeal\r\nMessage-ID: {own_id}\r\n\r\nWe received your appeal.\r\n"
    );
    let email = mime::parse(raw.as_bytes(), 20).expect("parse");
    assert_eq!(
        classify(&email, Some("x@y.test"), &[], &signer),
        Classification::Loop
    );
    let from_us =
        "From: appeals@redress.test\r\nTo: appeals@redress.test\r\nSubject: hi\r\n\r\nbody\r\n";
    let email = mime::parse(from_us.as_bytes(), 20).expect("parse");
    assert_eq!(
        classify(
            &email,
            Some("x@y.test"),
            &["appeals@redress.test".to_owned()],
            &signer
        ),
        Classification::Loop
    );
}

#[test]
fn malformed_messages_are_refused_with_a_reason() {
    assert_eq!(
        mime::parse(&corpus("malformed_no_from.eml"), 20),
        Err(MimeError::NoSender)
    );
    assert!(matches!(
        mime::parse(&corpus("malformed_bad_from.eml"), 20),
        Err(MimeError::NoSender | MimeError::BadSender(_))
    ));
    assert_eq!(mime::parse(b"", 20), Err(MimeError::NoHeaders));
}

#[test]
fn a_message_without_message_id_is_named_by_its_content() {
    let raw = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    let first = mime::parse(raw, 20).expect("parse");
    let again = mime::parse(raw, 20).expect("parse");
    assert!(!first.has_message_id);
    assert_eq!(first.message_id, again.message_id);
    let other =
        mime::parse(b"From: a@example.org\r\nSubject: hi\r\n\r\nother\r\n", 20).expect("parse");
    assert_ne!(first.message_id, other.message_id);
}

#[test]
fn attachment_metadata_is_capped() {
    let mut raw = String::from("From: a@example.org\r\nSubject: many files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n");
    for i in 0..5 {
        write!(
            raw,
            "--b\r\nContent-Type: image/png; name=\"shot{i}.png\"\r\nContent-Disposition: attachment; filename=\"shot{i}.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n")
        .expect("write to a String");
    }
    raw.push_str("--b--\r\n");
    let email = mime::parse(raw.as_bytes(), 3).expect("parse");
    assert_eq!(email.attachments.len(), 3);
    assert_eq!(email.attachments_omitted, 2);
    assert_eq!(email.attachments[0].name.as_deref(), Some("shot0.png"));
    assert_eq!(email.attachments[0].size, 8);
}
