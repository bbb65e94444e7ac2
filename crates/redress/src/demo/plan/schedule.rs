//! When everything happens: the platform's pushes, each person's messages, the triagers'
//! and reviewers' work, and the workers' rounds, as one time-ordered list of steps.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rand::seq::IndexedRandom;
use rand::Rng;
use redress_core::{Channel, Outcome};
use redress_engine::registry::ContentRelation;

use super::enforcements::{upheld_statement, PlannedEnforcement, Source};
use super::people::Person;
use super::texts;
use super::triage::{triage_by_hand, AppealFacts};
use super::{delay, pick, Action, Mail, PlannedAppeal, Shape, Step, REVIEWERS, TRIAGERS};

/// Enforcements the platform pushes in one call.
const PUSH_SIZE: usize = 500;

/// What the schedule is drawn from.
pub struct Wave<'a> {
    pub now: DateTime<Utc>,
    pub wave_start: DateTime<Utc>,
    pub shape: &'a Shape,
    pub default_queue: &'a str,
    pub people: &'a [Person],
    pub enforcements: &'a [PlannedEnforcement],
    pub appeals: &'a [PlannedAppeal],
}

/// How far an appeal got, for the reviewers' part of the schedule.
struct Triaged {
    appeal: usize,
    at: DateTime<Utc>,
    /// The sender's identity was proved when the triager looked.
    verified: bool,
}

pub fn steps(rng: &mut impl Rng, wave: &Wave<'_>) -> Vec<Step> {
    let mut steps = Vec::new();
    push_enforcements(wave, &mut steps);
    let mut triaged = Vec::new();
    let mut email_appeals = Vec::new();
    for (index, appeal) in wave.appeals.iter().enumerate() {
        let verified_at = send_messages(rng, wave, index, appeal, &mut steps);
        if appeal.channel == Channel::Email {
            email_appeals.push(index);
        }
        if let Some(done) = triage(rng, wave, index, appeal, verified_at, &mut steps) {
            triaged.push(done);
        }
    }
    triaged.sort_by_key(|t| t.at);
    let reviewed = review(rng, wave, &triaged, &mut steps);
    follow_ups(rng, wave, &email_appeals, &reviewed, &mut steps);
    worker_rounds(wave, &mut steps);
    steps.sort_by_key(|step| step.at);
    steps
}

/// The platform pushes what its sources did every quarter of an hour, in calls of at
/// most `PUSH_SIZE`.
fn push_enforcements(wave: &Wave<'_>, steps: &mut Vec<Step>) {
    let quarter = TimeDelta::minutes(15);
    let mut by_quarter: BTreeMap<DateTime<Utc>, Vec<usize>> = BTreeMap::new();
    for (index, enforcement) in wave.enforcements.iter().enumerate() {
        let at = enforcement.enforced_at();
        let pushed = at
            .duration_trunc(quarter)
            .map_or(at, |start| start + quarter);
        by_quarter.entry(pushed).or_default().push(index);
    }
    for (at, enforcements) in by_quarter {
        for chunk in enforcements.chunks(PUSH_SIZE) {
            steps.push(Step {
                at,
                action: Action::RecordEnforcements {
                    enforcements: chunk.to_vec(),
                },
            });
        }
    }
}

/// The `n`th mail about `appeal`, sent from `person`'s mail server.
fn message_id(appeal: usize, n: u32, person: &Person) -> String {
    let domain = person
        .email
        .rsplit_once('@')
        .map_or("example.com", |(_, d)| d);
    format!("<demo-appeal-{appeal:06}.{n}@mail.{domain}>")
}

