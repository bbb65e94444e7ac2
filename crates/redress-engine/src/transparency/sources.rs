//! Appeal outcomes per enforcement source (rule, model version, batch), and their ranking.

use chrono::{DateTime, Utc};
use redress_core::overturn::{wilson_interval, Interval, Z_95};
use redress_core::AppealState;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};

use crate::entity::{appeal, enforcement};
use crate::error::EngineError;

/// Where an enforcement came from: the rule or model (with its version in the id) and the
/// batch it ran in, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EnforcementSource {
    pub kind: String,
    pub id: String,
    pub batch_id: Option<String>,
}

impl EnforcementSource {
    /// One string per source, for the unique index of open incidents.
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.kind,
            self.id,
            self.batch_id.as_deref().unwrap_or("")
        )
    }
}

/// How the decided appeals against one source ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceOutcomes {
    pub source: EnforcementSource,
    /// Appeals decided by a reviewer (restored or upheld).
    pub decided: u64,
    /// Of those, the ones that restored the account: the enforcement was wrong.
    pub overturned: u64,
    pub overturn_rate: f64,
    /// 95 % Wilson interval of the overturn rate.
    pub interval: Interval,
}

#[derive(Debug, FromQueryResult)]
struct OutcomeRow {
    source_kind: String,
    source_id: String,
    batch_id: Option<String>,
    state: String,
    appeals: i64,
}

/// Outcomes of the appeals filed in `[from, to)` that a reviewer decided, per source,
/// ranked by the lower bound of the overturn rate (which weighs rate and volume
/// together), then by volume.
pub async fn ranked<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SourceOutcomes>, EngineError> {
    let a = |c: appeal::Column| (appeal::Entity, c);
    let e = |c: enforcement::Column| (enforcement::Entity, c);
    let query = Query::select()
        .column(e(enforcement::Column::SourceKind))
        .column(e(enforcement::Column::SourceId))
        .column(e(enforcement::Column::BatchId))
        .column(a(appeal::Column::State))
        .expr_as(
            Func::count(Expr::col(a(appeal::Column::Id))),
            Alias::new("appeals"),
        )
        .from(appeal::Entity)
        .inner_join(
            enforcement::Entity,
            Expr::col(e(enforcement::Column::Id)).equals(a(appeal::Column::EnforcementId)),
        )
        .and_where(
            Expr::col(a(appeal::Column::State))
                .is_in([AppealState::Restored.as_str(), AppealState::Upheld.as_str()]),
        )
        // Bulk restorations carry no reviewer decision; counting them would let an incident
        // feed on its own remedy.
        .and_where(Expr::col(a(appeal::Column::Decision)).is_not_null())
        .and_where(Expr::col(a(appeal::Column::FiledAt)).gte(from))
        .and_where(Expr::col(a(appeal::Column::FiledAt)).lt(to))
        .group_by_col(e(enforcement::Column::SourceKind))
        .group_by_col(e(enforcement::Column::SourceId))
        .group_by_col(e(enforcement::Column::BatchId))
        .group_by_col(a(appeal::Column::State))
        .to_owned();
    let rows = OutcomeRow::find_by_statement(conn.get_database_backend().build(&query))
        .all(conn)
        .await?;

    let mut tally: std::collections::BTreeMap<EnforcementSource, (u64, u64)> =
        std::collections::BTreeMap::new();
    for row in rows {
        let source = EnforcementSource {
            kind: row.source_kind,
            id: row.source_id,
            batch_id: row.batch_id,
        };
        let count = u64::try_from(row.appeals).unwrap_or(0);
        let entry = tally.entry(source).or_default();
        entry.0 += count;
        if row.state == AppealState::Restored.as_str() {
            entry.1 += count;
        }
    }
    let mut ranked: Vec<SourceOutcomes> = tally
        .into_iter()
        .filter_map(|(source, (decided, overturned))| {
            let interval = wilson_interval(overturned, decided, Z_95)?;
            Some(SourceOutcomes {
                source,
                decided,
                overturned,
                overturn_rate: overturned as f64 / decided as f64,
                interval,
            })
        })
        .collect();
    ranked.sort_by(|x, y| {
        y.interval
            .lower
            .total_cmp(&x.interval.lower)
            .then(y.decided.cmp(&x.decided))
    });
    Ok(ranked)
}
