//! Many enforcements at once, for a platform pushing a wave: on PostgreSQL three statements
//! per batch of up to a thousand (the accounts new to the registry, the enforcements not
//! recorded before, and the accounts those changed). The accounts go as one JSON document
//! (`json_rows`); the enforcements, which carry the bulk of the bytes, as a multi-row
//! `INSERT ... VALUES` with bind parameters, which the database decodes faster. Idempotent
//! on the platform's enforcement id: a batch sent again writes nothing it wrote before. An
//! account row is rewritten only when an enforcement recorded now changes what it says (its
//! status, mail address or locale): in a wave most enforcements find their account as the
//! last one left it, and rewriting it anyway cost a new row version, its WAL and often
//! index entries per enforcement. SQLite records row by row in the caller's transaction.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

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

/// The enforcement columns, in the order of [`enforcement_values`].
const ENFORCEMENT_COLUMNS: [&str; 16] = [
    "id",
    "external_id",
    "account_id",
    "kind",
    "policy",
    "source_kind",
    "source_id",
    "batch_id",
    "automated_detection",
    "automated_decision",
    "content_id",
    "content_relation",
    "facts",
    "statement",
    "enforced_at",
    "created_at",
];

/// Rows of one `INSERT`: 16 parameters each, well under PostgreSQL's 65,535, and the
/// size of a stream's chunk, so a stream's statements share one prepared text.
const ROWS_PER_INSERT: usize = 1000;

/// One enforcement's parameters, in the order of [`ENFORCEMENT_COLUMNS`].
fn enforcement_values(
    new: &NewEnforcement,
    external_id: &str,
    now: DateTime<Utc>,
    params: &mut Vec<Value>,
) {
    params.extend([
        Uuid::now_v7().into(),
        external_id.into(),
        new.account_id.as_str().into(),
        new.kind.as_str().into(),
        new.policy.as_str().into(),
        new.source_kind.as_str().into(),
        new.source_id.as_str().into(),
        new.batch_id.clone().into(),
        new.automated_detection.as_str().into(),
        new.automated_decision.as_str().into(),
        new.content_id.clone().into(),
        new.content_relation.clone().into(),
        new.facts.as_str().into(),
        new.statement.clone().into(),
        new.enforced_at.into(),
        now.into(),
    ]);
}

/// A multi-row `INSERT ... VALUES` of `rows` with bind parameters, skipping the platform
/// ids recorded before and returning those it stored. Measured against one JSON document
/// per chunk (`json_to_recordset`), the database takes bound rows faster: it decodes each
/// parameter on its own instead of scanning a document and parsing the statement of
/// reasons a second time for its `jsonb` column (docs/performance.md).
fn insert_enforcements(rows: &[(&NewEnforcement, &str)], now: DateTime<Utc>) -> Statement {
    let width = ENFORCEMENT_COLUMNS.len();
    let mut params = Vec::with_capacity(rows.len() * width);
    let mut sql = format!(
        "INSERT INTO enforcements ({}) VALUES ",
        ENFORCEMENT_COLUMNS.join(", ")
    );
    for (row, (new, external_id)) in rows.iter().enumerate() {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            // Writing into a String cannot fail.
            let _ = write!(sql, "${}", row * width + column + 1);
        }
        sql.push(')');
        enforcement_values(new, external_id, now, &mut params);
    }
    sql.push_str(" ON CONFLICT (external_id) DO NOTHING RETURNING external_id");
    Statement::from_sql_and_values(DbBackend::Postgres, sql, params)
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

    let mut new_ids: HashSet<String> = HashSet::with_capacity(batch.len());
    let recordable: Vec<(&NewEnforcement, &str)> = batch
        .iter()
        .filter_map(|new| Some((new, new.external_id.as_deref()?)))
        .collect();
    for rows in recordable.chunks(ROWS_PER_INSERT) {
        let inserted = conn.query_all_raw(insert_enforcements(rows, now)).await?;
        new_ids.extend(
            inserted
                .iter()
                .filter_map(|row| row.try_get::<String>("", "external_id").ok()),
        );
    }
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
