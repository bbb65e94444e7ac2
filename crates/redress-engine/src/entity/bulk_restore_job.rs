use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Where a bulk job is.
    BulkJobStatus {
        /// Started and not finished: runners take its chunks, and a restart resumes it.
        Running => "running",
        /// Every account of the job was processed.
        Completed => "completed",
        /// Stopped by an operator; what it restored stays restored.
        Cancelled => "cancelled",
    }
);

/// A bulk restoration: who started it, over which accounts, why, and how far it got.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_restore_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub selector: Json,
    pub selector_key: String,
    /// Set while the job is unfinished; unique, so one job per selector runs at a time.
    pub active_selector_key: Option<String>,
    pub reason: String,
    pub started_by: String,
    pub status: BulkJobStatus,
    pub total: i64,
    pub processed: i64,
    pub restored: i64,
    pub requested: i64,
    pub already_active: i64,
    pub failed: i64,
    pub chunk_size: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
