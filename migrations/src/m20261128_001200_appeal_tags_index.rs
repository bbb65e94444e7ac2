//! The queue can be filtered by tag (`appeals.tags`, a JSON array). On PostgreSQL a GIN
//! index answers "the array contains this tag" (`tags @> '["tag"]'`) without reading every
//! appeal of the queue; `jsonb_path_ops` keeps it small, since containment is the only
//! question asked of it. SQLite cannot index the elements of an array, so there the tag is
//! checked on the rows the queue and state conditions leave; nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX appeals_tags ON appeals USING GIN (tags jsonb_path_ops)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX appeals_tags")
            .await?;
        Ok(())
    }
}
