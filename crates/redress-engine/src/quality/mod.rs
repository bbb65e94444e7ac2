//! Quality checks: a configured share of decisions, per policy, goes to a blind second
//! review by another reviewer (`second_reviews`, drawn with `crate::review_sampling` in the
//! decision's own transaction through a decision observer), and the figures of a period: agreement per
//! reviewer, policy and template, and the overturn rate of reopened decisions (`rates`).
//! Depends on the core units, never the reverse.

mod error;
pub mod rates;
pub mod second_reviews;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Actor, Outcome};
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::hooks::Hooks;
use crate::transact::Retry;

pub use crate::review_sampling::{SamplingKey, SecondReviewSettings, ShareError};
pub use error::QualityError;
pub use rates::{Agreement, QualityRates};
pub use second_reviews::{BlindCase, BlindMessage, SecondReview};

/// Registers the draw of second reviews on every recorded decision.
pub fn register(hooks: &mut Hooks) {
    hooks.register_decision_observer(second_reviews::DrawSecondReviews);
}

/// Attempts at taking a second review when others take the same one at once.
const TAKE_ATTEMPTS: usize = 5;

impl Engine {
    /// The second review `actor` holds, else the next open one of another reviewer's
    /// decision, held for `actor` for the claim lease; `None` when there is none. The case
    /// comes without its first decision.
    pub async fn take_second_review(
        &self,
        actor: &Actor,
    ) -> Result<Option<BlindCase>, QualityError> {
        let lease = TimeDelta::from_std(self.settings().claim_lease)
            .map_err(|e| EngineError::InvalidInput(format!("claim lease: {e}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let taken = self
                .transact(Retry::LostRaces, async |txn| {
                    let cx = self.in_transaction(txn, self.clock().now());
                    second_reviews::take_next(&cx, actor, lease).await
                })
                .await;
            if !(matches!(taken, Err(QualityError::LostRace)) && attempt < TAKE_ATTEMPTS) {
                return taken;
            }
        }
    }

    /// Records `actor`'s outcome of second review `id`; refused to the reviewer who made
    /// the first decision.
    pub async fn record_second_review(
        &self,
        actor: &Actor,
        id: Uuid,
        outcome: Outcome,
    ) -> Result<SecondReview, QualityError> {
        self.transact(Retry::LostRaces, async |txn| {
            let cx = self.in_transaction(txn, self.clock().now());
            second_reviews::record(&cx, actor, id, outcome).await
        })
        .await
    }

    /// The second reviews of one appeal, first outcomes included: for audits, not for a
    /// second reviewer.
    pub async fn second_reviews_of(
        &self,
        appeal_id: Uuid,
    ) -> Result<Vec<SecondReview>, EngineError> {
        second_reviews::of_appeal(self.db(), appeal_id).await
    }

    /// The appeals whose decision is under a blind second review `reviewer` took and has
    /// not recorded yet: what the API withholds from them until they record it, so the
    /// review stays blind wherever they look.
    pub async fn appeals_in_blind_review_by(
        &self,
        reviewer: &str,
    ) -> Result<HashSet<Uuid>, EngineError> {
        second_reviews::appeals_held_by(self.db(), reviewer).await
    }

    /// How many second reviews wait for a reviewer.
    pub async fn open_second_reviews(&self) -> Result<u64, EngineError> {
        second_reviews::open_count(self.db()).await
    }

    /// The quality figures of `[from, to)`.
    pub async fn quality_rates(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<QualityRates, EngineError> {
        rates::build(self.db(), from, to).await
    }
}
