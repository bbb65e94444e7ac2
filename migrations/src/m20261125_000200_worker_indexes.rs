//! Indexes for the background workers: the lease reaper looks for triaged cases by claim
//! expiry, the awaiting-user closer for paused cases by the start of their pause.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Appeals {
    Table,
    State,
    LeaseUntil,
    SlaPausedSince,
}

const LEASE_INDEX: &str = "appeals_state_lease_until";
const PAUSE_INDEX: &str = "appeals_state_sla_paused_since";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(LEASE_INDEX)
                    .table(Appeals::Table)
                    .col(Appeals::State)
                    .col(Appeals::LeaseUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(PAUSE_INDEX)
                    .table(Appeals::Table)
                    .col(Appeals::State)
                    .col(Appeals::SlaPausedSince)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [LEASE_INDEX, PAUSE_INDEX] {
            manager
                .drop_index(Index::drop().name(name).table(Appeals::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
