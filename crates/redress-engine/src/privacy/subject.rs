//! Whom a request is about, and what the database holds of them: their appeals and the
//! strings that identify them.

use std::collections::BTreeSet;

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::PrivacyError;
use crate::entity::account::{self, Entity as Accounts};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::linked_handle::{self, Entity as LinkedHandles};
use crate::entity::message::{self, Direction, Entity as Messages};
use crate::error::EngineError;

/// Longest identifier accepted; anything longer identifies nobody.
const MAX_LEN: usize = 320;

/// The person a request is about, as they are known to Redress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A platform account id: its appeals, its address and linked handles with it.
    Account(String),
    /// An email address, compared without regard to case.
    Email(String),
    /// A social handle as the channel sends it (the sender's id on X or Meta).
    Handle(String),
}

impl Subject {
    /// The kind of subject, as the audit log records it (never the value).
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Account(_) => "account",
            Subject::Email(_) => "email",
            Subject::Handle(_) => "handle",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Subject::Account(v) | Subject::Email(v) | Subject::Handle(v) => v,
        }
    }

    /// The subject with its value trimmed and checked; names the field that is wrong.
    pub fn checked(self) -> Result<Self, PrivacyError> {
        let field = match &self {
            Subject::Account(_) => "accountId",
            Subject::Email(_) => "email",
            Subject::Handle(_) => "handle",
        };
        let value = self.value().trim();
        if value.is_empty() {
            return Err(PrivacyError::invalid(field, "must not be empty"));
        }
        if value.len() > MAX_LEN || value.contains('\0') {
            return Err(PrivacyError::invalid(
                field,
                format!("must be at most {MAX_LEN} bytes of text"),
            ));
        }
        if let Subject::Email(address) = &self {
            if !address.contains('@') {
                return Err(PrivacyError::invalid(field, "is not an email address"));
            }
        }
        let value = value.to_owned();
        Ok(match self {
            Subject::Account(_) => Subject::Account(value),
            Subject::Email(_) => Subject::Email(value.to_lowercase()),
            Subject::Handle(_) => Subject::Handle(value),
        })
    }
}

/// What the database holds of a subject.
#[derive(Debug, Clone, Default)]
pub(crate) struct Holdings {
    /// The person's own appeals: of their accounts, or with their address or handle as
    /// the contact.
    pub appeals: Vec<Uuid>,
    /// Other people's appeals the person wrote into: only their own messages there are
    /// theirs.
    pub written_into: Vec<Uuid>,
    /// Account ids: the subject's own, or those whose address or handle it is.
    pub accounts: BTreeSet<String>,
    /// Addresses and handles found in the person's own rows, to be found anywhere.
    pub identifiers: BTreeSet<String>,
}

/// Finds the subject's appeals, accounts and identifiers. An identifier is only taken
/// when a row of the person holds it (an appeal's contact, a message they sent, their
/// account's address, a linked handle): a value asked about that nobody holds must never
/// become a word to look for across the database.
pub(crate) async fn holdings<C: ConnectionTrait>(
    conn: &C,
    subject: &Subject,
) -> Result<Holdings, EngineError> {
    let mut held = Holdings::default();
    let mut appeals: BTreeSet<Uuid> = BTreeSet::new();
    let mut written_into: BTreeSet<Uuid> = BTreeSet::new();
    match subject {
        Subject::Account(id) => {
            let account_email = Accounts::find_by_id(id.clone())
                .select_only()
                .column(account::Column::Email)
                .into_tuple::<Option<String>>()
                .one(conn)
                .await?;
            let own = appeals_of_account(conn, id).await?;
            if account_email.is_some() || !own.is_empty() {
                held.accounts.insert(id.clone());
            }
            appeals.extend(own);
            if let Some(email) = account_email.flatten() {
                held.identifiers.insert(email.to_lowercase());
            }
            let handles: Vec<String> = LinkedHandles::find()
                .select_only()
                .column(linked_handle::Column::SocialId)
                .filter(linked_handle::Column::AccountId.eq(id.as_str()))
                .into_tuple()
                .all(conn)
                .await?;
            held.identifiers.extend(handles);
        }
        Subject::Email(address) => {
            let found = appeals_by_contact(conn, address, true).await?;
            let holds_any = !found.is_empty();
            let found = found.own_or_written(&mut written_into);
            let is_account_email = Accounts::find()
                .select_only()
                .column(account::Column::Id)
                .filter(ExprTrait::eq(
                    Expr::expr(Func::lower(Expr::col(account::Column::Email))),
                    address.to_lowercase(),
                ))
                .into_tuple::<String>()
                .all(conn)
                .await?;
            if holds_any || !is_account_email.is_empty() {
                held.identifiers.insert(address.clone());
            }
            appeals.extend(found);
        }
        Subject::Handle(handle) => {
            let found = appeals_by_contact(conn, handle, false).await?;
            let holds_any = !found.is_empty();
            let found = found.own_or_written(&mut written_into);
            let linked = LinkedHandles::find()
                .filter(linked_handle::Column::SocialId.eq(handle.as_str()))
                .count(conn)
                .await?;
            if holds_any || linked > 0 {
                held.identifiers.insert(handle.clone());
            }
            appeals.extend(found);
        }
    }
    // The address and handles of an account find appeals filed before they were linked.
    for identifier in held.identifiers.clone() {
        let folded = identifier.contains('@');
        let found = appeals_by_contact(conn, &identifier, folded).await?;
        appeals.extend(found.own_or_written(&mut written_into));
    }
    held.written_into = written_into
        .into_iter()
        .filter(|id| !appeals.contains(id))
        .collect();
    held.appeals = appeals.into_iter().collect();
    let own = own_addresses(conn, &held.appeals, &held.identifiers, &held.accounts).await?;
    held.identifiers.extend(own);
    held.identifiers
        .retain(|identifier| !identifier.trim().is_empty());
    Ok(held)
}

