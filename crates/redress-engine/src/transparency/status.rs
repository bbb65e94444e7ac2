//! The appellant's status page: a secret token issued at filing opens one appeal. Only the
//! token's SHA-256 is stored, and it is compared in constant time, so neither the database
//! nor response timings give a token away.

use chrono::{DateTime, Utc};
use redress_core::{
    transition, Actor, AppealReference, AppealState, Automation, Channel, Command, Decision, Event,
    EventKind, StatementOfReasons,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Statement};
use serde::Serialize;
use uuid::Uuid;

use super::estimate::DecisionEstimate;
use super::wave::{self, Wave};
use crate::commands::record;
use crate::entity::appeal_status_token::{self, Entity as StatusTokens};
use crate::error::EngineError;
use crate::hooks::{NewCase, NewCaseContributor};
use crate::link_keys::{token_hash, token_matches, LinkTokenKeys};
use crate::registry::Enforcement;
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::messages::{self, Direction, Message};
use crate::repo::{events, registry};
use crate::settings::EngineSettings;
use crate::transact::TransactionError;

/// Longest text the status page accepts in one go.
pub const MAX_INFORMATION_LEN: usize = 10_000;

/// Stores the hash of every new case's token, in the filing's batch. The token itself is
/// derived again whenever a notice needs it ([`link_token`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct IssueStatusTokens;

impl NewCaseContributor for IssueStatusTokens {
    fn contribute(&self, case: &mut NewCase<'_>) {
        let token = case.settings().status_tokens.token(case.appeal().id);
        let stored = store_token_statement(case.backend(), case.appeal().id, &token, case.now());
        case.write(stored);
    }
}

/// The token that opens the status page of `appeal_id`, for a notice to carry: the one of
/// the configured keys whose token matches the stored hash. `None` when the case has no
/// token or its key is no longer configured; the notice then goes without a link.
pub async fn link_token<C: ConnectionTrait>(
    conn: &C,
    keys: &LinkTokenKeys,
    appeal_id: Uuid,
) -> Result<Option<String>, EngineError> {
    let Some(row) = StatusTokens::find_by_id(appeal_id)
        .one(conn)
        .await
        .map_err(EngineError::from)?
    else {
        return Ok(None);
    };
    Ok(keys
        .tokens(appeal_id)
        .find(|token| token_matches(token, &row.token_hash)))
}

/// Stores the hash of the appeal's token, in the filing's transaction.
fn store_token_statement(
    backend: DbBackend,
    appeal_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Statement {
    StatusTokens::insert(appeal_status_token::ActiveModel {
        appeal_id: Set(appeal_id),
        token_hash: Set(token_hash(token)),
        created_at: Set(now),
    })
    .build(backend)
}

/// Why the status page refused. The appellant sees the same answer whether the reference
/// or the token was wrong, so the page cannot be used to find references.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error("no appeal matches this reference and token")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] InformationRefusal),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Why the status page refused what the appellant added; the page says it in their
/// language, the English text is for the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InformationRefusal {
    #[error("the information must not be empty")]
    Empty,
    #[error("the information is longer than {max} bytes")]
    TooLong { max: usize },
    #[error("this appeal is {state} and takes no more information")]
    Closed { state: AppealState },
}

impl TransactionError for StatusError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            StatusError::Engine(err) => Some(err),
            _ => None,
        }
    }
}

/// The appeal behind `reference` if `token` is its token.
pub async fn open<C: ConnectionTrait>(
    conn: &C,
    reference: &str,
    token: &str,
) -> Result<StoredAppeal, StatusError> {
    let Ok(reference) = reference.parse::<AppealReference>() else {
        return Err(StatusError::NotFound);
    };
    let stored = match appeals::find_by_reference(conn, &reference).await {
        Ok(stored) => stored,
        Err(EngineError::ReferenceNotFound(_)) => return Err(StatusError::NotFound),
        Err(err) => return Err(err.into()),
    };
    let Some(row) = StatusTokens::find_by_id(stored.id)
        .one(conn)
        .await
        .map_err(EngineError::from)?
    else {
        return Err(StatusError::NotFound);
    };
    if token_matches(token, &row.token_hash) {
        Ok(stored)
    } else {
        Err(StatusError::NotFound)
    }
}

/// The enforcement an appeal concerns, as its appellant may read it: what the platform
/// recorded and the statement of reasons it gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnforcementFacts {
    /// The platform's name for the action, e.g. `account_deactivation`.
    pub kind: String,
    pub policy: String,
    pub enforced_at: DateTime<Utc>,
    pub automated_detection: Automation,
    pub automated_decision: Automation,
    pub facts: String,
    /// The statement of reasons, when the platform sent a well-formed one.
    pub statement: Option<StatementOfReasons>,
}

