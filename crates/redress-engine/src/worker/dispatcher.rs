//! The outbox dispatcher: claims due items, hands each to its deliverer, records the
//! outcome, retries with backoff and dead-letters what will not go.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::clock::{to_storage_precision, Clock};
use crate::delivery::{DelivererRegistry, DeliveryError};
use crate::error::EngineError;
use crate::repo::outbox_delivery::{self, Claimed};
use crate::transact::{self, Begin};
use crate::worker::backoff::Backoff;
use crate::worker::outbox_lease::BatchLease;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchSettings {
    /// Items claimed per round.
    pub batch_size: u64,
    /// How long a claim lasts unless renewed: the items of a dispatcher that died are due
    /// again this long after its last renewal.
    pub lease: Duration,
    /// How often the lease of the items still held is renewed while a batch is delivered;
    /// well under `lease`, so one late renewal does not lose the items.
    pub lease_renewal: Duration,
    /// Wall-clock limit for one delivery; longer counts as a temporary failure.
    pub delivery_timeout: Duration,
    pub backoff: Backoff,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            batch_size: 50,
            lease: Duration::from_secs(30),
            lease_renewal: Duration::from_secs(10),
            delivery_timeout: Duration::from_secs(60),
            backoff: Backoff::default(),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
    /// Claimed but given back untried because shutdown was asked for.
    pub released: usize,
    /// Items another dispatcher took over after this one's lease ran out: skipped before
    /// their attempt, or attempted but their outcome left to the newer claim.
    pub lost: usize,
}

#[derive(Debug, Clone)]
pub struct Dispatcher {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    registry: Arc<DelivererRegistry>,
    settings: DispatchSettings,
}

enum Outcome {
    Delivered,
    Retry(String),
    Dead(String),
}

impl Dispatcher {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        registry: Arc<DelivererRegistry>,
        settings: DispatchSettings,
    ) -> Self {
        Self {
            db,
            clock,
            registry,
            settings,
        }
    }

    pub fn settings(&self) -> &DispatchSettings {
        &self.settings
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// One round: claim a batch, deliver it item by item while its lease is renewed. When
    /// `stop` turns true the item in flight finishes and the rest of the batch is released
    /// for another dispatcher.
    #[tracing::instrument(skip_all)]
    pub async fn run_once(
        &self,
        stop: &watch::Receiver<bool>,
    ) -> Result<DispatchReport, EngineError> {
        let now = self.clock.now();
        let length = TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::seconds(30));
        // The claim commits before anything is delivered, so no lock is held across a
        // delivery (see `outbox_delivery`).
        let claimed = transact::in_transaction(&self.db, Begin::Deferred, async |txn| {
            outbox_delivery::claim_due(txn, now, now + length, self.settings.batch_size).await
        })
        .await?;
        let Some(first) = claimed.first() else {
            return Ok(DispatchReport::default());
        };
        let lease = BatchLease::new(first.lease_id, now, length);
        // The renewals live in this future: a dispatcher that dies (or whose round is
        // dropped) stops renewing with it, and its items fall due when the lease ends.
        tokio::select! {
            report = self.deliver(&claimed, &lease, stop) => report,
            never = lease.keep_renewing(&self.db, self.clock.as_ref(), self.settings.lease_renewal) => match never {},
        }
    }

    async fn deliver(
        &self,
        claimed: &[Claimed],
        lease: &BatchLease,
        stop: &watch::Receiver<bool>,
    ) -> Result<DispatchReport, EngineError> {
        let mut report = DispatchReport {
            claimed: claimed.len(),
            ..DispatchReport::default()
        };
        for item in claimed {
            if *stop.borrow() {
                if outbox_delivery::release(&self.db, item, self.clock.now()).await? {
                    report.released += 1;
                }
                continue;
            }
            if !self.still_held(item, lease).await? {
                report.lost += 1;
                continue;
            }
            let outcome = self.attempt(item).await;
            let now = self.clock.now();
            let recorded = match &outcome {
                Outcome::Delivered => outbox_delivery::mark_delivered(&self.db, item, now).await?,
                Outcome::Retry(error) => {
                    let failures = u32::try_from(item.message.attempts + 1).unwrap_or(u32::MAX);
                    let delay = self.settings.backoff.delay(failures, rand::random::<f64>());
                    let retry_at = to_storage_precision(
                        now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1)),
                    );
                    outbox_delivery::mark_failed(&self.db, item, error, Some(retry_at), now).await?
                }
                Outcome::Dead(error) => {
                    outbox_delivery::mark_failed(&self.db, item, error, None, now).await?
                }
            };
            match (recorded, outcome) {
                (false, _) => report.lost += 1,
                (true, Outcome::Delivered) => report.delivered += 1,
                (true, Outcome::Retry(_)) => report.retried += 1,
                (true, Outcome::Dead(error)) => {
                    tracing::warn!(id = %item.message.id, topic = %item.message.topic, %error, "outbox item dead-lettered");
                    report.dead_lettered += 1;
                }
            }
        }
        Ok(report)
    }

    /// Whether `item` is still this dispatcher's to deliver. While the lease is unbroken
    /// nobody else can have claimed it; after a lapse the item is renewed on its own first,
    /// so what another dispatcher took over (and may have delivered) is not sent again.
    async fn still_held(&self, item: &Claimed, lease: &BatchLease) -> Result<bool, EngineError> {
        let now = self.clock.now();
        if lease.unbroken_at(now) {
            return Ok(true);
        }
        outbox_delivery::renew_one(&self.db, item, now + lease.length()).await
    }

    async fn attempt(&self, item: &Claimed) -> Outcome {
        let message = &item.message;
        let failures = u32::try_from(message.attempts + 1).unwrap_or(u32::MAX);
        let give_up_or_retry = |error: String| {
            if self.settings.backoff.retries_after(failures) {
                Outcome::Retry(error)
            } else {
                Outcome::Dead(error)
            }
        };
        // A topic without a deliverer is retried like a failure: the deliverer may be
        // configured on the next start, and the attempt limit still ends it in the dead
        // letters, visible to an admin, rather than silently dropped.
        let Some(deliverer) = self.registry.deliverer_for(message) else {
            return give_up_or_retry(format!(
                "no deliverer registered for topic {}",
                message.topic
            ));
        };
        match tokio::time::timeout(self.settings.delivery_timeout, deliverer.deliver(message)).await
        {
            Ok(Ok(())) => Outcome::Delivered,
            Ok(Err(DeliveryError::Permanent(error))) => Outcome::Dead(error),
            Ok(Err(error)) => give_up_or_retry(error.to_string()),
            Err(_) => give_up_or_retry(format!(
                "delivery took longer than {}s",
                self.settings.delivery_timeout.as_secs()
            )),
        }
    }
}
