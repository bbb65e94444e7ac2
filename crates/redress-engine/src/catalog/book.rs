//! The catalog this replica decides with, kept in memory.

use std::sync::{Arc, RwLock};

use crate::policies::PolicyCatalog;

/// The catalog as last loaded. It starts as the configuration's; once the database holds
/// any entry, the database's is in force, reloaded whenever the count of stored versions
/// says another replica (or this one) changed it.
#[derive(Debug)]
pub(crate) struct CatalogBook {
    current: RwLock<Loaded>,
}

#[derive(Debug, Clone)]
struct Loaded {
    catalog: Arc<PolicyCatalog>,
    /// How many versions the database held when this catalog was read. Versions are never
    /// deleted, so a later state has a larger stamp: a slow load that read an older state
    /// never replaces a newer one. 0 is the configuration's catalog, before any entry.
    stamp: u64,
}

impl CatalogBook {
    pub(crate) fn new(configured: PolicyCatalog) -> Self {
        Self {
            current: RwLock::new(Loaded {
                catalog: Arc::new(configured),
                stamp: 0,
            }),
        }
    }

    pub(crate) fn current(&self) -> Arc<PolicyCatalog> {
        match self.current.read() {
            Ok(loaded) => loaded.catalog.clone(),
            Err(poisoned) => poisoned.into_inner().catalog.clone(),
        }
    }

    pub(crate) fn stamp(&self) -> u64 {
        match self.current.read() {
            Ok(loaded) => loaded.stamp,
            Err(poisoned) => poisoned.into_inner().stamp,
        }
    }

    /// Marks the database's state at `stamp` as read while keeping the catalog in force:
    /// the state did not make a valid catalog, and reading it again on every call until
    /// the next change would only fail again.
    pub(crate) fn pass_over(&self, stamp: u64) {
        let mut loaded = match self.current.write() {
            Ok(loaded) => loaded,
            Err(poisoned) => poisoned.into_inner(),
        };
        if stamp > loaded.stamp {
            loaded.stamp = stamp;
        }
    }

    /// Puts `catalog`, read when the database held `stamp` versions, in force unless what
    /// is in force was read later.
    pub(crate) fn offer(&self, catalog: PolicyCatalog, stamp: u64) {
        let mut loaded = match self.current.write() {
            Ok(loaded) => loaded,
            Err(poisoned) => poisoned.into_inner(),
        };
        if stamp > loaded.stamp {
            *loaded = Loaded {
                catalog: Arc::new(catalog),
                stamp,
            };
        }
    }
}
