//! `redress demo`: fills an empty database with a faulty-enforcement wave, so that the
//! console shows a working product on the first run. Thousands of accounts deactivated by
//! one misfiring model version, many for images they only saved; appeals in five
//! languages by mail and DM; triage, reviews and restorations under way; and the incident
//! the detector raised against the model.
//!
//! Everything goes through the engine's public use cases and the intakes the service
//! runs, on a clock that walks from the wave's start to now. What Redress sends during the
//! demo reaches nobody: notices stay in the demo ([`mailbox`]), and restorations go to the
//! embedded registry. The demo refuses a configuration that would make `redress serve`
//! send anything to real people or the platform afterwards.

mod catalog;
mod mailbox;
pub mod plan;
mod run;

use std::sync::Arc;

use anyhow::Context;
use chrono::{DurationRound, TimeDelta, Utc};
use clap::Args;
use redress_core::Role;
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::ManualClock;
use redress_intake::email::EmailIntake;

use crate::config::Config;
use crate::email::MailTransportKind;
use crate::restoration::BackendKind;
pub use plan::{Plan, Shape};
pub use run::{RaisedIncident, Report, DEMO_AUTHSERV_ID};

/// The staff member whose token the demo prints, and the roles that open every screen.
pub const DEMO_STAFF: &str = "demo-lead";
pub const DEMO_ROLES: [Role; 5] = [
    Role::Triager,
    Role::Reviewer,
    Role::SeniorReviewer,
    Role::Support,
    Role::Admin,
];

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Accounts in the wave (about 88% hit by the misfiring model).
    #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub accounts: u32,
    /// The same seed makes the same wave.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Why the demo will not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoRefused {
    #[error("{database} already holds accounts, enforcements or appeals; the demo fills only an empty database (point database.url at a new file, e.g. REDRESS_DATABASE__URL=sqlite://demo.sqlite?mode=rwc)")]
    NotEmpty { database: String },
    #[error("{database} already has routing rules ({}); the demo's appeals are triaged by its own rules, so run it on a new database (e.g. REDRESS_DATABASE__URL=sqlite://demo.sqlite?mode=rwc)", .names.join(", "))]
    RoutingRules {
        database: String,
        names: Vec<String>,
    },
    #[error("the configuration sends to real people or the platform ({}); the demo's appellants are invented, so run it with the defaults (mail into files, no DM tokens, the embedded account registry)", .settings.join("; "))]
    RealOutbound { settings: Vec<String> },
}

/// The settings that would make Redress message real people or call the real platform
/// about the demo's invented accounts.
pub fn real_outbound(config: &Config) -> Vec<String> {
    let mut settings = Vec::new();
    if config.email.transport == MailTransportKind::Smtp {
        settings.push("email.transport = \"smtp\" relays mail".to_owned());
    }
    if let Some(x) = &config.social.x {
        if !x.bearer_token.is_empty() {
            settings.push("social.x.bearer_token sends DMs on X".to_owned());
        }
    }
    if let Some(meta) = &config.social.meta {
        if !meta.messenger_access_token.is_empty() {
            settings.push("social.meta.messenger_access_token sends Messenger DMs".to_owned());
        }
        if !meta.instagram_access_token.is_empty() {
            settings.push("social.meta.instagram_access_token sends Instagram DMs".to_owned());
        }
    }
    if config.restoration.backend == BackendKind::AccountService {
        settings.push(
            "restoration.backend = \"account_service\" calls the platform's account service"
                .to_owned(),
        );
    }
    settings
}

/// Checks, plans and runs the demo on the configured database.
pub async fn run(config: &Config, args: &DemoArgs) -> anyhow::Result<Report> {
    let refused = real_outbound(config);
    if !refused.is_empty() {
        return Err(DemoRefused::RealOutbound { settings: refused }.into());
    }
    // Whole seconds: the plan's times are the same in every backend's precision.
    let now = Utc::now()
        .duration_trunc(TimeDelta::seconds(1))
        .unwrap_or_else(|_| Utc::now());
    let settings = config.engine_settings();
    let plan = Plan::new(
        args.seed,
        args.accounts as usize,
        now,
        &Shape::default(),
        &settings.default_queue,
    );
    let start = plan.steps.first().map_or(now, |step| step.at);
    let clock = ManualClock::new(start);
    let engine = crate::app::open_engine(config, Arc::new(clock.clone())).await?;
    if !engine.is_empty().await? {
        return Err(DemoRefused::NotEmpty {
            database: crate::app::redact_url(&config.database.url),
        }
        .into());
    }
    let rules = engine.routing_rules().await?;
    if !rules.is_empty() {
        return Err(DemoRefused::RoutingRules {
            database: crate::app::redact_url(&config.database.url),
            names: rules.into_iter().map(|r| r.rule.definition.name).collect(),
        }
        .into());
    }
    catalog::seed_if_empty(&engine, &config.email.default_language).await?;
    let signer = crate::email::message_id_signer(&config.email, &engine).await?;
    let mut intake_settings = crate::email::intake_settings(&config.email, signer);
    intake_settings
        .trusted_authserv_ids
        .push(DEMO_AUTHSERV_ID.to_owned());
    let channels = run::Channels {
        email: EmailIntake::new(engine.clone(), intake_settings),
        appeals_address: config
            .email
            .from_address()
            .unwrap_or_else(|| "appeals@localhost".to_owned()),
        confirmation: confirmation_settings(config),
        detector: config.transparency.detector.settings(),
    };
    run::Runner::new(engine, clock, &plan, channels)
        .run()
        .await
        .context("filling the demo database")
}

