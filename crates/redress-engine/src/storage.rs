//! Opening the database an engine runs on, and what the service asks of it directly:
//! which backend it is and whether it answers.

use std::fmt;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use crate::clock::Clock;
use crate::db;
pub use crate::db::PoolSettings;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::settings::EngineSettings;

/// The database products the engine runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("connecting to the database")]
    Connect(#[source] DbErr),
    #[error("migrating the database")]
    Migrate(#[source] DbErr),
}

/// Connects to `url` and brings its schema up to date (`db::migrate` says why that is
/// safe from many replicas at once), for a caller that only migrates.
pub async fn migrate(url: &str, pool: &PoolSettings) -> Result<(), OpenError> {
    let connection = db::connect(url, pool).await.map_err(OpenError::Connect)?;
    db::migrate(&connection).await.map_err(OpenError::Migrate)
}

impl Engine {
    /// Connects to `url` (SQLite or PostgreSQL), brings the schema up to date and builds
    /// the engine on it: what every entry point of the service starts from.
    pub async fn open(
        url: &str,
        pool: &PoolSettings,
        settings: EngineSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, OpenError> {
        let connection = db::connect(url, pool).await.map_err(OpenError::Connect)?;
        db::migrate(&connection).await.map_err(OpenError::Migrate)?;
        Ok(Engine::new(connection, settings, clock))
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), EngineError> {
        self.db().execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.db().get_database_backend() {
            DbBackend::Sqlite => Backend::Sqlite,
            // The only other driver compiled in.
            _ => Backend::Postgres,
        }
    }
}
