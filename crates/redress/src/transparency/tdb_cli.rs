//! `redress tdb submit | list | counts | resubmit`: the operator's side of the submission of
//! statements to the EU Transparency Database.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use redress_core::{Actor, Role};
use redress_engine::transparency::tdb::TdbStatement;
use redress_engine::transparency::tdb_submission::TdbState;
use redress_engine::Engine;
use uuid::Uuid;

use super::tdb_client::HttpTdbApi;
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateArg {
    Pending,
    Submitted,
    Refused,
}

impl From<StateArg> for TdbState {
    fn from(state: StateArg) -> Self {
        match state {
            StateArg::Pending => TdbState::Pending,
            StateArg::Submitted => TdbState::Submitted,
            StateArg::Refused => TdbState::Refused,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TdbCommand {
    /// Submit what is due now, round after round, until nothing is left or the database
    /// asks to wait; prints each round's figures as a JSON line.
    Submit {
        /// Stop after this many rounds.
        #[arg(long, default_value_t = 1000)]
        max_rounds: u32,
    },
    /// Print submissions as JSON lines, most recently changed first.
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// How many statements are pending, submitted and refused.
    Counts,
    /// Send a refused statement again: as the enforcement maps now, or as the statement
    /// in `--statement` (JSON, checked with the database's rules before it is queued).
    Resubmit {
        enforcement_id: Uuid,
        #[arg(long)]
        statement: Option<PathBuf>,
        /// Who resubmits it, for the audit log.
        #[arg(long)]
        actor: String,
    },
}

pub async fn run(config: &Config, command: TdbCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let engine = super::commands::engine(config).await?;
    match command {
        TdbCommand::Submit { max_rounds } => submit(config, &engine, max_rounds, out).await,
        TdbCommand::List { state, limit } => {
            for submission in engine
                .tdb_submissions(state.map(TdbState::from), limit)
                .await?
            {
                serde_json::to_writer(&mut *out, &submission)?;
                writeln!(out)?;
            }
            Ok(())
        }
        TdbCommand::Counts => {
            serde_json::to_writer(&mut *out, &engine.tdb_submission_counts().await?)?;
            writeln!(out)?;
            Ok(())
        }
        TdbCommand::Resubmit {
            enforcement_id,
            statement,
            actor,
        } => {
            if actor.trim().is_empty() {
                bail!("--actor must name who resubmits the statement");
            }
            let actor = Actor::staff(actor.trim(), [Role::Admin]);
            let correction = match statement {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(
                        serde_json::from_str::<TdbStatement>(&text).with_context(|| {
                            format!(
                                "{} is not a Transparency Database statement",
                                path.display()
                            )
                        })?,
                    )
                }
                None => None,
            };
            let submission = engine
                .tdb_resubmit(&actor, enforcement_id, correction)
                .await?;
            serde_json::to_writer(&mut *out, &submission)?;
            writeln!(out)?;
            Ok(())
        }
    }
}

async fn submit(
    config: &Config,
    engine: &Engine,
    max_rounds: u32,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let submission = &config.transparency.tdb_submission;
    if submission.base_url.is_empty() || submission.token.is_empty() {
        bail!("set transparency.tdb_submission.base_url and .token to submit");
    }
    let api = HttpTdbApi::new(submission)?;
    let mut settings = submission.submit_settings(&config.transparency.transparency_database);
    for round in 0..max_rounds {
        settings.full_scan = round == 0;
        let report = engine.tdb_submit_round(&api, &settings).await?;
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
        if report.claimed == 0 || report.deferred > 0 {
            break;
        }
    }
    Ok(())
}
