//! How data flows through a project's entries: the edges seeds add to the sources declared
//! over their tables, each entry's rank (the column it is drawn in), and the order of the
//! project's layers from raw data to marts.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

use mart_compiler::Manifest;

use crate::catalog::{drawn_kind, Docs, Entry, Group};

/// Makes each seed a parent of the sources declared over its table (the seed builds what
/// the source reads); returns those `(seed, source)` edges.
pub(crate) fn link_seeds_to_sources(
    manifest: &Manifest,
    entries: &mut [Entry<'_>],
    index: &HashMap<String, usize>,
) -> HashSet<(usize, usize)> {
    let mut loads = HashSet::new();
    for (source, seed) in manifest.seeds_of_sources() {
        let (Some(&source), Some(&seed)) = (index.get(source.as_str()), index.get(seed.as_str()))
        else {
            continue;
        };
        entries[source].parents.push(seed);
        entries[seed].children.push(source);
        loads.insert((seed, source));
    }
    loads
}

/// Each entry's rank: the longest path to it from an entry without parents.
pub(crate) fn assign_ranks(entries: &mut [Entry<'_>]) {
    let mut feeds: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    let mut waiting: Vec<usize> = entries.iter().map(|e| e.parents.len()).collect();
    for (i, e) in entries.iter().enumerate() {
        for &p in &e.parents {
            feeds[p].push(i);
        }
    }
    let mut ready: VecDeque<usize> = (0..entries.len()).filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = ready.pop_front() {
        for &c in &feeds[i] {
            entries[c].rank = entries[c].rank.max(entries[i].rank + 1);
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push_back(c);
            }
        }
    }
}

/// A folder's layer: its first two levels (`models/stg/g001` -> `models/stg`).
pub(crate) fn layer_of(group: &str) -> String {
    group.split('/').take(2).collect::<Vec<_>>().join("/")
}

/// The layer a node belongs to in a column heading: a model's folder below the models
/// folder (`models/gold/dim` -> `gold/dim`: dbt projects name their layers by folder),
/// other kinds by their kind.
pub(crate) fn node_layer(entry: &Entry<'_>) -> String {
    match entry.kind {
        "model" => match entry.group.split_once('/') {
            Some((_, below)) => below.to_string(),
            None => entry.group.clone(),
        },
        "analysis" => "analyses".to_string(),
        kind => format!("{kind}s"),
    }
}

/// Ten times the mean rank of the entries under each key (tenths keep close layers apart
/// without floats in sort keys).
pub(crate) fn mean_ranks<'m, K: Hash + Eq>(
    entries: &[Entry<'_>],
    members: impl Iterator<Item = (K, &'m Vec<usize>)>,
) -> HashMap<K, usize> {
    let mut totals: HashMap<K, (usize, usize)> = HashMap::new();
    for (key, members) in members {
        let total = totals.entry(key).or_default();
        total.0 += members.iter().map(|&m| entries[m].rank).sum::<usize>();
        total.1 += members.len();
    }
    totals
        .into_iter()
        .map(|(key, (total, count))| (key, total * 10 / count.max(1)))
        .collect()
}

/// The layers of the drawn folders, in the order data flows through them.
pub(crate) struct Layers {
    /// Names, upstream first: by the mean rank of their entries, then by name.
    pub names: Vec<String>,
    /// The layer of each folder; `None` for folders that are not drawn.
    pub of_group: Vec<Option<usize>>,
}

impl Layers {
    pub fn new(docs: &Docs<'_>, groups: &[Group]) -> Self {
        let ranks = mean_ranks(
            &docs.entries,
            groups
                .iter()
                .filter(|g| drawn_kind(g.kind))
                .map(|g| (layer_of(&g.name), &g.members)),
        );
        let mut order: Vec<(usize, String)> =
            ranks.into_iter().map(|(name, rank)| (rank, name)).collect();
        order.sort();
        let names: Vec<String> = order.into_iter().map(|(_, name)| name).collect();
        let position: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let of_group = groups
            .iter()
            .map(|g| {
                drawn_kind(g.kind)
                    .then(|| position.get(layer_of(&g.name).as_str()).copied())
                    .flatten()
            })
            .collect();
        Layers { names, of_group }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_is_the_first_two_levels_of_a_folder() {
        assert_eq!(layer_of("models/stg/g001"), "models/stg");
        assert_eq!(layer_of("seeds"), "seeds");
        assert_eq!(layer_of("source:raw"), "source:raw");
    }

    #[test]
    fn a_model_is_in_its_folder_below_the_models_folder_other_nodes_in_their_kind() {
        let entry = |kind: &'static str, group: &str| Entry {
            kind,
            group: group.to_string(),
            ..Entry::default()
        };
        assert_eq!(node_layer(&entry("model", "models/gold/dim")), "gold/dim");
        assert_eq!(node_layer(&entry("model", "models/src")), "src");
        assert_eq!(node_layer(&entry("model", "models")), "models");
        assert_eq!(node_layer(&entry("seed", "seeds/weverse")), "seeds");
        assert_eq!(node_layer(&entry("analysis", "analyses")), "analyses");
    }
}
