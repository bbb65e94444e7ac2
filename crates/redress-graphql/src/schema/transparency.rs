//! Transparency for leads, support and administrators: incidents raised against faulty
//! enforcement sources, sources ranked by overturn rate, the transparency report, and
//! out-of-court disputes.

use std::collections::BTreeMap;

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::{AppealReference, Role};
use redress_engine::restoration::{BulkRestorer, RestorationBackend, Selector};
use redress_engine::transparency::disputes::NewDispute;
use redress_engine::transparency::tdb_submission::{TdbState, TdbSubmission};
use redress_engine::transparency::{
    EnforcementSource, Incident, SourceOutcomes, TransparencyReport,
};
use redress_engine::Engine;

use super::bulk_restore::BulkRestoreDryRun;
use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::ids::parse_id;

/// Roles that read incidents, rankings and reports: senior reviewers (the leads), support
/// (who run the remedy) and administrators.
pub const TRANSPARENCY_READERS: &[Role] = &[Role::SeniorReviewer, Role::Support, Role::Admin];

const DEFAULT_RANKED: usize = 20;

pub(crate) fn reader(ctx: &Context<'_>, field: &str) -> Result<(), ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(TRANSPARENCY_READERS) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{field} needs one of: senior_reviewer, support, admin"
        )))
    }
}

/// A rule or model (its version in the id) and the batch it ran in.
#[derive(SimpleObject, Debug)]
#[graphql(name = "EnforcementSource")]
pub struct EnforcementSourceNode {
    /// `rule`, `model`, `notice`, ...
    pub kind: String,
    pub id: String,
    pub batch_id: Option<String>,
}

impl From<EnforcementSource> for EnforcementSourceNode {
    fn from(source: EnforcementSource) -> Self {
        Self {
            kind: source.kind,
            id: source.id,
            batch_id: source.batch_id,
        }
    }
}

/// The bulk-restore selector that undoes an incident's source; pass its fields to
/// `bulkRestoreDryRun` or `startBulkRestore` as they are.
#[derive(SimpleObject, Debug)]
pub struct IncidentSelector {
    pub source_id: Option<String>,
    pub batch_id: Option<String>,
}

/// A source whose appeals were mostly won.
#[derive(SimpleObject, Debug)]
#[graphql(name = "EnforcementIncident", complex)]
pub struct IncidentNode {
    pub id: ID,
    pub source: EnforcementSourceNode,
    /// `open` or `resolved`.
    pub status: String,
    /// Appeals a reviewer decided in the window.
    pub decided: u64,
    /// Of those, the ones restored.
    pub overturned: u64,
    pub overturn_rate: f64,
    /// 95 % Wilson interval of the overturn rate.
    pub lower_bound: f64,
    pub upper_bound: f64,
    /// The lower bound the source exceeded.
    pub threshold: f64,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub selector: IncidentSelector,
    /// Accounts the bulk restore would cover, counted when the incident was raised.
    pub dry_run_accounts: u64,
    #[graphql(skip)]
    bulk_selector: Selector,
}

impl From<Incident> for IncidentNode {
    fn from(incident: Incident) -> Self {
        let selector = match &incident.selector {
            Selector::Batch { batch_id } => IncidentSelector {
                source_id: None,
                batch_id: Some(batch_id.clone()),
            },
            Selector::Source { source_id } => IncidentSelector {
                source_id: Some(source_id.clone()),
                batch_id: None,
            },
            _ => IncidentSelector {
                source_id: None,
                batch_id: None,
            },
        };
        Self {
            id: ID(incident.id.to_string()),
            source: incident.source.into(),
            status: incident.status.to_string(),
            decided: incident.decided,
            overturned: incident.overturned,
            overturn_rate: rate(incident.overturned, incident.decided),
            lower_bound: incident.lower_bound,
            upper_bound: incident.upper_bound,
            threshold: incident.threshold,
            window_from: incident.window_from,
            window_to: incident.window_to,
            raised_at: incident.raised_at,
            resolved_at: incident.resolved_at,
            selector,
            dry_run_accounts: incident.dry_run_accounts,
            bulk_selector: incident.selector,
        }
    }
}

