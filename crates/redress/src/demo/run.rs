//! Carrying a plan out through the engine, step by step on a clock that walks from the
//! wave's first enforcement to now: mail through the email intake, DMs through the DM
//! intake, staff commands as staff, and the outbox dispatcher and faulty-enforcement
//! detector on their rounds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{bail, Context};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox as Address;
use lettre::Message;
use redress_core::{Actor, Command, Outcome, Role, RuleRef};
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::transparency::DetectorSettings;
use redress_engine::worker::{DispatchSettings, Dispatcher};
use redress_engine::{Clock, Engine, Filing, IncomingAppeal, ManualClock};
use redress_intake::email::{Delivered, EmailIntake, Envelope};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::mailbox::{self, Mailbox};
use super::plan::{texts, Action, Mail, Plan, Source, Triage};

/// The `authserv-id` of the receiving mail server the demo's mail passes through; the
/// demo's intake trusts it, as a deployment trusts its own MX.
pub const DEMO_AUTHSERV_ID: &str = "mx.demo.redress.example";

/// Outbox rounds in one step at most: a restoration's confirmation queues a notice, which
/// the next round delivers, and so on, but never without end.
const MAX_ROUNDS_PER_STEP: usize = 1000;

/// What the demo made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub accounts: usize,
    /// Enforcements per source id.
    pub enforcements: BTreeMap<String, usize>,
    /// Enforcements of the misfiring model against accounts that only saved the image.
    pub saved_not_created: usize,
    /// Appeals per channel.
    pub appeals: BTreeMap<String, usize>,
    /// Appeals per language.
    pub languages: BTreeMap<String, usize>,
    /// Mails that joined their appeal's thread.
    pub follow_ups: usize,
    /// Appeals each routing rule triaged as they were filed, by the rule's name.
    pub routed: BTreeMap<String, usize>,
    /// DM senders who confirmed their handle through the link mailed to their account.
    pub handles_linked: usize,
    /// Appeals triaged by hand.
    pub triaged: usize,
    pub restored_by_reviewers: usize,
    pub upheld: usize,
    /// Cases a reviewer holds right now.
    pub in_review: usize,
    pub awaiting_appellant: usize,
    /// What Redress sent to the wave's people and staff (kept by the demo).
    pub notices: usize,
    pub incidents: Vec<RaisedIncident>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedIncident {
    pub source_kind: String,
    pub source_id: String,
    pub decided: u64,
    pub overturned: u64,
    /// Accounts the incident's ready bulk restore covers.
    pub accounts_to_restore: u64,
}

/// The intakes and settings the steps go through.
pub struct Channels {
    pub email: EmailIntake,
    /// Where Redress receives mail (the envelope's recipient).
    pub appeals_address: String,
    pub confirmation: ConfirmationSettings,
    pub detector: DetectorSettings,
}

pub struct Runner<'a> {
    engine: Engine,
    clock: ManualClock,
    plan: &'a Plan,
    channels: Channels,
    mailbox: Arc<Mailbox>,
    dispatcher: Dispatcher,
    /// The case each planned appeal became, once filed.
    cases: Vec<Option<(Uuid, String)>>,
    /// The ids the plan's routing rules got, in the plan's order.
    rule_ids: Vec<Uuid>,
    report: Report,
}

impl<'a> Runner<'a> {
    /// `engine` must run on `clock`.
    pub fn new(engine: Engine, clock: ManualClock, plan: &'a Plan, channels: Channels) -> Self {
        let mailbox = Arc::new(Mailbox::default());
        let dispatcher = Dispatcher::for_engine(
            &engine,
            Arc::new(mailbox::registry(&engine, &mailbox)),
            DispatchSettings {
                batch_size: 500,
                ..DispatchSettings::default()
            },
        );
        Self {
            engine,
            clock,
            plan,
            channels,
            mailbox,
            dispatcher,
            cases: vec![None; plan.appeals.len()],
            rule_ids: Vec::new(),
            report: Report::default(),
        }
    }

    pub async fn run(mut self) -> anyhow::Result<Report> {
        let plan = self.plan;
        self.report.accounts = plan.people.len();
        for enforcement in &plan.enforcements {
            *self
                .report
                .enforcements
                .entry(enforcement.source.id().to_owned())
                .or_default() += 1;
            if enforcement.source == Source::FaultyModel
                && enforcement.relation == redress_engine::registry::ContentRelation::Saved
            {
                self.report.saved_not_created += 1;
            }
        }
        if let Some(first) = plan.steps.first() {
            self.clock.set(first.at);
        }
        self.set_up_routing().await?;
        for step in &plan.steps {
            self.clock.set(step.at);
            self.perform(&step.action)
                .await
                .with_context(|| format!("at {}: {}", step.at, step.action.describe()))?;
        }
        self.report.notices = self.mailbox.received();
        Ok(self.report)
    }

