use sea_orm::entity::prelude::*;

/// One audited action that is not an event of an appeal's history.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    /// The actor as `redress_core::Actor` serialises it.
    pub actor: String,
    pub action: String,
    pub account_id: Option<String>,
    pub appeal_id: Option<Uuid>,
    pub details: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
