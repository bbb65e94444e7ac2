//! Erasure for a person (GDPR Art. 17): every kind of personal data of their own appeals
//! goes (as the retention purge would remove it, and notices not yet sent to them are
//! cancelled), their messages in other people's appeals go, their linked handles and
//! handle confirmations are deleted, their account keeps its row under a pseudonym, and
//! any text or JSON string value of any table but the system's own that still names them
//! (an address in a note, an account id in a bulk job's outcome) has the identifier
//! replaced. Only identifiers found in the person's own rows are looked for, as whole
//! words (see `words`). Events, decisions, statements and enforcements stay, so the
//! lifecycle and the transparency figures hold.
//!
//! The last step reads the database's own catalog (`information_schema` on PostgreSQL,
//! `sqlite_master` on SQLite) for the columns to look in, so a table added later is
//! covered without a change here. It scans each such column once per erasure: an erasure
//! is rare and an administrator's act, worth a scan.

use std::collections::BTreeMap;

use redress_core::Actor;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement, Value as DbValue,
};
use serde_json::json;
use uuid::Uuid;

use super::scrub::{scrub, scrub_messages_from, OutboxRows};
use super::subject::holdings;
use super::words::{replace_whole, MIN_IDENTIFIER};
use super::{actions, DataKind, PrivacyError, Subject, MARKER};
use crate::engine::Engine;
use crate::entity::account::{self, Entity as Accounts};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::handle_confirmation::{self, Entity as Confirmations};
use crate::entity::linked_handle::{self, Entity as LinkedHandles};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::{Begin, Retry};

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The request's id, in both of its audit entries.
    pub request: Uuid,
    pub appeals: usize,
    /// Rows rewritten or deleted.
    pub rows: u64,
    /// What the subject's account ids became.
    pub pseudonyms: Vec<String>,
    /// Copies outside the database removed (mail files naming the person).
    pub outside_copies: u64,
    /// References of other people's appeals, open or under legal hold, whose own text
    /// still names the person: the rewrite leaves a case under review or held as it is
    /// (they go with that appeal's retention once it is closed and released).
    pub kept_in: Vec<String>,
}

impl Engine {
    /// Erases `subject`; refused, with nothing changed, when nothing is held about them,
    /// while any of their appeals is still open, or while any appeal holding their data is
    /// under legal hold. The request, a refusal and the completion are audited without the
    /// person's identifiers. Copies outside the database go once the database's erasure is
    /// committed, and their outcome is audited on its own.
    pub async fn erase_personal_data(
        &self,
        actor: &Actor,
        subject: Subject,
    ) -> Result<Erasure, PrivacyError> {
        let subject = subject.checked()?;
        let request = Uuid::now_v7();
        let now = self.clock().now();
        let erased = self
            .transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
                erase(txn, actor, &subject, request, now).await
            })
            .await;
        let (mut erasure, identifiers) = match erased {
            Ok(erased) => erased,
            Err(refused) => {
                if let Some((reason, references)) = refusal_reason(&refused) {
                    self.audit_erasure(
                        actor,
                        now,
                        None,
                        json!({
                            "request": request,
                            "subject_kind": subject.kind(),
                            "reason": reason,
                            "appeals": references,
                        }),
                        actions::ERASURE_REFUSED,
                    )
                    .await?;
                }
                return Err(refused);
            }
        };
        let Some(copies) = self.outside_copies().get() else {
            return Ok(erasure);
        };
        if identifiers.is_empty() {
            return Ok(erasure);
        }
        let removed = super::remove_outside(copies, move |copies| copies.erase(&identifiers)).await;
        let details = match &removed {
            Ok(count) => json!({ "request": request, "removed": count }),
            Err(error) => json!({ "request": request, "failed": error }),
        };
        self.audit_erasure(
            actor,
            now,
            erasure.pseudonyms.first().cloned(),
            details,
            actions::ERASURE_OUTSIDE_COPIES,
        )
        .await?;
        erasure.outside_copies = removed.map_err(PrivacyError::OutsideCopies)?;
        Ok(erasure)
    }

    async fn audit_erasure(
        &self,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
        account_id: Option<String>,
        details: serde_json::Value,
        action: &'static str,
    ) -> Result<(), PrivacyError> {
        self.transact(Retry::LostRaces, async |txn| {
            audit::record(
                txn,
                NewAuditEntry {
                    actor: actor.clone(),
                    action,
                    account_id: account_id.clone(),
                    appeal_id: None,
                    details: details.clone(),
                },
                now,
            )
            .await
        })
        .await?;
        Ok(())
    }
}

