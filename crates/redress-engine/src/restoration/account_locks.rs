//! A bulk restore closes each restored account's open appeals; a new appeal about an
//! account a bulk restore already reversed is closed as that job's at filing. Under
//! PostgreSQL's read committed, a filing that commits just after a chunk read the account's
//! open appeals, and that checked for the job's restoration just before the chunk
//! committed, would be seen by neither: the appeal would stay open and a reviewer's later
//! restore would send a second notice. Both sides take a transaction-scoped lock per
//! account first, so one of them always runs after the other has committed. SQLite writes
//! one transaction at a time and needs none.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Locks `accounts` until the transaction ends, in one order for every caller so that two
/// lockers of overlapping sets never wait on each other in a cycle.
pub(crate) async fn lock_accounts<C: ConnectionTrait>(
    conn: &C,
    accounts: &[&str],
) -> Result<(), DbErr> {
    if accounts.is_empty() || conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let listed = serde_json::to_string(accounts).map_err(|e| DbErr::Custom(e.to_string()))?;
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT count(pg_advisory_xact_lock(key)) FROM ( \
           SELECT DISTINCT hashtextextended('redress.account:' || account, 0) AS key \
           FROM json_array_elements_text($1::json) AS account ORDER BY key) AS keys",
        [listed.into()],
    ))
    .await?;
    Ok(())
}
