//! Faulty-enforcement detection: a source whose appeals are mostly won raises an incident,
//! which admins are told about through the outbox, with the selector and dry run of the
//! bulk restore that would undo the source's enforcements (`restoration::bulk`).

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::IncidentRule;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::incident_notice::{IncidentBulkRestore, IncidentNotice};
use super::sources::{self, EnforcementSource, SourceOutcomes};
pub use crate::entity::enforcement_incident::IncidentStatus;

use crate::engine::Engine;
use crate::entity::enforcement_incident::{self, Entity as Incidents};
use crate::error::{is_unique_violation, EngineError};
use crate::outbox::{PlatformEvent, PlatformEventKind, PlatformIncident, PlatformSubject, Topic};
use crate::repo::outbox::{self, OutboxItem};
use crate::restoration::bulk::preview;
use crate::restoration::{RestorationError, Selector};

/// Outbox topic of the admin notification that an incident was raised.
pub const TOPIC: &str = IncidentNotice::NAME;

/// What the detector watches and when it speaks up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorSettings {
    pub rule: IncidentRule,
    /// Appeals filed this far back are counted.
    pub window: TimeDelta,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self {
            rule: IncidentRule::default(),
            window: TimeDelta::days(30),
        }
    }
}

/// The bulk-restore selector that undoes a source's enforcements: its batch when it ran in
/// one (the narrowest selection), otherwise the rule or model.
pub fn selector_for(source: &EnforcementSource) -> Selector {
    match &source.batch_id {
        Some(batch_id) => Selector::Batch {
            batch_id: batch_id.clone(),
        },
        None => Selector::Source {
            source_id: source.id.clone(),
        },
    }
}

/// A raised incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: Uuid,
    pub source: EnforcementSource,
    pub status: IncidentStatus,
    pub decided: u64,
    pub overturned: u64,
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub threshold: f64,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    /// Start a bulk restore with this selector to undo the source's enforcements.
    pub selector: Selector,
    /// Accounts the bulk restore would cover, counted when the incident was raised.
    pub dry_run_accounts: u64,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Incident {
    fn from_model(model: enforcement_incident::Model) -> Result<Self, EngineError> {
        let id = model.id;
        let selector = serde_json::from_value(model.selector)
            .map_err(|e| EngineError::corrupt("enforcement incident", id, e))?;
        Ok(Self {
            id,
            source: EnforcementSource {
                kind: model.source_kind,
                id: model.source_id,
                batch_id: model.batch_id,
            },
            status: model.status,
            decided: u64::try_from(model.appeals).unwrap_or(0),
            overturned: u64::try_from(model.overturned).unwrap_or(0),
            lower_bound: model.lower_bound,
            upper_bound: model.upper_bound,
            threshold: model.threshold,
            window_from: model.window_from,
            window_to: model.window_to,
            selector,
            dry_run_accounts: u64::try_from(model.dry_run_accounts).unwrap_or(0),
            raised_at: model.raised_at,
            resolved_at: model.resolved_at,
        })
    }
}

/// Checks every source over the window ending at `now` and raises an incident for each
/// that breaches the rule and has none open. Each incident and its notification commit
/// together; a replica that loses the race on the same source skips it. Returns the
/// incidents raised by this call.
#[tracing::instrument(skip(engine, settings))]
pub async fn scan(
    engine: &Engine,
    settings: &DetectorSettings,
    now: DateTime<Utc>,
) -> Result<Vec<Incident>, EngineError> {
    let db = engine.db();
    let from = now - settings.window;
    let mut raised = Vec::new();
    for outcomes in sources::ranked(db, from, now).await? {
        let Some(interval) = settings.rule.breach(outcomes.overturned, outcomes.decided) else {
            continue;
        };
        if open_for(db, &outcomes.source).await?.is_some() {
            continue;
        }
        let raised_now = engine
            .transact_once(async |txn| raise(txn, settings, &outcomes, interval, from, now).await)
            .await;
        match raised_now {
            Ok(incident) => {
                metrics::counter!("redress_enforcement_incidents_raised_total").increment(1);
                tracing::warn!(
                    source_kind = %incident.source.kind,
                    source_id = %incident.source.id,
                    overturned = incident.overturned,
                    decided = incident.decided,
                    lower_bound = incident.lower_bound,
                    "enforcement source raised an incident"
                );
                raised.push(incident);
            }
            // Another replica raised it first.
            Err(EngineError::Database(err)) if is_unique_violation(&err) => {}
            Err(err) => return Err(err),
        }
    }
    let open = Incidents::find()
        .filter(enforcement_incident::Column::Status.eq(IncidentStatus::Open))
        .count(db)
        .await?;
    metrics::gauge!("redress_enforcement_incidents_open").set(open as f64);
    Ok(raised)
}