/// Why an erasure was refused and the appeals that refused it, as the audit log keeps it.
fn refusal_reason(error: &PrivacyError) -> Option<(&'static str, Vec<String>)> {
    match error {
        PrivacyError::LegalHold { references } => Some(("legal_hold", references.clone())),
        PrivacyError::OpenAppeals { references } => Some(("open_appeals", references.clone())),
        PrivacyError::NothingHeld { .. } => Some(("nothing_held", Vec::new())),
        _ => None,
    }
}

/// Erases the database's part; returns what it did and the identifiers whose copies
/// outside the database go after the commit.
async fn erase(
    txn: &DatabaseTransaction,
    actor: &Actor,
    subject: &Subject,
    request: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Erasure, Vec<String>), PrivacyError> {
    let held = holdings(txn, subject).await?;
    if held.is_empty() {
        return Err(PrivacyError::NothingHeld {
            subject_kind: subject.kind(),
        });
    }
    let mut on_hold = Vec::new();
    let mut open = Vec::new();
    let everything: Vec<Uuid> = held
        .appeals
        .iter()
        .chain(held.written_into.iter())
        .copied()
        .collect();
    for chunk in everything.chunks(super::scrub::CHUNK) {
        let mut select = Appeals::find()
            .select_only()
            .column(appeal::Column::Id)
            .column(appeal::Column::Reference)
            .column(appeal::Column::State)
            .column(appeal::Column::LegalHold)
            .filter(appeal::Column::Id.is_in(chunk.iter().copied()));
        if txn.get_database_backend() == DbBackend::Postgres {
            // A hold set or a reopening committed between this check and the rewrite
            // would otherwise be erased over; SQLite's write lock, taken first, already
            // keeps every other writer out.
            select = select.lock(sea_orm::sea_query::LockType::Update);
        }
        let rows: Vec<(Uuid, String, String, bool)> = select.into_tuple().all(txn).await?;
        for (id, reference, state, legal_hold) in rows {
            if legal_hold {
                on_hold.push(reference);
            } else if held.appeals.contains(&id)
                && state
                    .parse::<redress_core::AppealState>()
                    .is_ok_and(redress_core::AppealState::is_open)
            {
                // Someone else's open appeal they wrote into is theirs to pursue: only
                // the person's own messages in it go.
                open.push(reference);
            }
        }
    }
    if !on_hold.is_empty() {
        return Err(PrivacyError::LegalHold {
            references: on_hold,
        });
    }
    if !open.is_empty() {
        return Err(PrivacyError::OpenAppeals { references: open });
    }
    audit::record(
        txn,
        NewAuditEntry {
            actor: actor.clone(),
            action: actions::ERASURE_REQUESTED,
            account_id: None,
            appeal_id: None,
            details: json!({ "request": request, "subject_kind": subject.kind() }),
        },
        now,
    )
    .await?;

    let mut rows = scrub(
        txn,
        &held.appeals,
        &DataKind::ALL,
        OutboxRows::SettledAndAppellantNotices,
    )
    .await?;
    rows += scrub_messages_from(txn, &held.written_into, &held.identifiers).await?;
    let mut handles: Vec<String> = held.identifiers.iter().cloned().collect();
    handles.extend(held.accounts.iter().cloned());
    rows += LinkedHandles::delete_many()
        .filter(
            linked_handle::Column::SocialId
                .is_in(handles.clone())
                .or(linked_handle::Column::AccountId.is_in(held.accounts.iter().cloned())),
        )
        .exec(txn)
        .await?
        .rows_affected;
    rows += Confirmations::delete_many()
        .filter(
            handle_confirmation::Column::SocialId
                .is_in(handles)
                .or(handle_confirmation::Column::AccountId.is_in(held.accounts.iter().cloned())),
        )
        .exec(txn)
        .await?
        .rows_affected;
    rows += Accounts::update_many()
        .col_expr(account::Column::Email, Expr::value(Option::<String>::None))
        .col_expr(account::Column::Locale, Expr::value(Option::<String>::None))
        .filter(account::Column::Id.is_in(held.accounts.iter().cloned()))
        .exec(txn)
        .await?
        .rows_affected;

    // Account ids become pseudonyms, so what belonged to one account still groups
    // together; everything else that identifies the person becomes the marker.
    let mut replacements: BTreeMap<String, String> = BTreeMap::new();
    let mut pseudonyms = Vec::new();
    for (n, account) in held.accounts.iter().enumerate() {
        let pseudonym = format!("erased-{}-{}", request.simple(), n + 1);
        rows += rename_account(txn, account, &pseudonym).await?;
        replacements.insert(account.clone(), pseudonym.clone());
        pseudonyms.push(pseudonym);
    }
    for identifier in &held.identifiers {
        replacements
            .entry(identifier.clone())
            .or_insert_with(|| MARKER.to_owned());
    }
    let rewrite = replace_everywhere(txn, &replacements).await?;
    rows += rewrite.rows;
    if txn.get_database_backend() == DbBackend::Sqlite {
        // Deleted words stay in FTS5's segments until they are merged; merge them now.
        for table in ["message_search", "note_search"] {
            txn.execute_unprepared(&format!("INSERT INTO {table}({table}) VALUES ('optimize')"))
                .await?;
        }
    }

    audit::record(
        txn,
        NewAuditEntry {
            actor: actor.clone(),
            action: actions::ERASURE_COMPLETED,
            account_id: pseudonyms.first().cloned(),
            appeal_id: None,
            details: json!({
                "request": request,
                "subject_kind": subject.kind(),
                "appeals": held.appeals.len(),
                "rows": rows,
                "kept_in": rewrite.kept_in,
            }),
        },
        now,
    )
    .await?;
    Ok((
        Erasure {
            request,
            appeals: held.appeals.len(),
            rows,
            pseudonyms,
            outside_copies: 0,
            kept_in: rewrite.kept_in.into_iter().collect(),
        },
        held.identifiers.iter().cloned().collect(),
    ))
}

