//! Schema migrations of Redress. Each migration is written once with sea-query and runs
//! unchanged on SQLite and PostgreSQL; the few statements sea-query cannot express (partial
//! unique indexes) use SQL that both databases accept verbatim.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261125_000200_worker_indexes;
mod m20261125_000300_mail_signing_keys;
mod m20261125_000400_social;
mod m20261125_000500_restoration;
mod m20261125_000600_transparency;
mod m20261125_000650_sla_pauses;
mod m20261125_000700_audit_log;
mod m20261126_000800_claimable_queue;
mod m20261126_000900_room_for_reversals;
mod m20261126_001000_bulk_restore_slices;
mod m20261127_001100_outbox_lease_ids;
mod m20261128_001200_appeal_tags_index;
mod m20261129_001300_routing_rules;
mod m20261129_001300_search;
mod m20261204_001400_stored_search_vectors;
mod m20261204_001500_account_locale;
mod m20261204_001700_bulk_decisions;
mod m20261204_001800_decided_events_index;
mod m20261205_001900_second_reviews;
mod m20261205_002010_policy_catalog;
mod m20261205_002020_bulk_decision_starter_roles;
mod m20261206_002100_staff_sessions;
mod m20261206_002200_tdb_submissions;
mod m20261206_002300_webhook_endpoints;
mod m20261206_002400_personal_data;
mod m20261206_002500_staff_sign_ins_expiry_index;
mod m20261207_000100_tdb_server_failures;
mod m20261207_000200_purge_rearm;
mod m20261207_000500_staff_sessions_without_id_token;
mod m20261208_000210_purge_rearm_settled_outbox;

pub use m20261207_000200_purge_rearm::STAFF_TEXT_EVENTS;
pub use m20261208_000210_purge_rearm_settled_outbox::{
    NEVER_PURGED_OUTBOX_TOPIC, UNSETTLED_OUTBOX_STATUS,
};

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261125_000200_worker_indexes::Migration),
            Box::new(m20261125_000300_mail_signing_keys::Migration),
            Box::new(m20261125_000400_social::Migration),
            Box::new(m20261125_000500_restoration::Migration),
            Box::new(m20261125_000600_transparency::Migration),
            Box::new(m20261125_000650_sla_pauses::Migration),
            Box::new(m20261125_000700_audit_log::Migration),
            Box::new(m20261126_000800_claimable_queue::Migration),
            Box::new(m20261126_000900_room_for_reversals::Migration),
            Box::new(m20261126_001000_bulk_restore_slices::Migration),
            Box::new(m20261127_001100_outbox_lease_ids::Migration),
            Box::new(m20261128_001200_appeal_tags_index::Migration),
            Box::new(m20261129_001300_routing_rules::Migration),
            Box::new(m20261129_001300_search::Migration),
            Box::new(m20261204_001400_stored_search_vectors::Migration),
            Box::new(m20261204_001500_account_locale::Migration),
            Box::new(m20261204_001700_bulk_decisions::Migration),
            Box::new(m20261204_001800_decided_events_index::Migration),
            Box::new(m20261205_001900_second_reviews::Migration),
            Box::new(m20261205_002010_policy_catalog::Migration),
            Box::new(m20261205_002020_bulk_decision_starter_roles::Migration),
            Box::new(m20261206_002100_staff_sessions::Migration),
            Box::new(m20261206_002200_tdb_submissions::Migration),
            Box::new(m20261206_002300_webhook_endpoints::Migration),
            Box::new(m20261206_002400_personal_data::Migration),
            Box::new(m20261206_002500_staff_sign_ins_expiry_index::Migration),
            Box::new(m20261207_000100_tdb_server_failures::Migration),
            Box::new(m20261207_000200_purge_rearm::Migration),
            Box::new(m20261207_000500_staff_sessions_without_id_token::Migration),
            Box::new(m20261208_000210_purge_rearm_settled_outbox::Migration),
        ]
    }
}