#[ComplexObject]
impl IncidentNode {
    /// The bulk restore's dry run as it stands now.
    async fn dry_run(&self, ctx: &Context<'_>) -> Result<BulkRestoreDryRun> {
        let restorer =
            BulkRestorer::new(ctx.data::<Engine>()?.clone(), RestorationBackend::Embedded);
        Ok(restorer.dry_run(&self.bulk_selector).await.or_api()?.into())
    }
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// How the decided appeals against one source ended.
#[derive(SimpleObject, Debug)]
pub struct RankedSource {
    pub source: EnforcementSourceNode,
    pub decided: u64,
    pub overturned: u64,
    pub overturn_rate: f64,
    pub lower_bound: f64,
    pub upper_bound: f64,
}

impl From<SourceOutcomes> for RankedSource {
    fn from(outcomes: SourceOutcomes) -> Self {
        Self {
            source: outcomes.source.into(),
            decided: outcomes.decided,
            overturned: outcomes.overturned,
            overturn_rate: outcomes.overturn_rate,
            lower_bound: outcomes.interval.lower,
            upper_bound: outcomes.interval.upper,
        }
    }
}

/// One entry of a breakdown.
#[derive(SimpleObject, Debug)]
pub struct CountByKey {
    pub key: String,
    pub count: u64,
}

fn breakdown(counts: BTreeMap<String, u64>) -> Vec<CountByKey> {
    counts
        .into_iter()
        .map(|(key, count)| CountByKey { key, count })
        .collect()
}

/// The figures of `redress report` for `[from, to)`.
#[derive(SimpleObject, Debug)]
#[graphql(name = "TransparencyReport")]
pub struct TransparencyReportNode {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub appeals_received: u64,
    /// `illegal_content`, `incompatible_with_terms` or `unlinked`.
    pub received_by_basis: Vec<CountByKey>,
    pub received_by_channel: Vec<CountByKey>,
    pub decisions: u64,
    pub decisions_by_outcome: Vec<CountByKey>,
    pub median_hours_to_decision: Option<f64>,
    pub p90_hours_to_decision: Option<f64>,
    pub reversed: u64,
    pub decisions_within_sla: u64,
    pub sla_compliance: Option<f64>,
    pub escalations: u64,
    pub bulk_restorations: u64,
    pub out_of_court_disputes: u64,
}

impl From<TransparencyReport> for TransparencyReportNode {
    fn from(report: TransparencyReport) -> Self {
        Self {
            from: report.from,
            to: report.to,
            appeals_received: report.appeals_received,
            received_by_basis: breakdown(report.received_by_basis),
            received_by_channel: breakdown(report.received_by_channel),
            decisions: report.decisions,
            decisions_by_outcome: breakdown(report.decisions_by_outcome),
            median_hours_to_decision: report.median_hours_to_decision,
            p90_hours_to_decision: report.p90_hours_to_decision,
            reversed: report.reversed,
            decisions_within_sla: report.decisions_within_sla,
            sla_compliance: report.sla_compliance,
            escalations: report.escalations,
            bulk_restorations: report.bulk_restorations,
            out_of_court_disputes: report.out_of_court_disputes,
        }
    }
}

/// Where a statement stands with the EU Transparency Database.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TdbSubmissionState {
    Pending,
    Submitted,
    Refused,
}

impl From<TdbSubmissionState> for TdbState {
    fn from(state: TdbSubmissionState) -> Self {
        match state {
            TdbSubmissionState::Pending => TdbState::Pending,
            TdbSubmissionState::Submitted => TdbState::Submitted,
            TdbSubmissionState::Refused => TdbState::Refused,
        }
    }
}

impl From<TdbState> for TdbSubmissionState {
    fn from(state: TdbState) -> Self {
        match state {
            TdbState::Pending => TdbSubmissionState::Pending,
            TdbState::Submitted => TdbSubmissionState::Submitted,
            TdbState::Refused => TdbSubmissionState::Refused,
        }
    }
}

/// Why a field of a statement was refused, in the database's words or Redress's.
#[derive(SimpleObject, Debug)]
pub struct TdbFieldError {
    pub field: String,
    pub messages: Vec<String>,
}

/// One enforcement's statement of reasons on its way to the EU Transparency Database.
#[derive(SimpleObject, Debug)]
pub struct TdbSubmissionNode {
    pub enforcement_id: ID,
    /// The platform unique identifier it is (or will be) known by in the database.
    pub puid: String,
    pub state: TdbSubmissionState,
    pub attempts: i32,
    /// Consecutive server errors (5xx) the database answered to the calls that carried it;
    /// from 3 its calls are halved, down to it alone.
    pub server_failures: i32,
    /// Of those, the ones it drew sent alone while the database otherwise worked; at 3 it is
    /// refused.
    pub lone_server_failures: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// Refused by `redress` (its own checks, before sending) or by the `database`.
    pub refused_by: Option<String>,
    pub errors: Vec<TdbFieldError>,
    /// What the mapping changed or left out (countries outside the EEA, a derived PUID,
    /// an end date past what the database takes).
    pub notes: Vec<String>,
    /// The last temporary failure.
    pub last_error: Option<String>,
    /// The database's id of the statement once submitted.
    pub tdb_uuid: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Whether an operator's correction is sent instead of the mapping.
    pub corrected: bool,
    pub decision_facts: Option<String>,
    /// The statement as sent (or as it would be sent), in the database's JSON schema.
    pub statement_json: Option<String>,
}

