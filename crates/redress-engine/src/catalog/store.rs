//! The catalog's rows: each entry as it stands, and every version it had.

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::{CatalogChange, CatalogKind, Versioned};
use crate::entity::catalog_entry::{self, Entity as Entries};
use crate::entity::catalog_entry_version::{self, Entity as EntryVersions};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};

/// Who a change is recorded as: the staff subject, or the system component.
pub(super) fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Staff { subject, .. } => subject.clone(),
        Actor::System { component } => format!("system:{component}"),
        Actor::Appellant { identity } => format!("appellant:{identity}"),
    }
}

fn parse<T: DeserializeOwned>(
    kind: CatalogKind,
    id: &str,
    definition: serde_json::Value,
) -> Result<T, EngineError> {
    serde_json::from_value(definition).map_err(|e| EngineError::corrupt(kind.as_str(), id, e))
}

fn to_current<T: DeserializeOwned>(
    model: catalog_entry::Model,
) -> Result<Versioned<T>, EngineError> {
    Ok(Versioned {
        entry: parse(model.kind, &model.id, model.definition)?,
        version: model.version,
        retired: model.retired,
        change: None,
        changed_at: model.updated_at,
        changed_by: model.updated_by,
    })
}

fn to_version<T: DeserializeOwned>(
    model: catalog_entry_version::Model,
) -> Result<Versioned<T>, EngineError> {
    Ok(Versioned {
        entry: parse(model.kind, &model.id, model.definition)?,
        version: model.version,
        retired: model.retired,
        change: Some(model.change),
        changed_at: model.changed_at,
        changed_by: model.changed_by,
    })
}

/// Every entry of `kind` as it stands, retired ones included, by id.
pub async fn all<T: DeserializeOwned, C: ConnectionTrait>(
    conn: &C,
    kind: CatalogKind,
) -> Result<Vec<Versioned<T>>, EngineError> {
    Entries::find()
        .filter(catalog_entry::Column::Kind.eq(kind))
        .order_by_asc(catalog_entry::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_current)
        .collect()
}

pub async fn find<T: DeserializeOwned, C: ConnectionTrait>(
    conn: &C,
    kind: CatalogKind,
    id: &str,
) -> Result<Option<Versioned<T>>, EngineError> {
    Entries::find_by_id((kind, id.to_owned()))
        .one(conn)
        .await?
        .map(to_current)
        .transpose()
}

/// Every version of an entry, oldest first.
pub async fn versions<T: DeserializeOwned, C: ConnectionTrait>(
    conn: &C,
    kind: CatalogKind,
    id: &str,
) -> Result<Vec<Versioned<T>>, EngineError> {
    EntryVersions::find()
        .filter(catalog_entry_version::Column::Kind.eq(kind))
        .filter(catalog_entry_version::Column::Id.eq(id))
        .order_by_asc(catalog_entry_version::Column::Version)
        .all(conn)
        .await?
        .into_iter()
        .map(to_version)
        .collect()
}

/// The last version the configuration seeded, if it ever seeded the entry.
pub async fn last_seeded<T: DeserializeOwned, C: ConnectionTrait>(
    conn: &C,
    kind: CatalogKind,
    id: &str,
) -> Result<Option<T>, EngineError> {
    EntryVersions::find()
        .filter(catalog_entry_version::Column::Kind.eq(kind))
        .filter(catalog_entry_version::Column::Id.eq(id))
        .filter(catalog_entry_version::Column::Change.eq(CatalogChange::Seeded))
        .order_by_desc(catalog_entry_version::Column::Version)
        .one(conn)
        .await?
        .map(|model| parse(model.kind, &model.id, model.definition))
        .transpose()
}

/// How many versions the catalog has ever had: grows with every change, on any replica.
pub async fn stamp<C: ConnectionTrait>(conn: &C) -> Result<u64, EngineError> {
    Ok(EntryVersions::find().count(conn).await?)
}

/// One change to write.
pub struct Change<'a, T> {
    pub kind: CatalogKind,
    pub id: &'a str,
    pub entry: &'a T,
    /// The version this change makes; 1 creates the entry.
    pub version: i64,
    pub retired: bool,
    pub change: CatalogChange,
}

/// Writes the entry's new state, the version's row and the audit entry, in the caller's
/// transaction. The version's primary key makes a concurrent writer of the same version
/// fail (and retry from a fresh read) instead of forking the history.
pub async fn write<T: Serialize + Clone, C: ConnectionTrait>(
    conn: &C,
    change: Change<'_, T>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Versioned<T>, EngineError> {
    let by = actor_name(actor);
    let definition = serde_json::to_value(change.entry)
        .map_err(|e| EngineError::corrupt(change.kind.as_str(), change.id, e))?;
    let row = catalog_entry::ActiveModel {
        kind: Set(change.kind),
        id: Set(change.id.to_owned()),
        version: Set(change.version),
        retired: Set(change.retired),
        definition: Set(definition.clone()),
        updated_at: Set(now),
        updated_by: Set(by.clone()),
    };
    if change.version == 1 {
        Entries::insert(row).exec_without_returning(conn).await?;
    } else {
        Entries::update_many()
            .set(row)
            .filter(catalog_entry::Column::Kind.eq(change.kind))
            .filter(catalog_entry::Column::Id.eq(change.id))
            .exec(conn)
            .await?;
    }
    EntryVersions::insert(catalog_entry_version::ActiveModel {
        kind: Set(change.kind),
        id: Set(change.id.to_owned()),
        version: Set(change.version),
        retired: Set(change.retired),
        definition: Set(definition),
        change: Set(change.change),
        changed_at: Set(now),
        changed_by: Set(by.clone()),
    })
    .exec_without_returning(conn)
    .await?;
    audit::record(
        conn,
        NewAuditEntry {
            actor: actor.clone(),
            action: super::audit_action(change.kind, change.change),
            account_id: None,
            appeal_id: None,
            details: json!({
                "kind": change.kind,
                "id": change.id,
                "version": change.version,
                "retired": change.retired,
            }),
        },
        now,
    )
    .await?;
    Ok(Versioned {
        entry: change.entry.clone(),
        version: change.version,
        retired: change.retired,
        change: Some(change.change),
        changed_at: now,
        changed_by: by,
    })
}
