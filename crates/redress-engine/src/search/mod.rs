//! Search for the console's header: one box that takes an appeal reference, an email
//! address, a social handle, an account id, an enforcement's external id, or words from
//! the correspondence and the staff's notes.
//!
//! Exact lookups go through b-tree indexes ([`lookup`]), words through the full-text
//! indexes ([`text`]); nothing reads every row. What a caller may find follows what the
//! caller may see: a role without access to personal data cannot find an appeal by an
//! email address, a social id or the text of a message, and is told that part of the
//! search was withheld rather than shown nothing silently. Notes are staff's own writing,
//! which every staff role reads, so their text is searched for everyone.

mod lookup;
mod query;
mod text;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use query::{words, SearchQuery, SearchQueryError, MAX_QUERY_CHARS, MAX_WORDS};
pub use text::snippet;

use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::message::{self, Entity as Messages};
use crate::error::EngineError;
use crate::repo::appeals::{self as appeal_repo, from_model, StoredAppeal};

/// Most hits one search returns.
pub const MAX_RESULTS: u64 = 50;

/// What of an appeal the caller may see, and so search by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Contact addresses, social ids and correspondence too.
    WithPersonalData,
    /// The case without the appellant's personal data.
    WithoutPersonalData,
}

impl Visibility {
    fn personal_data(self) -> bool {
        self == Visibility::WithPersonalData
    }
}

/// Why an appeal was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Matched {
    Reference,
    /// The address the appeal was sent from (its contact).
    ContactAddress,
    /// The address registered to the appeal's account.
    AccountAddress,
    /// The social id the appeal was sent from.
    SocialHandle,
    /// A social id linked to the appeal's account.
    LinkedHandle,
    AccountId,
    EnforcementExternalId,
    MessageText,
    NoteText,
}

/// One appeal found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub appeal: StoredAppeal,
    pub matched: Matched,
    /// An excerpt of the matching message or note around the first word found.
    pub snippet: Option<String>,
}

/// What one search found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    /// Exact matches first, then text matches newest case first; each appeal once.
    pub hits: Vec<SearchHit>,
    /// Whether part of the query went unsearched because it needs personal data the
    /// caller does not see (an address, a handle, message text).
    pub withheld: bool,
}

/// An appeal found, before it is loaded.
struct Found {
    appeal_id: Uuid,
    matched: Matched,
    snippet: Option<String>,
}

impl Engine {
    /// Runs `query` as a caller with `visibility`, returning at most `first` (at most
    /// [`MAX_RESULTS`]) appeals.
    pub async fn search(
        &self,
        query: &SearchQuery,
        visibility: Visibility,
        first: u64,
    ) -> Result<SearchResults, EngineError> {
        let limit = first.clamp(1, MAX_RESULTS);
        let conn = self.db();
        let personal = visibility.personal_data();
        let mut found = Vec::new();
        let mut withheld = false;
        let mut found_ids = |ids: Vec<Uuid>, matched: Matched| {
            found.extend(ids.into_iter().map(|appeal_id| Found {
                appeal_id,
                matched,
                snippet: None,
            }));
        };
        match query {
            SearchQuery::Reference(reference) => {
                match appeal_repo::find_by_reference(conn, reference).await {
                    Ok(stored) => found_ids(vec![stored.id], Matched::Reference),
                    Err(EngineError::ReferenceNotFound(_)) => {}
                    Err(err) => return Err(err),
                }
            }
            SearchQuery::Email(address) if personal => {
                found_ids(
                    lookup::by_contact_address(conn, address, limit).await?,
                    Matched::ContactAddress,
                );
                let accounts = lookup::accounts_with_address(conn, address).await?;
                found_ids(
                    lookup::by_accounts(conn, accounts, limit).await?,
                    Matched::AccountAddress,
                );
            }
            SearchQuery::Handle(handle) if personal => {
                found_ids(
                    lookup::by_handle(conn, handle, limit).await?,
                    Matched::SocialHandle,
                );
                let accounts = lookup::accounts_linked_to(conn, handle).await?;
                found_ids(
                    lookup::by_accounts(conn, accounts, limit).await?,
                    Matched::LinkedHandle,
                );
            }
            SearchQuery::Email(_) | SearchQuery::Handle(_) => withheld = true,
            SearchQuery::Identifier { token, words } => {
                found_ids(
                    lookup::by_accounts(conn, vec![token.clone()], limit).await?,
                    Matched::AccountId,
                );
                found_ids(
                    lookup::by_enforcement(conn, token, limit).await?,
                    Matched::EnforcementExternalId,
                );
                withheld |= !personal;
                found.extend(self.text_matches(words, personal, limit).await?);
            }
            SearchQuery::Text(words) => {
                withheld |= !personal;
                found.extend(self.text_matches(words, personal, limit).await?);
            }
        }
        Ok(SearchResults {
            hits: self.load_hits(found, limit).await?,
            withheld,
        })
    }

