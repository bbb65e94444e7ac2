//! Full-text search over messages (subject and body) and staff notes, for the console's
//! search box.
//!
//! Both backends index the same text the same way, so a query finds the same appeals on
//! either: at most the first 100,000 characters (a huge message must not blow up the
//! index), with ASCII punctuation read as a word break. PostgreSQL splits what remains
//! with the `simple` configuration (lower case, no stemming, no stop words: appeals come
//! in many languages) into GIN expression indexes; SQLite keeps contentless FTS5 tables
//! (`unicode61`, diacritics kept, as `simple` keeps them) filled by triggers, keyed by the
//! row's `rowid`. The engine's `search` module repeats these expressions verbatim.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An address is looked up without regard to ASCII case, as the registry compares account
/// addresses; `COLLATE "C"` makes PostgreSQL's `lower` fold ASCII only, as SQLite's does.
const POSTGRES_UP: &[&str] = &[
    r#"CREATE INDEX appeals_contact_folded ON appeals (lower(contact COLLATE "C"))"#,
    r##"CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple'::regconfig, translate(left(coalesce(subject, '') || ' ' || body, 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')))"##,
    r##"CREATE INDEX appeal_notes_search ON appeal_events USING GIN (to_tsvector('simple'::regconfig, translate(left(coalesce(payload -> 'kind' ->> 'text', ''), 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) WHERE kind = 'note_added'"##,
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX appeal_notes_search",
    "DROP INDEX messages_search",
    "DROP INDEX appeals_contact_folded",
];

const SQLITE_UP: &[&str] = &[
    "CREATE INDEX appeals_contact_folded ON appeals (lower(contact))",
    "CREATE VIRTUAL TABLE message_search USING fts5(text, content='', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN \
       INSERT INTO message_search(rowid, text) \
       VALUES (new.rowid, substr(coalesce(new.subject, '') || ' ' || new.body, 1, 100000)); \
     END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN \
       INSERT INTO message_search(message_search, rowid, text) \
       VALUES ('delete', old.rowid, substr(coalesce(old.subject, '') || ' ' || old.body, 1, 100000)); \
     END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF subject, body ON messages BEGIN \
       INSERT INTO message_search(message_search, rowid, text) \
       VALUES ('delete', old.rowid, substr(coalesce(old.subject, '') || ' ' || old.body, 1, 100000)); \
       INSERT INTO message_search(rowid, text) \
       VALUES (new.rowid, substr(coalesce(new.subject, '') || ' ' || new.body, 1, 100000)); \
     END",
    "INSERT INTO message_search(rowid, text) \
     SELECT rowid, substr(coalesce(subject, '') || ' ' || body, 1, 100000) FROM messages",
    "CREATE VIRTUAL TABLE note_search USING fts5(text, content='', tokenize='unicode61 remove_diacritics 0')",
    // Events are append-only; the delete trigger keeps the index honest should a row ever go.
    "CREATE TRIGGER note_search_insert AFTER INSERT ON appeal_events \
     WHEN new.kind = 'note_added' BEGIN \
       INSERT INTO note_search(rowid, text) \
       VALUES (new.rowid, substr(coalesce(json_extract(new.payload, '$.kind.text'), ''), 1, 100000)); \
     END",
    "CREATE TRIGGER note_search_delete AFTER DELETE ON appeal_events \
     WHEN old.kind = 'note_added' BEGIN \
       INSERT INTO note_search(note_search, rowid, text) \
       VALUES ('delete', old.rowid, substr(coalesce(json_extract(old.payload, '$.kind.text'), ''), 1, 100000)); \
     END",
    "INSERT INTO note_search(rowid, text) \
     SELECT rowid, substr(coalesce(json_extract(payload, '$.kind.text'), ''), 1, 100000) \
     FROM appeal_events WHERE kind = 'note_added'",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER note_search_delete",
    "DROP TRIGGER note_search_insert",
    "DROP TABLE note_search",
    "DROP TRIGGER message_search_update",
    "DROP TRIGGER message_search_delete",
    "DROP TRIGGER message_search_insert",
    "DROP TABLE message_search",
    "DROP INDEX appeals_contact_folded",
];

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
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, POSTGRES_UP).await,
            _ => run(manager, SQLITE_UP).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, POSTGRES_DOWN).await,
            _ => run(manager, SQLITE_DOWN).await,
        }
    }
}
