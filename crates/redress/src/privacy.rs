//! Personal data from the command line (`redress privacy ...`): legal holds, everything
//! held about a person, erasure, and one round of the retention purge; and the mail-out
//! folder of the file transport, which erasures reach through the engine.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use redress_core::{Actor, AppealReference, Role};
use redress_engine::privacy::{mentions, AppealCopies, OutsideCopies, Subject, MIN_IDENTIFIER};
use redress_engine::{Engine, SystemClock};
use uuid::Uuid;

use crate::config::Config;

/// The file transport's folder. An erasure removes every file in it that names one of the
/// person's addresses or handles as a whole word (the engine's matcher: at least
/// [`MIN_IDENTIFIER`] characters, an address inside a longer one is not it), as the mail
/// itself would be. The retention purge removes the files about the appeals it purged:
/// those carrying a Message-ID signed for the appeal or naming its reference.
#[derive(Debug, Clone)]
pub struct MailOutFolder {
    dir: PathBuf,
}

impl MailOutFolder {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Removes every file whose text ([`mail_text`]) `names_it`; returns how many went. A
    /// file that another process removed meanwhile is no failure.
    fn remove_files_where(&self, names_it: impl Fn(&str) -> bool) -> Result<u64, String> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(format!("reading {}: {err}", self.dir.display())),
        };
        let mut removed = 0;
        for entry in entries {
            let path = entry
                .map_err(|err| format!("reading {}: {err}", self.dir.display()))?
                .path();
            if !path.is_file() {
                continue;
            }
            let content = match std::fs::read(&path) {
                Ok(content) => content,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(format!("reading {}: {err}", path.display())),
            };
            if !names_it(&mail_text(&content)) {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(format!("removing {}: {err}", path.display())),
            }
        }
        Ok(removed)
    }
}

/// What a mail file says, to look for words in: the file as written, with quoted-printable
/// soft line breaks joined (so an address split across two lines is still found), then its
/// subject and text parts decoded (a subject in RFC 2047 words, a base64 body).
fn mail_text(content: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(content).replace("=\r\n", "");
    if let Some(message) = mail_parser::MessageParser::default().parse(content) {
        if let Some(subject) = message.subject() {
            text.push('\n');
            text.push_str(subject);
        }
        for body in (0..).map_while(|part| message.body_text(part)) {
            text.push('\n');
            text.push_str(&body);
        }
    }
    text
}

impl OutsideCopies for MailOutFolder {
    fn erase(&self, identifiers: &[String]) -> Result<u64, String> {
        let needles: Vec<&String> = identifiers
            .iter()
            .filter(|i| i.chars().count() >= MIN_IDENTIFIER)
            .collect();
        if needles.is_empty() {
            return Ok(0);
        }
        self.remove_files_where(|text| needles.iter().any(|needle| mentions(text, needle)))
    }

    fn remove_about(&self, appeals: &[AppealCopies]) -> Result<u64, String> {
        if appeals.is_empty() {
            return Ok(0);
        }
        // Redress's Message-IDs read `<rdr.{appeal}.{nonce}.{tag}@{domain}>`.
        let signed: Vec<String> = appeals
            .iter()
            .map(|appeal| format!("<rdr.{}.", appeal.appeal_id.simple()))
            .collect();
        self.remove_files_where(|text| {
            signed.iter().any(|id| text.contains(id.as_str()))
                || appeals
                    .iter()
                    .any(|appeal| mentions(text, &appeal.reference))
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Put an appeal under legal hold: the retention purge and erasures leave it alone.
    Hold(HoldArgs),
    /// Release an appeal's legal hold.
    Release(HoldArgs),
    /// Print everything held about a person as one JSON document (GDPR Art. 15).
    Access(SubjectArgs),
    /// Erase a person's personal data (GDPR Art. 17); refused under legal hold.
    Erase(SubjectArgs),
    /// Run the retention purge until nothing more is due, and print what it purged.
    Purge,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// The appeal: its id or its reference (`RDR-...`).
    #[arg(long)]
    pub appeal: String,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub reason: String,
    /// The administrator acting (kept in the audit log).
    #[arg(long, env = "REDRESS_ACTOR")]
    pub actor: String,
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["account", "email", "handle"])))]
pub struct SubjectArgs {
    /// A platform account id.
    #[arg(long)]
    pub account: Option<String>,
    /// An email address.
    #[arg(long)]
    pub email: Option<String>,
    /// A social handle as the channel sends it.
    #[arg(long)]
    pub handle: Option<String>,
    /// The administrator acting (kept in the audit log).
    #[arg(long, env = "REDRESS_ACTOR")]
    pub actor: String,
}

