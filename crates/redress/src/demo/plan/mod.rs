//! The demo wave as data: who the people are, what the platform did to them, what they
//! write and when, and what staff do about it, all drawn from one seed. Nothing here
//! touches a database; `run` carries a plan out through the engine.

mod enforcements;
mod people;
pub mod routing;
mod schedule;
pub mod texts;
mod triage;

use chrono::{DateTime, TimeDelta, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use redress_core::{Channel, Outcome, StatementOfReasons};
use redress_engine::registry::ContentRelation;
use redress_routing::RuleDefinition;

pub use enforcements::{
    PlannedEnforcement, Source, FAULTY_BATCH, FAULTY_MODEL, MODERATORS, SPAM_RULE,
};
pub use people::{social_id, Person};
pub use triage::{triage_by_hand, AppealFacts, Triage};

/// The languages people write in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    En,
    De,
    Fr,
    Es,
    Pt,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::En,
        Language::De,
        Language::Fr,
        Language::Es,
        Language::Pt,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Pt => "pt",
        }
    }
}

/// Staff of the demo, by what they do: the admin set up the routing rules before the wave.
pub const ADMIN: &str = "ines";
pub const TRIAGERS: [&str; 2] = ["tomas", "aylin"];
pub const REVIEWERS: [&str; 3] = ["rita", "omar", "mei"];

/// How much of everything: the defaults make a wave that looks like the incident.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Share of accounts hit by everyday sources rather than the misfiring model.
    pub everyday_share: f64,
    /// Share of the wave's accounts that appeal (by now).
    pub wave_appeal_share: f64,
    pub everyday_appeal_share: f64,
    /// How long ago the model started misfiring, and for how long it ran.
    pub wave_age: TimeDelta,
    pub wave_length: TimeDelta,
    /// Appeals filed more recently than this are still waiting for triage: just under the
    /// default time-to-triage (4 hours), so the oldest of them warn soon after `serve` starts.
    pub triage_backlog: TimeDelta,
    /// Share of the wave's accounts whose appeals reviewers have decided.
    pub decided_share: f64,
    /// Decided appeals at the least, so that the detector has enough to judge.
    pub decided_at_least: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            everyday_share: 0.12,
            wave_appeal_share: 0.6,
            everyday_appeal_share: 0.35,
            wave_age: TimeDelta::hours(20),
            wave_length: TimeDelta::hours(6),
            triage_backlog: TimeDelta::minutes(230),
            decided_share: 0.05,
            decided_at_least: 40,
        }
    }
}

/// An appeal someone will send, how, and whether a routing rule triages it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAppeal {
    pub person: usize,
    pub enforcement: usize,
    pub channel: Channel,
    pub language: Language,
    pub filed_at: DateTime<Utc>,
    /// Email: a trusted server vouches for the sender. DM: the person followed the link
    /// mailed to the account's address (before triage, when triaged).
    pub sender_verified: bool,
    /// The routing rule (its place in [`Plan::rules`]) that triages the appeal as it is
    /// filed; `None` when it waits for a person.
    pub routed_by: Option<usize>,
}

/// A mail someone sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub message_id: String,
    pub subject: String,
    pub body: String,
    /// Stamped by the demo's receiving server as passing DMARC.
    pub authenticated: bool,
    /// A reply about an appeal: the subject gets the appeal's reference.
    pub about_the_appeal: bool,
}

/// What happens at one moment of the demo.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The platform pushes these enforcements in.
    RecordEnforcements {
        enforcements: Vec<usize>,
    },
    /// A mail about appeal `appeal` arrives.
    Email {
        appeal: usize,
        mail: Mail,
    },
    /// A direct message about appeal `appeal` arrives.
    DirectMessage {
        appeal: usize,
        event_id: String,
        text: String,
    },
    /// The person opens the link mailed to the account's address.
    FollowConfirmationLink {
        appeal: usize,
    },
    Triage {
        appeal: usize,
        by: &'static str,
        triage: Triage,
    },
    Claim {
        appeal: usize,
        by: &'static str,
    },
    Decide {
        appeal: usize,
        by: &'static str,
        outcome: Outcome,
        reasons: &'static str,
        statement: Option<StatementOfReasons>,
    },
    RequestInfo {
        appeal: usize,
        by: &'static str,
    },
    /// The outbox dispatcher's round: acknowledgements, prompts and confirmation links go
    /// to the people, restorations to the account registry.
    Deliver,
    /// The faulty-enforcement detector's round.
    LookForFaultySources,
}

