//! Bulk decisions: a senior reviewer's job that decides the appeals a queue filter named
//! when it started, each with the same decision template filled for that appeal. The job
//! row keeps the template as it stood, the counters and a checkpoint (the last appeal
//! processed, in id order); each target keeps what the job did to its appeal and why, so a
//! job resumed after a restart goes on after its checkpoint and a skipped appeal is
//! reported with its reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BulkDecisionJobs {
    Table,
    Id,
    Filter,
    Template,
    TemplateId,
    Outcome,
    StartedBy,
    Status,
    Total,
    Processed,
    Decided,
    Proposed,
    Skipped,
    Checkpoint,
    ChunkSize,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum BulkDecisionTargets {
    Table,
    JobId,
    AppealId,
    Outcome,
    Detail,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn count(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BulkDecisionJobs::Table)
                    .col(
                        ColumnDef::new(BulkDecisionJobs::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BulkDecisionJobs::Filter)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BulkDecisionJobs::Template)
                            .json_binary()
                            .not_null(),
                    )
                    .col(text(BulkDecisionJobs::TemplateId))
                    .col(text(BulkDecisionJobs::Outcome))
                    .col(text(BulkDecisionJobs::StartedBy))
                    .col(text(BulkDecisionJobs::Status))
                    .col(count(BulkDecisionJobs::Total))
                    .col(count(BulkDecisionJobs::Processed))
                    .col(count(BulkDecisionJobs::Decided))
                    .col(count(BulkDecisionJobs::Proposed))
                    .col(count(BulkDecisionJobs::Skipped))
                    .col(ColumnDef::new(BulkDecisionJobs::Checkpoint).uuid().null())
                    .col(
                        ColumnDef::new(BulkDecisionJobs::ChunkSize)
                            .integer()
                            .not_null(),
                    )
                    .col(ts(BulkDecisionJobs::CreatedAt))
                    .col(ts(BulkDecisionJobs::UpdatedAt))
                    .col(
                        ColumnDef::new(BulkDecisionJobs::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bulk_decision_jobs_status")
                    .table(BulkDecisionJobs::Table)
                    .col(BulkDecisionJobs::Status)
                    .col(BulkDecisionJobs::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BulkDecisionTargets::Table)
                    .col(ColumnDef::new(BulkDecisionTargets::JobId).uuid().not_null())
                    .col(
                        ColumnDef::new(BulkDecisionTargets::AppealId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BulkDecisionTargets::Outcome).text().null())
                    .col(ColumnDef::new(BulkDecisionTargets::Detail).text().null())
                    .primary_key(
                        Index::create()
                            .col(BulkDecisionTargets::JobId)
                            .col(BulkDecisionTargets::AppealId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BulkDecisionTargets::Table, BulkDecisionTargets::JobId)
                            .to(BulkDecisionJobs::Table, BulkDecisionJobs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BulkDecisionTargets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(BulkDecisionJobs::Table).to_owned())
            .await?;
        Ok(())
    }
}