impl From<Enforcement> for EnforcementFacts {
    fn from(enforcement: Enforcement) -> Self {
        Self {
            statement: serde_json::from_value(enforcement.statement).ok(),
            kind: enforcement.kind,
            policy: enforcement.policy,
            enforced_at: enforcement.enforced_at,
            automated_detection: enforcement.automated_detection,
            automated_decision: enforcement.automated_decision,
            facts: enforcement.facts,
        }
    }
}

/// What a notice to the appellant may say about the case: the enforcement, when a
/// decision is due and the token of the status-page link.
#[derive(Debug, Clone, PartialEq)]
pub struct AppellantCase {
    pub appeal_id: Uuid,
    pub reference: String,
    pub state: AppealState,
    pub enforcement: Option<EnforcementFacts>,
    /// The decision deadline under the case's SLA policy, business hours included; `None`
    /// while the case waits for the appellant or once it is decided.
    pub decision_due_at: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    /// The status page's token; `None` when the case has none (see [`link_token`]).
    pub status_token: Option<String>,
    /// The wave of faulty enforcements the case belongs to, if any.
    pub wave: Option<Wave>,
}

/// The facts of `appeal_id` a notice tells its appellant.
pub async fn appellant_case<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    appeal_id: Uuid,
) -> Result<AppellantCase, EngineError> {
    let stored = appeals::find(conn, appeal_id).await?;
    let row = enforcement_of(conn, &stored).await?;
    let wave = wave_of_case(conn, &stored, row.as_ref()).await?;
    Ok(AppellantCase {
        appeal_id,
        reference: stored.reference.to_string(),
        state: stored.appeal.state,
        enforcement: row.map(facts_of).transpose()?,
        decision_due_at: settings.sla_schedule(&stored.appeal).decision_due_at,
        decision: stored.appeal.decision.clone(),
        status_token: link_token(conn, &settings.status_tokens, appeal_id).await?,
        wave,
    })
}

/// The wave a case is told it belongs to: while no decision is taken on it, or when a bulk
/// job closed it. A case a reviewer decided has its answer; an incident still open over
/// its enforcement would contradict an upheld decision, and tell a restored one what it
/// already knows.
async fn wave_of_case<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
    enforcement: Option<&crate::entity::enforcement::Model>,
) -> Result<Option<Wave>, EngineError> {
    let closed_by_bulk_restore = closed_by_bulk_restore(stored);
    match enforcement {
        Some(row)
            if (stored.appeal.state.is_open() && stored.appeal.decision.is_none())
                || closed_by_bulk_restore =>
        {
            wave::wave_of(conn, row, closed_by_bulk_restore).await
        }
        _ => Ok(None),
    }
}

/// A bulk job closes a case as restored without a reviewer's decision.
fn closed_by_bulk_restore(stored: &StoredAppeal) -> bool {
    stored.appeal.state == AppealState::Restored && stored.appeal.decision.is_none()
}

fn facts_of(row: crate::entity::enforcement::Model) -> Result<EnforcementFacts, EngineError> {
    Enforcement::try_from(row).map(EnforcementFacts::from)
}

/// The enforcement the case concerns: its own, or for an unverified mail appeal the latest
/// of the account registered to its address.
async fn enforcement_of<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
) -> Result<Option<crate::entity::enforcement::Model>, EngineError> {
    Ok(match stored.appeal.enforcement_id {
        Some(id) => registry::find_enforcement(conn, id).await?,
        // An unverified mail appeal is not linked to the account yet. The account
        // registered to its contact address is the one it claims, and its latest
        // enforcement is told only to that same address (the notice, the link in it).
        None => match claimed_account(conn, stored).await? {
            Some(account) => registry::latest_enforcement(conn, &account).await?,
            None => None,
        },
    })
}

/// The account registered to the case's mail contact, if any.
async fn claimed_account<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
) -> Result<Option<String>, EngineError> {
    if stored.appeal.channel != Channel::Email {
        return Ok(None);
    }
    crate::triage::claimed_account_id(conn, stored).await
}

/// One step of the case's history, in words the appellant reads. `step` names it, so a
/// page in another language can say it in its own words; `what` says it in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub step: HistoryStep,
    pub what: String,
}

