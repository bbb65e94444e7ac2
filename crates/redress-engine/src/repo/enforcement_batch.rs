//! Many enforcements at once, for a platform pushing a wave: on PostgreSQL three statements
//! per batch however many rows (the accounts new to the registry, the enforcements not
//! recorded before, and the accounts those changed), each carrying the rows as one JSON
//! document (`json_rows`). Idempotent on the platform's enforcement id: a batch sent again
//! writes nothing it wrote before. An account row is rewritten only when an enforcement
//! recorded now changes what it says (its status, mail address or locale): in a wave most
//! enforcements find their account as the last one left it, and rewriting it anyway cost a
//! new row version, its WAL and often index entries per enforcement. SQLite records row by
//! row in the caller's transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::json_rows;
use super::registry::{self, AccountStatus, NewEnforcement};
use crate::error::EngineError;

/// What a batch wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Enforcements recorded now.
    pub stored: u64,
    /// Enforcements whose platform id was recorded before (a retried batch).
    pub already_recorded: u64,
}

fn status_of(new: &NewEnforcement) -> AccountStatus {
    if new.kind == "account_deactivation" {
        AccountStatus::Deactivated
    } else {
        AccountStatus::Active
    }
}

#[derive(serde::Serialize)]
struct AccountRow<'a> {
    account_id: &'a str,
    account_email: Option<String>,
    status: &'static str,
    account_locale: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct EnforcementRow<'a> {
    id: Uuid,
    external_id: &'a str,
    account_id: &'a str,
    kind: &'a str,
    policy: &'a str,
    source_kind: &'a str,
    source_id: &'a str,
    batch_id: Option<&'a str>,
    automated_detection: &'a str,
    automated_decision: &'a str,
    content_id: Option<&'a str>,
    content_relation: Option<&'a str>,
    facts: &'a str,
    statement: &'a serde_json::Value,
    enforced_at: DateTime<Utc>,
}

const ACCOUNT_COLUMNS: [(&str, &str); 4] = [
    ("account_id", "text"),
    ("account_email", "text"),
    ("status", "text"),
    ("account_locale", "text"),
];

/// The account as the last of `batch`'s rows for it says, one row per account.
fn accounts_of<'a>(batch: impl Iterator<Item = &'a NewEnforcement>) -> Vec<AccountRow<'a>> {
    let mut last: HashMap<&str, AccountRow<'a>> = HashMap::new();
    for new in batch {
        last.insert(
            &new.account_id,
            AccountRow {
                account_id: &new.account_id,
                account_email: new.account_email.as_deref().map(str::to_ascii_lowercase),
                status: status_of(new).as_str(),
                account_locale: new.account_locale.as_deref().map(str::trim),
            },
        );
    }
    last.into_values().collect()
}

