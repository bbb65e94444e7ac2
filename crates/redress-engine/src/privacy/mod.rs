//! Personal data over its life: how long each kind is kept after an appeal closes and the
//! purge that removes it (`retention`), erasure for a person (GDPR Art. 17, `erasure`),
//! everything held about a person as one document (Art. 15, `access`), the legal hold that
//! keeps both away from an appeal (`hold`), and the audit log's read side (`audit_log`).
//!
//! Purge and erasure replace text with [`MARKER`] and keep every row, id and time: the
//! lifecycle, the statements of reasons and the transparency figures are read from what
//! stays (states, events and their timing, channels, enforcements), so they do not change.
//! Both go through `scrub`, which knows where each kind of data lives.

mod access;
mod audit_log;
mod erasure;
mod hold;
mod outside_removals;
mod retention;
mod scrub;
mod subject;
mod words;

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

pub use access::PersonalDataDocument;
pub use audit_log::{AuditCursor, AuditEntry, AuditFilter, AuditPage};
pub use erasure::Erasure;
pub use outside_removals::OutsideRemoval;
pub use retention::{PurgeRound, RetentionSettings};
pub use subject::Subject;
pub use words::{mentions, MIN_IDENTIFIER};

use crate::error::EngineError;
use crate::transact::TransactionError;

/// What purged or erased text reads afterwards.
pub const MARKER: &str = "[removed]";

/// Audit actions of this unit.
pub mod actions {
    pub const LEGAL_HOLD_SET: &str = "legal_hold_set";
    pub const LEGAL_HOLD_CLEARED: &str = "legal_hold_cleared";
    pub const ACCESS_PRODUCED: &str = "personal_data_access_produced";
    pub const ERASURE_REQUESTED: &str = "personal_data_erasure_requested";
    pub const ERASURE_REFUSED: &str = "personal_data_erasure_refused";
    pub const ERASURE_COMPLETED: &str = "personal_data_erasure_completed";
    /// After an erasure's commit: how many copies outside the database went, or why not.
    pub const ERASURE_OUTSIDE_COPIES: &str = "personal_data_erasure_outside_copies";
    pub const RETENTION_PURGED: &str = "retention_purged";
    /// After purges' commits: how many copies outside the database went for the appeals
    /// purged of message text or contacts, or why not (they are tried again).
    pub const RETENTION_OUTSIDE_COPIES: &str = "retention_outside_copies";
}

/// A kind of personal data with a retention period of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// Bodies and subjects of the messages of the case, both ways.
    MessageText,
    /// Who wrote: the case's contact, senders and recipients, the appellant's identity in
    /// the history, the mail headers and social profile kept with a message, handle
    /// confirmations, and the outbox rows that carried notices to them.
    Contacts,
    /// Names, types and sizes of attachments.
    Attachments,
    /// The status page's token hashes: the link stops working.
    StatusTokens,
    /// What staff wrote into the history: notes, information requests, approval and
    /// rejection notes, reasons to reopen or withdraw.
    Notes,
    /// Details of the audit entries about the case.
    AuditDetails,
}

impl DataKind {
    pub const ALL: [DataKind; 6] = [
        DataKind::MessageText,
        DataKind::Contacts,
        DataKind::Attachments,
        DataKind::StatusTokens,
        DataKind::Notes,
        DataKind::AuditDetails,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::MessageText => "message_text",
            DataKind::Contacts => "contacts",
            DataKind::Attachments => "attachments",
            DataKind::StatusTokens => "status_tokens",
            DataKind::Notes => "notes",
            DataKind::AuditDetails => "audit_details",
        }
    }

    /// Its bit in `appeals.purged_kinds`.
    pub fn bit(self) -> i16 {
        match self {
            DataKind::MessageText => 1,
            DataKind::Contacts => 2,
            DataKind::Attachments => 4,
            DataKind::StatusTokens => 8,
            DataKind::Notes => 16,
            DataKind::AuditDetails => 32,
        }
    }

    /// The bits of `kinds` together.
    pub fn bits(kinds: &[DataKind]) -> i16 {
        kinds.iter().fold(0, |bits, kind| bits | kind.bit())
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataKind {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        DataKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| format!("unknown kind of personal data {value:?}"))
    }
}

