//! Personal data end to end, on SQLite and PostgreSQL: erasure over GraphQL leaves no
//! trace of the person in any text, JSON or search column of any table (found from the
//! database's own catalog, so a table added later is scanned too) nor in the mail-out
//! folder; a legal hold refuses it; the access document holds what was held; the audit
//! log reads it all back. The retention purge, run by three replicas at once, purges each
//! due appeal once, touches nothing else and leaves the transparency figures as they were.
//! A notice still on its way at the purge goes, with its mail file, once the dispatcher has
//! delivered or dead-lettered it.

#[allow(dead_code)]
mod api;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use api::TestApp;
use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Actor, Channel, Command, Role, StatementOfReasons};
use redress_engine::privacy::{DataKind, RetentionSettings};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::{outbox_statuses, reviewed_suspension_statement};
use redress_engine::worker::{Backoff, DispatchReport, DispatchSettings, Dispatcher};
use redress_engine::{Clock, Engine, IncomingAppeal};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement,
};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

const ACCOUNT: &str = "acct-quarrington";
const ACCOUNT_EMAIL: &str = "jq.platform@example.test";
const ADDRESS: &str = "jo.quarrington@mailbox.test";
const NAME: &str = "Josephine Quarrington";
const HANDLE: &str = "xhandle918273";
const MAIL_TEXT: &str = "zebrafinch quillpen marzipan";
const DM_TEXT: &str = "marmalade lighthouse";
const NOTE: &str = "Spoke with Josephine on the phone";
const OTHER_TEXT: &str = "unrelated kestrel words";

/// Every place a needle is found: `table.column` for every text, JSON and full-text column
/// of every table, from the catalog.
async fn traces(db: &DatabaseConnection, needle: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let needle = needle.to_lowercase();
    let mut columns: Vec<(String, String)> = Vec::new();
    if backend == DbBackend::Postgres {
        let rows = db.query_all_raw(Statement::from_string(backend,
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') OR c.udt_name = 'tsvector')")).await.expect("catalog");
        for row in rows {
            columns.push((
                row.try_get_by_index(0).expect("table"),
                row.try_get_by_index(1).expect("column"),
            ));
        }
    } else {
        let tables = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            ))
            .await
            .expect("catalog");
        for table in tables {
            let table: String = table.try_get_by_index(0).expect("name");
            let info = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT name FROM pragma_table_info(?)",
                    [table.clone().into()],
                ))
                .await
                .expect("columns");
            for column in info {
                columns.push((table.clone(), column.try_get_by_index(0).expect("column")));
            }
        }
    }
    assert!(
        columns.len() > 50,
        "the catalog lists the schema's columns: {}",
        columns.len()
    );
    let mut found = Vec::new();
    for (table, column) in columns {
        let sql = if backend == DbBackend::Postgres {
            format!(
                r#"SELECT count(*) FROM "{table}" WHERE strpos(lower("{column}"::text), $1) > 0"#
            )
        } else {
            format!(
                r#"SELECT count(*) FROM "{table}" WHERE typeof("{column}") = 'text' AND instr(lower("{column}"), ?) > 0"#
            )
        };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [needle.clone().into()],
            ))
            .await
            .expect("scan")
            .expect("count");
        let count: i64 = row.try_get_by_index(0).expect("count");
        if count > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    if backend == DbBackend::Sqlite {
        // The full-text indexes keep words, not text: ask them for the needle's rare words.
        for table in ["message_search", "note_search"] {
            for word in needle
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() >= 8)
            {
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        format!("SELECT count(*) FROM {table} WHERE {table} MATCH ?"),
                        [format!("\"{word}\"").into()],
                    ))
                    .await
                    .expect("match")
                    .expect("count");
                let count: i64 = row.try_get_by_index(0).expect("count");
                if count > 0 {
                    found.push(format!("{table} MATCH {word}"));
                }
            }
        }
    }
    found
}

/// Mail files naming the needle.
fn mail_traces(folder: &Path, needle: &str) -> usize {
    std::fs::read_dir(folder)
        .expect("mail-out folder")
        .map(|entry| std::fs::read(entry.expect("entry").path()).expect("read"))
        .filter(|content| {
            String::from_utf8_lossy(content)
                .replace("=\r\n", "")
                .to_lowercase()
                .contains(&needle.to_lowercase())
        })
        .count()
}

fn upheld_statement() -> StatementOfReasons {
    serde_json::from_value(redress_engine::testing::automated_suspension_statement(
        Utc::now(),
    ))
    .expect("statement")
}

fn by_mail(sender: &str, account: Option<&str>, name: &str, body: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{}@mx.test>", Uuid::now_v7())),
        sender: sender.into(),
        contact: None,
        account_id: account.map(str::to_owned),
        enforcement_id: None,
        identity_verified: account.is_some(),
        subject: Some(format!("Appeal: {body}")),
        body: body.into(),
        in_reply_to: None,
        metadata: json!({"from_name": name, "envelope_from": sender, "classification": "appeal",
            "attachments": [{"filename": "screenshot.png", "content_type": "image/png", "size": 2048}]}),
    }
}

fn by_dm(handle: &str, body: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(format!("dm-{}", Uuid::now_v7())),
        sender: handle.into(),
        contact: Some(handle.into()),
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: body.into(),
        in_reply_to: None,
        metadata: json!({"screen_name": handle}),
    }
}

