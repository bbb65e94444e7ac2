//! Endpoints in the database, edited by administrators, every change audited.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Actor;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::{
    check_description, check_events, check_url, new_secret, NewWebhookEndpoint, StoredSecret,
    WebhookEndpoint, WebhookEndpointChange, WebhookError, WebhookTarget, WithSecret, AUDIT_CREATED,
    AUDIT_DELETED, AUDIT_SECRET_ROTATED, AUDIT_UPDATED, MAX_ROTATION_OVERLAP_HOURS,
};
use crate::engine::Engine;
use crate::entity::webhook_endpoint::{self, Entity as Endpoints};
use crate::error::EngineError;
use crate::outbox::PlatformEventKind;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::Retry;

fn events_of(model: &webhook_endpoint::Model) -> Result<Vec<PlatformEventKind>, EngineError> {
    serde_json::from_value(model.events.clone())
        .map_err(|e| EngineError::corrupt("webhook endpoint", model.id, e))
}

pub(super) fn secrets_of(
    model: &webhook_endpoint::Model,
) -> Result<Vec<StoredSecret>, EngineError> {
    serde_json::from_value(model.secrets.clone())
        .map_err(|e| EngineError::corrupt("webhook endpoint", model.id, e))
}

fn name_of(actor: &Actor) -> String {
    actor.subject().unwrap_or("system").to_owned()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, EngineError> {
    serde_json::to_value(value).map_err(|e| EngineError::InvalidInput(e.to_string()))
}

pub(super) fn endpoint_of(
    model: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<WebhookEndpoint, EngineError> {
    Ok(WebhookEndpoint {
        id: model.id,
        url: model.url.clone(),
        description: model.description.clone(),
        events: events_of(model)?,
        include_account: model.include_account,
        enabled: model.enabled,
        active_secrets: secrets_of(model)?
            .iter()
            .filter(|secret| secret.active_at(now))
            .count(),
        created_at: model.created_at,
        updated_at: model.updated_at,
        updated_by: model.updated_by.clone(),
    })
}

/// The enabled endpoints, oldest first.
pub(super) async fn enabled<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<webhook_endpoint::Model>, EngineError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(Endpoints::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .order_by_asc(webhook_endpoint::Column::CreatedAt)
        .all(conn)
        .await?)
}

async fn find<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<webhook_endpoint::Model, WebhookError> {
    Endpoints::find_by_id(id)
        .one(conn)
        .await
        .map_err(EngineError::from)?
        .ok_or(WebhookError::NotFound(id))
}

async fn audit<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &'static str,
    model: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    audit::record(
        conn,
        NewAuditEntry {
            actor: actor.clone(),
            action,
            account_id: None,
            appeal_id: None,
            // What the endpoint is, never its secrets.
            details: json!({
                "endpoint_id": model.id,
                "url": model.url,
                "description": model.description,
                "events": model.events,
                "include_account": model.include_account,
                "enabled": model.enabled,
            }),
        },
        now,
    )
    .await?;
    Ok(())
}

impl Engine {
    /// Every endpoint, oldest first; never their secrets.
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, EngineError> {
        let now = self.clock().now();
        Endpoints::find()
            .order_by_asc(webhook_endpoint::Column::CreatedAt)
            .all(self.db())
            .await?
            .iter()
            .map(|model| endpoint_of(model, now))
            .collect()
    }

    /// Adds an endpoint with a fresh secret, returned this once.
    pub async fn create_webhook_endpoint(
        &self,
        actor: &Actor,
        new: NewWebhookEndpoint,
    ) -> Result<WithSecret, WebhookError> {
        check_url(&new.url)?;
        check_events(&new.events)?;
        check_description(&new.description)?;
        let now = self.clock().now();
        let secret = new_secret();
        let model = webhook_endpoint::Model {
            id: Uuid::now_v7(),
            url: new.url,
            description: new.description,
            events: to_json(&new.events)?,
            include_account: new.include_account,
            secrets: to_json(&vec![StoredSecret {
                secret: secret.clone(),
                created_at: now,
                expires_at: None,
            }])?,
            enabled: true,
            created_at: now,
            updated_at: now,
            updated_by: name_of(actor),
        };
        self.transact(Retry::LostRaces, async |txn| {
            Endpoints::insert(webhook_endpoint::ActiveModel::from(model.clone()))
                .exec_without_returning(txn)
                .await
                .map_err(EngineError::from)?;
            audit(txn, actor, AUDIT_CREATED, &model, now).await?;
            Ok::<_, WebhookError>(())
        })
        .await?;
        Ok(WithSecret {
            endpoint: endpoint_of(&model, now)?,
            secret,
        })
    }

