//! The policy catalog and decision templates, administered: each policy and template lives
//! in the database, every change a new version, audited. Decisions and previews use the
//! current version; older ones stay readable.
//!
//! The configuration seeds the database at start ([`Engine::seed_policy_catalog`]): an
//! entry the database does not know is added, and a configured entry that differs from
//! what the configuration last seeded becomes a new version. A configured entry that did
//! not change in the file is left alone, so an administrator's later edit stands until the
//! file itself changes that entry again.
//!
//! Each replica holds the catalog in memory and checks the number of stored versions
//! before it fills a template or answers what the catalog holds; a change made on another
//! replica is then read at once.
//!
//! Every write takes the catalog's lock before it reads what it checks (see
//! [`lock_catalog`]), so two administrators cannot each pass a check the other's change
//! breaks, such as retiring a policy while a template for it is created. A stored state
//! that still does not make a valid catalog (a row edited by hand) is logged and passed
//! over; the replica keeps deciding with the last valid catalog it read.

mod book;
mod store;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use redress_core::{Actor, DecisionTemplate, Policy};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend};

use crate::engine::Engine;
pub use crate::entity::catalog_entry::CatalogKind;
pub use crate::entity::catalog_entry_version::CatalogChange;
use crate::error::EngineError;
use crate::policies::{check_category, check_policy, check_template, CatalogError, PolicyCatalog};
use crate::text::WithoutNul;
use crate::transact::{Begin, Retry, TransactionError};
pub(crate) use book::CatalogBook;

/// The system component a configuration seed is recorded as (`system:configuration`).
pub const CONFIGURATION: &str = "configuration";

/// Namespace of the advisory lock that serialises catalog writes on PostgreSQL (the first
/// key of the two-key form; the second is the schema's), "RDCT" in ASCII.
const CATALOG_LOCK_NAMESPACE: i32 = 0x5244_4354;

/// Serialises the catalog's writers: on PostgreSQL an advisory lock held until the
/// transaction ends, taken before anything is read; on SQLite the transaction already
/// holds the write lock from its start ([`Begin::WriteLockFirst`]). Without it a check
/// read a state another writer was changing, and both changes committed.
async fn lock_catalog(txn: &DatabaseTransaction) -> Result<(), EngineError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({CATALOG_LOCK_NAMESPACE}, \
             hashtext(current_setting('search_path')))"
        ))
        .await?;
    }
    Ok(())
}

/// A policy or template at one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub entry: T,
    pub version: i64,
    pub retired: bool,
    /// What made the version; `None` on an entry as it stands now.
    pub change: Option<CatalogChange>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// Why a change to the catalog was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogEditError {
    /// The change would leave a policy or template invalid; names the field.
    #[error(transparent)]
    Invalid(#[from] CatalogError),
    #[error("{kind} {id:?} not found")]
    NotFound { kind: CatalogKind, id: String },
    #[error(
        "{kind} {id:?} exists already{}; update it instead",
        if *retired { " (retired)" } else { "" }
    )]
    Exists {
        kind: CatalogKind,
        id: String,
        retired: bool,
    },
    #[error("policy {policy:?} is used by the decision templates {templates}; retire them first")]
    InUse { policy: String, templates: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl CatalogEditError {
    /// The input field the error is about, as the policy's or template's fields name it.
    pub fn field(&self) -> Option<String> {
        match self {
            CatalogEditError::Invalid(error) => Some(error.field()),
            CatalogEditError::NotFound { .. }
            | CatalogEditError::Exists { .. }
            | CatalogEditError::InUse { .. } => Some("id".to_owned()),
            CatalogEditError::Engine(_) => None,
        }
    }
}

impl TransactionError for CatalogEditError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            CatalogEditError::Engine(error) => Some(error),
            _ => None,
        }
    }
}

/// The audit log's action for a change.
pub fn audit_action(kind: CatalogKind, change: CatalogChange) -> &'static str {
    match (kind, change) {
        (CatalogKind::Policy, CatalogChange::Seeded) => "policy_seeded",
        (CatalogKind::Policy, CatalogChange::Created) => "policy_created",
        (CatalogKind::Policy, CatalogChange::Updated) => "policy_updated",
        (CatalogKind::Policy, CatalogChange::Retired) => "policy_retired",
        (CatalogKind::Template, CatalogChange::Seeded) => "decision_template_seeded",
        (CatalogKind::Template, CatalogChange::Created) => "decision_template_created",
        (CatalogKind::Template, CatalogChange::Updated) => "decision_template_updated",
        (CatalogKind::Template, CatalogChange::Retired) => "decision_template_retired",
    }
}

