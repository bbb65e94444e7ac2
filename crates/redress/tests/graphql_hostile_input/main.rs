//! The GraphQL API against hostile and odd input, over real HTTP and real websockets:
//! standard introspection within the limits, NUL characters in input, and the
//! graphql-transport-ws connection rules. One binary, so the service links once.

#[allow(dead_code)]
#[path = "../api/mod.rs"]
mod api;

mod introspection;
mod nul;
mod websocket;