/// What happened to the case, as far as the appellant is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStep {
    Received,
    Queued,
    InformationRequested,
    AnswerReceived,
    InformationSent,
    Decided,
    Upheld,
    Restored,
    Reopened,
    Closed,
    Escalated,
    AccountConnected,
}

impl HistoryStep {
    pub const ALL: &'static [HistoryStep] = &[
        HistoryStep::Received,
        HistoryStep::Queued,
        HistoryStep::InformationRequested,
        HistoryStep::AnswerReceived,
        HistoryStep::InformationSent,
        HistoryStep::Decided,
        HistoryStep::Upheld,
        HistoryStep::Restored,
        HistoryStep::Reopened,
        HistoryStep::Closed,
        HistoryStep::Escalated,
        HistoryStep::AccountConnected,
    ];

    /// The step in English.
    pub fn in_words(self) -> &'static str {
        match self {
            HistoryStep::Received => "We received your appeal.",
            HistoryStep::Queued => "Your appeal was placed in a review queue.",
            HistoryStep::InformationRequested => "The reviewer asked you for more information.",
            HistoryStep::AnswerReceived => "Your answer arrived and the review continued.",
            HistoryStep::InformationSent => "You sent us information.",
            HistoryStep::Decided => "A reviewer decided on your appeal.",
            HistoryStep::Upheld => "The original decision was confirmed.",
            HistoryStep::Restored => "Your account or content was restored.",
            HistoryStep::Reopened => "Your appeal was reopened.",
            HistoryStep::Closed => "Your appeal was closed.",
            HistoryStep::Escalated => "Your appeal was passed to a senior reviewer.",
            HistoryStep::AccountConnected => "Your account was connected to this appeal.",
        }
    }
}

/// The history as the appellant sees it: what happened to the case, without the staff's
/// own work on it (claims, notes, internal reviews of a decision).
fn history_in_words(events: &[(i64, Event)]) -> Vec<HistoryEntry> {
    events
        .iter()
        .filter_map(|(_, event)| {
            let step = match &event.kind {
                EventKind::Filed(_) => HistoryStep::Received,
                EventKind::Triaged { .. } => HistoryStep::Queued,
                EventKind::InfoRequested { .. } => HistoryStep::InformationRequested,
                EventKind::UserReplied => HistoryStep::AnswerReceived,
                EventKind::MessageReceived { .. } => HistoryStep::InformationSent,
                EventKind::Decided { .. } => HistoryStep::Decided,
                EventKind::Upheld => HistoryStep::Upheld,
                EventKind::Restored { .. } | EventKind::BulkRestored { .. } => {
                    HistoryStep::Restored
                }
                EventKind::Reopened { .. } => HistoryStep::Reopened,
                EventKind::Withdrawn { .. } => HistoryStep::Closed,
                EventKind::Escalated { .. } => HistoryStep::Escalated,
                EventKind::IdentityLinked { .. } => HistoryStep::AccountConnected,
                EventKind::Claimed { .. }
                | EventKind::ClaimRenewed { .. }
                | EventKind::Released
                | EventKind::LeaseExpired
                | EventKind::DecisionApproved { .. }
                | EventKind::DecisionRejected { .. }
                | EventKind::SlaWarned { .. }
                | EventKind::NoteAdded { .. } => return None,
            };
            Some(HistoryEntry {
                at: event.at,
                step,
                what: step.in_words().to_owned(),
            })
        })
        .collect()
}

/// What the appellant sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    pub reference: String,
    pub state: AppealState,
    /// The state in plain words.
    pub state_in_words: String,
    pub filed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What happens next, or what is asked of the appellant.
    pub expected: String,
    /// When a decision is due under the SLA policy, business hours included.
    pub decision_due_at: Option<DateTime<Utc>>,
    /// When a decision is likely, from the queue's position and recent pace; none when
    /// no reviewer has the case to decide or the queue's pace says too little.
    pub estimate: Option<DecisionEstimate>,
    /// The enforcement the appeal concerns.
    pub enforcement: Option<EnforcementFacts>,
    /// The question of an open information request.
    pub information_requested: Option<String>,
    pub decision: Option<Decision>,
    pub history: Vec<HistoryEntry>,
    /// Whether the page accepts more information now.
    pub accepts_information: bool,
    /// The appellant's language (the case's `language:xx` tag), when the case has one.
    pub language: Option<String>,
    /// The wave of faulty enforcements the case belongs to, if any.
    pub wave: Option<Wave>,
}

