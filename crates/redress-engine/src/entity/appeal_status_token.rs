use sea_orm::entity::prelude::*;

/// The hash of the secret that opens an appeal's status page; the secret itself is only
/// ever in the acknowledgement sent to the appellant.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "appeal_status_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub appeal_id: Uuid,
    pub token_hash: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
