//! `staff_sessions.id_token` goes: sign-out names the client, not the ID token, so the
//! column was never written. Both backends drop a column in place (SQLite since 3.35, which
//! the bundled SQLite is well past); the column holds no index or constraint that would
//! stop SQLite's `DROP COLUMN`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffSessions {
    Table,
    IdToken,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffSessions::Table)
                    .drop_column(StaffSessions::IdToken)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(StaffSessions::Table)
                    .add_column(ColumnDef::new(StaffSessions::IdToken).text().null())
                    .to_owned(),
            )
            .await
    }
}
