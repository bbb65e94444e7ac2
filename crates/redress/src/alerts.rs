//! Staff alerts: who is told about SLA warnings, escalations and faulty-enforcement
//! incidents, and the deliverer that mails them through the outgoing mail transport.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::outbox::QueueAlert;
use redress_engine::transparency::IncidentNotice;
use redress_notify::mail::{AlertRecipients, AlertSettings, Mailbox, StaffAlertDeliverer};
use serde::{Deserialize, Serialize};

use crate::app::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertsConfig {
    /// The leads of each queue, e.g. `senior = ["leads@example.org"]`.
    pub queues: BTreeMap<String, Vec<String>>,
    /// The leads of every queue without its own entry.
    pub default_recipients: Vec<String>,
    /// Who is told that a faulty-enforcement incident was raised.
    pub admin_recipients: Vec<String>,
    /// The reviewer console as staff reach it; alerts link into it.
    pub console_url: String,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            queues: BTreeMap::new(),
            default_recipients: vec!["appeals-leads@localhost".to_owned()],
            admin_recipients: vec!["appeals-admins@localhost".to_owned()],
            console_url: "http://127.0.0.1:8080/console/".to_owned(),
        }
    }
}

impl AlertsConfig {
    /// The parsed recipient lists; a malformed address is named with the key it is under.
    pub fn recipients(&self) -> Result<AlertRecipients, String> {
        let queues = self
            .queues
            .iter()
            .map(|(queue, list)| {
                Ok((
                    queue.clone(),
                    parse(&format!("alerts.queues.{queue}"), list)?,
                ))
            })
            .collect::<Result<HashMap<_, _>, String>>()?;
        let recipients = AlertRecipients {
            queues,
            default: parse("alerts.default_recipients", &self.default_recipients)?,
            admins: parse("alerts.admin_recipients", &self.admin_recipients)?,
        };
        if recipients.default.is_empty() {
            return Err("alerts.default_recipients must name at least one address".to_owned());
        }
        if recipients.admins.is_empty() {
            return Err("alerts.admin_recipients must name at least one address".to_owned());
        }
        Ok(recipients)
    }

    pub fn validate(&self) -> Result<(), String> {
        self.recipients().map(|_| ())
    }

    /// The console URL with a trailing slash, so `#/...` routes append to it.
    fn console_base(&self) -> String {
        format!("{}/", self.console_url.trim_end_matches('/'))
    }
}

fn parse(key: &str, addresses: &[String]) -> Result<Vec<Mailbox>, String> {
    addresses
        .iter()
        .map(|address| {
            address
                .parse::<Mailbox>()
                .map_err(|err| format!("{key}: {address:?} is not a mail address: {err}"))
        })
        .collect()
}

/// Registers the staff-alert deliverer for queue alerts and incident notices.
pub fn register(registry: &mut DelivererRegistry, state: &AppState) -> anyhow::Result<()> {
    let config = &state.config;
    let settings = AlertSettings {
        from: config
            .email
            .from
            .parse()
            .with_context(|| format!("email.from {:?}", config.email.from))?,
        message_id_domain: config.email.message_id_domain(),
        console_url: config.alerts.console_base(),
        recipients: config.alerts.recipients().map_err(anyhow::Error::msg)?,
    };
    let deliverer = Arc::new(StaffAlertDeliverer::new(
        state.engine.clone(),
        crate::email::mail_transport(&config.email)?,
        crate::email::signing_key(&config.email),
        settings,
    ));
    registry.register_topic::<QueueAlert>(deliverer.clone());
    registry.register_topic::<IncidentNotice>(deliverer);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_needs_no_configuration() {
        let recipients = AlertsConfig::default().recipients().expect("valid");
        assert_eq!(recipients.default.len(), 1);
        assert_eq!(recipients.admins.len(), 1);
    }

    #[test]
    fn a_malformed_address_is_named_with_its_key() {
        let mut config = AlertsConfig::default();
        config
            .queues
            .insert("senior".to_owned(), vec!["leads at example".to_owned()]);
        let error = config.validate().expect_err("invalid");
        assert!(
            error.starts_with("alerts.queues.senior: \"leads at example\""),
            "{error}"
        );
        let mut config = AlertsConfig::default();
        config.admin_recipients.clear();
        assert!(config
            .validate()
            .expect_err("empty")
            .contains("admin_recipients"));
    }
}
