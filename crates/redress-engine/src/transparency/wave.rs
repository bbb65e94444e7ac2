//! Whether a case is one of a wave: its enforcement's source has an open incident, or a bulk
//! restore covers its account. The acknowledgement then tells the person that the error is
//! known and their account is (being) restored, so they do not wait on a review.

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;

use crate::entity::bulk_restore_job::{self, BulkJobStatus, Entity as Jobs};
use crate::entity::bulk_restore_target::{self, Entity as Targets};
use crate::entity::enforcement;
use crate::entity::enforcement_incident::{self, Entity as Incidents, IncidentStatus};
use crate::error::EngineError;

/// Why a case belongs to a wave of faulty enforcements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wave {
    /// The enforcement's rule or model has an open incident: the error is known, the
    /// restoration not started yet.
    IncidentOpen,
    /// A bulk restore covering the account is running, or has already restored this case.
    RestoreRunning,
}

impl Wave {
    pub fn as_str(self) -> &'static str {
        match self {
            Wave::IncidentOpen => "incident_open",
            Wave::RestoreRunning => "restore_running",
        }
    }
}

/// The wave `enforcement` belongs to, if any. `closed_by_bulk_restore` is true when the
/// case itself was closed by a bulk job (it then counts as restoring whatever the job's
/// state now).
pub async fn wave_of<C: ConnectionTrait>(
    conn: &C,
    enforcement: &enforcement::Model,
    closed_by_bulk_restore: bool,
) -> Result<Option<Wave>, EngineError> {
    if closed_by_bulk_restore || restore_running_for(conn, &enforcement.account_id).await? {
        return Ok(Some(Wave::RestoreRunning));
    }
    if incident_open_for(conn, enforcement).await? {
        return Ok(Some(Wave::IncidentOpen));
    }
    Ok(None)
}

async fn restore_running_for<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<bool, EngineError> {
    let running: Vec<uuid::Uuid> = Jobs::find()
        .filter(bulk_restore_job::Column::Status.eq(BulkJobStatus::Running))
        .all(conn)
        .await?
        .into_iter()
        .map(|job| job.id)
        .collect();
    if running.is_empty() {
        return Ok(false);
    }
    let covered = Targets::find()
        .filter(bulk_restore_target::Column::AccountId.eq(account_id))
        .filter(bulk_restore_target::Column::JobId.is_in(running))
        .count(conn)
        .await?;
    Ok(covered > 0)
}

/// An open incident of the enforcement's rule or model: of its batch, or of the source as a
/// whole.
async fn incident_open_for<C: ConnectionTrait>(
    conn: &C,
    enforcement: &enforcement::Model,
) -> Result<bool, EngineError> {
    let batch = match &enforcement.batch_id {
        Some(batch) => Condition::any()
            .add(enforcement_incident::Column::BatchId.is_null())
            .add(enforcement_incident::Column::BatchId.eq(batch.as_str())),
        None => Condition::all().add(enforcement_incident::Column::BatchId.is_null()),
    };
    let open = Incidents::find()
        .filter(enforcement_incident::Column::Status.eq(IncidentStatus::Open))
        .filter(enforcement_incident::Column::SourceKind.eq(enforcement.source_kind.as_str()))
        .filter(enforcement_incident::Column::SourceId.eq(enforcement.source_id.as_str()))
        .filter(batch)
        .count(conn)
        .await?;
    Ok(open > 0)
}
