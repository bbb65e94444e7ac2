//! Test databases: a fresh SQLite file or a fresh PostgreSQL schema per test.
//!
//! PostgreSQL is found at `REDRESS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached, PostgreSQL tests
//! are skipped with a message on a developer machine and FAIL when `CI=true`, so CI can
//! never pass without having run them.

use std::path::PathBuf;
use std::time::Duration;

use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::db::{self, PoolSettings};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub use crate::storage::Backend;

/// A migrated, empty database that belongs to one test.
#[derive(Debug)]
pub struct TestDb {
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// The URL another process (or pool) can use to reach the same database.
    pub url: String,
    /// The PostgreSQL schema, for a second pool on the same data.
    pub schema: Option<String>,
    sqlite_path: Option<PathBuf>,
    admin: Option<DatabaseConnection>,
}

pub fn postgres_url() -> String {
    std::env::var("REDRESS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether this is a CI run (`CI=true` or `CI=1`), where a missing real part fails a test
/// instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let test = Self::sqlite_unmigrated().await;
        db::migrate(&test.db)
            .await
            .expect("migrate test SQLite file");
        test
    }

    /// A fresh SQLite file with no schema yet, for tests of migrating itself.
    pub async fn sqlite_unmigrated() -> Self {
        let path = std::env::temp_dir().join(format!("redress-test-{}.sqlite", Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = db::connect(&url, &PoolSettings::default())
            .await
            .expect("open test SQLite file");
        Self {
            db,
            backend: Backend::Sqlite,
            url,
            schema: None,
            sqlite_path: Some(path),
            admin: None,
        }
    }

    /// A fresh schema on the test PostgreSQL server, or `None` (skip) when the server is
    /// unreachable outside CI.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_with_pool(16).await
    }

    pub async fn postgres_with_pool(max_connections: u32) -> Option<Self> {
        let test = Self::postgres_unmigrated(max_connections).await?;
        db::migrate(&test.db).await.expect("migrate test schema");
        Some(test)
    }

    /// A fresh, empty PostgreSQL schema (no tables yet), for tests of migrating itself.
    pub async fn postgres_unmigrated(max_connections: u32) -> Option<Self> {
        let url = postgres_url();
        let admin_settings = PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
            schema: None,
        };
        let admin = match db::connect(&url, &admin_settings).await {
            Ok(admin) => admin,
            Err(err) => {
                assert!(
                    !in_ci(),
                    "PostgreSQL at {url} is unreachable and CI=true, so this test fails instead of skipping: {err}"
                );
                eprintln!("skipping PostgreSQL test: {url} unreachable ({err})");
                return None;
            }
        };
        let schema = format!("t_{}", Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        let db = db::connect(
            &url,
            &PoolSettings {
                max_connections,
                acquire_timeout: Duration::from_secs(30),
                schema: Some(schema.clone()),
            },
        )
        .await
        .expect("connect to test schema");
        Some(Self {
            db,
            backend: Backend::Postgres,
            url,
            schema: Some(schema),
            sqlite_path: None,
            admin: Some(admin),
        })
    }

    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh database of `backend` with no schema yet.
    pub async fn unmigrated(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite_unmigrated().await),
            Backend::Postgres => Self::postgres_unmigrated(16).await,
        }
    }

    /// Pool settings that reach this same database from a second pool.
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            schema: self.schema.clone(),
            ..PoolSettings::default()
        }
    }

    /// Undoes the applied migrations back to before `migration`, counting from what is
    /// applied now: a refused earlier run may already have undone the ones after it.
    pub async fn migrate_down_to_before(&self, migration: &str) -> Result<(), DbErr> {
        let applied = Migrator::get_applied_migrations(&self.db).await?;
        let at = applied
            .iter()
            .position(|m| m.name() == migration)
            .ok_or_else(|| DbErr::Migration(format!("{migration} is not applied")))?;
        let steps = u32::try_from(applied.len() - at)
            .map_err(|_| DbErr::Migration("too many migrations to undo".to_owned()))?;
        Migrator::down(&self.db, Some(steps)).await
    }

    /// Drops the schema or deletes the file. Tests call this at the end; a failed test
    /// leaves its database behind for inspection.
    pub async fn cleanup(self) {
        self.db.close().await.ok();
        if let (Some(admin), Some(schema)) = (&self.admin, &self.schema) {
            admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .ok();
        }
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                std::fs::remove_file(file).ok();
            }
        }
    }
}

