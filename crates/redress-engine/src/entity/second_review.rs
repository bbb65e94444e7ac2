use sea_orm::entity::prelude::*;

/// A decision drawn for a blind second review, and that review once recorded. Outcomes are
/// `redress_core::Outcome`'s wire names.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "second_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub appeal_id: Uuid,
    /// The version of the `decided` event in the appeal's history.
    pub decision_version: i64,
    pub first_reviewer: String,
    pub first_outcome: String,
    /// The enforcement's policy; none when the appeal names no known enforcement.
    pub policy: Option<String>,
    pub template: Option<String>,
    pub sampled_at: DateTimeUtc,
    /// Who took it; with `held_until`, the claim of an open review.
    pub second_reviewer: Option<String>,
    pub held_until: Option<DateTimeUtc>,
    pub second_outcome: Option<String>,
    pub agreed: Option<bool>,
    pub reviewed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
