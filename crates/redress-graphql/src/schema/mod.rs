//! The schema: root types merged from one struct per area.
//!
//! To add fields, write `XQuery` / `XMutation` / `XSubscription` in your own module and
//! add it to the tuple of the matching root below; nothing else changes.

mod appeal;
mod appeal_mutation;
mod appeal_query;
mod appeal_subscription;
mod bulk_decision;
mod bulk_restore;
mod catalog;
mod dead_letters;
pub mod decisions;
mod enums;
mod ids;
mod intake_mutation;
mod me;
mod privacy;
mod queue;
mod queue_settings;
mod registry;
mod routing;
mod search;
mod second_review;
mod timeline;
mod transparency;
mod webhooks;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};
use redress_engine::Engine;

use crate::limits::QueryLimits;
use crate::nul_guard::NulGuard;
use crate::settings::GraphqlSettings;

pub use appeal::{AppealNode, DecisionNode, Withheld};
pub use enums::{AppealStateGql, ChannelGql, OutcomeGql, PriorityGql, RoleGql};
pub use ids::parse_id;
pub use registry::{AccountNode, EnforcementNode};
pub use timeline::{EventNode, MessageNode};

#[derive(MergedObject, Default, Debug)]
pub struct QueryRoot(
    appeal_query::AppealQuery,
    queue::QueueQuery,
    queue_settings::QueueSettingsQuery,
    me::MeQuery,
    dead_letters::DeadLetterQuery,
    bulk_restore::BulkRestoreQuery,
    bulk_decision::BulkDecisionQuery,
    transparency::TransparencyQuery,
    routing::RoutingQuery,
    search::SearchQueryRoot,
    decisions::DecisionQuery,
    second_review::SecondReviewQuery,
    catalog::CatalogQuery,
    privacy::PrivacyQuery,
    webhooks::WebhookQuery,
);

#[derive(MergedObject, Default, Debug)]
pub struct MutationRoot(
    appeal_mutation::AppealMutation,
    queue::QueueMutation,
    intake_mutation::IntakeMutation,
    dead_letters::DeadLetterMutation,
    bulk_restore::BulkRestoreMutation,
    bulk_decision::BulkDecisionMutation,
    transparency::TransparencyMutation,
    routing::RoutingMutation,
    second_review::SecondReviewMutation,
    catalog::CatalogMutation,
    privacy::PrivacyMutation,
    webhooks::WebhookMutation,
);

#[derive(MergedSubscription, Default, Debug)]
pub struct SubscriptionRoot(
    appeal_subscription::AppealSubscription,
    bulk_restore::BulkRestoreSubscription,
    bulk_decision::BulkDecisionSubscription,
);

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}

/// The executable schema with its limits; `engine` and `settings` are available to every
/// resolver as context data. Depth and complexity are limited by [`QueryLimits`] rather
/// than async-graphql's own limits, which would refuse the standard introspection query.
pub fn build(
    engine: Engine,
    settings: &GraphqlSettings,
    previewer: Option<decisions::Previewer>,
) -> ApiSchema {
    let mut builder = builder()
        .data(engine)
        .data(settings.clone())
        .extension(NulGuard)
        .extension(QueryLimits::from(settings));
    if let Some(previewer) = previewer {
        builder = builder.data(previewer);
    }
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
