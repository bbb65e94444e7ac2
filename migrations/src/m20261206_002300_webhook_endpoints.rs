//! The platform's webhook endpoints: where Redress posts the events the platform asked for
//! (`events`, a JSON list of event type names), signed per the Standard Webhooks
//! specification with each of the endpoint's active secrets (`secrets`, a JSON list of
//! `{secret, created_at, expires_at}`; several while a rotation is under way), and whether
//! the payloads may carry the account id (`include_account`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    Events,
    IncludeAccount,
    Secrets,
    Enabled,
    CreatedAt,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(
                        ColumnDef::new(WebhookEndpoints::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::Description)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::Events)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::IncludeAccount)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::Secrets)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::Enabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookEndpoints::UpdatedBy)
                            .text()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
