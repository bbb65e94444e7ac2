//! Enforcements recorded now, each with one statement of reasons that waits for the
//! Transparency Database under a PUID the test chooses.

use redress_engine::registry::NewEnforcement;
use redress_engine::testing::{automated_deactivation, automated_suspension_statement};
use redress_engine::Engine;
use uuid::Uuid;

/// Records a deactivation of `account` whose statement the database takes as it is;
/// returns the enforcement's id.
pub async fn record(engine: &Engine, puid: &str, account: &str) -> Uuid {
    let now = engine.clock().now();
    record_one(
        engine,
        NewEnforcement {
            external_id: Some(puid.to_owned()),
            ..automated_deactivation(account, "model", "spam-v3", now)
        },
    )
    .await
}

/// Records a deactivation of `account` whose facts are longer than the database takes, so
/// that Redress refuses the statement itself instead of sending it; returns its id.
pub async fn record_with_overlong_facts(engine: &Engine, puid: &str, account: &str) -> Uuid {
    let now = engine.clock().now();
    let mut statement = automated_suspension_statement(now);
    statement["facts"] = serde_json::json!("f".repeat(5001));
    record_one(
        engine,
        NewEnforcement {
            external_id: Some(puid.to_owned()),
            statement,
            ..automated_deactivation(account, "model", "spam-v3", now)
        },
    )
    .await
}

async fn record_one(engine: &Engine, enforcement: NewEnforcement) -> Uuid {
    let ids = engine
        .record_enforcements(vec![enforcement])
        .await
        .expect("recorded");
    ids[0]
}