/// Gives the account row a pseudonym as its id, and its enforcements and appeals with it
/// (their foreign keys name it), before the sweep reaches the other mentions.
async fn rename_account<C: ConnectionTrait>(
    conn: &C,
    account: &str,
    pseudonym: &str,
) -> Result<u64, EngineError> {
    use crate::entity::enforcement::{self, Entity as Enforcements};
    use sea_orm::ActiveValue::Set;
    let Some(row) = Accounts::find_by_id(account.to_owned()).one(conn).await? else {
        return Ok(0);
    };
    Accounts::insert(account::ActiveModel {
        id: Set(pseudonym.to_owned()),
        email: Set(None),
        status: Set(row.status),
        locale: Set(None),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
    })
    .exec_without_returning(conn)
    .await?;
    let enforcements = Enforcements::update_many()
        .col_expr(enforcement::Column::AccountId, Expr::value(pseudonym))
        .filter(enforcement::Column::AccountId.eq(account))
        .exec(conn)
        .await?
        .rows_affected;
    let appeals = Appeals::update_many()
        .col_expr(appeal::Column::AccountId, Expr::value(pseudonym))
        .filter(appeal::Column::AccountId.eq(account))
        .exec(conn)
        .await?
        .rows_affected;
    Accounts::delete_by_id(account.to_owned())
        .exec(conn)
        .await?;
    Ok(1 + enforcements + appeals)
}

