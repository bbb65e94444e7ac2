//! The appeal projection: mapping between the core snapshot and its row.

use chrono::TimeDelta;
use redress_core::{Appeal, AppealReference, AppealState, Decision, RuleRef, SlaClock, SlaMarks};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    Statement,
};
use uuid::Uuid;

use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::settings::EngineSettings;

/// An appeal as stored: the core snapshot plus what only storage and channels need.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAppeal {
    pub id: Uuid,
    pub reference: AppealReference,
    pub contact: Option<String>,
    pub appeal: Appeal,
}

impl StoredAppeal {
    pub fn version(&self) -> i64 {
        self.appeal.version as i64
    }
}

fn parse<T: std::str::FromStr>(id: Uuid, value: &str) -> Result<T, EngineError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| EngineError::corrupt("appeal", id, e))
}

pub fn from_model(model: appeal::Model) -> Result<StoredAppeal, EngineError> {
    let id = model.id;
    let decision: Option<Decision> = model
        .decision
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| EngineError::corrupt("appeal", id, e))?;
    let tags: Vec<String> =
        serde_json::from_value(model.tags).map_err(|e| EngineError::corrupt("appeal", id, e))?;
    let resume_state: Option<AppealState> = model
        .resume_state
        .as_deref()
        .map(|s| parse(id, s))
        .transpose()?;
    Ok(StoredAppeal {
        id,
        reference: parse(id, &model.reference)?,
        contact: model.contact,
        appeal: Appeal {
            state: parse(id, &model.state)?,
            version: u64::try_from(model.version)
                .map_err(|e| EngineError::corrupt("appeal", id, e))?,
            channel: parse(id, &model.channel)?,
            account_id: model.account_id,
            enforcement_id: model.enforcement_id,
            identity_verified: model.identity_verified,
            four_eyes: model.four_eyes,
            priority: parse(id, &model.priority)?,
            queue: model.queue,
            tags,
            triaged_by: model
                .triaged_by_rule
                .zip(model.triaged_by_rule_version)
                .map(|(id, version)| RuleRef { id, version }),
            assignee: model.assignee,
            lease_until: model.lease_until,
            escalation_level: u32::try_from(model.escalation_level)
                .map_err(|e| EngineError::corrupt("appeal", id, e))?,
            decision,
            resume_state,
            sla_clock: SlaClock {
                started_at: model.sla_started_at,
                paused_since: model.sla_paused_since,
                paused_total: TimeDelta::milliseconds(model.sla_paused_ms),
                pauses: serde_json::from_value(model.sla_pauses)
                    .map_err(|e| EngineError::corrupt("appeal", id, e))?,
            },
            sla_marks: SlaMarks::from_bits(model.sla_marks),
            filed_at: model.filed_at,
            updated_at: model.updated_at,
        },
    })
}

/// Every column of the row, derived SLA columns included.
pub fn to_active_model(stored: &StoredAppeal, settings: &EngineSettings) -> appeal::ActiveModel {
    let a = &stored.appeal;
    let schedule = settings.sla_schedule(a);
    appeal::ActiveModel {
        id: Set(stored.id),
        reference: Set(stored.reference.to_string()),
        account_id: Set(a.account_id.clone()),
        enforcement_id: Set(a.enforcement_id),
        channel: Set(a.channel.as_str().to_owned()),
        contact: Set(stored.contact.clone()),
        state: Set(a.state.as_str().to_owned()),
        priority: Set(a.priority.as_str().to_owned()),
        priority_rank: Set(a.priority.rank()),
        queue: Set(a.queue.clone()),
        tags: Set(serde_json::json!(a.tags)),
        triaged_by_rule: Set(a.triaged_by.map(|rule| rule.id)),
        triaged_by_rule_version: Set(a.triaged_by.map(|rule| rule.version)),
        identity_verified: Set(a.identity_verified),
        four_eyes: Set(a.four_eyes),
        assignee: Set(a.assignee.clone()),
        lease_until: Set(a.lease_until),
        escalation_level: Set(a.escalation_level as i32),
        decision: Set(a
            .decision
            .as_ref()
            .map(|d| serde_json::to_value(d).unwrap_or(serde_json::Value::Null))),
        resume_state: Set(a.resume_state.map(|s| s.as_str().to_owned())),
        sla_started_at: Set(a.sla_clock.started_at),
        sla_paused_since: Set(a.sla_clock.paused_since),
        sla_paused_ms: Set(a.sla_clock.paused_total.num_milliseconds()),
        sla_pauses: Set(serde_json::json!(a.sla_clock.pauses)),
        sla_marks: Set(a.sla_marks.to_bits()),
        triage_due_at: Set(schedule.triage_due_at),
        decision_due_at: Set(schedule.decision_due_at),
        next_sla_check_at: Set(schedule.next_check_at),
        version: Set(a.version as i64),
        filed_at: Set(a.filed_at),
        updated_at: Set(a.updated_at),
        // Set by administrators and the purge, never by the fold of the events.
        legal_hold: NotSet,
        purged_kinds: NotSet,
    }
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<StoredAppeal, EngineError> {
    let model = Appeals::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(EngineError::AppealNotFound(id))?;
    from_model(model)
}

pub async fn find_by_reference<C: ConnectionTrait>(
    conn: &C,
    reference: &AppealReference,
) -> Result<StoredAppeal, EngineError> {
    let model = Appeals::find()
        .filter(appeal::Column::Reference.eq(reference.as_str()))
        .one(conn)
        .await?
        .ok_or_else(|| EngineError::ReferenceNotFound(reference.to_string()))?;
    from_model(model)
}

/// The open appeal of an account about an enforcement, if any.
pub async fn find_open<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
    enforcement_id: Uuid,
) -> Result<Option<StoredAppeal>, EngineError> {
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    Appeals::find()
        .filter(appeal::Column::AccountId.eq(account_id))
        .filter(appeal::Column::EnforcementId.eq(enforcement_id))
        .filter(appeal::Column::State.is_in(open))
        .one(conn)
        .await?
        .map(from_model)
        .transpose()
}

