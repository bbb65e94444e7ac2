use sea_orm::entity::prelude::*;

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
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
