//! Analyses kept between commands in `<target>/static_analysis.msgpack`: parsing SQL is
//! most of the analysis' cost, and a node whose SQL, mode and parents' columns are
//! unchanged analyses the same way again.
//!
//! Layout: a [`Head`] (8 bytes little-endian of length, then MessagePack: the mart build,
//! the node ids and where each one's entry ends), then each entry's MessagePack, back to
//! back. Loading decodes the head only; an entry is decoded when its node is analysed,
//! and entries this command did not touch are written back as the bytes they were, so a
//! one-node command of a large project neither decodes nor re-encodes the others.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use mart_sql::{Analysis, ColumnLineage, Problem, ProblemKind, SqlError, SyntaxError};

/// What the cache keeps of a node's analysis (no lineage: only the docs read it, and
/// they analyse on their own).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    key: u64,
    columns: Option<Vec<(String, Option<String>)>>,
    outcome: Outcome,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum Outcome {
    Analysed {
        problems: Vec<(u8, String, usize, usize, Option<String>)>,
        complete: bool,
        checked: usize,
        unchecked: usize,
    },
    Unparsed {
        message: String,
        offset: usize,
        sure: bool,
    },
    NotAQuery,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Head {
    build: String,
    ids: Vec<String>,
    /// Where each id's entry ends, counted from the end of the head.
    ends: Vec<u64>,
}

/// The entries of the file on disk, still encoded.
#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    at: HashMap<String, std::ops::Range<usize>>,
}

impl Kept {
    /// The file's entries, if it is one of this build's and whole.
    fn read(path: &Path, build: &str) -> Option<Self> {
        let bytes = std::fs::read(path).ok()?;
        let head_len =
            usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        let head_end = 8usize.checked_add(head_len)?;
        let head: Head = rmp_serde::from_slice(bytes.get(8..head_end)?).ok()?;
        if head.build != build || head.ids.len() != head.ends.len() {
            return None;
        }
        let mut at = HashMap::with_capacity(head.ids.len());
        let mut start = head_end;
        for (id, end) in head.ids.into_iter().zip(head.ends) {
            let end = head_end.checked_add(usize::try_from(end).ok()?)?;
            if end < start || end > bytes.len() {
                return None;
            }
            at.insert(id, start..end);
            start = end;
        }
        Some(Kept { bytes, at })
    }

    fn entry(&self, id: &str) -> Option<Entry> {
        let range = self.at.get(id)?.clone();
        rmp_serde::from_slice(self.bytes.get(range)?).ok()
    }

    fn raw(&self, id: &str) -> Option<&[u8]> {
        self.bytes.get(self.at.get(id)?.clone())
    }
}

/// A kept analysis: the node's sure columns and what analysing it gave.
pub(crate) type Reused = (Option<Vec<ColumnLineage>>, Result<Analysis, SqlError>);

