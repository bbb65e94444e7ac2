//! `redress privacy` end to end, on SQLite and PostgreSQL: a legal hold by reference blocks
//! an erasure, the access document holds the appeal, the erasure empties it, and the purge
//! reports what it removed.

use std::sync::Arc;

use clap::Parser;
use redress::cli::{Cli, Command};
use redress::config::Config;
use redress_core::{Actor, Channel, Command as AppealCommand, Role};
use redress_engine::{IncomingAppeal, SystemClock};
use serde_json::{json, Value};

const ADDRESS: &str = "cli.person@mailbox.test";
const TEXT: &str = "saxophone nightingale appeal";

async fn privacy(config: &Config, args: &[&str]) -> anyhow::Result<String> {
    let mut argv = vec!["redress", "privacy"];
    argv.extend_from_slice(args);
    let Command::Privacy { command } = Cli::try_parse_from(argv)?.command else {
        unreachable!("a privacy command");
    };
    let mut out = Vec::new();
    Box::pin(redress::privacy::run(config, command, &mut out)).await?;
    Ok(String::from_utf8(out)?)
}

redress_engine::backend_tests! {
    async fn holds_access_and_erasure_from_the_command_line(test) {
        let mail = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.database.url.clone_from(&test.url);
        config.database.schema.clone_from(&test.schema);
        mail.path().clone_into(&mut config.email.outgoing_dir);
        let engine = redress::app::open_engine(&config, Arc::new(SystemClock)).await.expect("engine");
        let id = engine.file(&Actor::appellant(ADDRESS), IncomingAppeal {
            channel: Channel::Email,
            channel_message_id: Some("<cli-1@mx.test>".into()),
            sender: ADDRESS.into(),
            contact: None,
            account_id: None,
            enforcement_id: None,
            identity_verified: false,
            subject: Some("Please".into()),
            body: TEXT.into(),
            in_reply_to: None,
            metadata: json!({}),
        }).await.expect("file").appeal_id().expect("id");
        let reference = engine.appeal(id).await.expect("appeal").reference.to_string();

        let open = privacy(&config, &["erase", "--email", ADDRESS, "--actor", "ada"]).await.expect_err("open");
        assert!(open.to_string().contains("still open") && open.to_string().contains(&reference), "{open}");
        engine.apply(id, None, &AppealCommand::Withdraw { reason: "asked".into() }, &Actor::staff("ada", [Role::Admin])).await.expect("withdraw");

        let held: Value = serde_json::from_str(&privacy(&config, &["hold", "--appeal", &reference, "--reason", "court order", "--actor", "ada"]).await.expect("hold")).expect("json");
        assert_eq!(held["held"], true);
        let refused = privacy(&config, &["erase", "--email", ADDRESS, "--actor", "ada"]).await.expect_err("held");
        assert!(refused.to_string().contains("legal hold") && refused.to_string().contains(&reference), "{refused}");
        assert!(privacy(&config, &["release", "--appeal", &reference, "--reason", " ", "--actor", "ada"]).await.is_err(), "a reason is needed");
        privacy(&config, &["release", "--appeal", &reference, "--reason", "lifted", "--actor", "ada"]).await.expect("release");
        assert!(Cli::try_parse_from(["redress", "privacy", "access", "--email", ADDRESS, "--handle", "x", "--actor", "ada"]).is_err(), "one subject at a time");

        let document: Value = serde_json::from_str(&privacy(&config, &["access", "--email", ADDRESS.to_uppercase().as_str(), "--actor", "ada"]).await.expect("access")).expect("json");
        assert_eq!(document["appeals"][0]["messages"][0]["body"], TEXT, "{document}");
        assert_eq!(document["appeals"][0]["reference"], reference.as_str());

        let erased: Value = serde_json::from_str(&privacy(&config, &["erase", "--email", ADDRESS, "--actor", "ada"]).await.expect("erase")).expect("json");
        assert_eq!(erased["appeals"], 1, "{erased}");
        let after: Value = serde_json::from_str(&privacy(&config, &["access", "--email", ADDRESS, "--actor", "ada"]).await.expect("access")).expect("json");
        assert_eq!(after["appeals"], json!([]), "nothing is found by the address any more: {after}");
        let history = engine.history(id).await.expect("history");
        assert!(history.iter().all(|(_, event)| !serde_json::to_string(event).expect("json").contains(ADDRESS)), "{history:?}");

        let purged: Value = serde_json::from_str(&privacy(&config, &["purge"]).await.expect("purge")).expect("json");
        assert_eq!(purged, json!({"purged": {}, "mail_files": 0}), "nothing is due a year before its time");
        test.cleanup().await;
    }
}
