//! A job's accounts cut into contiguous slices of about equal size when it starts. Each
//! slice advances its own checkpoint, so one connection per slice restores the job at once,
//! and a resumed job carries on in every slice from where that slice's last commit left it.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use crate::entity::bulk_restore_slice::{self, Entity as Slices};
use crate::restoration::error::RestorationError;

/// One slice: the accounts after `after` up to and including `upto`, done up to
/// `checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub job_id: Uuid,
    pub index: i32,
    pub after: Option<String>,
    pub upto: Option<String>,
    pub checkpoint: Option<String>,
}

impl Slice {
    /// Where the next chunk of this slice starts (exclusive).
    pub fn resume_after(&self) -> Option<&str> {
        self.checkpoint.as_deref().or(self.after.as_deref())
    }
}

impl From<bulk_restore_slice::Model> for Slice {
    fn from(model: bulk_restore_slice::Model) -> Self {
        Self {
            job_id: model.job_id,
            index: model.slice,
            after: model.after_account,
            upto: model.upto_account,
            checkpoint: model.checkpoint,
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Boundary {
    upto: String,
}

/// Cuts the job's targets into at most `count` slices of about equal size (fewer when the
/// job has fewer accounts) and records them. The last slice is left open-ended.
pub async fn plan<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    count: u32,
) -> Result<Vec<Slice>, RestorationError> {
    let boundaries = upper_bounds(conn, job_id, std::cmp::max(count, 1)).await?;
    let mut slices = Vec::with_capacity(boundaries.len().max(1));
    let mut after: Option<String> = None;
    let last = boundaries.len().saturating_sub(1);
    for (index, upto) in boundaries.into_iter().enumerate() {
        let upto = (index < last).then_some(upto);
        slices.push(Slice {
            job_id,
            index: i32::try_from(index).unwrap_or(i32::MAX),
            after: after.clone(),
            upto: upto.clone(),
            checkpoint: None,
        });
        after = upto;
    }
    if slices.is_empty() {
        slices.push(Slice {
            job_id,
            index: 0,
            after: None,
            upto: None,
            checkpoint: None,
        });
    }
    Slices::insert_many(slices.iter().map(|s| bulk_restore_slice::ActiveModel {
        job_id: Set(s.job_id),
        slice: Set(s.index),
        after_account: Set(s.after.clone()),
        upto_account: Set(s.upto.clone()),
        checkpoint: Set(None),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(slices)
}

/// The last account of each of `count` equal runs of the job's targets, in order.
async fn upper_bounds<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    count: u32,
) -> Result<Vec<String>, RestorationError> {
    let ranked = Query::select()
        .column(Alias::new("account_id"))
        .expr_as(
            Expr::cust(format!("ntile({count}) OVER (ORDER BY account_id)")),
            Alias::new("slice"),
        )
        .from(Alias::new("bulk_restore_targets"))
        .and_where(Expr::col(Alias::new("job_id")).eq(job_id))
        .to_owned();
    let bounds = Query::select()
        .expr_as(
            Func::max(Expr::col(Alias::new("account_id"))),
            Alias::new("upto"),
        )
        .from_subquery(ranked, Alias::new("ranked"))
        .group_by_col(Alias::new("slice"))
        .order_by(Alias::new("slice"), Order::Asc)
        .to_owned();
    let backend = conn.get_database_backend();
    Ok(Boundary::find_by_statement(backend.build(&bounds))
        .all(conn)
        .await?
        .into_iter()
        .map(|b| b.upto)
        .collect())
}

/// The job's slices in order.
pub async fn of_job<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
) -> Result<Vec<Slice>, RestorationError> {
    Ok(Slices::find()
        .filter(bulk_restore_slice::Column::JobId.eq(job_id))
        .order_by_asc(bulk_restore_slice::Column::Slice)
        .all(conn)
        .await?
        .into_iter()
        .map(Slice::from)
        .collect())
}

pub async fn load<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    index: i32,
) -> Result<Option<Slice>, RestorationError> {
    Ok(Slices::find_by_id((job_id, index))
        .one(conn)
        .await?
        .map(Slice::from))
}

/// Moves the slice's checkpoint from where `slice` saw it to `last`. The guarded update
/// takes the slice's row lock, so a second runner of the same slice waits here and then
/// finds the checkpoint moved (false): it must give its chunk up.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    slice: &Slice,
    last: &str,
) -> Result<bool, RestorationError> {
    let seen = match &slice.checkpoint {
        Some(checkpoint) => bulk_restore_slice::Column::Checkpoint.eq(checkpoint.as_str()),
        None => bulk_restore_slice::Column::Checkpoint.is_null(),
    };
    let claimed = Slices::update_many()
        .col_expr(
            bulk_restore_slice::Column::Checkpoint,
            Expr::value(Some(last.to_owned())),
        )
        .filter(bulk_restore_slice::Column::JobId.eq(slice.job_id))
        .filter(bulk_restore_slice::Column::Slice.eq(slice.index))
        .filter(seen)
        .exec(conn)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// A slice with accounts not yet processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SliceLeft {
    pub slice: i32,
    /// The last account processed in the slice, or the one before the slice when it has
    /// not started.
    pub after: Option<String>,
    pub accounts_left: i64,
}

impl std::fmt::Display for SliceLeft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "slice {} ({} accounts", self.slice, self.accounts_left)?;
        match &self.after {
            Some(after) => write!(f, " after {after})"),
            None => write!(f, " from its start)"),
        }
    }
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

/// The job's slices that still have accounts after their checkpoint, in order.
pub async fn left<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
) -> Result<Vec<SliceLeft>, RestorationError> {
    let mut left = Vec::new();
    for slice in of_job(conn, job_id).await? {
        let account = || Expr::col(Alias::new("account_id"));
        let mut count = Query::select();
        count
            .expr_as(account().count(), Alias::new("n"))
            .from(Alias::new("bulk_restore_targets"))
            .and_where(Expr::col(Alias::new("job_id")).eq(job_id));
        if let Some(after) = slice.resume_after() {
            count.and_where(account().gt(after));
        }
        if let Some(upto) = &slice.upto {
            count.and_where(account().lte(upto.as_str()));
        }
        let backend = conn.get_database_backend();
        let accounts_left = Count::find_by_statement(backend.build(&count))
            .one(conn)
            .await?
            .map_or(0, |c| c.n);
        if accounts_left > 0 {
            left.push(SliceLeft {
                slice: slice.index,
                after: slice.resume_after().map(str::to_owned),
                accounts_left,
            });
        }
    }
    Ok(left)
}
