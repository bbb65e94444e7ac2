//! Blind second reviews: drawing decisions as they are recorded, handing the open ones to
//! reviewers other than the first, the case as the second reviewer sees it, and their
//! outcome.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use redress_core::role::REVIEWERS;
use redress_core::{Actor, AppealReference, Channel, EventKind, Outcome};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::error::QualityError;
use crate::entity::enforcement;
use crate::entity::message::Direction;
use crate::entity::second_review::{self, Entity as SecondReviews};
use crate::error::EngineError;
use crate::hooks::{DecisionObserver, InTransaction, RecordedCommand};
use crate::registry::Enforcement;
use crate::repo::audit::{self, NewAuditEntry};
use crate::repo::{appeals, messages, registry};

/// A second reviewer took an open second review.
pub const SECOND_REVIEW_TAKEN: &str = "second_review_taken";
/// A second reviewer recorded their outcome.
pub const SECOND_REVIEW_RECORDED: &str = "second_review_recorded";

/// A decision drawn for a second review, with the second review once recorded. This is the
/// record for the figures and the audit; a second reviewer sees a [`BlindCase`] instead.
#[derive(Debug, Clone, PartialEq)]
pub struct SecondReview {
    pub id: Uuid,
    pub appeal_id: Uuid,
    /// The `decided` event's version in the appeal's history.
    pub decision_version: i64,
    pub first_reviewer: String,
    pub first_outcome: Outcome,
    pub policy: Option<String>,
    pub template: Option<String>,
    pub sampled_at: DateTime<Utc>,
    pub second_reviewer: Option<String>,
    pub held_until: Option<DateTime<Utc>>,
    pub second_outcome: Option<Outcome>,
    pub agreed: Option<bool>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl TryFrom<second_review::Model> for SecondReview {
    type Error = EngineError;

    fn try_from(row: second_review::Model) -> Result<Self, Self::Error> {
        let outcome = |value: &str| -> Result<Outcome, EngineError> {
            value
                .parse()
                .map_err(|e| EngineError::corrupt("second review", row.id, e))
        };
        Ok(Self {
            id: row.id,
            appeal_id: row.appeal_id,
            decision_version: row.decision_version,
            first_reviewer: row.first_reviewer.clone(),
            first_outcome: outcome(&row.first_outcome)?,
            policy: row.policy.clone(),
            template: row.template.clone(),
            sampled_at: row.sampled_at,
            second_reviewer: row.second_reviewer.clone(),
            held_until: row.held_until,
            second_outcome: row.second_outcome.as_deref().map(outcome).transpose()?,
            agreed: row.agreed,
            reviewed_at: row.reviewed_at,
        })
    }
}

/// The case as a second reviewer sees it: what the appellant and the platform said, up to
/// the first decision. It has no field for the first outcome, its reasons, the case's state
/// or its events, so no view built from it can show them.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindCase {
    pub review_id: Uuid,
    pub appeal_id: Uuid,
    pub reference: AppealReference,
    pub channel: Channel,
    pub filed_at: DateTime<Utc>,
    /// The appellant's language, from the case's tag.
    pub language: Option<String>,
    pub policy: Option<String>,
    pub enforcement: Option<Enforcement>,
    /// The appellant's messages received before the first decision.
    pub messages: Vec<BlindMessage>,
    /// Until when the second reviewer holds it.
    pub held_until: DateTime<Utc>,
}

/// One of the appellant's messages, as the second reviewer reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindMessage {
    pub channel: String,
    pub subject: Option<String>,
    pub body: String,
    pub received_at: DateTime<Utc>,
}

/// Draws each recorded decision against its policy's share and keeps those sampled for a
/// second review, in the decision's own transaction: a decision is sampled exactly when it
/// is recorded, whichever replica records it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DrawSecondReviews;

