//! Personal data held only as long as it is needed: a legal hold on an appeal (`legal_hold`)
//! that keeps the retention purge and erasure away from it, and what the purge already
//! removed from it (`purged_kinds`, one bit per kind of data, see
//! `redress_engine::privacy::DataKind`).
//!
//! Indexes: the purge finds closed appeals not yet purged of a kind by the time they were
//! last changed (their closure), one partial index per kind, the audit log is read newest first and by appeal, outbox rows are found by
//! appeal. On SQLite the notes' full-text table learns of notes rewritten in place (a note
//! purged or erased), which it was never told before because notes were never changed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Appeals {
    Table,
    LegalHold,
    PurgedKinds,
}

/// Kinds of personal data and their bits, as `redress_engine::privacy::DataKind` names them.
const KINDS: [(&str, i16); 6] = [
    ("message_text", 1),
    ("contacts", 2),
    ("attachments", 4),
    ("status_tokens", 8),
    ("notes", 16),
    ("audit_details", 32),
];

const COMMON_UP: &[&str] = &[
    "CREATE INDEX audit_log_occurred ON audit_log (occurred_at, id)",
    "CREATE INDEX audit_log_appeal ON audit_log (appeal_id)",
    "CREATE INDEX outbox_appeal ON outbox (appeal_id)",
];

const COMMON_DOWN: &[&str] = &[
    "DROP INDEX outbox_appeal",
    "DROP INDEX audit_log_appeal",
    "DROP INDEX audit_log_occurred",
];

const SQLITE_UP: &[&str] = &["CREATE TRIGGER note_search_update AFTER UPDATE OF payload ON appeal_events \
     WHEN old.kind = 'note_added' BEGIN \
       INSERT INTO note_search(note_search, rowid, text) \
       VALUES ('delete', old.rowid, substr(coalesce(json_extract(old.payload, '$.kind.text'), ''), 1, 100000)); \
       INSERT INTO note_search(rowid, text) \
       VALUES (new.rowid, substr(coalesce(json_extract(new.payload, '$.kind.text'), ''), 1, 100000)); \
     END"];

const SQLITE_DOWN: &[&str] = &["DROP TRIGGER note_search_update"];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for statement in statements {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .add_column(
                        ColumnDef::new(Appeals::LegalHold)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .add_column(
                        ColumnDef::new(Appeals::PurgedKinds)
                            .small_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        run(manager, COMMON_UP).await?;
        // One partial index per kind holding only the closed appeals not yet purged of it:
        // a purged appeal leaves the index, so each batch reads its rows and nothing else.
        for (kind, bit) in KINDS {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX appeals_due_{kind} ON appeals (updated_at) \
                     WHERE state IN ('upheld', 'restored', 'withdrawn') AND legal_hold = false \
                     AND (purged_kinds & {bit}) = 0"
                ))
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Sqlite {
            run(manager, SQLITE_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Sqlite {
            run(manager, SQLITE_DOWN).await?;
        }
        run(manager, COMMON_DOWN).await?;
        for (kind, _) in KINDS {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX appeals_due_{kind}"))
                .await?;
        }
        for column in [Appeals::PurgedKinds, Appeals::LegalHold] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Appeals::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
