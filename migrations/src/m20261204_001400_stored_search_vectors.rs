//! PostgreSQL keeps each message's search vector in the row, computed once when the row is
//! written, instead of an index over an expression that a search computes again for every
//! row it tests.
//!
//! For words that many messages contain, the planner rightly walks the messages newest case
//! first (`messages_appeal`) and tests each row until enough cases match; with the
//! expression index each test ran `to_tsvector` over the row's text, some tens of
//! thousands of times for two common words. A stored generated column makes each test a
//! read of a value already in the row, and the GIN index moves onto it. Adding the column
//! rewrites the table once, computing every vector.
//!
//! The column's expression is the one the expression index had, so a search finds the same
//! messages as before. SQLite's FTS5 tables already store what they index: nothing changes
//! there. Notes keep their partial expression index: found through the index they are
//! few, and the events table they live in holds every event of every appeal, which a
//! rewrite for a column of one kind of event would not repay.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    r##"ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, translate(left(coalesce(subject, '') || ' ' || body, 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) STORED"##,
    "CREATE INDEX messages_search_vector ON messages USING GIN (search_vector)",
    "DROP INDEX messages_search",
];

const DOWN: &[&str] = &[
    r##"CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple'::regconfig, translate(left(coalesce(subject, '') || ' ' || body, 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')))"##,
    "DROP INDEX messages_search_vector",
    "ALTER TABLE messages DROP COLUMN search_vector",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let conn = manager.get_connection();
    for statement in statements {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, DOWN).await
    }
}
