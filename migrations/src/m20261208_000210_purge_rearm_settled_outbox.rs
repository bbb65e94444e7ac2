//! A notice still on its way when its appeal was purged is purged once it settles.
//!
//! The purge deletes an appeal's delivered and dead outbox rows with its contacts but leaves
//! the pending ones, which are still to be sent, and sets the contacts bit of
//! `appeals.purged_kinds` all the same. Once such a row was delivered or dead-lettered it
//! kept the person's address and the notice for good: nothing cleared the bit again. Here an
//! outbox row of an appeal leaving `pending` (delivered or dead) clears the contacts bit in
//! the same transaction, as a new row does (`m20261207_000200_purge_rearm`), so the next
//! purge round takes the settled row, and the mail file its delivery wrote, like any other
//! data that came after the purge. While the row is pending the bit stays set, so the purge
//! does not claim the appeal round after round for a row it may not delete yet.
//!
//! On PostgreSQL the trigger goes through `purge_rearm`, which waits for a purge that has
//! claimed the appeal before clearing the bit, so the clearing is not overwritten by that
//! purge's commit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The outbox status the purge leaves alone: a row in it is still to be sent. The engine's
/// scrubber keeps the same status, and a test of the engine holds them equal.
pub const UNSETTLED_OUTBOX_STATUS: &str = "pending";

/// The outbox topic the purge never deletes (a restoration still owed), which therefore
/// re-arms nothing; the engine names the same topic, and a test holds them equal.
pub const NEVER_PURGED_OUTBOX_TOPIC: &str = "request_restoration";

/// `DataKind::Contacts`' bit: the outbox rows go with the contacts.
const CONTACTS: i16 = 2;

fn settled() -> String {
    format!(
        "OLD.status = '{UNSETTLED_OUTBOX_STATUS}' AND NEW.status <> '{UNSETTLED_OUTBOX_STATUS}' \
         AND NEW.appeal_id IS NOT NULL AND NEW.topic <> '{NEVER_PURGED_OUTBOX_TOPIC}'"
    )
}

fn sqlite_up() -> Vec<String> {
    vec![format!(
        "CREATE TRIGGER purge_rearm_outbox_settled AFTER UPDATE OF status ON outbox \
         WHEN {} BEGIN \
           UPDATE appeals SET purged_kinds = purged_kinds & ~{CONTACTS} \
           WHERE id = NEW.appeal_id AND (purged_kinds & {CONTACTS}) <> 0; \
         END",
        settled()
    )]
}

fn postgres_up() -> Vec<String> {
    vec![
        format!(
            "CREATE FUNCTION purge_rearm_outbox_settled() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               PERFORM purge_rearm(NEW.appeal_id, ({CONTACTS})::smallint); \
               RETURN NULL; \
             END $$"
        ),
        format!(
            "CREATE TRIGGER purge_rearm_outbox_settled AFTER UPDATE OF status ON outbox \
             FOR EACH ROW WHEN ({}) EXECUTE FUNCTION purge_rearm_outbox_settled()",
            settled()
        ),
    ]
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
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, postgres_up()).await,
            _ => run(manager, sqlite_up()).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                run(
                    manager,
                    vec![
                        "DROP TRIGGER purge_rearm_outbox_settled ON outbox".to_owned(),
                        "DROP FUNCTION purge_rearm_outbox_settled()".to_owned(),
                    ],
                )
                .await
            }
            _ => {
                run(
                    manager,
                    vec!["DROP TRIGGER purge_rearm_outbox_settled".to_owned()],
                )
                .await
            }
        }
    }
}
