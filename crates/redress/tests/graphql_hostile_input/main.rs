//! The GraphQL API against hostile and odd input, over real HTTP: standard introspection
//! within the limits. One binary, so the service links once.

#[allow(dead_code)]
#[path = "../api/mod.rs"]
mod api;

mod introspection;
