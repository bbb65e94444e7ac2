use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Where an outbox row is in its delivery.
    OutboxStatus {
        /// Waiting for a dispatcher, or held by one under a lease.
        Pending => "pending",
        /// Delivered; kept for the record and for idempotency of later enqueues.
        Delivered => "delivered",
        /// Given up after the attempt limit or a permanent failure; an admin can retry it.
        Dead => "dead",
    }
);

/// A side effect waiting for delivery, written in the same transaction as its cause.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic: String,
    pub appeal_id: Option<Uuid>,
    pub idempotency_key: String,
    pub payload: Json,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub available_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