/// The person's first message (and, by DM, the one that gives their address), and the
/// confirmation link they open. Returns when their identity was proved, if ever.
fn send_messages(
    rng: &mut impl Rng,
    wave: &Wave<'_>,
    index: usize,
    appeal: &PlannedAppeal,
    steps: &mut Vec<Step>,
) -> Option<DateTime<Utc>> {
    let person = &wave.people[appeal.person];
    let enforcement = &wave.enforcements[appeal.enforcement];
    let (language, relation) = (appeal.language, enforcement.relation);
    if appeal.channel == Channel::Email {
        steps.push(Step {
            at: appeal.filed_at,
            action: Action::Email {
                appeal: index,
                mail: Mail {
                    message_id: message_id(index, 1, person),
                    subject: texts::email_subject(language, relation).to_owned(),
                    body: texts::email_body(language, relation, &person.name, &person.account_id),
                    authenticated: appeal.sender_verified,
                    about_the_appeal: false,
                },
            },
        });
        return appeal.sender_verified.then_some(appeal.filed_at);
    }
    #[derive(Clone, Copy)]
    enum GivesAddress {
        AtOnce,
        WhenAsked,
        Never,
    }
    let gives = pick(
        rng,
        &[
            (GivesAddress::AtOnce, 0.45),
            (GivesAddress::WhenAsked, 0.35),
            (GivesAddress::Never, 0.20),
        ],
    );
    let platform = appeal.channel.as_str();
    let event_id = |n: u32| format!("demo-{platform}-event-{index:06}-{n}");
    let at_once = matches!(gives, GivesAddress::AtOnce).then_some(person.email.as_str());
    steps.push(Step {
        at: appeal.filed_at,
        action: Action::DirectMessage {
            appeal: index,
            event_id: event_id(1),
            text: texts::dm_text(language, relation, at_once),
        },
    });
    let address_given_at = match gives {
        GivesAddress::AtOnce => Some(appeal.filed_at),
        GivesAddress::WhenAsked => {
            let at = appeal.filed_at + TimeDelta::minutes(rng.random_range(10..60));
            (at < wave.now - TimeDelta::minutes(1)).then(|| {
                steps.push(Step {
                    at,
                    action: Action::DirectMessage {
                        appeal: index,
                        event_id: event_id(2),
                        text: texts::dm_email(language, &person.email),
                    },
                });
                at
            })
        }
        GivesAddress::Never => None,
    }?;
    if !appeal.sender_verified {
        return None;
    }
    // The link arrives with the next dispatcher round (every half hour during the wave,
    // hourly before it: within the hour either way), then waits in the person's inbox for
    // a while.
    let opened = address_given_at + delay(rng, TimeDelta::minutes(61), TimeDelta::minutes(40));
    (opened < wave.now - TimeDelta::minutes(1)).then(|| {
        steps.push(Step {
            at: opened,
            action: Action::FollowConfirmationLink { appeal: index },
        });
        opened
    })
}

/// A routing rule triages the appeal as it is filed; the rest wait for a person. Triagers
/// work oldest first and keep up to `triage_backlog` behind.
fn triage(
    rng: &mut impl Rng,
    wave: &Wave<'_>,
    index: usize,
    appeal: &PlannedAppeal,
    verified_at: Option<DateTime<Utc>>,
    steps: &mut Vec<Step>,
) -> Option<Triaged> {
    if appeal.routed_by.is_some() {
        return Some(Triaged {
            appeal: index,
            at: appeal.filed_at,
            verified: verified_at.is_some_and(|v| v <= appeal.filed_at),
        });
    }
    if appeal.filed_at >= wave.now - wave.shape.triage_backlog {
        return None;
    }
    let at = appeal.filed_at + TimeDelta::minutes(rng.random_range(20..150));
    if at >= wave.now - TimeDelta::minutes(5) {
        return None;
    }
    let enforcement = &wave.enforcements[appeal.enforcement];
    let verified = verified_at.is_some_and(|v| v < at);
    let facts = AppealFacts {
        channel: appeal.channel,
        language: appeal.language,
        source_id: enforcement.source.id().to_owned(),
        relation: Some(enforcement.relation),
        identity_verified: verified,
    };
    steps.push(Step {
        at,
        action: Action::Triage {
            appeal: index,
            by: TRIAGERS.choose(rng).copied().unwrap_or(TRIAGERS[0]),
            triage: triage_by_hand(&facts, wave.default_queue),
        },
    });
    Some(Triaged {
        appeal: index,
        at,
        verified,
    })
}

