use sea_orm::entity::prelude::*;

/// An appeal purged of its message text or contacts whose copies outside the database
/// (mail files) are still to be removed; the row goes once they are.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outside_copy_removals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub appeal_id: Uuid,
    pub queued_at: DateTimeUtc,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
