//! Analyses kept between commands in `<target>/static_analysis.msgpack`: parsing SQL is
//! most of the analysis' cost, and a node whose SQL, mode and parents' columns are
//! unchanged analyses the same way again.

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
    outcome: Kept,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum Kept {
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

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct File {
    build: String,
    entries: HashMap<String, Entry>,
}

/// A kept analysis: the node's sure columns and what analysing it gave.
pub(crate) type Reused = (Option<Vec<ColumnLineage>>, Result<Analysis, SqlError>);

pub(crate) struct Cache {
    /// `None`: nothing is read or written.
    path: Option<PathBuf>,
    build: String,
    old: HashMap<String, Entry>,
    new: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    /// The cache of `target_dir`, empty when written by another build of mart.
    pub(crate) fn load(target_dir: &Path, build: &str) -> Self {
        let path = target_dir.join("static_analysis.msgpack");
        let old = std::fs::read(&path)
            .ok()
            .and_then(|bytes| rmp_serde::from_slice::<File>(&bytes).ok())
            .filter(|f| f.build == build)
            .map(|f| f.entries)
            .unwrap_or_default();
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
            old: HashMap::new(),
            new: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, id: &str, key: u64) -> Option<Reused> {
        let entry = self.old.get(id).filter(|e| e.key == key)?;
        self.keep(id, entry.clone());
        let columns = entry.columns.as_ref().map(|columns| {
            columns
                .iter()
                .map(|(name, data_type)| super::shapes::column(name.clone(), data_type.clone()))
                .collect()
        });
        let outcome = match &entry.outcome {
            Kept::Analysed {
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
            Kept::Unparsed {
                message,
                offset,
                sure,
            } => Err(SqlError::Parse(SyntaxError {
                message: message.clone(),
                offset: *offset,
                sure: *sure,
            })),
            Kept::NotAQuery => Err(SqlError::NotAQuery),
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
            Ok(a) => Kept::Analysed {
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
            Err(SqlError::Parse(e)) => Kept::Unparsed {
                message: e.message.clone(),
                offset: e.offset,
                sure: e.sure,
            },
            Err(SqlError::NotAQuery) => Kept::NotAQuery,
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
        let new = std::mem::take(&mut *self.new.lock().unwrap_or_else(|e| e.into_inner()));
        if new
            .iter()
            .all(|(id, e)| self.old.get(id).is_some_and(|o| o.key == e.key))
        {
            return;
        }
        // Nodes this command did not analyse keep their entries.
        let mut entries = self.old.clone();
        entries.extend(new);
        let file = File {
            build: self.build.clone(),
            entries,
        };
        if let Ok(bytes) = rmp_serde::to_vec(&file) {
            let temp = path.with_extension(format!("msgpack.{}", std::process::id()));
            if std::fs::write(&temp, bytes).is_ok() {
                let _ = std::fs::rename(&temp, path);
            }
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
