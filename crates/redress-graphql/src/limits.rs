//! Depth and complexity limits under which standard introspection fits.
//!
//! async-graphql's own `limit_depth` counts introspection fields like any other, and the
//! introspection query of graphql-js (what GraphiQL and code generators send) nests `ofType`
//! nine levels inside `__schema { types { fields { args { type ... } } } }`: depth 15, over
//! the default `max_depth` of 12. So a document whose operations select nothing but
//! `__schema`, `__type` and `__typename` is measured against its own limit,
//! `max_introspection_depth`; every other document, including one that mixes data and
//! introspection, against `max_depth`. Both answer to `max_complexity`. Depth and
//! complexity are async-graphql's own figures (fragments inlined), so the numbers in the
//! documentation stay true.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};

use crate::settings::GraphqlSettings;

/// The limits, installed on the schema as an extension.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_introspection_depth: usize,
    pub max_complexity: usize,
}

impl From<&GraphqlSettings> for QueryLimits {
    fn from(settings: &GraphqlSettings) -> Self {
        Self {
            max_depth: settings.max_depth,
            max_introspection_depth: settings.max_introspection_depth,
            max_complexity: settings.max_complexity,
        }
    }
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitCheck {
            limits: *self,
            introspection_only: AtomicBool::new(false),
        })
    }
}

/// One per request: what the parsed document is decides which depth limit applies.
struct LimitCheck {
    limits: QueryLimits,
    introspection_only: AtomicBool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for LimitCheck {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        self.introspection_only
            .store(is_introspection_only(&document), Ordering::Relaxed);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let measured = next.run(ctx).await?;
        let (max_depth, kind) = if self.introspection_only.load(Ordering::Relaxed) {
            (
                self.limits.max_introspection_depth,
                "an introspection query",
            )
        } else {
            (self.limits.max_depth, "a query")
        };
        if measured.complexity > self.limits.max_complexity {
            return Err(vec![ServerError::new(
                format!(
                    "Query is too complex: {} fields, at most {} are allowed.",
                    measured.complexity, self.limits.max_complexity
                ),
                None,
            )]);
        }
        if measured.depth > max_depth {
            return Err(vec![ServerError::new(
                format!(
                    "Query is nested too deep: {} levels, at most {max_depth} are allowed in {kind}.",
                    measured.depth
                ),
                None,
            )]);
        }
        Ok(measured)
    }
}

/// True when every operation is a query selecting only introspection fields at its root
/// (through fragments too). Such a document reaches no resolver of ours.
pub fn is_introspection_only(document: &ExecutableDocument) -> bool {
    let mut operations = document.operations.iter().peekable();
    operations.peek().is_some()
        && operations.all(|(_, operation)| {
            operation.node.ty == OperationType::Query
                && selects_only_introspection(
                    document,
                    &operation.node.selection_set.node,
                    &mut HashSet::new(),
                )
        })
}

fn selects_only_introspection<'a>(
    document: &'a ExecutableDocument,
    selection_set: &'a SelectionSet,
    spread: &mut HashSet<&'a str>,
) -> bool {
    selection_set
        .items
        .iter()
        .all(|selection| match &selection.node {
            Selection::Field(field) => matches!(
                field.node.name.node.as_str(),
                "__schema" | "__type" | "__typename"
            ),
            Selection::InlineFragment(fragment) => {
                selects_only_introspection(document, &fragment.node.selection_set.node, spread)
            }
            Selection::FragmentSpread(spread_node) => {
                let name = spread_node.node.fragment_name.node.as_str();
                // A fragment seen already is being checked further up; a cycle is refused
                // by validation anyway.
                if !spread.insert(name) {
                    return true;
                }
                document
                    .fragments
                    .get(&spread_node.node.fragment_name.node)
                    .is_some_and(|fragment| {
                        selects_only_introspection(
                            document,
                            &fragment.node.selection_set.node,
                            spread,
                        )
                    })
            }
        })
}
