//! What Redress submitted to the EU DSA Transparency Database: one row per enforcement
//! statement, its platform unique identifier (`puid`, unique), its state (`pending`,
//! `submitted` with the database's `tdb_uuid`, `refused` with `errors`), the enforcement's
//! `created_at` (where the next round looks for new enforcements), the attempts and
//! when the next one is due, the lease of the worker sending it, the statement as last
//! mapped (or as an operator corrected it), and notes on what the mapping changed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Enforcements {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TdbSubmissions {
    Table,
    EnforcementId,
    EnforcementCreatedAt,
    Puid,
    State,
    Attempts,
    NextAttemptAt,
    LeaseId,
    LeasedUntil,
    Statement,
    Correction,
    Errors,
    RefusedBy,
    Notes,
    LastError,
    TdbUuid,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn optional(def: &mut ColumnDef) -> ColumnDef {
    def.null().to_owned()
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
                    .table(TdbSubmissions::Table)
                    .col(
                        ColumnDef::new(TdbSubmissions::EnforcementId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ts(TdbSubmissions::EnforcementCreatedAt))
                    .col(ColumnDef::new(TdbSubmissions::Puid).text().not_null())
                    .col(ColumnDef::new(TdbSubmissions::State).text().not_null())
                    .col(
                        ColumnDef::new(TdbSubmissions::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ts(TdbSubmissions::NextAttemptAt))
                    .col(optional(ColumnDef::new(TdbSubmissions::LeaseId).uuid()))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::LeasedUntil).timestamp_with_time_zone(),
                    ))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::Statement).json_binary(),
                    ))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::Correction).json_binary(),
                    ))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::Errors).json_binary(),
                    ))
                    .col(optional(ColumnDef::new(TdbSubmissions::RefusedBy).text()))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::Notes).json_binary(),
                    ))
                    .col(optional(ColumnDef::new(TdbSubmissions::LastError).text()))
                    .col(optional(ColumnDef::new(TdbSubmissions::TdbUuid).text()))
                    .col(ts(TdbSubmissions::CreatedAt))
                    .col(ts(TdbSubmissions::UpdatedAt))
                    .col(optional(
                        ColumnDef::new(TdbSubmissions::SubmittedAt).timestamp_with_time_zone(),
                    ))
                    .to_owned(),
            )
            .await?;
        // The database refuses a PUID it has seen from the platform; so does this table.
        manager
            .create_index(
                Index::create()
                    .name("tdb_submissions_puid")
                    .table(TdbSubmissions::Table)
                    .col(TdbSubmissions::Puid)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Where the last round stopped making rows: new enforcements are looked for from
        // there (with a margin), not in the whole table.
        manager
            .create_index(
                Index::create()
                    .name("tdb_submissions_enforcement_created_at")
                    .table(TdbSubmissions::Table)
                    .col(TdbSubmissions::EnforcementCreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enforcements_created_at")
                    .table(Enforcements::Table)
                    .col(Enforcements::CreatedAt)
                    .col(Enforcements::Id)
                    .to_owned(),
            )
            .await?;
        // The due ones for the worker, and the refusals for the operator.
        manager
            .create_index(
                Index::create()
                    .name("tdb_submissions_state_due")
                    .table(TdbSubmissions::Table)
                    .col(TdbSubmissions::State)
                    .col(TdbSubmissions::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("enforcements_created_at")
                    .table(Enforcements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(TdbSubmissions::Table).to_owned())
            .await?;
        Ok(())
    }
}
