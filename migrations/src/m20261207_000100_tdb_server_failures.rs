//! A statement that makes the Transparency Database answer 5xx every time must not hold up
//! the statements sent with it: `server_failures` counts the consecutive 5xx answers to the
//! calls that carried it, which decides how small the calls it is sent in become;
//! `lone_server_failures` those it drew sent alone once it was isolated (alone, while the
//! database answered another call of the same round), which decide when it is refused.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TdbSubmissions {
    Table,
    ServerFailures,
    LoneServerFailures,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TdbSubmissions::Table)
                    .add_column(
                        ColumnDef::new(TdbSubmissions::ServerFailures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(TdbSubmissions::Table)
                    .add_column(
                        ColumnDef::new(TdbSubmissions::LoneServerFailures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            TdbSubmissions::LoneServerFailures,
            TdbSubmissions::ServerFailures,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TdbSubmissions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
