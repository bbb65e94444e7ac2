use sea_orm::entity::prelude::*;

/// The appeal projection: one row per case, rewritten with every event.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub reference: String,
    pub account_id: Option<String>,
    pub enforcement_id: Option<Uuid>,
    pub channel: String,
    /// Where answers go: an email address or a social handle id, per channel.
    pub contact: Option<String>,
    pub state: String,
    pub priority: String,
    pub priority_rank: i16,
    pub queue: String,
    pub tags: Json,
    /// The routing rule that triaged the case, and its version, if a rule did.
    pub triaged_by_rule: Option<Uuid>,
    pub triaged_by_rule_version: Option<i64>,
    pub identity_verified: bool,
    pub four_eyes: bool,
    pub assignee: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub escalation_level: i32,
    pub decision: Option<Json>,
    pub resume_state: Option<String>,
    pub sla_started_at: DateTimeUtc,
    pub sla_paused_since: Option<DateTimeUtc>,
    pub sla_paused_ms: i64,
    /// The finished pauses, `[{"from": .., "until": ..}]`.
    pub sla_pauses: Json,
    pub sla_marks: i16,
    pub triage_due_at: Option<DateTimeUtc>,
    pub decision_due_at: Option<DateTimeUtc>,
    pub next_sla_check_at: Option<DateTimeUtc>,
    pub version: i64,
    pub filed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Kept out of the retention purge and erasure while set (`privacy`).
    pub legal_hold: bool,
    /// Kinds of personal data the retention purge removed, one bit each
    /// (`privacy::DataKind::bit`).
    pub purged_kinds: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
