//! The schema the migrations build and the entities the engine reads agree, on SQLite and on
//! PostgreSQL: every entity's columns are exactly its table's, so a column dropped from an
//! entity is dropped by a migration too (and the reverse), rather than lingering unread.

use std::collections::BTreeSet;

use redress_engine::entity;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IdenStatic, Iterable, Statement,
};

/// Columns a table has that its entity leaves out, each read and written by SQL of its own.
const READ_BY_SQL_ONLY: &[(&str, &str)] = &[
    (
        "enforcements.reversed_at",
        "set and read by the bulk restore's queries",
    ),
    (
        "outbox.lease_id",
        "the claim's id, written and compared by the outbox delivery's SQL",
    ),
    (
        "messages.search_vector",
        "PostgreSQL's full-text vector, kept by the search's SQL",
    ),
];

/// The columns of `table` as the database has them.
async fn table_columns(db: &DatabaseConnection, table: &str) -> BTreeSet<String> {
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            [table.into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT name FROM pragma_table_info(?)",
            [table.into()],
        ),
    };
    db.query_all_raw(statement)
        .await
        .expect("the table's columns")
        .into_iter()
        .map(|row| row.try_get::<String>("", "name").expect("a column name"))
        .collect()
}

/// The table and columns `E` reads.
fn entity_columns<E: EntityTrait>() -> (String, BTreeSet<String>) {
    let columns = E::Column::iter()
        .map(|column| column.as_str().to_owned())
        .collect();
    (E::default().table_name().to_owned(), columns)
}

macro_rules! every_entity {
    ($($module:ident),+ $(,)?) => {
        vec![$(entity_columns::<entity::$module::Entity>()),+]
    };
}

redress_engine::backend_tests! {
    async fn every_entity_reads_exactly_its_tables_columns(test) {
        let entities = every_entity![
            account, appeal, appeal_event, appeal_status_token, audit_entry, bulk_decision_job,
            bulk_decision_target, bulk_restore_job, bulk_restore_outcome, bulk_restore_slice,
            bulk_restore_target, catalog_entry, catalog_entry_version, enforcement,
            enforcement_incident, handle_confirmation, linked_handle, mail_signing_key, message,
            out_of_court_dispute, outbox, restoration, restoration_item, routing_rule,
            routing_rule_version, second_review, staff_session, staff_sign_in, tdb_submission,
            webhook_endpoint,
        ];
        let mut drift = Vec::new();
        for (table, read) in entities {
            let mut stored = table_columns(&test.db, &table).await;
            assert!(!stored.is_empty(), "no table {table}");
            stored.retain(|column| {
                !READ_BY_SQL_ONLY.iter().any(|(name, _)| *name == format!("{table}.{column}"))
            });
            let unread: Vec<_> = stored.difference(&read).collect();
            let missing: Vec<_> = read.difference(&stored).collect();
            if !unread.is_empty() || !missing.is_empty() {
                drift.push(format!("{table}: in the table only {unread:?}, in the entity only {missing:?}"));
            }
        }
        assert!(drift.is_empty(), "{}", drift.join("\n"));
        test.cleanup().await;
    }
}
