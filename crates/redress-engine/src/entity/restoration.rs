use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Whether a restoration has been carried out.
    RestorationStatus {
        /// Recorded, not yet confirmed by the backend; its request is in the outbox.
        Pending => "pending",
        /// The backend confirmed it; the appeal or bulk outcome records it.
        Confirmed => "confirmed",
        /// The backend refused it; the request is dead-lettered where an admin sees it.
        Failed => "failed",
    }
);

/// One account's restoration: for an appeal, or for an account within a bulk job.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "restorations")]
pub struct Model {
    /// Also the idempotency key sent to the account service.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub account_id: String,
    /// The enforcements to undo, fixed when the restoration is created.
    pub enforcement_ids: Json,
    pub backend: String,
    pub status: RestorationStatus,
    pub reason: String,
    pub requested_by: String,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
