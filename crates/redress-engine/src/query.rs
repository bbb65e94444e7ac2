//! Read-side use cases for the API: accounts, enforcements, correspondence, and recording
//! the platform's enforcements in batches.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use crate::engine::{finish, Engine};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::entity::{account, message};
use crate::error::EngineError;
use crate::repo::appeals::{from_model, StoredAppeal};
use crate::repo::messages;
use crate::repo::registry::{self, NewEnforcement};

pub async fn enforcements_of<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<enforcement::Model>, EngineError> {
    Ok(Enforcements::find()
        .filter(enforcement::Column::AccountId.eq(account_id))
        .order_by_desc(enforcement::Column::EnforcedAt)
        .all(conn)
        .await?)
}

pub async fn appeals_of<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<StoredAppeal>, EngineError> {
    Appeals::find()
        .filter(appeal::Column::AccountId.eq(account_id))
        .order_by_desc(appeal::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

impl Engine {
    pub async fn account(&self, id: &str) -> Result<Option<account::Model>, EngineError> {
        registry::find_account(self.db(), id).await
    }

    pub async fn enforcement(&self, id: Uuid) -> Result<Option<enforcement::Model>, EngineError> {
        registry::find_enforcement(self.db(), id).await
    }

    /// An account's enforcements, newest first.
    pub async fn enforcements_of(
        &self,
        account_id: &str,
    ) -> Result<Vec<enforcement::Model>, EngineError> {
        enforcements_of(self.db(), account_id).await
    }

    /// An account's appeals, newest first.
    pub async fn appeals_of(&self, account_id: &str) -> Result<Vec<StoredAppeal>, EngineError> {
        appeals_of(self.db(), account_id).await
    }

    pub async fn messages(&self, appeal_id: Uuid) -> Result<Vec<message::Model>, EngineError> {
        messages::for_appeal(self.db(), appeal_id).await
    }

    /// Records a batch of enforcements in one transaction: all or none. Each id is returned
    /// in input order; an external id seen before returns the existing enforcement.
    pub async fn record_enforcements(
        &self,
        batch: Vec<NewEnforcement>,
    ) -> Result<Vec<Uuid>, EngineError> {
        let now = self.clock().now();
        let txn = self.db().begin().await?;
        let result = async {
            let mut ids = Vec::with_capacity(batch.len());
            for new in batch {
                ids.push(registry::record_enforcement(&txn, new, now).await?);
            }
            Ok(ids)
        }
        .await;
        finish(txn, result).await
    }
}
