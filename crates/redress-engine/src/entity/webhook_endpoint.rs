use sea_orm::entity::prelude::*;

/// A platform endpoint webhooks are posted to. `events` is a JSON list of event type names
/// (`redress_engine::outbox::PlatformEventKind`'s wire names); `secrets` a JSON list of the
/// signing secrets (`webhooks::StoredSecret`), newest last.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Json,
    pub include_account: bool,
    pub secrets: Json,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
