//! Restorations (what was undone for an account, item by item, and what could not be),
//! bulk-restore jobs with their checkpoint, the accounts each job covers, and each
//! account's outcome for the audit. Enforcements learn when they were reversed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Enforcements {
    Table,
    AccountId,
    Policy,
    ReversedAt,
}

#[derive(DeriveIden)]
enum Restorations {
    Table,
    Id,
    AppealId,
    JobId,
    AccountId,
    EnforcementIds,
    Backend,
    Status,
    Reason,
    RequestedBy,
    LastError,
    CreatedAt,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum RestorationItems {
    Table,
    RestorationId,
    Position,
    ItemKind,
    ItemId,
    EnforcementId,
    Outcome,
    Detail,
}

#[derive(DeriveIden)]
enum BulkRestoreJobs {
    Table,
    Id,
    Selector,
    SelectorKey,
    ActiveSelectorKey,
    Reason,
    StartedBy,
    Status,
    Total,
    Processed,
    Restored,
    Requested,
    AlreadyActive,
    Failed,
    Checkpoint,
    ChunkSize,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum BulkRestoreTargets {
    Table,
    JobId,
    AccountId,
}

#[derive(DeriveIden)]
enum BulkRestoreOutcomes {
    Table,
    JobId,
    AccountId,
    Outcome,
    Detail,
    RestorationId,
    Appeals,
    RecordedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn text_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn count(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Enforcements::Table)
                    .add_column(ts_null(Enforcements::ReversedAt))
                    .to_owned(),
            )
            .await?;
        // Bulk selectors by policy join on the account; the source and batch indexes of the
        // initial schema already serve theirs.
        manager
            .create_index(
                Index::create()
                    .name("enforcements_policy_account")
                    .table(Enforcements::Table)
                    .col(Enforcements::Policy)
                    .col(Enforcements::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Restorations::Table)
                    .col(
                        ColumnDef::new(Restorations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Restorations::AppealId).uuid().null())
                    .col(ColumnDef::new(Restorations::JobId).uuid().null())
                    .col(text(Restorations::AccountId))
                    .col(
                        ColumnDef::new(Restorations::EnforcementIds)
                            .json_binary()
                            .not_null(),
                    )
                    .col(text(Restorations::Backend))
                    .col(text(Restorations::Status))
                    .col(text(Restorations::Reason))
                    .col(text(Restorations::RequestedBy))
                    .col(text_null(Restorations::LastError))
                    .col(ts(Restorations::CreatedAt))
                    .col(ts_null(Restorations::ConfirmedAt))
                    .to_owned(),
            )
            .await?;
        // One restoration per appeal, and one per account within a bulk job: a retried
        // delivery or a resumed job finds the existing record instead of making a second.
        manager
            .create_index(
                Index::create()
                    .name("restorations_appeal")
                    .table(Restorations::Table)
                    .col(Restorations::AppealId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("restorations_job_account")
                    .table(Restorations::Table)
                    .col(Restorations::JobId)
                    .col(Restorations::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("restorations_account")
                    .table(Restorations::Table)
                    .col(Restorations::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RestorationItems::Table)
                    .col(
                        ColumnDef::new(RestorationItems::RestorationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RestorationItems::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(text(RestorationItems::ItemKind))
                    .col(text(RestorationItems::ItemId))
                    .col(
                        ColumnDef::new(RestorationItems::EnforcementId)
                            .uuid()
                            .null(),
                    )
                    .col(text(RestorationItems::Outcome))
                    .col(text_null(RestorationItems::Detail))
                    .primary_key(
                        Index::create()
                            .col(RestorationItems::RestorationId)
                            .col(RestorationItems::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RestorationItems::Table, RestorationItems::RestorationId)
                            .to(Restorations::Table, Restorations::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BulkRestoreJobs::Table)
                    .col(
                        ColumnDef::new(BulkRestoreJobs::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BulkRestoreJobs::Selector)
                            .json_binary()
                            .not_null(),
                    )
                    .col(text(BulkRestoreJobs::SelectorKey))
                    .col(text_null(BulkRestoreJobs::ActiveSelectorKey))
                    .col(text(BulkRestoreJobs::Reason))
                    .col(text(BulkRestoreJobs::StartedBy))
                    .col(text(BulkRestoreJobs::Status))
                    .col(count(BulkRestoreJobs::Total))
                    .col(count(BulkRestoreJobs::Processed))
                    .col(count(BulkRestoreJobs::Restored))
                    .col(count(BulkRestoreJobs::Requested))
                    .col(count(BulkRestoreJobs::AlreadyActive))
                    .col(count(BulkRestoreJobs::Failed))
                    .col(text_null(BulkRestoreJobs::Checkpoint))
                    .col(
                        ColumnDef::new(BulkRestoreJobs::ChunkSize)
                            .integer()
                            .not_null(),
                    )
                    .col(ts(BulkRestoreJobs::CreatedAt))
                    .col(ts(BulkRestoreJobs::UpdatedAt))
                    .col(ts_null(BulkRestoreJobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // One unfinished job per selector: the key is set while a job runs and cleared when
        // it ends, and NULLs never collide in a unique index on either database.
        manager
            .create_index(
                Index::create()
                    .name("bulk_restore_jobs_active_selector")
                    .table(BulkRestoreJobs::Table)
                    .col(BulkRestoreJobs::ActiveSelectorKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BulkRestoreTargets::Table)
                    .col(ColumnDef::new(BulkRestoreTargets::JobId).uuid().not_null())
                    .col(text(BulkRestoreTargets::AccountId))
                    .primary_key(
                        Index::create()
                            .col(BulkRestoreTargets::JobId)
                            .col(BulkRestoreTargets::AccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BulkRestoreTargets::Table, BulkRestoreTargets::JobId)
                            .to(BulkRestoreJobs::Table, BulkRestoreJobs::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BulkRestoreOutcomes::Table)
                    .col(ColumnDef::new(BulkRestoreOutcomes::JobId).uuid().not_null())
                    .col(text(BulkRestoreOutcomes::AccountId))
                    .col(text(BulkRestoreOutcomes::Outcome))
                    .col(text_null(BulkRestoreOutcomes::Detail))
                    .col(
                        ColumnDef::new(BulkRestoreOutcomes::RestorationId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BulkRestoreOutcomes::Appeals)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ts(BulkRestoreOutcomes::RecordedAt))
                    .primary_key(
                        Index::create()
                            .col(BulkRestoreOutcomes::JobId)
                            .col(BulkRestoreOutcomes::AccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BulkRestoreOutcomes::Table, BulkRestoreOutcomes::JobId)
                            .to(BulkRestoreJobs::Table, BulkRestoreJobs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BulkRestoreOutcomes::Table.into_iden(),
            BulkRestoreTargets::Table.into_iden(),
            BulkRestoreJobs::Table.into_iden(),
            RestorationItems::Table.into_iden(),
            Restorations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("enforcements_policy_account")
                    .table(Enforcements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Enforcements::Table)
                    .drop_column(Enforcements::ReversedAt)
                    .to_owned(),
            )
            .await
    }
}
