use sea_orm::entity::prelude::*;

/// A routing rule as it stands now.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "routing_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Rules are tried in ascending position.
    pub position: i32,
    pub enabled: bool,
    pub version: i64,
    /// The conditions and the action, as `redress_routing::RuleDefinition` serialises them.
    pub definition: Json,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
