//! Serde support for `Arc<SourceFile>` fields that many values share (a property file is
//! the file of every test declared in it): inside [`collect_files`] each file is written
//! once, as an index into a table, and [`with_files`] reads the indices back against
//! that table. Outside those scopes (de)serializing such a field is an error.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SourceFile;

/// Writing: the files met so far, by pointer. Reading: the table written.
enum Table {
    Collect {
        files: Vec<Arc<SourceFile>>,
        index: HashMap<usize, u32>,
    },
    Read(Arc<[Arc<SourceFile>]>),
}

thread_local! {
    static TABLE: RefCell<Option<Table>> = const { RefCell::new(None) };
}

/// Runs `write` (which serializes values holding shared files) and returns its result
/// with the table of the files it met, in index order.
pub fn collect_files<T>(write: impl FnOnce() -> T) -> (T, Vec<Arc<SourceFile>>) {
    TABLE.with(|t| {
        *t.borrow_mut() = Some(Table::Collect {
            files: Vec::new(),
            index: HashMap::new(),
        })
    });
    let out = write();
    let files = match TABLE.with(|t| t.borrow_mut().take()) {
        Some(Table::Collect { files, .. }) => files,
        _ => Vec::new(),
    };
    (out, files)
}

/// Runs `read` (which deserializes values written inside [`collect_files`]) against the
/// table that scope returned; threads reading at once share one table.
pub fn with_files<T>(files: Arc<[Arc<SourceFile>]>, read: impl FnOnce() -> T) -> T {
    TABLE.with(|t| *t.borrow_mut() = Some(Table::Read(files)));
    let out = read();
    TABLE.with(|t| t.borrow_mut().take());
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
    TABLE.with(|t| match t.borrow().as_ref()? {
        Table::Read(files) => files.get(i as usize).cloned(),
        Table::Collect { .. } => None,
    })
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
        let back: Two = with_files(files.into(), || serde_json::from_str(&json))
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
}
