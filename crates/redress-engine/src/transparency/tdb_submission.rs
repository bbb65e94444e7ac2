//! Submission of enforcement statements to the EU DSA Transparency Database, and the record
//! of each (`tdb_submissions`): one row per enforcement, made when a round first sees the
//! enforcement, taken by a worker under a lease, sent in batches of at most 100, and left
//! `submitted` (with the database's uuid), `refused` (with its per-field errors, Redress's
//! or the database's) or `pending` with a later attempt after a temporary failure.
//!
//! Nothing is submitted twice: a PUID is sent again only when the earlier answer never
//! reached the record (a crash, a lost connection), and the database then answers
//! `existing_puids`, which is recorded as submitted. A refused statement leaves the batch
//! and the rest is sent again at once, so one bad statement never holds up the others.
//! Nor does one the database answers 5xx to every time: its calls are halved until it goes
//! alone, and it is refused once it fails alone while the database demonstrably works (it
//! takes others, or its look-up answers that it does not have the statement;
//! [`after_server_failure`]); an outage that fails everything refuses nothing.
//! The HTTP side is a port ([`TdbApi`]); the binary fills it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Actor;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use serde::Serialize;
use uuid::Uuid;

use super::tdb::{self, FieldErrors, Mapped, TdbSettings, TdbStatement, BATCH_LIMIT};
use crate::engine::Engine;
use crate::entity::enforcement;
pub use crate::entity::tdb_submission::TdbState;
use crate::entity::tdb_submission::{self, Entity as Submissions};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::{self, Begin};
use crate::worker::Backoff;

/// Who refused a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedBy {
    /// Redress's own checks, before sending (the same rules as the database's).
    Redress,
    /// The database's answer.
    Database,
}

impl RefusedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusedBy::Redress => "redress",
            RefusedBy::Database => "database",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "redress" => Some(RefusedBy::Redress),
            "database" => Some(RefusedBy::Database),
            _ => None,
        }
    }
}

/// A statement the database created, as its answer names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub puid: String,
    pub uuid: Option<String>,
}

