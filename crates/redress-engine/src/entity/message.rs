use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Whether a message reached Redress or was sent by it.
    Direction {
        Inbound => "inbound",
        Outbound => "outbound",
    }
);

/// Correspondence in and out. `(channel, channel_message_id)` is unique: the same email or
/// DM delivered twice is stored once.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Option<Uuid>,
    pub direction: Direction,
    pub channel: String,
    pub channel_message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub sender: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub classification: String,
    pub metadata: Json,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
