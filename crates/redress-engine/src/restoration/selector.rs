//! Which accounts a bulk job covers: enforcements by source, batch, time window or policy,
//! or an explicit list of account ids.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::RestorationError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Selector {
    /// Enforcements taken by one rule or model.
    Source { source_id: String },
    /// Enforcements of one enforcement batch.
    Batch { batch_id: String },
    /// Enforcements taken in `[from, to)`.
    Window {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    /// Enforcements under one policy.
    Policy { policy: String },
    /// Named accounts (an uploaded list); every unreversed enforcement of each is undone.
    Accounts { account_ids: Vec<String> },
}

impl Selector {
    /// Rejects selectors that would match nothing by mistake.
    pub fn validate(&self) -> Result<(), RestorationError> {
        let blank = |what: &str, value: &str| {
            if value.trim().is_empty() {
                Err(RestorationError::InvalidSelector(format!(
                    "{what} must not be empty"
                )))
            } else {
                Ok(())
            }
        };
        match self {
            Selector::Source { source_id } => blank("source_id", source_id),
            Selector::Batch { batch_id } => blank("batch_id", batch_id),
            Selector::Policy { policy } => blank("policy", policy),
            Selector::Window { from, to } if from >= to => Err(RestorationError::InvalidSelector(
                format!("the window must end after it starts ({from} .. {to})"),
            )),
            Selector::Window { .. } => Ok(()),
            Selector::Accounts { account_ids } if account_ids.is_empty() => Err(
                RestorationError::InvalidSelector("the account list is empty".to_owned()),
            ),
            Selector::Accounts { account_ids } => account_ids
                .iter()
                .try_for_each(|id| blank("an account id", id)),
        }
    }

    /// A stable name of the selector: two jobs with the same key may not run at once.
    /// Lists are named by a digest of their sorted, de-duplicated ids.
    pub fn key(&self) -> String {
        match self {
            Selector::Source { source_id } => format!("source:{source_id}"),
            Selector::Batch { batch_id } => format!("batch:{batch_id}"),
            Selector::Window { from, to } => {
                format!("window:{}..{}", from.to_rfc3339(), to.to_rfc3339())
            }
            Selector::Policy { policy } => format!("policy:{policy}"),
            Selector::Accounts { account_ids } => {
                let mut ids: Vec<&str> = account_ids.iter().map(String::as_str).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut hasher = Sha256::new();
                for id in ids {
                    hasher.update(id.as_bytes());
                    hasher.update(b"\n");
                }
                let digest =
                    hasher
                        .finalize()
                        .iter()
                        .fold(String::with_capacity(64), |mut hex, byte| {
                            let _ = write!(hex, "{byte:02x}");
                            hex
                        });
                format!("accounts:{digest}")
            }
        }
    }

    /// The condition on `enforcements` rows that this selector undoes. An account list
    /// undoes every enforcement of the listed accounts.
    pub fn enforcement_condition(&self) -> Condition {
        let col = |name: &str| Expr::col((Alias::new("enforcements"), Alias::new(name)));
        match self {
            Selector::Source { source_id } => {
                Condition::all().add(col("source_id").eq(source_id.as_str()))
            }
            Selector::Batch { batch_id } => {
                Condition::all().add(col("batch_id").eq(batch_id.as_str()))
            }
            Selector::Window { from, to } => Condition::all()
                .add(col("enforced_at").gte(*from))
                .add(col("enforced_at").lt(*to)),
            Selector::Policy { policy } => Condition::all().add(col("policy").eq(policy.as_str())),
            Selector::Accounts { .. } => Condition::all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_keys_ignore_order_and_duplicates() {
        let a = Selector::Accounts {
            account_ids: vec!["b".into(), "a".into(), "a".into()],
        };
        let b = Selector::Accounts {
            account_ids: vec!["a".into(), "b".into()],
        };
        let c = Selector::Accounts {
            account_ids: vec!["a".into(), "c".into()],
        };
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(
            Selector::Source {
                source_id: "nudity-v7".into()
            }
            .key(),
            "source:nudity-v7"
        );
    }

    #[test]
    fn empty_and_backwards_selectors_are_refused() {
        let now = Utc::now();
        for bad in [
            Selector::Source {
                source_id: " ".into(),
            },
            Selector::Accounts {
                account_ids: vec![],
            },
            Selector::Window { from: now, to: now },
        ] {
            assert!(matches!(
                bad.validate(),
                Err(RestorationError::InvalidSelector(_))
            ));
        }
    }
}