impl Action {
    /// What the step does and to which appeal, in a few words for error messages.
    pub fn describe(&self) -> String {
        match self {
            Action::RecordEnforcements { enforcements } => {
                format!("recording {} enforcements", enforcements.len())
            }
            Action::Email { appeal, mail } => {
                format!("mail {} about appeal {appeal}", mail.message_id)
            }
            Action::DirectMessage {
                appeal, event_id, ..
            } => {
                format!("DM {event_id} about appeal {appeal}")
            }
            Action::FollowConfirmationLink { appeal } => {
                format!("opening the confirmation link of appeal {appeal}")
            }
            Action::Triage { appeal, by, .. } => format!("{by} triaging appeal {appeal}"),
            Action::Claim { appeal, by } => format!("{by} claiming appeal {appeal}"),
            Action::Decide {
                appeal,
                by,
                outcome,
                ..
            } => {
                format!("{by} deciding {outcome} on appeal {appeal}")
            }
            Action::RequestInfo { appeal, by } => {
                format!("{by} asking for information on appeal {appeal}")
            }
            Action::Deliver => "delivering the outbox".to_owned(),
            Action::LookForFaultySources => "looking for faulty sources".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub action: Action,
}

/// Everything the demo will do, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// The routing rules in force from the wave's start, in order.
    pub rules: Vec<RuleDefinition>,
    pub people: Vec<Person>,
    pub enforcements: Vec<PlannedEnforcement>,
    pub appeals: Vec<PlannedAppeal>,
    pub steps: Vec<Step>,
}

impl Plan {
    /// The wave of `accounts` accounts drawn from `seed`, ending at `now`. `default_queue`
    /// is where triage puts cases.
    pub fn new(
        seed: u64,
        accounts: usize,
        now: DateTime<Utc>,
        shape: &Shape,
        default_queue: &str,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let wave_start = now - shape.wave_age;
        let mut people = Vec::with_capacity(accounts);
        let mut enforcements = Vec::with_capacity(accounts);
        for index in 0..accounts {
            let language = pick(&mut rng, LANGUAGES);
            let person = people::person(&mut rng, index, language);
            let source = if rng.random_bool(shape.everyday_share) {
                pick(
                    &mut rng,
                    &[(Source::SpamRule, 0.6), (Source::Moderators, 0.4)],
                )
            } else {
                Source::FaultyModel
            };
            let (relation, at) = match source {
                Source::FaultyModel => (
                    pick(&mut rng, WAVE_RELATIONS),
                    wave_start + within(&mut rng, shape.wave_length),
                ),
                _ => (
                    ContentRelation::Created,
                    now - TimeDelta::days(14) + within(&mut rng, TimeDelta::days(10)),
                ),
            };
            let record = enforcements::record(
                index,
                &person.account_id,
                &person.email,
                source,
                relation,
                at,
            );
            enforcements.push(PlannedEnforcement {
                person: index,
                source,
                relation,
                record,
            });
            people.push(person);
        }
        let rules = routing::rules();
        let mut appeals = appeals(&mut rng, &enforcements, &people, now, shape);
        for appeal in &mut appeals {
            let facts = routing::facts_at_filing(appeal, &enforcements[appeal.enforcement]);
            appeal.routed_by = routing::deciding_rule(&rules, &facts);
        }
        let steps = schedule::steps(
            &mut rng,
            &schedule::Wave {
                now,
                wave_start,
                shape,
                default_queue,
                people: &people,
                enforcements: &enforcements,
                appeals: &appeals,
            },
        );
        Plan {
            seed,
            now,
            rules,
            people,
            enforcements,
            appeals,
            steps,
        }
    }
}

const LANGUAGES: &[(Language, f64)] = &[
    (Language::En, 0.40),
    (Language::De, 0.18),
    (Language::Fr, 0.14),
    (Language::Es, 0.14),
    (Language::Pt, 0.14),
];

const WAVE_RELATIONS: &[(ContentRelation, f64)] = &[
    (ContentRelation::Saved, 0.45),
    (ContentRelation::Created, 0.40),
    (ContentRelation::Shared, 0.15),
];

const CHANNELS: &[(Channel, f64)] = &[
    (Channel::Email, 0.62),
    (Channel::X, 0.16),
    (Channel::Instagram, 0.22),
];

/// One of `choices`, drawn by weight.
fn pick<T: Copy>(rng: &mut impl Rng, choices: &[(T, f64)]) -> T {
    choices
        .choose_weighted(rng, |(_, weight)| *weight)
        .map_or(choices[0].0, |(choice, _)| *choice)
}

/// A moment within `span` from its start.
fn within(rng: &mut impl Rng, span: TimeDelta) -> TimeDelta {
    TimeDelta::seconds(rng.random_range(0..span.num_seconds().max(1)))
}

/// A delay of `least` plus an exponential wait of mean `mean`: most people write soon,
/// some much later.
fn delay(rng: &mut impl Rng, least: TimeDelta, mean: TimeDelta) -> TimeDelta {
    let uniform: f64 = rng.random_range(f64::EPSILON..1.0);
    least + TimeDelta::seconds((-uniform.ln() * mean.num_seconds() as f64) as i64)
}

/// Who appeals, on which channel and when. Nobody appeals after `now`.
fn appeals(
    rng: &mut impl Rng,
    enforcements: &[PlannedEnforcement],
    people: &[Person],
    now: DateTime<Utc>,
    shape: &Shape,
) -> Vec<PlannedAppeal> {
    let mut appeals = Vec::new();
    for (index, enforcement) in enforcements.iter().enumerate() {
        let (share, least, mean) = match enforcement.source {
            Source::FaultyModel => (
                shape.wave_appeal_share,
                TimeDelta::minutes(20),
                TimeDelta::hours(6),
            ),
            _ => (
                shape.everyday_appeal_share,
                TimeDelta::hours(2),
                TimeDelta::hours(20),
            ),
        };
        if !rng.random_bool(share) {
            continue;
        }
        let channel = pick(rng, CHANNELS);
        // Most people write within hours; others only when they notice, or hear of the
        // wave, any time since.
        let filed_at = if enforcement.source == Source::FaultyModel && rng.random_bool(0.3) {
            let since = enforcement.enforced_at() + least;
            since + within(rng, now - since)
        } else {
            enforcement.enforced_at() + delay(rng, least, mean)
        };
        let sender_verified = match channel {
            Channel::Email => rng.random_bool(0.8),
            _ => rng.random_bool(0.6),
        };
        if filed_at >= now - TimeDelta::minutes(2) {
            continue;
        }
        appeals.push(PlannedAppeal {
            person: enforcement.person,
            enforcement: index,
            channel,
            language: people[enforcement.person].language,
            filed_at,
            sender_verified,
            routed_by: None,
        });
    }
    appeals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64, accounts: usize) -> Plan {
        let now = DateTime::parse_from_rfc3339("2025-03-14T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        Plan::new(seed, accounts, now, &Shape::default(), "general")
    }

    #[test]
    fn a_seed_draws_the_same_plan_every_time_and_another_seed_another() {
        assert_eq!(plan(7, 300), plan(7, 300));
        assert_ne!(plan(7, 300).appeals, plan(8, 300).appeals);
    }

    #[test]
    fn steps_are_in_time_order_and_end_by_now() {
        let plan = plan(1, 500);
        assert!(plan.steps.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(plan.steps.iter().all(|s| s.at <= plan.now));
        assert!(matches!(
            plan.steps.last().map(|s| &s.action),
            Some(Action::LookForFaultySources)
        ));
    }

    #[test]
    fn a_confirmation_link_is_opened_only_after_a_round_has_mailed_it() {
        for seed in 1..=3 {
            let plan = plan(seed, 3000);
            let mut last_message = std::collections::HashMap::new();
            let mut last_round = None;
            for (index, step) in plan.steps.iter().enumerate() {
                match &step.action {
                    Action::DirectMessage { appeal, .. } => {
                        last_message.insert(*appeal, index);
                    }
                    Action::Deliver => last_round = Some(index),
                    Action::FollowConfirmationLink { appeal } => {
                        assert!(
                            last_round > last_message.get(appeal).copied(),
                            "seed {seed}: {step:?} before a round delivered the link"
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn every_appeal_is_filed_after_its_enforcement_is_recorded() {
        let plan = plan(3, 400);
        let mut recorded: std::collections::HashSet<usize> = std::collections::HashSet::new();
        let mut filed: std::collections::HashSet<usize> = std::collections::HashSet::new();
        for step in &plan.steps {
            match &step.action {
                Action::RecordEnforcements { enforcements } => {
                    recorded.extend(enforcements.iter().copied());
                }
                Action::Email { appeal, .. } | Action::DirectMessage { appeal, .. } => {
                    assert!(recorded.contains(&plan.appeals[*appeal].enforcement));
                    filed.insert(*appeal);
                }
                Action::Triage { appeal, .. }
                | Action::Claim { appeal, .. }
                | Action::Decide { appeal, .. }
                | Action::RequestInfo { appeal, .. }
                | Action::FollowConfirmationLink { appeal } => {
                    assert!(
                        filed.contains(appeal),
                        "{step:?} before the appeal was filed"
                    );
                }
                Action::Deliver | Action::LookForFaultySources => {}
            }
        }
    }
}
