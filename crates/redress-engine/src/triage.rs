//! A person's triage, and the link it makes: an email nobody vouched for is filed without
//! an account, keeping the account registered to its address as a claim; the triager who
//! verifies the appellant's identity links the case to that account, and only that one,
//! as filing would have linked it. A routing rule never links: it cannot judge identity.

use redress_core::{AccountLink, Actor, Channel, Command, Priority};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::commands::{apply_to_loaded, Applied};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::filing::{enforcement_for_account, needs_four_eyes};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::registry;
use crate::settings::EngineSettings;
use crate::transact::Retry;

/// What a triager decides about a filed appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub priority: Priority,
    /// The current queue when `None`.
    pub queue: Option<String>,
    pub tags: Vec<String>,
    pub identity_verified: bool,
    pub link: LinkClaimedAccount,
}

/// Whether triage links an unlinked appeal to the account its appellant claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkClaimedAccount {
    /// When the identity is verified and the appeal claims an account: verifying an
    /// identity without linking would leave a case nobody can restore.
    #[default]
    WhenVerified,
    /// Link, or refuse the triage saying why not.
    Required,
    Never,
}

/// Why triage could not link the claimed account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimedAccountLinkError {
    #[error("this appeal is already linked to an account")]
    AlreadyLinked,
    #[error("this appeal claims no account: no account is registered to its sender's address")]
    NothingClaimed,
    /// Filing would have added this appeal to the open one; the unique index of open cases
    /// allows one per account and enforcement, and two could end in two decisions.
    #[error("the claimed account {account_id} already has an open appeal about the same enforcement, {reference}: decide that one, or triage this one without linking")]
    OpenAppealAboutTheEnforcement {
        account_id: String,
        reference: String,
    },
}

/// The channels whose appeals claim an account by their contact: mail, whose contact is
/// the address it came from, and the platform's API, which files with the person's
/// address. A DM's contact is a handle, which names no registered address.
pub(crate) const CLAIMING_CHANNELS: [Channel; 2] = [Channel::Email, Channel::Api];

/// The address by which an unlinked appeal claims an account, spelt as the registry keeps
/// addresses. `None` once the appeal is linked, and for a channel that claims nothing.
pub(crate) fn claimed_address(stored: &StoredAppeal) -> Option<String> {
    if stored.appeal.account_id.is_some() || !CLAIMING_CHANNELS.contains(&stored.appeal.channel) {
        return None;
    }
    stored.contact.as_deref().map(str::to_ascii_lowercase)
}

/// The account registered to the address an unlinked appeal came from: whom its appellant
/// claims to be. `None` once the appeal is linked.
pub(crate) async fn claimed_account_id<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
) -> Result<Option<String>, EngineError> {
    let Some(address) = claimed_address(stored) else {
        return Ok(None);
    };
    Ok(registry::find_account_by_email(conn, &address)
        .await?
        .map(|account| account.id))
}

/// The link to the claimed account, with the enforcement filing would have chosen for it,
/// and whether that enforcement's policy needs four-eyes review.
async fn link_to_claimed_account<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &StoredAppeal,
) -> Result<(AccountLink, bool), EngineError> {
    if stored.appeal.account_id.is_some() {
        return Err(ClaimedAccountLinkError::AlreadyLinked.into());
    }
    let account_id = claimed_account_id(conn, stored)
        .await?
        .ok_or(ClaimedAccountLinkError::NothingClaimed)?;
    let enforcement = enforcement_for_account(conn, &account_id).await?;
    if let Some(enforcement) = &enforcement {
        if let Some(open) = appeals::find_open(conn, &account_id, enforcement.id).await? {
            return Err(ClaimedAccountLinkError::OpenAppealAboutTheEnforcement {
                account_id,
                reference: open.reference.to_string(),
            }
            .into());
        }
    }
    let four_eyes = needs_four_eyes(settings, enforcement.as_ref());
    let link = AccountLink {
        account_id,
        enforcement_id: enforcement.map(|e| e.id),
    };
    Ok((link, four_eyes))
}

/// The triage command for `stored`: the link `triage.link` asks for, and four-eyes review
/// as the enforcement (the linked one, else the appeal's own) needs it.
async fn triage_command<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &StoredAppeal,
    triage: Triage,
) -> Result<Command, EngineError> {
    let wants_link = match triage.link {
        LinkClaimedAccount::Never => false,
        LinkClaimedAccount::Required => true,
        LinkClaimedAccount::WhenVerified => {
            triage.identity_verified && claimed_account_id(conn, stored).await?.is_some()
        }
    };
    let (link, enforcement_four_eyes) = if wants_link {
        let (link, four_eyes) = link_to_claimed_account(conn, settings, stored).await?;
        (Some(link), four_eyes)
    } else {
        let enforcement = match stored.appeal.enforcement_id {
            Some(id) => registry::find_enforcement(conn, id).await?,
            None => None,
        };
        (None, needs_four_eyes(settings, enforcement.as_ref()))
    };
    Ok(Command::Triage {
        priority: triage.priority,
        queue: triage.queue.unwrap_or_else(|| stored.appeal.queue.clone()),
        tags: triage.tags,
        identity_verified: triage.identity_verified,
        four_eyes: stored.appeal.four_eyes || enforcement_four_eyes,
        link,
    })
}

impl Engine {
    /// Triages a filed appeal as `actor`, linking it to the account its appellant claims
    /// as `triage.link` says, in one transaction with the checks that link depends on.
    pub async fn triage(
        &self,
        appeal_id: Uuid,
        expected_version: Option<i64>,
        triage: Triage,
        actor: &Actor,
    ) -> Result<Applied, EngineError> {
        // A filing that opens the same account's case about the same enforcement meanwhile
        // wins the unique index of open cases; the next attempt refuses the link by name.
        self.transact(Retry::LostRaces, async |txn| {
            let cx = self.in_transaction(txn, self.clock().now());
            let stored = appeals::find(txn, appeal_id).await?;
            if let Some(expected) = expected_version {
                if expected != stored.version() {
                    return Err(EngineError::Conflict {
                        appeal: appeal_id,
                        expected,
                        actual: stored.version(),
                    });
                }
            }
            let command = triage_command(txn, self.settings(), &stored, triage.clone()).await?;
            let mut applied =
                apply_to_loaded(&cx, stored, expected_version, &command, actor).await?;
            if matches!(command, Command::Triage { link: Some(_), .. }) {
                // A decision observer may have closed the case the link made answerable
                // (a bulk restore already reversed its enforcement).
                applied.appeal = appeals::find(txn, appeal_id).await?;
            }
            Ok(applied)
        })
        .await
    }

    /// The account an unlinked appeal's appellant claims (see [`Triage`]); personal data.
    pub async fn claimed_account(
        &self,
        stored: &StoredAppeal,
    ) -> Result<Option<crate::registry::Account>, EngineError> {
        match claimed_account_id(self.db(), stored).await? {
            Some(id) => self.account(&id).await,
            None => Ok(None),
        }
    }
}
