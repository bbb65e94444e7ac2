//! The policy catalog in the database. `catalog_entries` holds each policy and decision
//! template as it stands now (`kind` tells them apart, the definition is the core's own
//! serialisation); `catalog_entry_versions` keeps every version an entry ever had, one row
//! per change, so what a policy or template said at any time stays readable. The number
//! of version rows only grows, so each replica compares it with the catalog it holds to
//! know when to reload.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogEntries {
    Table,
    Kind,
    Id,
    Version,
    Retired,
    Definition,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum CatalogEntryVersions {
    Table,
    Kind,
    Id,
    Version,
    Retired,
    Definition,
    Change,
    ChangedAt,
    ChangedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogEntries::Table)
                    .col(ColumnDef::new(CatalogEntries::Kind).text().not_null())
                    .col(ColumnDef::new(CatalogEntries::Id).text().not_null())
                    .col(
                        ColumnDef::new(CatalogEntries::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CatalogEntries::Retired).boolean().not_null())
                    .col(
                        ColumnDef::new(CatalogEntries::Definition)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntries::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CatalogEntries::UpdatedBy).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(CatalogEntries::Kind)
                            .col(CatalogEntries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogEntryVersions::Table)
                    .col(ColumnDef::new(CatalogEntryVersions::Kind).text().not_null())
                    .col(ColumnDef::new(CatalogEntryVersions::Id).text().not_null())
                    .col(
                        ColumnDef::new(CatalogEntryVersions::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntryVersions::Retired)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntryVersions::Definition)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntryVersions::Change)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntryVersions::ChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CatalogEntryVersions::ChangedBy)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CatalogEntryVersions::Kind)
                            .col(CatalogEntryVersions::Id)
                            .col(CatalogEntryVersions::Version),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CatalogEntryVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CatalogEntries::Table).to_owned())
            .await
    }
}