/// Declares each test twice, once per backend: `mod sqlite { fn name() }` and
/// `mod postgres { fn name() }`.
///
/// ```text
/// redress_engine::backend_tests! {
///     async fn files_once(db) { ... }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($db:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $db = $crate::testing::TestDb::sqlite().await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($db) = $crate::testing::TestDb::postgres().await else { return; };
                    $body
                }
            )*
        }
    };
}

/// A complete statement of reasons for a fully automated account suspension that started
/// at `enforced_at`, as the platform sends it with an enforcement.
pub fn automated_suspension_statement(
    enforced_at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    serde_json::json!({
        "restrictions": [{"kind": "account_suspended", "starts_at": enforced_at}],
        "territorial_scope": {"scope": "worldwide"},
        "facts": "A saved pin matched the classifier.",
        "automated_detection": "fully",
        "automated_decision": "fully",
        "ground": {
            "ground": "incompatible_with_terms",
            "clause": "Community guidelines 4.2",
            "explanation": "Repeated commercial posting is spam."
        },
        "redress": ["internal_complaint", "out_of_court_dispute_settlement", "judicial_redress"]
    })
}

/// The statement of reasons of a reviewer who upholds the suspension of
/// [`automated_suspension_statement`]: the same restriction, now decided by a person.
pub fn reviewed_suspension_statement(
    enforced_at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let mut statement = automated_suspension_statement(enforced_at);
    statement["automated_decision"] = serde_json::json!("not");
    statement
}

/// A fully automated deactivation of `account` by `source_id` (a `source_kind` of `rule`
/// or `model`) under the spam policy, with its statement of reasons, as the platform
/// records it. Tests change the fields they care about with struct update syntax.
pub fn automated_deactivation(
    account: &str,
    source_kind: &str,
    source_id: &str,
    enforced_at: chrono::DateTime<chrono::Utc>,
) -> crate::repo::registry::NewEnforcement {
    crate::repo::registry::NewEnforcement {
        external_id: None,
        account_id: account.to_owned(),
        account_email: Some(format!("{account}@example.org")),
        account_locale: None,
        kind: "account_deactivation".to_owned(),
        policy: "spam".to_owned(),
        source_kind: source_kind.to_owned(),
        source_id: source_id.to_owned(),
        batch_id: None,
        automated_detection: "fully".to_owned(),
        automated_decision: "fully".to_owned(),
        content_id: None,
        content_relation: None,
        facts: "A saved pin matched the classifier.".to_owned(),
        statement: automated_suspension_statement(enforced_at),
        enforced_at,
    }
}

/// The statuses of a case's outbox items, in the order they were queued.
pub async fn outbox_statuses(db: &DatabaseConnection, appeal: Uuid) -> Vec<String> {
    crate::repo::outbox::for_appeal(db, appeal)
        .await
        .expect("outbox")
        .into_iter()
        .map(|row| row.status.to_string())
        .collect()
}

