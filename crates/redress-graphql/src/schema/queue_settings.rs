//! The queues this deployment is configured with and the SLA each gives an appeal, so a
//! client offers them by name instead of asking for one: a mistyped queue would hold its
//! appeals where no reviewer looks.

use async_graphql::{Context, Object, Result, SimpleObject};
use redress_core::{Priority, SlaPolicy};
use redress_engine::routing::RoutingRule;
use redress_engine::{Engine, EngineSettings};
use redress_routing::Action;

use crate::error::OrApiError;
use crate::rbac;
use crate::schema::enums::PriorityGql;

#[derive(SimpleObject, Debug)]
pub struct ConfiguredQueue {
    pub name: String,
    /// New appeals start in this queue (`appeals.default_queue`).
    pub is_default: bool,
    /// Escalated appeals move to this queue (`appeals.senior_queue`).
    pub is_senior: bool,
    /// The deadlines of an appeal in this queue, per priority.
    pub sla: Vec<PrioritySla>,
}

#[derive(SimpleObject, Debug)]
pub struct PrioritySla {
    pub priority: PriorityGql,
    /// Time from filing to triage, in seconds (business hours only, where configured).
    pub time_to_triage_seconds: i64,
    /// Time from filing to a reviewer's decision, in seconds.
    pub time_to_decision_seconds: i64,
}

impl PrioritySla {
    fn new(priority: Priority, policy: &SlaPolicy) -> Self {
        Self {
            priority: priority.into(),
            time_to_triage_seconds: policy.time_to_triage.num_seconds(),
            time_to_decision_seconds: policy.time_to_decision.num_seconds(),
        }
    }
}

/// The default queue, the senior queue, every queue an SLA rule names, then every queue a
/// routing rule triages into (in the rules' order), each once: a person triaging must be
/// able to send an appeal where the rules send its like.
fn configured_queues(
    settings: &EngineSettings,
    routing_rules: &[RoutingRule],
) -> Vec<ConfiguredQueue> {
    let mut names: Vec<&str> = vec![&settings.default_queue, &settings.senior_queue];
    for rule in &settings.sla_rules {
        names.push(&rule.queue);
    }
    for rule in routing_rules {
        if let Action::Triage { queue, .. } = &rule.rule.definition.then {
            names.push(queue);
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(*name));
    names
        .into_iter()
        .map(|name| ConfiguredQueue {
            name: name.to_owned(),
            is_default: name == settings.default_queue,
            is_senior: name == settings.senior_queue,
            sla: Priority::ALL
                .iter()
                .map(|&priority| PrioritySla::new(priority, settings.sla_policy(name, priority)))
                .collect(),
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct QueueSettingsQuery;

#[Object]
impl QueueSettingsQuery {
    /// The configured queues: the default and senior queues, those with SLA rules and those
    /// routing rules (enabled or not) triage into.
    async fn configured_queues(&self, ctx: &Context<'_>) -> Result<Vec<ConfiguredQueue>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        let routing_rules = engine.routing_rules().await.or_api()?;
        Ok(configured_queues(engine.settings(), &routing_rules))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use redress_engine::settings::SlaRule;

    use super::*;

    #[test]
    fn each_configured_queue_is_listed_once_with_its_rules() {
        let fast = SlaPolicy {
            time_to_triage: TimeDelta::hours(1),
            time_to_decision: TimeDelta::hours(8),
            warn_fraction: 0.8,
        };
        let settings = EngineSettings {
            sla_rules: vec![
                SlaRule {
                    queue: "csam".to_owned(),
                    priority: None,
                    policy: fast,
                },
                SlaRule {
                    queue: "general".to_owned(),
                    priority: Some(Priority::Urgent),
                    policy: fast,
                },
            ],
            ..EngineSettings::default()
        };
        let queues = configured_queues(&settings, &[]);
        let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["general", "senior", "csam"]);
        assert!(queues[0].is_default && !queues[0].is_senior);
        assert!(queues[1].is_senior && !queues[1].is_default);

        let general: Vec<(PriorityGql, i64)> = queues[0]
            .sla
            .iter()
            .map(|sla| (sla.priority, sla.time_to_decision_seconds))
            .collect();
        assert_eq!(
            general,
            [
                (PriorityGql::Low, 48 * 3600),
                (PriorityGql::Normal, 48 * 3600),
                (PriorityGql::High, 48 * 3600),
                (PriorityGql::Urgent, 8 * 3600),
            ]
        );
        assert!(queues[2]
            .sla
            .iter()
            .all(|sla| sla.time_to_triage_seconds == 3600));
    }

    fn routing_rule(name: &str, then: Action) -> RoutingRule {
        RoutingRule {
            rule: redress_routing::Rule {
                id: uuid::Uuid::nil(),
                version: 1,
                definition: redress_routing::RuleDefinition {
                    name: name.to_owned(),
                    enabled: false,
                    when: redress_routing::Conditions::default(),
                    then,
                },
            },
            position: 0,
            updated_at: chrono::DateTime::UNIX_EPOCH,
            updated_by: "admin".to_owned(),
        }
    }

    #[test]
    fn queues_routing_rules_triage_into_are_offered_after_the_configured_ones() {
        let triage_into = |queue: &str| Action::Triage {
            queue: queue.to_owned(),
            priority: Priority::High,
            tags: Vec::new(),
            four_eyes: false,
        };
        let rules = [
            routing_rule("saved, not created", triage_into("fast-lane")),
            routing_rule("for a person", Action::LeaveForPerson),
            routing_rule("again", triage_into("general")),
            routing_rule("german", triage_into("general-de")),
        ];
        let queues = configured_queues(&EngineSettings::default(), &rules);
        let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["general", "senior", "fast-lane", "general-de"]);
        assert!(!queues[2].is_default && !queues[2].is_senior);
        assert_eq!(queues[2].sla.len(), Priority::ALL.len());
    }
}
