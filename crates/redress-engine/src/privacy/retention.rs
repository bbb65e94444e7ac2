//! The retention purge: each kind of personal data of a closed appeal is removed once its
//! period, counted from the appeal's closure, has passed. A round claims a bounded batch
//! of due appeals per set of kinds with the same period (purged of them together), locked
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers), so any number of
//! replicas purge disjoint batches and an appeal is purged of a kind once: its bit in
//! `purged_kinds` is set in the same transaction.
//! Appeals under legal hold are not selected.
//!
//! The closure time is the appeal's `updated_at` while it is closed: the fold of its last
//! event. A note added after closure moves it later, which only keeps the data longer.
//!
//! Data of a kind written to the appeal after its purge (it was reopened, a later message,
//! a note, audit details) clears the kind's bit in the same transaction (triggers of the
//! schema, migration `m20261207_000200_purge_rearm`): the appeal is due of it again once it
//! is closed and the period has passed since its latest closure.
//!
//! A notice still pending in the outbox is on its way and stays, though the appeal is marked
//! purged of contacts: it is not claimed again round after round for a row it may not
//! delete yet. Once the row is delivered or dead-lettered, that change clears the contacts
//! bit (a trigger too, migration `m20261208_000210_purge_rearm_settled_outbox`), and the next
//! round takes the row, and the mail file its delivery wrote, with the contacts.
//!
//! The mail files of the appeals purged of message text or contacts go after the commit
//! (`outside_removals`), queued in the purge's transaction so that none is forgotten.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use redress_core::{Actor, AppealState};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::outside_removals::{self, OutsideRemoval};
use super::scrub::{scrub, OutboxRows};
use super::{actions, DataKind};
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::Begin;

/// The system component purges are recorded as.
pub const ACTOR: &str = "retention-purge";

/// How long each kind of personal data is kept after an appeal closes (`[retention]`).
/// The defaults and why they are what they are: docs/operations.md, "Retention".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Run the purge at all.
    pub enabled: bool,
    pub message_text_days: u32,
    pub contacts_days: u32,
    pub attachments_days: u32,
    pub status_tokens_days: u32,
    pub notes_days: u32,
    pub audit_details_days: u32,
    /// Appeals purged of one kind per transaction.
    pub batch_size: u64,
    /// Seconds between rounds of the worker.
    pub interval_seconds: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            message_text_days: 365,
            contacts_days: 365,
            attachments_days: 365,
            status_tokens_days: 30,
            notes_days: 365,
            audit_details_days: 730,
            batch_size: 500,
            interval_seconds: 300,
        }
    }
}

impl RetentionSettings {
    /// The period of `kind`.
    pub fn period(&self, kind: DataKind) -> TimeDelta {
        let days = match kind {
            DataKind::MessageText => self.message_text_days,
            DataKind::Contacts => self.contacts_days,
            DataKind::Attachments => self.attachments_days,
            DataKind::StatusTokens => self.status_tokens_days,
            DataKind::Notes => self.notes_days,
            DataKind::AuditDetails => self.audit_details_days,
        };
        TimeDelta::days(i64::from(days))
    }

    /// Names the first setting that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.batch_size == 0 || self.batch_size > 10_000 {
            return Err("retention.batch_size must be between 1 and 10000".to_owned());
        }
        if self.interval_seconds == 0 {
            return Err("retention.interval_seconds must be positive".to_owned());
        }
        for kind in DataKind::ALL {
            if self.period(kind) > TimeDelta::days(MAX_DAYS) {
                return Err(format!(
                    "retention.{kind}_days must be at most {MAX_DAYS} (a hundred years)"
                ));
            }
        }
        Ok(())
    }
}

/// Longest period accepted.
const MAX_DAYS: i64 = 36_500;

/// What one round purged: the appeals, per kind, and their copies outside the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeRound {
    pub purged: BTreeMap<DataKind, Vec<Uuid>>,
    pub rows: u64,
    pub outside: OutsideRemoval,
}

impl PurgeRound {
    fn record(&mut self, kinds: &[DataKind], ids: Vec<Uuid>, rows: u64) {
        if ids.is_empty() {
            return;
        }
        self.rows += rows;
        for kind in kinds {
            self.purged
                .entry(*kind)
                .or_default()
                .extend(ids.iter().copied());
        }
    }

    /// Appeals purged of some kind in the round (an appeal counts once per kind).
    pub fn claimed(&self) -> usize {
        self.purged.values().map(Vec::len).sum()
    }
}

const CLOSED: [AppealState; 3] = [
    AppealState::Upheld,
    AppealState::Restored,
    AppealState::Withdrawn,
];

/// Closed, not held, not yet purged of the kind with `bit`.
fn due_predicate(bit: i16) -> String {
    let closed: Vec<String> = CLOSED.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!(
        "state IN ({}) AND legal_hold = false AND (purged_kinds & {bit}) = 0",
        closed.join(", ")
    )
}