    /// The admin writes the plan's rules before the wave; from then on they triage every
    /// appeal they match as it is filed, as in production.
    async fn set_up_routing(&mut self) -> anyhow::Result<()> {
        let admin = Actor::staff(super::plan::ADMIN, [Role::Admin]);
        for definition in &self.plan.rules {
            let created = self
                .engine
                .create_routing_rule(&admin, definition.clone())
                .await
                .with_context(|| format!("creating the routing rule {:?}", definition.name))?;
            self.rule_ids.push(created.rule.id);
        }
        Ok(())
    }

    /// Checks that the rules triaged the new appeal as the plan has it (the schedule's
    /// hand triage and reviews rely on it), and counts it.
    fn routed(&mut self, appeal: usize, triaged_by: Option<RuleRef>) -> anyhow::Result<()> {
        let planned = self.plan.appeals[appeal].routed_by;
        let expected = planned.and_then(|index| self.rule_ids.get(index).copied());
        let actual = triaged_by.map(|rule| rule.id);
        if actual != expected {
            let name = |id: Option<Uuid>| {
                id.and_then(|id| self.rule_ids.iter().position(|r| *r == id))
                    .map_or_else(
                        || "left for a person".to_owned(),
                        |index| format!("routed by {:?}", self.plan.rules[index].name),
                    )
            };
            bail!(
                "appeal {appeal} was {} at filing, but the plan has it {}",
                name(actual),
                name(expected)
            );
        }
        if let Some(index) = planned {
            *self
                .report
                .routed
                .entry(self.plan.rules[index].name.clone())
                .or_default() += 1;
        }
        Ok(())
    }

    fn case(&self, appeal: usize) -> anyhow::Result<&(Uuid, String)> {
        self.cases
            .get(appeal)
            .and_then(Option::as_ref)
            .with_context(|| format!("appeal {appeal} was not filed"))
    }

    async fn perform(&mut self, action: &Action) -> anyhow::Result<()> {
        let plan = self.plan;
        match action {
            Action::RecordEnforcements { enforcements } => {
                let batch = enforcements
                    .iter()
                    .map(|&e| plan.enforcements[e].record.clone())
                    .collect();
                self.engine.record_enforcements(batch).await?;
            }
            Action::Email { appeal, mail } => self.email(*appeal, mail).await?,
            Action::DirectMessage {
                appeal,
                event_id,
                text,
            } => self.direct_message(*appeal, event_id, text).await?,
            Action::FollowConfirmationLink { appeal } => {
                let (id, _) = *self.case(*appeal)?;
                let Some(token) = self.mailbox.take_link(id) else {
                    bail!("no confirmation link was mailed about appeal {appeal}");
                };
                self.engine.confirm_handle(&token).await?;
                self.report.handles_linked += 1;
            }
            Action::Triage { appeal, by, triage } => self.triage(*appeal, by, triage).await?,
            Action::Claim { appeal, by } => {
                let (id, _) = *self.case(*appeal)?;
                let lease_until = self.clock.now()
                    + chrono::TimeDelta::from_std(self.engine.settings().claim_lease)?;
                self.engine
                    .apply(id, None, &Command::Claim { lease_until }, &reviewer(by))
                    .await?;
                self.report.in_review += 1;
            }
            Action::Decide {
                appeal,
                by,
                outcome,
                reasons,
                statement,
            } => {
                let (id, _) = *self.case(*appeal)?;
                let command = Command::Decide {
                    outcome: *outcome,
                    reasons: (*reasons).to_owned(),
                    statement: statement.clone(),
                    manifestly_unfounded: false,
                    template: None,
                };
                self.engine.apply(id, None, &command, &reviewer(by)).await?;
                self.report.in_review -= 1;
                match outcome {
                    Outcome::Restore => self.report.restored_by_reviewers += 1,
                    Outcome::Uphold => self.report.upheld += 1,
                }
            }
            Action::RequestInfo { appeal, by } => {
                let (id, _) = *self.case(*appeal)?;
                let command = Command::RequestInfo {
                    message: texts::REQUEST_INFO.to_owned(),
                };
                self.engine.apply(id, None, &command, &reviewer(by)).await?;
                self.report.awaiting_appellant += 1;
            }
            Action::Deliver => self.deliver().await?,
            Action::LookForFaultySources => {
                for incident in self
                    .engine
                    .detect_faulty_sources(&self.channels.detector)
                    .await?
                {
                    self.report.incidents.push(RaisedIncident {
                        source_kind: incident.source.kind,
                        source_id: incident.source.id,
                        decided: incident.decided,
                        overturned: incident.overturned,
                        accounts_to_restore: incident.dry_run_accounts,
                    });
                }
            }
        }
        Ok(())
    }