pub fn insert_statement(
    backend: DbBackend,
    stored: &StoredAppeal,
    settings: &EngineSettings,
) -> Statement {
    Appeals::insert(to_active_model(stored, settings)).build(backend)
}

/// Rewrites the row only if it is still at `expected_version`; otherwise someone else wrote
/// first and the caller gets a conflict (and rolls back).
pub async fn update_if_version<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
    expected_version: i64,
    settings: &EngineSettings,
) -> Result<(), EngineError> {
    let result = Appeals::update_many()
        .set(to_active_model(stored, settings))
        .filter(appeal::Column::Id.eq(stored.id))
        .filter(appeal::Column::Version.eq(expected_version))
        .exec(conn)
        .await?;
    if result.rows_affected == 1 {
        return Ok(());
    }
    let actual = Appeals::find_by_id(stored.id)
        .select_only()
        .column(appeal::Column::Version)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .ok_or(EngineError::AppealNotFound(stored.id))?;
    Err(EngineError::Conflict {
        appeal: stored.id,
        expected: expected_version,
        actual,
    })
}

/// A decided appeal as a row of the batch document, borrowed from the appeal.
#[derive(serde::Serialize)]
struct DecidedRow<'a> {
    id: Uuid,
    expected: i64,
    state: &'a str,
    assignee: Option<&'a str>,
    lease_until: Option<chrono::DateTime<chrono::Utc>>,
    decision: Option<&'a Decision>,
    triage_due_at: Option<chrono::DateTime<chrono::Utc>>,
    decision_due_at: Option<chrono::DateTime<chrono::Utc>>,
    next_sla_check_at: Option<chrono::DateTime<chrono::Utc>>,
    version: i64,
    updated_at: chrono::DateTime<chrono::Utc>,
}

/// Rewrites the columns a decision changes (state, claim, decision, derived SLA columns,
/// version) of many appeals, each only if it is still at its expected version; a conflict
/// when any has moved on. PostgreSQL takes the rows as one JSON document in one statement;
/// SQLite, whose statements cost no round trip, one full-row update each.
pub async fn update_decided_if_version<C: ConnectionTrait>(
    conn: &C,
    rows: &[(&StoredAppeal, i64)],
    settings: &EngineSettings,
) -> Result<(), EngineError> {
    if rows.is_empty() {
        return Ok(());
    }
    if !crate::repo::json_rows::applies(conn) {
        for (stored, expected) in rows {
            update_if_version(conn, stored, *expected, settings).await?;
        }
        return Ok(());
    }
    let documents: Vec<DecidedRow<'_>> = rows
        .iter()
        .map(|(stored, expected)| {
            let a = &stored.appeal;
            let schedule = settings.sla_schedule(a);
            DecidedRow {
                id: stored.id,
                expected: *expected,
                state: a.state.as_str(),
                assignee: a.assignee.as_deref(),
                lease_until: a.lease_until,
                decision: a.decision.as_ref(),
                triage_due_at: schedule.triage_due_at,
                decision_due_at: schedule.decision_due_at,
                next_sla_check_at: schedule.next_check_at,
                version: a.version as i64,
                updated_at: a.updated_at,
            }
        })
        .collect();
    let sql = format!(
        "UPDATE appeals AS a SET state = r.state, assignee = r.assignee, \
         lease_until = r.lease_until, decision = r.decision, triage_due_at = r.triage_due_at, \
         decision_due_at = r.decision_due_at, next_sla_check_at = r.next_sla_check_at, \
         version = r.version, updated_at = r.updated_at FROM {} \
         WHERE a.id = r.id AND a.version = r.expected",
        crate::repo::json_rows::recordset(
            1,
            &[
                ("id", "uuid"),
                ("expected", "bigint"),
                ("state", "text"),
                ("assignee", "text"),
                ("lease_until", "timestamptz"),
                ("decision", "jsonb"),
                ("triage_due_at", "timestamptz"),
                ("decision_due_at", "timestamptz"),
                ("next_sla_check_at", "timestamptz"),
                ("version", "bigint"),
                ("updated_at", "timestamptz"),
            ],
        )
    );
    let updated = crate::repo::json_rows::execute(conn, &sql, &documents, []).await?;
    if updated == rows.len() as u64 {
        return Ok(());
    }
    // Someone wrote one of them first; name the first that moved on.
    for (stored, expected) in rows {
        let actual = Appeals::find_by_id(stored.id)
            .select_only()
            .column(appeal::Column::Version)
            .into_tuple::<i64>()
            .one(conn)
            .await?
            .ok_or(EngineError::AppealNotFound(stored.id))?;
        if actual != *expected {
            return Err(EngineError::Conflict {
                appeal: stored.id,
                expected: *expected,
                actual,
            });
        }
    }
    Err(EngineError::Conflict {
        appeal: rows[0].0.id,
        expected: rows[0].1,
        actual: rows[0].1,
    })
}
