use sea_orm::entity::prelude::*;

/// A dispute about an appeal decision taken to a certified out-of-court settlement body.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "out_of_court_disputes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Uuid,
    pub settlement_body: String,
    pub outcome: Option<String>,
    pub submitted_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