/// An entry of the catalog: its kind and id.
trait Entry: serde::Serialize + serde::de::DeserializeOwned + Clone + PartialEq + WithoutNul {
    const KIND: CatalogKind;
    fn id(&self) -> &str;
    fn check(&self) -> Result<(), CatalogError>;
}

impl Entry for Policy {
    const KIND: CatalogKind = CatalogKind::Policy;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), CatalogError> {
        check_policy(self).and_then(|()| check_category(self))
    }
}

impl Entry for DecisionTemplate {
    const KIND: CatalogKind = CatalogKind::Template;
    fn id(&self) -> &str {
        &self.id
    }
    fn check(&self) -> Result<(), CatalogError> {
        check_template(self)
    }
}

/// Every stored entry, retired ones included.
struct Stored {
    policies: Vec<Versioned<Policy>>,
    templates: Vec<Versioned<DecisionTemplate>>,
}

impl Stored {
    async fn load<C: ConnectionTrait>(conn: &C) -> Result<Self, EngineError> {
        Ok(Self {
            policies: store::all(conn, CatalogKind::Policy).await?,
            templates: store::all(conn, CatalogKind::Template).await?,
        })
    }

    /// The catalog of the entries in force, checked as a whole.
    fn catalog(&self, default_language: &str) -> Result<PolicyCatalog, CatalogError> {
        PolicyCatalog::new(
            default_language,
            self.policies
                .iter()
                .filter(|v| !v.retired)
                .map(|v| v.entry.clone())
                .collect(),
            self.templates
                .iter()
                .filter(|v| !v.retired)
                .map(|v| v.entry.clone())
                .collect(),
        )
    }

    /// Puts `entry` in place of the stored one of its id (or adds it), as it will be after
    /// the change.
    fn put<T: Entry>(&mut self, entry: &T, retired: bool, version: i64)
    where
        Self: Holds<T>,
    {
        let entries = self.entries();
        let next = Versioned {
            entry: entry.clone(),
            version,
            retired,
            change: None,
            changed_at: DateTime::<Utc>::MIN_UTC,
            changed_by: String::new(),
        };
        match entries.iter_mut().find(|v| v.entry.id() == entry.id()) {
            Some(stored) => *stored = next,
            None => entries.push(next),
        }
    }
}

trait Holds<T> {
    fn entries(&mut self) -> &mut Vec<Versioned<T>>;
}

impl Holds<Policy> for Stored {
    fn entries(&mut self) -> &mut Vec<Versioned<Policy>> {
        &mut self.policies
    }
}

impl Holds<DecisionTemplate> for Stored {
    fn entries(&mut self) -> &mut Vec<Versioned<DecisionTemplate>> {
        &mut self.templates
    }
}

impl Engine {
    /// The catalog this replica decides with now, without looking at the database; see
    /// [`Engine::current_policy_catalog`] for one checked against it.
    pub fn policy_catalog(&self) -> Arc<PolicyCatalog> {
        self.catalog_book().current()
    }

    /// The catalog in force, reloaded first if the database holds a change this replica
    /// has not read yet (one count of the stored versions).
    pub async fn current_policy_catalog(&self) -> Result<Arc<PolicyCatalog>, EngineError> {
        self.refresh_policy_catalog().await?;
        Ok(self.policy_catalog())
    }

    /// Reads the catalog afresh if the database changed since it was last read. Before the
    /// database holds any entry, the configuration's catalog stays in force.
    ///
    /// A stored state that does not make a valid catalog is logged (naming the entry and
    /// field) and passed over: the last valid catalog stays in force, so decisions go on,
    /// and the next change to the catalog is read as usual. Only a failure to read the
    /// database is an error.
    pub async fn refresh_policy_catalog(&self) -> Result<(), EngineError> {
        let book = self.catalog_book();
        let stamp = store::stamp(self.db()).await?;
        if stamp <= book.stamp() {
            return Ok(());
        }
        let stored = Stored::load(self.db()).await?;
        match stored.catalog(self.settings().policies.default_language()) {
            Ok(catalog) => book.offer(catalog, stamp),
            // Every write checks the whole catalog under its lock, so this is a database
            // edited by hand.
            Err(err) => {
                tracing::error!(
                    error = %err,
                    stored_versions = stamp,
                    "the stored policy catalog is inconsistent; the last valid catalog stays in force until it is corrected"
                );
                book.pass_over(stamp);
            }
        }
        Ok(())
    }

    /// Every policy as stored, retired ones included, by id.
    pub async fn stored_policies(&self) -> Result<Vec<Versioned<Policy>>, EngineError> {
        store::all(self.db(), CatalogKind::Policy).await
    }