/// The state in words the appellant reads.
pub fn state_in_words(state: AppealState) -> &'static str {
    match state {
        AppealState::Filed => "Received, waiting for a reviewer",
        AppealState::Triaged => "In the review queue",
        AppealState::AwaitingUser => "Waiting for your answer",
        AppealState::Reviewed => "Decided, the decision is being confirmed",
        AppealState::Restored => "Decided: restored",
        AppealState::Upheld => "Decided: the original decision stands",
        AppealState::Withdrawn => "Closed",
    }
}

/// Builds the view of an opened appeal.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &StoredAppeal,
) -> Result<StatusView, EngineError> {
    let appeal = &stored.appeal;
    let events = events::history(conn, stored.id).await?;
    let information_requested = if appeal.state == AppealState::AwaitingUser {
        events
            .iter()
            .rev()
            .find_map(|(_, event)| match &event.kind {
                EventKind::InfoRequested { message } => Some(message.clone()),
                _ => None,
            })
    } else {
        None
    };
    let expected = match appeal.state {
        AppealState::Filed | AppealState::Triaged => {
            "A reviewer will look at your appeal. You can add information below at any time."
        }
        AppealState::AwaitingUser => {
            "We need information from you to continue: please answer the question below."
        }
        AppealState::Reviewed => "A decision was taken and is being confirmed.",
        AppealState::Restored => "Your account or content was restored. Nothing more is needed.",
        AppealState::Upheld => {
            "The decision was upheld. The statement of reasons says how you can take this further."
        }
        AppealState::Withdrawn => "This appeal is closed.",
    }
    .to_owned();
    let row = enforcement_of(conn, stored).await?;
    // The page states a closed case's outcome itself. (The acknowledgement of a case a
    // bulk job closed as it was filed still says the account is being restored: for a
    // person the job could not reach, it is all they hear.)
    let wave = if appeal.state.is_open() {
        wave_of_case(conn, stored, row.as_ref()).await?
    } else {
        None
    };
    Ok(StatusView {
        reference: stored.reference.to_string(),
        state: appeal.state,
        state_in_words: state_in_words(appeal.state).to_owned(),
        filed_at: appeal.filed_at,
        updated_at: appeal.updated_at,
        expected,
        decision_due_at: settings.sla_schedule(appeal).decision_due_at,
        estimate: None,
        enforcement: row.map(facts_of).transpose()?,
        information_requested,
        decision: appeal
            .decision
            .clone()
            .filter(|_| appeal.state.is_terminal() || appeal.state == AppealState::Reviewed),
        history: history_in_words(&events),
        accepts_information: appeal.state.is_open(),
        language: crate::policies::appellant_language(&appeal.tags),
        wave,
    })
}

/// Files what the appellant added as a message on the case; an answer to an information
/// request resumes the case. The caller owns the transaction.
pub async fn add_information<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &mut StoredAppeal,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, StatusError> {
    let text = crate::text::without_nul(text);
    let text = text.trim();
    if text.is_empty() {
        return Err(InformationRefusal::Empty.into());
    }
    if text.len() > MAX_INFORMATION_LEN {
        return Err(InformationRefusal::TooLong {
            max: MAX_INFORMATION_LEN,
        }
        .into());
    }
    if !stored.appeal.state.is_open() {
        return Err(InformationRefusal::Closed {
            state: stored.appeal.state,
        }
        .into());
    }
    let message_id = Uuid::now_v7();
    let sender = stored
        .contact
        .clone()
        .unwrap_or_else(|| stored.reference.to_string());
    messages::insert(
        conn,
        Message {
            id: message_id,
            appeal_id: Some(stored.id),
            direction: Direction::Inbound,
            channel: Channel::Api,
            channel_message_id: None,
            in_reply_to: None,
            sender: sender.clone(),
            recipient: None,
            subject: Some("Added on the status page".to_owned()),
            body: text.to_owned(),
            classification: "appeal".to_owned(),
            metadata: serde_json::json!({ "via": "status_page" }),
            received_at: now,
        },
    )
    .await?;
    let appellant = Actor::appellant(sender);
    let intake = Actor::system("status_page");
    let mut events = transition::decide(
        &stored.appeal,
        &Command::MessageReceived { message_id },
        &appellant,
        now,
    )
    .map_err(EngineError::from)?;
    if stored.appeal.state == AppealState::AwaitingUser {
        let mut after = stored.appeal.clone();
        for event in &events {
            after.apply(event);
        }
        events.extend(
            transition::decide(&after, &Command::UserReplied, &intake, now)
                .map_err(EngineError::from)?,
        );
    }
    record(conn, settings, stored, &events, now).await?;
    Ok(message_id)
}