/// Records `batch`, every item already checked (`registry::check_enforcement`) and
/// carrying its platform id.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    batch: &[NewEnforcement],
    now: DateTime<Utc>,
) -> Result<BatchOutcome, EngineError> {
    if batch.is_empty() {
        return Ok(BatchOutcome::default());
    }
    if conn.get_database_backend() != DbBackend::Postgres {
        return record_row_by_row(conn, batch, now).await;
    }
    let accounts = accounts_of(batch.iter());
    let sql = format!(
        "INSERT INTO accounts (id, email, status, locale, created_at, updated_at) \
         SELECT r.account_id, r.account_email, r.status, r.account_locale, $2, $2 FROM {} \
         ON CONFLICT (id) DO NOTHING",
        json_rows::recordset(1, &ACCOUNT_COLUMNS)
    );
    json_rows::execute(conn, &sql, &accounts, [now.into()]).await?;

    let rows: Vec<EnforcementRow<'_>> = batch
        .iter()
        .filter_map(|new| {
            Some(EnforcementRow {
                id: Uuid::now_v7(),
                external_id: new.external_id.as_deref()?,
                account_id: &new.account_id,
                kind: &new.kind,
                policy: &new.policy,
                source_kind: &new.source_kind,
                source_id: &new.source_id,
                batch_id: new.batch_id.as_deref(),
                automated_detection: &new.automated_detection,
                automated_decision: &new.automated_decision,
                content_id: new.content_id.as_deref(),
                content_relation: new.content_relation.as_deref(),
                facts: &new.facts,
                statement: &new.statement,
                enforced_at: new.enforced_at,
            })
        })
        .collect();
    let sql = format!(
        "INSERT INTO enforcements (id, external_id, account_id, kind, policy, source_kind, \
         source_id, batch_id, automated_detection, automated_decision, content_id, \
         content_relation, facts, statement, enforced_at, created_at) \
         SELECT r.id, r.external_id, r.account_id, r.kind, r.policy, r.source_kind, r.source_id, \
         r.batch_id, r.automated_detection, r.automated_decision, r.content_id, \
         r.content_relation, r.facts, r.statement, r.enforced_at, $2 FROM {} \
         ON CONFLICT (external_id) DO NOTHING RETURNING external_id",
        json_rows::recordset(
            1,
            &[
                ("id", "uuid"),
                ("external_id", "text"),
                ("account_id", "text"),
                ("kind", "text"),
                ("policy", "text"),
                ("source_kind", "text"),
                ("source_id", "text"),
                ("batch_id", "text"),
                ("automated_detection", "text"),
                ("automated_decision", "text"),
                ("content_id", "text"),
                ("content_relation", "text"),
                ("facts", "text"),
                ("statement", "jsonb"),
                ("enforced_at", "timestamptz"),
            ],
        )
    );
    let document =
        serde_json::to_string(&rows).map_err(|e| EngineError::InvalidInput(e.to_string()))?;
    let inserted = conn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            [Value::from(document), now.into()],
        ))
        .await?;
    let new_ids: HashSet<String> = inserted
        .iter()
        .filter_map(|row| row.try_get::<String>("", "external_id").ok())
        .collect();
    let stored = new_ids.len() as u64;

    // An account changes only with an enforcement recorded now: a batch sent again must not
    // undo a restoration made since. Nor is it rewritten when it already says the same.
    let changed = accounts_of(batch.iter().filter(|new| {
        new.external_id
            .as_ref()
            .is_some_and(|external_id| new_ids.contains(external_id))
    }));
    if !changed.is_empty() {
        let sql = format!(
            "UPDATE accounts SET status = r.status, \
             email = COALESCE(r.account_email, accounts.email), \
             locale = COALESCE(r.account_locale, accounts.locale), updated_at = $2 \
             FROM {} WHERE accounts.id = r.account_id \
             AND (accounts.status IS DISTINCT FROM r.status \
             OR accounts.email IS DISTINCT FROM COALESCE(r.account_email, accounts.email) \
             OR accounts.locale IS DISTINCT FROM COALESCE(r.account_locale, accounts.locale))",
            json_rows::recordset(1, &ACCOUNT_COLUMNS)
        );
        json_rows::execute(conn, &sql, &changed, [now.into()]).await?;
    }
    Ok(BatchOutcome {
        stored,
        already_recorded: batch.len() as u64 - stored,
    })
}

async fn record_row_by_row<C: ConnectionTrait>(
    conn: &C,
    batch: &[NewEnforcement],
    now: DateTime<Utc>,
) -> Result<BatchOutcome, EngineError> {
    let mut outcome = BatchOutcome::default();
    for new in batch {
        let known = match &new.external_id {
            Some(external_id) => registry::find_by_external_id(conn, external_id)
                .await?
                .is_some(),
            None => false,
        };
        registry::record_enforcement(conn, new.clone(), now).await?;
        if known {
            outcome.already_recorded += 1;
        } else {
            outcome.stored += 1;
        }
    }
    Ok(outcome)
}
