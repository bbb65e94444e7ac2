//! `redress dead-letters list | retry`: the operator's view of outbox items that were given
//! up on.

use std::sync::Arc;

use clap::Subcommand;
use redress_engine::SystemClock;
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// Print dead letters as JSON lines, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Continue after this id (the last one of the previous page).
        #[arg(long)]
        before: Option<Uuid>,
    },
    /// Queue a dead letter again with a fresh attempt budget.
    Retry { id: Uuid },
}

pub async fn run(config: Config, command: DeadLettersCommand) -> anyhow::Result<()> {
    let state = crate::app::connect_state(config, Arc::new(SystemClock)).await?;
    match command {
        DeadLettersCommand::List { limit, before } => {
            for letter in state.engine.dead_letters(limit, before).await? {
                let line = serde_json::json!({
                    "id": letter.id,
                    "topic": letter.topic,
                    "appeal_id": letter.appeal_id,
                    "idempotency_key": letter.idempotency_key,
                    "attempts": letter.attempts,
                    "last_error": letter.last_error,
                    "created_at": letter.created_at,
                    "failed_at": letter.failed_at,
                    "payload": letter.payload,
                });
                println!("{line}");
            }
        }
        DeadLettersCommand::Retry { id } => {
            state.engine.retry_dead_letter(id).await?;
            println!("queued {id} again");
        }
    }
    Ok(())
}
