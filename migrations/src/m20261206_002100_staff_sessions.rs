//! Staff sign-in through the organisation's identity provider (OpenID Connect).
//!
//! `staff_sessions`: one row per signed-in browser. The cookie holds a random session id;
//! only its SHA-256 is stored (`id_hash`), so a copy of the database signs nobody in. The
//! roles were mapped from the provider's claims at sign-in. `expires_at` slides forward
//! while the session is used, up to `ends_at`; `id_token` is the provider's ID token, sent
//! back as `id_token_hint` when the person signs out at the provider.
//!
//! `staff_sign_ins`: a sign-in started and not finished yet, keyed by the SHA-256 of its
//! `state`; it holds the PKCE verifier and the nonce until the provider redirects back, and
//! is deleted by that redirect, so a replayed redirect finds nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffSessions {
    Table,
    IdHash,
    Subject,
    Roles,
    IdToken,
    IdleSeconds,
    CreatedAt,
    ExpiresAt,
    EndsAt,
}

#[derive(DeriveIden)]
enum StaffSignIns {
    Table,
    StateHash,
    PkceVerifier,
    Nonce,
    ReturnTo,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffSessions::Table)
                    .col(
                        ColumnDef::new(StaffSessions::IdHash)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StaffSessions::Subject).text().not_null())
                    .col(ColumnDef::new(StaffSessions::Roles).text().not_null())
                    .col(ColumnDef::new(StaffSessions::IdToken).text().null())
                    .col(
                        ColumnDef::new(StaffSessions::IdleSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StaffSessions::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StaffSessions::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StaffSessions::EndsAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("staff_sessions_expires_at")
                    .table(StaffSessions::Table)
                    .col(StaffSessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StaffSignIns::Table)
                    .col(
                        ColumnDef::new(StaffSignIns::StateHash)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StaffSignIns::PkceVerifier).text().not_null())
                    .col(ColumnDef::new(StaffSignIns::Nonce).text().not_null())
                    .col(ColumnDef::new(StaffSignIns::ReturnTo).text().not_null())
                    .col(
                        ColumnDef::new(StaffSignIns::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StaffSignIns::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffSignIns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StaffSessions::Table).to_owned())
            .await
    }
}
