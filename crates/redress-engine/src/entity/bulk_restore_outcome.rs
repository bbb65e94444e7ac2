use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// What a bulk job did for one account.
    BulkOutcome {
        /// Restored here, by the embedded registry.
        Restored => "restored",
        /// Asked of the account service; becomes restored or failed when it answers.
        Requested => "requested",
        /// Nothing to undo and no open appeal: left as it was.
        AlreadyActive => "already_active",
        /// Not restored; the detail says why.
        Failed => "failed",
    }
);

/// What a bulk job did for one account: the audit trail, one row per account.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_restore_outcomes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: String,
    pub outcome: BulkOutcome,
    pub detail: Option<String>,
    pub restoration_id: Option<Uuid>,
    /// Ids of the open appeals the job moved to `restored`.
    pub appeals: Json,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
