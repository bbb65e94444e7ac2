//! The lease of one batch of outbox items, renewed while the batch is being delivered.
//!
//! Leases are short so that the items of a dispatcher that died are due again soon; a live
//! dispatcher keeps its items by renewing. It delivers an item without asking the database
//! first only while the lease has provably never lapsed: every renewal was written before
//! the lease it extended ran out, so no other dispatcher can have claimed a row in between.
//! Once a renewal came too late (the database was unreachable, the process stalled), each
//! item is renewed on its own before it is delivered, and skipped if it was taken over.

use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::clock::Clock;
use crate::repo::outbox_delivery;

#[derive(Debug)]
pub(crate) struct BatchLease {
    id: Uuid,
    length: TimeDelta,
    /// Until when no other dispatcher can have claimed a row of the batch; `None` once a
    /// renewal was written after the lease it extended had run out.
    unbroken_until: Mutex<Option<DateTime<Utc>>>,
}

impl BatchLease {
    pub(crate) fn new(id: Uuid, claimed_at: DateTime<Utc>, length: TimeDelta) -> Self {
        Self {
            id,
            length,
            unbroken_until: Mutex::new(Some(claimed_at + length)),
        }
    }

    pub(crate) fn length(&self) -> TimeDelta {
        self.length
    }

    /// Whether every row still under this lease is certainly still this dispatcher's.
    pub(crate) fn unbroken_at(&self, now: DateTime<Utc>) -> bool {
        matches!(*self.lock(), Some(until) if now < until)
    }

    /// Renews the lease every `every` until the future is dropped (when the batch is done).
    pub(crate) async fn keep_renewing(
        &self,
        db: &DatabaseConnection,
        clock: &dyn Clock,
        every: Duration,
    ) -> Infallible {
        loop {
            tokio::time::sleep(every).await;
            let until = clock.now() + self.length;
            match outbox_delivery::renew(db, self.id, until).await {
                Ok(_) => self.renewed(clock.now(), until),
                Err(err) => {
                    tracing::warn!(lease = %self.id, error = %err, "cannot renew an outbox lease");
                }
            }
        }
    }

    fn renewed(&self, written_by: DateTime<Utc>, until: DateTime<Utc>) {
        let mut unbroken = self.lock();
        *unbroken = match *unbroken {
            Some(previous) if written_by < previous => Some(until),
            Some(previous) => {
                tracing::warn!(lease = %self.id, ran_out = %previous, "an outbox lease was renewed after it ran out; items are checked one by one");
                None
            }
            None => None,
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<DateTime<Utc>>> {
        self.unbroken_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(seconds)
    }

    #[test]
    fn a_renewal_in_time_extends_the_lease_and_a_late_one_breaks_it_for_good() {
        let lease = BatchLease::new(Uuid::now_v7(), at(0), TimeDelta::seconds(30));
        assert!(lease.unbroken_at(at(29)));
        assert!(!lease.unbroken_at(at(30)));
        lease.renewed(at(20), at(50));
        assert!(lease.unbroken_at(at(49)));
        lease.renewed(at(50), at(80));
        assert!(
            !lease.unbroken_at(at(51)),
            "renewed at the moment it ran out"
        );
        lease.renewed(at(60), at(90));
        assert!(!lease.unbroken_at(at(61)), "a broken lease stays broken");
    }
}
