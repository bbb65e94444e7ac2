//! Transparency: overturn rates per enforcement source and the incidents they raise.

pub mod disputes;
pub mod estimate;
pub mod incident_notice;
pub mod incidents;
pub mod report;
pub mod sources;
pub mod status;
pub mod tdb;
pub mod tdb_submission;
pub mod throttle;
pub mod throttle_hooks;
pub mod wave;

use chrono::{DateTime, Utc};
use redress_core::Actor;
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::hooks::Hooks;
use crate::repo::appeals::StoredAppeal;
use crate::transact::Retry;
pub use estimate::{DecisionEstimate, QueuePace};
pub use incident_notice::{IncidentBulkRestore, IncidentNotice};
pub use incidents::{DetectorSettings, Incident, IncidentStatus};
pub use report::TransparencyReport;
pub use sources::{EnforcementSource, SourceOutcomes};
pub use status::{
    AppellantCase, EnforcementFacts, HistoryEntry, HistoryStep, InformationRefusal, StatusError,
    StatusView,
};
pub use throttle_hooks::AppealsThrottled;
pub use wave::Wave;

/// Registers transparency's rules in the write path: the appeals throttle refuses filings
/// of a warned account and warns after unfounded appeals, and every new case gets its
/// status-page token.
pub fn register(hooks: &mut Hooks) {
    hooks
        .register_filing_gate(throttle_hooks::ThrottleGate)
        .register_decision_observer(throttle_hooks::WarnAfterUnfoundedAppeals)
        .register_new_case_contributor(status::IssueStatusTokens);
    estimate::share_cache(hooks);
}

impl Engine {
    /// Sources ranked by overturn rate and volume, over appeals filed in `[from, to)`.
    pub async fn ranked_sources(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SourceOutcomes>, EngineError> {
        sources::ranked(self.db(), from, to).await
    }

    /// Runs the faulty-enforcement detector once, at the engine's clock.
    pub async fn detect_faulty_sources(
        &self,
        settings: &DetectorSettings,
    ) -> Result<Vec<Incident>, EngineError> {
        incidents::scan(self, settings, self.clock().now()).await
    }

    pub async fn incidents(&self, include_resolved: bool) -> Result<Vec<Incident>, EngineError> {
        incidents::list(self.db(), include_resolved).await
    }

    pub async fn resolve_incident(&self, id: Uuid) -> Result<Incident, EngineError> {
        incidents::resolve(self.db(), id, self.clock().now()).await
    }

    /// Records an out-of-court dispute about an appeal, audited as `actor`'s.
    pub async fn record_dispute(
        &self,
        actor: &Actor,
        dispute: disputes::NewDispute,
    ) -> Result<Uuid, EngineError> {
        self.transact_once(async |txn| {
            disputes::record(txn, dispute, actor, self.clock().now()).await
        })
        .await
    }

    /// The status page of the appeal `reference`, if `token` opens it.
    pub async fn appeal_status(
        &self,
        reference: &str,
        token: &str,
    ) -> Result<StatusView, StatusError> {
        let stored = status::open(self.db(), reference, token).await?;
        self.status_view(&stored).await
    }

    /// Files information the appellant added on the status page, and returns the page.
    pub async fn add_status_information(
        &self,
        reference: &str,
        token: &str,
        text: &str,
    ) -> Result<StatusView, StatusError> {
        let stored = self
            .transact(Retry::LostRacesAndConflicts, async |txn| {
                let mut stored = status::open(txn, reference, token).await?;
                status::add_information(
                    txn,
                    self.settings(),
                    &mut stored,
                    text,
                    self.clock().now(),
                )
                .await?;
                Ok::<_, StatusError>(stored)
            })
            .await?;
        self.status_view(&stored).await
    }

    async fn status_view(&self, stored: &StoredAppeal) -> Result<StatusView, StatusError> {
        let mut view = status::view(self.db(), self.settings(), stored).await?;
        // A case in a wave is put right by its bulk job, not by its turn in the queue.
        if view.wave.is_none() {
            view.estimate = self.decision_estimate(stored).await?;
        }
        Ok(view)
    }

    /// What a notice may tell the appellant of `appeal_id`: the enforcement, the decision
    /// deadline and the status page's token.
    pub async fn appellant_case(
        &self,
        appeal_id: Uuid,
    ) -> Result<status::AppellantCase, EngineError> {
        status::appellant_case(self.db(), self.settings(), appeal_id).await
    }

    /// The transparency report of `[from, to)`.
    pub async fn transparency_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TransparencyReport, EngineError> {
        report::build(self.db(), self.settings(), from, to).await
    }

    /// The statements of the enforcements of `[from, to)` in the Transparency Database's
    /// schema.
    pub async fn export_statements(
        &self,
        settings: &tdb::TdbSettings,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<tdb::TdbExport, EngineError> {
        let mapping = self.tdb_mapping(settings).await?;
        tdb::export(self.db(), &mapping, from, to).await
    }

    /// The mapping's settings with the policy catalog in force: a policy the catalog holds
    /// is reported under the category its entry names, which is the one the console shows
    /// and an administrator edits; `categories` of the configuration serves the policies
    /// the catalog lacks.
    pub(crate) async fn tdb_mapping(
        &self,
        configured: &tdb::TdbSettings,
    ) -> Result<tdb::TdbSettings, EngineError> {
        let catalog = self.current_policy_catalog().await?;
        let mut mapping = configured.clone();
        for policy in catalog.policies() {
            mapping
                .categories
                .insert(policy.id.clone(), policy.category.clone());
        }
        Ok(mapping)
    }
}
