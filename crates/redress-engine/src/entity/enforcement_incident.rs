use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Whether an incident still calls for action. At most one incident per source is open.
    IncidentStatus {
        Open => "open",
        /// Closed by an admin; a new wave from the source may raise a new incident.
        Resolved => "resolved",
    }
);

/// An enforcement source whose appeals are mostly won.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "enforcement_incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub source_key: String,
    pub source_kind: String,
    pub source_id: String,
    pub batch_id: Option<String>,
    pub status: IncidentStatus,
    pub appeals: i64,
    pub overturned: i64,
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub threshold: f64,
    pub window_from: DateTimeUtc,
    pub window_to: DateTimeUtc,
    pub selector: Json,
    pub dry_run_accounts: i64,
    pub raised_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
