use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// What a catalog entry is.
    CatalogKind {
        /// A policy (`redress_core::Policy`).
        Policy => "policy",
        /// A decision template (`redress_core::DecisionTemplate`).
        Template => "template",
    }
);

/// A policy or decision template as it stands now.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: CatalogKind,
    /// The policy's or template's own id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub version: i64,
    /// A retired entry is no longer offered; decisions made with it keep what it said.
    pub retired: bool,
    /// The policy or template, as `redress_core` serialises it.
    pub definition: Json,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
