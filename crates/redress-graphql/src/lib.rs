//! The reviewer and platform API over GraphQL.
//!
//! [`Api::new`] builds the schema and the token verifier from [`GraphqlSettings`];
//! [`Api::routes`] mounts `/graphql` (GraphiQL on GET, queries and mutations on POST) and
//! `/graphql/ws` (subscriptions, graphql-transport-ws).
//!
//! # Adding fields from another area
//!
//! The root types are merged from one struct per area (`#[derive(MergedObject)]` and
//! `#[derive(MergedSubscription)]` in [`schema`]). To add fields, write a module under
//! `src/schema/` with a `#[derive(Default)]` struct and an `#[Object]` (or
//! `#[Subscription]`) impl, e.g. `DeadLetterQuery`, then add that struct to the tuple of
//! `QueryRoot`, `MutationRoot` or `SubscriptionRoot`. Resolvers get the caller with
//! [`rbac::staff`] or, for mutations, [`rbac::authorize`] (add the mutation's row to
//! [`rbac::MUTATION_ROLES`] and to the matrix in `docs/api.md`), the engine with
//! `ctx.data::<Engine>()`, and return errors through [`error::OrApiError::or_api`] so each
//! carries its `extensions.code`. Then run `redress export-schema` to update
//! `schema.graphql`; a test fails until it is.
//!
//! # Authentication
//!
//! [`auth::Verifier`] turns an `Authorization: Bearer` header into an
//! [`redress_core::Actor`] (keys configured, or fetched from the provider's `jwks_uri` by
//! [`jwks`]); other HTTP routes use it through [`Api::verifier`]. The console signed in
//! through the identity provider sends a session cookie instead ([`session`]).

pub mod auth;
pub mod error;
pub mod http;
pub mod jwks;
pub mod limits;
pub mod nul_guard;
pub mod rbac;
pub mod schema;
pub mod session;
pub mod settings;
mod websocket;

pub use auth::{AuthSettings, Verifier};
pub use error::ApiError;
pub use http::Api;
pub use schema::decisions::{NoticePreviewer, PreviewedNotice};
pub use schema::{sdl, ApiSchema};
pub use settings::GraphqlSettings;
