//! Transparency: overturn rates per enforcement source and the incidents they raise.

pub mod incidents;
pub mod sources;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
pub use incidents::{BulkRestoreSelector, DetectorSettings, Incident};
pub use sources::{EnforcementSource, SourceOutcomes};

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
        incidents::scan(self.db(), settings, self.clock().now()).await
    }

    pub async fn incidents(&self, include_resolved: bool) -> Result<Vec<Incident>, EngineError> {
        incidents::list(self.db(), include_resolved).await
    }

    pub async fn resolve_incident(&self, id: Uuid) -> Result<Incident, EngineError> {
        incidents::resolve(self.db(), id, self.clock().now()).await
    }
}
