//! The retention purge after an appeal gains data again, and mail copies of purged appeals.
//!
//! `appeals.purged_kinds` keeps one bit per kind of personal data already purged (see
//! `redress_engine::privacy::DataKind`). Data of a kind written to the appeal later (the
//! appeal reopened, a later message, a note, a new status token, audit details, a new
//! contact) clears that kind's bit in the same transaction, so the purge takes the new data
//! too once the appeal is closed again and the period has passed since. Triggers do it,
//! so every writer (batched statements, bulk jobs, later code) re-arms without having to
//! remember it.
//!
//! On PostgreSQL a trigger first takes a key-share lock on the appeal: a purge that has
//! claimed it (`FOR UPDATE`) is waited for, and the bit is cleared after its commit rather
//! than before it (which the commit would overwrite); a purge that comes later skips the
//! appeal while the writer holds the lock (`SKIP LOCKED`), and finds the new data in its
//! next round. SQLite runs one writer at a time.
//!
//! `outside_copy_removals`: appeals whose copies outside the database (the mail files of
//! the file transport) are still to be removed after a purge of their message text or
//! contacts, written in the purge's transaction, with the attempts and the last failure.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OutsideCopyRemovals {
    Table,
    AppealId,
    QueuedAt,
    Attempts,
    NextAttemptAt,
    LastError,
}

/// Event kinds whose payload carries what staff wrote (`DataKind::Notes`); the engine's
/// scrubber names the same kinds, and a test of the engine holds them equal.
pub const STAFF_TEXT_EVENTS: &[&str] = &[
    "note_added",
    "info_requested",
    "decision_approved",
    "decision_rejected",
    "reopened",
    "withdrawn",
    "escalated",
];

const MESSAGE_TEXT: i16 = 1;
const CONTACTS: i16 = 2;
const ATTACHMENTS: i16 = 4;
const STATUS_TOKENS: i16 = 8;
const NOTES: i16 = 16;
const AUDIT_DETAILS: i16 = 32;

/// The tables whose new rows re-arm kinds of their appeal, the kinds as SQL over `NEW`, and
/// when (beyond having an appeal).
fn rearming_inserts() -> Vec<(&'static str, String, &'static str)> {
    let staff_text: Vec<String> = STAFF_TEXT_EVENTS.iter().map(|k| format!("'{k}'")).collect();
    vec![
        (
            "messages",
            (MESSAGE_TEXT | CONTACTS | ATTACHMENTS).to_string(),
            "",
        ),
        (
            "appeal_events",
            format!(
                "((CASE WHEN NEW.kind IN ({}) THEN {NOTES} ELSE 0 END) \
                 | (CASE WHEN NEW.actor_kind = 'appellant' THEN {CONTACTS} ELSE 0 END))",
                staff_text.join(", ")
            ),
            "",
        ),
        ("appeal_status_tokens", STATUS_TOKENS.to_string(), ""),
        ("audit_log", AUDIT_DETAILS.to_string(), ""),
        ("handle_confirmations", CONTACTS.to_string(), ""),
        // A restoration request is never purged (it is owed), so it re-arms nothing.
        (
            "outbox",
            CONTACTS.to_string(),
            " AND NEW.topic <> 'request_restoration'",
        ),
    ]
}

fn sqlite_up() -> Vec<String> {
    let mut statements: Vec<String> = rearming_inserts()
        .into_iter()
        .map(|(table, kinds, when)| {
            format!(
                "CREATE TRIGGER purge_rearm_{table} AFTER INSERT ON {table} \
                 WHEN NEW.appeal_id IS NOT NULL{when} BEGIN \
                   UPDATE appeals SET purged_kinds = purged_kinds & ~({kinds}) \
                   WHERE id = NEW.appeal_id AND (purged_kinds & ({kinds})) <> 0; \
                 END"
            )
        })
        .collect();
    statements.push(format!(
        "CREATE TRIGGER purge_rearm_contact AFTER UPDATE OF contact ON appeals \
         WHEN NEW.contact IS NOT NULL AND NEW.contact IS NOT OLD.contact BEGIN \
           UPDATE appeals SET purged_kinds = purged_kinds & ~{CONTACTS} \
           WHERE id = NEW.id AND (purged_kinds & {CONTACTS}) <> 0; \
         END"
    ));
    statements
}

fn sqlite_down() -> Vec<String> {
    let mut statements: Vec<String> = rearming_inserts()
        .into_iter()
        .map(|(table, _, _)| format!("DROP TRIGGER purge_rearm_{table}"))
        .collect();
    statements.push("DROP TRIGGER purge_rearm_contact".to_owned());
    statements
}

fn postgres_up() -> Vec<String> {
    let mut statements = vec![
        "CREATE FUNCTION purge_rearm(appeal uuid, kinds smallint) RETURNS void \
         LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF appeal IS NULL OR kinds = 0 THEN RETURN; END IF; \
           PERFORM 1 FROM appeals WHERE id = appeal FOR KEY SHARE; \
           UPDATE appeals SET purged_kinds = purged_kinds & ~kinds \
           WHERE id = appeal AND (purged_kinds & kinds) <> 0; \
         END $$"
            .to_owned(),
        "CREATE FUNCTION purge_rearm_contact() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           NEW.purged_kinds := NEW.purged_kinds & ~(2::smallint); \
           RETURN NEW; \
         END $$"
            .to_owned(),
        "CREATE TRIGGER purge_rearm_contact BEFORE UPDATE OF contact ON appeals FOR EACH ROW \
         WHEN (NEW.contact IS NOT NULL AND NEW.contact IS DISTINCT FROM OLD.contact) \
         EXECUTE FUNCTION purge_rearm_contact()"
            .to_owned(),
    ];
    for (table, kinds, when) in rearming_inserts() {
        statements.push(format!(
            "CREATE FUNCTION purge_rearm_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               PERFORM purge_rearm(NEW.appeal_id, ({kinds})::smallint); \
               RETURN NULL; \
             END $$"
        ));
        statements.push(format!(
            "CREATE TRIGGER purge_rearm_{table} AFTER INSERT ON {table} FOR EACH ROW \
             WHEN (NEW.appeal_id IS NOT NULL{when}) EXECUTE FUNCTION purge_rearm_{table}()"
        ));
    }
    statements
}

fn postgres_down() -> Vec<String> {
    let mut statements = Vec::new();
    for (table, _, _) in rearming_inserts() {
        statements.push(format!("DROP TRIGGER purge_rearm_{table} ON {table}"));
        statements.push(format!("DROP FUNCTION purge_rearm_{table}()"));
    }
    statements.push("DROP TRIGGER purge_rearm_contact ON appeals".to_owned());
    statements.push("DROP FUNCTION purge_rearm_contact()".to_owned());
    statements.push("DROP FUNCTION purge_rearm(uuid, smallint)".to_owned());
    statements
}

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for statement in statements {
        conn.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutsideCopyRemovals::Table)
                    .col(
                        ColumnDef::new(OutsideCopyRemovals::AppealId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OutsideCopyRemovals::QueuedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutsideCopyRemovals::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(OutsideCopyRemovals::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutsideCopyRemovals::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outside_copy_removals_due")
                    .table(OutsideCopyRemovals::Table)
                    .col(OutsideCopyRemovals::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, postgres_up()).await,
            _ => run(manager, sqlite_up()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, postgres_down()).await?,
            _ => run(manager, sqlite_down()).await?,
        }
        manager
            .drop_table(Table::drop().table(OutsideCopyRemovals::Table).to_owned())
            .await
    }
}