/// A column that may hold text, as the catalog names it.
#[derive(Debug, Clone)]
pub(crate) struct TextColumn {
    pub table: String,
    pub column: String,
    /// A JSON column (PostgreSQL's `json` or `jsonb`, compared and written through its
    /// text; SQLite's declared JSON text); `None` for text.
    pub json: Option<&'static str>,
}

/// How the rows of a table belong to an appeal, if they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppealLink {
    /// The `appeals` table itself.
    Itself,
    /// An `appeal_id` column.
    Column,
    None,
}

/// Closed (`upheld`, `restored`, `withdrawn`) and not under legal hold, as SQL over the
/// appeal `a`.
const REWRITABLE_APPEAL: &str =
    "a.legal_hold = false AND a.state IN ('upheld', 'restored', 'withdrawn')";

impl AppealLink {
    /// SQL true for a row of `table` that belongs to no appeal, or to one the rewrite may
    /// touch.
    fn rewritable(self, table: &str) -> String {
        match self {
            AppealLink::Itself => format!(
                "EXISTS (SELECT 1 FROM appeals a WHERE a.id = {table}.id AND {REWRITABLE_APPEAL})"
            ),
            AppealLink::Column => format!(
                "({table}.appeal_id IS NULL OR EXISTS (SELECT 1 FROM appeals a \
                 WHERE a.id = {table}.appeal_id AND {REWRITABLE_APPEAL}))"
            ),
            AppealLink::None => "1 = 1".to_owned(),
        }
    }

    /// SQL for the reference of the appeal a row of `table` belongs to when the rewrite
    /// must leave it alone; null otherwise.
    fn kept_reference(self, table: &str) -> String {
        let of = match self {
            AppealLink::Itself => format!("{table}.id"),
            AppealLink::Column => format!("{table}.appeal_id"),
            AppealLink::None => return "CAST(NULL AS TEXT)".to_owned(),
        };
        format!(
            "(SELECT a.reference FROM appeals a WHERE a.id = {of} AND NOT ({REWRITABLE_APPEAL}))"
        )
    }
}

/// The tables with an `appeal_id` column, from the catalog.
async fn tables_with_appeal_id<C: ConnectionTrait>(
    conn: &C,
) -> Result<std::collections::BTreeSet<String>, EngineError> {
    let backend = conn.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'appeal_id'"
    } else {
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name = 'appeal_id'"
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.into_iter()
        .map(|row| row.try_get_by_index::<String>(0).map_err(EngineError::from))
        .collect()
}

/// Every text and JSON column of every table of the schema, from the catalog. SQLite's
/// full-text tables and their shadow tables are left out: their triggers follow the rows.
pub(crate) async fn text_columns<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<TextColumn>, EngineError> {
    let backend = conn.get_database_backend();
    let mut columns = Vec::new();
    if backend == DbBackend::Postgres {
        let rows = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text, column_name::text, data_type::text \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() \
                   AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') \
                   AND table_name IN (SELECT table_name FROM information_schema.tables \
                                      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') \
                 ORDER BY table_name, column_name",
            ))
            .await?;
        for row in rows {
            let data_type: String = row.try_get_by_index(2)?;
            columns.push(TextColumn {
                table: row.try_get_by_index(0)?,
                column: row.try_get_by_index(1)?,
                json: match data_type.as_str() {
                    "jsonb" => Some("jsonb"),
                    "json" => Some("json"),
                    _ => None,
                },
            });
        }
    } else {
        let tables = conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            ))
            .await?;
        let mut names = Vec::new();
        let mut virtual_tables = Vec::new();
        for row in tables {
            let name: String = row.try_get_by_index(0)?;
            let sql: String = row.try_get_by_index(1)?;
            if sql.to_uppercase().starts_with("CREATE VIRTUAL TABLE") {
                virtual_tables.push(name);
            } else {
                names.push(name);
            }
        }
        names.retain(|name| {
            !virtual_tables
                .iter()
                .any(|v| name.starts_with(&format!("{v}_")))
        });
        for table in names {
            let info = conn
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT name, upper(type) FROM pragma_table_info(?)",
                    [table.clone().into()],
                ))
                .await?;
            for row in info {
                let column: String = row.try_get_by_index(0)?;
                let declared: String = row.try_get_by_index(1)?;
                if declared.is_empty()
                    || ["TEXT", "CHAR", "CLOB", "JSON"]
                        .iter()
                        .any(|t| declared.contains(t))
                {
                    columns.push(TextColumn {
                        table: table.clone(),
                        column,
                        json: declared.contains("JSON").then_some("json"),
                    });
                }
            }
        }
    }
    Ok(columns)
}

