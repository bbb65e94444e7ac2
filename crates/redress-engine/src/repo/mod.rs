//! Repository functions. Each takes the connection (`C: ConnectionTrait`), so the caller
//! decides the transaction they run in.

pub mod appeals;
pub mod audit;
pub mod enforcement_batch;
pub mod events;
pub mod handles;
pub(crate) mod json_rows;
pub mod mail_signing_keys;
pub mod messages;
pub mod outbox;
pub mod outbox_delivery;
pub mod registry;
pub mod stats;
pub(crate) mod write_batch;

use sea_orm::DbBackend;

/// `?` placeholders as the backend numbers them (`$1`, `$2`, ... on PostgreSQL).
pub(crate) fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 0;
    for c in sql.chars() {
        if c == '?' {
            next += 1;
            out.push('$');
            out.push_str(&next.to_string());
        } else {
            out.push(c);
        }
    }
    out
}
