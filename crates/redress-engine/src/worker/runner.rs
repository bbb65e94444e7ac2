//! The loops that run the workers until shutdown. Each loop finishes the round it is in
//! when shutdown is asked for: a round is one transaction (SLA, leases, awaiting-user) or
//! one delivery plus the release of the rest of its batch (outbox), so nothing is left
//! half-applied.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::error::EngineError;
use crate::worker::dispatcher::Dispatcher;
use crate::worker::wakeup;

/// Runs `round` every `interval` until `stop` turns true. A round that reports a full batch
/// runs again at once: there is more due work than one batch.
pub async fn every<F, Fut>(
    name: &'static str,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, EngineError>>,
{
    loop {
        if *stop.borrow() {
            break;
        }
        let more = match round().await {
            Ok(full) => full,
            Err(err) => {
                tracing::error!(worker = name, error = %err, "worker round failed");
                false
            }
        };
        if more {
            continue;
        }
        tokio::select! {
            () = stopped(&mut stop) => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    tracing::debug!(worker = name, "worker stopped");
}

/// Runs the dispatcher until `stop` turns true, woken by notifications (PostgreSQL) or
/// every `poll` at the latest.
pub async fn dispatch(dispatcher: Dispatcher, poll: Duration, mut stop: watch::Receiver<bool>) {
    let wake = Arc::new(Notify::new());
    let listener = match wakeup::listen(dispatcher.db(), wake.clone(), stop.clone()).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for outbox notifications; polling only");
            None
        }
    };
    let batch = dispatcher.settings().batch_size as usize;
    loop {
        if *stop.borrow() {
            break;
        }
        let more = match dispatcher.run_once(&stop).await {
            Ok(report) => {
                if report.claimed > 0 {
                    tracing::debug!(?report, "outbox round");
                }
                report.claimed >= batch && report.released == 0
            }
            Err(err) => {
                tracing::error!(error = %err, "outbox round failed");
                false
            }
        };
        if more {
            continue;
        }
        tokio::select! {
            () = stopped(&mut stop) => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
    if let Some(listener) = listener {
        listener.await.ok();
    }
    tracing::debug!("outbox dispatcher stopped");
}

/// Resolves once `stop` is true (or its sender is gone, which also means stop).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
