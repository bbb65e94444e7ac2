//! Live views: one appeal, or everything that enters, leaves or changes in a queue.

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::stream::{self, Stream, StreamExt};
use redress_core::Actor;
use redress_engine::{AppealChange, Engine};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::error::OrApiError;
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::ids::parse_id;

#[derive(Debug, Default)]
pub struct AppealSubscription;

/// Committed changes that pass `keep`, as they happen. A subscriber that falls behind the
/// broadcast skips what it missed rather than stalling writers.
fn changes(
    receiver: broadcast::Receiver<AppealChange>,
    keep: impl Fn(&AppealChange) -> bool + Send + 'static,
) -> impl Stream<Item = AppealChange> + Send {
    stream::unfold((receiver, keep), |(mut receiver, keep)| async move {
        loop {
            match receiver.recv().await {
                Ok(change) if keep(&change) => return Some((change, (receiver, keep))),
                Ok(_) => {}
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "a subscriber fell behind; changes skipped");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// The appeal as it is now, for `subscriber`; a change seen for an appeal that cannot be
/// read, or that is withheld from the subscriber now, is skipped. What is withheld is asked
/// at each change: a second review taken or recorded since subscribing counts.
async fn current(engine: Engine, subscriber: Actor, change: AppealChange) -> Option<AppealNode> {
    let stored = match engine.appeal(change.appeal_id).await {
        Ok(stored) => stored,
        Err(err) => {
            tracing::warn!(error = %err, appeal = %change.appeal_id, "cannot load a changed appeal");
            return None;
        }
    };
    match Withheld::from_actor(&engine, Some(&subscriber)).await {
        Ok(withheld) => withheld.show(stored),
        Err(err) => {
            tracing::warn!(error = ?err, appeal = %change.appeal_id, "cannot tell whether a changed appeal is withheld");
            None
        }
    }
}

#[Subscription]
impl AppealSubscription {
    /// The appeal after every committed change.
    async fn appeal_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = AppealNode>> {
        let subscriber = rbac::staff(ctx).or_api()?;
        let id = parse_id(&id)?;
        let engine = ctx.data::<Engine>()?.clone();
        let receiver = engine.changes().subscribe();
        Ok(changes(receiver, move |c| c.appeal_id == id)
            .filter_map(move |change| current(engine.clone(), subscriber.clone(), change)))
    }

    /// Every appeal that changes in, enters or leaves `queue`.
    async fn queue_changed(
        &self,
        ctx: &Context<'_>,
        queue: String,
    ) -> Result<impl Stream<Item = AppealNode>> {
        let subscriber = rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?.clone();
        let receiver = engine.changes().subscribe();
        Ok(changes(receiver, move |c| c.touches_queue(&queue))
            .filter_map(move |change| current(engine.clone(), subscriber.clone(), change)))
    }
}
