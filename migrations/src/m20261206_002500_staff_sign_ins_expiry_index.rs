//! Sign-ins that were started and never finished are deleted by their expiry, a few at
//! each new sign-in: an index on `expires_at` keeps that a short range read however many
//! abandoned sign-ins there are.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("staff_sign_ins_expires_at")
                    .table(Alias::new("staff_sign_ins"))
                    .col(Alias::new("expires_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("staff_sign_ins_expires_at")
                    .table(Alias::new("staff_sign_ins"))
                    .to_owned(),
            )
            .await
    }
}
