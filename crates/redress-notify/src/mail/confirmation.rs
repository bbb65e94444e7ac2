//! The one-time link that connects a social handle to an account, mailed to the account's
//! own address. The text is written when the link is issued (it names the appeal and the
//! expiry); this deliverer only addresses and sends it.

use lettre::message::header::{ContentType, HeaderValue};
use lettre::message::{Mailbox, Message};
use redress_core::Channel;
use redress_engine::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use redress_engine::outbox::HandleConfirmation;

use super::deliverer::AUTO_SUBMITTED;
use super::transport::MailTransport;

#[derive(Debug, Clone)]
pub struct ConfirmationMailDeliverer {
    transport: MailTransport,
    from: Mailbox,
}

impl ConfirmationMailDeliverer {
    pub fn new(transport: MailTransport, from: Mailbox) -> Self {
        Self { transport, from }
    }

    /// The mail for `item`; an item that can never become one is a permanent failure.
    pub fn compose(&self, item: &OutboxMessage) -> Result<Message, DeliveryError> {
        let confirmation = Delivery::<HandleConfirmation>::read(item)?.payload;
        let filled = |name: &str, value: String| {
            Some(value)
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| DeliveryError::Permanent(format!("the item has no {name}")))
        };
        let contact = filled("contact", confirmation.contact.clone())?;
        let to: Mailbox = contact.parse().map_err(|err| {
            DeliveryError::Permanent(format!("contact {contact:?} is not a mail address: {err}"))
        })?;
        let (subject, body) = match confirmation.valid_for_hours {
            Some(hours) => localized(&confirmation, hours),
            // Written in English before the deliverer learnt to write it.
            None => (confirmation.subject.clone(), confirmation.body.clone()),
        };
        let subject = filled("subject", subject)?;
        let body = filled("body", body)?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .raw_header(HeaderValue::new(
                AUTO_SUBMITTED,
                "auto-generated".to_owned(),
            ))
            .body(body)
            .map_err(|err| DeliveryError::Permanent(format!("building the mail: {err}")))
    }
}

/// The subject and body of `confirmation` in its language (English for one Redress does not
/// ship).
fn localized(confirmation: &HandleConfirmation, hours: i64) -> (String, String) {
    let texts = texts_for(confirmation.language.as_deref().unwrap_or("en"));
    let platform = platform_name(confirmation.social_channel);
    let hours = hours.to_string();
    let values = [
        ("platform", platform),
        ("reference", confirmation.reference.as_str()),
        ("hours", hours.as_str()),
        ("link", confirmation.link.as_str()),
    ];
    (fill(texts.subject, &values), fill(texts.body, &values))
}

fn platform_name(channel: Channel) -> &'static str {
    match channel {
        Channel::X => "X",
        Channel::Instagram => "Instagram",
        Channel::Messenger => "Messenger",
        Channel::Email => "email",
        Channel::Api => "API",
    }
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The confirmation mail in one language. `{platform}`, `{reference}`, `{hours}`, `{link}`.
struct ConfirmationTexts {
    subject: &'static str,
    body: &'static str,
}

fn texts_for(language: &str) -> &'static ConfirmationTexts {
    shipped(language).unwrap_or(&EN)
}

fn shipped(language: &str) -> Option<&'static ConfirmationTexts> {
    Some(match language {
        "en" => &EN,
        "de" => &DE,
        "fr" => &FR,
        "es" => &ES,
        "it" => &IT,
        "pt" => &PT,
        "nl" => &NL,
        "pl" => &PL,
        "ja" => &JA,
        _ => return None,
    })
}

const EN: ConfirmationTexts = ConfirmationTexts {
    subject: "Confirm your {platform} account for appeal {reference}",
    body: "Someone asked to link a {platform} account to your appeal {reference}.\n\n\
        If it was you, open this link within {hours} hours to confirm:\n{link}\n\n\
        If it was not you, ignore this message.",
};