async fn raise<C: ConnectionTrait>(
    conn: &C,
    settings: &DetectorSettings,
    outcomes: &SourceOutcomes,
    interval: redress_core::Interval,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Incident, EngineError> {
    let source = &outcomes.source;
    let selector = selector_for(source);
    let dry_run = preview(conn, &selector).await.map_err(|err| match err {
        RestorationError::Engine(err) => err,
        other => EngineError::InvalidInput(other.to_string()),
    })?;
    let dry_run_accounts = u64::try_from(dry_run.accounts - dry_run.already_active).unwrap_or(0);
    let model = enforcement_incident::Model {
        id: Uuid::now_v7(),
        source_key: source.key(),
        source_kind: source.kind.clone(),
        source_id: source.id.clone(),
        batch_id: source.batch_id.clone(),
        status: IncidentStatus::Open,
        appeals: outcomes.decided as i64,
        overturned: outcomes.overturned as i64,
        lower_bound: interval.lower,
        upper_bound: interval.upper,
        threshold: settings.rule.threshold,
        window_from: from,
        window_to: now,
        selector: serde_json::to_value(&selector)
            .map_err(|e| EngineError::InvalidInput(e.to_string()))?,
        dry_run_accounts: dry_run_accounts as i64,
        raised_at: now,
        resolved_at: None,
    };
    Incidents::insert(enforcement_incident::ActiveModel::from(model.clone()))
        .exec_without_returning(conn)
        .await?;
    let incident = Incident::from_model(model)?;
    outbox::enqueue(
        conn,
        vec![
            OutboxItem::of(
                &IncidentNotice {
                    incident_id: incident.id,
                    source: incident.source.clone(),
                    decided: incident.decided,
                    overturned: incident.overturned,
                    lower_bound: incident.lower_bound,
                    threshold: incident.threshold,
                    bulk_restore: IncidentBulkRestore {
                        selector: incident.selector.clone(),
                        dry_run_accounts: incident.dry_run_accounts,
                        dry_run: Some(dry_run),
                    },
                },
                None,
                format!("incident:{}", incident.id),
            ),
            PlatformEvent {
                event_id: Uuid::now_v7(),
                kind: PlatformEventKind::IncidentRaised,
                occurred_at: now,
                subject: PlatformSubject::Incident(PlatformIncident {
                    incident_id: incident.id,
                    source_kind: incident.source.kind.clone(),
                    source_id: incident.source.id.clone(),
                    decided: incident.decided,
                    overturned: incident.overturned,
                }),
            }
            .into_item(&format!("incident:{}", incident.id)),
        ],
        now,
    )
    .await?;
    Ok(incident)
}

async fn open_for<C: ConnectionTrait>(
    conn: &C,
    source: &EnforcementSource,
) -> Result<Option<enforcement_incident::Model>, EngineError> {
    Ok(Incidents::find()
        .filter(enforcement_incident::Column::SourceKey.eq(source.key()))
        .filter(enforcement_incident::Column::Status.eq(IncidentStatus::Open))
        .one(conn)
        .await?)
}

/// Incidents, newest first; only open ones unless `include_resolved`.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    include_resolved: bool,
) -> Result<Vec<Incident>, EngineError> {
    let mut query = Incidents::find().order_by_desc(enforcement_incident::Column::RaisedAt);
    if !include_resolved {
        query = query.filter(enforcement_incident::Column::Status.eq(IncidentStatus::Open));
    }
    query
        .all(conn)
        .await?
        .into_iter()
        .map(Incident::from_model)
        .collect()
}

/// Closes an incident (after the bulk restore ran, or when the source was found sound), so
/// a new wave from the same source can raise a new one.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Incident, EngineError> {
    let model = Incidents::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| EngineError::InvalidInput(format!("no incident {id}")))?;
    if model.status != IncidentStatus::Open {
        return Err(EngineError::InvalidInput(format!(
            "incident {id} is already {}",
            model.status
        )));
    }
    let mut row: enforcement_incident::ActiveModel = model.into();
    row.status = Set(IncidentStatus::Resolved);
    row.resolved_at = Set(Some(now));
    let model = Incidents::update(row).exec(conn).await?;
    Incident::from_model(model)
}
