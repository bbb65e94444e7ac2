//! Side effects that events call for. The engine writes each one as an outbox row in the
//! same transaction as the events, so an effect exists if and only if its event does.

use serde::{Deserialize, Serialize};

use crate::appeal::Appeal;
use crate::event::{Event, EventKind};
use crate::state::{wire_enum, Outcome};

wire_enum!(
    /// What the appellant is told.
    Notice, "notice" {
        Acknowledgement => "acknowledgement",
        InformationRequest => "information_request",
        DecisionUpheld => "decision_upheld",
        DecisionRestored => "decision_restored",
        Reopened => "reopened",
        ClosedNoResponse => "closed_no_response",
        AccountRestored => "account_restored",
        ThrottleWarning => "throttle_warning",
        AppealRefused => "appeal_refused",
    }
);

wire_enum!(
    /// What the staff of a queue are told.
    StaffAlert, "staff alert" {
        SlaWarning => "sla_warning",
        Escalation => "escalation",
    }
);

/// One side effect, delivered at least once by the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    NotifyAppellant { notice: Notice },
    AlertQueue { alert: StaffAlert, queue: String },
    RequestRestoration,
}

impl Effect {
    /// Stable name used as the outbox row's topic.
    pub fn topic(&self) -> &'static str {
        match self {
            Effect::NotifyAppellant { .. } => "notify_appellant",
            Effect::AlertQueue { .. } => "alert_queue",
            Effect::RequestRestoration => "request_restoration",
        }
    }
}

/// The effects of `event`, given the appeal as it is after the event was applied.
pub fn effects_of(after: &Appeal, event: &Event) -> Vec<Effect> {
    let notify = |notice| Effect::NotifyAppellant { notice };
    let restore_ready = |approved: bool| {
        after
            .decision
            .as_ref()
            .is_some_and(|d| d.outcome == Outcome::Restore && (approved || !after.four_eyes))
    };
    match &event.kind {
        EventKind::Filed(_) => vec![notify(Notice::Acknowledgement)],
        EventKind::InfoRequested { .. } => vec![notify(Notice::InformationRequest)],
        EventKind::Upheld => vec![notify(Notice::DecisionUpheld)],
        EventKind::Decided { .. } if restore_ready(false) => vec![Effect::RequestRestoration],
        EventKind::DecisionApproved { .. } if restore_ready(true) => {
            vec![Effect::RequestRestoration]
        }
        EventKind::Restored { .. } | EventKind::BulkRestored { .. } => {
            vec![notify(Notice::DecisionRestored)]
        }
        EventKind::Reopened { .. } => vec![notify(Notice::Reopened)],
        EventKind::Withdrawn { reason } if reason == "no_response" => {
            vec![notify(Notice::ClosedNoResponse)]
        }
        EventKind::SlaWarned { .. } => vec![Effect::AlertQueue {
            alert: StaffAlert::SlaWarning,
            queue: after.queue.clone(),
        }],
        EventKind::Escalated { queue, .. } => vec![Effect::AlertQueue {
            alert: StaffAlert::Escalation,
            queue: queue.clone(),
        }],
        _ => Vec::new(),
    }
}