const DE: ConfirmationTexts = ConfirmationTexts {
    subject: "Bestätigen Sie Ihr {platform}-Konto für den Einspruch {reference}",
    body: "Jemand möchte ein {platform}-Konto mit Ihrem Einspruch {reference} verknüpfen.\n\n\
        Wenn Sie das waren, öffnen Sie innerhalb von {hours} Stunden diesen Link, um es zu \
        bestätigen:\n{link}\n\n\
        Wenn Sie es nicht waren, beachten Sie diese Nachricht bitte nicht.",
};

const FR: ConfirmationTexts = ConfirmationTexts {
    subject: "Confirmez votre compte {platform} pour le recours {reference}",
    body: "Quelqu'un a demandé à lier un compte {platform} à votre recours {reference}.\n\n\
        Si c'était vous, ouvrez ce lien dans les {hours} heures pour le confirmer :\n{link}\n\n\
        Si ce n'était pas vous, ignorez ce message.",
};

const ES: ConfirmationTexts = ConfirmationTexts {
    subject: "Confirme su cuenta de {platform} para el recurso {reference}",
    body: "Alguien pidió vincular una cuenta de {platform} a su recurso {reference}.\n\n\
        Si fue usted, abra este enlace en las próximas {hours} horas para confirmarlo:\n{link}\n\n\
        Si no fue usted, ignore este mensaje.",
};

const IT: ConfirmationTexts = ConfirmationTexts {
    subject: "Confermi il Suo account {platform} per il ricorso {reference}",
    body: "Qualcuno ha chiesto di collegare un account {platform} al Suo ricorso {reference}.\n\n\
        Se è stato Lei, apra questo link entro {hours} ore per confermare:\n{link}\n\n\
        Se non è stato Lei, ignori questo messaggio.",
};

const PT: ConfirmationTexts = ConfirmationTexts {
    subject: "Confirme a sua conta {platform} para o recurso {reference}",
    body: "Alguém pediu para associar uma conta {platform} ao seu recurso {reference}.\n\n\
        Se foi você, abra esta ligação nas próximas {hours} horas para confirmar:\n{link}\n\n\
        Se não foi você, ignore esta mensagem.",
};

const NL: ConfirmationTexts = ConfirmationTexts {
    subject: "Bevestig uw {platform}-account voor bezwaar {reference}",
    body:
        "Iemand heeft gevraagd een {platform}-account te koppelen aan uw bezwaar {reference}.\n\n\
        Was u dat, open dan binnen {hours} uur deze link om het te bevestigen:\n{link}\n\n\
        Was u het niet, negeer dit bericht dan.",
};

const PL: ConfirmationTexts = ConfirmationTexts {
    subject: "Prosimy potwierdzić konto {platform} dla odwołania {reference}",
    body: "Ktoś poprosił o połączenie konta {platform} z Państwa odwołaniem {reference}.\n\n\
        Jeśli to byli Państwo, prosimy otworzyć ten link w ciągu {hours} godzin, aby to \
        potwierdzić:\n{link}\n\n\
        Jeśli to nie byli Państwo, prosimy zignorować tę wiadomość.",
};

const JA: ConfirmationTexts = ConfirmationTexts {
    subject: "異議申し立て {reference} の {platform} アカウントをご確認ください",
    body: "お客様の異議申し立て {reference} に {platform} アカウントを関連付けるよう依頼がありました。\n\n\
        お客様ご本人による依頼の場合は、{hours} 時間以内に次のリンクを開いて確認してください：\n{link}\n\n\
        お心当たりがない場合は、このメッセージを無視してください。",
};

