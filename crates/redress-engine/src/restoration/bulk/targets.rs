//! The accounts a job covers, fixed when it starts, read back in account-id order.

use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, JoinType, OnConflict, Order, Query, SelectStatement,
};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Statement,
};
use uuid::Uuid;

use crate::entity::account::AccountStatus;
use crate::entity::bulk_restore_target::{self, Entity as Targets};
use crate::restoration::error::RestorationError;
use crate::restoration::selector::Selector;

/// Writes the job's accounts: the list as given, or every account with an enforcement the
/// selector matches (one set-based statement). Returns how many accounts the job covers.
pub async fn materialize<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    selector: &Selector,
) -> Result<i64, RestorationError> {
    if let Selector::Accounts { account_ids } = selector {
        for chunk in account_ids.chunks(1000) {
            Targets::insert_many(chunk.iter().map(|id| bulk_restore_target::ActiveModel {
                job_id: Set(job_id),
                account_id: Set(id.trim().to_owned()),
            }))
            .on_conflict(
                OnConflict::columns([
                    bulk_restore_target::Column::JobId,
                    bulk_restore_target::Column::AccountId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        }
    } else {
        let select = Query::select()
            .distinct()
            .expr(Expr::val(job_id))
            .column((Alias::new("enforcements"), Alias::new("account_id")))
            .from(Alias::new("enforcements"))
            .cond_where(selector.enforcement_condition())
            .and_where(Expr::col((Alias::new("enforcements"), Alias::new("reversed_at"))).is_null())
            .to_owned();
        let insert = Query::insert()
            .into_table(Alias::new("bulk_restore_targets"))
            .columns([Alias::new("job_id"), Alias::new("account_id")])
            .select_from(select)
            .map_err(|e| RestorationError::InvalidSelector(e.to_string()))?
            .to_owned();
        conn.execute(&insert).await?;
    }
    count(conn, job_id).await
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

async fn count<C: ConnectionTrait>(conn: &C, job_id: Uuid) -> Result<i64, RestorationError> {
    let stmt = Query::select()
        .expr_as(Expr::col(Alias::new("account_id")).count(), Alias::new("n"))
        .from(Alias::new("bulk_restore_targets"))
        .and_where(Expr::col(Alias::new("job_id")).eq(job_id))
        .to_owned();
    let backend = conn.get_database_backend();
    Ok(Count::find_by_statement(backend.build(&stmt))
        .one(conn)
        .await?
        .map_or(0, |c| c.n))
}

/// One account of a chunk, with what the registry knows of it (nothing when unknown).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Target {
    pub account_id: String,
    pub status: Option<AccountStatus>,
    pub email: Option<String>,
}

/// The next `limit` accounts after `after`, up to and including `upto` when set.
pub async fn next_chunk<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    after: Option<&str>,
    upto: Option<&str>,
    limit: u64,
) -> Result<Vec<Target>, RestorationError> {
    let t = Alias::new("t");
    let a = Alias::new("a");
    let mut joined = Condition::all().add(
        Expr::col((a.clone(), Alias::new("id"))).equals((t.clone(), Alias::new("account_id"))),
    );
    if let Some(after) = after {
        // Redundant for the result, but PostgreSQL may merge-join the accounts in id order:
        // without it that scan starts at the first account, so each chunk would walk past
        // every account before the checkpoint and a job would slow down quadratically.
        joined = joined.add(Expr::col((a.clone(), Alias::new("id"))).gt(after));
    }
    if let Some(upto) = upto {
        joined = joined.add(Expr::col((a.clone(), Alias::new("id"))).lte(upto));
    }
    let mut select = Query::select();
    select
        .column((t.clone(), Alias::new("account_id")))
        .column((a.clone(), Alias::new("status")))
        .column((a.clone(), Alias::new("email")))
        .from_as(Alias::new("bulk_restore_targets"), t.clone())
        .join_as(
            JoinType::LeftJoin,
            Alias::new("accounts"),
            a.clone(),
            joined,
        )
        .and_where(Expr::col((t.clone(), Alias::new("job_id"))).eq(job_id))
        .order_by((t.clone(), Alias::new("account_id")), Order::Asc)
        .limit(limit);
    if let Some(after) = after {
        select.and_where(Expr::col((t.clone(), Alias::new("account_id"))).gt(after));
    }
    if let Some(upto) = upto {
        select.and_where(Expr::col((t, Alias::new("account_id"))).lte(upto));
    }
    let backend = conn.get_database_backend();
    let stmt: Statement = backend.build(&select);
    Ok(Target::find_by_statement(stmt).all(conn).await?)
}

/// The accounts of a chunk, `after` (exclusive) to `last` (inclusive), as a subquery: the
/// chunk's reads join on it instead of binding every account id.
pub fn range(job_id: Uuid, after: Option<&str>, last: &str) -> SelectStatement {
    let account = || Expr::col(Alias::new("account_id"));
    let mut select = Query::select();
    select
        .column(Alias::new("account_id"))
        .from(Alias::new("bulk_restore_targets"))
        .and_where(Expr::col(Alias::new("job_id")).eq(job_id))
        .and_where(account().lte(last));
    if let Some(after) = after {
        select.and_where(account().gt(after));
    }
    select
}
