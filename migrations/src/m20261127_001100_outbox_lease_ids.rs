//! Each outbox claim gets an id of its own, so a dispatcher can keep renewing a short lease
//! while a delivery is in flight and still record its outcome only under the claim it took.
//! Until now the end of the lease (`locked_until`) was the claim's identity, which a renewal
//! would have changed under the dispatcher's feet; the lease had to be long (five minutes)
//! and that was how long a crashed dispatcher's items waited.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    LeaseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(ColumnDef::new(Outbox::LeaseId).uuid().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::LeaseId)
                    .to_owned(),
            )
            .await
    }
}