    /// Every decision template as stored, retired ones included, by id.
    pub async fn stored_decision_templates(
        &self,
    ) -> Result<Vec<Versioned<DecisionTemplate>>, EngineError> {
        store::all(self.db(), CatalogKind::Template).await
    }

    /// Every version of a policy, oldest first.
    pub async fn policy_versions(
        &self,
        id: &str,
    ) -> Result<Vec<Versioned<Policy>>, CatalogEditError> {
        self.versions(id).await
    }

    /// Every version of a decision template, oldest first.
    pub async fn decision_template_versions(
        &self,
        id: &str,
    ) -> Result<Vec<Versioned<DecisionTemplate>>, CatalogEditError> {
        self.versions(id).await
    }

    async fn versions<T: Entry>(&self, id: &str) -> Result<Vec<Versioned<T>>, CatalogEditError> {
        let versions = store::versions(self.db(), T::KIND, id).await?;
        if versions.is_empty() {
            return Err(CatalogEditError::NotFound {
                kind: T::KIND,
                id: id.to_owned(),
            });
        }
        Ok(versions)
    }

    pub async fn create_policy(
        &self,
        actor: &Actor,
        policy: Policy,
    ) -> Result<Versioned<Policy>, CatalogEditError> {
        self.create(actor, policy).await
    }

    /// A new version of the policy with these fields; a retired policy is offered again.
    pub async fn update_policy(
        &self,
        actor: &Actor,
        policy: Policy,
    ) -> Result<Versioned<Policy>, CatalogEditError> {
        self.update(actor, policy).await
    }

    /// Stops offering the policy; its templates must be retired first.
    pub async fn retire_policy(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Versioned<Policy>, CatalogEditError> {
        self.retire::<Policy>(actor, id).await
    }

    /// Adds a template; its policy must exist and be in force.
    pub async fn create_decision_template(
        &self,
        actor: &Actor,
        template: DecisionTemplate,
    ) -> Result<Versioned<DecisionTemplate>, CatalogEditError> {
        self.create(actor, template).await
    }

    /// A new version of the template with these fields; a retired template is offered
    /// again.
    pub async fn update_decision_template(
        &self,
        actor: &Actor,
        template: DecisionTemplate,
    ) -> Result<Versioned<DecisionTemplate>, CatalogEditError> {
        self.update(actor, template).await
    }

    /// Stops offering the template. Bulk decisions running with it keep the copy they
    /// started with.
    pub async fn retire_decision_template(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Versioned<DecisionTemplate>, CatalogEditError> {
        self.retire::<DecisionTemplate>(actor, id).await
    }

    async fn create<T: Entry>(
        &self,
        actor: &Actor,
        entry: T,
    ) -> Result<Versioned<T>, CatalogEditError>
    where
        Stored: Holds<T>,
    {
        let entry = entry.without_nul();
        entry.check()?;
        let created = self
            .transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
                lock_catalog(txn).await?;
                if let Some(existing) = store::find::<T, _>(txn, T::KIND, entry.id()).await? {
                    return Err(CatalogEditError::Exists {
                        kind: T::KIND,
                        id: entry.id().to_owned(),
                        retired: existing.retired,
                    });
                }
                let mut stored = Stored::load(txn).await?;
                stored.put(&entry, false, 1);
                stored.catalog(self.settings().policies.default_language())?;
                let change = store::Change {
                    kind: T::KIND,
                    id: entry.id(),
                    entry: &entry,
                    version: 1,
                    retired: false,
                    change: CatalogChange::Created,
                };
                Ok(store::write(txn, change, actor, self.clock().now()).await?)
            })
            .await?;
        self.refresh_policy_catalog().await?;
        Ok(created)
    }