pub(crate) struct Cache {
    /// `None`: nothing is read or written.
    path: Option<PathBuf>,
    build: String,
    old: Kept,
    new: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// The cache of `target_dir`, empty when written by another build of mart.
    pub(crate) fn load(target_dir: &Path, build: &str) -> Self {
        let path = target_dir.join("static_analysis.msgpack");
        let old = Kept::read(&path, build).unwrap_or_default();
        Self {
            path: Some(path),
            build: build.to_string(),
            old,
            new: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn disabled() -> Self {
        Self {
            path: None,
            build: String::new(),
            old: Kept::default(),
            new: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, id: &str, key: u64) -> Option<Reused> {
        // A reused entry stays in the file as it is: nothing to keep.
        let entry = self.old.entry(id).filter(|e| e.key == key)?;
        let columns = entry.columns.as_ref().map(|columns| {
            columns
                .iter()
                .map(|(name, data_type)| super::shapes::column(name.clone(), data_type.clone()))
                .collect()
        });
        let outcome = match &entry.outcome {
            Outcome::Analysed {
                problems,
                complete,
                checked,
                unchecked,
            } => Ok(Analysis {
                columns: columns.clone().unwrap_or_default(),
                complete: *complete,
                problems: problems
                    .iter()
                    .map(|(kind, message, start, end, help)| Problem {
                        kind: kind_of(*kind),
                        message: message.clone(),
                        range: *start..*end,
                        help: help.clone(),
                    })
                    .collect(),
                checked: *checked,
                unchecked: *unchecked,
            }),
            Outcome::Unparsed {
                message,
                offset,
                sure,
            } => Err(SqlError::Parse(SyntaxError {
                message: message.clone(),
                offset: *offset,
                sure: *sure,
            })),
            Outcome::NotAQuery => Err(SqlError::NotAQuery),
        };
        Some((columns, outcome))
    }

    pub(crate) fn put(
        &self,
        id: &str,
        key: u64,
        columns: Option<&[ColumnLineage]>,
        outcome: &Result<Analysis, SqlError>,
    ) {
        let outcome = match outcome {
            Ok(a) => Outcome::Analysed {
                problems: a
                    .problems
                    .iter()
                    .map(|p| {
                        let kind = p.kind as u8;
                        (
                            kind,
                            p.message.clone(),
                            p.range.start,
                            p.range.end,
                            p.help.clone(),
                        )
                    })
                    .collect(),
                complete: a.complete,
                checked: a.checked,
                unchecked: a.unchecked,
            },
            Err(SqlError::Parse(e)) => Outcome::Unparsed {
                message: e.message.clone(),
                offset: e.offset,
                sure: e.sure,
            },
            Err(SqlError::NotAQuery) => Outcome::NotAQuery,
        };
        let columns = columns.map(|columns| {
            columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type.clone()))
                .collect()
        });
        self.keep(
            id,
            Entry {
                key,
                columns,
                outcome,
            },
        );
    }

    fn keep(&self, id: &str, entry: Entry) {
        if self.path.is_none() {
            return;
        }
        let mut new = self.new.lock().unwrap_or_else(|e| e.into_inner());
        new.insert(id.to_string(), entry);
    }

    /// Writes what this command analysed or reused; a failure only costs the next
    /// command its reuse.
    pub(crate) fn save(&self) {
        let Some(path) = &self.path else {
            return;
        };
        // Only a node analysed again (its kept entry missing or stale) changes the file.
        let new = std::mem::take(&mut *self.new.lock().unwrap_or_else(|e| e.into_inner()));
        if new.is_empty() {
            return;
        }
        // Nodes this command did not analyse keep their entries, as they were written.
        let mut ids: Vec<&String> = self.old.at.keys().chain(new.keys()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut body = Vec::with_capacity(self.old.bytes.len());
        let mut ends = Vec::with_capacity(ids.len());
        for id in &ids {
            match new.get(*id) {
                Some(entry) => {
                    if rmp_serde::encode::write(&mut body, entry).is_err() {
                        return;
                    }
                }
                None => body.extend_from_slice(self.old.raw(id).unwrap_or_default()),
            }
            ends.push(body.len() as u64);
        }
        let head = Head {
            build: self.build.clone(),
            ids: ids.into_iter().cloned().collect(),
            ends,
        };
        let Ok(head) = rmp_serde::to_vec(&head) else {
            return;
        };
        let mut bytes = Vec::with_capacity(8 + head.len() + body.len());
        bytes.extend_from_slice(&(head.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(&body);
        let temp = path.with_extension(format!("msgpack.{}", std::process::id()));
        if std::fs::write(&temp, bytes).is_ok() {
            let _ = std::fs::rename(&temp, path);
        }
    }
}

fn kind_of(kind: u8) -> ProblemKind {
    [
        ProblemKind::UnknownColumn,
        ProblemKind::UnknownQualifier,
        ProblemKind::AmbiguousColumn,
        ProblemKind::ReservedWord,
    ]
    .into_iter()
    .find(|k| *k as u8 == kind)
    .unwrap_or(ProblemKind::UnknownColumn)
}

/// The key of a node's analysis: its SQL, its mode and what its parents provide.
pub(crate) fn key<'a>(
    sql: &str,
    mode: u8,
    parents: impl Iterator<Item = Option<&'a [ColumnLineage]>>,
) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    sql.hash(&mut hasher);
    mode.hash(&mut hasher);
    for parent in parents {
        match parent {
            None => 0u8.hash(&mut hasher),
            Some(columns) => {
                1u8.hash(&mut hasher);
                for c in columns {
                    c.name.hash(&mut hasher);
                    c.data_type.hash(&mut hasher);
                }
            }
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed(checked: usize) -> Result<Analysis, SqlError> {
        Ok(Analysis {
            columns: Vec::new(),
            complete: true,
            problems: Vec::new(),
            checked,
            unchecked: 0,
        })
    }

    #[test]
    fn entries_come_back_and_the_untouched_are_written_back_as_they_were() {
        let dir = std::env::temp_dir().join(format!("mart_sa_cache_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cache = Cache::load(&dir, "b1");
        for (i, id) in ["model.a", "model.b", "model.c"].iter().enumerate() {
            cache.put(id, i as u64, None, &analysed(i + 10));
        }
        cache.save();
        let entry_bytes = |cache: &Cache, id: &str| cache.old.raw(id).unwrap().to_vec();

        let second = Cache::load(&dir, "b1");
        assert_eq!(second.old.at.len(), 3);
        let (_, outcome) = second.get("model.b", 1).unwrap();
        assert_eq!(outcome.unwrap().checked, 11);
        // A changed key is a miss; b is analysed again with another outcome.
        assert!(second.get("model.c", 7).is_none());
        second.put("model.c", 7, None, &analysed(99));
        let (a, b) = (
            entry_bytes(&second, "model.a"),
            entry_bytes(&second, "model.b"),
        );
        second.save();

        let third = Cache::load(&dir, "b1");
        assert_eq!(entry_bytes(&third, "model.a"), a);
        assert_eq!(entry_bytes(&third, "model.b"), b);
        let (_, outcome) = third.get("model.c", 7).unwrap();
        assert_eq!(outcome.unwrap().checked, 99);
        // Another build's file, or a damaged one, keeps nothing.
        assert!(Cache::load(&dir, "b2").old.at.is_empty());
        let path = dir.join("static_analysis.msgpack");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Cache::load(&dir, "b1").old.at.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