/// `n` deactivated accounts `acct-00000..` (with a mail address each), each with one
/// deactivation by the model `source` in batch `wave-1` under the nudity policy, written in
/// bulk: a wave for bulk-restore tests.
pub async fn seed_deactivated_wave(db: &DatabaseConnection, n: usize, source: &str) {
    use crate::entity::{account, enforcement};
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let now = chrono::Utc::now();
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(500) {
        account::Entity::insert_many(chunk.iter().map(|i| account::ActiveModel {
            id: Set(format!("acct-{i:05}")),
            email: Set(Some(format!("user{i}@example.org"))),
            status: Set(account::AccountStatus::Deactivated),
            locale: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec_without_returning(db)
        .await
        .expect("seed accounts");
        enforcement::Entity::insert_many(chunk.iter().map(|i| enforcement::ActiveModel {
            id: Set(Uuid::now_v7()),
            external_id: Set(Some(format!("wave-{i}"))),
            account_id: Set(format!("acct-{i:05}")),
            kind: Set("account_deactivation".into()),
            policy: Set("nudity".into()),
            source_kind: Set("model".into()),
            source_id: Set(source.into()),
            batch_id: Set(Some("wave-1".into())),
            automated_detection: Set("fully".into()),
            automated_decision: Set("fully".into()),
            content_id: Set(None),
            content_relation: Set(None),
            facts: Set("internal error".into()),
            statement: Set(serde_json::json!({})),
            enforced_at: Set(now),
            created_at: Set(now),
        }))
        .exec_without_returning(db)
        .await
        .expect("seed enforcements");
    }
}

/// Records `count` deactivations by one model (accounts `acct-{first}`...), files an API
/// appeal against each and triages it into `queue` with `priority_of(n)`, on `workers`
/// concurrent tasks, all through the engine. For queue tests and benchmarks that need many
/// claimable cases; `first` keeps the names of successive calls apart.
pub async fn seed_triaged_appeals(
    engine: &crate::Engine,
    first: usize,
    count: usize,
    queue: &str,
    workers: usize,
    priority_of: fn(usize) -> redress_core::Priority,
) {
    use redress_core::{Actor, Channel, Command, Role};

    let now = crate::Clock::now(engine.clock().as_ref());
    let enforcements = (first..first + count)
        .map(|n| crate::repo::registry::NewEnforcement {
            external_id: Some(format!("seed-{n}")),
            account_email: None,
            account_locale: None,
            facts: "flagged".to_owned(),
            ..automated_deactivation(&format!("acct-{n}"), "model", "classifier-v7", now)
        })
        .collect();
    let ids = std::sync::Arc::new(
        engine
            .record_enforcements(enforcements)
            .await
            .expect("record enforcements"),
    );
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|worker| {
            let (engine, ids, queue) = (engine.clone(), ids.clone(), queue.to_owned());
            tokio::spawn(async move {
                let system = Actor::system("seed");
                let triager = Actor::staff("tina", [Role::Triager]);
                for (offset, enforcement) in
                    ids.iter().enumerate().skip(worker).step_by(workers.max(1))
                {
                    let n = first + offset;
                    let filing = engine
                        .file(
                            &system,
                            crate::IncomingAppeal {
                                channel: Channel::Api,
                                channel_message_id: Some(format!("seed-{n}")),
                                sender: format!("user{n}@example.test"),
                                contact: None,
                                account_id: None,
                                enforcement_id: Some(*enforcement),
                                identity_verified: true,
                                subject: None,
                                body: "please".to_owned(),
                                in_reply_to: None,
                                metadata: serde_json::json!({}),
                            },
                        )
                        .await
                        .expect("file");
                    let id = filing.appeal_id().expect("a new appeal");
                    let triage = Command::Triage {
                        priority: priority_of(n),
                        queue: queue.clone(),
                        tags: Vec::new(),
                        identity_verified: true,
                        four_eyes: false,
                        link: None,
                    };
                    engine
                        .apply(id, Some(1), &triage, &triager)
                        .await
                        .expect("triage");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("seeding task");
    }
}

/// Has `triager` triage appeal `id` into `general` at normal priority, and `reviewer`
/// claim it until `lease_until`.
pub async fn triage_and_claim(
    engine: &crate::Engine,
    id: Uuid,
    triager: &redress_core::Actor,
    reviewer: &redress_core::Actor,
    lease_until: chrono::DateTime<chrono::Utc>,
) {
    use redress_core::{Command, Priority};

    let triage = Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: vec![],
        identity_verified: true,
        four_eyes: false,
        link: None,
    };
    engine
        .apply(id, None, &triage, triager)
        .await
        .expect("triage");
    engine
        .apply(id, None, &Command::Claim { lease_until }, reviewer)
        .await
        .expect("claim");
}

/// Has `reviewer` triage appeal `id` into `general`, claim it until `lease_until` and
/// decide it: restored, with the restoration confirmed, or upheld with `upheld` as the
/// statement of reasons.
pub async fn triage_claim_and_decide(
    engine: &crate::Engine,
    id: Uuid,
    reviewer: &redress_core::Actor,
    lease_until: chrono::DateTime<chrono::Utc>,
    restore: bool,
    upheld: redress_core::StatementOfReasons,
) {
    use redress_core::{Actor, Command, Outcome};

    triage_and_claim(engine, id, reviewer, reviewer, lease_until).await;
    let decide = if restore {
        Command::Decide {
            outcome: Outcome::Restore,
            reasons: "The pin was only saved.".into(),
            statement: None,
            manifestly_unfounded: false,
            template: None,
        }
    } else {
        Command::Decide {
            outcome: Outcome::Uphold,
            reasons: "The account created the pin.".into(),
            statement: Some(upheld),
            manifestly_unfounded: false,
            template: None,
        }
    };
    engine
        .apply(id, None, &decide, reviewer)
        .await
        .expect("decide");
    if restore {
        engine
            .apply(
                id,
                None,
                &Command::RestorationConfirmed {
                    restoration_id: Uuid::now_v7(),
                },
                &Actor::system("restorer"),
            )
            .await
            .expect("confirm");
    }
}
