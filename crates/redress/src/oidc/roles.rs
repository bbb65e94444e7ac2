//! The roles a person gets from the provider's claims: role names in the roles claim, and
//! the roles configured for each of their groups.

use std::collections::BTreeMap;

use redress_core::Role;
use redress_graphql::auth::names_at_path;
use serde_json::{Map, Value};

/// How claims become roles.
#[derive(Debug, Clone)]
pub struct RoleMapping {
    roles_claim: String,
    groups_claim: String,
    group_roles: BTreeMap<String, Vec<Role>>,
}

impl RoleMapping {
    pub fn new(
        roles_claim: impl Into<String>,
        groups_claim: impl Into<String>,
        group_roles: BTreeMap<String, Vec<Role>>,
    ) -> Self {
        Self {
            roles_claim: roles_claim.into(),
            groups_claim: groups_claim.into(),
            group_roles,
        }
    }

    /// The top-level claims the mapping reads, which the sign-in asks the userinfo endpoint
    /// for when the ID token lacks them.
    pub fn claim_names(&self) -> [&str; 2] {
        fn top(path: &str) -> &str {
            path.split('.').next().unwrap_or_default()
        }
        [top(&self.roles_claim), top(&self.groups_claim)]
    }

    /// Role names Redress does not know are ignored, and so are groups without a mapping:
    /// a provider carries the roles and groups of every application.
    pub fn roles(&self, claims: &Map<String, Value>) -> Vec<Role> {
        let mut roles: Vec<Role> = names_at_path(claims, &self.roles_claim)
            .into_iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        for group in names_at_path(claims, &self.groups_claim) {
            if let Some(granted) = self.group_roles.get(group) {
                roles.extend(granted.iter().copied());
            }
        }
        roles.sort();
        roles.dedup();
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn roles_come_from_the_roles_claim_and_mapped_groups() {
        let mapping = RoleMapping::new(
            "realm_access.roles",
            "groups",
            BTreeMap::from([
                (
                    "appeals-leads".to_owned(),
                    vec![Role::SeniorReviewer, Role::Reviewer],
                ),
                ("support-desk".to_owned(), vec![Role::Support]),
            ]),
        );
        let roles = mapping.roles(&claims(json!({
            "realm_access": {"roles": ["triager", "offline_access"]},
            "groups": ["appeals-leads", "marketing"],
        })));
        assert_eq!(
            roles,
            vec![Role::Triager, Role::Reviewer, Role::SeniorReviewer]
        );
    }

    #[test]
    fn no_claims_no_roles() {
        let mapping = RoleMapping::new("roles", "groups", BTreeMap::new());
        assert!(mapping
            .roles(&claims(json!({"groups": "a b", "roles": 7})))
            .is_empty());
        assert_eq!(
            mapping.roles(&claims(json!({"roles": "admin support"}))),
            vec![Role::Support, Role::Admin]
        );
    }
}
