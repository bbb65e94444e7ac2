use sea_orm::entity::prelude::*;

super::stored_enum!(
    /// Where an enforcement's statement stands with the Transparency Database.
    TdbState {
        /// Not yet accepted; due at `next_attempt_at`.
        Pending => "pending",
        /// Accepted (201), or found already there under its PUID.
        Submitted => "submitted",
        /// Refused by Redress's checks or by the database; waits for an operator.
        Refused => "refused",
    }
);

/// One enforcement's statement on its way to the Transparency Database.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tdb_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub enforcement_id: Uuid,
    /// The enforcement's `created_at`: the newest one is where new enforcements are
    /// looked for.
    pub enforcement_created_at: DateTimeUtc,
    pub puid: String,
    pub state: TdbState,
    pub attempts: i32,
    /// Consecutive 5xx answers to the calls that carried this statement: how small its
    /// calls are (`transparency::tdb_submission::call_size`).
    pub server_failures: i32,
    /// Consecutive 5xx answers to it sent alone since it was isolated: when it is refused.
    pub lone_server_failures: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_id: Option<Uuid>,
    pub leased_until: Option<DateTimeUtc>,
    /// The statement as last mapped and checked (a `TdbStatement`).
    pub statement: Option<Json>,
    /// The statement an operator corrected, sent instead of the mapping.
    pub correction: Option<Json>,
    /// Per-field errors: `{"field": ["message", ...]}`.
    pub errors: Option<Json>,
    /// `redress` or `database`.
    pub refused_by: Option<String>,
    /// What the mapping changed or left out (a list of strings).
    pub notes: Option<Json>,
    /// The last temporary failure (HTTP status, network error).
    pub last_error: Option<String>,
    pub tdb_uuid: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
