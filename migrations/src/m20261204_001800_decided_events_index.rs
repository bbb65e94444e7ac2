//! The status page forecasts a decision from each queue's decisions a day over the last
//! week (`transparency::estimate`). A partial index over the `decided` events by time keeps
//! each day's count to that day's decisions instead of the whole history. Both backends
//! index part of a table the same way.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX appeal_events_decided ON appeal_events (occurred_at) \
                 WHERE kind = 'decided'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX appeal_events_decided")
            .await?;
        Ok(())
    }
}