    async fn email(&mut self, appeal: usize, mail: &Mail) -> anyhow::Result<()> {
        let planned = &self.plan.appeals[appeal];
        let person = &self.plan.people[planned.person];
        let subject = if mail.about_the_appeal {
            let (_, reference) = self.case(appeal)?;
            format!("Re: {} [{reference}]", mail.subject)
        } else {
            mail.subject.clone()
        };
        let raw = mime(
            person,
            &self.channels.appeals_address,
            &subject,
            mail,
            planned.language.code(),
            SystemTime::from(self.clock.now()),
        )?;
        let envelope = Envelope {
            mail_from: Some(person.email.clone()),
            rcpt_to: vec![self.channels.appeals_address.clone()],
        };
        match self.channels.email.receive(&raw, &envelope).await? {
            Delivered::Filed {
                appeal_id,
                reference,
            } => {
                self.filed(appeal, appeal_id, reference);
                let stored = self.engine.appeal(appeal_id).await?;
                self.routed(appeal, stored.appeal.triaged_by)?;
            }
            Delivered::Threaded { .. } => self.report.follow_ups += 1,
            other => bail!("mail {} was not filed: {other:?}", mail.message_id),
        }
        Ok(())
    }

    async fn direct_message(
        &mut self,
        appeal: usize,
        event_id: &str,
        text: &str,
    ) -> anyhow::Result<()> {
        let planned = &self.plan.appeals[appeal];
        let platform = planned.channel.as_str();
        let sender = super::plan::social_id(platform, planned.person);
        // What the X and Meta webhooks hand the engine for one message.
        let incoming = IncomingAppeal {
            channel: planned.channel,
            channel_message_id: Some(event_id.to_owned()),
            sender: sender.clone(),
            contact: Some(sender),
            account_id: None,
            enforcement_id: None,
            identity_verified: false,
            subject: None,
            body: text.to_owned(),
            in_reply_to: None,
            metadata: json!({"platform": platform, "recipient_id": "demo-redress-support"}),
        };
        let receipt = self
            .engine
            .receive_direct_message(incoming, &self.channels.confirmation)
            .await?;
        match receipt.filing {
            Filing::Created(stored) => {
                self.filed(appeal, stored.id, stored.reference.to_string());
                self.routed(appeal, stored.appeal.triaged_by)?;
            }
            Filing::Appended(_) => {}
            other => bail!("DM {event_id} was not filed: {other:?}"),
        }
        Ok(())
    }

    fn filed(&mut self, appeal: usize, id: Uuid, reference: String) {
        let planned = &self.plan.appeals[appeal];
        self.cases[appeal] = Some((id, reference));
        *self
            .report
            .appeals
            .entry(planned.channel.as_str().to_owned())
            .or_default() += 1;
        *self
            .report
            .languages
            .entry(planned.language.code().to_owned())
            .or_default() += 1;
    }

    async fn triage(&mut self, appeal: usize, by: &str, triage: &Triage) -> anyhow::Result<()> {
        let (id, _) = *self.case(appeal)?;
        let stored = self.engine.appeal(id).await?;
        let command = Command::Triage {
            priority: triage.priority,
            queue: triage.queue.clone(),
            tags: triage.tags.clone(),
            identity_verified: triage.identity_verified || stored.appeal.identity_verified,
            four_eyes: stored.appeal.four_eyes,
            link: None,
        };
        self.engine
            .apply(id, None, &command, &Actor::staff(by, [Role::Triager]))
            .await?;
        self.report.triaged += 1;
        Ok(())
    }

    /// Dispatcher rounds until nothing is due.
    async fn deliver(&mut self) -> anyhow::Result<()> {
        let (_keep, stop) = watch::channel(false);
        for _ in 0..MAX_ROUNDS_PER_STEP {
            let round = self.dispatcher.run_once(&stop).await?;
            if round.claimed == 0 {
                return Ok(());
            }
            if round.dead_lettered > 0 {
                bail!(
                    "{} outbox items could not be delivered",
                    round.dead_lettered
                );
            }
        }
        bail!("the outbox did not drain in {MAX_ROUNDS_PER_STEP} rounds")
    }
}

fn reviewer(subject: &str) -> Actor {
    Actor::staff(subject, [Role::Reviewer])
}

/// The mail as the person's provider sends it, stamped by the receiving server.
fn mime(
    person: &super::plan::Person,
    to: &str,
    subject: &str,
    mail: &Mail,
    language: &str,
    date: SystemTime,
) -> anyhow::Result<Vec<u8>> {
    let from = Address::new(Some(person.name.clone()), person.email.parse()?);
    let mut message = Message::builder()
        .from(from)
        .to(to.parse()?)
        .subject(subject)
        .message_id(Some(mail.message_id.clone()))
        .date(date)
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())?;
    let headers = message.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Content-Language"),
        language.to_owned(),
    ));
    if mail.authenticated {
        let domain = person.email.rsplit_once('@').map_or("", |(_, d)| d);
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Authentication-Results"),
            format!("{DEMO_AUTHSERV_ID}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"),
        ));
    }
    Ok(message.formatted())
}
