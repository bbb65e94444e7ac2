//! Each finished pause of an appeal's SLA clock, so business-hours calendars can tell how
//! much of a pause fell in counted time. Rows from before keep an empty list and are counted
//! by their total paused wall time, as before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Appeals {
    Table,
    SlaPauses,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .add_column(
                        ColumnDef::new(Appeals::SlaPauses)
                            .json_binary()
                            .not_null()
                            .default(Expr::value("[]")),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .drop_column(Appeals::SlaPauses)
                    .to_owned(),
            )
            .await
    }
}
