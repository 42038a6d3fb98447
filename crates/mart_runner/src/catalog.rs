//! What a run knows about the relations of its schemas: read in ONE query when the run
//! starts, then kept true as the run changes things. A node's own relation is forgotten
//! when the node ran (whatever it did), the views a rebuild recreated are forgotten, and
//! everything is forgotten after a node with hooks (they may do anything); what is not
//! known is asked of the database again, for that one relation.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use mart_adapter::{relation_query, schema_relations_query, RelationKind};
use mart_postgres::{Connection, PgError, QueryResult};

use crate::view_skip::ViewRecords;

/// One relation as the catalog showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CatalogEntry {
    pub kind: RelationKind,
    /// A view's state fingerprint (`mart_adapter`'s catalog queries); `None` otherwise.
    pub view_state: Option<String>,
}

type Key = (String, String);

#[derive(Default)]
struct Known {
    /// Schemas read whole: a name of theirs missing from `entries` and not in `unknown`
    /// has no relation.
    schemas: BTreeSet<String>,
    entries: HashMap<Key, CatalogEntry>,
    unknown: HashSet<Key>,
}

/// The run-level catalog cache; every node task shares it.
#[derive(Default)]
pub struct RunCatalog {
    known: Mutex<Known>,
    /// What mart recorded of the views it created (see [`crate::view_skip`]).
    pub(crate) views: ViewRecords,
}

impl RunCatalog {
    /// Reads every relation of `schemas` in one query (replacing what was known), with the
    /// view state of the run's `own` relations (the only ones the view skip asks about).
    pub(crate) async fn load(
        &self,
        connection: &Connection,
        schemas: &BTreeSet<&str>,
        own: &BTreeSet<(&str, &str)>,
    ) -> Result<(), PgError> {
        if schemas.is_empty() {
            return Ok(());
        }
        let result = connection
            .query(&schema_relations_query(
                schemas.iter().copied(),
                own.iter().copied(),
            ))
            .await?;
        let mut known = self.lock();
        *known = Known {
            schemas: schemas.iter().map(|s| s.to_string()).collect(),
            entries: entries(result).collect(),
            unknown: HashSet::new(),
        };
        Ok(())
    }

    /// `schema.name` as the run knows it, or as the database says now when unknown.
    pub(crate) async fn entry(
        &self,
        connection: &Connection,
        schema: &str,
        name: &str,
    ) -> Result<Option<CatalogEntry>, PgError> {
        let key = (schema.to_string(), name.to_string());
        {
            let known = self.lock();
            if let Some(entry) = known.entries.get(&key) {
                return Ok(Some(entry.clone()));
            }
            if known.schemas.contains(schema) && !known.unknown.contains(&key) {
                return Ok(None);
            }
        }
        let fresh = entries(connection.query(&relation_query(schema, name)).await?)
            .next()
            .map(|(_, entry)| entry);
        // Only a schema read whole can say "absent" without asking again.
        let mut known = self.lock();
        if known.schemas.contains(schema) {
            known.unknown.remove(&key);
            if let Some(entry) = &fresh {
                known.entries.insert(key, entry.clone());
            }
        }
        Ok(fresh)
    }

    /// The kind of `schema.name` (see [`RunCatalog::entry`]).
    pub(crate) async fn kind(
        &self,
        connection: &Connection,
        schema: &str,
        name: &str,
    ) -> Result<Option<RelationKind>, PgError> {
        Ok(self
            .entry(connection, schema, name)
            .await?
            .map(|entry| entry.kind))
    }

    /// `schema.name` may have changed: the next lookup asks the database.
    pub(crate) fn forget(&self, schema: &str, name: &str) {
        let key = (schema.to_string(), name.to_string());
        let mut known = self.lock();
        known.entries.remove(&key);
        known.unknown.insert(key);
    }

    /// Anything may have changed: every lookup from now on asks the database.
    pub(crate) fn forget_all(&self) {
        *self.lock() = Known::default();
    }

    fn lock(&self) -> MutexGuard<'_, Known> {
        // A panicking holder cannot leave the map half-written: it only inserts or removes.
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The rows of the catalog queries as entries.
fn entries(result: QueryResult) -> impl Iterator<Item = (Key, CatalogEntry)> {
    result.rows.into_iter().filter_map(|row| {
        let mut values = row.into_iter();
        let schema = values.next().flatten()?;
        let name = values.next().flatten()?;
        let relkind = values.next().flatten()?;
        let view_state = values.next().flatten();
        let kind = RelationKind::from_pg_relkind(*relkind.as_bytes().first()?);
        Some(((schema, name), CatalogEntry { kind, view_state }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of 10,000 models asks the view state of every one in its first query; a row
    /// list that long once exceeded PostgreSQL's parser stack ("stack depth limit
    /// exceeded"), failing the whole run before it started.
    #[tokio::test]
    async fn the_first_query_of_a_large_run_reads_the_catalog() {
        let config = mart_postgres::ConnectionConfig {
            host: "127.0.0.1".into(),
            ..Default::default()
        };
        let connection = Connection::connect(&config)
            .await
            .expect("PostgreSQL on 127.0.0.1");
        let names: Vec<String> = (0..20_000).map(|i| format!("model_{i}")).collect();
        let own: BTreeSet<(&str, &str)> =
            names.iter().map(|n| ("pg_catalog", n.as_str())).collect();
        let catalog = RunCatalog::default();
        catalog
            .load(&connection, &BTreeSet::from(["pg_catalog"]), &own)
            .await
            .expect("the catalog query");
        let known = catalog.lock();
        assert!(known
            .entries
            .contains_key(&("pg_catalog".to_string(), "pg_class".to_string())));
    }
}
