//! What a job would do, without doing it.

use redress_core::{AppealState, Channel};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{Condition, ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};

use super::finalize::folded_contact;
use crate::entity::account::AccountStatus;
use crate::restoration::error::RestorationError;
use crate::restoration::selector::Selector;
use crate::triage::CLAIMING_CHANNELS;

const SAMPLE_SIZE: u64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    /// Accounts the job would cover.
    pub accounts: i64,
    /// Of those, accounts with an open appeal, linked to the account or claiming it (which
    /// the job would move to `restored`).
    pub with_open_appeals: i64,
    /// Of those, accounts the registry shows active already.
    pub already_active: i64,
    /// Listed accounts the registry does not know (lists only).
    pub unknown: i64,
    /// The first few account ids, in the order the job would take them.
    pub sample: Vec<String>,
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(Debug, FromQueryResult)]
struct AccountId {
    account_id: String,
}

/// The account ids a selector matches, as a sub-query.
fn matched_accounts(selector: &Selector, list: Option<&[String]>) -> SelectStatement {
    match list {
        Some(ids) => Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("accounts"))
            .and_where(Expr::col(Alias::new("id")).is_in(ids.iter().cloned()))
            .to_owned(),
        None => Query::select()
            .column((Alias::new("enforcements"), Alias::new("account_id")))
            .from(Alias::new("enforcements"))
            .cond_where(selector.enforcement_condition())
            .and_where(Expr::col((Alias::new("enforcements"), Alias::new("reversed_at"))).is_null())
            .to_owned(),
    }
}

async fn count<C: ConnectionTrait>(
    conn: &C,
    stmt: &SelectStatement,
) -> Result<i64, RestorationError> {
    let backend = conn.get_database_backend();
    Ok(Count::find_by_statement(backend.build(stmt))
        .one(conn)
        .await?
        .map_or(0, |c| c.n))
}

async fn counts<C: ConnectionTrait>(
    conn: &C,
    selector: &Selector,
    list: Option<&[String]>,
) -> Result<(i64, i64, i64), RestorationError> {
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    let known = count(
        conn,
        &Query::select()
            .expr_as(
                Func::count_distinct(Expr::col(Alias::new("id"))),
                Alias::new("n"),
            )
            .from(Alias::new("accounts"))
            .and_where(Expr::col(Alias::new("id")).in_subquery(matched_accounts(selector, list)))
            .to_owned(),
    )
    .await?;
    let linked_open = Query::select()
        .column(Alias::new("account_id"))
        .from(Alias::new("appeals"))
        .and_where(Expr::col(Alias::new("state")).is_in(open.clone()))
        .to_owned();
    // An open mail appeal linked to no account, from the address registered to the account:
    // the job closes it with the account's own (`finalize::open_claims_of`).
    let claimed_open = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new("appeals"))
        .and_where(Expr::col((Alias::new("appeals"), Alias::new("account_id"))).is_null())
        .and_where(
            Expr::col((Alias::new("appeals"), Alias::new("channel")))
                .is_in(CLAIMING_CHANNELS.map(Channel::as_str)),
        )
        .and_where(Expr::col((Alias::new("appeals"), Alias::new("state"))).is_in(open))
        .and_where(
            Expr::cust(folded_contact(conn.get_database_backend()))
                .eq(Expr::col((Alias::new("accounts"), Alias::new("email")))),
        )
        .to_owned();
    let with_open = count(
        conn,
        &Query::select()
            .expr_as(
                Func::count_distinct(Expr::col((Alias::new("accounts"), Alias::new("id")))),
                Alias::new("n"),
            )
            .from(Alias::new("accounts"))
            .and_where(
                Expr::col((Alias::new("accounts"), Alias::new("id")))
                    .in_subquery(matched_accounts(selector, list)),
            )
            .cond_where(
                Condition::any()
                    .add(
                        Expr::col((Alias::new("accounts"), Alias::new("id")))
                            .in_subquery(linked_open),
                    )
                    .add(Expr::exists(claimed_open)),
            )
            .to_owned(),
    )
    .await?;
    let active = count(
        conn,
        &Query::select()
            .expr_as(
                Func::count_distinct(Expr::col(Alias::new("id"))),
                Alias::new("n"),
            )
            .from(Alias::new("accounts"))
            .and_where(Expr::col(Alias::new("status")).eq(AccountStatus::Active))
            .and_where(Expr::col(Alias::new("id")).in_subquery(matched_accounts(selector, list)))
            .to_owned(),
    )
    .await?;
    Ok((known, with_open, active))
}

pub async fn dry_run<C: ConnectionTrait>(
    conn: &C,
    selector: &Selector,
) -> Result<DryRun, RestorationError> {
    if let Selector::Accounts { account_ids } = selector {
        let mut ids: Vec<String> = account_ids.iter().map(|id| id.trim().to_owned()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut result = DryRun {
            accounts: ids.len() as i64,
            with_open_appeals: 0,
            already_active: 0,
            unknown: 0,
            sample: ids.iter().take(SAMPLE_SIZE as usize).cloned().collect(),
        };
        let mut known = 0;
        for chunk in ids.chunks(1000) {
            let (k, open, active) = counts(conn, selector, Some(chunk)).await?;
            known += k;
            result.with_open_appeals += open;
            result.already_active += active;
        }
        result.unknown = result.accounts - known;
        return Ok(result);
    }
    let accounts = count(
        conn,
        &Query::select()
            .expr_as(
                Func::count_distinct(Expr::col((
                    Alias::new("enforcements"),
                    Alias::new("account_id"),
                ))),
                Alias::new("n"),
            )
            .from(Alias::new("enforcements"))
            .cond_where(selector.enforcement_condition())
            .and_where(Expr::col((Alias::new("enforcements"), Alias::new("reversed_at"))).is_null())
            .to_owned(),
    )
    .await?;
    let (_, with_open_appeals, already_active) = counts(conn, selector, None).await?;
    let backend = conn.get_database_backend();
    let sample_stmt = Query::select()
        .distinct()
        .column((Alias::new("enforcements"), Alias::new("account_id")))
        .from(Alias::new("enforcements"))
        .cond_where(selector.enforcement_condition())
        .and_where(Expr::col((Alias::new("enforcements"), Alias::new("reversed_at"))).is_null())
        .order_by(
            (Alias::new("enforcements"), Alias::new("account_id")),
            sea_orm::sea_query::Order::Asc,
        )
        .limit(SAMPLE_SIZE)
        .to_owned();
    let sample = AccountId::find_by_statement(backend.build(&sample_stmt))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    Ok(DryRun {
        accounts,
        with_open_appeals,
        already_active,
        unknown: 0,
        sample,
    })
}