impl SubjectArgs {
    fn subject(&self) -> anyhow::Result<Subject> {
        match (&self.account, &self.email, &self.handle) {
            (Some(account), None, None) => Ok(Subject::Account(account.clone())),
            (None, Some(email), None) => Ok(Subject::Email(email.clone())),
            (None, None, Some(handle)) => Ok(Subject::Handle(handle.clone())),
            _ => bail!("give exactly one of --account, --email, --handle"),
        }
    }
}

fn operator(actor: &str) -> anyhow::Result<Actor> {
    if actor.trim().is_empty() {
        bail!("--actor must name the administrator acting");
    }
    Ok(Actor::staff(actor.trim(), [Role::Admin]))
}

async fn engine(config: &Config) -> anyhow::Result<Engine> {
    crate::app::open_engine(config, Arc::new(SystemClock)).await
}

async fn appeal_id(engine: &Engine, appeal: &str) -> anyhow::Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(appeal) {
        return Ok(engine.appeal(id).await?.id);
    }
    let reference: AppealReference = appeal
        .parse()
        .with_context(|| format!("{appeal:?} is neither an appeal id nor a reference"))?;
    Ok(engine.appeal_by_reference(&reference).await?.id)
}

pub async fn run(
    config: &Config,
    command: PrivacyCommand,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<()> {
    let engine = engine(config).await?;
    match command {
        PrivacyCommand::Hold(args) | PrivacyCommand::Release(args) if args.reason.is_empty() => {
            bail!("--reason must say why")
        }
        PrivacyCommand::Hold(args) => hold(&engine, &args, true, out).await,
        PrivacyCommand::Release(args) => hold(&engine, &args, false, out).await,
        PrivacyCommand::Access(args) => {
            let export = engine
                .personal_data(&operator(&args.actor)?, args.subject()?)
                .await?;
            serde_json::to_writer_pretty(&mut *out, &export.document)?;
            writeln!(out)?;
            Ok(())
        }
        PrivacyCommand::Erase(args) => {
            let erasure = engine
                .erase_personal_data(&operator(&args.actor)?, args.subject()?)
                .await?;
            writeln!(
                out,
                "{}",
                serde_json::json!({
                    "request": erasure.request,
                    "appeals": erasure.appeals,
                    "rows": erasure.rows,
                    "pseudonyms": erasure.pseudonyms,
                    "mail_files": erasure.outside_copies,
                })
            )?;
            Ok(())
        }
        PrivacyCommand::Purge => {
            let settings = &config.retention;
            let mut purged = std::collections::BTreeMap::<String, usize>::new();
            let mut mail_files = 0;
            let mut failed = None;
            loop {
                let round = engine.purge_due(settings).await?;
                mail_files += round.outside.removed;
                if let Some(failure) = &round.outside.failed {
                    failed = Some(failure.clone());
                }
                if round.claimed() == 0 && round.outside.appeals == 0 {
                    break;
                }
                for (kind, ids) in round.purged {
                    *purged.entry(kind.to_string()).or_default() += ids.len();
                }
            }
            let mut report = serde_json::json!({ "purged": purged, "mail_files": mail_files });
            if let Some(failed) = failed {
                // Kept queued and audited; the worker tries again.
                report["mail_files_failed"] = serde_json::Value::String(failed);
            }
            writeln!(out, "{report}")?;
            Ok(())
        }
    }
}

async fn hold(
    engine: &Engine,
    args: &HoldArgs,
    held: bool,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<()> {
    let actor = operator(&args.actor)?;
    let id = appeal_id(engine, &args.appeal).await?;
    let was_held = engine
        .set_legal_hold(&actor, id, held, &args.reason)
        .await?;
    writeln!(
        out,
        "{}",
        serde_json::json!({ "appeal": id, "held": held, "was_held": was_held })
    )?;
    Ok(())
}