impl Engine {
    /// One round of the purge: for each set of kinds with the same period, one batch of
    /// appeals due of them, purged of them all in one transaction; then, for each set
    /// whose batch came back short (nothing more due of it for now), one batch per other
    /// kind of the set of any appeal still due of that kind alone (one whose periods were
    /// changed between rounds). Last, once those are committed, the copies outside the
    /// database of up to a batch of appeals purged of message text or contacts go (those
    /// of earlier rounds whose removal failed among them, when due).
    pub async fn purge_due(&self, settings: &RetentionSettings) -> Result<PurgeRound, EngineError> {
        let mut groups: Vec<Vec<DataKind>> = Vec::new();
        for kind in DataKind::ALL {
            match groups
                .iter_mut()
                .find(|group| settings.period(group[0]) == settings.period(kind))
            {
                Some(group) => group.push(kind),
                None => groups.push(vec![kind]),
            }
        }
        let mut round = PurgeRound::default();
        let mut exhausted = Vec::new();
        for group in &groups {
            let (ids, rows) = self.purge_batch(group, None, settings).await?;
            if (ids.len() as u64) < settings.batch_size {
                exhausted.push(group);
            }
            round.record(group, ids, rows);
        }
        // A straggler is due of its kind but already purged of its set's lead: the set's
        // batches never claim it, and it never claims what they still may. Its claim walks
        // the kind's partial index past every appeal still due of the whole set, so it
        // waits until the set has none left; a round per batch would otherwise walk them
        // all again each time.
        for group in exhausted {
            let lead = group[0];
            for kind in group.iter().skip(1) {
                let kinds = [*kind];
                let (ids, rows) = self.purge_batch(&kinds, Some(lead), settings).await?;
                round.record(&kinds, ids, rows);
            }
        }
        round.outside = self
            .remove_queued_outside_copies(settings.batch_size)
            .await?;
        Ok(round)
    }

    /// Claims a batch of appeals due of `kinds[0]` (all of `kinds` share its period), and
    /// already purged of `purged_of` when given, and purges them of every kind of `kinds`.
    async fn purge_batch(
        &self,
        kinds: &[DataKind],
        purged_of: Option<DataKind>,
        settings: &RetentionSettings,
    ) -> Result<(Vec<Uuid>, u64), EngineError> {
        let Some(lead) = kinds.first().copied() else {
            return Ok((Vec::new(), 0));
        };
        let now = self.clock().now();
        let cutoff = now - settings.period(lead);
        let copies_go = self.removes_outside_copies()
            && kinds
                .iter()
                .any(|kind| matches!(kind, DataKind::MessageText | DataKind::Contacts));
        let already = purged_of.map_or_else(
            || "true".to_owned(),
            |kind| format!("(purged_kinds & {}) <> 0", kind.bit()),
        );
        self.transact_once_with(Begin::WriteLockFirst, async |txn| {
            let ids: Vec<Uuid> = Appeals::find()
                .select_only()
                .column(appeal::Column::Id)
                // Written as the predicate of the kind's partial index
                // (`appeals_due_<kind>`), literals and all, so the planner uses it.
                .filter(Expr::cust(due_predicate(lead.bit())))
                .filter(Expr::cust(already.clone()))
                .filter(appeal::Column::UpdatedAt.lte(cutoff))
                .order_by_asc(appeal::Column::UpdatedAt)
                .limit(settings.batch_size)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_tuple()
                .all(txn)
                .await?;
            if ids.is_empty() {
                return Ok((ids, 0));
            }
            // Marks them purged of `kinds` too.
            let rows = scrub(txn, &ids, kinds, OutboxRows::Settled).await?;
            if copies_go {
                outside_removals::queue(txn, &ids, now).await?;
            }
            audit::record(
                txn,
                NewAuditEntry {
                    actor: Actor::system(ACTOR),
                    action: actions::RETENTION_PURGED,
                    account_id: None,
                    appeal_id: None,
                    details: json!({
                        "kinds": kinds.iter().map(|kind| kind.as_str()).collect::<Vec<_>>(),
                        "closed_before": cutoff,
                        "appeals": ids,
                        "rows": rows,
                    }),
                },
                now,
            )
            .await?;
            Ok((ids, rows))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_due_predicate_is_the_partial_indexes_own() {
        assert_eq!(
            due_predicate(8),
            "state IN ('upheld', 'restored', 'withdrawn') AND legal_hold = false AND (purged_kinds & 8) = 0"
        );
    }

    #[test]
    fn the_defaults_work_and_a_setting_that_cannot_is_named() {
        RetentionSettings::default().check().expect("defaults");
        let none = RetentionSettings {
            batch_size: 0,
            ..RetentionSettings::default()
        };
        assert!(none
            .check()
            .expect_err("batch")
            .contains("retention.batch_size"));
        let forever = RetentionSettings {
            notes_days: u32::MAX,
            ..RetentionSettings::default()
        };
        assert!(forever
            .check()
            .expect_err("period")
            .contains("retention.notes_days"));
        assert_eq!(
            RetentionSettings::default().period(DataKind::StatusTokens),
            TimeDelta::days(30)
        );
    }
}