    /// Changes what `change` names.
    pub async fn update_webhook_endpoint(
        &self,
        actor: &Actor,
        id: Uuid,
        change: WebhookEndpointChange,
    ) -> Result<WebhookEndpoint, WebhookError> {
        if let Some(url) = &change.url {
            check_url(url)?;
        }
        if let Some(events) = &change.events {
            check_events(events)?;
        }
        if let Some(description) = &change.description {
            check_description(description)?;
        }
        let now = self.clock().now();
        let updated = self
            .transact(Retry::LostRaces, async |txn| {
                let mut model = find(txn, id).await?;
                if let Some(url) = &change.url {
                    model.url.clone_from(url);
                }
                if let Some(description) = &change.description {
                    model.description.clone_from(description);
                }
                if let Some(events) = &change.events {
                    model.events = to_json(events)?;
                }
                if let Some(include_account) = change.include_account {
                    model.include_account = include_account;
                }
                if let Some(enabled) = change.enabled {
                    model.enabled = enabled;
                }
                model.updated_at = now;
                model.updated_by = name_of(actor);
                save(txn, &model).await?;
                audit(txn, actor, AUDIT_UPDATED, &model, now).await?;
                Ok::<_, WebhookError>(model)
            })
            .await?;
        Ok(endpoint_of(&updated, now)?)
    }

    /// Adds a new secret, returned this once; the endpoint's other secrets keep signing
    /// for `overlap` (at most 30 days), so the platform can switch without losing a
    /// delivery. Secrets already past their end are dropped.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: Uuid,
        overlap: TimeDelta,
    ) -> Result<WithSecret, WebhookError> {
        if overlap < TimeDelta::zero() || overlap > TimeDelta::hours(MAX_ROTATION_OVERLAP_HOURS) {
            return Err(WebhookError::Invalid(format!(
                "the overlap must be between 0 and {MAX_ROTATION_OVERLAP_HOURS} hours"
            )));
        }
        let now = self.clock().now();
        let secret = new_secret();
        let updated = self
            .transact(Retry::LostRaces, async |txn| {
                let mut model = find(txn, id).await?;
                let until = now + overlap;
                let mut secrets: Vec<StoredSecret> = secrets_of(&model)?
                    .into_iter()
                    .filter(|old| old.active_at(now))
                    .map(|mut old| {
                        old.expires_at = Some(old.expires_at.map_or(until, |end| end.min(until)));
                        old
                    })
                    .filter(|old| old.active_at(now))
                    .collect();
                secrets.push(StoredSecret {
                    secret: secret.clone(),
                    created_at: now,
                    expires_at: None,
                });
                model.secrets = to_json(&secrets)?;
                model.updated_at = now;
                model.updated_by = name_of(actor);
                save(txn, &model).await?;
                audit(txn, actor, AUDIT_SECRET_ROTATED, &model, now).await?;
                Ok::<_, WebhookError>(model)
            })
            .await?;
        Ok(WithSecret {
            endpoint: endpoint_of(&updated, now)?,
            secret,
        })
    }

    /// Removes an endpoint. Deliveries still queued for it end in the dead letters.
    pub async fn delete_webhook_endpoint(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(), WebhookError> {
        let now = self.clock().now();
        self.transact(Retry::LostRaces, async |txn| {
            let model = find(txn, id).await?;
            Endpoints::delete_by_id(id)
                .exec(txn)
                .await
                .map_err(EngineError::from)?;
            audit(txn, actor, AUDIT_DELETED, &model, now).await?;
            Ok::<_, WebhookError>(())
        })
        .await
    }

    /// Where a delivery to `id` goes and the secrets that sign it now; none when the
    /// endpoint is gone.
    pub async fn webhook_target(&self, id: Uuid) -> Result<Option<WebhookTarget>, EngineError> {
        let now = self.clock().now();
        let Some(model) = Endpoints::find_by_id(id).one(self.db()).await? else {
            return Ok(None);
        };
        Ok(Some(WebhookTarget {
            secrets: secrets_of(&model)?
                .into_iter()
                .filter(|secret| secret.active_at(now))
                .map(|secret| secret.secret)
                .collect(),
            url: model.url,
            enabled: model.enabled,
        }))
    }
}

async fn save<C: ConnectionTrait>(
    conn: &C,
    model: &webhook_endpoint::Model,
) -> Result<(), EngineError> {
    let mut active: webhook_endpoint::ActiveModel = model.clone().into();
    active.url = Set(model.url.clone());
    active.description = Set(model.description.clone());
    active.events = Set(model.events.clone());
    active.include_account = Set(model.include_account);
    active.secrets = Set(model.secrets.clone());
    active.enabled = Set(model.enabled);
    active.updated_at = Set(model.updated_at);
    active.updated_by = Set(model.updated_by.clone());
    active.update(conn).await?;
    Ok(())
}
