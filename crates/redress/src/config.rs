//! Layered configuration: built-in defaults, then an optional TOML file, then `REDRESS_*`
//! environment variables (nested keys joined by `__`, e.g. `REDRESS_HTTP__BIND`).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use redress_engine::policies::PolicyCatalog;
use redress_engine::settings::{EngineSettings, SlaRule};
use redress_engine::storage::PoolSettings;
use serde::{Deserialize, Serialize};

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub appeals: AppealsConfig,
    #[serde(default)]
    pub email: crate::email::EmailConfig,
    #[serde(default)]
    pub social: crate::social::SocialConfig,
    pub graphql: redress_graphql::GraphqlSettings,
    /// Staff sign-in with the organisation's identity provider (`[oidc]`).
    #[serde(default)]
    pub oidc: crate::oidc::OidcConfig,
    pub workers: crate::workers::WorkersConfig,
    #[serde(default)]
    pub restoration: crate::restoration::RestorationConfig,
    pub transparency: crate::transparency::TransparencyConfig,
    #[serde(default)]
    pub alerts: crate::alerts::AlertsConfig,
    #[serde(default)]
    pub routing: crate::routing::RoutingConfig,
    /// The policy catalog (`[[policies]]`): what each policy says, per language.
    #[serde(default)]
    pub policies: Vec<redress_core::Policy>,
    /// Prepared decisions (`[[decision_templates]]`) per policy, outcome and language.
    #[serde(default)]
    pub decision_templates: Vec<redress_core::DecisionTemplate>,
    /// Blind second reviews (`[quality]`).
    #[serde(default)]
    pub quality: crate::quality::QualityConfig,
    /// How long personal data is kept after an appeal closes (`[retention]`).
    #[serde(default)]
    pub retention: redress_engine::privacy::RetentionSettings,
    /// Webhooks to the platform (`[webhooks]`).
    #[serde(default)]
    pub webhooks: crate::webhooks::WebhooksConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseConfig {
    /// `sqlite://redress.sqlite?mode=rwc` (the default: a file in the working directory) or
    /// `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
    /// PostgreSQL schema to use instead of `public`.
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpConfig {
    pub bind: SocketAddr,
    /// Reverse proxies in front of Redress, whose `X-Forwarded-For` names the client for the
    /// per-client sign-in limit; none by default, so the header is not believed.
    #[serde(default)]
    pub trusted_proxies: crate::client_address::TrustedProxies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info,redress_engine=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppealsConfig {
    pub default_queue: String,
    pub senior_queue: String,
    /// Hours from filing to triage, unless a rule says otherwise.
    pub time_to_triage_hours: f64,
    /// Hours from filing to a decision, unless a rule says otherwise.
    pub time_to_decision_hours: f64,
    /// Fraction of a deadline after which the queue's leads are warned.
    pub warn_fraction: f64,
    pub sla_rules: Vec<SlaRule>,
    pub four_eyes_policies: Vec<String>,
    pub four_eyes_kinds: Vec<String>,
    pub claim_lease_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: DatabaseConfig {
                url: "sqlite://redress.sqlite?mode=rwc".to_owned(),
                max_connections: 16,
                schema: None,
            },
            http: HttpConfig {
                bind: default_bind(),
                trusted_proxies: crate::client_address::TrustedProxies::default(),
            },
            log: LogConfig {
                format: LogFormat::Pretty,
                filter: "info".to_owned(),
            },
            appeals: AppealsConfig {
                default_queue: "general".to_owned(),
                senior_queue: "senior".to_owned(),
                time_to_triage_hours: 4.0,
                time_to_decision_hours: 48.0,
                warn_fraction: 0.8,
                sla_rules: Vec::new(),
                four_eyes_policies: Vec::new(),
                four_eyes_kinds: Vec::new(),
                claim_lease_seconds: 15 * 60,
            },
            email: crate::email::EmailConfig::default(),
            social: crate::social::SocialConfig::default(),
            graphql: redress_graphql::GraphqlSettings::default(),
            oidc: crate::oidc::OidcConfig::default(),
            workers: crate::workers::WorkersConfig::default(),
            restoration: crate::restoration::RestorationConfig::default(),
            transparency: crate::transparency::TransparencyConfig::default(),
            alerts: crate::alerts::AlertsConfig::default(),
            routing: crate::routing::RoutingConfig::default(),
            policies: Vec::new(),
            decision_templates: Vec::new(),
            quality: crate::quality::QualityConfig::default(),
            retention: redress_engine::privacy::RetentionSettings::default(),
            webhooks: crate::webhooks::WebhooksConfig::default(),
        }
    }
}

