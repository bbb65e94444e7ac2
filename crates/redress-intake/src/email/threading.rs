//! Which case a message belongs to: first the Message-IDs it answers (only ids we signed
//! count), then an appeal reference in the subject when it comes from that appeal's own
//! sender, else none (a new appeal).

use redress_core::AppealReference;
use redress_engine::{Engine, EngineError, MessageIdSigner};
use serde::Serialize;
use uuid::Uuid;

use super::mime::ParsedEmail;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Thread {
    Headers {
        appeal_id: Uuid,
    },
    SubjectReference {
        appeal_id: Uuid,
    },
    /// A reference was in the subject, but the message is not from that appeal's sender.
    NewRefusedReference {
        reference: String,
    },
    New,
}

impl Thread {
    pub fn appeal_id(&self) -> Option<Uuid> {
        match self {
            Thread::Headers { appeal_id } | Thread::SubjectReference { appeal_id } => {
                Some(*appeal_id)
            }
            Thread::NewRefusedReference { .. } | Thread::New => None,
        }
    }
}

pub async fn thread(
    engine: &Engine,
    email: &ParsedEmail,
    signer: &MessageIdSigner,
) -> Result<Thread, EngineError> {
    for id in email.thread_ids() {
        if let Some(appeal_id) = signer.verify(id) {
            match engine.appeal(appeal_id).await {
                Ok(_) => return Ok(Thread::Headers { appeal_id }),
                Err(EngineError::AppealNotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }
    }
    let Some(reference) = email.subject.as_deref().and_then(AppealReference::find_in) else {
        return Ok(Thread::New);
    };
    match engine.appeal_by_reference(&reference).await {
        Ok(appeal)
            if appeal
                .contact
                .as_deref()
                .is_some_and(|contact| contact.eq_ignore_ascii_case(&email.from)) =>
        {
            Ok(Thread::SubjectReference {
                appeal_id: appeal.id,
            })
        }
        Ok(_) | Err(EngineError::ReferenceNotFound(_)) => Ok(Thread::NewRefusedReference {
            reference: reference.to_string(),
        }),
        Err(err) => Err(err),
    }
}
