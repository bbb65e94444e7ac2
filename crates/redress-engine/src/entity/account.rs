use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Whether an account of the embedded registry may use the platform.
    AccountStatus {
        Active => "active",
        /// Deactivated by an enforcement; a restoration reactivates it.
        Deactivated => "deactivated",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub email: Option<String>,
    pub status: AccountStatus,
    /// The account's locale as the platform last sent it (a BCP 47 tag).
    pub locale: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
