//! Routing rules. `routing_rules` holds each rule as it stands now, in the order rules are
//! tried (`position`); `routing_rule_versions` keeps every version a rule ever had, one row
//! per change, so a `triaged` event naming a rule's id and version can always be read back.
//! The appeal row records the rule that triaged it (`triaged_by_rule`, with its version) so
//! the queue can be filtered by rule. Context conditions count an account's appeals, so
//! appeals get an index by account.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RoutingRules {
    Table,
    Id,
    Name,
    Position,
    Enabled,
    Version,
    Definition,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum RoutingRuleVersions {
    Table,
    RuleId,
    Version,
    Name,
    Position,
    Enabled,
    Definition,
    Change,
    ChangedAt,
    ChangedBy,
}

#[derive(DeriveIden)]
enum Appeals {
    Table,
    TriagedByRule,
    TriagedByRuleVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoutingRules::Table)
                    .col(
                        ColumnDef::new(RoutingRules::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RoutingRules::Name).text().not_null())
                    .col(ColumnDef::new(RoutingRules::Position).integer().not_null())
                    .col(ColumnDef::new(RoutingRules::Enabled).boolean().not_null())
                    .col(
                        ColumnDef::new(RoutingRules::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRules::Definition)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRules::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RoutingRules::UpdatedBy).text().not_null())
                    .to_owned(),
            )
            .await?;
        // Names are how configuration seeds a rule once, and how people tell rules apart.
        manager
            .create_index(
                Index::create()
                    .name("routing_rules_name")
                    .table(RoutingRules::Table)
                    .col(RoutingRules::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoutingRuleVersions::Table)
                    .col(
                        ColumnDef::new(RoutingRuleVersions::RuleId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RoutingRuleVersions::Name).text().not_null())
                    .col(
                        ColumnDef::new(RoutingRuleVersions::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::Enabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::Definition)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::Change)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::ChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RoutingRuleVersions::ChangedBy)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(RoutingRuleVersions::RuleId)
                            .col(RoutingRuleVersions::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .add_column(ColumnDef::new(Appeals::TriagedByRule).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Appeals::Table)
                    .add_column(
                        ColumnDef::new(Appeals::TriagedByRuleVersion)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX appeals_triaged_by_rule ON appeals (triaged_by_rule, filed_at) \
             WHERE triaged_by_rule IS NOT NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX appeals_account_state ON appeals (account_id, state)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX appeals_account_state")
            .await?;
        db.execute_unprepared("DROP INDEX appeals_triaged_by_rule")
            .await?;
        for column in [Appeals::TriagedByRuleVersion, Appeals::TriagedByRule] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Appeals::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(RoutingRuleVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RoutingRules::Table).to_owned())
            .await
    }
}