/// Tables the rewrite never touches, and why: what they hold is the system's own (its
/// migrations, keys, staff sign-ins and sessions, the policy catalog and templates, the
/// routing rules, webhook endpoints), written by staff about the service rather than about
/// a person. A word of a person's address in them would be a coincidence, and rewriting it
/// would break the service.
const SYSTEM_TABLES: &[&str] = &[
    "seaql_migrations",
    "mail_signing_keys",
    "staff_sessions",
    "staff_sign_ins",
    "catalog_entries",
    "catalog_entry_versions",
    "routing_rules",
    "routing_rule_versions",
    "webhook_endpoints",
];

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// What the rewrite changed, and where it left the person named.
#[derive(Debug, Default)]
struct Rewrite {
    rows: u64,
    kept_in: std::collections::BTreeSet<String>,
}

/// Replaces each key of `replacements` (without regard to ASCII case) in every text and
/// JSON value of the schema, but for the rows of appeals still open or under legal hold
/// (the person's own are neither, or the erasure was refused; other people's are theirs,
/// under review or kept for a court, and are listed instead).
async fn replace_everywhere<C: ConnectionTrait>(
    conn: &C,
    replacements: &BTreeMap<String, String>,
) -> Result<Rewrite, EngineError> {
    let mut rewrite = Rewrite::default();
    if replacements.is_empty() {
        return Ok(rewrite);
    }
    let backend = conn.get_database_backend();
    let needles: Vec<String> = replacements
        .keys()
        .filter(|k| k.chars().count() >= MIN_IDENTIFIER)
        .map(|k| k.to_ascii_lowercase())
        .collect();
    if needles.is_empty() {
        return Ok(rewrite);
    }
    let linked = tables_with_appeal_id(conn).await?;
    for column in text_columns(conn).await? {
        if SYSTEM_TABLES.contains(&column.table.as_str()) {
            continue;
        }
        let link = if column.table == "appeals" {
            AppealLink::Itself
        } else if linked.contains(&column.table) {
            AppealLink::Column
        } else {
            AppealLink::None
        };
        let table = quoted(&column.table);
        let rewritable = link.rewritable(&table);
        let name = quoted(&column.column);
        let (value, test) = if backend == DbBackend::Postgres {
            (format!("{name}::text"), "strpos(lower({v}), {p}) > 0")
        } else {
            (
                format!("CAST({name} AS TEXT)"),
                "instr(lower({v}), {p}) > 0",
            )
        };
        let mut tests = Vec::new();
        let mut values: Vec<DbValue> = Vec::new();
        for (n, needle) in needles.iter().enumerate() {
            let placeholder = if backend == DbBackend::Postgres {
                format!("${}", n + 1)
            } else {
                "?".to_owned()
            };
            tests.push(test.replace("{v}", &value).replace("{p}", &placeholder));
            values.push(needle.clone().into());
        }
        let found = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT DISTINCT {value}, {} FROM {table} WHERE ({})",
                    link.kept_reference(&table),
                    tests.join(" OR ")
                ),
                values,
            ))
            .await?;
        for row in found {
            let Some(old): Option<String> = row.try_get_by_index(0)? else {
                continue;
            };
            let new = replace_all(&old, replacements, column.json.is_some());
            if new == old {
                continue;
            }
            if let Some(reference) = row.try_get_by_index::<Option<String>>(1)? {
                rewrite.kept_in.insert(reference);
                continue;
            }
            let (set, matches) = match (backend, column.json) {
                (DbBackend::Postgres, Some(json)) => (
                    format!("UPDATE {table} SET {name} = CAST($1 AS {json}) "),
                    format!("WHERE {name}::text = $2"),
                ),
                (DbBackend::Postgres, None) => (
                    format!("UPDATE {table} SET {name} = $1 "),
                    format!("WHERE {name} = $2"),
                ),
                _ => (
                    format!("UPDATE {table} SET {name} = ? "),
                    format!("WHERE CAST({name} AS TEXT) = ?"),
                ),
            };
            rewrite.rows += conn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("{set}{matches} AND {rewritable}"),
                    [new.into(), old.into()],
                ))
                .await?
                .rows_affected();
        }
    }
    Ok(rewrite)
}

