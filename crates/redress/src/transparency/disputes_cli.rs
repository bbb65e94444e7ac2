//! `redress disputes record`: puts an out-of-court dispute on the record from the command
//! line, audited under the operator's name.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use redress_core::{Actor, AppealReference, Role};
use redress_engine::transparency::disputes::NewDispute;
use uuid::Uuid;

use super::commands::{engine, parse_instant};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DisputesCommand {
    /// Record a dispute that a certified settlement body took about an appeal.
    Record(RecordDisputeArgs),
}

#[derive(Debug, Args)]
pub struct RecordDisputeArgs {
    /// The appeal: its id or its reference (`RDR-...`).
    #[arg(long)]
    pub appeal: String,
    /// The settlement body that took the dispute.
    #[arg(long)]
    pub body: String,
    /// When it was submitted to the body (date or RFC 3339).
    #[arg(long)]
    pub submitted: String,
    /// What the body decided, if it has.
    #[arg(long)]
    pub outcome: Option<String>,
    /// When it decided (date or RFC 3339); defaults to now with --outcome.
    #[arg(long, requires = "outcome")]
    pub resolved: Option<String>,
    /// The staff member recording it (kept in the audit log).
    #[arg(long, env = "REDRESS_ACTOR")]
    pub actor: String,
}

pub async fn run(config: &Config, command: DisputesCommand) -> anyhow::Result<()> {
    match command {
        DisputesCommand::Record(args) => {
            let id = record(config, args).await?;
            println!("{id}");
            Ok(())
        }
    }
}

/// Records the dispute; returns its id.
pub async fn record(config: &Config, args: RecordDisputeArgs) -> anyhow::Result<Uuid> {
    if args.actor.trim().is_empty() {
        bail!("--actor must name who records the dispute");
    }
    let engine = engine(config).await?;
    let appeal = if let Ok(id) = Uuid::parse_str(&args.appeal) {
        engine.appeal(id).await?
    } else {
        let reference: AppealReference = args.appeal.parse().with_context(|| {
            format!("{:?} is neither an appeal id nor a reference", args.appeal)
        })?;
        engine.appeal_by_reference(&reference).await?
    };
    let dispute = NewDispute {
        appeal_id: appeal.id,
        settlement_body: args.body,
        submitted_at: parse_instant(&args.submitted)?,
        outcome: args.outcome,
        resolved_at: args.resolved.as_deref().map(parse_instant).transpose()?,
    };
    let actor = Actor::staff(args.actor.trim(), [Role::Support]);
    let id = engine.record_dispute(&actor, dispute).await?;
    tracing::info!(dispute = %id, appeal = %appeal.id, reference = %appeal.reference, "out-of-court dispute recorded");
    Ok(id)
}