/// Where Redress listens, and so where its links point, without configuration.
fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// The origin of [`default_bind`], which every public address defaults to.
const DEFAULT_ORIGIN: &str = "http://127.0.0.1:8080";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Inconsistent(String),
}

impl Config {
    /// Loads defaults, then `file` (when given, it must exist; otherwise `redress.toml` is read
    /// if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("redress.toml")),
        }
        figment = figment.merge(Env::prefixed("REDRESS_").split("__"));
        let mut config: Config = figment.extract().map_err(Box::new)?;
        config.follow_loopback_bind();
        config.validate()?;
        Ok(config)
    }

    /// The public addresses (links in notices and alerts, the sign-in's redirect) still at
    /// the built-in `http://127.0.0.1:8080`, by key.
    fn default_public_urls(&mut self) -> Vec<(&'static str, &mut String, &'static str)> {
        [
            (
                "transparency.status_page.public_url",
                &mut self.transparency.status_page.public_url,
                "",
            ),
            ("social.public_url", &mut self.social.public_url, ""),
            ("oidc.public_url", &mut self.oidc.public_url, ""),
            (
                "alerts.console_url",
                &mut self.alerts.console_url,
                "/console/",
            ),
        ]
        .into_iter()
        .filter(|(_, url, path)| **url == format!("{DEFAULT_ORIGIN}{path}"))
        .collect()
    }

    /// Public addresses left at the built-in default follow `http.bind` when it is another
    /// loopback address or port, so a first run on another port mails links that open. A
    /// bind on another interface is reached by a name no setting tells, so those are left
    /// for [`Config::unset_public_urls`] to name.
    fn follow_loopback_bind(&mut self) {
        let bind = self.http.bind;
        if !bind.ip().is_loopback() || bind.port() == 0 || bind == default_bind() {
            return;
        }
        for (_, url, path) in self.default_public_urls() {
            *url = format!("http://{bind}{path}");
        }
    }

    /// The public addresses still at the built-in default while Redress listens elsewhere:
    /// the links they make do not reach this service, and `serve` warns of each.
    pub fn unset_public_urls(&self) -> Vec<&'static str> {
        if self.http.bind == default_bind() || self.http.bind.ip().is_loopback() {
            return Vec::new();
        }
        self.clone()
            .default_public_urls()
            .into_iter()
            .map(|(key, _, _)| key)
            .collect()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.email.validate().map_err(ConfigError::Inconsistent)?;
        self.oidc
            .validate(self.graphql.auth.audience.as_deref())
            .map_err(ConfigError::Inconsistent)?;
        let a = &self.appeals;
        if !(a.warn_fraction > 0.0 && a.warn_fraction <= 1.0) {
            return Err(ConfigError::Inconsistent(format!(
                "appeals.warn_fraction must be in (0, 1], got {}",
                a.warn_fraction
            )));
        }
        if a.time_to_triage_hours <= 0.0 || a.time_to_decision_hours <= 0.0 {
            return Err(ConfigError::Inconsistent(
                "appeals SLA hours must be positive".to_owned(),
            ));
        }
        if a.claim_lease_seconds == 0 {
            return Err(ConfigError::Inconsistent(
                "appeals.claim_lease_seconds must be positive".to_owned(),
            ));
        }
        self.workers.validate()?;
        self.transparency
            .status_page
            .validate()
            .map_err(ConfigError::Inconsistent)?;
        self.transparency
            .tdb_submission
            .validate()
            .map_err(ConfigError::Inconsistent)?;
        self.policy_catalog()?;
        self.quality.validate().map_err(ConfigError::Inconsistent)?;
        self.retention.check().map_err(ConfigError::Inconsistent)?;
        self.social.validate().map_err(ConfigError::Inconsistent)?;
        self.alerts.validate().map_err(ConfigError::Inconsistent)?;
        self.routing.validate().map_err(ConfigError::Inconsistent)?;
        self.webhooks
            .validate()
            .map_err(ConfigError::Inconsistent)?;
        self.restoration
            .validate()
            .map_err(ConfigError::Inconsistent)?;
        // A running bulk job holds a PostgreSQL connection per slice; the listeners, the
        // workers and the API need the other half. SQLite runs bulk jobs in one slice.
        let postgres = self.database.url.starts_with("postgres");
        if postgres && self.restoration.bulk_slices > self.database.max_connections / 2 {
            return Err(ConfigError::Inconsistent(format!(
                "restoration.bulk_slices ({}) may be at most half of database.max_connections ({}): a running bulk job holds a connection per slice, and the listeners, workers and API need the rest",
                self.restoration.bulk_slices, self.database.max_connections
            )));
        }
        Ok(())
    }

    /// The policies and decision templates, checked; templates fall back to the mail's
    /// default language.
    pub fn policy_catalog(&self) -> Result<PolicyCatalog, ConfigError> {
        for policy in &self.policies {
            redress_engine::policies::check_category(policy)
                .map_err(|err| ConfigError::Inconsistent(err.to_string()))?;
        }
        PolicyCatalog::new(
            &self.email.default_language,
            self.policies.clone(),
            self.decision_templates.clone(),
        )
        .map_err(|err| ConfigError::Inconsistent(err.to_string()))
    }

    pub fn engine_settings(&self) -> EngineSettings {
        let a = &self.appeals;
        let hours = |h: f64| chrono::TimeDelta::milliseconds((h * 3_600_000.0).round() as i64);
        EngineSettings {
            default_queue: a.default_queue.clone(),
            senior_queue: a.senior_queue.clone(),
            default_sla: redress_core::SlaPolicy {
                time_to_triage: hours(a.time_to_triage_hours),
                time_to_decision: hours(a.time_to_decision_hours),
                warn_fraction: a.warn_fraction,
            },
            sla_rules: a.sla_rules.clone(),
            four_eyes_policies: a.four_eyes_policies.clone(),
            four_eyes_kinds: a.four_eyes_kinds.clone(),
            claim_lease: Duration::from_secs(a.claim_lease_seconds),
            business_hours: self.workers.business_hours(),
            appeal_window_months: self.transparency.appeal_window_months,
            appeal_throttle: self.transparency.appeal_throttle.rule(),
            bulk_restore_slices: Some(self.restoration.bulk_slices),
            // Reading the key may write a generated one, so `app::open_engine` sets it.
            status_tokens: redress_engine::link_keys::LinkTokenKeys::default(),
            // `load` refused an inconsistent catalog already; a configuration built in
            // code that skipped it runs without one rather than half of one.
            policies: self.policy_catalog().unwrap_or_else(|err| {
                tracing::error!(error = %err, "the policy catalog is not used");
                PolicyCatalog::default()
            }),
            // `load` refused a share outside [0, 1]; a configuration built in code that
            // skipped it draws no second reviews.
            second_review: self.quality.second_review().unwrap_or_else(|err| {
                tracing::error!(error = %err, "no decisions are drawn for second reviews");
                redress_engine::quality::SecondReviewSettings::default()
            }),
        }
    }

    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.database.max_connections,
            schema: self.database.schema.clone(),
            ..PoolSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        let config = Config::default();
        config.validate().expect("defaults are valid");
        assert!(config.database.url.starts_with("sqlite://"));
    }

    #[test]
    fn a_named_file_that_does_not_exist_is_an_error() {
        let error =
            Config::load(Some(Path::new("/nonexistent/redress.toml"))).expect_err("missing file");
        assert!(matches!(error, ConfigError::MissingFile(_)));
    }

    #[test]
    fn a_malformed_alert_address_stops_the_start_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(&path, "[alerts.queues]\nsenior = [\"leads at example\"]\n").expect("write");
        let error = Config::load(Some(&path)).expect_err("invalid address");
        assert!(
            error
                .to_string()
                .starts_with("invalid configuration: alerts.queues.senior: \"leads at example\" is not a mail address"),
            "{error}"
        );
        std::fs::write(
            &path,
            "[alerts.queues]\nsenior = [\"Leads <leads@example.org>\"]\n",
        )
        .expect("write");
        let config = Config::load(Some(&path)).expect("load");
        assert_eq!(
            config.alerts.default_recipients,
            ["appeals-leads@localhost"]
        );
    }

    #[test]
    fn public_addresses_left_at_the_default_follow_a_loopback_bind_and_others_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(
            &path,
            "[http]\nbind = \"127.0.0.1:18080\"\n[social]\npublic_url = \"https://appeals.example.org\"\n",
        )
        .expect("write");
        let config = Config::load(Some(&path)).expect("valid");
        assert_eq!(
            config.transparency.status_page.public_url,
            "http://127.0.0.1:18080"
        );
        assert_eq!(config.alerts.console_url, "http://127.0.0.1:18080/console/");
        assert_eq!(config.oidc.public_url, "http://127.0.0.1:18080");
        assert_eq!(
            config.social.public_url, "https://appeals.example.org",
            "set, so kept"
        );
        assert!(config.unset_public_urls().is_empty());

        std::fs::write(&path, "[http]\nbind = \"0.0.0.0:8080\"\n").expect("write");
        let config = Config::load(Some(&path)).expect("valid");
        assert_eq!(
            config.transparency.status_page.public_url, "http://127.0.0.1:8080",
            "no name to guess"
        );
        assert_eq!(
            config.unset_public_urls(),
            [
                "transparency.status_page.public_url",
                "social.public_url",
                "oidc.public_url",
                "alerts.console_url"
            ]
        );
        assert!(Config::default().unset_public_urls().is_empty());
    }

    #[test]
    fn trusted_proxies_load_from_the_file_and_a_host_name_stops_the_start_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(
            &path,
            "[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n",
        )
        .expect("write");
        let config = Config::load(Some(&path)).expect("valid proxies");
        assert_eq!(
            Vec::<String>::from(config.http.trusted_proxies),
            ["10.0.0.0/8", "192.0.2.1/32"]
        );
        std::fs::write(&path, "[http]\ntrusted_proxies = [\"lb.internal\"]\n").expect("write");
        let error = Config::load(Some(&path)).expect_err("a host name");
        assert!(
            error
                .to_string()
                .contains("`lb.internal` is neither an IP address"),
            "{error}"
        );
    }

    #[test]
    fn bulk_restore_slices_and_chunks_are_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(&path, "[restoration]\nbulk_slices = 4\n").expect("write");
        let config = Config::load(Some(&path)).expect("load");
        assert_eq!(config.engine_settings().bulk_restore_slices, Some(4));
        std::fs::write(
            &path,
            "[restoration]\nbulk_slices = 8\n[database]\nurl = \"postgres://db/redress\"\n",
        )
        .expect("write");
        Config::load(Some(&path)).expect("half the pool is allowed");
        for (setting, key) in [
            ("bulk_slices = 0", "restoration.bulk_slices"),
            ("bulk_slices = 33", "restoration.bulk_slices"),
            ("bulk_chunk_size = 0", "restoration.bulk_chunk_size"),
            ("bulk_chunk_size = 10001", "restoration.bulk_chunk_size"),
            (
                "bulk_slices = 9\n[database]\nurl = \"postgres://db/redress\"",
                "at most half of database.max_connections (16)",
            ),
        ] {
            std::fs::write(&path, format!("[restoration]\n{setting}\n")).expect("write");
            let error = Config::load(Some(&path)).expect_err(setting);
            assert!(error.to_string().contains(key), "{setting}: {error}");
        }
    }

    #[test]
    fn the_example_configuration_loads_its_policies_and_templates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml");
        let config = Config::load(Some(&path)).expect("the example is valid");
        let catalog = config.engine_settings().policies;
        let spam = catalog.policy("spam").expect("spam is in the catalog");
        assert_eq!(spam.category, "STATEMENT_CATEGORY_SCAMS_AND_FRAUD");
        assert!(spam.texts.contains_key("en") && spam.texts.contains_key("de"));
        let german = catalog.templates_for(
            Some("spam"),
            Some(redress_core::Outcome::Uphold),
            Some("de"),
        );
        assert_eq!(german.len(), 1);
        assert_eq!(german[0].id, "spam-uphold-de");
    }

    #[test]
    fn a_template_with_an_unknown_placeholder_stops_the_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(
            &path,
            r#"
[[policies]]
id = "spam"
ground_kind = "incompatible_with_terms"
category = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
[policies.texts.en]
title = "Spam"
ground = "4.2"
explanation = "No mass-posting."

[[decision_templates]]
id = "spam-uphold-en"
policy = "spam"
outcome = "uphold"
language = "en"
title = "Spam"
reasons = "Your appeal {refrence}"
"#,
        )
        .expect("write");
        let error = Config::load(Some(&path)).expect_err("typo");
        let text = error.to_string();
        assert!(
            text.contains("decision_templates.spam-uphold-en.reasons")
                && text.contains("{refrence}"),
            "{text}"
        );
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn a_file_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(
            &path,
            "[http]\nbind = \"127.0.0.1:9999\"\n[appeals]\nwarn_fraction = 0.5\n",
        )
        .expect("write");
        let config = Config::load(Some(&path)).expect("load");
        assert_eq!(config.http.bind.port(), 9999);
        assert!((config.appeals.warn_fraction - 0.5).abs() < f64::EPSILON);
        std::fs::write(&path, "[appeals]\nwarn_fraction = 2.0\n").expect("write");
        assert!(matches!(
            Config::load(Some(&path)),
            Err(ConfigError::Inconsistent(_))
        ));
    }

    #[test]
    fn the_example_configuration_loads_and_routes_saved_content_to_the_fast_lane() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml");
        let config = Config::load(Some(&example)).expect("the example loads");
        let saved = config
            .routing
            .rules
            .iter()
            .find(|rule| rule.when.content_relations == [redress_routing::ContentRelation::Saved])
            .expect("a rule about saved content");
        assert_eq!(
            saved.then,
            redress_routing::Action::Triage {
                queue: "fast-lane".into(),
                priority: redress_core::Priority::High,
                tags: vec!["saved-only".into()],
                four_eyes: false,
            }
        );
    }

    #[test]
    fn a_routing_rule_with_a_misspelt_condition_stops_the_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("redress.toml");
        std::fs::write(
            &path,
            "[[routing.rules]]\nname = \"x\"\nwhen = { content_relation = [\"saved\"] }\nthen = { kind = \"leave_for_person\" }\n",
        )
        .expect("write");
        assert!(Config::load(Some(&path)).is_err());
        std::fs::write(
            &path,
            "[[routing.rules]]\nname = \"x\"\nthen = { kind = \"triage\", queue = \"\" }\n",
        )
        .expect("write");
        let error = Config::load(Some(&path)).expect_err("empty queue");
        assert!(error.to_string().contains("queue"), "{error}");
    }
}
