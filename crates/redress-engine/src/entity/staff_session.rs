use sea_orm::entity::prelude::*;

/// A signed-in browser of a staff member; the id is stored only as its SHA-256.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub subject: String,
    /// Role wire names, space-separated.
    pub roles: String,
    pub idle_seconds: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
