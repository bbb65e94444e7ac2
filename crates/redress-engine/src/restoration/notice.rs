//! The one notice a bulk job sends each person it restored.

use redress_core::{Channel, Notice};
use uuid::Uuid;

use crate::outbox::AppellantNotice;
use crate::repo::appeals::StoredAppeal;
use crate::repo::outbox::OutboxItem;

/// Per job and account, so a resumed job or a repeated confirmation writes it once.
pub fn idempotency_key(job_id: Uuid, account_id: &str) -> String {
    format!("bulk_restore:{job_id}:{account_id}")
}

/// The notice for `account_id`: on the channel of its appeal when it had one open (with the
/// appeal's reference), otherwise by mail to the registry's address. `None` when Redress
/// knows no way to reach the person.
pub fn for_account(
    job_id: Uuid,
    account_id: &str,
    reason: &str,
    appeal: Option<&StoredAppeal>,
    email: Option<&str>,
) -> Option<OutboxItem> {
    let (channel, contact, reference, notice) = match appeal {
        Some(stored) => (
            stored.appeal.channel,
            stored.contact.clone()?,
            Some(stored.reference.to_string()),
            Notice::DecisionRestored,
        ),
        None => (
            Channel::Email,
            email?.to_owned(),
            None,
            Notice::AccountRestored,
        ),
    };
    let notice = AppellantNotice {
        appeal_id: appeal.map(|a| a.id),
        reference,
        version: None,
        channel,
        contact: Some(contact),
        event: "bulk_restored".to_owned(),
        notice,
        reason: Some(reason.to_owned()),
        language: None,
        account_id: Some(account_id.to_owned()),
        job_id: Some(job_id),
        refused_until: None,
    };
    Some(OutboxItem::of(
        &notice,
        notice.appeal_id,
        idempotency_key(job_id, account_id),
    ))
}
