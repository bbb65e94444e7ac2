//! Accounts, enforcements, appeals (the projection), appeal events (append-only),
//! messages and the outbox.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Email,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Enforcements {
    Table,
    Id,
    ExternalId,
    AccountId,
    Kind,
    Policy,
    SourceKind,
    SourceId,
    BatchId,
    AutomatedDetection,
    AutomatedDecision,
    ContentId,
    ContentRelation,
    Facts,
    Statement,
    EnforcedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    Id,
    Reference,
    AccountId,
    EnforcementId,
    Channel,
    Contact,
    State,
    Priority,
    PriorityRank,
    Queue,
    Tags,
    IdentityVerified,
    FourEyes,
    Assignee,
    LeaseUntil,
    EscalationLevel,
    Decision,
    ResumeState,
    SlaStartedAt,
    SlaPausedSince,
    SlaPausedMs,
    SlaMarks,
    TriageDueAt,
    DecisionDueAt,
    NextSlaCheckAt,
    Version,
    FiledAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AppealEvents {
    Table,
    AppealId,
    Version,
    Kind,
    ActorKind,
    ActorId,
    Payload,
    OccurredAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    AppealId,
    Direction,
    Channel,
    ChannelMessageId,
    InReplyTo,
    Sender,
    Recipient,
    Subject,
    Body,
    Classification,
    Metadata,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    AppealId,
    IdempotencyKey,
    Payload,
    Status,
    Attempts,
    AvailableAt,
    LockedUntil,
    LastError,
    CreatedAt,
    DeliveredAt,
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

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    stmt
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(ColumnDef::new(Accounts::Id).text().not_null().primary_key())
                    .col(text_null(Accounts::Email))
                    .col(text(Accounts::Status))
                    .col(ts(Accounts::CreatedAt))
                    .col(ts(Accounts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "accounts_email",
                Accounts::Table,
                vec![Accounts::Email.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Enforcements::Table)
                    .col(
                        ColumnDef::new(Enforcements::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text_null(Enforcements::ExternalId))
                    .col(text(Enforcements::AccountId))
                    .col(text(Enforcements::Kind))
                    .col(text(Enforcements::Policy))
                    .col(text(Enforcements::SourceKind))
                    .col(text(Enforcements::SourceId))
                    .col(text_null(Enforcements::BatchId))
                    .col(text(Enforcements::AutomatedDetection))
                    .col(text(Enforcements::AutomatedDecision))
                    .col(text_null(Enforcements::ContentId))
                    .col(text_null(Enforcements::ContentRelation))
                    .col(text(Enforcements::Facts))
                    .col(
                        ColumnDef::new(Enforcements::Statement)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ts(Enforcements::EnforcedAt))
                    .col(ts(Enforcements::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Enforcements::Table, Enforcements::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "enforcements_external_id",
                    Enforcements::Table,
                    vec![Enforcements::ExternalId.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "enforcements_account",
                Enforcements::Table,
                vec![
                    Enforcements::AccountId.into_iden(),
                    Enforcements::EnforcedAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "enforcements_source",
                Enforcements::Table,
                vec![
                    Enforcements::SourceId.into_iden(),
                    Enforcements::EnforcedAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "enforcements_batch",
                Enforcements::Table,
                vec![Enforcements::BatchId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Appeals::Table)
                    .col(ColumnDef::new(Appeals::Id).uuid().not_null().primary_key())
                    .col(text(Appeals::Reference))
                    .col(text_null(Appeals::AccountId))
                    .col(ColumnDef::new(Appeals::EnforcementId).uuid().null())
                    .col(text(Appeals::Channel))
                    .col(text_null(Appeals::Contact))
                    .col(text(Appeals::State))
                    .col(text(Appeals::Priority))
                    .col(
                        ColumnDef::new(Appeals::PriorityRank)
                            .small_integer()
                            .not_null(),
                    )
                    .col(text(Appeals::Queue))
                    .col(ColumnDef::new(Appeals::Tags).json_binary().not_null())
                    .col(
                        ColumnDef::new(Appeals::IdentityVerified)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Appeals::FourEyes).boolean().not_null())
                    .col(text_null(Appeals::Assignee))
                    .col(ts_null(Appeals::LeaseUntil))
                    .col(
                        ColumnDef::new(Appeals::EscalationLevel)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Appeals::Decision).json_binary().null())
                    .col(text_null(Appeals::ResumeState))
                    .col(ts(Appeals::SlaStartedAt))
                    .col(ts_null(Appeals::SlaPausedSince))
                    .col(
                        ColumnDef::new(Appeals::SlaPausedMs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Appeals::SlaMarks).small_integer().not_null())
                    .col(ts_null(Appeals::TriageDueAt))
                    .col(ts_null(Appeals::DecisionDueAt))
                    .col(ts_null(Appeals::NextSlaCheckAt))
                    .col(ColumnDef::new(Appeals::Version).big_integer().not_null())
                    .col(ts(Appeals::FiledAt))
                    .col(ts(Appeals::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Appeals::Table, Appeals::AccountId)
                            .to(Accounts::Table, Accounts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Appeals::Table, Appeals::EnforcementId)
                            .to(Enforcements::Table, Enforcements::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "appeals_reference",
                    Appeals::Table,
                    vec![Appeals::Reference.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        // The claim query: triaged cases of a queue, most escalated, most urgent, nearest
        // deadline and oldest first.
        manager
            .create_index(
                Index::create()
                    .name("appeals_queue_order")
                    .table(Appeals::Table)
                    .col(Appeals::State)
                    .col(Appeals::Queue)
                    .col((Appeals::EscalationLevel, IndexOrder::Desc))
                    .col((Appeals::PriorityRank, IndexOrder::Desc))
                    .col(Appeals::DecisionDueAt)
                    .col(Appeals::FiledAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "appeals_next_sla_check",
                Appeals::Table,
                vec![Appeals::NextSlaCheckAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "appeals_account",
                Appeals::Table,
                vec![Appeals::AccountId.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "appeals_enforcement",
                Appeals::Table,
                vec![Appeals::EnforcementId.into_iden()],
            ))
            .await?;
        // One open appeal per account and enforcement: a partial unique index, the same SQL
        // on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX appeals_one_open_per_enforcement \
                 ON appeals (account_id, enforcement_id) \
                 WHERE state IN ('filed', 'triaged', 'awaiting_user', 'reviewed') \
                 AND account_id IS NOT NULL AND enforcement_id IS NOT NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AppealEvents::Table)
                    .col(ColumnDef::new(AppealEvents::AppealId).uuid().not_null())
                    .col(
                        ColumnDef::new(AppealEvents::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(AppealEvents::Kind))
                    .col(text(AppealEvents::ActorKind))
                    .col(text(AppealEvents::ActorId))
                    .col(
                        ColumnDef::new(AppealEvents::Payload)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ts(AppealEvents::OccurredAt))
                    .primary_key(
                        Index::create()
                            .col(AppealEvents::AppealId)
                            .col(AppealEvents::Version),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AppealEvents::Table, AppealEvents::AppealId)
                            .to(Appeals::Table, Appeals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "appeal_events_kind_time",
                AppealEvents::Table,
                vec![
                    AppealEvents::Kind.into_iden(),
                    AppealEvents::OccurredAt.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(ColumnDef::new(Messages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Messages::AppealId).uuid().null())
                    .col(text(Messages::Direction))
                    .col(text(Messages::Channel))
                    .col(text_null(Messages::ChannelMessageId))
                    .col(text_null(Messages::InReplyTo))
                    .col(text(Messages::Sender))
                    .col(text_null(Messages::Recipient))
                    .col(text_null(Messages::Subject))
                    .col(text(Messages::Body))
                    .col(text(Messages::Classification))
                    .col(ColumnDef::new(Messages::Metadata).json_binary().not_null())
                    .col(ts(Messages::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::AppealId)
                            .to(Appeals::Table, Appeals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "messages_channel_id",
                    Messages::Table,
                    vec![
                        Messages::Channel.into_iden(),
                        Messages::ChannelMessageId.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "messages_appeal",
                Messages::Table,
                vec![
                    Messages::AppealId.into_iden(),
                    Messages::ReceivedAt.into_iden(),
                ],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                    .col(text(Outbox::Topic))
                    .col(ColumnDef::new(Outbox::AppealId).uuid().null())
                    .col(text(Outbox::IdempotencyKey))
                    .col(ColumnDef::new(Outbox::Payload).json_binary().not_null())
                    .col(text(Outbox::Status))
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                    .col(ts(Outbox::AvailableAt))
                    .col(ts_null(Outbox::LockedUntil))
                    .col(text_null(Outbox::LastError))
                    .col(ts(Outbox::CreatedAt))
                    .col(ts_null(Outbox::DeliveredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "outbox_idempotency_key",
                    Outbox::Table,
                    vec![Outbox::IdempotencyKey.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "outbox_due",
                Outbox::Table,
                vec![Outbox::Status.into_iden(), Outbox::AvailableAt.into_iden()],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            Messages::Table.into_iden(),
            AppealEvents::Table.into_iden(),
            Appeals::Table.into_iden(),
            Enforcements::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
