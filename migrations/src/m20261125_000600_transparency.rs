//! Transparency: incidents raised against enforcement sources whose appeals are mostly
//! won, the hashed tokens of the appellant status page, and out-of-court disputes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EnforcementIncidents {
    Table,
    Id,
    SourceKey,
    SourceKind,
    SourceId,
    BatchId,
    Status,
    Appeals,
    Overturned,
    LowerBound,
    UpperBound,
    Threshold,
    WindowFrom,
    WindowTo,
    Selector,
    DryRunAccounts,
    RaisedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum AppealStatusTokens {
    Table,
    AppealId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OutOfCourtDisputes {
    Table,
    Id,
    AppealId,
    SettlementBody,
    Outcome,
    SubmittedAt,
    ResolvedAt,
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

fn big(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().to_owned()
}

fn real(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).double().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EnforcementIncidents::Table)
                    .col(
                        ColumnDef::new(EnforcementIncidents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(EnforcementIncidents::SourceKey))
                    .col(text(EnforcementIncidents::SourceKind))
                    .col(text(EnforcementIncidents::SourceId))
                    .col(text_null(EnforcementIncidents::BatchId))
                    .col(text(EnforcementIncidents::Status))
                    .col(big(EnforcementIncidents::Appeals))
                    .col(big(EnforcementIncidents::Overturned))
                    .col(real(EnforcementIncidents::LowerBound))
                    .col(real(EnforcementIncidents::UpperBound))
                    .col(real(EnforcementIncidents::Threshold))
                    .col(ts(EnforcementIncidents::WindowFrom))
                    .col(ts(EnforcementIncidents::WindowTo))
                    .col(
                        ColumnDef::new(EnforcementIncidents::Selector)
                            .json_binary()
                            .not_null(),
                    )
                    .col(big(EnforcementIncidents::DryRunAccounts))
                    .col(ts(EnforcementIncidents::RaisedAt))
                    .col(ts_null(EnforcementIncidents::ResolvedAt))
                    .to_owned(),
            )
            .await?;
        // One open incident per source, even when several replicas scan at once.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX enforcement_incidents_one_open_per_source \
                 ON enforcement_incidents (source_key) WHERE status = 'open'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AppealStatusTokens::Table)
                    .col(
                        ColumnDef::new(AppealStatusTokens::AppealId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(AppealStatusTokens::TokenHash))
                    .col(ts(AppealStatusTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OutOfCourtDisputes::Table)
                    .col(
                        ColumnDef::new(OutOfCourtDisputes::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OutOfCourtDisputes::AppealId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(OutOfCourtDisputes::SettlementBody))
                    .col(text_null(OutOfCourtDisputes::Outcome))
                    .col(ts(OutOfCourtDisputes::SubmittedAt))
                    .col(ts_null(OutOfCourtDisputes::ResolvedAt))
                    .col(ts(OutOfCourtDisputes::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("out_of_court_disputes_submitted")
                    .table(OutOfCourtDisputes::Table)
                    .col(OutOfCourtDisputes::SubmittedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OutOfCourtDisputes::Table.into_iden(),
            AppealStatusTokens::Table.into_iden(),
            EnforcementIncidents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