/// Reviewers decide the oldest verified cases: enough of the wave for the detector to
/// judge the model, and the everyday sources' cases. A few cases are in a reviewer's hands
/// right now and a few wait for the appellant's answer. Returns the appeals reviewers
/// touched.
fn review(
    rng: &mut impl Rng,
    wave: &Wave<'_>,
    triaged: &[Triaged],
    steps: &mut Vec<Step>,
) -> Vec<usize> {
    let latest_decision = wave.now - TimeDelta::minutes(10);
    let target = wave
        .shape
        .decided_at_least
        .max((wave.people.len() as f64 * wave.shape.decided_share) as usize);
    let in_progress = REVIEWERS.len() * 2;
    let asking = (wave.people.len() / 100).max(2);
    let (mut decided, mut claimed, mut asked) = (0, 0, 0);
    let mut touched = Vec::new();
    for case in triaged.iter().filter(|t| t.verified) {
        let appeal = &wave.appeals[case.appeal];
        let enforcement = &wave.enforcements[appeal.enforcement];
        let by = REVIEWERS.choose(rng).copied().unwrap_or(REVIEWERS[0]);
        let wave_case = enforcement.source == Source::FaultyModel;
        if !wave_case || decided < target {
            let (least, mean) = if wave_case {
                (TimeDelta::minutes(30), TimeDelta::hours(3))
            } else {
                (TimeDelta::hours(2), TimeDelta::hours(12))
            };
            let claim_at = case.at + delay(rng, least, mean);
            // Inside the claim's lease (15 minutes by default).
            let decide_at = claim_at + TimeDelta::minutes(rng.random_range(3..12));
            if decide_at < latest_decision {
                steps.push(Step {
                    at: claim_at,
                    action: Action::Claim {
                        appeal: case.appeal,
                        by,
                    },
                });
                steps.push(Step {
                    at: decide_at,
                    action: decision(rng, case.appeal, enforcement, by),
                });
                decided += usize::from(wave_case);
                touched.push(case.appeal);
                continue;
            }
        }
        if !wave_case {
            continue;
        }
        if claimed < in_progress {
            let at = wave.now - TimeDelta::minutes(rng.random_range(2..8));
            if case.at < at {
                steps.push(Step {
                    at,
                    action: Action::Claim {
                        appeal: case.appeal,
                        by,
                    },
                });
                claimed += 1;
                touched.push(case.appeal);
            }
        } else if asked < asking {
            let at = case.at + TimeDelta::minutes(rng.random_range(30..90));
            if at < wave.now - TimeDelta::minutes(5) {
                steps.push(Step {
                    at,
                    action: Action::RequestInfo {
                        appeal: case.appeal,
                        by,
                    },
                });
                asked += 1;
                touched.push(case.appeal);
            }
        }
    }
    touched
}

fn decision(
    rng: &mut impl Rng,
    appeal: usize,
    enforcement: &PlannedEnforcement,
    by: &'static str,
) -> Action {
    let (restore, reasons) = match (enforcement.source, enforcement.relation) {
        (Source::FaultyModel, ContentRelation::Saved | ContentRelation::Shared) => {
            (true, texts::RESTORE_SAVED)
        }
        (Source::FaultyModel, ContentRelation::Created) => {
            if rng.random_bool(0.8) {
                (true, texts::RESTORE_CREATED)
            } else {
                (false, texts::UPHOLD_CREATED)
            }
        }
        (Source::SpamRule, _) if rng.random_bool(0.15) => (true, texts::RESTORE_SPAM),
        (Source::SpamRule, _) => (false, texts::UPHOLD_SPAM),
        (Source::Moderators, _) => (false, "The comment insults another member by name."),
    };
    Action::Decide {
        appeal,
        by,
        outcome: if restore {
            Outcome::Restore
        } else {
            Outcome::Uphold
        },
        reasons,
        statement: (!restore).then(|| upheld_statement(enforcement, reasons)),
    }
}

