//! Connecting to SQLite or PostgreSQL and migrating.

use std::time::Duration;

use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::transact::{self, Begin};

/// Pool settings that differ by backend.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// PostgreSQL schema to use instead of `public` (tests, multi-tenant setups).
    pub schema: Option<String>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
            schema: None,
        }
    }
}

/// A pooled PostgreSQL connection idle for this long is pinged before it is handed out, in
/// case a proxy or firewall dropped it; busier connections go out without the extra round
/// trip, which would otherwise be one more per transaction on the hot paths.
const PING_CONNECTIONS_IDLE_FOR: Duration = Duration::from_secs(30);

/// Opens a pool. SQLite gets one connection in WAL mode: writes are serialised by the pool
/// itself, so no transaction ever fails on a lock upgrade, and the embedded default needs no
/// tuning. PostgreSQL gets a real pool; concurrency there is handled by row locks.
pub async fn connect(url: &str, pool: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(pool.acquire_timeout);
    if url.starts_with("sqlite:") {
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A file the process itself holds open cannot be dropped by the far end; a ping
            // would cost a round trip to the driver's thread on every checkout.
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
            });
    } else {
        options
            .max_connections(pool.max_connections)
            .test_before_acquire_if_idle_for(PING_CONNECTIONS_IDLE_FOR);
        if let Some(schema) = &pool.schema {
            options.set_schema_search_path(schema.clone());
        }
    }
    Database::connect(options).await
}

/// Namespace of the advisory lock that serialises migrations on PostgreSQL (the first key
/// of the two-key form; the second is the schema's), "RDRS" in ASCII.
const MIGRATION_LOCK_NAMESPACE: i32 = 0x5244_5253;

/// Brings the schema up to date; safe to run on every start, and from any number of
/// replicas starting at once on a fresh database.
///
/// Every pending migration runs in one transaction, so they all hold one connection, and
/// that transaction first takes a lock that only one migrating process at a time can hold:
/// on PostgreSQL an advisory lock keyed by the schema (the search path), on SQLite the
/// database's write lock (`BEGIN IMMEDIATE`, waiting out the busy timeout). A second
/// replica waits there, then finds the migrations recorded and has nothing left to do.
/// Without it, replicas raced to create the same tables and all but one failed, on
/// PostgreSQL with `duplicate key value violates unique constraint
/// "pg_type_typname_nsp_index"`. The lock ends with the transaction, also when the
/// connection is lost.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    transact::in_transaction(db, Begin::WriteLockFirst, async |txn| {
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_NAMESPACE}, \
                 hashtext(current_setting('search_path')))"
            ))
            .await?;
        }
        Migrator::up(txn, None).await
    })
    .await
}
