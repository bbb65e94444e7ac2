//! The caller, as the token describes them.

use async_graphql::{Context, Object, Result, SimpleObject};
use redress_core::Actor;

use crate::error::OrApiError;
use crate::rbac;
use crate::schema::enums::RoleGql;

#[derive(SimpleObject, Debug)]
pub struct Me {
    pub subject: String,
    pub roles: Vec<RoleGql>,
    /// Whether appellants' personal data is shown to this caller.
    pub sees_personal_data: bool,
}

#[derive(Debug, Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let actor = rbac::staff(ctx).or_api()?;
        let sees_personal_data = rbac::sees_pii(ctx);
        let Actor::Staff { subject, roles } = actor else {
            return Err(crate::error::ApiError::Unauthenticated).or_api();
        };
        Ok(Me {
            subject,
            roles: roles.into_iter().map(Into::into).collect(),
            sees_personal_data,
        })
    }
}
