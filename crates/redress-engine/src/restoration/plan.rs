//! What a restoration asks for and what it reports back. These are also the wire format of
//! the account service (JSON), so the embedded registry and the HTTP backend say the same.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entity::account::AccountStatus;

/// One enforcement to undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedItem {
    pub enforcement_id: Uuid,
    pub kind: String,
    pub content_id: Option<String>,
}

/// Sent to the backend. `restoration_id` is the idempotency key: a repeated request must
/// not restore twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorationRequest {
    pub restoration_id: Uuid,
    pub account_id: String,
    pub reason: String,
    pub items: Vec<PlannedItem>,
}

pub use crate::entity::restoration_item::{ItemKind, ItemOutcome};

/// What happened to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub kind: ItemKind,
    pub item_id: String,
    pub enforcement_id: Option<Uuid>,
    pub outcome: ItemOutcome,
    pub detail: Option<String>,
}

/// The backend's answer: every item, undone or not.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RestorationReport {
    pub items: Vec<ItemResult>,
}

impl RestorationReport {
    /// Whether anything was actually put back.
    pub fn undid_anything(&self) -> bool {
        self.items.iter().any(|i| i.outcome == ItemOutcome::Undone)
    }

    pub fn account_reactivated(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.kind == ItemKind::Account && i.outcome == ItemOutcome::Undone)
    }

    /// Enforcements the backend reversed.
    pub fn reversed_enforcements(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.items
            .iter()
            .filter(|i| i.outcome == ItemOutcome::Undone)
            .filter_map(|i| i.enforcement_id)
    }
}

/// Enforcement kinds whose effect cannot be reversed: the content no longer exists.
pub const IRREVERSIBLE_KINDS: &[&str] = &["content_deletion"];

/// What the embedded registry does for an account: reactivate it if it is deactivated,
/// reverse each enforcement, and say plainly which ones cannot be reversed.
pub fn embedded_report(
    account_id: &str,
    account_status: AccountStatus,
    items: &[PlannedItem],
) -> RestorationReport {
    let mut results = vec![ItemResult {
        kind: ItemKind::Account,
        item_id: account_id.to_owned(),
        enforcement_id: items
            .iter()
            .find(|i| i.kind == "account_deactivation")
            .map(|i| i.enforcement_id),
        outcome: if account_status == AccountStatus::Deactivated {
            ItemOutcome::Undone
        } else {
            ItemOutcome::AlreadyActive
        },
        detail: None,
    }];
    for item in items.iter().filter(|i| i.kind != "account_deactivation") {
        let (outcome, detail) = if IRREVERSIBLE_KINDS.contains(&item.kind.as_str()) {
            (
                ItemOutcome::CannotUndo,
                Some(format!(
                    "{}: the content was deleted permanently",
                    item.kind
                )),
            )
        } else {
            (ItemOutcome::Undone, None)
        };
        results.push(ItemResult {
            kind: if item.content_id.is_some() {
                ItemKind::Content
            } else {
                ItemKind::Enforcement
            },
            item_id: item
                .content_id
                .clone()
                .unwrap_or_else(|| item.enforcement_id.to_string()),
            enforcement_id: Some(item.enforcement_id),
            outcome,
            detail,
        });
    }
    RestorationReport { items: results }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: &str, content: Option<&str>) -> PlannedItem {
        PlannedItem {
            enforcement_id: Uuid::now_v7(),
            kind: kind.to_owned(),
            content_id: content.map(str::to_owned),
        }
    }

    #[test]
    fn a_deactivated_account_is_reactivated_and_deleted_content_is_reported_as_lost() {
        let planned = [
            item("account_deactivation", None),
            item("content_removal", Some("pin-1")),
            item("content_deletion", Some("pin-2")),
        ];
        let report = embedded_report("acct", AccountStatus::Deactivated, &planned);
        let outcomes: Vec<_> = report
            .items
            .iter()
            .map(|i| (i.kind, i.item_id.as_str(), i.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                (ItemKind::Account, "acct", ItemOutcome::Undone),
                (ItemKind::Content, "pin-1", ItemOutcome::Undone),
                (ItemKind::Content, "pin-2", ItemOutcome::CannotUndo),
            ]
        );
        assert!(report.account_reactivated());
        assert_eq!(report.reversed_enforcements().count(), 2);
    }

    #[test]
    fn an_active_account_is_reported_as_already_active() {
        let report = embedded_report("acct", AccountStatus::Active, &[]);
        assert_eq!(report.items[0].outcome, ItemOutcome::AlreadyActive);
        assert!(!report.undid_anything());
    }
}
