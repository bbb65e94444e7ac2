//! Reading appeals and accounts.

use async_graphql::{Context, Object, Result, ID};
use redress_core::AppealReference;
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::ids::parse_id;
use crate::schema::registry::AccountNode;

#[derive(Debug, Default)]
pub struct AppealQuery;

#[Object]
impl AppealQuery {
    /// One appeal with its timeline; null when it does not exist. `FORBIDDEN` while the
    /// caller holds its blind second review.
    async fn appeal(&self, ctx: &Context<'_>, id: ID) -> Result<Option<AppealNode>> {
        rbac::staff(ctx).or_api()?;
        let id = parse_id(&id)?;
        match ctx.data::<Engine>()?.appeal(id).await {
            Ok(stored) => Withheld::from_caller(ctx).await?.require(stored).map(Some),
            Err(redress_engine::EngineError::AppealNotFound(_)) => Ok(None),
            Err(err) => Err(err).or_api(),
        }
    }

    /// The appeal an appellant quotes, e.g. `RDR-7K3Q-9M2X`; null when none has it.
    /// `FORBIDDEN` while the caller holds its blind second review.
    async fn appeal_by_reference(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Option<AppealNode>> {
        rbac::staff(ctx).or_api()?;
        let reference: AppealReference = reference
            .parse()
            .map_err(|e: redress_core::ReferenceError| ApiError::bad_input(e.to_string()))
            .or_api()?;
        match ctx.data::<Engine>()?.appeal_by_reference(&reference).await {
            Ok(stored) => Withheld::from_caller(ctx).await?.require(stored).map(Some),
            Err(redress_engine::EngineError::ReferenceNotFound(_)) => Ok(None),
            Err(err) => Err(err).or_api(),
        }
    }

    /// An account with its enforcements and appeal history; null when unknown.
    async fn account(&self, ctx: &Context<'_>, id: String) -> Result<Option<AccountNode>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine.account(&id).await.or_api()?.map(AccountNode))
    }
}
