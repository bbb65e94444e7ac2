//! Whom a request is about, and what the database holds of them: their appeals and the
//! strings that identify them.

use std::collections::BTreeSet;

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
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
    pub appeals: Vec<Uuid>,
    /// Account ids: the subject's own, or those whose address or handle it is.
    pub accounts: BTreeSet<String>,
    /// Addresses, handles and names that identify the person, to be found anywhere.
    pub identifiers: BTreeSet<String>,
}

/// Finds the subject's appeals, accounts and identifiers.
pub(crate) async fn holdings<C: ConnectionTrait>(
    conn: &C,
    subject: &Subject,
) -> Result<Holdings, EngineError> {
    let mut held = Holdings::default();
    let mut appeals: BTreeSet<Uuid> = BTreeSet::new();
    match subject {
        Subject::Account(id) => {
            held.accounts.insert(id.clone());
            appeals.extend(appeals_of_account(conn, id).await?);
            if let Some(email) = Accounts::find_by_id(id.clone())
                .select_only()
                .column(account::Column::Email)
                .into_tuple::<Option<String>>()
                .one(conn)
                .await?
                .flatten()
            {
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
            held.identifiers.insert(address.clone());
            appeals.extend(appeals_by_contact(conn, address, true).await?);
        }
        Subject::Handle(handle) => {
            held.identifiers.insert(handle.clone());
            appeals.extend(appeals_by_contact(conn, handle, false).await?);
        }
    }
    // The address and handles of an account find appeals filed before they were linked.
    for identifier in held.identifiers.clone() {
        let folded = identifier.contains('@');
        appeals.extend(appeals_by_contact(conn, &identifier, folded).await?);
    }
    held.appeals = appeals.into_iter().collect();
    held.identifiers
        .extend(senders_and_names(conn, &held.appeals).await?);
    held.identifiers
        .retain(|identifier| !identifier.trim().is_empty());
    Ok(held)
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

/// Appeals whose contact is `value` or with a message from it; `folded` compares without
/// regard to case (addresses).
async fn appeals_by_contact<C: ConnectionTrait>(
    conn: &C,
    value: &str,
    folded: bool,
) -> Result<Vec<Uuid>, EngineError> {
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
    let mut ids: Vec<Uuid> = Appeals::find()
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
    ids.extend(from_messages.into_iter().flatten());
    Ok(ids)
}

/// Who wrote the appeals (the addresses and handles their messages came from, the cases'
/// contacts) and the display names their mail carried (`from_name`): they identify the
/// person too, wherever else they were copied.
async fn senders_and_names<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
) -> Result<BTreeSet<String>, EngineError> {
    let mut names = BTreeSet::new();
    for chunk in appeals.chunks(super::scrub::CHUNK) {
        let contacts: Vec<Option<String>> = Appeals::find()
            .select_only()
            .column(appeal::Column::Contact)
            .filter(appeal::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        names.extend(contacts.into_iter().flatten());
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
            names.insert(sender);
            if let Some(name) = value.get("from_name").and_then(|n| n.as_str()) {
                // A name of one or two letters would match everywhere and tell nothing.
                if name.trim().chars().count() >= 3 {
                    names.insert(name.trim().to_owned());
                }
            }
            // The envelope's sender and a social profile's screen name identify them too.
            for key in ["envelope_from", "screen_name"] {
                if let Some(value) = value.get(key).and_then(|n| n.as_str()) {
                    names.insert(value.to_owned());
                }
            }
        }
    }
    Ok(names)
}
