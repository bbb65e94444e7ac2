use sea_orm::entity::prelude::*;

/// A signed-in browser of a staff member; the id is stored only as its SHA-256.
// Debug is written out below: the ID token is a credential.
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub subject: String,
    /// Role wire names, space-separated.
    pub roles: String,
    pub id_token: Option<String>,
    pub idle_seconds: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("id_hash", &self.id_hash)
            .field("subject", &self.subject)
            .field("roles", &self.roles)
            .field("id_token", &self.id_token.as_ref().map(|_| "***"))
            .field("idle_seconds", &self.idle_seconds)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("ends_at", &self.ends_at)
            .finish()
    }
}
