//! The command line: `redress serve | migrate | ...`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "redress",
    version,
    about = "Appeals and account-restoration workflow engine"
)]
pub struct Cli {
    /// TOML configuration file; `redress.toml` in the working directory is read when present.
    #[arg(long, global = true, env = "REDRESS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve HTTP until SIGTERM or Ctrl-C.
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print a development bearer token (HS256, signed with the configured secret).
    Token(crate::token::TokenArgs),
    /// Write the GraphQL schema (SDL) to a file.
    ExportSchema {
        #[arg(long, default_value = "schema.graphql")]
        output: PathBuf,
    },
    /// Run the background workers (SLA timers, outbox delivery) without the HTTP server.
    Worker,
    /// List or retry outbox items that were given up on.
    DeadLetters {
        #[command(subcommand)]
        command: crate::dead_letters::DeadLettersCommand,
    },
    /// Submission of statements to the EU Transparency Database: submit, list, counts,
    /// resubmit.
    Tdb {
        #[command(subcommand)]
        command: crate::transparency::tdb_cli::TdbCommand,
    },
    /// Restore the accounts of a faulty enforcement wave: dry run, run or resume a job.
    BulkRestore(crate::bulk_restore_cli::BulkRestoreArgs),
    /// Print the transparency report of a period (`--from`/`--to` as dates or RFC 3339).
    Report {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "json")]
        format: crate::transparency::ReportFormat,
    },
    /// Record out-of-court disputes (DSA Art. 21) about appeals.
    Disputes {
        #[command(subcommand)]
        command: crate::transparency::disputes_cli::DisputesCommand,
    },
    /// Personal data: legal holds, access (GDPR Art. 15), erasure (Art. 17), the
    /// retention purge.
    Privacy {
        #[command(subcommand)]
        command: crate::privacy::PrivacyCommand,
    },
    /// Fill an empty database with a faulty-enforcement wave to explore the console with.
    Demo(crate::demo::DemoArgs),
    /// Print the statements of reasons of the enforcements of a period in the EU
    /// Transparency Database's JSON schema, one batch body (at most 100 statements) per
    /// line; fails if any would be refused.
    ExportStatements {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    crate::telemetry::init(&config.log);
    match cli.command {
        Command::Token(args) => crate::token::print(&config, &args),
        Command::ExportSchema { output } => {
            std::fs::write(&output, redress_graphql::sdl())
                .with_context(|| format!("writing {}", output.display()))?;
            tracing::info!(path = %output.display(), "schema written");
            Ok(())
        }
        Command::Serve => {
            Box::pin(crate::app::start(config))
                .await?
                .run_until_signal()
                .await
        }
        Command::Worker => Box::pin(crate::workers::run_alone(config)).await,
        Command::DeadLetters { command } => {
            Box::pin(crate::dead_letters::run(config, command)).await
        }
        Command::BulkRestore(args) => crate::bulk_restore_cli::run(config, args).await,
        Command::Tdb { command } => {
            crate::transparency::tdb_cli::run(&config, command, &mut std::io::stdout()).await
        }
        Command::Report { from, to, format } => {
            crate::transparency::report(&config, &from, &to, format, &mut std::io::stdout()).await
        }
        Command::Disputes { command } => {
            crate::transparency::disputes_cli::run(&config, command).await
        }
        Command::ExportStatements { from, to } => {
            crate::transparency::export_statements(&config, &from, &to, &mut std::io::stdout())
                .await
        }
        Command::Privacy { command } => {
            crate::privacy::run(&config, command, &mut std::io::stdout()).await
        }
        Command::Demo(args) => crate::demo::command(&config, &args).await,
        Command::Migrate => {
            redress_engine::storage::migrate(&config.database.url, &config.pool_settings())
                .await
                .with_context(|| {
                    format!("opening {}", crate::app::redact_url(&config.database.url))
                })?;
            tracing::info!("database is up to date");
            Ok(())
        }
    }
}
