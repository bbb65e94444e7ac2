use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "enforcements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub external_id: Option<String>,
    pub account_id: String,
    pub kind: String,
    pub policy: String,
    pub source_kind: String,
    pub source_id: String,
    pub batch_id: Option<String>,
    pub automated_detection: String,
    pub automated_decision: String,
    pub content_id: Option<String>,
    pub content_relation: Option<String>,
    pub facts: String,
    pub statement: Json,
    pub enforced_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
