//! `search`: the console's header search box over the engine's search.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use redress_engine::search::{self, SearchQuery, SearchQueryError, Visibility};
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};

/// Hits a search returns when `first` is not given.
const DEFAULT_FIRST: i32 = 20;

#[derive(Debug, Default)]
pub struct SearchQueryRoot;

/// Why an appeal was found.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "SearchMatch", remote = "redress_engine::search::Matched")]
pub enum SearchMatchGql {
    /// The appeal's reference.
    Reference,
    /// The address the appeal was sent from.
    ContactAddress,
    /// The address registered to the appeal's account.
    AccountAddress,
    /// The social id the appeal was sent from.
    SocialHandle,
    /// A social id linked to the appeal's account.
    LinkedHandle,
    AccountId,
    /// The platform's id of the enforcement appealed against.
    EnforcementExternalId,
    /// Words of a message (subject or body).
    MessageText,
    /// Words of a staff note.
    NoteText,
}

/// One appeal found.
#[derive(SimpleObject, Debug)]
#[graphql(name = "SearchHit")]
pub struct SearchHitNode {
    pub appeal: AppealNode,
    pub matched: SearchMatchGql,
    /// An excerpt of the matching message or note; null for exact matches. A message's
    /// text is only ever searched, and so shown, for roles that see personal data.
    pub snippet: Option<String>,
}

/// What a search found.
#[derive(SimpleObject, Debug)]
#[graphql(name = "SearchResults")]
pub struct SearchResultsNode {
    pub hits: Vec<SearchHitNode>,
    /// True when part of the query was not searched because it needs personal data the
    /// caller's role does not see (an email address, a social handle, message text).
    pub withheld: bool,
}

#[Object]
impl SearchQueryRoot {
    /// Finds appeals by reference (`RDR-7K3Q-9M2X`), email address, social handle
    /// (`@id`), account id, an enforcement's external id, or words of messages and notes
    /// (every word must appear). Exact matches first, then text matches newest case first.
    /// `first` is 1 to 50 (default 20).
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
    ) -> Result<SearchResultsNode> {
        rbac::staff(ctx).or_api()?;
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(1..=search::MAX_RESULTS as i32).contains(&first) {
            return Err(ApiError::invalid_field(
                "first",
                format!(
                    "invalid first: {first} is not between 1 and {}",
                    search::MAX_RESULTS
                ),
            ))
            .or_api();
        }
        let parsed: SearchQuery = query
            .parse()
            .map_err(|err: SearchQueryError| {
                ApiError::invalid_field("query", format!("invalid query: {err}"))
            })
            .or_api()?;
        let visibility = if rbac::sees_pii(ctx) {
            Visibility::WithPersonalData
        } else {
            Visibility::WithoutPersonalData
        };
        let results = ctx
            .data::<Engine>()?
            .search(&parsed, visibility, first as u64)
            .await
            .or_api()?;
        let withheld = Withheld::from_caller(ctx).await?;
        Ok(SearchResultsNode {
            hits: results
                .hits
                .into_iter()
                .filter_map(|hit| {
                    Some(SearchHitNode {
                        appeal: withheld.show(hit.appeal)?,
                        matched: hit.matched.into(),
                        snippet: hit.snippet,
                    })
                })
                .collect(),
            withheld: results.withheld,
        })
    }
}
