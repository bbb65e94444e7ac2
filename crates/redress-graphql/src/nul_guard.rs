//! Refuses U+0000 anywhere in a request's input before any resolver runs.
//!
//! PostgreSQL cannot store NUL in text, SQLite can: without this guard the same request
//! answered `INTERNAL` on one backend and stored the character on the other. No field of
//! the API has a use for it, so a request carrying one, in a variable (at any depth of an
//! input object or list) or in a string literal of the document, is refused with
//! `BAD_USER_INPUT`, naming where the character is.

use std::fmt::Write;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{Directive, ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Pos, Positioned, ServerError, ServerResult, Variables};
use async_graphql_value::{ConstValue, Name, Value};

use crate::error::codes;

/// The guard, installed on the schema as an extension.
#[derive(Debug, Clone, Copy, Default)]
pub struct NulGuard;

impl ExtensionFactory for NulGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NulGuard)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NulGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(path) = nul_in_variables(variables) {
            return Err(refusal(&format!("variable {path}"), None));
        }
        let document = next.run(ctx, query, variables).await?;
        if let Some(found) = nul_in_document(&document) {
            return Err(refusal(&found.path, Some(found.pos)));
        }
        Ok(document)
    }
}

fn refusal(place: &str, pos: Option<Pos>) -> ServerError {
    let mut error = ServerError::new(
        format!("{place} contains a NUL character (U+0000), which is not accepted"),
        pos,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", codes::BAD_USER_INPUT);
    extensions.set("argument", place);
    error.extensions = Some(extensions);
    error
}

/// `$name.field[2].other` of the first variable holding a NUL.
pub fn nul_in_variables(variables: &Variables) -> Option<String> {
    variables.iter().find_map(|(name, value)| {
        let mut path = format!("${}", segment(name));
        (name.contains('\0') || nul_in_const(value, &mut path)).then_some(path)
    })
}

fn nul_in_const(value: &ConstValue, path: &mut String) -> bool {
    match value {
        ConstValue::String(text) => text.contains('\0'),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .any(|(index, item)| within(path, &format!("[{index}]"), |p| nul_in_const(item, p))),
        ConstValue::Object(fields) => fields.iter().any(|(key, item)| {
            within(path, &format!(".{}", segment(key)), |p| {
                key.contains('\0') || nul_in_const(item, p)
            })
        }),
        _ => false,
    }
}

/// Runs `check` with `suffix` appended to `path`, keeping the suffix only when it finds
/// something, so `path` ends up naming the place.
fn within(path: &mut String, suffix: &str, check: impl FnOnce(&mut String) -> bool) -> bool {
    let length = path.len();
    path.push_str(suffix);
    let found = check(path);
    if !found {
        path.truncate(length);
    }
    found
}

/// A name as it can be read in a message, even if it holds the NUL itself.
fn segment(name: &str) -> String {
    name.chars().fold(String::new(), |mut out, c| {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        } else {
            out.push(c);
        }
        out
    })
}

/// Where in the document a string literal holds a NUL.
#[derive(Debug)]
pub struct FoundInDocument {
    /// e.g. `argument fileAppeal(input.body)` or `default of variable $text`.
    pub path: String,
    pub pos: Pos,
}

pub fn nul_in_document(document: &ExecutableDocument) -> Option<FoundInDocument> {
    document
        .operations
        .iter()
        .find_map(|(_, operation)| {
            operation
                .node
                .variable_definitions
                .iter()
                .find_map(|definition| {
                    let default = definition.node.default_value.as_ref()?;
                    let mut path = format!("default of variable ${}", definition.node.name.node);
                    nul_in_const(&default.node, &mut path).then_some(FoundInDocument {
                        path,
                        pos: default.pos,
                    })
                })
                .or_else(|| nul_in_directives(&operation.node.directives))
                .or_else(|| nul_in_selections(&operation.node.selection_set))
        })
        .or_else(|| {
            document.fragments.values().find_map(|fragment| {
                nul_in_directives(&fragment.node.directives)
                    .or_else(|| nul_in_selections(&fragment.node.selection_set))
            })
        })
}

fn nul_in_selections(selection_set: &Positioned<SelectionSet>) -> Option<FoundInDocument> {
    selection_set
        .node
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => nul_in_field(field),
            Selection::FragmentSpread(spread) => nul_in_directives(&spread.node.directives),
            Selection::InlineFragment(fragment) => nul_in_directives(&fragment.node.directives)
                .or_else(|| nul_in_selections(&fragment.node.selection_set)),
        })
}

fn nul_in_field(field: &Positioned<Field>) -> Option<FoundInDocument> {
    nul_in_arguments(&field.node.name.node, &field.node.arguments)
        .or_else(|| nul_in_directives(&field.node.directives))
        .or_else(|| nul_in_selections(&field.node.selection_set))
}

fn nul_in_directives(directives: &[Positioned<Directive>]) -> Option<FoundInDocument> {
    directives.iter().find_map(|directive| {
        nul_in_arguments(
            &format!("@{}", directive.node.name.node),
            &directive.node.arguments,
        )
    })
}

fn nul_in_arguments(
    owner: &str,
    arguments: &[(Positioned<Name>, Positioned<Value>)],
) -> Option<FoundInDocument> {
    arguments.iter().find_map(|(name, value)| {
        let mut inner = segment(&name.node);
        nul_in_literal(&value.node, &mut inner).then(|| FoundInDocument {
            path: format!("argument {owner}({inner})"),
            pos: value.pos,
        })
    })
}

fn nul_in_literal(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::List(items) => items
            .iter()
            .enumerate()
            .any(|(index, item)| within(path, &format!("[{index}]"), |p| nul_in_literal(item, p))),
        Value::Object(fields) => fields.iter().any(|(key, item)| {
            within(path, &format!(".{}", segment(key)), |p| {
                key.contains('\0') || nul_in_literal(item, p)
            })
        }),
        _ => false,
    }
}