#[async_trait]
impl DecisionObserver for DrawSecondReviews {
    async fn observe(
        &self,
        cx: &InTransaction<'_>,
        recorded: &RecordedCommand<'_>,
    ) -> Result<(), EngineError> {
        let settings = &cx.settings.second_review;
        let largest = settings.largest_share();
        if largest <= 0.0 {
            return Ok(());
        }
        let appeal = recorded.appeal;
        let first_version = appeal.version() - recorded.events.len() as i64 + 1;
        for (offset, event) in recorded.events.iter().enumerate() {
            let EventKind::Decided {
                outcome,
                decided_by,
                template,
                ..
            } = &event.kind
            else {
                continue;
            };
            let version = first_version + offset as i64;
            let draw = settings.draw(appeal.id, version);
            if draw >= largest {
                continue;
            }
            let policy = enforcement_policy(cx.txn, appeal.appeal.enforcement_id).await?;
            if draw >= settings.share_for(policy.as_deref()) {
                continue;
            }
            SecondReviews::insert(second_review::ActiveModel {
                id: Set(Uuid::now_v7()),
                appeal_id: Set(appeal.id),
                decision_version: Set(version),
                first_reviewer: Set(decided_by.clone()),
                first_outcome: Set(outcome.as_str().to_owned()),
                policy: Set(policy),
                template: Set(template.clone()),
                sampled_at: Set(event.at),
                second_reviewer: Set(None),
                held_until: Set(None),
                second_outcome: Set(None),
                agreed: Set(None),
                reviewed_at: Set(None),
            })
            .exec_without_returning(cx.txn)
            .await?;
        }
        Ok(())
    }
}

async fn enforcement_policy<C: ConnectionTrait>(
    conn: &C,
    enforcement_id: Option<Uuid>,
) -> Result<Option<String>, EngineError> {
    let Some(id) = enforcement_id else {
        return Ok(None);
    };
    Ok(enforcement::Entity::find_by_id(id)
        .select_only()
        .column(enforcement::Column::Policy)
        .into_tuple::<String>()
        .one(conn)
        .await?)
}

fn second_reviewer(actor: &Actor) -> Result<&str, QualityError> {
    match actor.subject() {
        Some(subject) if actor.has_any_role(REVIEWERS) => Ok(subject),
        _ => Err(QualityError::NotPermitted {
            actor: actor.subject().unwrap_or("this caller").to_owned(),
        }),
    }
}