impl From<TdbSubmission> for TdbSubmissionNode {
    fn from(submission: TdbSubmission) -> Self {
        Self {
            enforcement_id: ID(submission.enforcement_id.to_string()),
            puid: submission.puid,
            state: submission.state.into(),
            attempts: submission.attempts,
            server_failures: submission.server_failures,
            lone_server_failures: submission.lone_server_failures,
            next_attempt_at: submission.next_attempt_at,
            refused_by: submission.refused_by.map(|by| by.as_str().to_owned()),
            errors: submission
                .errors
                .map(|errors| {
                    errors
                        .0
                        .into_iter()
                        .map(|(field, messages)| TdbFieldError { field, messages })
                        .collect()
                })
                .unwrap_or_default(),
            notes: submission.notes,
            last_error: submission.last_error,
            tdb_uuid: submission.tdb_uuid,
            submitted_at: submission.submitted_at,
            updated_at: submission.updated_at,
            corrected: submission.corrected,
            decision_facts: submission
                .statement
                .as_ref()
                .map(|s| s.decision_facts.clone()),
            statement_json: submission
                .statement
                .as_ref()
                .and_then(|s| serde_json::to_string(s).ok()),
        }
    }
}

/// Largest `first` of `tdbSubmissions`.
const MAX_SUBMISSIONS: usize = 500;

#[derive(Debug, Default)]
pub struct TransparencyQuery;

#[Object]
impl TransparencyQuery {
    /// Incidents, newest first; only open ones unless `includeResolved`.
    async fn incidents(
        &self,
        ctx: &Context<'_>,
        include_resolved: Option<bool>,
    ) -> Result<Vec<IncidentNode>> {
        reader(ctx, "incidents").or_api()?;
        let include_resolved = include_resolved.unwrap_or(false);
        let incidents = ctx
            .data::<Engine>()?
            .incidents(include_resolved)
            .await
            .or_api()?;
        Ok(incidents.into_iter().map(IncidentNode::from).collect())
    }

    /// Sources of the appeals filed in `[from, to)`, by the Wilson lower bound of their
    /// overturn rate (rate and volume together), then by volume; the first `first`.
    async fn ranked_sources(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        first: Option<usize>,
    ) -> Result<Vec<RankedSource>> {
        reader(ctx, "rankedSources").or_api()?;
        let first = first.unwrap_or(DEFAULT_RANKED);
        if first == 0 || first > MAX_RANKED {
            return Err(ApiError::bad_input(format!(
                "first must be between 1 and {MAX_RANKED}"
            )))
            .or_api();
        }
        if to <= from {
            return Err(ApiError::bad_input("the window must end after it starts")).or_api();
        }
        let ranked = ctx
            .data::<Engine>()?
            .ranked_sources(from, to)
            .await
            .or_api()?;
        Ok(ranked
            .into_iter()
            .take(first)
            .map(RankedSource::from)
            .collect())
    }

    /// Statements on their way to the EU Transparency Database, most recently changed
    /// first; only those in `state` when given (`REFUSED` for the ones to look at), and
    /// with `withServerFailures` only those the database answered a server error to at
    /// their last call, the most `loneServerFailures` first (`PENDING` ones are heading for
    /// refusal).
    async fn tdb_submissions(
        &self,
        ctx: &Context<'_>,
        state: Option<TdbSubmissionState>,
        first: Option<usize>,
        with_server_failures: Option<bool>,
    ) -> Result<Vec<TdbSubmissionNode>> {
        reader(ctx, "tdbSubmissions").or_api()?;
        let first = first.unwrap_or(50);
        if first == 0 || first > MAX_SUBMISSIONS {
            return Err(ApiError::bad_input(format!(
                "first must be between 1 and {MAX_SUBMISSIONS}"
            )))
            .or_api();
        }
        let submissions = ctx
            .data::<Engine>()?
            .tdb_submissions_matching(
                state.map(TdbState::from),
                with_server_failures.unwrap_or(false),
                first as u64,
            )
            .await
            .or_api()?;
        Ok(submissions
            .into_iter()
            .map(TdbSubmissionNode::from)
            .collect())
    }

    /// The transparency report of `[from, to)`, the same figures as `redress report`.
    async fn transparency_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TransparencyReportNode> {
        reader(ctx, "transparencyReport").or_api()?;
        let report = ctx
            .data::<Engine>()?
            .transparency_report(from, to)
            .await
            .or_api()?;
        Ok(report.into())
    }
}

/// Largest `first` of `rankedSources`.
const MAX_RANKED: usize = 500;

