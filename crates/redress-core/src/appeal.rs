//! The appeal snapshot and the fold of events into it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{Event, EventKind, RuleRef};
use crate::sla::{self, SlaClock, SlaMarks, SlaPolicy, SlaSchedule};
use crate::state::{AppealState, Channel, Outcome, Priority};
use crate::statement::StatementOfReasons;

/// A reviewer's decision waiting for approval or restoration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: String,
    pub decided_by: String,
    pub approved_by: Option<String>,
    #[serde(default)]
    pub statement: Option<StatementOfReasons>,
    /// An upheld appeal the reviewer found manifestly unfounded.
    #[serde(default)]
    pub manifestly_unfounded: bool,
}

/// The current state of an appeal: exactly the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub state: AppealState,
    /// Number of events applied; the optimistic-concurrency token.
    pub version: u64,
    pub channel: Channel,
    pub account_id: Option<String>,
    pub enforcement_id: Option<Uuid>,
    pub identity_verified: bool,
    pub four_eyes: bool,
    pub priority: Priority,
    pub queue: String,
    pub tags: Vec<String>,
    /// The routing rule that triaged the case, if a rule did.
    #[serde(default)]
    pub triaged_by: Option<RuleRef>,
    pub assignee: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub escalation_level: u32,
    pub decision: Option<Decision>,
    /// The state to return to when the appellant answers an information request.
    pub resume_state: Option<AppealState>,
    pub sla_clock: SlaClock,
    pub sla_marks: SlaMarks,
    pub filed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Appeal {
    /// Starts a snapshot from its first event, which must be `Filed`.
    pub fn from_filed(event: &Event) -> Option<Self> {
        let EventKind::Filed(file) = &event.kind else {
            return None;
        };
        Some(Self {
            state: AppealState::Filed,
            version: 1,
            channel: file.channel,
            account_id: file.account_id.clone(),
            enforcement_id: file.enforcement_id,
            identity_verified: file.identity_verified,
            four_eyes: file.four_eyes,
            priority: file.priority,
            queue: file.queue.clone(),
            tags: file
                .language
                .iter()
                .map(|language| crate::language::language_tag(language))
                .collect(),
            triaged_by: None,
            assignee: None,
            lease_until: None,
            escalation_level: 0,
            decision: None,
            resume_state: None,
            sla_clock: SlaClock::start(event.at),
            sla_marks: SlaMarks::default(),
            filed_at: event.at,
            updated_at: event.at,
        })
    }

    /// Rebuilds a snapshot from a whole history.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Self> {
        let mut iter = events.into_iter();
        let mut appeal = Self::from_filed(iter.next()?)?;
        for event in iter {
            appeal.apply(event);
        }
        Some(appeal)
    }

    /// Whether someone holds a claim that has not expired at `now`.
    pub fn live_claim(&self, now: DateTime<Utc>) -> Option<(&str, DateTime<Utc>)> {
        match (&self.assignee, self.lease_until) {
            (Some(who), Some(until)) if until > now => Some((who.as_str(), until)),
            _ => None,
        }
    }

    pub fn sla_schedule(&self, policy: &SlaPolicy) -> SlaSchedule {
        sla::schedule(self.state, &self.sla_clock, self.sla_marks, policy)
    }

    fn clear_claim(&mut self) {
        self.assignee = None;
        self.lease_until = None;
    }

    /// Folds one event in. Events come from [`crate::transition::decide`], which has checked
    /// every guard, so this only records their effect.
    pub fn apply(&mut self, event: &Event) {
        self.version += 1;
        self.updated_at = event.at;
        match &event.kind {
            EventKind::Triaged {
                priority,
                queue,
                tags,
                identity_verified,
                four_eyes,
                rule,
                linked,
            } => {
                self.state = AppealState::Triaged;
                if let Some(link) = linked {
                    self.account_id = Some(link.account_id.clone());
                    if link.enforcement_id.is_some() {
                        self.enforcement_id = link.enforcement_id;
                    }
                }
                self.triaged_by = *rule;
                self.priority = *priority;
                self.queue.clone_from(queue);
                self.tags.clone_from(tags);
                self.identity_verified = *identity_verified;
                self.four_eyes = *four_eyes;
            }
            EventKind::InfoRequested { .. } => {
                self.resume_state = Some(self.state);
                self.state = AppealState::AwaitingUser;
                self.clear_claim();
                self.sla_clock.pause(event.at);
            }
            EventKind::UserReplied => {
                self.state = self.resume_state.take().unwrap_or(AppealState::Filed);
                self.sla_clock.resume(event.at);
            }
            EventKind::Claimed {
                assignee,
                lease_until,
            } => {
                self.assignee = Some(assignee.clone());
                self.lease_until = Some(*lease_until);
            }
            EventKind::ClaimRenewed { lease_until } => self.lease_until = Some(*lease_until),
            EventKind::Released | EventKind::LeaseExpired => self.clear_claim(),
            EventKind::Decided {
                outcome,
                reasons,
                decided_by,
                statement,
                manifestly_unfounded,
                ..
            } => {
                self.state = AppealState::Reviewed;
                self.clear_claim();
                self.decision = Some(Decision {
                    outcome: *outcome,
                    reasons: reasons.clone(),
                    decided_by: decided_by.clone(),
                    approved_by: None,
                    statement: statement.clone(),
                    manifestly_unfounded: *manifestly_unfounded,
                });
            }
            EventKind::DecisionApproved { approved_by, .. } => {
                if let Some(decision) = &mut self.decision {
                    decision.approved_by = Some(approved_by.clone());
                }
            }
            EventKind::DecisionRejected { .. } => {
                self.state = AppealState::Triaged;
                self.decision = None;
            }
            EventKind::Upheld => self.state = AppealState::Upheld,
            EventKind::Restored { .. } => {
                self.state = AppealState::Restored;
                self.clear_claim();
            }
            EventKind::BulkRestored { linked, .. } => {
                if let Some(link) = linked {
                    self.account_id = Some(link.account_id.clone());
                    if link.enforcement_id.is_some() {
                        self.enforcement_id = link.enforcement_id;
                    }
                }
                self.state = AppealState::Restored;
                self.clear_claim();
            }
            EventKind::Reopened { .. } => {
                self.state = AppealState::Triaged;
                self.decision = None;
                self.sla_clock = SlaClock::start(event.at);
                self.sla_marks = SlaMarks::default();
            }
            EventKind::Withdrawn { .. } => {
                self.state = AppealState::Withdrawn;
                self.clear_claim();
                self.resume_state = None;
            }
            EventKind::SlaWarned { deadline } => self.sla_marks.mark_warned(*deadline),
            EventKind::Escalated {
                level,
                queue,
                breached,
                ..
            } => {
                self.escalation_level = *level;
                self.queue.clone_from(queue);
                if let Some(deadline) = breached {
                    self.sla_marks.mark_breached(*deadline);
                }
            }
            EventKind::IdentityLinked {
                account_id,
                enforcement_id,
                four_eyes,
            } => {
                self.account_id = Some(account_id.clone());
                if enforcement_id.is_some() {
                    self.enforcement_id = *enforcement_id;
                }
                self.identity_verified = true;
                self.four_eyes = self.four_eyes || *four_eyes;
            }
            EventKind::Filed(_)
            | EventKind::NoteAdded { .. }
            | EventKind::MessageReceived { .. } => {}
        }
    }
}
