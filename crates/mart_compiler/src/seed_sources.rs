//! Sources declared over a seed's table: the seed builds what the source reads, so what
//! reads the source comes after the seed (an Airflow DAG's edges) and sees the seed's
//! columns (the static analysis).

use std::collections::HashMap;

use mart_graph::{NodeId, ResourceType};

use crate::Manifest;

impl Manifest {
    /// Each source whose relation is a seed's, with that seed (names compared as
    /// PostgreSQL folds them; a database, when both name one, must be the same).
    pub fn seeds_of_sources(&self) -> HashMap<&NodeId, &NodeId> {
        let key =
            |schema: &str, identifier: &str| (schema.to_lowercase(), identifier.to_lowercase());
        // Through the graph's nodes, so that only the seeds of the saved parse's lazily
        // read nodes are read.
        let seeds: HashMap<_, _> = self
            .dag
            .nodes()
            .filter(|g| g.resource_type == ResourceType::Seed)
            .filter_map(|g| self.node(&g.id))
            .map(|n| (key(&n.relation.schema, &n.relation.identifier), n))
            .collect();
        self.sources
            .values()
            .filter_map(|source| {
                let relation = &source.relation;
                let seed = seeds.get(&key(&relation.schema, &relation.identifier))?;
                let same_database = match (&relation.database, &seed.relation.database) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                };
                same_database.then_some((&source.id, &seed.id))
            })
            .collect()
    }
}
