//! Staff sessions of the console's sign-in through the identity provider, and the sign-ins
//! in progress. Rows are keyed by hashes the caller computes (of the session id, of the
//! `state`): the engine never sees a usable secret of a session. Every replica reads the
//! same rows, so a browser may land on any of them.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};

use crate::engine::Engine;
use crate::entity::staff_session::{self, Entity as StaffSessions};
use crate::entity::staff_sign_in::{self, Entity as StaffSignIns};
use crate::error::EngineError;

/// Expired sign-ins deleted at each new one: bounded, so one sign-in never pays for a
/// flood of abandoned ones, yet faster than a flood can add them.
const SIGN_INS_SWEPT: u64 = 100;

/// A session to open.
#[derive(Clone, Debug)]
pub struct NewStaffSession {
    pub subject: String,
    pub roles: Vec<Role>,
    /// The session ends after this long without a request...
    pub idle: TimeDelta,
    /// ...and after this long in any case.
    pub lifetime: TimeDelta,
}

/// A live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    pub subject: String,
    pub roles: Vec<Role>,
    pub expires_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// A sign-in started at the provider and not finished yet.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub pkce_verifier: String,
    pub nonce: String,
    /// Where in the console to return (a `#/…` fragment).
    pub return_to: String,
}

// Written out so that a logged value never shows a verifier or a nonce.
impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("pkce_verifier", &"***")
            .field("nonce", &"***")
            .field("return_to", &self.return_to)
            .finish()
    }
}

fn session_of(row: staff_session::Model) -> StaffSession {
    StaffSession {
        subject: row.subject,
        // Names the code no longer knows are dropped rather than failing the session.
        roles: row
            .roles
            .split_whitespace()
            .filter_map(|name| name.parse().ok())
            .collect(),
        expires_at: row.expires_at,
        ends_at: row.ends_at,
    }
}

impl Engine {
    /// Stores a new session under `id_hash`, and forgets sessions and sign-ins that ended.
    pub async fn open_staff_session(
        &self,
        id_hash: &str,
        session: NewStaffSession,
    ) -> Result<StaffSession, EngineError> {
        let now = self.clock().now();
        self.forget_ended_sessions(now).await?;
        let ends_at = now + session.lifetime;
        let expires_at = (now + session.idle).min(ends_at);
        let roles: Vec<&str> = session.roles.iter().map(|role| role.as_str()).collect();
        StaffSessions::insert(staff_session::ActiveModel {
            id_hash: Set(id_hash.to_owned()),
            subject: Set(session.subject.clone()),
            roles: Set(roles.join(" ")),
            idle_seconds: Set(session.idle.num_seconds()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            ends_at: Set(ends_at),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(StaffSession {
            subject: session.subject,
            roles: session.roles,
            expires_at,
            ends_at,
        })
    }

    /// The session stored under `id_hash`, if it has not ended. Using a session past the
    /// middle of its idle time renews it (up to its end), so a person at work is never
    /// signed out while one who left is.
    pub async fn staff_session(&self, id_hash: &str) -> Result<Option<StaffSession>, EngineError> {
        let now = self.clock().now();
        let Some(row) = StaffSessions::find_by_id(id_hash.to_owned())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        if row.expires_at <= now || row.ends_at <= now {
            StaffSessions::delete_by_id(id_hash.to_owned())
                .exec(self.db())
                .await?;
            return Ok(None);
        }
        let idle = TimeDelta::seconds(row.idle_seconds.max(0));
        let mut session = session_of(row);
        if session.expires_at - now < idle / 2 {
            let renewed = (now + idle).min(session.ends_at);
            StaffSessions::update_many()
                .col_expr(staff_session::Column::ExpiresAt, Expr::value(renewed))
                .filter(staff_session::Column::IdHash.eq(id_hash))
                .exec(self.db())
                .await?;
            session.expires_at = renewed;
        }
        Ok(Some(session))
    }

    /// Whether the session under `id_hash` is alive, without renewing it: a check the
    /// server makes (for an open subscription socket) is no sign of the person at work.
    pub async fn staff_session_alive(&self, id_hash: &str) -> Result<bool, EngineError> {
        let now = self.clock().now();
        let row = StaffSessions::find_by_id(id_hash.to_owned())
            .one(self.db())
            .await?;
        Ok(row.is_some_and(|row| row.expires_at > now && row.ends_at > now))
    }

    /// Ends the session under `id_hash`; returns it as it was, if there was one.
    pub async fn close_staff_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<StaffSession>, EngineError> {
        let Some(row) = StaffSessions::find_by_id(id_hash.to_owned())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let deleted = StaffSessions::delete_by_id(id_hash.to_owned())
            .exec(self.db())
            .await?;
        // A concurrent sign-out of the same session deleted it first: one of them says so.
        Ok((deleted.rows_affected > 0).then(|| session_of(row)))
    }

    /// Remembers a sign-in started at the provider under the hash of its `state`, for
    /// `lifetime`, and forgets up to [`SIGN_INS_SWEPT`] that expired unfinished: sign-ins
    /// start without authentication, so abandoned ones must not pile up.
    pub async fn remember_sign_in(
        &self,
        state_hash: &str,
        sign_in: &PendingSignIn,
        lifetime: TimeDelta,
    ) -> Result<(), EngineError> {
        let now = self.clock().now();
        let expired: Vec<String> = StaffSignIns::find()
            .select_only()
            .column(staff_sign_in::Column::StateHash)
            .filter(staff_sign_in::Column::ExpiresAt.lte(now))
            .limit(SIGN_INS_SWEPT)
            .into_tuple()
            .all(self.db())
            .await?;
        if !expired.is_empty() {
            StaffSignIns::delete_many()
                .filter(staff_sign_in::Column::StateHash.is_in(expired))
                .exec(self.db())
                .await?;
        }
        StaffSignIns::insert(staff_sign_in::ActiveModel {
            state_hash: Set(state_hash.to_owned()),
            pkce_verifier: Set(sign_in.pkce_verifier.clone()),
            nonce: Set(sign_in.nonce.clone()),
            return_to: Set(sign_in.return_to.clone()),
            created_at: Set(now),
            expires_at: Set(now + lifetime),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(())
    }

    /// Takes the sign-in remembered under `state_hash`: it is deleted, so the provider's
    /// redirect works once. `None` when there is none, it was taken, or it expired.
    pub async fn take_sign_in(
        &self,
        state_hash: &str,
    ) -> Result<Option<PendingSignIn>, EngineError> {
        let now = self.clock().now();
        let Some(row) = StaffSignIns::find_by_id(state_hash.to_owned())
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let deleted = StaffSignIns::delete_by_id(state_hash.to_owned())
            .exec(self.db())
            .await?;
        // Two redirects racing with the same state: only the one that deleted the row wins.
        if deleted.rows_affected == 0 || row.expires_at <= now {
            return Ok(None);
        }
        Ok(Some(PendingSignIn {
            pkce_verifier: row.pkce_verifier,
            nonce: row.nonce,
            return_to: row.return_to,
        }))
    }

    async fn forget_ended_sessions(&self, now: DateTime<Utc>) -> Result<(), EngineError> {
        StaffSessions::delete_many()
            .filter(
                Condition::any()
                    .add(staff_session::Column::ExpiresAt.lte(now))
                    .add(staff_session::Column::EndsAt.lte(now)),
            )
            .exec(self.db())
            .await?;
        StaffSignIns::delete_many()
            .filter(staff_sign_in::Column::ExpiresAt.lte(now))
            .exec(self.db())
            .await?;
        Ok(())
    }
}