async fn file(engine: &Engine, who: &str, appeal: IncomingAppeal) -> Uuid {
    engine
        .file(&Actor::appellant(who), appeal)
        .await
        .expect("file")
        .appeal_id()
        .expect("id")
}

async fn withdraw(engine: &Engine, id: Uuid) {
    engine
        .apply(
            id,
            None,
            &Command::Withdraw {
                reason: "the appellant asked".into(),
            },
            &Actor::staff("ada", [Role::Admin]),
        )
        .await
        .expect("withdraw");
}

/// Hands the mail notices in the outbox to the file transport.
async fn deliver_mail(app: &TestApp) {
    let registry = redress::deliverers::registry(&app.app.state).expect("registry");
    let items = redress_engine::entity::outbox::Entity::find()
        .all(app.app.state.engine.db())
        .await
        .expect("outbox");
    for item in items {
        if item.payload["channel"] != "email" {
            continue;
        }
        let message = redress_engine::delivery::OutboxMessage::from(item);
        if let Some(deliverer) = registry.deliverer_for(&message) {
            deliverer.deliver(&message).await.expect("deliver");
        }
    }
}

/// The outbox dispatcher, with the deliverers the application registers (the mail one
/// makes the mail-out folder when it is built).
fn dispatcher(app: &TestApp, settings: DispatchSettings) -> Dispatcher {
    let registry = redress::deliverers::registry(&app.app.state).expect("registry");
    Dispatcher::new(
        app.app.state.engine.db().clone(),
        Arc::new(app.clock.clone()),
        Arc::new(registry),
        settings,
    )
}

/// One round of `dispatcher`.
async fn dispatch(dispatcher: &Dispatcher) -> DispatchReport {
    let (_stop, stop) = watch::channel(false);
    dispatcher.run_once(&stop).await.expect("dispatch")
}

/// No column of any table holds any of `gone`, and a further purge finds nothing to do.
async fn leaves_no_trace_and_nothing_due(
    engine: &Engine,
    settings: &RetentionSettings,
    gone: &[&str],
) {
    for gone in gone {
        let found = traces(engine.db(), gone).await;
        assert!(found.is_empty(), "{gone} is still in {found:?}");
    }
    let idle = engine.purge_due(settings).await.expect("purge");
    assert_eq!(
        (idle.claimed(), idle.rows, idle.outside.appeals),
        (0, 0, 0),
        "{idle:?}"
    );
}

/// A withdrawn appeal by mail whose notices are still pending, past every period, purged
/// until nothing more is due: the notices stay, and the purge then leaves the appeal alone.
/// Returns the number of notices.
async fn purged_with_notices_pending(
    app: &TestApp,
    settings: &RetentionSettings,
    appeal: Uuid,
) -> usize {
    let engine = &app.app.state.engine;
    let db = engine.db();
    withdraw(engine, appeal).await;
    let notices = outbox_statuses(db, appeal).await;
    assert!(!notices.is_empty(), "the appeal's notices are queued");
    assert!(
        notices.iter().all(|status| status == "pending"),
        "{notices:?}"
    );
    app.clock.advance(TimeDelta::days(800));
    let (purged, _, failed) = purge_all(engine, settings).await;
    assert!(failed.is_none(), "{failed:?}");
    for kind in DataKind::ALL {
        assert!(
            purged.get(&kind).is_some_and(|ids| ids.contains(&appeal)),
            "{kind}: {purged:?}"
        );
    }
    assert_eq!(
        outbox_statuses(db, appeal).await,
        notices,
        "the notices on their way stay"
    );
    assert!(
        traces(db, ADDRESS)
            .await
            .contains(&"outbox.payload".to_owned()),
        "they name the address"
    );
    // Nothing is left that the purge may take yet: it does not claim the appeal again.
    let idle = engine.purge_due(settings).await.expect("purge");
    assert_eq!(
        (idle.claimed(), idle.rows, idle.outside.appeals),
        (0, 0, 0),
        "{idle:?}"
    );
    notices.len()
}

const ERASE: &str = "mutation($s: PersonalDataSubjectInput!) { erasePersonalData(subject: $s) { requestId appeals rows pseudonyms mailFiles } }";
const EXPORT: &str = "mutation($s: PersonalDataSubjectInput!) { exportPersonalData(subject: $s) { appeals document } }";
const HOLD: &str =
    "mutation($id: ID!, $r: String!) { setLegalHold(appealId: $id, reason: $r) { held wasHeld } }";
const RELEASE: &str = "mutation($id: ID!, $r: String!) { clearLegalHold(appealId: $id, reason: $r) { held wasHeld } }";
const AUDIT: &str = "query($f: AuditLogFilterInput, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
  edges { cursor node { action actorKind actor appealId accountId details occurredAt } } pageInfo { hasNextPage } } }";

/// Outbox rows asking the platform to restore the appeal's account.
async fn restoration_rows(db: &DatabaseConnection, appeal: Uuid) -> usize {
    use redress_engine::entity::outbox;
    outbox::Entity::find()
        .filter(outbox::Column::AppealId.eq(appeal))
        .filter(outbox::Column::Topic.eq("request_restoration"))
        .all(db)
        .await
        .expect("outbox")
        .len()
}