impl Holdings {
    /// Whether any row of the person was found.
    pub(crate) fn is_empty(&self) -> bool {
        self.appeals.is_empty()
            && self.written_into.is_empty()
            && self.accounts.is_empty()
            && self.identifiers.is_empty()
    }
}

async fn appeals_of_account<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<Uuid>, EngineError> {
    Ok(Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(appeal::Column::AccountId.eq(account_id))
        .into_tuple()
        .all(conn)
        .await?)
}

/// Appeals found by an address or handle.
struct Found {
    /// Whose contact it is.
    own: Vec<Uuid>,
    /// With a message from it.
    written: Vec<Uuid>,
}

impl Found {
    fn is_empty(&self) -> bool {
        self.own.is_empty() && self.written.is_empty()
    }

    /// The own appeals; the others go to `written_into`.
    fn own_or_written(self, written_into: &mut BTreeSet<Uuid>) -> Vec<Uuid> {
        written_into.extend(self.written);
        self.own
    }
}

/// Appeals whose contact is `value`, and those with a message from it; `folded` compares
/// without regard to case (addresses).
async fn appeals_by_contact<C: ConnectionTrait>(
    conn: &C,
    value: &str,
    folded: bool,
) -> Result<Found, EngineError> {
    let (contact, sender) = if folded {
        (
            ExprTrait::eq(
                Expr::expr(Func::lower(Expr::col(appeal::Column::Contact))),
                value.to_lowercase(),
            ),
            ExprTrait::eq(
                Expr::expr(Func::lower(Expr::col(message::Column::Sender))),
                value.to_lowercase(),
            ),
        )
    } else {
        (
            ExprTrait::eq(Expr::col(appeal::Column::Contact), value),
            ExprTrait::eq(Expr::col(message::Column::Sender), value),
        )
    };
    let own: Vec<Uuid> = Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .filter(contact)
        .into_tuple()
        .all(conn)
        .await?;
    let from_messages: Vec<Option<Uuid>> = Messages::find()
        .select_only()
        .column(message::Column::AppealId)
        .filter(sender)
        .filter(message::Column::Direction.eq(Direction::Inbound))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(Found {
        own,
        written: from_messages.into_iter().flatten().collect(),
    })
}

/// The addresses the person's own mail came from (the envelope's sender beside the
/// header's) and the screen names of their own social messages: only messages whose
/// sender is already one of theirs, on appeals of their accounts or with their contact.
/// Display names are never taken: a name is a word, and a word is in other people's
/// text too.
async fn own_addresses<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    identifiers: &BTreeSet<String>,
    accounts: &BTreeSet<String>,
) -> Result<BTreeSet<String>, EngineError> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let theirs = |found: &BTreeSet<String>, value: &str| {
        identifiers
            .iter()
            .chain(found.iter())
            .any(|identifier| identifier.eq_ignore_ascii_case(value))
    };
    for chunk in appeals.chunks(super::scrub::CHUNK) {
        let cases: Vec<(Option<String>, Option<String>)> = Appeals::find()
            .select_only()
            .column(appeal::Column::AccountId)
            .column(appeal::Column::Contact)
            .filter(appeal::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        for (account, contact) in cases {
            let of_their_account = account.is_some_and(|a| accounts.contains(&a));
            if let Some(contact) = contact {
                if of_their_account || theirs(&found, &contact) {
                    found.insert(contact);
                }
            }
        }
        let messages: Vec<(String, serde_json::Value)> = Messages::find()
            .select_only()
            .column(message::Column::Sender)
            .column(message::Column::Metadata)
            .filter(message::Column::AppealId.is_in(chunk.iter().copied()))
            .filter(message::Column::Direction.eq(Direction::Inbound))
            .into_tuple()
            .all(conn)
            .await?;
        for (sender, value) in messages {
            if !theirs(&found, &sender) {
                continue;
            }
            for key in ["envelope_from", "screen_name"] {
                if let Some(value) = value.get(key).and_then(|n| n.as_str()) {
                    found.insert(value.to_owned());
                }
            }
        }
    }
    Ok(found)
}
