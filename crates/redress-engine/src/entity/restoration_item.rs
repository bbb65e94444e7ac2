use sea_orm::entity::prelude::*;

// Stored as they are sent: `restoration_items` keeps each report's items.
super::stored_enum!(
    /// What a reported item is.
    ItemKind {
        Account => "account",
        Content => "content",
        Enforcement => "enforcement",
    }
);

super::stored_enum!(
    /// What the backend did with an item.
    ItemOutcome {
        Undone => "undone",
        AlreadyActive => "already_active",
        CannotUndo => "cannot_undo",
    }
);

/// What a restoration did to one thing (the account, a content item), or why it could not.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "restoration_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub restoration_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub item_kind: ItemKind,
    pub item_id: String,
    pub enforcement_id: Option<Uuid>,
    pub outcome: ItemOutcome,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
