//! What the engine needs to know from configuration.

use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_core::sla::{self, AllHours, SlaAction, SlaSchedule};
use redress_core::{Appeal, BusinessHours, Priority, SlaPolicy};
use serde::{Deserialize, Serialize};

use crate::link_keys::LinkTokenKeys;

/// An SLA policy for one queue, optionally only for one priority.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaRule {
    pub queue: String,
    pub priority: Option<Priority>,
    pub policy: SlaPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineSettings {
    /// Queue of new appeals before triage.
    pub default_queue: String,
    /// Queue escalated appeals move to.
    pub senior_queue: String,
    /// Policy used where no rule matches.
    pub default_sla: SlaPolicy,
    /// Most specific first: a rule with a priority beats one without.
    pub sla_rules: Vec<SlaRule>,
    /// Enforcement policies whose appeal decisions need a second approver.
    pub four_eyes_policies: Vec<String>,
    /// Enforcement kinds whose appeal decisions need a second approver.
    pub four_eyes_kinds: Vec<String>,
    /// How long a reviewer's claim lasts without a heartbeat.
    pub claim_lease: Duration,
    /// When set, SLA time counts only in these business hours.
    #[serde(skip)]
    pub business_hours: Option<BusinessHours<chrono_tz::Tz>>,
    /// Months after the notice of an enforcement in which it can be appealed (DSA Art.
    /// 20(1) asks for at least six); 0 accepts appeals at any time.
    #[serde(default = "default_appeal_window_months")]
    pub appeal_window_months: u32,
    /// Throttling of repeated manifestly unfounded appeals; off by default.
    #[serde(default)]
    pub appeal_throttle: redress_core::ThrottleRule,
    /// Slices a bulk restore job is cut into, each restored on its own connection; none
    /// leaves it to the bulk restorer's own default.
    #[serde(default)]
    pub bulk_restore_slices: Option<u32>,
    /// The keys status-page tokens are derived with.
    #[serde(skip)]
    pub status_tokens: LinkTokenKeys,
    /// The policy catalog and decision templates.
    #[serde(default)]
    pub policies: crate::policies::PolicyCatalog,
    /// The share of decisions, per policy, drawn for a blind second review.
    #[serde(default)]
    pub second_review: crate::review_sampling::SecondReviewSettings,
}

fn default_appeal_window_months() -> u32 {
    6
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            default_queue: "general".to_owned(),
            senior_queue: "senior".to_owned(),
            default_sla: SlaPolicy::default(),
            sla_rules: Vec::new(),
            four_eyes_policies: Vec::new(),
            four_eyes_kinds: Vec::new(),
            claim_lease: Duration::from_secs(15 * 60),
            business_hours: None,
            appeal_window_months: default_appeal_window_months(),
            appeal_throttle: redress_core::ThrottleRule::OFF,
            bulk_restore_slices: None,
            status_tokens: LinkTokenKeys::default(),
            policies: crate::policies::PolicyCatalog::default(),
            second_review: crate::review_sampling::SecondReviewSettings::default(),
        }
    }
}

impl EngineSettings {
    pub fn sla_policy(&self, queue: &str, priority: Priority) -> &SlaPolicy {
        self.sla_rules
            .iter()
            .filter(|rule| rule.queue == queue)
            .find(|rule| rule.priority == Some(priority))
            .or_else(|| {
                self.sla_rules
                    .iter()
                    .find(|rule| rule.queue == queue && rule.priority.is_none())
            })
            .map_or(&self.default_sla, |rule| &rule.policy)
    }

    /// The derived SLA columns of `appeal` under its queue's policy and the calendar.
    pub fn sla_schedule(&self, appeal: &Appeal) -> SlaSchedule {
        let policy = self.sla_policy(&appeal.queue, appeal.priority);
        let (state, clock, marks) = (appeal.state, &appeal.sla_clock, appeal.sla_marks);
        match &self.business_hours {
            Some(hours) => sla::schedule_in(hours, state, clock, marks, policy),
            None => sla::schedule_in(&AllHours, state, clock, marks, policy),
        }
    }

    /// The SLA warnings and breaches of `appeal` due at `now`.
    pub fn sla_due_actions(&self, appeal: &Appeal, now: DateTime<Utc>) -> Vec<SlaAction> {
        let policy = self.sla_policy(&appeal.queue, appeal.priority);
        let (state, clock, marks) = (appeal.state, &appeal.sla_clock, appeal.sla_marks);
        match &self.business_hours {
            Some(hours) => sla::due_actions_in(hours, state, clock, marks, policy, now),
            None => sla::due_actions_in(&AllHours, state, clock, marks, policy, now),
        }
    }

    pub fn needs_four_eyes(&self, policy: &str, kind: &str) -> bool {
        self.four_eyes_policies.iter().any(|p| p == policy)
            || self.four_eyes_kinds.iter().any(|k| k == kind)
    }

    /// When appeals against an enforcement noticed at `noticed_at` stop being accepted.
    pub fn appeal_window_closes(&self, noticed_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.appeal_window_months == 0 {
            return None;
        }
        noticed_at.checked_add_months(chrono::Months::new(self.appeal_window_months))
    }
}