/// The open second review `actor` holds, else the oldest open one of another reviewer's
/// decision that nobody holds (or whose hold ran out), now held by `actor` for `lease`. A
/// senior reviewer who approved a four-eyes decision of the appeal has seen its outcome, so
/// is never handed it.
/// `None` when there is none. On PostgreSQL the candidate row is locked with `SKIP LOCKED`,
/// so reviewers taking at once each get a different one; SQLite has one writer at a time.
pub(crate) async fn take_next(
    cx: &InTransaction<'_>,
    actor: &Actor,
    lease: TimeDelta,
) -> Result<Option<BlindCase>, QualityError> {
    let me = second_reviewer(actor)?;
    let held = SecondReviews::find()
        .filter(second_review::Column::ReviewedAt.is_null())
        .filter(second_review::Column::SecondReviewer.eq(me))
        .filter(second_review::Column::HeldUntil.gt(cx.now))
        .one(cx.txn)
        .await?;
    if let Some(held) = held {
        let held = SecondReview::try_from(held)?;
        return Ok(Some(blind_case(cx.txn, &held).await?));
    }
    let backend = cx.txn.get_database_backend();
    let (lock, me_param, now_param) = match backend {
        DbBackend::Postgres => (" FOR UPDATE SKIP LOCKED", "$1", "$2"),
        _ => ("", "?", "?"),
    };
    let sql = format!(
        "SELECT * FROM second_reviews WHERE reviewed_at IS NULL AND first_reviewer <> {me_param} \
         AND (held_until IS NULL OR held_until <= {now_param}) \
         AND NOT EXISTS (SELECT 1 FROM appeal_events e WHERE e.appeal_id = second_reviews.appeal_id \
         AND e.kind = 'decision_approved' AND e.actor_kind = 'staff' AND e.actor_id = {me_param}) \
         ORDER BY sampled_at, id LIMIT 1{lock}"
    );
    let candidate = SecondReviews::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            match backend {
                DbBackend::Postgres => vec![me.into(), cx.now.into()],
                _ => vec![me.into(), cx.now.into(), me.into()],
            },
        ))
        .one(cx.txn)
        .await?;
    let Some(candidate) = candidate else {
        return Ok(None);
    };
    let held_until = crate::clock::to_storage_precision(cx.now + lease);
    let taken = SecondReviews::update_many()
        .col_expr(second_review::Column::SecondReviewer, me.into())
        .col_expr(second_review::Column::HeldUntil, held_until.into())
        .filter(second_review::Column::Id.eq(candidate.id))
        .filter(second_review::Column::ReviewedAt.is_null())
        .filter(
            Condition::any()
                .add(second_review::Column::HeldUntil.is_null())
                .add(second_review::Column::HeldUntil.lte(cx.now)),
        )
        .exec(cx.txn)
        .await?;
    if taken.rows_affected == 0 {
        // Another reviewer took it between the read and the write; the caller retries.
        return Err(QualityError::LostRace);
    }
    audit::record(
        cx.txn,
        NewAuditEntry {
            actor: actor.clone(),
            action: SECOND_REVIEW_TAKEN,
            account_id: None,
            appeal_id: Some(candidate.appeal_id),
            details: serde_json::json!({ "second_review": candidate.id }),
        },
        cx.now,
    )
    .await?;
    let mut review = SecondReview::try_from(candidate)?;
    review.second_reviewer = Some(me.to_owned());
    review.held_until = Some(held_until);
    Ok(Some(blind_case(cx.txn, &review).await?))
}

/// The case of `review` without the first decision.
async fn blind_case<C: ConnectionTrait>(
    conn: &C,
    review: &SecondReview,
) -> Result<BlindCase, QualityError> {
    let stored = appeals::find(conn, review.appeal_id).await?;
    let enforcement = match stored.appeal.enforcement_id {
        Some(id) => registry::find_enforcement(conn, id)
            .await?
            .map(Enforcement::try_from)
            .transpose()?,
        None => None,
    };
    let messages = messages::for_appeal(conn, review.appeal_id)
        .await?
        .into_iter()
        .filter(|m| m.direction == Direction::Inbound && m.received_at <= review.sampled_at)
        .map(|m| BlindMessage {
            channel: m.channel,
            subject: m.subject,
            body: m.body,
            received_at: m.received_at,
        })
        .collect();
    Ok(BlindCase {
        review_id: review.id,
        appeal_id: review.appeal_id,
        reference: stored.reference,
        channel: stored.appeal.channel,
        filed_at: stored.appeal.filed_at,
        language: crate::policies::appellant_language(&stored.appeal.tags),
        policy: review.policy.clone(),
        enforcement,
        messages,
        held_until: review.held_until.unwrap_or(review.sampled_at),
    })
}

