use sea_orm::entity::prelude::*;

/// A sign-in at the identity provider, from its start until the provider redirects back.
// Debug is written out below: the verifier and nonce are secrets of a sign-in.
#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("state_hash", &self.state_hash)
            .field("pkce_verifier", &"***")
            .field("nonce", &"***")
            .field("return_to", &self.return_to)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
