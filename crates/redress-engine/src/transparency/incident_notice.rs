//! The outbox payload of a raised incident.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sources::EnforcementSource;
use crate::outbox::Topic;
use crate::restoration::bulk::DryRun;
use crate::restoration::selector::Selector;

/// `enforcement_incident`: the admins hear that a source's enforcements are overturned
/// too often, with the bulk restore that would undo them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentNotice {
    pub incident_id: Uuid,
    pub source: EnforcementSource,
    pub decided: u64,
    pub overturned: u64,
    pub lower_bound: f64,
    pub threshold: f64,
    pub bulk_restore: IncidentBulkRestore,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentBulkRestore {
    pub selector: Selector,
    pub dry_run_accounts: u64,
    #[serde(default)]
    pub dry_run: Option<DryRun>,
}

impl Topic for IncidentNotice {
    const NAME: &'static str = "enforcement_incident";
}
