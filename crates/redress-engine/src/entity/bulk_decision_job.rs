use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Where a bulk decision job is.
    BulkDecisionStatus {
        /// Started and not finished: a runner takes its chunks, and a restart resumes it.
        Running => "running",
        /// Every appeal of the job was decided or skipped.
        Completed => "completed",
        /// Stopped by a senior reviewer; what it decided stays decided.
        Cancelled => "cancelled",
    }
);

/// A bulk decision: who started it, with which template, over which appeals, how far it got.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_decision_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The queue filter the appeals were selected by, as started.
    pub filter: Json,
    /// The decision template as it stood when the job started.
    pub template: Json,
    pub template_id: String,
    pub outcome: String,
    pub started_by: String,
    pub status: BulkDecisionStatus,
    pub total: i64,
    pub processed: i64,
    /// Decided for good (no four-eyes review).
    pub decided: i64,
    /// Decided and waiting for a second senior reviewer's approval.
    pub proposed: i64,
    pub skipped: i64,
    /// The last appeal processed, in id order.
    pub checkpoint: Option<Uuid>,
    pub chunk_size: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// The starter's roles (wire names, a JSON list) as of their latest request while the
    /// job runs; null on jobs started before roles were recorded.
    pub started_roles: Option<Json>,
    /// Why the job stopped, when it was not a person cancelling it.
    pub stop_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
