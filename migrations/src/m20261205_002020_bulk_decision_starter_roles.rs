//! Bulk decision jobs record the roles their starter held (`started_roles`, a JSON list of
//! role names), kept up to date from the starter's later requests while the job runs, and
//! why a job was stopped other than by a person's cancelling (`stop_reason`). Jobs started
//! before have no roles recorded; they were started by a senior reviewer, the only role
//! that could.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BulkDecisionJobs {
    Table,
    StartedRoles,
    StopReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BulkDecisionJobs::Table)
                    .add_column(
                        ColumnDef::new(BulkDecisionJobs::StartedRoles)
                            .json_binary()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BulkDecisionJobs::Table)
                    .add_column(ColumnDef::new(BulkDecisionJobs::StopReason).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [BulkDecisionJobs::StopReason, BulkDecisionJobs::StartedRoles] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BulkDecisionJobs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