/// What the database answered to one batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchAnswer {
    /// 201: every statement was created.
    Created(Vec<Created>),
    /// 422 with `statement_N` keys: these statements (by position) are invalid; none of
    /// the batch was created.
    Invalid(BTreeMap<usize, FieldErrors>),
    /// 422 with `existing_puids`: the database has these PUIDs of the platform already;
    /// none of the batch was created.
    ExistingPuids(Vec<String>),
    /// A server error (5xx): none of the batch was created, as far as the answer says.
    /// Temporary when the database fails everything; a statement that draws it every
    /// time, alone, while the database works otherwise is refused (see [`SPLIT_AFTER`]).
    ServerFailure {
        status: u16,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Another refusal of the whole batch that naming no statement (a 4xx other than the
    /// above): permanent for these statements until an operator looks.
    Refused { status: u16, reason: String },
    /// Not now: 429, a timeout, a network fault, or a token the database does not
    /// take (401/403, a configuration fault). The batch is tried again later.
    Unavailable {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// The Transparency Database's API as the submission needs it.
#[async_trait::async_trait]
pub trait TdbApi: Send + Sync {
    /// Posts one batch (1 to 100 statements) to the batch endpoint.
    async fn submit(&self, statements: &[TdbStatement]) -> BatchAnswer;
    /// The uuid of the platform's statement with this PUID, if the database has one.
    async fn existing_uuid(&self, puid: &str) -> Result<Option<String>, String>;
}

/// How a round runs.
#[derive(Debug, Clone)]
pub struct SubmitSettings {
    pub tdb: TdbSettings,
    /// Statements per call, 1 to 100.
    pub batch_size: usize,
    /// How long a round holds the rows it took; longer than a request may take, so only
    /// the rows of a round that died become due again.
    pub lease: Duration,
    /// How long one call to the database may take (a batch or a PUID look-up).
    pub request_timeout: Duration,
    /// Delays after temporary failures.
    pub backoff: Backoff,
    /// Enforcements before this instant are never submitted (reported by other means).
    pub submit_from: Option<DateTime<Utc>>,
    /// Look for enforcements without a row in the whole table, not only since the newest
    /// one with a row (see [`ENQUEUE_MARGIN`]): a worker's first round, and `redress tdb
    /// submit`'s, do.
    pub full_scan: bool,
}

impl Default for SubmitSettings {
    fn default() -> Self {
        Self {
            tdb: TdbSettings::default(),
            batch_size: BATCH_LIMIT,
            lease: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
            backoff: Backoff {
                base: Duration::from_secs(30),
                max: Duration::from_secs(3600),
                max_attempts: u32::MAX,
            },
            submit_from: None,
            full_scan: true,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubmitReport {
    /// New enforcements given a submission row.
    pub enqueued: u64,
    /// Rows taken under the round's lease.
    pub claimed: usize,
    /// Calls to the batch endpoint.
    pub requests: usize,
    pub submitted: usize,
    /// Of those, found already in the database (`existing_puids`).
    pub already_there: usize,
    pub refused: usize,
    /// Left pending after a temporary failure.
    pub deferred: usize,
}

impl SubmitReport {
    fn tally(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Submitted { already_there, .. } => {
                self.submitted += 1;
                if *already_there {
                    self.already_there += 1;
                }
            }
            Outcome::Refused { .. } | Outcome::RefusedAfterServerFailures { .. } => {
                self.refused += 1;
            }
            Outcome::Deferred { .. } | Outcome::ServerFailed { .. } => self.deferred += 1,
        }
    }
}

/// One enforcement's submission as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdbSubmission {
    pub enforcement_id: Uuid,
    pub puid: String,
    pub state: TdbState,
    pub attempts: i32,
    /// Consecutive server errors (5xx) answered to the calls that carried it.
    pub server_failures: i32,
    /// Of those, the ones it drew alone since it was isolated.
    pub lone_server_failures: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The statement as last mapped and checked (or as corrected).
    pub statement: Option<TdbStatement>,
    pub corrected: bool,
    pub errors: Option<FieldErrors>,
    pub refused_by: Option<RefusedBy>,
    pub notes: Vec<String>,
    pub last_error: Option<String>,
    pub tdb_uuid: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<tdb_submission::Model> for TdbSubmission {
    type Error = EngineError;

    fn try_from(row: tdb_submission::Model) -> Result<Self, EngineError> {
        let corrupt = |what: &str, err: serde_json::Error| {
            EngineError::corrupt(
                "tdb submission",
                row.enforcement_id,
                format!("{what}: {err}"),
            )
        };
        let statement = match row.correction.clone().or(row.statement.clone()) {
            Some(json) => Some(serde_json::from_value(json).map_err(|e| corrupt("statement", e))?),
            None => None,
        };
        let errors = match row.errors.clone() {
            Some(json) => Some(serde_json::from_value(json).map_err(|e| corrupt("errors", e))?),
            None => None,
        };
        let notes = match row.notes.clone() {
            Some(json) => serde_json::from_value(json).map_err(|e| corrupt("notes", e))?,
            None => Vec::new(),
        };
        Ok(Self {
            enforcement_id: row.enforcement_id,
            puid: row.puid,
            state: row.state,
            attempts: row.attempts,
            server_failures: row.server_failures,
            lone_server_failures: row.lone_server_failures,
            next_attempt_at: row.next_attempt_at,
            statement,
            corrected: row.correction.is_some(),
            errors,
            refused_by: row.refused_by.as_deref().and_then(RefusedBy::parse),
            notes,
            last_error: row.last_error,
            tdb_uuid: row.tdb_uuid,
            submitted_at: row.submitted_at,
            updated_at: row.updated_at,
        })
    }
}

/// How far before the newest enforcement that has a row new enforcements are looked for:
/// longer than a transaction recording enforcements stays open, and than the clocks of
/// replicas differ.
pub const ENQUEUE_MARGIN: TimeDelta = TimeDelta::hours(1);

/// Gives enforcements without a submission row one (pending, due now), in the order they
/// were recorded, at most `limit`. Only those recorded since the newest one with a row
/// (less [`ENQUEUE_MARGIN`]) are looked at, through an index, unless `full_scan`: a round
/// costs what is new, not the whole table. Replicas may race: the insert ignores rows
/// already there.
async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    full_scan: bool,
    limit: u64,
) -> Result<u64, EngineError> {
    let mut select = enforcement::Entity::find().filter(Expr::cust(
        "NOT EXISTS (SELECT 1 FROM tdb_submissions s WHERE s.enforcement_id = enforcements.id)",
    ));
    if !full_scan {
        let newest: Option<DateTime<Utc>> = Submissions::find()
            .select_only()
            .column_as(tdb_submission::Column::EnforcementCreatedAt.max(), "newest")
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(conn)
            .await?
            .flatten();
        if let Some(newest) = newest {
            select = select.filter(enforcement::Column::CreatedAt.gte(newest - ENQUEUE_MARGIN));
        }
    }
    if let Some(from) = from {
        select = select.filter(enforcement::Column::EnforcedAt.gte(from));
    }
    let fresh = select
        .order_by_asc(enforcement::Column::CreatedAt)
        .order_by_asc(enforcement::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    if fresh.is_empty() {
        return Ok(0);
    }
    let count = fresh.len() as u64;
    let puids = unclashing_puids(conn, &fresh).await?;
    Submissions::insert_many(fresh.into_iter().zip(puids).map(|(row, puid)| {
        tdb_submission::ActiveModel {
            enforcement_id: Set(row.id),
            enforcement_created_at: Set(row.created_at),
            puid: Set(puid),
            state: Set(TdbState::Pending),
            attempts: Set(0),
            server_failures: Set(0),
            lone_server_failures: Set(0),
            next_attempt_at: Set(now),
            lease_id: Set(None),
            leased_until: Set(None),
            statement: Set(None),
            correction: Set(None),
            errors: Set(None),
            refused_by: Set(None),
            notes: Set(None),
            last_error: Set(None),
            tdb_uuid: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            submitted_at: Set(None),
        }
    }))
    .on_conflict(
        OnConflict::column(tdb_submission::Column::EnforcementId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(count)
}

/// Each enforcement's PUID, or the one derived from its own id where the platform's id
/// would repeat a PUID already recorded or taken earlier in the same batch (an external
/// id equal to another enforcement's id, or to a derived `rdx-` PUID). The unique index
/// would otherwise make the enforcement's row impossible, and with it its statement.
async fn unclashing_puids<C: ConnectionTrait>(
    conn: &C,
    fresh: &[enforcement::Model],
) -> Result<Vec<String>, EngineError> {
    let wanted: Vec<String> = fresh
        .iter()
        .map(|row| tdb::puid_for(row.external_id.as_deref(), row.id))
        .collect();
    let taken: Vec<String> = Submissions::find()
        .select_only()
        .column(tdb_submission::Column::Puid)
        .filter(tdb_submission::Column::Puid.is_in(wanted.iter().cloned()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut taken: HashSet<String> = taken.into_iter().collect();
    Ok(fresh
        .iter()
        .zip(wanted)
        .map(|(row, puid)| {
            let puid = if taken.contains(&puid) {
                tdb::puid_for(Some(&format!("enforcement:{}", row.id)), row.id)
            } else {
                puid
            };
            taken.insert(puid.clone());
            puid
        })
        .collect())
}

/// Takes up to `limit` due pending rows under a new lease. The lease is the row's next
/// attempt: a round that dies leaves its rows due again when the lease ends. On PostgreSQL
/// the rows are locked `SKIP LOCKED`, so replicas take disjoint sets; SQLite serialises.
async fn claim<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<(Uuid, Vec<tdb_submission::Model>), EngineError> {
    let rows = Submissions::find()
        .filter(tdb_submission::Column::State.eq(TdbState::Pending))
        .filter(tdb_submission::Column::NextAttemptAt.lte(now))
        .order_by_asc(tdb_submission::Column::NextAttemptAt)
        .order_by_asc(tdb_submission::Column::EnforcementId)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(conn)
        .await?;
    let lease_id = Uuid::now_v7();
    if rows.is_empty() {
        return Ok((lease_id, rows));
    }
    Submissions::update_many()
        .col_expr(tdb_submission::Column::LeaseId, Expr::value(Some(lease_id)))
        .col_expr(
            tdb_submission::Column::LeasedUntil,
            Expr::value(Some(lease_until)),
        )
        .col_expr(
            tdb_submission::Column::NextAttemptAt,
            Expr::value(lease_until),
        )
        .filter(tdb_submission::Column::EnforcementId.is_in(rows.iter().map(|r| r.enforcement_id)))
        .exec(conn)
        .await?;
    Ok((lease_id, rows))
}

/// A row taken by this round and what will be sent for it.
struct InFlight {
    row: tdb_submission::Model,
    mapped: Mapped,
}

/// The outcome of one row, written under the round's lease.
#[derive(Clone)]
enum Outcome {
    Submitted {
        uuid: Option<String>,
        already_there: bool,
    },
    Refused {
        by: RefusedBy,
        errors: FieldErrors,
    },
    Deferred {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Refused by the database's server errors to it alone (see [`after_server_failure`]),
    /// with the counts that decided it.
    RefusedAfterServerFailures {
        errors: FieldErrors,
        server_failures: i32,
        lone_server_failures: i32,
    },
    /// Deferred after a server error, with the statement's counts of them since.
    ServerFailed {
        until: DateTime<Utc>,
        reason: String,
        server_failures: i32,
        lone_server_failures: i32,
    },
}

/// Consecutive server errors after which a statement goes in calls of half the size, and
/// half again with each further one (see [`call_size`]).
pub const SPLIT_AFTER: i32 = 3;

/// Server errors to an isolated statement sent alone while the database demonstrably worked
/// (see [`after_server_failure`]), after which it is refused.
pub const LONE_FAILURES: i32 = 3;

/// Calls a round makes that the database answers with server errors before it sends no
/// more, unless another of its calls was answered: an outage costs two calls a round.
pub const OUTAGE_PROBES: usize = 2;

/// The most statements a call may carry with a statement that drew `server_failures`
/// consecutive server errors: `batch_size` below [`SPLIT_AFTER`], then halved with each
/// one, down to one statement a call; one for a statement isolated already.
pub fn call_size(batch_size: usize, server_failures: i32, lone_server_failures: i32) -> usize {
    if lone_server_failures > 0 {
        return 1;
    }
    if server_failures < SPLIT_AFTER {
        return batch_size.max(1);
    }
    let halvings = Ord::min(
        u32::try_from(server_failures - SPLIT_AFTER + 1).unwrap_or(0),
        usize::BITS - 1,
    );
    (batch_size >> halvings).max(1)
}

/// A statement's counts of server errors after one more, in a call of `call_len`
/// statements; `database_works` when the database demonstrably worked at that moment: it
/// answered another call of the round, or (for an isolated statement sent alone while
/// nothing else of the round was answered) its PUID look-up answered that it does not have
/// the statement.
///
/// Without such evidence the error may be the database's alone (an outage), so it moves the
/// statement no further than the first split and no nearer to refusal; with it, the error
/// is the statement's share. A statement that failed [`SPLIT_AFTER`] times and then fails
/// alone while the database works is isolated: from then on it goes alone, and each error
/// alone while the database works counts towards its refusal.
pub fn after_server_failure(
    server_failures: i32,
    lone_server_failures: i32,
    call_len: usize,
    database_works: bool,
) -> (i32, i32) {
    let server = if database_works {
        server_failures.saturating_add(1)
    } else {
        Ord::max(
            server_failures,
            Ord::min(server_failures.saturating_add(1), SPLIT_AFTER),
        )
    };
    let alone = call_len == 1;
    let isolated = lone_server_failures > 0 || server_failures >= SPLIT_AFTER;
    let lone = if alone && database_works && isolated {
        lone_server_failures.saturating_add(1)
    } else {
        lone_server_failures
    };
    (server, lone)
}

/// Whether a round that took its rows at `claimed_at` may still start a call and one more
/// (a PUID look-up) that end inside its lease, so no other replica takes a statement while
/// it is in flight.
fn lease_left_for_a_call(settings: &SubmitSettings, claimed_at: tokio::time::Instant) -> bool {
    claimed_at.elapsed() + settings.request_timeout * 2 <= settings.lease
}

/// The delay before the next attempt of a row that made `attempts` before this failed one,
/// at least `retry_after`.
fn backoff_delay(
    settings: &SubmitSettings,
    attempts: i32,
    retry_after: Option<Duration>,
) -> Duration {
    let failures = u32::try_from(attempts.saturating_add(1)).unwrap_or(1);
    settings
        .backoff
        .delay(failures, rand::random::<f64>())
        .max(retry_after.unwrap_or_default())
}

/// The calls a round's statements go in: by the size their server errors allow, the
/// largest first (so a round learns whether the database takes anything before it tries
/// the suspects), each in the order they were taken.
fn plan_calls(batch: Vec<InFlight>, batch_size: usize) -> Vec<Vec<InFlight>> {
    let mut by_size: BTreeMap<std::cmp::Reverse<usize>, Vec<InFlight>> = BTreeMap::new();
    for flight in batch {
        let size = call_size(
            batch_size,
            flight.row.server_failures,
            flight.row.lone_server_failures,
        );
        by_size
            .entry(std::cmp::Reverse(size))
            .or_default()
            .push(flight);
    }
    let mut calls = Vec::new();
    for (std::cmp::Reverse(size), flights) in by_size {
        let mut flights = flights.into_iter().peekable();
        while flights.peek().is_some() {
            calls.push(flights.by_ref().take(size).collect());
        }
    }
    calls
}

/// A call the database answered with a server error.
struct FailedCall {
    /// The statements it carried.
    sent: Vec<InFlight>,
    /// Statements of the same call left to send one at a time, not sent.
    unsent: Vec<InFlight>,
    reason: String,
    retry_after: Option<Duration>,
    /// Whether the database answered an earlier attempt of the same call.
    answered: bool,
    /// Whether the database's look-up answered that it does not have the one statement
    /// sent: it works, so the error is the statement's.
    not_stored: bool,
}

/// What the database's PUID look-up says of a row's statement.
enum PuidLookUp {
    /// Another of our enforcements has the same PUID but for case: the database does not
    /// tell the two apart, so nothing it says of this PUID is this statement's alone.
    Clash(FieldErrors),
    Found(String),
    NotFound,
    Failed(String),
}

/// What the look-up after an isolated statement's lone server error decided.
enum LoneFailure {
    /// The statement is recorded (submitted, or refused for a PUID clash).
    Settled,
    /// The error is judged with the round's others.
    Judge,
    /// The look-up failed too: the round sends nothing more.
    DatabaseDown,
}

/// How a call ended.
enum CallEnd {
    /// Every statement is recorded; `answered` when the database answered at least once.
    Done {
        answered: bool,
    },
    ServerFailure(FailedCall),
}

fn json<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Records `outcome` for a row still held under `lease_id`; a row another round took over
/// in between is left to that round. Returns whether the row was written.
async fn record<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    lease_id: Uuid,
    row: &tdb_submission::Model,
    mapped: Option<&Mapped>,
    outcome: Outcome,
) -> Result<bool, EngineError> {
    let mut update = Submissions::update_many()
        .col_expr(tdb_submission::Column::LeaseId, Expr::value(None::<Uuid>))
        .col_expr(
            tdb_submission::Column::LeasedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            tdb_submission::Column::Attempts,
            Expr::value(row.attempts.saturating_add(1)),
        )
        .col_expr(tdb_submission::Column::UpdatedAt, Expr::value(now));
    if let Some(mapped) = mapped {
        // A correction stays in its own column; the mapping is kept only for a row sent
        // as mapped.
        if row.correction.is_none() {
            update = update.col_expr(
                tdb_submission::Column::Statement,
                Expr::value(json(&mapped.statement)),
            );
        }
        update = update.col_expr(
            tdb_submission::Column::Notes,
            Expr::value(json(&mapped.notes)),
        );
    }
    update = match outcome {
        Outcome::Submitted {
            uuid,
            already_there,
        } => update
            .col_expr(
                tdb_submission::Column::State,
                Expr::value(TdbState::Submitted),
            )
            .col_expr(tdb_submission::Column::TdbUuid, Expr::value(uuid))
            .col_expr(tdb_submission::Column::ServerFailures, Expr::value(0))
            .col_expr(tdb_submission::Column::LoneServerFailures, Expr::value(0))
            .col_expr(tdb_submission::Column::SubmittedAt, Expr::value(Some(now)))
            .col_expr(
                tdb_submission::Column::Errors,
                Expr::value(None::<serde_json::Value>),
            )
            .col_expr(
                tdb_submission::Column::RefusedBy,
                Expr::value(None::<String>),
            )
            .col_expr(
                tdb_submission::Column::LastError,
                Expr::value(already_there.then(|| {
                    "the database already had this PUID; recorded as submitted".to_owned()
                })),
            ),
        Outcome::Refused { by, errors } => update
            .col_expr(
                tdb_submission::Column::State,
                Expr::value(TdbState::Refused),
            )
            .col_expr(tdb_submission::Column::Errors, Expr::value(json(&errors)))
            .col_expr(
                tdb_submission::Column::RefusedBy,
                Expr::value(Some(by.as_str().to_owned())),
            ),
        Outcome::Deferred { until, reason } => update
            .col_expr(tdb_submission::Column::NextAttemptAt, Expr::value(until))
            .col_expr(tdb_submission::Column::LastError, Expr::value(Some(reason))),
        Outcome::RefusedAfterServerFailures {
            errors,
            server_failures,
            lone_server_failures,
        } => update
            .col_expr(
                tdb_submission::Column::State,
                Expr::value(TdbState::Refused),
            )
            .col_expr(tdb_submission::Column::Errors, Expr::value(json(&errors)))
            .col_expr(
                tdb_submission::Column::RefusedBy,
                Expr::value(Some(RefusedBy::Database.as_str().to_owned())),
            )
            .col_expr(
                tdb_submission::Column::ServerFailures,
                Expr::value(server_failures),
            )
            .col_expr(
                tdb_submission::Column::LoneServerFailures,
                Expr::value(lone_server_failures),
            ),
        Outcome::ServerFailed {
            until,
            reason,
            server_failures,
            lone_server_failures,
        } => update
            .col_expr(tdb_submission::Column::NextAttemptAt, Expr::value(until))
            .col_expr(tdb_submission::Column::LastError, Expr::value(Some(reason)))
            .col_expr(
                tdb_submission::Column::ServerFailures,
                Expr::value(server_failures),
            )
            .col_expr(
                tdb_submission::Column::LoneServerFailures,
                Expr::value(lone_server_failures),
            ),
    };
    let written = update
        .filter(tdb_submission::Column::EnforcementId.eq(row.enforcement_id))
        .filter(tdb_submission::Column::LeaseId.eq(lease_id))
        .exec(conn)
        .await?;
    Ok(written.rows_affected == 1)
}

/// What is sent for a row: the operator's correction (checked again, with the row's PUID),
/// else the enforcement as it is stored now, mapped. A refusal keeps the draft, if there
/// is one, for the operator to correct.
fn prepare(
    row: &tdb_submission::Model,
    enforcement: Option<&enforcement::Model>,
    settings: &TdbSettings,
) -> Result<Mapped, Box<Refusal>> {
    let refuse = |errors: FieldErrors, draft: Option<Mapped>| Box::new(Refusal { errors, draft });
    if let Some(correction) = &row.correction {
        let mut statement: TdbStatement =
            serde_json::from_value(correction.clone()).map_err(|e| {
                let errors = FieldErrors::one("statement", format!("unreadable correction: {e}"));
                refuse(errors, None)
            })?;
        statement.puid.clone_from(&row.puid);
        let mapped = Mapped {
            statement,
            notes: vec!["sent as corrected by an operator".to_owned()],
        };
        return match tdb::validate(&mapped.statement) {
            Ok(()) => Ok(mapped),
            Err(errors) => Err(refuse(errors, Some(mapped))),
        };
    }
    let Some(enforcement) = enforcement else {
        return Err(refuse(
            FieldErrors::one("enforcement", "no longer exists"),
            None,
        ));
    };
    let (mut mapped, errors) =
        tdb::draft_enforcement(enforcement, settings).map_err(|errors| refuse(errors, None))?;
    // The PUID was fixed when the row was made; the mapping derives the same one.
    mapped.statement.puid.clone_from(&row.puid);
    if errors.is_empty() {
        Ok(mapped)
    } else {
        Err(refuse(errors, Some(mapped)))
    }
}

/// Why a row is refused before sending, and the statement drafted for it, if any.
struct Refusal {
    errors: FieldErrors,
    draft: Option<Mapped>,
}

impl Engine {
    /// One round of submission: new enforcements get a row, up to `batch_size` due rows are
    /// taken, checked, and sent until each is submitted, refused or deferred.
    pub async fn tdb_submit_round(
        &self,
        api: &dyn TdbApi,
        settings: &SubmitSettings,
    ) -> Result<SubmitReport, EngineError> {
        let batch_size = settings.batch_size.clamp(1, BATCH_LIMIT);
        let now = self.clock().now();
        let lease = TimeDelta::from_std(settings.lease).unwrap_or(TimeDelta::minutes(5));
        let mut report = SubmitReport {
            enqueued: enqueue(
                self.db(),
                now,
                settings.submit_from,
                settings.full_scan,
                1000,
            )
            .await?,
            ..SubmitReport::default()
        };
        // The lease runs from the claim, so the round's budget is measured from here.
        let claimed_at = tokio::time::Instant::now();
        let (lease_id, rows) =
            transact::in_transaction(self.db(), Begin::WriteLockFirst, async |txn| {
                claim(txn, now, now + lease, batch_size as u64).await
            })
            .await?;
        report.claimed = rows.len();
        if rows.is_empty() {
            return Ok(report);
        }
        let enforcements: HashMap<Uuid, enforcement::Model> = enforcement::Entity::find()
            .filter(enforcement::Column::Id.is_in(rows.iter().map(|r| r.enforcement_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let mapping = self.tdb_mapping(&settings.tdb).await?;
        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            match prepare(&row, enforcements.get(&row.enforcement_id), &mapping) {
                Ok(mapped) => batch.push(InFlight { row, mapped }),
                Err(refusal) => {
                    let Refusal { errors, draft } = *refusal;
                    let refused = Outcome::Refused {
                        by: RefusedBy::Redress,
                        errors,
                    };
                    let now = self.clock().now();
                    if record(self.db(), now, lease_id, &row, draft.as_ref(), refused).await? {
                        report.refused += 1;
                    }
                }
            }
        }
        self.send(api, settings, lease_id, claimed_at, batch, &mut report)
            .await?;
        Ok(report)
    }

    /// Sends a round's statements in calls no larger than their record of server errors
    /// allows ([`call_size`]), the largest first, then judges the calls the database answered
    /// with 5xx by whether it demonstrably worked: it answered another call of the round, or,
    /// for an isolated statement sent alone while nothing else was answered, its PUID look-up
    /// answered ([`Self::ask_after_lone_failure`], [`after_server_failure`]). An outage that
    /// fails everything moves no statement past the first split and refuses none. After
    /// [`OUTAGE_PROBES`] server errors with no answer from the database, or a failed look-up,
    /// the round sends nothing more: its other statements wait as long.
    async fn send(
        &self,
        api: &dyn TdbApi,
        settings: &SubmitSettings,
        lease_id: Uuid,
        claimed_at: tokio::time::Instant,
        batch: Vec<InFlight>,
        report: &mut SubmitReport,
    ) -> Result<(), EngineError> {
        let batch_size = settings.batch_size.clamp(1, BATCH_LIMIT);
        let mut answered = false;
        // The PUID look-up failed too: the database is down, so nothing more is sent.
        let mut down = false;
        let mut failed: Vec<FailedCall> = Vec::new();
        let mut held: Vec<InFlight> = Vec::new();
        for call in plan_calls(batch, batch_size) {
            if down || (!answered && failed.len() >= OUTAGE_PROBES) {
                held.extend(call);
                continue;
            }
            match self
                .send_call(api, settings, lease_id, claimed_at, call, report)
                .await?
            {
                CallEnd::Done { answered: took } => answered |= took,
                CallEnd::ServerFailure(mut call) => {
                    answered |= call.answered;
                    let isolated_alone =
                        matches!(call.sent.as_slice(), [one] if one.row.lone_server_failures > 0);
                    if answered || !isolated_alone {
                        failed.push(call);
                        continue;
                    }
                    match self
                        .ask_after_lone_failure(
                            api, settings, lease_id, claimed_at, &mut call, report,
                        )
                        .await?
                    {
                        LoneFailure::Settled => held.append(&mut call.unsent),
                        LoneFailure::Judge => failed.push(call),
                        LoneFailure::DatabaseDown => {
                            down = true;
                            failed.push(call);
                        }
                    }
                }
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        let now = self.clock().now();
        let mut outcomes: Vec<(InFlight, Outcome)> = Vec::new();
        let mut longest_wait = Duration::ZERO;
        for call in failed {
            let call_len = call.sent.len();
            // One delay for the whole call, so its statements come due together and are split
            // together.
            let most_attempts = call.sent.iter().map(|f| f.row.attempts).max().unwrap_or(0);
            let delay = backoff_delay(settings, most_attempts, call.retry_after);
            longest_wait = longest_wait.max(delay);
            for flight in call.sent {
                let (server_failures, lone_server_failures) = after_server_failure(
                    flight.row.server_failures,
                    flight.row.lone_server_failures,
                    call_len,
                    answered || call.not_stored,
                );
                let outcome = if lone_server_failures >= LONE_FAILURES {
                    tracing::error!(puid = %flight.row.puid, server_failures, reason = %call.reason, "the Transparency Database fails on this statement alone while it works otherwise; refusing it");
                    Outcome::RefusedAfterServerFailures {
                        errors: FieldErrors::one(
                            "statement",
                            format!(
                                "the database answered a server error to each of the last \
                                 {server_failures} calls carrying this statement, the last \
                                 {LONE_FAILURES} with it alone, while it took other \
                                 statements or answered that it does not have this one: {}",
                                call.reason
                            ),
                        ),
                        server_failures,
                        lone_server_failures,
                    }
                } else {
                    Outcome::ServerFailed {
                        until: now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1)),
                        reason: call.reason.clone(),
                        server_failures,
                        lone_server_failures,
                    }
                };
                outcomes.push((flight, outcome));
            }
            held.extend(call.unsent);
        }
        for flight in held {
            // Not sent: the database failed the calls before; they wait as long, and no
            // server error is counted against them.
            let delay = backoff_delay(settings, flight.row.attempts, None).max(longest_wait);
            let until = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
            let reason =
                "not sent: the database answered server errors to this round's calls".to_owned();
            outcomes.push((flight, Outcome::Deferred { until, reason }));
        }
        self.record_outcomes(now, lease_id, &outcomes, report).await
    }

    /// Records the outcomes of one answer in one transaction, not one per statement, and
    /// counts those still held under `lease_id` in `report`.
    async fn record_outcomes(
        &self,
        now: DateTime<Utc>,
        lease_id: Uuid,
        outcomes: &[(InFlight, Outcome)],
        report: &mut SubmitReport,
    ) -> Result<(), EngineError> {
        let written = transact::in_transaction(self.db(), Begin::Deferred, async |txn| {
            let mut written = Vec::with_capacity(outcomes.len());
            for (flight, outcome) in outcomes {
                let mapped = Some(&flight.mapped);
                let fresh = outcome.clone();
                written.push(record(txn, now, lease_id, &flight.row, mapped, fresh).await?);
            }
            Ok::<_, EngineError>(written)
        })
        .await?;
        for ((_, outcome), was_written) in outcomes.iter().zip(written) {
            if was_written {
                report.tally(outcome);
            }
        }
        Ok(())
    }

    /// Sends one call's statements until each is submitted, refused or deferred, or the
    /// database answers 5xx, which hands the statements back to [`Self::send`] to judge.
    async fn send_call(
        &self,
        api: &dyn TdbApi,
        settings: &SubmitSettings,
        lease_id: Uuid,
        claimed_at: tokio::time::Instant,
        mut batch: Vec<InFlight>,
        report: &mut SubmitReport,
    ) -> Result<CallEnd, EngineError> {
        // Every answer but the last takes at least one statement out of the batch; one
        // more for the answer that turns the round to sending one statement at a time.
        let most_calls = batch.len() + 2;
        let mut calls = 0;
        let mut answered = false;
        // After a refusal of a whole batch that names no statement, the statements go one
        // at a time, so only the one that draws it is refused.
        let mut one_by_one = false;
        // What is left when the lease runs short is released, due at once.
        let out_of_lease = || !lease_left_for_a_call(settings, claimed_at);
        while !batch.is_empty() && calls < most_calls {
            if out_of_lease() {
                let now = self.clock().now();
                let released: Vec<(InFlight, Outcome)> = batch
                    .drain(..)
                    .map(|flight| {
                        let reason = "released: the round ran out of lease time".to_owned();
                        (flight, Outcome::Deferred { until: now, reason })
                    })
                    .collect();
                self.record_outcomes(now, lease_id, &released, report)
                    .await?;
                break;
            }
            let sent = if one_by_one { 1 } else { batch.len() };
            let statements: Vec<TdbStatement> = batch[..sent]
                .iter()
                .map(|f| f.mapped.statement.clone())
                .collect();
            report.requests += 1;
            calls += 1;
            let answer = api.submit(&statements).await;
            let now = self.clock().now();
            if !matches!(
                answer,
                BatchAnswer::Unavailable { .. } | BatchAnswer::ServerFailure { .. }
            ) {
                answered = true;
            }
            let settled = match answer {
                BatchAnswer::Created(created) => {
                    let uuids: HashMap<String, Option<String>> =
                        created.into_iter().map(|c| (c.puid, c.uuid)).collect();
                    let mut settled = Vec::new();
                    for (index, flight) in batch[..sent].iter().enumerate() {
                        let uuid = uuids.get(&flight.row.puid).cloned().flatten();
                        settled.push((
                            index,
                            Outcome::Submitted {
                                uuid,
                                already_there: false,
                            },
                        ));
                    }
                    settled
                }
                BatchAnswer::Invalid(by_position) => by_position
                    .into_iter()
                    .filter(|(index, _)| *index < sent)
                    .map(|(index, errors)| {
                        (
                            index,
                            Outcome::Refused {
                                by: RefusedBy::Database,
                                errors,
                            },
                        )
                    })
                    .collect(),
                BatchAnswer::ExistingPuids(puids) => {
                    let existing: HashSet<String> = puids.into_iter().collect();
                    let mut settled = Vec::new();
                    for (index, flight) in batch[..sent].iter().enumerate() {
                        if existing.contains(&flight.row.puid) {
                            let outcome = if out_of_lease() {
                                Outcome::Deferred {
                                    until: now,
                                    reason: "released: the round ran out of lease time".to_owned(),
                                }
                            } else {
                                self.already_there(api, settings, now, &flight.row).await?
                            };
                            settled.push((index, outcome));
                        }
                    }
                    settled
                }
                BatchAnswer::Refused { status, reason } if sent > 1 => {
                    tracing::warn!(status, %reason, statements = sent, "the Transparency Database refused a whole batch; sending its statements one at a time");
                    one_by_one = true;
                    continue;
                }
                BatchAnswer::Refused { status, reason } => {
                    tracing::error!(status, %reason, puid = %batch[0].row.puid, "the Transparency Database refused a statement");
                    let errors = FieldErrors::one(
                        "statement",
                        format!("the database refused it (HTTP {status}): {reason}"),
                    );
                    vec![(
                        0,
                        Outcome::Refused {
                            by: RefusedBy::Database,
                            errors,
                        },
                    )]
                }
                BatchAnswer::ServerFailure {
                    status,
                    reason,
                    retry_after,
                } => {
                    tracing::warn!(status, %reason, statements = sent, "the Transparency Database answered a server error");
                    let unsent = batch.split_off(sent);
                    return Ok(CallEnd::ServerFailure(FailedCall {
                        sent: batch,
                        unsent,
                        reason,
                        retry_after,
                        answered,
                        not_stored: false,
                    }));
                }
                BatchAnswer::Unavailable {
                    reason,
                    retry_after,
                } => {
                    tracing::warn!(%reason, statements = batch.len(), "the Transparency Database is unavailable; deferring");
                    // The statements not sent yet wait as long as the one sent.
                    let mut settled = Vec::new();
                    for (index, flight) in batch.iter().enumerate() {
                        let failures =
                            u32::try_from(flight.row.attempts.saturating_add(1)).unwrap_or(1);
                        let delay = settings
                            .backoff
                            .delay(failures, rand::random::<f64>())
                            .max(retry_after.unwrap_or_default());
                        let until = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
                        settled.push((
                            index,
                            Outcome::Deferred {
                                until,
                                reason: reason.clone(),
                            },
                        ));
                    }
                    settled
                }
            };
            if settled.is_empty() {
                // An answer that names none of ours: nothing learnt, try again later.
                let reason =
                    "the database's answer named none of the batch's statements".to_owned();
                tracing::error!(%reason);
                let until = now
                    + TimeDelta::from_std(settings.backoff.base).unwrap_or(TimeDelta::minutes(1));
                let deferred: Vec<(InFlight, Outcome)> = batch
                    .drain(..)
                    .map(|flight| {
                        let reason = reason.clone();
                        (flight, Outcome::Deferred { until, reason })
                    })
                    .collect();
                self.record_outcomes(now, lease_id, &deferred, report)
                    .await?;
                break;
            }
            let mut taken: Vec<(usize, Outcome)> = settled;
            taken.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
            let answered: Vec<(InFlight, Outcome)> = taken
                .into_iter()
                .map(|(index, outcome)| (batch.remove(index), outcome))
                .collect();
            self.record_outcomes(now, lease_id, &answered, report)
                .await?;
        }
        Ok(CallEnd::Done { answered })
    }

    /// The outcome for a row whose PUID the database answered it has already: submitted
    /// when its look-up finds the statement; refused when another of our enforcements has
    /// the same PUID but for case (the statement the database has may be the other's);
    /// deferred when the look-up does not find it or fails.
    async fn already_there(
        &self,
        api: &dyn TdbApi,
        settings: &SubmitSettings,
        now: DateTime<Utc>,
        row: &tdb_submission::Model,
    ) -> Result<Outcome, EngineError> {
        // The database's documentation says a statement is usually found by its PUID only
        // a day after it was stored, so the look-up is asked again with the backoff, which
        // grows with each attempt, rather than every few seconds for a day.
        let later = |reason: String| Outcome::Deferred {
            until: now
                + TimeDelta::from_std(backoff_delay(settings, row.attempts, None))
                    .unwrap_or(TimeDelta::minutes(1)),
            reason,
        };
        Ok(match self.look_up_puid(api, row).await? {
            PuidLookUp::Clash(errors) => Outcome::Refused {
                by: RefusedBy::Redress,
                errors,
            },
            PuidLookUp::Found(uuid) => Outcome::Submitted {
                uuid: Some(uuid),
                already_there: true,
            },
            PuidLookUp::NotFound => {
                tracing::warn!(puid = %row.puid, "the database answered existing_puids but its look-up does not find the PUID");
                later(
                    "the database answered that it has this PUID, but its look-up does not \
                     find it; asked again later"
                        .to_owned(),
                )
            }
            PuidLookUp::Failed(reason) => {
                tracing::warn!(puid = %row.puid, %reason, "cannot look up an existing PUID's uuid");
                later(format!(
                    "the database answered that it has this PUID; its look-up failed: {reason}"
                ))
            }
        })
    }

    /// Asks the database's PUID look-up about a row's statement, unless another of our
    /// enforcements has the same PUID but for case (the database compares PUIDs without
    /// case, so its answer could be about the other's).
    async fn look_up_puid(
        &self,
        api: &dyn TdbApi,
        row: &tdb_submission::Model,
    ) -> Result<PuidLookUp, EngineError> {
        let clash = Submissions::find()
            .filter(
                Expr::expr(Func::lower(Expr::col(tdb_submission::Column::Puid)))
                    .eq(row.puid.to_lowercase()),
            )
            .filter(tdb_submission::Column::EnforcementId.ne(row.enforcement_id))
            .order_by_asc(tdb_submission::Column::EnforcementId)
            .one(self.db())
            .await?;
        if let Some(other) = clash {
            return Ok(PuidLookUp::Clash(FieldErrors::one(
                "puid",
                format!(
                    "PUID clashes with enforcement {} ({}): the database does not tell PUIDs \
                     apart by case",
                    other.enforcement_id, other.puid
                ),
            )));
        }
        Ok(match api.existing_uuid(&row.puid).await {
            Ok(Some(uuid)) => PuidLookUp::Found(uuid),
            Ok(None) => PuidLookUp::NotFound,
            Err(reason) => PuidLookUp::Failed(reason),
        })
    }

    /// After an isolated statement sent alone drew a server error while nothing else of the
    /// round was answered: asks the database's look-up whether it has the statement, since
    /// the error counts towards its refusal only if the database demonstrably works. Found,
    /// the statement is recorded submitted (the error came after the insert); not found,
    /// the error is judged as the statement's; the look-up failing too means an outage, and
    /// nothing is counted. Without lease time for the look-up nothing is counted either.
    async fn ask_after_lone_failure(
        &self,
        api: &dyn TdbApi,
        settings: &SubmitSettings,
        lease_id: Uuid,
        claimed_at: tokio::time::Instant,
        call: &mut FailedCall,
        report: &mut SubmitReport,
    ) -> Result<LoneFailure, EngineError> {
        if !lease_left_for_a_call(settings, claimed_at) {
            return Ok(LoneFailure::Judge);
        }
        let Some(flight) = call.sent.pop() else {
            return Ok(LoneFailure::Judge);
        };
        let settled = match self.look_up_puid(api, &flight.row).await? {
            PuidLookUp::Clash(errors) => Outcome::Refused {
                by: RefusedBy::Redress,
                errors,
            },
            PuidLookUp::Found(uuid) => {
                tracing::warn!(puid = %flight.row.puid, reason = %call.reason, "the Transparency Database answered a server error but has the statement; recorded as submitted");
                Outcome::Submitted {
                    uuid: Some(uuid),
                    already_there: true,
                }
            }
            PuidLookUp::NotFound => {
                call.not_stored = true;
                call.sent.push(flight);
                return Ok(LoneFailure::Judge);
            }
            PuidLookUp::Failed(reason) => {
                tracing::warn!(puid = %flight.row.puid, %reason, "the Transparency Database's look-up failed after a server error; taking it to be down");
                call.reason = format!(
                    "{}; the PUID look-up failed too ({reason}), so the database is taken to \
                     be down and the error is not counted",
                    call.reason
                );
                call.sent.push(flight);
                return Ok(LoneFailure::DatabaseDown);
            }
        };
        let now = self.clock().now();
        self.record_outcomes(now, lease_id, &[(flight, settled)], report)
            .await?;
        Ok(LoneFailure::Settled)
    }

    /// Submissions, most recently changed first; only those in `state` when given.
    pub async fn tdb_submissions(
        &self,
        state: Option<TdbState>,
        limit: u64,
    ) -> Result<Vec<TdbSubmission>, EngineError> {
        self.tdb_submissions_matching(state, false, limit).await
    }

    /// Submissions, most recently changed first; only those in `state` when given, and
    /// only those the database answered a server error to at their last call when
    /// `with_server_failures` (a pending one of them is heading for smaller calls or
    /// refusal), the most lone errors first.
    pub async fn tdb_submissions_matching(
        &self,
        state: Option<TdbState>,
        with_server_failures: bool,
        limit: u64,
    ) -> Result<Vec<TdbSubmission>, EngineError> {
        let mut select = Submissions::find();
        if let Some(state) = state {
            select = select.filter(tdb_submission::Column::State.eq(state));
        }
        if with_server_failures {
            select = select
                .filter(tdb_submission::Column::ServerFailures.gt(0))
                .order_by_desc(tdb_submission::Column::LoneServerFailures)
                .order_by_desc(tdb_submission::Column::ServerFailures);
        }
        select
            .order_by_desc(tdb_submission::Column::UpdatedAt)
            .order_by_asc(tdb_submission::Column::EnforcementId)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(TdbSubmission::try_from)
            .collect()
    }

    /// One enforcement's submission, if it has one yet.
    pub async fn tdb_submission(
        &self,
        enforcement_id: Uuid,
    ) -> Result<Option<TdbSubmission>, EngineError> {
        Submissions::find_by_id(enforcement_id)
            .one(self.db())
            .await?
            .map(TdbSubmission::try_from)
            .transpose()
    }

    /// How many submissions are in each state.
    pub async fn tdb_submission_counts(&self) -> Result<BTreeMap<String, u64>, EngineError> {
        let rows: Vec<(TdbState, i64)> = Submissions::find()
            .select_only()
            .column(tdb_submission::Column::State)
            .column_as(tdb_submission::Column::EnforcementId.count(), "count")
            .group_by(tdb_submission::Column::State)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(state, count)| (state.to_string(), u64::try_from(count).unwrap_or(0)))
            .collect())
    }

    /// Puts a refused statement back in line, due now: as the enforcement maps then, or as
    /// `correction` (checked here with the database's rules; its PUID is the row's, which
    /// never changes). A statement already submitted cannot be sent again: the database
    /// keeps every PUID for good.
    pub async fn tdb_resubmit(
        &self,
        actor: &Actor,
        enforcement_id: Uuid,
        correction: Option<TdbStatement>,
    ) -> Result<TdbSubmission, EngineError> {
        let Some(row) = Submissions::find_by_id(enforcement_id)
            .one(self.db())
            .await?
        else {
            return Err(EngineError::InvalidInput(format!(
                "enforcement {enforcement_id} has no Transparency Database submission"
            )));
        };
        let corrected = match correction {
            Some(mut statement) => {
                statement.puid.clone_from(&row.puid);
                tdb::validate(&statement).map_err(|errors| {
                    EngineError::InvalidInput(format!(
                        "the corrected statement would be refused: {errors}"
                    ))
                })?;
                json(&statement)
            }
            None => None,
        };
        let now = self.clock().now();
        let refused_with = row.errors.clone();
        self.transact_once(async |txn| {
            let put_back = Submissions::update_many()
                .col_expr(
                    tdb_submission::Column::State,
                    Expr::value(TdbState::Pending),
                )
                .col_expr(tdb_submission::Column::Attempts, Expr::value(0))
                .col_expr(tdb_submission::Column::ServerFailures, Expr::value(0))
                .col_expr(tdb_submission::Column::LoneServerFailures, Expr::value(0))
                .col_expr(tdb_submission::Column::NextAttemptAt, Expr::value(now))
                .col_expr(
                    tdb_submission::Column::Correction,
                    Expr::value(corrected.clone()),
                )
                .col_expr(
                    tdb_submission::Column::Errors,
                    Expr::value(None::<serde_json::Value>),
                )
                .col_expr(
                    tdb_submission::Column::RefusedBy,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    tdb_submission::Column::LastError,
                    Expr::value(None::<String>),
                )
                .col_expr(tdb_submission::Column::UpdatedAt, Expr::value(now))
                .filter(tdb_submission::Column::EnforcementId.eq(enforcement_id))
                .filter(tdb_submission::Column::State.eq(TdbState::Refused))
                .exec(txn)
                .await?;
            // Checked in the update itself, so two operators cannot both put it back; the
            // state read before may be stale, so it is not named.
            if put_back.rows_affected == 0 {
                return Err(EngineError::InvalidInput(format!(
                    "the statement of enforcement {enforcement_id} is not refused (any more), \
                     so it cannot be put back"
                )));
            }
            audit::record(
                txn,
                NewAuditEntry {
                    actor: actor.clone(),
                    action: audit::TDB_RESUBMITTED,
                    account_id: None,
                    appeal_id: None,
                    details: serde_json::json!({
                        "enforcement_id": enforcement_id,
                        "puid": row.puid,
                        "refused_with": refused_with,
                        "correction": corrected,
                    }),
                },
                now,
            )
            .await?;
            Ok(())
        })
        .await?;
        self.tdb_submission(enforcement_id)
            .await?
            .ok_or_else(|| EngineError::corrupt("tdb submission", enforcement_id, "vanished"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_halve_after_three_server_errors_down_to_one_statement() {
        let sizes: Vec<usize> = (0..10).map(|f| call_size(100, f, 0)).collect();
        assert_eq!(sizes, vec![100, 100, 100, 50, 25, 12, 6, 3, 1, 1]);
        assert_eq!(call_size(1, 0, 0), 1);
        assert_eq!(call_size(7, 40, 0), 1);
        assert_eq!(call_size(100, 3, 1), 1, "an isolated statement goes alone");
    }

    #[test]
    fn an_outage_moves_no_statement_past_the_first_split_nor_towards_refusal() {
        let mut counts = (0, 0);
        for _ in 0..50 {
            counts = after_server_failure(counts.0, counts.1, 100, false);
        }
        assert_eq!(counts, (SPLIT_AFTER, 0));
        for _ in 0..50 {
            counts = after_server_failure(counts.0, counts.1, 1, false);
        }
        assert_eq!(counts, (SPLIT_AFTER, 0), "alone, but nothing else answered");
        // Errors it drew while the database worked are its own.
        assert_eq!(after_server_failure(7, 0, 3, true), (8, 0));
    }

    #[test]
    fn an_isolated_statement_meeting_an_outage_moves_no_nearer_to_refusal() {
        let mut counts = (9, LONE_FAILURES - 1);
        for _ in 0..50 {
            counts = after_server_failure(counts.0, counts.1, 1, false);
        }
        assert_eq!(counts, (9, LONE_FAILURES - 1));
        // The next error while the database works (its look-up says it does not have the
        // statement, or it took another) is the one that refuses it.
        assert_eq!(
            after_server_failure(counts.0, counts.1, 1, true),
            (10, LONE_FAILURES)
        );
    }

    #[test]
    fn a_statement_failing_alone_while_others_pass_is_isolated_then_counted_alone() {
        // Alone while others pass, but never failed before: a fluke, not isolated.
        assert_eq!(after_server_failure(0, 0, 1, true), (1, 0));
        let isolated = after_server_failure(8, 0, 1, true);
        assert_eq!(isolated, (9, 1));
        // From then on it counts alone only while the database works.
        assert_eq!(
            after_server_failure(isolated.0, isolated.1, 1, false),
            (9, 1)
        );
        assert_eq!(after_server_failure(9, 1, 1, true), (10, 2));
        assert_eq!(after_server_failure(10, 2, 1, true), (11, 3));
        // In a larger call it is not alone: shared errors do not count as its own.
        assert_eq!(after_server_failure(9, 0, 2, true), (10, 0));
    }
}