fn confirmation_settings(config: &Config) -> ConfirmationSettings {
    config.social.intake_settings().confirmation
}

/// `redress demo`: runs the demo and prints what it made and how to sign in.
pub async fn command(config: &Config, args: &DemoArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Minted first, so a configuration without HS256 is known before anything is written.
    let token = redress_graphql::auth::mint_dev_token(
        &config.graphql.auth,
        DEMO_STAFF,
        &DEMO_ROLES,
        Utc::now(),
        TimeDelta::hours(8),
    );
    let report = run(config, args).await?;
    println!(
        "{}",
        summary(
            &report,
            &crate::app::redact_url(&config.database.url),
            args.seed,
            started.elapsed()
        )
    );
    println!(
        "{}",
        sign_in(config, token.as_deref().map_err(ToString::to_string))
    );
    Ok(())
}

fn counts(map: &std::collections::BTreeMap<String, usize>) -> String {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    entries
        .iter()
        .map(|(name, n)| format!("{n} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the demo made, in a few lines.
pub fn summary(report: &Report, database: &str, seed: u64, elapsed: std::time::Duration) -> String {
    let wave = report
        .enforcements
        .get(plan::FAULTY_MODEL)
        .copied()
        .unwrap_or(0);
    let appeals: usize = report.appeals.values().sum();
    let routed: usize = report.routed.values().sum();
    let mut lines = vec![
        format!("Demo wave (seed {seed}) written to {database} in {:.1} s:", elapsed.as_secs_f64()),
        format!(
            "  {} accounts; {wave} deactivated by the model {} (batch {}), {} of them for an image they only saved; the rest by everyday sources ({})",
            report.accounts,
            plan::FAULTY_MODEL,
            plan::FAULTY_BATCH,
            report.saved_not_created,
            counts(&report.enforcements.iter().filter(|(k, _)| k.as_str() != plan::FAULTY_MODEL).map(|(k, v)| (k.clone(), *v)).collect()),
        ),
        format!("  {appeals} appeals by channel: {}", counts(&report.appeals)),
        format!("  by language: {}", counts(&report.languages)),
        format!(
            "  {} follow-up mails threaded, {} social handles linked through the link mailed to the account",
            report.follow_ups, report.handles_linked
        ),
        format!(
            "  {routed} triaged by routing rules as they were filed ({}), {} by hand ({} still waiting for triage)",
            counts(&report.routed),
            report.triaged,
            appeals.saturating_sub(report.triaged + routed),
        ),
        format!(
            "  {} restored and {} upheld by reviewers, {} in a reviewer's hands, {} waiting for the appellant",
            report.restored_by_reviewers,
            report.upheld,
            report.in_review,
            report.awaiting_appellant
        ),
        format!(
            "  {} notices and alerts Redress sent were kept by the demo: nothing left this machine",
            report.notices
        ),
    ];
    if report.incidents.is_empty() {
        lines.push("  no incident raised (the detector's settings ask for more)".to_owned());
    }
    for incident in &report.incidents {
        lines.push(format!(
            "  incident open: {} {} ({} of {} decided appeals overturned); its bulk restore would cover {} accounts",
            incident.source_kind,
            incident.source_id,
            incident.overturned,
            incident.decided,
            incident.accounts_to_restore
        ));
    }
    lines.join("\n")
}

fn sign_in(config: &Config, token: Result<&str, String>) -> String {
    let console = config.alerts.console_url.clone();
    let roles: Vec<&str> = DEMO_ROLES.iter().map(|r| r.as_str()).collect();
    let mut lines = vec![
        String::new(),
        "Next: start the service and open the console:".to_owned(),
        "  cargo run --release -- serve        (or: redress serve)".to_owned(),
        format!("  {console}"),
    ];
    match token {
        Ok(token) => {
            lines.push(format!(
                "Sign in with this token ({DEMO_STAFF}: {}; valid 8 hours):",
                roles.join(", ")
            ));
            lines.push(format!("  {token}"));
        }
        Err(error) => lines.push(format!(
            "No development token could be minted ({error}); sign in with a token of your identity provider carrying the roles {}.",
            roles.join(", ")
        )),
    }
    let role_args: Vec<String> = roles.iter().map(|r| format!("--role {r}")).collect();
    lines.push(format!(
        "Another one later: redress token --sub {DEMO_STAFF} {}",
        role_args.join(" ")
    ));
    lines.push(
        "Then: Incidents shows the model's incident and its ready bulk restore; Routing rules the two rules that triaged appeals as they came in (the queue fast-lane holds the saved-not-created ones); Triage the appeals left to a person; Queue the rest."
            .to_owned(),
    );
    lines.join("\n")
}
