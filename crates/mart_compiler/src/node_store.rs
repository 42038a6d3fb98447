//! A manifest's nodes, in id order. After a fresh parse they are all in memory; after a
//! saved parse each node is read from its saved bytes the first time it is asked for, so
//! a command that runs one node of a large project (an Airflow task) reads a handful of
//! nodes instead of all of them.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use mart_diagnostics::shared_files::{self, FileTable};
use mart_graph::NodeId;

use crate::manifest::Node;
use crate::parse_cache::LazyPart;

pub struct NodeStore {
    /// Sorted.
    ids: Vec<NodeId>,
    /// `(hash of the id, its position)`, sorted: a lookup compares integers and then one
    /// id, where a binary search of the ids compares long shared prefixes (`model.<project>.`)
    /// a dozen times; compiling looks nodes up millions of times.
    by_hash: Vec<(u64, u32)>,
    slots: Vec<OnceLock<Option<Node>>>,
    saved: Option<SavedNodes>,
    all_read: OnceLock<()>,
}

/// Where the nodes of a saved parse are read from: node `i` is the MessagePack at
/// `ranges[i]` of `part`, its files come from `files`.
pub(crate) struct SavedNodes {
    pub part: Arc<LazyPart>,
    pub ranges: Vec<Range<usize>>,
    pub files: Arc<FileTable>,
}

fn id_hash(id: &NodeId) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    id.as_str().hash(&mut hasher);
    hasher.finish()
}

fn hash_index(ids: &[NodeId]) -> Vec<(u64, u32)> {
    let mut index: Vec<(u64, u32)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id_hash(id), i as u32))
        .collect();
    index.sort_unstable();
    index
}

impl NodeStore {
    /// Nodes in memory, in any order.
    pub fn new(mut nodes: Vec<Node>) -> Self {
        mart_graph::sort_by_id_in_place(&mut nodes, |n| &n.id);
        let ids: Vec<NodeId> = nodes.iter().map(|n| n.id.clone()).collect();
        NodeStore {
            by_hash: hash_index(&ids),
            ids,
            slots: nodes.into_iter().map(|n| OnceLock::from(Some(n))).collect(),
            saved: None,
            all_read: OnceLock::new(),
        }
    }

    /// Saved nodes with these ids, sorted, one range each.
    pub(crate) fn saved(ids: Vec<NodeId>, saved: SavedNodes) -> Option<Self> {
        let sorted = ids.windows(2).all(|w| w[0] < w[1]);
        if !sorted || ids.len() != saved.ranges.len() {
            return None;
        }
        Some(NodeStore {
            slots: ids.iter().map(|_| OnceLock::new()).collect(),
            by_hash: hash_index(&ids),
            ids,
            saved: Some(saved),
            all_read: OnceLock::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every id, sorted, without reading a node.
    pub fn ids(&self) -> &[NodeId] {
        &self.ids
    }

    /// Where `id` is in id order.
    fn position(&self, id: &NodeId) -> Option<usize> {
        let hash = id_hash(id);
        let first = self.by_hash.partition_point(|&(h, _)| h < hash);
        self.by_hash[first..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, i)| i as usize)
            .find(|&i| self.ids[i] == *id)
    }

    pub fn get(&self, id: &NodeId) -> Option<&Node> {
        self.at(self.position(id)?)
    }

    pub(crate) fn id_at(&self, i: usize) -> Option<&NodeId> {
        self.ids.get(i)
    }

    /// The node at `i` in id order, read from the saved parse on first use.
    pub(crate) fn at(&self, i: usize) -> Option<&Node> {
        let slot = self.slots.get(i)?;
        slot.get_or_init(|| self.read(i)).as_ref()
    }

    fn read(&self, i: usize) -> Option<Node> {
        let saved = self.saved.as_ref()?;
        saved.part.read(saved.ranges.get(i)?.clone(), |bytes| {
            shared_files::with_files(saved.files.clone(), || rmp_serde::from_slice(bytes).ok())
        })
    }

    /// Every node, in id order; nodes not read yet are read first, on every core.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Node> + '_ {
        self.all_read.get_or_init(|| {
            if let Some(saved) = &self.saved {
                // One read of the file for all of them, not one per node and file.
                saved.part.load_all();
                let unread: Vec<usize> = (0..self.len())
                    .filter(|&i| self.slots[i].get().is_none())
                    .collect();
                mart_project::parallel_map(&unread, |&i| {
                    self.at(i);
                });
            }
        });
        self.slots
            .iter()
            .filter_map(|s| s.get().and_then(Option::as_ref))
    }

    /// How many nodes are in memory (read, or never saved).
    #[cfg(test)]
    pub(crate) fn in_memory(&self) -> usize {
        self.slots.iter().filter(|s| s.get().is_some()).count()
    }
}