/// A dispute taken to a certified out-of-court settlement body (DSA Art. 21).
#[derive(InputObject, Debug)]
pub struct OutOfCourtDisputeInput {
    /// The appeal disputed: its id, or its reference (exactly one).
    pub appeal_id: Option<ID>,
    pub reference: Option<String>,
    /// The settlement body that took the dispute.
    pub settlement_body: String,
    pub submitted_at: DateTime<Utc>,
    /// What the body decided, when it has.
    pub outcome: Option<String>,
    /// When it decided; defaults to now when an outcome is given.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A recorded dispute.
#[derive(SimpleObject, Debug)]
pub struct OutOfCourtDispute {
    pub id: ID,
    pub appeal_id: ID,
    pub reference: String,
    pub settlement_body: String,
    pub submitted_at: DateTime<Utc>,
    pub outcome: Option<String>,
}

#[derive(Debug, Default)]
pub struct TransparencyMutation;

#[Object]
impl TransparencyMutation {
    /// Closes an open incident (after its bulk restore ran, or when the source was found
    /// sound), so a new wave from the source can raise a new one.
    async fn resolve_incident(&self, ctx: &Context<'_>, id: ID) -> Result<IncidentNode> {
        rbac::authorize(ctx, "resolveIncident").or_api()?;
        let uuid = uuid::Uuid::parse_str(id.as_str())
            .map_err(|_| ApiError::bad_input(format!("{:?} is not an incident id", id.as_str())))
            .or_api()?;
        let incident = ctx
            .data::<Engine>()?
            .resolve_incident(uuid)
            .await
            .or_api()?;
        Ok(incident.into())
    }

    /// Sends a refused statement to the Transparency Database again: as its enforcement maps
    /// now, or with `decisionFacts` in place of the facts it was refused with (checked
    /// with the database's rules first; a statement still refused is `BAD_USER_INPUT`).
    async fn resubmit_tdb_statement(
        &self,
        ctx: &Context<'_>,
        enforcement_id: ID,
        decision_facts: Option<String>,
    ) -> Result<TdbSubmissionNode> {
        let actor = rbac::authorize(ctx, "resubmitTdbStatement").or_api()?;
        let engine = ctx.data::<Engine>()?;
        let id = uuid::Uuid::parse_str(enforcement_id.as_str())
            .map_err(|_| {
                ApiError::bad_input(format!(
                    "{:?} is not an enforcement id",
                    enforcement_id.as_str()
                ))
            })
            .or_api()?;
        let correction = match decision_facts {
            None => None,
            Some(facts) => {
                let current = engine.tdb_submission(id).await.or_api()?;
                let Some(mut statement) = current.and_then(|s| s.statement) else {
                    return Err(ApiError::bad_input(
                        "this enforcement has no drafted statement to correct; resubmit without decisionFacts",
                    ))
                    .or_api();
                };
                statement.decision_facts = facts;
                Some(statement)
            }
        };
        let submission = engine.tdb_resubmit(&actor, id, correction).await.or_api()?;
        Ok(submission.into())
    }

    /// Records an out-of-court dispute about an appeal; counted in the transparency report
    /// by its submission date and audited with the caller as its recorder.
    async fn record_out_of_court_dispute(
        &self,
        ctx: &Context<'_>,
        input: OutOfCourtDisputeInput,
    ) -> Result<OutOfCourtDispute> {
        let actor = rbac::authorize(ctx, "recordOutOfCourtDispute").or_api()?;
        let engine = ctx.data::<Engine>()?;
        let appeal = match (&input.appeal_id, &input.reference) {
            (Some(id), None) => engine.appeal(parse_id(id)?).await.or_api()?,
            (None, Some(reference)) => {
                let reference: AppealReference = reference
                    .parse()
                    .map_err(|_| ApiError::bad_input(format!("{reference:?} is not a reference")))
                    .or_api()?;
                engine.appeal_by_reference(&reference).await.or_api()?
            }
            _ => {
                return Err(ApiError::bad_input(
                    "name the appeal by appealId or by reference",
                ))
                .or_api()
            }
        };
        let id = engine
            .record_dispute(
                &actor,
                NewDispute {
                    appeal_id: appeal.id,
                    settlement_body: input.settlement_body.clone(),
                    submitted_at: input.submitted_at,
                    outcome: input.outcome.clone(),
                    resolved_at: input.resolved_at,
                },
            )
            .await
            .or_api()?;
        Ok(OutOfCourtDispute {
            id: ID(id.to_string()),
            appeal_id: ID(appeal.id.to_string()),
            reference: appeal.reference.to_string(),
            settlement_body: input.settlement_body.trim().to_owned(),
            submitted_at: input.submitted_at,
            outcome: input.outcome,
        })
    }
}