/// Records `actor`'s outcome of second review `id` and whether it agrees with the first.
/// Refused to the first reviewer, for a review already recorded, and while another
/// reviewer holds it.
pub(crate) async fn record(
    cx: &InTransaction<'_>,
    actor: &Actor,
    id: Uuid,
    outcome: Outcome,
) -> Result<SecondReview, QualityError> {
    let me = second_reviewer(actor)?;
    let row = SecondReviews::find_by_id(id)
        .one(cx.txn)
        .await?
        .ok_or(QualityError::NotFound(id))?;
    let mut review = SecondReview::try_from(row)?;
    if review.first_reviewer == me {
        return Err(QualityError::FirstReviewer {
            reviewer: me.to_owned(),
        });
    }
    if review.reviewed_at.is_some() {
        return Err(QualityError::AlreadyReviewed(id));
    }
    if let (Some(holder), Some(until)) = (&review.second_reviewer, review.held_until) {
        if holder != me && until > cx.now {
            return Err(QualityError::HeldByOther {
                holder: holder.clone(),
                until,
            });
        }
    }
    let agreed = outcome == review.first_outcome;
    let written = SecondReviews::update_many()
        .col_expr(second_review::Column::SecondReviewer, me.into())
        .col_expr(
            second_review::Column::SecondOutcome,
            outcome.as_str().into(),
        )
        .col_expr(second_review::Column::Agreed, agreed.into())
        .col_expr(second_review::Column::ReviewedAt, cx.now.into())
        .col_expr(
            second_review::Column::HeldUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(second_review::Column::Id.eq(id))
        .filter(second_review::Column::ReviewedAt.is_null())
        // The holder read above may be stale: the write itself refuses another's live hold.
        .filter(
            Condition::any()
                .add(second_review::Column::SecondReviewer.eq(me))
                .add(second_review::Column::HeldUntil.is_null())
                .add(second_review::Column::HeldUntil.lte(cx.now)),
        )
        .exec(cx.txn)
        .await?;
    if written.rows_affected == 0 {
        return Err(why_not_written(cx, id).await);
    }
    audit::record(
        cx.txn,
        NewAuditEntry {
            actor: actor.clone(),
            action: SECOND_REVIEW_RECORDED,
            account_id: None,
            appeal_id: Some(review.appeal_id),
            details: serde_json::json!({
                "second_review": id,
                "outcome": outcome.as_str(),
                "agreed": agreed,
            }),
        },
        cx.now,
    )
    .await?;
    review.second_reviewer = Some(me.to_owned());
    review.second_outcome = Some(outcome);
    review.agreed = Some(agreed);
    review.reviewed_at = Some(cx.now);
    review.held_until = None;
    Ok(review)
}

/// Why the conditional write of second review `id` changed no row: it was recorded, or
/// another reviewer took it, since it was read.
async fn why_not_written(cx: &InTransaction<'_>, id: Uuid) -> QualityError {
    let row = match SecondReviews::find_by_id(id).one(cx.txn).await {
        Ok(Some(row)) => row,
        Ok(None) => return QualityError::NotFound(id),
        Err(err) => return err.into(),
    };
    match (row.reviewed_at, row.second_reviewer, row.held_until) {
        (None, Some(holder), Some(until)) => QualityError::HeldByOther { holder, until },
        _ => QualityError::AlreadyReviewed(id),
    }
}

/// Every second review of `appeal_id`, oldest first.
pub(crate) async fn of_appeal<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
) -> Result<Vec<SecondReview>, EngineError> {
    SecondReviews::find()
        .filter(second_review::Column::AppealId.eq(appeal_id))
        .all(conn)
        .await?
        .into_iter()
        .map(SecondReview::try_from)
        .collect()
}

/// The appeals of the second reviews `reviewer` took and has not recorded, whether or not
/// their hold has run out: until another reviewer takes one, it is still theirs to record.
pub(crate) async fn appeals_held_by<C: ConnectionTrait>(
    conn: &C,
    reviewer: &str,
) -> Result<HashSet<Uuid>, EngineError> {
    Ok(SecondReviews::find()
        .select_only()
        .column(second_review::Column::AppealId)
        .filter(second_review::Column::ReviewedAt.is_null())
        .filter(second_review::Column::SecondReviewer.eq(reviewer))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Second reviews not recorded yet.
pub(crate) async fn open_count<C: ConnectionTrait>(conn: &C) -> Result<u64, EngineError> {
    use sea_orm::PaginatorTrait;
    Ok(SecondReviews::find()
        .filter(second_review::Column::ReviewedAt.is_null())
        .count(conn)
        .await?)
}
