//! Social handles linked to accounts, and the one-time email confirmations that link them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LinkedHandles {
    Table,
    Channel,
    SocialId,
    AccountId,
    LinkedAt,
}

#[derive(DeriveIden)]
enum HandleConfirmations {
    Table,
    TokenHash,
    Channel,
    SocialId,
    AppealId,
    AccountId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Channel,
    Contact,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LinkedHandles::Table)
                    .col(text(LinkedHandles::Channel))
                    .col(text(LinkedHandles::SocialId))
                    .col(text(LinkedHandles::AccountId))
                    .col(ts(LinkedHandles::LinkedAt))
                    .primary_key(
                        Index::create()
                            .col(LinkedHandles::Channel)
                            .col(LinkedHandles::SocialId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HandleConfirmations::Table)
                    .col(text(HandleConfirmations::TokenHash).primary_key())
                    .col(text(HandleConfirmations::Channel))
                    .col(text(HandleConfirmations::SocialId))
                    .col(
                        ColumnDef::new(HandleConfirmations::AppealId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(HandleConfirmations::AccountId))
                    .col(ts(HandleConfirmations::ExpiresAt))
                    .col(
                        ColumnDef::new(HandleConfirmations::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ts(HandleConfirmations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Follow-up DMs of a sender find their open case by channel and contact.
        manager
            .create_index(
                Index::create()
                    .name("appeals_channel_contact")
                    .table(Appeals::Table)
                    .col(Appeals::Channel)
                    .col(Appeals::Contact)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("appeals_channel_contact")
                    .table(Appeals::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(HandleConfirmations::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LinkedHandles::Table).to_owned())
            .await
    }
}
