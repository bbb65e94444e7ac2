//! `redress bulk-restore`: a dry run or a run of a bulk job from the command line, with a
//! progress bar, over a selector or a CSV list of account ids.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use redress_core::{Actor, Role};
use redress_engine::restoration::BulkJobStatus;
use redress_engine::restoration::{BulkRestorer, Selector};
use redress_engine::SystemClock;
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BulkRestoreArgs {
    /// CSV file of account ids (first column; a header `account_id` is skipped).
    #[arg(long, conflicts_with_all = ["source", "batch", "policy", "from"])]
    pub csv: Option<PathBuf>,
    /// Enforcement source (rule or model id).
    #[arg(long)]
    pub source: Option<String>,
    /// Enforcement batch id.
    #[arg(long)]
    pub batch: Option<String>,
    /// Enforcement policy.
    #[arg(long)]
    pub policy: Option<String>,
    /// Start of a time window (RFC 3339), with --to.
    #[arg(long, requires = "to")]
    pub from: Option<DateTime<Utc>>,
    /// End of a time window (RFC 3339, exclusive).
    #[arg(long, requires = "from")]
    pub to: Option<DateTime<Utc>>,
    /// Why the accounts are restored; recorded in every appeal and in the audit.
    #[arg(long)]
    pub reason: Option<String>,
    /// The support staff member running the job (recorded in the audit).
    #[arg(long, env = "REDRESS_ACTOR")]
    pub actor: Option<String>,
    /// Only count: accounts, open appeals, already active, and a sample.
    #[arg(long)]
    pub dry_run: bool,
    /// Resume a job that stopped (crash, restart) instead of starting one.
    #[arg(long, conflicts_with_all = ["csv", "source", "batch", "policy", "from", "dry_run"])]
    pub resume: Option<Uuid>,
    /// Accounts per transaction (1 to 10,000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(redress_engine::restoration::bulk::MAX_CHUNK_SIZE)))]
    pub chunk_size: Option<u32>,
}

fn read_csv(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let mut ids = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} line {}", path.display(), line + 1))?;
        let Some(id) = record.get(0).filter(|id| !id.is_empty()) else {
            continue;
        };
        if line == 0 && id.eq_ignore_ascii_case("account_id") {
            continue;
        }
        ids.push(id.to_owned());
    }
    anyhow::ensure!(!ids.is_empty(), "{} lists no account ids", path.display());
    Ok(ids)
}

fn selector(args: &BulkRestoreArgs) -> anyhow::Result<Selector> {
    let chosen = [
        args.csv.is_some(),
        args.source.is_some(),
        args.batch.is_some(),
        args.policy.is_some(),
        args.from.is_some(),
    ]
    .iter()
    .filter(|c| **c)
    .count();
    anyhow::ensure!(
        chosen == 1,
        "name exactly one selector: --csv, --source, --batch, --policy or --from/--to"
    );
    Ok(if let Some(path) = &args.csv {
        Selector::Accounts {
            account_ids: read_csv(path)?,
        }
    } else if let Some(source_id) = &args.source {
        Selector::Source {
            source_id: source_id.clone(),
        }
    } else if let Some(batch_id) = &args.batch {
        Selector::Batch {
            batch_id: batch_id.clone(),
        }
    } else if let Some(policy) = &args.policy {
        Selector::Policy {
            policy: policy.clone(),
        }
    } else {
        Selector::Window {
            from: args.from.context("--from")?,
            to: args.to.context("--to")?,
        }
    })
}

pub async fn run(config: Config, args: BulkRestoreArgs) -> anyhow::Result<()> {
    let engine = crate::app::open_engine(&config, Arc::new(SystemClock)).await?;
    let restorer = BulkRestorer::new(engine, config.restoration.backend()?);

    let job_id = if let Some(job) = args.resume {
        job
    } else {
        let selector = selector(&args)?;
        if args.dry_run {
            let dry = restorer.dry_run(&selector).await?;
            println!("{}", serde_json::to_string_pretty(&dry)?);
            return Ok(());
        }
        let actor = args
            .actor
            .as_deref()
            .context("--actor (or REDRESS_ACTOR) names who runs the job")?;
        let reason = args.reason.as_deref().context("--reason is required")?;
        let chunk = args
            .chunk_size
            .unwrap_or(config.restoration.bulk_chunk_size);
        let job = restorer
            .start(
                &Actor::staff(actor, [Role::Support]),
                selector,
                reason,
                chunk,
            )
            .await?;
        eprintln!("job {} covers {} accounts", job.id, job.total);
        job.id
    };

    let job = restorer.job(job_id).await?;
    let bar = ProgressBar::new(u64::try_from(job.total).unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} accounts  {per_sec}  eta {eta}  {msg}")
            .context("progress bar template")?,
    );
    bar.set_position(u64::try_from(job.processed).unwrap_or(0));
    let ran = restorer
        .run(job_id, |progress| {
            bar.set_position(u64::try_from(progress.processed).unwrap_or(0));
            bar.set_message(format!(
                "restored {} requested {} already active {} failed {}",
                progress.restored, progress.requested, progress.already_active, progress.failed
            ));
        })
        .await;
    // A run ends when every slice is done, so anything but a completed job means work is
    // left (or the job was cancelled meanwhile): say what, and exit with an error.
    let finished = match ran {
        Ok(finished) if finished.status == BulkJobStatus::Completed => {
            bar.finish();
            finished
        }
        Ok(unfinished) => {
            bar.abandon();
            let resumable = unfinished.status == BulkJobStatus::Running;
            anyhow::bail!(
                "bulk restore job {job_id} is {} with {} of {} accounts processed; {}",
                unfinished.status,
                unfinished.processed,
                unfinished.total,
                what_is_left(&restorer, job_id, resumable).await
            )
        }
        Err(err) => {
            bar.abandon();
            let left = what_is_left(&restorer, job_id, true).await;
            return Err(anyhow::Error::new(err)
                .context(format!("bulk restore job {job_id} stopped; {left}")));
        }
    };
    let report = restorer.report(finished.id).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The slices a job still has accounts in, for the message of a run that did not finish,
/// and how to carry on when the job can be resumed.
async fn what_is_left(restorer: &BulkRestorer, job_id: Uuid, resumable: bool) -> String {
    match restorer.slices_left(job_id).await {
        Ok(left) if left.is_empty() => "no slice has accounts left".to_owned(),
        Ok(left) => {
            let slices: Vec<String> = left.iter().map(ToString::to_string).collect();
            let hint = if resumable {
                format!("; run `redress bulk-restore --resume {job_id}` to carry on")
            } else {
                String::new()
            };
            format!("left: {}{hint}", slices.join(", "))
        }
        Err(err) => format!("cannot tell which slices are left: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lists_skip_the_header_and_blank_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("accounts.csv");
        std::fs::write(&path, "account_id,note\nacct-1,x\n\n acct-2 \n").expect("write");
        assert_eq!(read_csv(&path).expect("read"), ["acct-1", "acct-2"]);
        std::fs::write(&path, "account_id\n").expect("write");
        assert!(read_csv(&path).is_err(), "an empty list is an error");
    }
}
