//! The one-time link that connects a social handle to an account, mailed to the account's
//! own address. The text is written when the link is issued (it names the appeal and the
//! expiry); this deliverer only addresses and sends it.

use lettre::message::header::{ContentType, HeaderValue};
use lettre::message::{Mailbox, Message};
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
        let contact = filled("contact", confirmation.contact)?;
        let to: Mailbox = contact.parse().map_err(|err| {
            DeliveryError::Permanent(format!("contact {contact:?} is not a mail address: {err}"))
        })?;
        let subject = filled("subject", confirmation.subject)?;
        let body = filled("body", confirmation.body)?;
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
