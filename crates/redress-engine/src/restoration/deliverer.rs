//! The outbox deliverer of `request_restoration`: records the restoration, has the backend
//! carry it out, and confirms it, so the appeal reaches `restored` only on the backend's word.

use redress_core::{Appeal, AppealState};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::confirm::{confirm, record_bulk_refusal};
use super::error::RestorationError;
use super::plan::{embedded_report, RestorationReport, RestorationRequest};
use super::records::{self, NewRestoration, RestorationStatus};
use super::service::{AccountServiceError, RestorationBackend};
use crate::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use crate::engine::Engine;
use crate::entity::restoration;
use crate::error::EngineError;
use crate::outbox::RequestRestoration;
use crate::repo::{appeals, registry};

#[derive(Debug, Clone)]
pub struct RestorationDeliverer {
    engine: Engine,
    backend: RestorationBackend,
}

impl RestorationDeliverer {
    pub fn new(engine: Engine, backend: RestorationBackend) -> Self {
        Self { engine, backend }
    }

    /// The restoration an outbox item asks for: named by a bulk job, or the appeal's own
    /// (created on the first delivery, found again on every later one).
    async fn restoration_for(
        &self,
        item: &Delivery<RequestRestoration>,
    ) -> Result<restoration::Model, RestorationError> {
        if let Some(id) = item.payload.restoration_id {
            return records::find(self.engine.db(), id).await;
        }
        let appeal_id = item.appeal_id.or(item.payload.appeal_id).ok_or_else(|| {
            EngineError::InvalidInput("a restoration request names no appeal".to_owned())
        })?;
        if let Some(existing) = records::for_appeal(self.engine.db(), appeal_id).await? {
            return Ok(existing);
        }
        let stored = appeals::find(self.engine.db(), appeal_id).await?;
        let new = new_for_appeal(appeal_id, &stored.appeal, self.backend.name())?;
        records::ensure_for_appeal(self.engine.db(), new, self.engine.clock().now()).await
    }

    /// Whether the appeal this item restores is restored already: by this restoration on an
    /// earlier delivery, or by a bulk job that reached the account while the item waited
    /// (the job told the person; a second restoration would only tell them again).
    async fn appeal_already_restored(
        &self,
        item: &Delivery<RequestRestoration>,
    ) -> Result<bool, RestorationError> {
        if item.payload.restoration_id.is_some() {
            return Ok(false);
        }
        let Some(appeal_id) = item.appeal_id.or(item.payload.appeal_id) else {
            return Ok(false);
        };
        let stored = appeals::find(self.engine.db(), appeal_id).await?;
        Ok(stored.appeal.state == AppealState::Restored)
    }

    async fn carry_out(&self, message: &OutboxMessage) -> Result<(), RestorationError> {
        let item = Delivery::<RequestRestoration>::read(message)
            .map_err(|err| EngineError::InvalidInput(err.to_string()))?;
        if self.appeal_already_restored(&item).await? {
            return Ok(());
        }
        let restoration = self.restoration_for(&item).await?;
        if restoration.status == RestorationStatus::Confirmed {
            return Ok(());
        }
        let enforcement_ids: Vec<Uuid> =
            serde_json::from_value(restoration.enforcement_ids.clone())
                .map_err(|e| EngineError::corrupt("restoration", restoration.id, e))?;
        let request = RestorationRequest {
            restoration_id: restoration.id,
            account_id: restoration.account_id.clone(),
            reason: restoration.reason.clone(),
            items: records::planned_items(self.engine.db(), &enforcement_ids).await?,
        };
        match &self.backend {
            RestorationBackend::Embedded => {
                self.engine
                    .transact_once(async |txn| {
                        self.confirm_embedded(txn, &restoration, &request).await
                    })
                    .await
            }
            RestorationBackend::AccountService(service) => match service.restore(&request).await {
                Ok(report) => {
                    self.engine
                        .transact_once(async |txn| {
                            let cx = self.engine.in_transaction(txn, self.engine.clock().now());
                            confirm(&cx, &restoration, &report).await.map(|_| ())
                        })
                        .await
                }
                Err(AccountServiceError::Refused(reason)) => {
                    self.engine
                        .transact_once(async |txn| {
                            record_bulk_refusal(txn, &restoration, &reason).await
                        })
                        .await?;
                    Err(RestorationError::Refused(reason))
                }
                Err(AccountServiceError::Retryable(reason)) => {
                    Err(RestorationError::Unavailable(reason))
                }
            },
        }
    }

    async fn confirm_embedded(
        &self,
        txn: &DatabaseTransaction,
        restoration: &restoration::Model,
        request: &RestorationRequest,
    ) -> Result<(), RestorationError> {
        let status = registry::find_account(txn, &request.account_id)
            .await?
            .map(|a| a.status)
            .ok_or_else(|| {
                EngineError::InvalidInput(format!("unknown account {}", request.account_id))
            })?;
        let report: RestorationReport =
            embedded_report(&request.account_id, status, &request.items);
        let cx = self.engine.in_transaction(txn, self.engine.clock().now());
        confirm(&cx, restoration, &report).await.map(|_| ())
    }
}

fn new_for_appeal(
    appeal_id: Uuid,
    appeal: &Appeal,
    backend: &'static str,
) -> Result<NewRestoration, RestorationError> {
    let account_id = appeal.account_id.clone().ok_or_else(|| {
        EngineError::InvalidInput(format!("appeal {appeal_id} is linked to no account"))
    })?;
    let decision = appeal.decision.as_ref();
    Ok(NewRestoration {
        id: Uuid::now_v7(),
        appeal_id: Some(appeal_id),
        job_id: None,
        account_id,
        enforcement_ids: appeal.enforcement_id.into_iter().collect(),
        backend,
        reason: decision.map(|d| d.reasons.clone()).unwrap_or_default(),
        requested_by: decision
            .map(|d| {
                d.approved_by
                    .clone()
                    .unwrap_or_else(|| d.decided_by.clone())
            })
            .unwrap_or_default(),
    })
}

#[async_trait::async_trait]
impl Deliverer for RestorationDeliverer {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.carry_out(message).await.map_err(|err| match &err {
            RestorationError::Unavailable(_)
            | RestorationError::Engine(EngineError::Database(_) | EngineError::Conflict { .. }) => {
                DeliveryError::Retryable(err.to_string())
            }
            _ => DeliveryError::Permanent(err.to_string()),
        })
    }
}
