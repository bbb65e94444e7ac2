//! The service's bulk decision runner: carries out the jobs senior reviewers start through
//! the API, and resumes those a crash or restart left running.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use redress_engine::bulk_decisions::BulkDecider;
use redress_engine::Engine;
use tokio::sync::watch;
use uuid::Uuid;

use crate::app::BackgroundTask;

/// How often the runner looks for jobs: a job started in the console begins within this.
const POLL: Duration = Duration::from_secs(1);

/// The longest a job whose chunks keep failing waits before it is tried again: a database
/// that is away comes back within it, and a job that cannot go on costs a warning every
/// few minutes instead of every second.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Runs every unfinished job to its end, one chunk at a time, stopping between chunks at
/// shutdown. Several replicas may run this: each chunk is claimed by a guarded update of
/// the job's checkpoint, so it is processed by exactly one of them.
pub fn spawn_runner(engine: Engine, mut shutdown: watch::Receiver<bool>) -> BackgroundTask {
    let decider = BulkDecider::new(engine);
    tokio::spawn(async move {
        let mut failing = Failing::default();
        loop {
            match decider.unfinished().await {
                Ok(jobs) => {
                    failing.keep_only(&jobs);
                    for job in jobs {
                        if *shutdown.borrow() {
                            return Ok(());
                        }
                        if !failing.due(job, Instant::now()) {
                            continue;
                        }
                        match decider.run_until(job, || *shutdown.borrow(), |_| {}).await {
                            Ok(_) => failing.succeeded(job),
                            Err(err) => {
                                let wait = failing.failed(job, Instant::now());
                                tracing::warn!(%job, error = %err, retry_in_s = wait.as_secs(), "bulk decision chunk failed; retrying later");
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot list bulk decisions"),
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
                () = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// Jobs whose last attempt failed: how many times in a row, and when each may be tried
/// again. The wait doubles from [`POLL`] up to [`MAX_BACKOFF`].
#[derive(Debug, Default)]
struct Failing(HashMap<Uuid, (u32, Instant)>);

impl Failing {
    fn due(&self, job: Uuid, now: Instant) -> bool {
        self.0.get(&job).is_none_or(|(_, next)| *next <= now)
    }

    /// Records a failure; returns how long the job now waits.
    fn failed(&mut self, job: Uuid, now: Instant) -> Duration {
        let failures = self.0.get(&job).map_or(0, |(failures, _)| *failures) + 1;
        let wait = POLL
            .saturating_mul(2u32.saturating_pow(failures.min(16) - 1))
            .min(MAX_BACKOFF);
        self.0.insert(job, (failures, now + wait));
        wait
    }

    fn succeeded(&mut self, job: Uuid) {
        self.0.remove(&job);
    }

    /// Forgets jobs that are no longer unfinished.
    fn keep_only(&mut self, unfinished: &[Uuid]) {
        self.0.retain(|job, _| unfinished.contains(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_job_waits_twice_as_long_each_time_up_to_the_limit() {
        let job = Uuid::now_v7();
        let other = Uuid::now_v7();
        let start = Instant::now();
        let mut failing = Failing::default();
        let waits: Vec<u64> = (0..12)
            .map(|_| failing.failed(job, start).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert!(!failing.due(job, start + Duration::from_secs(299)));
        assert!(failing.due(job, start + MAX_BACKOFF));
        assert!(failing.due(other, start), "other jobs run as usual");

        failing.succeeded(job);
        assert!(failing.due(job, start));
        assert_eq!(
            failing.failed(job, start),
            POLL,
            "a success starts the count again"
        );

        failing.keep_only(&[other]);
        assert!(
            failing.due(job, start),
            "a job no longer running is forgotten"
        );
    }
}
