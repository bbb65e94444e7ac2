//! The review queue in the order cases are handed out, holding only cases nobody holds.
//! A claim leaves its appeal `triaged` with an assignee and a lease, so in the queue-order
//! index the held cases sat at the front, the best ones being the first claimed, and every
//! later claim walked past all of them before reaching a free case. The first index below
//! holds only unassigned triaged appeals; the second finds held cases whose lease has run
//! out, which are claimable again. Both are partial indexes with the same SQL on SQLite and
//! PostgreSQL; the claim query repeats their predicates literally so that both planners use
//! them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX appeals_unassigned_queue_order \
             ON appeals (queue, escalation_level DESC, priority_rank DESC, decision_due_at, filed_at) \
             WHERE state = 'triaged' AND assignee IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX appeals_held_by_lease \
             ON appeals (queue, lease_until) \
             WHERE state = 'triaged' AND assignee IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX appeals_held_by_lease")
            .await?;
        db.execute_unprepared("DROP INDEX appeals_unassigned_queue_order")
            .await?;
        Ok(())
    }
}