    /// Appeals whose messages (when the caller sees them) or notes hold every word, newest
    /// case first, each with a snippet of the newest matching text.
    async fn text_matches(
        &self,
        words: &[String],
        personal: bool,
        limit: u64,
    ) -> Result<Vec<Found>, EngineError> {
        let conn = self.db();
        let mut found = Vec::new();
        if personal {
            let matches = text::messages(conn, words, limit).await?;
            let ids: Vec<Uuid> = matches.iter().map(|m| m.row).collect();
            let bodies: HashMap<Uuid, String> = Messages::find()
                .filter(message::Column::Id.is_in(ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|m| {
                    let text = match m.subject {
                        Some(subject) => format!("{subject} {}", m.body),
                        None => m.body,
                    };
                    (m.id, text)
                })
                .collect();
            found.extend(matches.into_iter().map(|m| Found {
                appeal_id: m.appeal_id,
                matched: Matched::MessageText,
                snippet: bodies.get(&m.row).map(|text| snippet(text, words)),
            }));
        }
        let matches = text::notes(conn, words, limit).await?;
        if !matches.is_empty() {
            let mut which = Condition::any();
            for m in &matches {
                which = which.add(
                    Condition::all()
                        .add(appeal_event::Column::AppealId.eq(m.appeal_id))
                        .add(appeal_event::Column::Version.eq(m.row)),
                );
            }
            let notes: HashMap<(Uuid, i64), String> = AppealEvents::find()
                .filter(which)
                .all(conn)
                .await?
                .into_iter()
                .filter_map(|row| {
                    let text = row.payload.get("kind")?.get("text")?.as_str()?.to_owned();
                    Some(((row.appeal_id, row.version), text))
                })
                .collect();
            found.extend(matches.into_iter().map(|m| {
                Found {
                    appeal_id: m.appeal_id,
                    matched: Matched::NoteText,
                    snippet: notes
                        .get(&(m.appeal_id, m.row))
                        .map(|text| snippet(text, words)),
                }
            }));
        }
        // Newest case first across messages and notes; a case found by both keeps the
        // message (listed first), so the order is the same on every backend.
        found.sort_by_key(|f| std::cmp::Reverse(f.appeal_id));
        Ok(found)
    }

    /// The first `limit` distinct appeals of `found`, loaded, in `found`'s order.
    async fn load_hits(
        &self,
        found: Vec<Found>,
        limit: u64,
    ) -> Result<Vec<SearchHit>, EngineError> {
        let mut distinct: Vec<Found> = Vec::new();
        for candidate in found {
            if distinct.len() as u64 == limit {
                break;
            }
            if !distinct.iter().any(|f| f.appeal_id == candidate.appeal_id) {
                distinct.push(candidate);
            }
        }
        let ids: Vec<Uuid> = distinct.iter().map(|f| f.appeal_id).collect();
        let mut appeals: HashMap<Uuid, StoredAppeal> = HashMap::new();
        for model in Appeals::find()
            .filter(appeal::Column::Id.is_in(ids))
            .all(self.db())
            .await?
        {
            let stored = from_model(model)?;
            appeals.insert(stored.id, stored);
        }
        Ok(distinct
            .into_iter()
            .filter_map(|f| {
                appeals.remove(&f.appeal_id).map(|appeal| SearchHit {
                    appeal,
                    matched: f.matched,
                    snippet: f.snippet,
                })
            })
            .collect())
    }
}
