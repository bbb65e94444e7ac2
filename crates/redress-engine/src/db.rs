//! Connecting to SQLite or PostgreSQL and migrating.

use std::time::Duration;

use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

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

/// Brings the schema up to date; safe to run on every start and from several replicas
/// (sea-orm-migration records applied migrations in `seaql_migrations`).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A round trip to the database, for readiness checks.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}