    async fn update<T: Entry>(
        &self,
        actor: &Actor,
        entry: T,
    ) -> Result<Versioned<T>, CatalogEditError>
    where
        Stored: Holds<T>,
    {
        let entry = entry.without_nul();
        entry.check()?;
        let updated = self
            .transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
                lock_catalog(txn).await?;
                let current = store::find::<T, _>(txn, T::KIND, entry.id())
                    .await?
                    .ok_or_else(|| CatalogEditError::NotFound {
                        kind: T::KIND,
                        id: entry.id().to_owned(),
                    })?;
                if current.entry == entry && !current.retired {
                    return Ok::<_, CatalogEditError>(current);
                }
                let mut stored = Stored::load(txn).await?;
                stored.put(&entry, false, current.version + 1);
                stored.catalog(self.settings().policies.default_language())?;
                let change = store::Change {
                    kind: T::KIND,
                    id: entry.id(),
                    entry: &entry,
                    version: current.version + 1,
                    retired: false,
                    change: CatalogChange::Updated,
                };
                Ok(store::write(txn, change, actor, self.clock().now()).await?)
            })
            .await?;
        self.refresh_policy_catalog().await?;
        Ok(updated)
    }

    async fn retire<T: Entry>(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Versioned<T>, CatalogEditError> {
        let retired = self
            .transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
                lock_catalog(txn).await?;
                let current = store::find::<T, _>(txn, T::KIND, id)
                    .await?
                    .ok_or_else(|| CatalogEditError::NotFound {
                        kind: T::KIND,
                        id: id.to_owned(),
                    })?;
                if current.retired {
                    return Ok::<_, CatalogEditError>(current);
                }
                if T::KIND == CatalogKind::Policy {
                    let templates: Vec<String> =
                        store::all::<DecisionTemplate, _>(txn, CatalogKind::Template)
                            .await?
                            .into_iter()
                            .filter(|t| !t.retired && t.entry.policy == id)
                            .map(|t| t.entry.id)
                            .collect();
                    if !templates.is_empty() {
                        return Err(CatalogEditError::InUse {
                            policy: id.to_owned(),
                            templates: templates.join(", "),
                        });
                    }
                }
                let change = store::Change {
                    kind: T::KIND,
                    id,
                    entry: &current.entry,
                    version: current.version + 1,
                    retired: true,
                    change: CatalogChange::Retired,
                };
                Ok(store::write(txn, change, actor, self.clock().now()).await?)
            })
            .await?;
        self.refresh_policy_catalog().await?;
        Ok(retired)
    }

    /// Imports the configuration's catalog (see the module's documentation): an entry the
    /// database does not know is added, and one that differs from what the configuration
    /// last seeded becomes a new version, recorded as `system:configuration`. Returns how
    /// many versions were written; the catalog in force is then the database's.
    pub async fn seed_policy_catalog(
        &self,
        configured: &PolicyCatalog,
    ) -> Result<usize, CatalogEditError> {
        let actor = Actor::system(CONFIGURATION);
        let written = self
            .transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
                lock_catalog(txn).await?;
                let now = self.clock().now();
                let mut stored = Stored::load(txn).await?;
                let inconsistent_before = stored.catalog(configured.default_language()).err();
                let mut written = 0;
                for policy in configured.policies() {
                    written += seed_one(txn, &mut stored, policy, &actor, now).await?;
                }
                for template in configured.templates() {
                    written += seed_one(txn, &mut stored, template, &actor, now).await?;
                }
                match (
                    stored.catalog(configured.default_language()),
                    inconsistent_before,
                ) {
                    (Ok(_), _) => {}
                    // The configuration broke a valid catalog: refuse it, naming the entry.
                    (Err(err), None) => return Err(err.into()),
                    // The stored catalog was inconsistent before the seed touched it; one
                    // bad row must not keep the service from starting (the refresh keeps
                    // the last valid catalog and logs the same).
                    (Err(err), Some(_)) => tracing::error!(
                        error = %err,
                        "the stored policy catalog is inconsistent; correct the named entry"
                    ),
                }
                Ok::<_, CatalogEditError>(written)
            })
            .await?;
        self.refresh_policy_catalog().await?;
        Ok(written)
    }
}

async fn seed_one<T: Entry>(
    txn: &sea_orm::DatabaseTransaction,
    stored: &mut Stored,
    configured: &T,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize, CatalogEditError>
where
    Stored: Holds<T>,
{
    let current = store::find::<T, _>(txn, T::KIND, configured.id()).await?;
    let version = match &current {
        None => 1,
        Some(current) if current.entry == *configured && !current.retired => return Ok(0),
        Some(current) => {
            let seeded = store::last_seeded::<T, _>(txn, T::KIND, configured.id()).await?;
            if seeded.as_ref() == Some(configured) {
                return Ok(0);
            }
            if current.changed_by != store::actor_name(actor) {
                tracing::warn!(
                    kind = %T::KIND,
                    id = configured.id(),
                    replaced_by = %current.changed_by,
                    "the configuration changed a catalog entry edited since; the configured one is now in force"
                );
            }
            current.version + 1
        }
    };
    stored.put(configured, false, version);
    let change = store::Change {
        kind: T::KIND,
        id: configured.id(),
        entry: configured,
        version,
        retired: false,
        change: CatalogChange::Seeded,
    };
    store::write(txn, change, actor, now).await?;
    Ok(1)
}
