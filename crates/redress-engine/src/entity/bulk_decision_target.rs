use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// What a bulk decision did to one of its appeals.
    BulkDecisionOutcome {
        /// Decided for good.
        Decided => "decided",
        /// Decided, waiting for a second senior reviewer (four-eyes).
        Proposed => "proposed",
        /// Left as it was; the detail says why.
        Skipped => "skipped",
    }
);

/// One appeal of a bulk decision job; no outcome until the job has processed it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_decision_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub job_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub appeal_id: Uuid,
    pub outcome: Option<BulkDecisionOutcome>,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