/// `text` with every whole occurrence of each key (ASCII case aside) replaced by its
/// value. A JSON text is parsed and only its string values are rewritten: a number equal
/// to an account id or an object key equal to an identifier is structure, not the person,
/// and replacing inside the serialised text would break it.
fn replace_all(text: &str, replacements: &BTreeMap<String, String>, json: bool) -> String {
    if json {
        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
            if replace_in_strings(&mut value, replacements) {
                return serde_json::to_string(&value).unwrap_or_else(|_| text.to_owned());
            }
            return text.to_owned();
        }
    }
    replace_in_text(text, replacements)
}

fn replace_in_text(text: &str, replacements: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    // Longer identifiers first, so an address goes whole before a handle inside it.
    let mut keys: Vec<(&String, &String)> = replacements.iter().collect();
    keys.sort_by_key(|(key, _)| std::cmp::Reverse(key.len()));
    for (key, replacement) in keys {
        out = replace_whole(&out, key, replacement);
    }
    out
}

/// Rewrites the string values inside `value`; returns whether any changed.
fn replace_in_strings(
    value: &mut serde_json::Value,
    replacements: &BTreeMap<String, String>,
) -> bool {
    match value {
        serde_json::Value::String(text) => {
            let new = replace_in_text(text, replacements);
            let changed = new != *text;
            *text = new;
            changed
        }
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |changed, item| {
            replace_in_strings(item, replacements) | changed
        }),
        serde_json::Value::Object(fields) => fields.values_mut().fold(false, |changed, item| {
            replace_in_strings(item, replacements) | changed
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_replaced_whatever_their_case() {
        let replacements = BTreeMap::from([
            ("jo@example.org".to_owned(), MARKER.to_owned()),
            ("acct-7".to_owned(), "erased-1".to_owned()),
        ]);
        assert_eq!(
            replace_all(
                "Write to Jo@Example.ORG about acct-7.",
                &replacements,
                false
            ),
            "Write to [removed] about erased-1."
        );
        assert_eq!(
            replace_all(r#"{"to":"jo@example.org"}"#, &replacements, true),
            r#"{"to":"[removed]"}"#
        );
        assert_eq!(
            replace_all("Write to mary.jo@example.org.", &replacements, false),
            "Write to mary.jo@example.org."
        );
        assert_eq!(
            replace_all("acct-77 and xacct-7 stay", &replacements, false),
            "acct-77 and xacct-7 stay"
        );
    }

    #[test]
    fn json_keeps_its_numbers_and_keys_and_stays_json() {
        let replacements = BTreeMap::from([
            ("12345".to_owned(), MARKER.to_owned()),
            ("jo@example.org".to_owned(), MARKER.to_owned()),
        ]);
        let text = r#"{"sender":12345,"jo@example.org":{"ids":[12345,"12345"],"note":"from jo@example.org"}}"#;
        let replaced = replace_all(text, &replacements, true);
        let value: serde_json::Value = serde_json::from_str(&replaced).expect("still JSON");
        assert_eq!(
            value,
            json!({"sender": 12345, "jo@example.org": {"ids": [12345, MARKER], "note": "from [removed]"}})
        );
        let untouched = r#"{"sender":12345,"12345":true}"#;
        assert_eq!(replace_all(untouched, &replacements, true), untouched);
    }
}