/// Copies of personal data outside the database that an erasure and the retention purge
/// must reach as well, such as the mail files a file transport wrote. The binary attaches
/// one ([`crate::Engine::attach_outside_copies`]); the engine knows no paths.
pub trait OutsideCopies: Send + Sync {
    /// Removes every copy that names any of `identifiers` as a whole word ([`mentions`]);
    /// returns how many went. Called after the erasure's commit, on a blocking thread.
    fn erase(&self, identifiers: &[String]) -> Result<u64, String>;

    /// Removes every copy about one of `appeals`; returns how many went. Called after the
    /// purge's commit, on a blocking thread, and again after a failure: a copy already
    /// gone is not one.
    fn remove_about(&self, appeals: &[AppealCopies]) -> Result<u64, String>;
}

/// An appeal whose copies outside the database go: what a copy about it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealCopies {
    /// Signed into the Message-ID of every mail about the appeal.
    pub appeal_id: uuid::Uuid,
    /// Named in the subject and text of every mail about the appeal.
    pub reference: String,
}

/// Runs `removal` on `copies` on a blocking thread (it does file I/O); a removal that
/// panicked counts as failed, with the reason.
pub(crate) async fn remove_outside<F>(
    copies: Arc<dyn OutsideCopies>,
    removal: F,
) -> Result<u64, String>
where
    F: FnOnce(&dyn OutsideCopies) -> Result<u64, String> + Send + 'static,
{
    tokio::task::spawn_blocking(move || removal(copies.as_ref()))
        .await
        .unwrap_or_else(|join| Err(format!("the file removal stopped: {join}")))
}

/// Where an engine keeps its [`OutsideCopies`], shared by its clones.
#[derive(Clone, Default)]
pub(crate) struct OutsideCopiesSlot(Arc<OnceLock<Arc<dyn OutsideCopies>>>);

impl OutsideCopiesSlot {
    pub(crate) fn get(&self) -> Option<Arc<dyn OutsideCopies>> {
        self.0.get().cloned()
    }
}

impl fmt::Debug for OutsideCopiesSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutsideCopiesSlot")
            .field("attached", &self.0.get().is_some())
            .finish()
    }
}

impl crate::Engine {
    /// Lets erasures reach `copies` too; the first one attached stays (returns false for
    /// a later one).
    pub fn attach_outside_copies(&self, copies: Arc<dyn OutsideCopies>) -> bool {
        self.outside_copies().0.set(copies).is_ok()
    }
}

/// Why a request about personal data was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// Appeals of the subject are under legal hold; nothing was erased.
    #[error("appeals {} are under legal hold; nothing was erased", references.join(", "))]
    LegalHold { references: Vec<String> },
    /// Appeals of the subject are still open; they must be decided or withdrawn first.
    #[error("appeals {} are still open; decide or withdraw them before erasing", references.join(", "))]
    OpenAppeals { references: Vec<String> },
    /// A field of the request is unusable; names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Nothing is held about the subject: no appeal, account, address or handle of theirs
    /// was found, so nothing was erased.
    #[error("nothing is held about this {subject_kind}; nothing was erased")]
    NothingHeld { subject_kind: &'static str },
    /// The database's erasure was committed, but copies outside it could not all be
    /// removed (the failure is audited). The identifiers are gone from the database by
    /// then, so an erasure asked again finds nothing: the copies must be removed by hand.
    #[error("the database was erased, but copies outside it were not all removed: {0}")]
    OutsideCopies(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl PrivacyError {
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        PrivacyError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sea_orm::DbErr> for PrivacyError {
    fn from(err: sea_orm::DbErr) -> Self {
        PrivacyError::Engine(err.into())
    }
}

impl TransactionError for PrivacyError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            PrivacyError::Engine(error) => Some(error),
            _ => None,
        }
    }
}
