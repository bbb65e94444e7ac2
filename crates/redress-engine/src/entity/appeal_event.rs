use sea_orm::entity::prelude::*;

/// One event of an appeal's append-only history. `(appeal_id, version)` is the primary key,
/// so two writers can never record the same version.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "appeal_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub appeal_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub kind: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub payload: Json,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
