use sea_orm::entity::prelude::*;

/// One version of a routing rule: what it was after one change.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_rule_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub rule_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub name: String,
    pub position: i32,
    pub enabled: bool,
    pub definition: Json,
    /// What the change was: `created`, `seeded`, `updated`, `enabled`, `disabled`, `moved`.
    pub change: String,
    pub changed_at: DateTimeUtc,
    pub changed_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