#[async_trait::async_trait]
impl Deliverer for ConfirmationMailDeliverer {
    async fn deliver(&self, item: &OutboxMessage) -> Result<(), DeliveryError> {
        let message = self.compose(item)?;
        self.transport.send(message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(payload: serde_json::Value) -> OutboxMessage {
        OutboxMessage {
            id: uuid::Uuid::nil(),
            topic: "handle_confirmation".to_owned(),
            appeal_id: None,
            idempotency_key: "confirm-1".to_owned(),
            payload,
            attempts: 0,
        }
    }

    fn confirmation(contact: &str, link: &str) -> serde_json::Value {
        serde_json::to_value(HandleConfirmation {
            appeal_id: uuid::Uuid::nil(),
            reference: "RDR-7K3Q-9M2X".to_owned(),
            channel: redress_core::Channel::Email,
            contact: contact.to_owned(),
            social_channel: redress_core::Channel::X,
            link: link.to_owned(),
            subject: "Confirm your x account for appeal RDR-7K3Q-9M2X".to_owned(),
            body: format!("Open this link to confirm:\n{link}\n"),
            language: None,
            valid_for_hours: None,
        })
        .expect("payload")
    }

    fn deliverer(dir: &std::path::Path) -> ConfirmationMailDeliverer {
        ConfirmationMailDeliverer::new(
            MailTransport::files(dir).expect("folder"),
            "Redress <appeals@redress.test>".parse().expect("from"),
        )
    }

    #[tokio::test]
    async fn the_link_is_mailed_to_the_account_address() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = "https://appeals.example.org/confirm?token=abc123";
        deliverer(dir.path())
            .deliver(&item(confirmation("maria@example.org", link)))
            .await
            .expect("sent");
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|entry| entry.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1);
        let raw = std::fs::read_to_string(&files[0]).expect("mail");
        assert!(raw.contains("To: maria@example.org"), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        assert!(raw.contains(link), "{raw}");
    }

    /// The `{name}`s a text uses.
    fn values(text: &str) -> std::collections::BTreeSet<&str> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect()
    }

    #[test]
    fn every_shipped_language_has_the_confirmation_mail_with_the_values_english_uses() {
        for language in redress_core::language::SHIPPED {
            let Some(texts) = shipped(language) else {
                panic!("no confirmation mail in {language}");
            };
            for (name, ours, english) in [
                ("subject", texts.subject, EN.subject),
                ("body", texts.body, EN.body),
            ] {
                assert_eq!(values(ours), values(english), "{language}/{name}");
                if *language != "en" {
                    assert_ne!(ours, english, "{language}/{name} is not translated");
                }
            }
        }
    }

    #[tokio::test]
    async fn the_mail_is_written_in_the_appellants_language() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = "https://appeals.example.org/confirm?token=abc123";
        let mut payload = confirmation("maria@example.org", link);
        payload["language"] = serde_json::json!("de");
        payload["valid_for_hours"] = serde_json::json!(24);
        let message = deliverer(dir.path())
            .compose(&item(payload))
            .expect("composed");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parse");
        assert_eq!(
            parsed.subject(),
            Some("Bestätigen Sie Ihr X-Konto für den Einspruch RDR-7K3Q-9M2X")
        );
        let body = parsed.body_text(0).expect("body");
        assert!(body.contains("innerhalb von 24 Stunden"), "{body}");
        assert!(body.contains(link), "{body}");
    }

    #[tokio::test]
    async fn an_item_without_an_address_or_text_is_a_permanent_failure() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deliverer = deliverer(dir.path());
        let mut blank_subject = confirmation("maria@example.org", "https://a.example/c");
        blank_subject["subject"] = serde_json::json!("  ");
        for payload in [
            serde_json::json!({ "subject": "s", "body": "b" }),
            confirmation("not an address", "https://a.example/c"),
            confirmation("", "https://a.example/c"),
            blank_subject,
            serde_json::json!({ "contact": "maria@example.org", "subject": "s" }),
        ] {
            let outcome = deliverer.deliver(&item(payload.clone())).await;
            assert!(
                matches!(outcome, Err(DeliveryError::Permanent(_))),
                "{payload}: {outcome:?}"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }
}
