//! Room on each page of accounts and enforcements for the one update most of their rows
//! get: reactivation and reversal when a wave is restored. PostgreSQL fills a page to the
//! brim by default, so such an update moves the row to another page and writes a new entry
//! in every index of the table (enforcements have six); with room left, the new version
//! stays on its page and, since no indexed column changes, no index is touched (a
//! heap-only tuple update). Pages written from now on keep a fifth free. SQLite has no such
//! setting; nothing changes there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["accounts", "enforcements"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            manager
                .get_connection()
                .execute_unprepared(&format!("ALTER TABLE {table} SET (fillfactor = 80)"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for table in TABLES {
            manager
                .get_connection()
                .execute_unprepared(&format!("ALTER TABLE {table} RESET (fillfactor)"))
                .await?;
        }
        Ok(())
    }
}
