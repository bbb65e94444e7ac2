//! Prompt wake-up of the dispatcher: `LISTEN` on PostgreSQL, where every enqueue sends a
//! `pg_notify` at commit. SQLite has no such signal; there the poll interval is the bound.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{watch, Notify};

use crate::error::EngineError;
use crate::repo::outbox::NOTIFY_CHANNEL_PREFIX;
use crate::worker::runner::stopped;

/// The notification channel of the schema `db` works in.
pub async fn channel_name(db: &DatabaseConnection) -> Result<String, EngineError> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT coalesce(current_schema(), 'public')",
        ))
        .await?;
    let schema: String = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => "public".to_owned(),
    };
    Ok(format!("{NOTIFY_CHANNEL_PREFIX}{schema}"))
}

/// Starts listening and returns once `LISTEN` is in place, so nothing enqueued after this
/// returns can be missed. On SQLite nothing is started. The task calls `wake` for every
/// notification and after every reconnect (notifications may have been missed while the
/// connection was down), and ends when `stop` turns true.
pub async fn listen(
    db: &DatabaseConnection,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>, EngineError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let channel = channel_name(db).await?;
    let mut listener = PgListener::connect_with(db.get_postgres_connection_pool())
        .await
        .map_err(connection_error)?;
    listener.listen(&channel).await.map_err(connection_error)?;
    tracing::debug!(%channel, "listening for outbox notifications");
    Ok(Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stopped(&mut stop) => break,
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => wake.notify_one(),
                    Ok(None) => {
                        tracing::warn!("outbox notification connection lost; reconnecting");
                        wake.notify_one();
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "outbox notifications failed; retrying");
                        wake.notify_one();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
            }
        }
    })))
}

fn connection_error(err: sea_orm::sqlx::Error) -> EngineError {
    EngineError::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        Arc::new(err),
    )))
}