/// A message from `sender` added to someone else's appeal.
async fn write_into(db: &DatabaseConnection, appeal: Uuid, sender: &str, body: &str) {
    use redress_engine::entity::message;
    use sea_orm::ActiveValue::Set;
    message::Entity::insert(message::ActiveModel {
        id: Set(Uuid::now_v7()),
        appeal_id: Set(Some(appeal)),
        direction: Set(message::Direction::Inbound),
        channel: Set("email".into()),
        channel_message_id: Set(Some(format!("<{}@mx.test>", Uuid::now_v7()))),
        in_reply_to: Set(None),
        sender: Set(sender.into()),
        recipient: Set(None),
        subject: Set(Some("About my friend's appeal".into())),
        body: Set(body.into()),
        classification: Set("appeal".into()),
        metadata: Set(json!({"from_name": "Harbour", "envelope_from": sender})),
        received_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .expect("message");
}

/// Marks every outbox row delivered, as the dispatcher would have long before a purge.
async fn settle_outbox(db: &DatabaseConnection) {
    redress_engine::entity::outbox::Entity::update_many()
        .col_expr(
            redress_engine::entity::outbox::Column::Status,
            sea_orm::sea_query::Expr::value("delivered"),
        )
        .exec(db)
        .await
        .expect("delivered");
}

/// Purges until nothing more is due: the appeals purged of each kind, the mail files
/// removed, and the last failure to remove them.
async fn purge_all(
    engine: &Engine,
    settings: &RetentionSettings,
) -> (BTreeMap<DataKind, BTreeSet<Uuid>>, u64, Option<String>) {
    let mut purged: BTreeMap<DataKind, BTreeSet<Uuid>> = BTreeMap::new();
    let (mut files, mut failed) = (0, None);
    loop {
        let round = engine.purge_due(settings).await.expect("purge");
        files += round.outside.removed;
        failed = round.outside.failed.clone().or(failed);
        if round.claimed() == 0 && round.outside.appeals == 0 {
            return (purged, files, failed);
        }
        for (kind, ids) in round.purged {
            purged.entry(kind).or_default().extend(ids);
        }
    }
}

async fn report(engine: &Engine, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{:?}",
        engine.transparency_report(from, to).await.expect("report")
    )
}

redress_engine::backend_tests! {
    async fn erasure_leaves_no_trace_of_the_person_anywhere(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let mut config = api::config_for(&test);
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let admin = app.token("ada", &[Role::Admin]);
        let reviewer = Actor::staff("rex", [Role::Reviewer]);
        let now = app.clock.now();
        registry::record_enforcement(&db, NewEnforcement {
            account_email: Some(ACCOUNT_EMAIL.into()),
            ..redress_engine::testing::automated_deactivation(ACCOUNT, "model", "classifier-v7", now - TimeDelta::days(2))
        }, now).await.expect("enforcement");

        let by_mail_id = file(&engine, ADDRESS, by_mail(ADDRESS, Some(ACCOUNT), NAME, MAIL_TEXT)).await;
        engine.apply(by_mail_id, None, &Command::Note { text: NOTE.into() }, &reviewer).await.expect("note");
        redress_engine::testing::triage_claim_and_decide(&engine, by_mail_id, &reviewer, now + TimeDelta::minutes(30), true, upheld_statement()).await;
        let by_dm_id = file(&engine, HANDLE, by_dm(HANDLE, DM_TEXT)).await;
        withdraw(&engine, by_dm_id).await;
        let other_id = file(&engine, "someone@else.test", by_mail("someone@else.test", None, "Someone Else", OTHER_TEXT)).await;
        withdraw(&engine, other_id).await;
        deliver_mail(&app).await;
        let (from, to) = (now - TimeDelta::days(1), now + TimeDelta::days(1));
        let figures = report(&engine, from, to).await;
        let history_len = engine.history(by_mail_id).await.expect("history").len();

        // The scan finds what is there before.
        for needle in [ADDRESS, NAME, HANDLE, MAIL_TEXT, DM_TEXT, ACCOUNT, ACCOUNT_EMAIL, OTHER_TEXT] {
            assert!(!traces(&db, needle).await.is_empty(), "{needle} is held before");
        }
        assert!(mail_traces(outgoing.path(), ADDRESS) > 0, "the notices went to the address");

        // Access: one document with the appeal, its messages and decision.
        let export = app.ok(&admin, EXPORT, json!({"s": {"accountId": ACCOUNT}})).await;
        let document = &export["exportPersonalData"]["document"];
        assert_eq!(export["exportPersonalData"]["appeals"], 1, "{export}");
        assert_eq!(document["accounts"][0]["email"], ACCOUNT_EMAIL);
        let appeal = &document["appeals"][0];
        assert!(appeal["messages"].as_array().expect("messages").iter().any(|m| m["body"] == MAIL_TEXT), "{appeal}");
        assert!(appeal["history"].as_array().expect("history").iter().any(|e| e["kind"] == "decided"), "{appeal}");
        assert_eq!(appeal["decision"]["outcome"], "restore", "{appeal}");
        assert!(appeal["enforcement"]["statement_of_reasons"].is_object(), "{appeal}");
        let by_handle = app.ok(&admin, EXPORT, json!({"s": {"handle": HANDLE}})).await;
        assert_eq!(by_handle["exportPersonalData"]["document"]["appeals"][0]["messages"][0]["body"], DM_TEXT);

        // Refusals name the field or the cause and change nothing.
        let reviewer_token = app.token("rex", &[Role::Reviewer]);
        assert_eq!(app.error_code(&reviewer_token, ERASE, json!({"s": {"accountId": ACCOUNT}})).await, "FORBIDDEN");
        let (_, both) = app.post(Some(&admin), ERASE, json!({"s": {"accountId": ACCOUNT, "email": ADDRESS}})).await;
        assert_eq!(both["errors"][0]["extensions"]["field"], "subject", "{both}");
        app.ok(&admin, HOLD, json!({"id": by_mail_id, "r": "court order 12/2026"})).await;
        let (_, held) = app.post(Some(&admin), ERASE, json!({"s": {"accountId": ACCOUNT}})).await;
        assert_eq!(held["errors"][0]["extensions"]["code"], "INVALID_TRANSITION", "{held}");
        assert!(held["errors"][0]["message"].as_str().expect("message").contains("legal hold"), "{held}");
        assert!(!traces(&db, MAIL_TEXT).await.is_empty(), "a held appeal keeps its data");
        let released = app.ok(&admin, RELEASE, json!({"id": by_mail_id, "r": "order lifted"})).await;
        assert_eq!(released["clearLegalHold"], json!({"held": false, "wasHeld": true}));

        let restorations = restoration_rows(&db, by_mail_id).await;
        assert!(restorations > 0, "the restored appeal owes the platform a restoration request");

        let erased = app.ok(&admin, ERASE, json!({"s": {"accountId": ACCOUNT}})).await;
        assert_eq!(erased["erasePersonalData"]["appeals"], 1, "{erased}");
        assert_eq!(restoration_rows(&db, by_mail_id).await, restorations, "the restoration owed is still on its way");
        assert!(erased["erasePersonalData"]["mailFiles"].as_i64().expect("files") > 0, "{erased}");
        let erased_handle = app.ok(&admin, ERASE, json!({"s": {"handle": HANDLE}})).await;
        assert_eq!(erased_handle["erasePersonalData"]["appeals"], 1, "{erased_handle}");

        for needle in [ADDRESS, NAME, "Josephine", HANDLE, MAIL_TEXT, "zebrafinch", DM_TEXT, ACCOUNT, ACCOUNT_EMAIL, NOTE] {
            let found = traces(&db, needle).await;
            assert!(found.is_empty(), "{needle} is still in {found:?}");
            assert_eq!(mail_traces(outgoing.path(), needle), 0, "{needle} is still in the mail-out folder");
        }
        assert!(!traces(&db, OTHER_TEXT).await.is_empty(), "another person's appeal is untouched");
        assert!(!traces(&db, "someone@else.test").await.is_empty(), "another person's address is untouched");
        // The lifecycle and the figures stand.
        assert_eq!(engine.history(by_mail_id).await.expect("history").len(), history_len);
        assert_eq!(engine.appeal(by_mail_id).await.expect("appeal").appeal.state.as_str(), "restored");
        assert_eq!(report(&engine, from, to).await, figures);

        // The audit log reads back the holds, the requests and completions, newest first.
        let audit = app.ok(&admin, AUDIT, json!({"f": {"action": "personal_data_erasure_completed"}})).await;
        let edges = audit["auditLog"]["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), 2, "{audit}");
        assert_eq!(edges[0]["node"]["actor"], "ada");
        assert_eq!(edges[0]["node"]["details"]["subject_kind"], "handle");
        let refused = app.ok(&admin, AUDIT, json!({"f": {"action": "personal_data_erasure_refused"}})).await;
        assert_eq!(refused["auditLog"]["edges"].as_array().expect("edges").len(), 1, "{refused}");
        let about = app.ok(&admin, AUDIT, json!({"f": {"subject": by_mail_id.to_string(), "actor": "ada"}, "first": 1})).await;
        assert_eq!(about["auditLog"]["edges"][0]["node"]["action"], "legal_hold_cleared", "{about}");
        assert_eq!(about["auditLog"]["pageInfo"]["hasNextPage"], true, "{about}");
        let cursor = about["auditLog"]["edges"][0]["cursor"].as_str().expect("cursor").to_owned();
        let next = app.ok(&admin, AUDIT, json!({"f": {"subject": by_mail_id.to_string(), "actor": "ada"}, "first": 5, "after": cursor})).await;
        let next = next["auditLog"]["edges"].as_array().expect("edges");
        assert_eq!(next.len(), 1, "{next:?}");
        assert_eq!(next[0]["node"]["action"], "legal_hold_set");
        // What the entries about the erased appeal said is gone with the rest.
        assert_eq!(next[0]["node"]["details"]["removed"], redress_engine::privacy::MARKER, "{next:?}");
        assert_eq!(app.error_code(&reviewer_token, AUDIT, json!({})).await, "FORBIDDEN");
        let (_, long) = app.post(Some(&admin), AUDIT, json!({"f": {"subject": "x".repeat(100_000)}})).await;
        assert_eq!(long["errors"][0]["extensions"]["field"], "subject", "{long}");
        app.stop().await;
    }

    async fn erasure_takes_only_what_is_the_persons_own(test) {
        const JO: &str = "jo@example.org";
        const MARY: &str = "mary.jo@example.org";
        const JO_TEXT: &str = "pelican saxophone";
        const JO_IN_MARYS: &str = "I vouch for Mary, signed periwinkle";
        const MARY_TEXT: &str = "the harbour at dawn was where I posted";
        let app = TestApp::start_with(api::config_for(&test)).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let admin = app.token("ada", &[Role::Admin]);
        // Jo signs as "Harbour", a word Mary's appeal uses too.
        let jo = file(&engine, JO, by_mail(JO, None, "Harbour", JO_TEXT)).await;
        withdraw(&engine, jo).await;
        let mary = file(&engine, MARY, by_mail(MARY, None, "Mary Jo", MARY_TEXT)).await;
        write_into(&db, mary, JO, JO_IN_MARYS).await;
        // Staff name Jo in the notes of Mary's open case and of Kim's closed one.
        let reviewer = Actor::staff("rex", [Role::Reviewer]);
        let note_on_mary = format!("Mary says {JO} can confirm the dates");
        engine.apply(mary, None, &Command::Note { text: note_on_mary.clone() }, &reviewer).await.expect("note");
        let kim = file(&engine, "kim@example.net", by_mail("kim@example.net", None, "Kim", "the lantern story")).await;
        engine.apply(kim, None, &Command::Note { text: format!("Kim forwarded mail from {JO}") }, &reviewer).await.expect("note");
        withdraw(&engine, kim).await;

        // A handle nobody holds is refused, and no word anywhere changes.
        let (_, nobody) = app.post(Some(&admin), ERASE, json!({"s": {"handle": "the"}})).await;
        assert_eq!(nobody["errors"][0]["extensions"]["code"], "NOT_FOUND", "{nobody}");
        assert!(nobody["errors"][0]["message"].as_str().expect("message").contains("nothing is held"), "{nobody}");
        assert!(!traces(&db, MARY_TEXT).await.is_empty(), "a refused erasure changes nothing");
        let refused = app.ok(&admin, AUDIT, json!({"f": {"action": "personal_data_erasure_refused"}})).await;
        assert_eq!(refused["auditLog"]["edges"][0]["node"]["details"]["reason"], "nothing_held", "{refused}");

        // Mary's open appeal, which Jo wrote into, does not keep Jo's erasure back.
        let erased = app.ok(&admin, ERASE, json!({"s": {"email": JO}})).await;
        assert_eq!(erased["erasePersonalData"]["appeals"], 1, "{erased}");
        for gone in [JO_TEXT, JO_IN_MARYS, "periwinkle"] {
            let found = traces(&db, gone).await;
            assert!(found.is_empty(), "{gone} is still in {found:?}");
        }
        // Mary's case is under review: its own text is left as it is, and the erasure
        // names it; Kim's closed case no longer names Jo.
        let notes = |id: Uuid| {
            let engine = engine.clone();
            async move {
                engine.history(id).await.expect("history").into_iter()
                    .filter_map(|(_, event)| match event.kind {
                        redress_core::EventKind::NoteAdded { text } => Some(text),
                        _ => None,
                    })
                    .collect::<Vec<String>>()
            }
        };
        assert_eq!(notes(mary).await, vec![note_on_mary.clone()]);
        assert_eq!(notes(kim).await, vec![format!("Kim forwarded mail from {}", redress_engine::privacy::MARKER)]);
        let marys_reference = engine.appeal(mary).await.expect("appeal").reference.to_string();
        let completed = app.ok(&admin, AUDIT, json!({"f": {"action": "personal_data_erasure_completed"}})).await;
        assert_eq!(completed["auditLog"]["edges"][0]["node"]["details"]["kept_in"], json!([marys_reference]), "{completed}");
        assert!(!traces(&db, MARY).await.is_empty(), "the longer address is someone else's");
        assert!(!traces(&db, MARY_TEXT).await.is_empty(), "a common word of Jo's name stays in Mary's text");
        let marys = engine.appeal(mary).await.expect("appeal");
        assert!(marys.appeal.state.is_open(), "Mary's appeal goes on");
        assert_eq!(marys.contact.as_deref(), Some(MARY));
        let messages = redress_engine::entity::message::Entity::find()
            .filter(redress_engine::entity::message::Column::AppealId.eq(mary))
            .all(&db).await.expect("messages");
        assert!(messages.iter().any(|m| m.body == MARY_TEXT && m.sender == MARY), "{messages:?}");
        assert!(messages.iter().all(|m| m.sender != JO), "{messages:?}");
        app.stop().await;
    }

    async fn data_added_after_a_purge_goes_after_the_next_closure_and_mail_files_go_too(test) {
        const FIRST_TEXT: &str = "cormorant firstmessage";
        const FIRST_NOTE: &str = "firstnote about the pin";
        const LATER_TEXT: &str = "albatross latermessage";
        const LATER_NOTE: &str = "laternote after reopening";
        const REOPENING: &str = "reopenreason with new evidence";
        const OTHER_TEXT: &str = "puffin othermessage";
        let dir = tempfile::tempdir().expect("tempdir");
        let outgoing = dir.path().join("mail-out");
        let mut config = api::config_for(&test);
        outgoing.clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let reviewer = Actor::staff("rex", [Role::Reviewer]);
        let senior = Actor::staff("sam", [Role::SeniorReviewer]);
        let settings = RetentionSettings::default();
        let now = app.clock.now();

        let appeal = file(&engine, ADDRESS, by_mail(ADDRESS, None, NAME, FIRST_TEXT)).await;
        engine.apply(appeal, None, &Command::Note { text: FIRST_NOTE.into() }, &reviewer).await.expect("note");
        let reviewed: StatementOfReasons = serde_json::from_value(reviewed_suspension_statement(now)).expect("statement");
        redress_engine::testing::triage_claim_and_decide(&engine, appeal, &reviewer, now + TimeDelta::minutes(30), false, reviewed).await;
        assert_eq!(engine.appeal(appeal).await.expect("appeal").appeal.state.as_str(), "upheld");
        // The same person's other appeal stays open throughout: its data and mail stay.
        let other = file(&engine, ADDRESS, by_mail(ADDRESS, None, NAME, OTHER_TEXT)).await;
        deliver_mail(&app).await;
        settle_outbox(&db).await;
        let reference = engine.appeal(appeal).await.expect("appeal").reference.to_string();
        let other_reference = engine.appeal(other).await.expect("appeal").reference.to_string();
        assert!(mail_traces(&outgoing, &reference) > 0, "the acknowledgement and the decision were mailed");
        assert!(mail_traces(&outgoing, &other_reference) > 0, "the other appeal was acknowledged");

        // The folder cannot be read when the purge commits: the removal is recorded and
        // tried again, not forgotten.
        let away = dir.path().join("mail-out.away");
        std::fs::rename(&outgoing, &away).expect("move the folder away");
        std::fs::write(&outgoing, b"not a folder").expect("a file in its place");
        app.clock.advance(TimeDelta::days(800));
        let (purged, files, failed) = purge_all(&engine, &settings).await;
        for kind in DataKind::ALL {
            assert!(purged.get(&kind).is_some_and(|ids| ids.contains(&appeal)), "{kind}: {purged:?}");
            assert!(!purged.get(&kind).is_some_and(|ids| ids.contains(&other)), "{kind}: the open appeal");
        }
        assert_eq!(files, 0);
        assert!(failed.as_deref().is_some_and(|f| f.contains("mail-out")), "{failed:?}");
        let queued = redress_engine::entity::outside_copy_removal::Entity::find().all(&db).await.expect("queued");
        assert_eq!(queued.len(), 1, "{queued:?}");
        assert_eq!((queued[0].appeal_id, queued[0].attempts), (appeal, 1));
        assert!(queued[0].last_error.is_some(), "{queued:?}");
        let audit = app.ok(&app.token("ada", &[Role::Admin]), AUDIT, json!({"f": {"action": "retention_outside_copies"}})).await;
        assert!(audit["auditLog"]["edges"][0]["node"]["details"]["failed"].is_string(), "{audit}");
        std::fs::remove_file(&outgoing).expect("remove the file");
        std::fs::rename(&away, &outgoing).expect("the folder is back");
        assert!(mail_traces(&outgoing, &reference) > 0, "nothing was removed yet");
        app.clock.advance(TimeDelta::minutes(2));
        let (purged, files, failed) = purge_all(&engine, &settings).await;
        assert!(purged.is_empty(), "{purged:?}");
        assert!(files > 0 && failed.is_none(), "{files} {failed:?}");
        assert_eq!(mail_traces(&outgoing, &reference), 0, "the purged appeal's mail files are gone");
        assert!(mail_traces(&outgoing, &other_reference) > 0, "the open appeal's mail stays");
        assert!(redress_engine::entity::outside_copy_removal::Entity::find().all(&db).await.expect("queued").is_empty());
        for gone in [FIRST_TEXT, FIRST_NOTE] {
            let found = traces(&db, gone).await;
            assert!(found.is_empty(), "{gone} is still in {found:?}");
        }
        assert!(!traces(&db, OTHER_TEXT).await.is_empty(), "the open appeal keeps its text");

        // Reopened, with a later message and a note: nothing goes while it is open.
        engine.apply(appeal, None, &Command::Reopen { reason: REOPENING.into() }, &senior).await.expect("reopen");
        engine.append_to_appeal(appeal, by_mail(ADDRESS, None, NAME, LATER_TEXT)).await.expect("a later message");
        engine.apply(appeal, None, &Command::Note { text: LATER_NOTE.into() }, &reviewer).await.expect("note");
        app.clock.advance(TimeDelta::days(800));
        let (purged, _, _) = purge_all(&engine, &settings).await;
        assert!(purged.values().all(|ids| !ids.contains(&appeal)), "an open appeal is not due: {purged:?}");
        for kept in [LATER_TEXT, LATER_NOTE, REOPENING] {
            assert!(!traces(&db, kept).await.is_empty(), "{kept} stays while the appeal is open");
        }

        // Closed again, the periods count from this closure. A hold, set and lifted,
        // leaves audit details about the appeal, which go too.
        withdraw(&engine, appeal).await;
        settle_outbox(&db).await;
        let admin = Actor::staff("ada", [Role::Admin]);
        engine.set_legal_hold(&admin, appeal, true, "holdreason kestrelcase").await.expect("hold");
        engine.set_legal_hold(&admin, appeal, false, "released kestrelcase").await.expect("release");
        app.clock.advance(TimeDelta::days(100));
        let (purged, _, _) = purge_all(&engine, &settings).await;
        assert!(!purged.get(&DataKind::MessageText).is_some_and(|ids| ids.contains(&appeal)), "{purged:?}");
        assert!(!traces(&db, LATER_TEXT).await.is_empty(), "a hundred days after the closure the text stays");
        app.clock.advance(TimeDelta::days(800));
        let (purged, _, failed) = purge_all(&engine, &settings).await;
        assert!(failed.is_none(), "{failed:?}");
        for kind in [DataKind::MessageText, DataKind::Contacts, DataKind::Attachments, DataKind::Notes, DataKind::AuditDetails] {
            assert!(purged.get(&kind).is_some_and(|ids| ids.contains(&appeal)), "{kind} again: {purged:?}");
        }
        for gone in [LATER_TEXT, "latermessage", LATER_NOTE, "laternote", REOPENING, "kestrelcase"] {
            let found = traces(&db, gone).await;
            assert!(found.is_empty(), "{gone} is still in {found:?}");
        }
        assert!(!traces(&db, OTHER_TEXT).await.is_empty(), "the open appeal keeps its text");
        assert_eq!(mail_traces(&outgoing, &reference), 0);
        app.stop().await;
    }

    async fn a_notice_pending_at_the_purge_goes_with_its_mail_file_once_delivered(test) {
        const TEXT: &str = "heronpending notice words";
        let outgoing = tempfile::tempdir().expect("tempdir");
        let mut config = api::config_for(&test);
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let settings = RetentionSettings::default();
        let appeal = file(&engine, ADDRESS, by_mail(ADDRESS, None, NAME, TEXT)).await;
        let reference = engine.appeal(appeal).await.expect("appeal").reference.to_string();
        let notices = purged_with_notices_pending(&app, &settings, appeal).await;
        assert_eq!(mail_traces(outgoing.path(), ADDRESS), 0, "nothing was mailed before the purge");

        let report = dispatch(&dispatcher(&app, DispatchSettings::default())).await;
        assert_eq!((report.delivered, report.dead_lettered), (notices, 0), "{report:?}");
        assert!(outbox_statuses(&db, appeal).await.iter().all(|status| status == "delivered"));
        assert!(mail_traces(outgoing.path(), ADDRESS) > 0, "the notices were mailed after the purge");
        assert!(!traces(&db, ADDRESS).await.is_empty(), "the delivered notices name the address");

        let round = engine.purge_due(&settings).await.expect("purge");
        assert_eq!(round.purged.get(&DataKind::Contacts), Some(&vec![appeal]), "{round:?}");
        assert!(round.rows > 0, "{round:?}");
        assert_eq!((round.outside.appeals, round.outside.failed.as_deref()), (1, None), "{round:?}");
        assert!(round.outside.removed > 0, "{round:?}");
        assert_eq!(mail_traces(outgoing.path(), ADDRESS), 0, "the mail files went");
        assert_eq!(mail_traces(outgoing.path(), &reference), 0, "the mail files went");
        assert!(outbox_statuses(&db, appeal).await.is_empty(), "the delivered notices went");
        leaves_no_trace_and_nothing_due(&engine, &settings, &[ADDRESS, NAME, TEXT]).await;
        app.stop().await;
    }

    async fn a_notice_pending_at_the_purge_goes_once_dead_lettered(test) {
        const TEXT: &str = "grebepending notice words";
        let dir = tempfile::tempdir().expect("tempdir");
        let outgoing = dir.path().join("mail-out");
        std::fs::create_dir(&outgoing).expect("mail-out folder");
        let mut config = api::config_for(&test);
        outgoing.clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let settings = RetentionSettings::default();
        let appeal = file(&engine, ADDRESS, by_mail(ADDRESS, None, NAME, TEXT)).await;
        let notices = purged_with_notices_pending(&app, &settings, appeal).await;

        // The mail-out folder is not there to write to: with one attempt allowed, each
        // notice is a dead letter.
        let once = dispatcher(&app, DispatchSettings {
            backoff: Backoff { max_attempts: 1, ..Backoff::default() },
            ..DispatchSettings::default()
        });
        let away = dir.path().join("mail-out.away");
        std::fs::rename(&outgoing, &away).expect("move the folder away");
        std::fs::write(&outgoing, b"not a folder").expect("a file in its place");
        let report = dispatch(&once).await;
        // The notice by mail dies; the appeal's rows for the platform go as before.
        assert_eq!((report.claimed, report.retried), (notices, 0), "{report:?}");
        assert!(report.dead_lettered >= 1, "{report:?}");
        let settled = outbox_statuses(&db, appeal).await;
        assert!(settled.iter().all(|status| status != "pending"), "{settled:?}");
        assert_eq!(settled.iter().filter(|status| *status == "dead").count(), report.dead_lettered);
        std::fs::remove_file(&outgoing).expect("remove the file");
        std::fs::rename(&away, &outgoing).expect("the folder is back");

        // The dead letters go with the contacts, alone: every message of the appeal is
        // written once for its contacts, the appeal once, each dead letter deleted.
        let messages = redress_engine::entity::message::Entity::find()
            .filter(redress_engine::entity::message::Column::AppealId.eq(appeal))
            .all(&db).await.expect("messages").len();
        let round = engine.purge_due(&settings).await.expect("purge");
        assert_eq!(round.purged, BTreeMap::from([(DataKind::Contacts, vec![appeal])]), "{round:?}");
        assert_eq!(round.rows, (messages + 1 + notices) as u64, "{round:?}");
        assert_eq!((round.outside.appeals, round.outside.failed.as_deref()), (1, None), "{round:?}");
        assert!(outbox_statuses(&db, appeal).await.is_empty(), "the dead letters went");
        leaves_no_trace_and_nothing_due(&engine, &settings, &[ADDRESS, NAME, TEXT]).await;
        app.stop().await;
    }

    async fn three_replicas_purge_each_due_appeal_once_and_the_figures_stay(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let mut config = api::config_for(&test);
        config.retention.batch_size = 3;
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config.clone()).await;
        let engine = app.app.state.engine.clone();
        let db = engine.db().clone();
        let start = app.clock.now();

        let mut due = BTreeSet::new();
        for n in 0..14 {
            let sender = format!("purge{n}@mailbox.test");
            let id = file(&engine, &sender, by_mail(&sender, None, &format!("Person Number{n}"), &format!("purgeable{n} words"))).await;
            withdraw(&engine, id).await;
            due.insert(id);
        }
        let held = file(&engine, "held@mailbox.test", by_mail("held@mailbox.test", None, "Held Person", "heldtext words")).await;
        withdraw(&engine, held).await;
        engine.set_legal_hold(&Actor::staff("ada", [Role::Admin]), held, true, "dispute pending").await.expect("hold");
        let open = file(&engine, "open@mailbox.test", by_mail("open@mailbox.test", None, "Open Person", "opentext words")).await;
        let (from, to) = (start - TimeDelta::days(1), start + TimeDelta::days(1));
        let figures = report(&engine, from, to).await;
        let mut cli_before = Vec::new();
        redress::transparency::report(&config, &from.to_rfc3339(), &to.to_rfc3339(), redress::transparency::ReportFormat::Json, &mut cli_before).await.expect("cli report");

        // Past every period; one more appeal closes now and is not due yet.
        app.clock.advance(TimeDelta::days(800));
        let recent = file(&engine, "recent@mailbox.test", by_mail("recent@mailbox.test", None, "Recent Person", "recenttext words")).await;
        withdraw(&engine, recent).await;

        // The dispatcher delivered every notice long ago.
        redress_engine::entity::outbox::Entity::update_many()
            .col_expr(redress_engine::entity::outbox::Column::Status, sea_orm::sea_query::Expr::value("delivered"))
            .exec(&db).await.expect("delivered");
        let replicas: Vec<Engine> = futures_util::future::join_all((0..3).map(|_| redress::app::open_engine(&config, Arc::new(app.clock.clone()))))
            .await.into_iter().map(|engine| engine.expect("replica")).collect();
        let settings = RetentionSettings { batch_size: 3, ..RetentionSettings::default() };
        // Every replica takes its first round before any takes a second: SQLite lets one
        // writer in at a time, and without this one replica may claim everything before the
        // others are let in, which proves nothing about sharing.
        let first_rounds_taken = tokio::sync::Barrier::new(replicas.len());
        let rounds = futures_util::future::join_all(replicas.iter().map(|replica| {
            let settings = settings.clone();
            let first_rounds_taken = &first_rounds_taken;
            async move {
                let mut purged: Vec<(DataKind, Uuid)> = Vec::new();
                let mut first = true;
                loop {
                    let round = replica.purge_due(&settings).await.expect("purge");
                    if std::mem::take(&mut first) {
                        first_rounds_taken.wait().await;
                    }
                    if round.claimed() == 0 {
                        return purged;
                    }
                    for (kind, ids) in round.purged {
                        purged.extend(ids.into_iter().map(|id| (kind, id)));
                    }
                }
            }
        })).await;
        let mut per_kind: BTreeMap<DataKind, Vec<Uuid>> = BTreeMap::new();
        for (kind, id) in rounds.iter().flatten() {
            per_kind.entry(*kind).or_default().push(*id);
        }
        assert!(rounds.iter().all(|r| !r.is_empty()), "every replica purged a share: {rounds:?}");
        for kind in DataKind::ALL {
            let ids = per_kind.remove(&kind).unwrap_or_default();
            let distinct: BTreeSet<Uuid> = ids.iter().copied().collect();
            assert_eq!(ids.len(), distinct.len(), "{kind}: an appeal purged twice");
            assert_eq!(distinct, due, "{kind}: exactly the due appeals");
        }

        for n in 0..14 {
            for needle in [format!("purgeable{n}"), format!("purge{n}@mailbox.test"), format!("Number{n}")] {
                let found = traces(&db, &needle).await;
                assert!(found.is_empty(), "{needle} is still in {found:?}");
            }
        }
        let first_due = *due.iter().next().expect("due");
        let purged_messages = redress_engine::entity::message::Entity::find()
            .filter(redress_engine::entity::message::Column::AppealId.eq(first_due))
            .all(&db).await.expect("messages");
        for message in purged_messages.iter().filter(|m| m.direction.to_string() == "inbound") {
            assert_eq!(message.body, redress_engine::privacy::MARKER);
            assert!(message.metadata.get("attachments").is_none(), "{}", message.metadata);
            assert_eq!(message.metadata["classification"], "appeal", "what is not personal stays");
        }
        let kept = redress_engine::entity::message::Entity::find()
            .filter(redress_engine::entity::message::Column::AppealId.eq(held))
            .all(&db).await.expect("messages");
        assert!(kept.iter().any(|m| m.metadata.get("attachments").is_some()), "the held appeal keeps its attachments' names");
        for kept in ["heldtext", "held@mailbox.test", "opentext", "open@mailbox.test", "recenttext", "recent@mailbox.test"] {
            assert!(!traces(&db, kept).await.is_empty(), "{kept} was not due and stays");
        }
        assert_eq!(report(&engine, from, to).await, figures, "the figures are those of before");
        let mut cli_after = Vec::new();
        redress::transparency::report(&config, &from.to_rfc3339(), &to.to_rfc3339(), redress::transparency::ReportFormat::Json, &mut cli_after).await.expect("cli report");
        assert_eq!(String::from_utf8(cli_after).expect("utf-8"), String::from_utf8(cli_before).expect("utf-8"));
        // A second pass finds nothing more.
        assert_eq!(replicas[0].purge_due(&settings).await.expect("purge").claimed(), 0);
        let _ = open;
        app.stop().await;
    }
}
