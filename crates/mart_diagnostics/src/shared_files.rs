//! Serde support for `Arc<SourceFile>` fields that many values share (a property file is
//! the file of every test declared in it): inside [`collect_files`] each file is written
//! once, as an index into a table, and [`with_files`] reads the indices back against a
//! [`FileTable`]. Outside those scopes (de)serializing such a field is an error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SourceFile;

/// Reads file `i` of a saved table; `None` when it cannot be read.
pub type LoadFile = dyn Fn(usize) -> Option<SourceFile> + Send + Sync;

/// The files a reading scope resolves indices against. A lazy table reads each file the
/// first time a value refers to it, so values never read cost nothing.
pub struct FileTable {
    slots: Vec<OnceLock<Option<Arc<SourceFile>>>>,
    load: Option<Box<LoadFile>>,
}

impl FileTable {
    /// A table of files already in memory.
    pub fn new(files: Vec<Arc<SourceFile>>) -> Self {
        FileTable {
            slots: files.into_iter().map(|f| OnceLock::from(Some(f))).collect(),
            load: None,
        }
    }

    /// A table of `len` files, each read by `load` on first use.
    pub fn lazy(len: usize, load: Box<LoadFile>) -> Self {
        FileTable {
            slots: (0..len).map(|_| OnceLock::new()).collect(),
            load: Some(load),
        }
    }

    pub fn get(&self, i: usize) -> Option<Arc<SourceFile>> {
        let slot = self.slots.get(i)?;
        slot.get_or_init(|| self.load.as_ref().and_then(|load| load(i)).map(Arc::new))
            .clone()
    }
}

/// Writing: the files met so far, by pointer. Reading: the table written.
enum Table {
    Collect {
        files: Vec<Arc<SourceFile>>,
        index: HashMap<usize, u32>,
    },
    Read(Arc<FileTable>),
}

thread_local! {
    static TABLE: RefCell<Option<Table>> = const { RefCell::new(None) };
}

/// Runs `write` (which serializes values holding shared files) and returns its result
/// with the table of the files it met, in index order.
pub fn collect_files<T>(write: impl FnOnce() -> T) -> (T, Vec<Arc<SourceFile>>) {
    let outer = TABLE.with(|t| {
        t.borrow_mut().replace(Table::Collect {
            files: Vec::new(),
            index: HashMap::new(),
        })
    });
    let out = write();
    let files = match TABLE.with(|t| std::mem::replace(&mut *t.borrow_mut(), outer)) {
        Some(Table::Collect { files, .. }) => files,
        _ => Vec::new(),
    };
    (out, files)
}

/// Runs `read` (which deserializes values written inside [`collect_files`]) against
/// `files`; threads reading at once share one table. Scopes nest: a node read lazily
/// inside another scope restores it afterwards.
pub fn with_files<T>(files: Arc<FileTable>, read: impl FnOnce() -> T) -> T {
    let outer = TABLE.with(|t| t.borrow_mut().replace(Table::Read(files)));
    let out = read();
    TABLE.with(|t| *t.borrow_mut() = outer);
    out
}

fn index_of(file: &Arc<SourceFile>) -> Option<u32> {
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        let Some(Table::Collect { files, index }) = table.as_mut() else {
            return None;
        };
        let next = files.len() as u32;
        let i = *index.entry(Arc::as_ptr(file) as usize).or_insert(next);
        if i == next {
            files.push(file.clone());
        }
        Some(i)
    })
}

fn file_at(i: u32) -> Option<Arc<SourceFile>> {
    // The table is cloned out first: reading a file must not hold the thread's borrow.
    let table = TABLE.with(|t| match t.borrow().as_ref()? {
        Table::Read(files) => Some(files.clone()),
        Table::Collect { .. } => None,
    })?;
    table.get(i as usize)
}

pub fn serialize<S: Serializer>(file: &Arc<SourceFile>, s: S) -> Result<S::Ok, S::Error> {
    index_of(file)
        .ok_or_else(|| S::Error::custom("a shared file outside collect_files"))?
        .serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<SourceFile>, D::Error> {
    let i = u32::deserialize(d)?;
    file_at(i).ok_or_else(|| D::Error::custom(format!("no shared file {i}")))
}

/// The same for `Option<Arc<SourceFile>>` fields.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        file: &Option<Arc<SourceFile>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match file {
            Some(file) => Some(
                index_of(file)
                    .ok_or_else(|| S::Error::custom("a shared file outside collect_files"))?,
            )
            .serialize(s),
            None => None::<u32>.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<SourceFile>>, D::Error> {
        match Option::<u32>::deserialize(d)? {
            Some(i) => file_at(i)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("no shared file {i}"))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Two {
        #[serde(with = "crate::shared_files")]
        a: Arc<SourceFile>,
        #[serde(with = "crate::shared_files::option")]
        b: Option<Arc<SourceFile>>,
    }

    #[test]
    fn a_shared_file_is_written_once_and_shared_again_when_read() {
        let file = Arc::new(SourceFile::new("models/_schema.yml", "version: 2\n"));
        let value = Two {
            a: file.clone(),
            b: Some(file),
        };
        let (json, files) = collect_files(|| serde_json::to_string(&value));
        let json = json.unwrap_or_default();
        assert_eq!(json, r#"{"a":0,"b":0}"#);
        assert_eq!(files.len(), 1);
        let back: Two = with_files(Arc::new(FileTable::new(files)), || {
            serde_json::from_str(&json)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let shared = back.b.as_ref().map(|b| Arc::ptr_eq(&back.a, b));
        assert_eq!(shared, Some(true));
        assert_eq!(back.a.text.as_ref(), "version: 2\n");
    }

    #[test]
    fn outside_a_scope_it_is_an_error() {
        let value = Two {
            a: Arc::new(SourceFile::new("a.sql", "select 1")),
            b: None,
        };
        assert!(serde_json::to_string(&value).is_err());
    }

    #[test]
    fn a_lazy_table_reads_each_file_once_and_only_when_used() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        let table = Arc::new(FileTable::lazy(
            3,
            Box::new(move |i| {
                counter.fetch_add(1, Ordering::SeqCst);
                (i < 2).then(|| SourceFile::new(format!("f{i}.sql"), "select 1"))
            }),
        ));
        let back: Two = with_files(table.clone(), || serde_json::from_str(r#"{"a":1,"b":1}"#))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.a.path.to_string_lossy(), "f1.sql");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // A file the loader cannot read is an error where it is used, and is not retried.
        let missing = with_files(table.clone(), || {
            serde_json::from_str::<Two>(r#"{"a":2,"b":null}"#)
        });
        assert!(missing.is_err());
        assert!(table.get(2).is_none());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert!(table.get(3).is_none());
    }

    #[test]
    fn scopes_nest() {
        let inner = Arc::new(FileTable::new(vec![Arc::new(SourceFile::new(
            "in.sql", "",
        ))]));
        let outer = Arc::new(FileTable::new(vec![Arc::new(SourceFile::new(
            "out.sql", "",
        ))]));
        let paths = with_files(outer, || {
            let inner: Two = with_files(inner, || serde_json::from_str(r#"{"a":0,"b":null}"#))
                .unwrap_or_else(|e| panic!("{e}"));
            let outer: Two =
                serde_json::from_str(r#"{"a":0,"b":null}"#).unwrap_or_else(|e| panic!("{e}"));
            (inner.a.path.clone(), outer.a.path.clone())
        });
        assert_eq!(paths.0.to_string_lossy(), "in.sql");
        assert_eq!(paths.1.to_string_lossy(), "out.sql");
    }
}
