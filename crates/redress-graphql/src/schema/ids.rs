//! Parsing ids that clients send.

use async_graphql::{ErrorExtensions, ID};
use uuid::Uuid;

use crate::error::ApiError;

pub fn parse_id(id: &ID) -> async_graphql::Result<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_input(format!("{:?} is not an appeal id", id.as_str())).extend())
}
