//! Blind second reviews: a share of decisions, drawn when each is recorded, that another
//! reviewer decides again without seeing the first outcome. A row names the decision by its
//! event (`appeal_id`, `decision_version`), keeps what the figures group by (the first
//! reviewer, the policy, the template) beside the first outcome, and, once a second reviewer
//! took it, who holds it until when; then their outcome and whether the two agree.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecondReviews {
    Table,
    Id,
    AppealId,
    DecisionVersion,
    FirstReviewer,
    FirstOutcome,
    Policy,
    Template,
    SampledAt,
    SecondReviewer,
    HeldUntil,
    SecondOutcome,
    Agreed,
    ReviewedAt,
}

fn text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().not_null().to_owned()
}

fn optional_text(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).text().null().to_owned()
}

fn optional_ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
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
                    .table(SecondReviews::Table)
                    .col(
                        ColumnDef::new(SecondReviews::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SecondReviews::AppealId).uuid().not_null())
                    .col(
                        ColumnDef::new(SecondReviews::DecisionVersion)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(SecondReviews::FirstReviewer))
                    .col(text(SecondReviews::FirstOutcome))
                    .col(optional_text(SecondReviews::Policy))
                    .col(optional_text(SecondReviews::Template))
                    .col(
                        ColumnDef::new(SecondReviews::SampledAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(optional_text(SecondReviews::SecondReviewer))
                    .col(optional_ts(SecondReviews::HeldUntil))
                    .col(optional_text(SecondReviews::SecondOutcome))
                    .col(ColumnDef::new(SecondReviews::Agreed).boolean().null())
                    .col(optional_ts(SecondReviews::ReviewedAt))
                    .to_owned(),
            )
            .await?;
        // One second review per decision, whichever replica drew it.
        manager
            .create_index(
                Index::create()
                    .name("second_reviews_decision")
                    .table(SecondReviews::Table)
                    .col(SecondReviews::AppealId)
                    .col(SecondReviews::DecisionVersion)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The open ones, oldest first, for the next reviewer to take.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX second_reviews_open ON second_reviews (sampled_at) \
                 WHERE reviewed_at IS NULL",
            )
            .await?;
        // The figures of a period.
        manager
            .create_index(
                Index::create()
                    .name("second_reviews_reviewed_at")
                    .table(SecondReviews::Table)
                    .col(SecondReviews::ReviewedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SecondReviews::Table).to_owned())
            .await?;
        Ok(())
    }
}
