//! The deliverer of `platform_event`: one `webhook` row per enabled endpoint subscribed to
//! the event's kind, each with the body that endpoint may receive.

use serde_json::{json, Value};

use super::store;
use crate::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use crate::engine::Engine;
use crate::entity::webhook_endpoint;
use crate::error::EngineError;
use crate::outbox::{PlatformEvent, PlatformEventKind, PlatformSubject, WebhookDelivery};
use crate::repo::outbox::{self, OutboxItem};
use crate::transact::Retry;

/// Fans platform events out to the endpoints. Endpoints are read when the event is fanned
/// out, shortly after its commit: an endpoint added later does not hear of earlier events.
#[derive(Debug, Clone)]
pub struct WebhookFanOut {
    engine: Engine,
}

impl WebhookFanOut {
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

/// The Standard Webhooks body of `event` for an endpoint: `{type, timestamp, data}`, the
/// account id only where the endpoint allows it.
pub fn body_for(event: &PlatformEvent, include_account: bool) -> Value {
    let data = match &event.subject {
        PlatformSubject::Appeal(appeal) => {
            let mut appeal = appeal.clone();
            if !include_account {
                appeal.account_id = None;
            }
            serde_json::to_value(appeal)
        }
        PlatformSubject::Incident(incident) => serde_json::to_value(incident),
        PlatformSubject::BulkRestore(job) => serde_json::to_value(job),
    }
    // Plain structs of ids, strings and numbers always serialize.
    .unwrap_or_default();
    json!({
        "type": event.kind,
        "timestamp": event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
}

fn subscribed(endpoint: &webhook_endpoint::Model, kind: PlatformEventKind) -> bool {
    serde_json::from_value::<Vec<PlatformEventKind>>(endpoint.events.clone())
        .is_ok_and(|events| events.contains(&kind))
}

/// The deliveries of `event`, one per endpoint subscribed to it.
fn deliveries(event: &PlatformEvent, endpoints: &[webhook_endpoint::Model]) -> Vec<OutboxItem> {
    let appeal_id = match &event.subject {
        PlatformSubject::Appeal(appeal) => Some(appeal.appeal_id),
        _ => None,
    };
    endpoints
        .iter()
        .filter(|endpoint| subscribed(endpoint, event.kind))
        .map(|endpoint| {
            OutboxItem::of(
                &WebhookDelivery {
                    endpoint_id: endpoint.id,
                    message_id: event.event_id,
                    kind: event.kind,
                    body: body_for(event, endpoint.include_account),
                },
                appeal_id,
                format!("webhook:{}:{}", endpoint.id, event.event_id),
            )
        })
        .collect()
}

#[async_trait::async_trait]
impl Deliverer for WebhookFanOut {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let event = Delivery::<PlatformEvent>::read(message)?.payload;
        let now = self.engine.clock().now();
        self.engine
            .transact(Retry::LostRaces, async |txn| {
                let endpoints = store::enabled(txn).await?;
                outbox::enqueue(txn, deliveries(&event, &endpoints), now).await?;
                Ok::<_, EngineError>(())
            })
            .await
            .map_err(|err| match err {
                err if err.is_temporary() => DeliveryError::Retryable(err.to_string()),
                err => DeliveryError::Permanent(err.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::PlatformAppeal;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    #[test]
    fn the_account_id_goes_only_where_the_endpoint_allows_it() {
        let event = PlatformEvent {
            event_id: Uuid::now_v7(),
            kind: PlatformEventKind::AppealDecided,
            occurred_at: Utc
                .with_ymd_and_hms(2026, 12, 6, 10, 0, 0)
                .single()
                .expect("time"),
            subject: PlatformSubject::Appeal(PlatformAppeal {
                appeal_id: Uuid::now_v7(),
                reference: "RDR-7K3Q-9M2X".to_owned(),
                state: redress_core::AppealState::Reviewed,
                sequence: 4,
                outcome: Some(redress_core::Outcome::Restore),
                account_id: Some("acct-1".to_owned()),
                bulk_restore_job_id: None,
            }),
        };
        let without = body_for(&event, false);
        assert_eq!(without["type"], "appeal.decided");
        assert_eq!(without["timestamp"], "2026-12-06T10:00:00.000000Z");
        assert_eq!(without["data"]["sequence"], 4);
        assert_eq!(without["data"]["outcome"], "restore");
        assert!(without["data"].get("account_id").is_none(), "{without}");
        assert_eq!(body_for(&event, true)["data"]["account_id"], "acct-1");
    }
}
