//! The service's bulk decision runner: carries out the jobs senior reviewers start through
//! the API, and resumes those a crash or restart left running.

use std::time::Duration;

use redress_engine::bulk_decisions::BulkDecider;
use redress_engine::Engine;
use tokio::sync::watch;

use crate::app::BackgroundTask;

/// How often the runner looks for jobs: a job started in the console begins within this.
const POLL: Duration = Duration::from_secs(1);

/// Runs every unfinished job to its end, one chunk at a time, stopping between chunks at
/// shutdown. Several replicas may run this: each chunk is claimed by a guarded update of
/// the job's checkpoint, so it is processed by exactly one of them.
pub fn spawn_runner(engine: Engine, mut shutdown: watch::Receiver<bool>) -> BackgroundTask {
    let decider = BulkDecider::new(engine);
    tokio::spawn(async move {
        loop {
            match decider.unfinished().await {
                Ok(jobs) => {
                    for job in jobs {
                        if *shutdown.borrow() {
                            return Ok(());
                        }
                        if let Err(err) =
                            decider.run_until(job, || *shutdown.borrow(), |_| {}).await
                        {
                            tracing::warn!(%job, error = %err, "bulk decision chunk failed; retrying later");
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
