use sea_orm::entity::prelude::*;

pub use super::catalog_entry::CatalogKind;

super::stored_enum!(
    /// What made a version of a catalog entry.
    CatalogChange {
        /// Imported from the configuration file at start (first time, or the file changed).
        Seeded => "seeded",
        /// Created through the API or the console.
        Created => "created",
        Updated => "updated",
        /// No longer offered.
        Retired => "retired",
    }
);

/// One version of a policy or decision template: what it was after one change.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_entry_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: CatalogKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i64,
    pub retired: bool,
    pub definition: Json,
    pub change: CatalogChange,
    pub changed_at: DateTimeUtc,
    pub changed_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