/// Some people who wrote by mail, and whose case nobody has touched yet, ask for news.
fn follow_ups(
    rng: &mut impl Rng,
    wave: &Wave<'_>,
    email_appeals: &[usize],
    reviewed: &[usize],
    steps: &mut Vec<Step>,
) {
    for &index in email_appeals {
        if !rng.random_bool(0.12) || reviewed.contains(&index) {
            continue;
        }
        let appeal = &wave.appeals[index];
        let at = appeal.filed_at + delay(rng, TimeDelta::hours(3), TimeDelta::hours(6));
        if at >= wave.now - TimeDelta::minutes(1) {
            continue;
        }
        let person = &wave.people[appeal.person];
        let (subject, body) = texts::follow_up(appeal.language);
        steps.push(Step {
            at,
            action: Action::Email {
                appeal: index,
                mail: Mail {
                    message_id: message_id(index, 2, person),
                    subject: subject.to_owned(),
                    body: format!("{body}\n\n{}", person.name),
                    authenticated: appeal.sender_verified,
                    about_the_appeal: true,
                },
            },
        });
    }
}

/// The dispatcher's and the detector's rounds: hourly before the wave, every half hour
/// during it, and a last one at the end.
fn worker_rounds(wave: &Wave<'_>, steps: &mut Vec<Step>) {
    let Some(first) = steps.iter().map(|s| s.at).min() else {
        return;
    };
    let hour = TimeDelta::hours(1);
    let mut at = first.duration_trunc(hour).map_or(first, |t| t + hour);
    while at < wave.now {
        steps.push(Step {
            at,
            action: Action::Deliver,
        });
        if at >= wave.wave_start {
            steps.push(Step {
                at,
                action: Action::LookForFaultySources,
            });
        }
        at += if at >= wave.wave_start {
            TimeDelta::minutes(30)
        } else {
            hour
        };
    }
    for action in [Action::Deliver, Action::LookForFaultySources] {
        steps.push(Step {
            at: wave.now,
            action,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Plan, Shape};
    use super::*;

    #[test]
    fn the_wave_has_every_kind_of_case() {
        let now = DateTime::parse_from_rfc3339("2025-03-14T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        let plan = Plan::new(11, 1000, now, &Shape::default(), "general");
        let count =
            |wanted: fn(&Action) -> bool| plan.steps.iter().filter(|s| wanted(&s.action)).count();
        assert!(
            count(|a| matches!(
                a,
                Action::Decide {
                    outcome: Outcome::Restore,
                    ..
                }
            )) >= 40
        );
        assert!(
            count(|a| matches!(
                a,
                Action::Decide {
                    outcome: Outcome::Uphold,
                    ..
                }
            )) > 0
        );
        assert!(count(|a| matches!(a, Action::RequestInfo { .. })) >= 2);
        assert!(count(|a| matches!(a, Action::FollowConfirmationLink { .. })) > 0);
        assert!(count(|a| matches!(a, Action::Email { mail, .. } if mail.about_the_appeal)) > 0);
        let triaged = count(|a| matches!(a, Action::Triage { .. }));
        let routed = plan
            .appeals
            .iter()
            .filter(|a| a.routed_by.is_some())
            .count();
        assert!(
            routed > 0 && triaged > 0 && routed + triaged < plan.appeals.len(),
            "rules triage some cases, people some, and some wait for triage"
        );
        for rule in 0..plan.rules.len() {
            assert!(
                plan.appeals.iter().any(|a| a.routed_by == Some(rule)),
                "rule {} routes nothing",
                plan.rules[rule].name
            );
        }
        // A person never triages what a rule did.
        for step in &plan.steps {
            if let Action::Triage { appeal, .. } = &step.action {
                assert_eq!(plan.appeals[*appeal].routed_by, None);
            }
        }
    }
}
