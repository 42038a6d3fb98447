//! Writing `<target>/manifest.json`. A large project's manifest is tens of megabytes, and
//! an Airflow task that runs one node must not pay for writing all of it: when the file on
//! disk was written from the same saved parse, only the entries of the nodes this command
//! compiled and the metadata are replaced, the rest of the file is copied as is.
//!
//! What the file holds, either way: every node of the parse; a node's `compiled`,
//! `compiled_code` and `compiled_path` are those of the latest command since the parse
//! changed that compiled it (a node no command compiled since is `compiled: false`).
//! A full write (the parse changed) starts over with this command's nodes only, as dbt's
//! per-invocation manifest. Exposures', metrics' and saved queries' `created_at` stay
//! those of the full write.
//!
//! Beside the file, `manifest.json.index` records which saved parse it was written from,
//! its length and modification time (a file another tool wrote is never spliced) and
//! where the metadata and each node's entry are: a line of JSON, then 16 bytes a node
//! (start and end, little-endian), in the order of [`entry_ids`] (reading and writing
//! ten thousand ids as JSON cost a one-node run tens of milliseconds). Writers take `manifest.json.lock`
//! (concurrent Airflow tasks share one target folder): each reads the file the previous
//! one left, so none loses another's nodes; the file is replaced by renaming, so readers
//! never see half of it. A rerun of the same nodes, whose entries are the bytes already
//! there, writes only the metadata's changed values over the old ones (no structural byte
//! changes, so a racing reader still reads well-formed JSON) instead of copying the file.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use mart_compiler::Manifest;
use mart_graph::NodeId;
use mart_project::secrets::scrub;
use serde::{Deserialize, Serialize};

use crate::manifest::{
    manifest_metadata, manifest_node, manifest_without_nodes, node_entries, node_json,
    CompiledNodes,
};
use crate::Invocation;

/// How a command wrote manifest.json.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Built and written whole: the parse changed (or the file was not mart's).
    Full,
    /// The metadata and the compiled nodes' entries replaced in the file of the same parse.
    Updated,
}

/// Where the parts of manifest.json are, and what it was written from.
struct Index {
    head: Head,
    /// The byte range of each entry's value, in the order of [`entry_ids`].
    values: Vec<(u64, u64)>,
}

/// The index's first line.
#[derive(Serialize, Deserialize)]
struct Head {
    /// The saved parse's content id.
    parse_id: String,
    /// The file as written, to notice another writer (dbt, an older mart).
    len: u64,
    modified_ns: u64,
    /// Byte range of the metadata object.
    metadata: (u64, u64),
    /// When the file was last written whole (nanoseconds): updates keep it, so it tells
    /// which full write the file's entries other than the updated ones come from.
    #[serde(default)]
    written_whole_ns: u64,
}

impl Index {
    fn read(path: &Path) -> Option<Index> {
        let bytes = std::fs::read(path).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let head: Head = serde_json::from_slice(&bytes[..newline]).ok()?;
        let ranges = &bytes[newline + 1..];
        if ranges.len() % 16 != 0 {
            return None;
        }
        let number = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        let values = ranges
            .chunks_exact(16)
            .map(|r| (number(&r[..8]), number(&r[8..])))
            .collect();
        Some(Index { head, values })
    }

    fn write(&self, path: &Path) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(&self.head).map_err(io::Error::other)?;
        bytes.push(b'\n');
        for (start, end) in &self.values {
            bytes.extend(start.to_le_bytes());
            bytes.extend(end.to_le_bytes());
        }
        let tmp = temporary(path);
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, path)
    }
}

/// The ids of manifest.json's `nodes` entries, in their (sorted) order, from the graph
/// (reading no node): every node but unit tests, which have a map of their own.
fn entry_ids(manifest: &Manifest) -> Vec<&NodeId> {
    manifest
        .nodes
        .ids()
        .iter()
        .filter(|id| {
            let kind = manifest.dag.node(id).map(|n| n.resource_type);
            kind.is_some_and(|k| k != mart_graph::ResourceType::UnitTest)
        })
        .collect()
}

/// The file names beside manifest.json.
struct Paths {
    manifest: PathBuf,
    index: PathBuf,
    lock: PathBuf,
}

impl Paths {
    fn new(target_dir: &Path) -> Self {
        Paths {
            manifest: target_dir.join("manifest.json"),
            index: target_dir.join("manifest.json.index"),
            lock: target_dir.join("manifest.json.lock"),
        }
    }
}

/// Writes manifest.json for this command: `compiled` holds the SQL of the nodes it
/// compiled. With `parse_id` (the saved parse the manifest comes from), a file written from
/// the same parse is updated in place of a full write.
pub fn write_manifest_file(
    target_dir: &Path,
    parse_id: Option<&str>,
    manifest: &Manifest,
    env: &mart_jinja::JinjaEnv,
    compiled: &CompiledNodes,
    invocation: &Invocation,
) -> io::Result<Written> {
    std::fs::create_dir_all(target_dir)?;
    let paths = Paths::new(target_dir);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&paths.lock)?;
    // Released when the file is closed, on return or if the process dies.
    lock.lock()?;
    if let Some(id) = parse_id {
        if let Some(index) = current_index(&paths, id) {
            if let Some(index) = update(&paths, index, manifest, compiled, invocation)? {
                index.write(&paths.index)?;
                return Ok(Written::Updated);
            }
        }
    }
    // The old index goes first: a crash before the new one is written leaves none.
    remove_if_present(&paths.index)?;
    let index = write_full(&paths, manifest, env, compiled, invocation, parse_id)?;
    if let Some(index) = index {
        index.write(&paths.index)?;
    }
    Ok(Written::Full)
}

/// Which write of manifest.json the file in `target_dir` comes from: the saved parse it
/// was written from and when it was last written whole, if only mart has written it since
/// (updates from the same parse keep this; a full write or another tool's changes it).
pub fn manifest_lineage(target_dir: &Path) -> Option<(String, u64)> {
    let paths = Paths::new(target_dir);
    let index = Index::read(&paths.index)?;
    let (len, modified_ns) = identity(&paths.manifest).ok()?;
    let head = index.head;
    (head.len == len && head.modified_ns == modified_ns && head.written_whole_ns != 0)
        .then_some((head.parse_id, head.written_whole_ns))
}

/// The index of manifest.json if it was written from this parse and not touched since.
fn current_index(paths: &Paths, parse_id: &str) -> Option<Index> {
    let index = Index::read(&paths.index)?;
    let (len, modified_ns) = identity(&paths.manifest).ok()?;
    let head = &index.head;
    let same = head.parse_id == parse_id && head.len == len && head.modified_ns == modified_ns;
    (same && index.is_ordered()).then_some(index)
}

impl Index {
    /// Whether the ranges follow each other in the file: an index that is not is not used
    /// (the file is written whole).
    fn is_ordered(&self) -> bool {
        let mut at = 0;
        let ranges = std::iter::once(&self.head.metadata).chain(&self.values);
        let ordered = ranges.into_iter().all(|&(start, end)| {
            let after = at <= start && start <= end;
            at = end;
            after
        });
        ordered && at <= self.head.len
    }
}

/// A file's length and modification time, in nanoseconds.
pub fn identity(path: &Path) -> io::Result<(u64, u64)> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_err(io::Error::other)?;
    let ns = u64::try_from(modified.as_nanos()).map_err(io::Error::other)?;
    Ok((meta.len(), ns))
}

/// A temporary file beside `path`, its own to this process.
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".tmp{}", std::process::id()));
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A writer that counts what it wrote, for the index's byte ranges.
struct Counting<W> {
    out: W,
    at: u64,
}

impl<W: io::Write> Counting<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<(u64, u64)> {
        self.out.write_all(bytes)?;
        let start = self.at;
        self.at += bytes.len() as u64;
        Ok((start, self.at))
    }
}

/// How many nodes' JSON a full write holds at once.
const NODES_PER_CHUNK: usize = 1024;

/// Builds and writes the whole manifest; returns its index when there is a parse id.
fn write_full(
    paths: &Paths,
    manifest: &Manifest,
    env: &mart_jinja::JinjaEnv,
    compiled: &CompiledNodes,
    invocation: &Invocation,
    parse_id: Option<&str>,
) -> io::Result<Option<Index>> {
    let document = manifest_without_nodes(manifest, env, invocation);
    // The document without its nodes is `{"metadata":…,"nodes":{},…}`: the nodes are
    // written between its halves, so that where each one lands is known.
    let skeleton = serde_json::to_vec(&document).map_err(io::Error::other)?;
    let metadata = serde_json::to_vec(&document.metadata).map_err(io::Error::other)?;
    let head = [br#"{"metadata":"#.as_slice(), &metadata, br#","nodes":{}"#].concat();
    let rest = skeleton
        .strip_prefix(head.as_slice())
        .ok_or_else(|| io::Error::other("the manifest's fields are not in the order written"))?;
    let tmp = temporary(&paths.manifest);
    let mut out = Counting {
        out: io::BufWriter::with_capacity(1 << 20, File::create(&tmp)?),
        at: 0,
    };
    out.put(br#"{"metadata":"#)?;
    let metadata = out.put(scrub(&String::from_utf8_lossy(&metadata)).as_bytes())?;
    out.put(br#","nodes":{"#)?;
    let entries = node_entries(manifest);
    let mut values = Vec::with_capacity(entries.len());
    // A chunk at a time: the JSON of every node at once was the largest piece of fresh
    // memory a full parse touched (tens of megabytes at 10,000 models).
    for (c, chunk) in entries.chunks(NODES_PER_CHUNK).enumerate() {
        let json = node_json(manifest, chunk, compiled).map_err(io::Error::other)?;
        for (i, (node, value)) in chunk.iter().zip(json).enumerate() {
            let key = serde_json::to_string(node.id.as_str()).map_err(io::Error::other)?;
            let separator = if c == 0 && i == 0 { "" } else { "," };
            out.put(format!("{separator}{}:", scrub(&key)).as_bytes())?;
            values.push(out.put(scrub(value.get()).as_bytes())?);
        }
    }
    // The index finds entries by the graph's ids: only when they are the file's.
    let ids = entry_ids(manifest);
    let indexable =
        ids.len() == entries.len() && ids.iter().zip(&entries).all(|(a, b)| **a == b.id);
    out.put(b"}")?;
    out.put(scrub(&String::from_utf8_lossy(rest)).as_bytes())?;
    out.out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &paths.manifest)?;
    // Not freed: the command ends soon after, and freeing a large project's manifest one
    // string at a time costs a one-node run a seventh of its time.
    std::mem::forget(document);
    let Some(parse_id) = parse_id.filter(|_| indexable) else {
        return Ok(None);
    };
    let (len, modified_ns) = identity(&paths.manifest)?;
    Ok(Some(Index {
        head: Head {
            parse_id: parse_id.to_string(),
            len,
            modified_ns,
            metadata,
            written_whole_ns: modified_ns,
        },
        values,
    }))
}

/// Replaces the metadata and the compiled nodes' entries of the file `index` describes;
/// `None` when a compiled node has no entry there (then the file is written whole).
fn update(
    paths: &Paths,
    mut index: Index,
    manifest: &Manifest,
    compiled: &CompiledNodes,
    invocation: &Invocation,
) -> io::Result<Option<Index>> {
    // Unit tests have no compiled fields in the manifest (they are not in `nodes`).
    let changed: Vec<(&NodeId, &String)> = compiled
        .sql
        .iter()
        .filter(|(id, _)| manifest.node(id).is_some_and(|n| n.unit_test.is_none()))
        .collect();
    let ids = entry_ids(manifest);
    if ids.len() != index.values.len() {
        return Ok(None);
    }
    let mut replacements: Vec<(usize, Vec<u8>)> = Vec::with_capacity(changed.len());
    for entry in mart_project::parallel_map(&changed, |(id, sql)| {
        let position = ids.binary_search(id);
        let node = manifest_node(
            manifest,
            manifest.node(id)?,
            Some(sql),
            compiled.column_types.get(*id),
        );
        let json = serde_json::to_string(&node).ok()?;
        Some((position.ok()?, scrub(&json).into_owned().into_bytes()))
    }) {
        let Some(entry) = entry else {
            return Ok(None);
        };
        replacements.push(entry);
    }
    replacements.sort_by_key(|(position, _)| *position);
    let metadata = serde_json::to_string(&manifest_metadata(manifest, invocation))
        .map_err(io::Error::other)?;
    let metadata = scrub(&metadata);
    if write_in_place(paths, &index, &replacements, metadata.as_bytes())? {
        (index.head.len, index.head.modified_ns) = identity(&paths.manifest)?;
        return Ok(Some(index));
    }
    let tmp = temporary(&paths.manifest);
    let mut old = File::open(&paths.manifest)?;
    let mut out = io::BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
    let mut splice = Splice {
        old: &mut old,
        out: &mut out,
        read_at: 0,
        shift: 0,
    };
    index.head.metadata = splice.replace(index.head.metadata, metadata.as_bytes())?;
    let mut next = replacements.iter().peekable();
    for (i, range) in index.values.iter_mut().enumerate() {
        match next.next_if(|(position, _)| *position == i) {
            Some((_, bytes)) => *range = splice.replace(*range, bytes)?,
            None => *range = (splice.moved(range.0), splice.moved(range.1)),
        }
    }
    splice.copy_to(index.head.len)?;
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &paths.manifest)?;
    (index.head.len, index.head.modified_ns) = identity(&paths.manifest)?;
    Ok(Some(index))
}

/// Writes the metadata over the old one when that is all that changed: the nodes' entries
/// are the bytes already there (a rerun of the same nodes), and the metadata differs only in
/// characters inside values (the time and invocation id, digits and letters), so no byte of
/// the file's structure changes and a reader racing the write still reads well-formed JSON.
/// Saves copying the whole file; returns whether it wrote.
fn write_in_place(
    paths: &Paths,
    index: &Index,
    replacements: &[(usize, Vec<u8>)],
    metadata: &[u8],
) -> io::Result<bool> {
    use std::os::unix::fs::FileExt as _;
    let file = File::options()
        .read(true)
        .write(true)
        .open(&paths.manifest)?;
    let old_bytes = |(start, end): (u64, u64)| -> io::Result<Vec<u8>> {
        let mut bytes =
            vec![0; usize::try_from(end.saturating_sub(start)).map_err(io::Error::other)?];
        file.read_exact_at(&mut bytes, start)?;
        Ok(bytes)
    };
    for (position, bytes) in replacements {
        let Some(&range) = index.values.get(*position) else {
            return Ok(false);
        };
        if range.1 - range.0 != bytes.len() as u64 || old_bytes(range)? != *bytes {
            return Ok(false);
        }
    }
    let range = index.head.metadata;
    if range.1 - range.0 != metadata.len() as u64 {
        return Ok(false);
    }
    let old = old_bytes(range)?;
    let value_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'.' | b'+');
    let only_values = old
        .iter()
        .zip(metadata)
        .all(|(&a, &b)| a == b || (value_byte(a) && value_byte(b)));
    if !only_values {
        return Ok(false);
    }
    file.write_all_at(metadata, range.0)?;
    Ok(true)
}

/// Copies the old file to the new one, replacing ranges in increasing order; `shift` is
/// how much later than in the old file what follows lands in the new one.
struct Splice<'a, W> {
    old: &'a mut File,
    out: &'a mut W,
    read_at: u64,
    shift: i64,
}

impl<W: io::Write> Splice<'_, W> {
    /// Where `at` of the old file lands in the new one.
    fn moved(&self, at: u64) -> u64 {
        at.saturating_add_signed(self.shift)
    }

    /// Copies the old file up to `end`.
    fn copy_to(&mut self, end: u64) -> io::Result<()> {
        let len = end
            .checked_sub(self.read_at)
            .ok_or_else(|| io::Error::other("manifest.json's index is out of order"))?;
        self.old.seek(SeekFrom::Start(self.read_at))?;
        let copied = io::copy(&mut (&mut *self.old).take(len), self.out)?;
        if copied != len {
            return Err(io::Error::other(
                "manifest.json is shorter than its index says",
            ));
        }
        self.read_at = end;
        Ok(())
    }

    /// Copies up to `range`, writes `bytes` in its place; returns where they landed.
    fn replace(&mut self, range: (u64, u64), bytes: &[u8]) -> io::Result<(u64, u64)> {
        self.copy_to(range.0)?;
        self.out.write_all(bytes)?;
        let start = self.moved(range.0);
        self.read_at = range.1;
        self.shift += bytes.len() as i64 - (range.1 - range.0) as i64;
        Ok((start, start + bytes.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_splice_replaces_ranges_and_says_where_everything_moved() {
        let dir = std::env::temp_dir().join(format!("mart_splice_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old");
        std::fs::write(&path, "0123456789").unwrap();
        let mut old = File::open(&path).unwrap();
        let mut out = Vec::new();
        let mut splice = Splice {
            old: &mut old,
            out: &mut out,
            read_at: 0,
            shift: 0,
        };
        assert_eq!(splice.replace((2, 4), b"abc").unwrap(), (2, 5));
        assert_eq!(splice.moved(5), 6);
        assert_eq!(splice.replace((6, 7), b"").unwrap(), (7, 7));
        assert_eq!(splice.moved(8), 8);
        splice.copy_to(10).unwrap();
        assert!(splice.copy_to(9).is_err());
        assert_eq!(String::from_utf8(out).unwrap(), "01abc45789");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_index_reads_back_what_was_written_and_a_cut_one_not_at_all() {
        let path = std::env::temp_dir().join(format!("mart_index_{}", std::process::id()));
        let index = Index {
            head: Head {
                parse_id: "0.1.0 abc".into(),
                len: 100,
                modified_ns: 7,
                metadata: (12, 20),
                written_whole_ns: 1,
            },
            values: vec![(30, 40), (41, 1 << 40)],
        };
        index.write(&path).unwrap();
        let back = Index::read(&path).unwrap();
        assert_eq!(back.head.parse_id, "0.1.0 abc");
        assert_eq!((back.head.len, back.head.modified_ns), (100, 7));
        assert_eq!(back.head.metadata, (12, 20));
        assert_eq!(back.values, index.values);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(Index::read(&path).is_none());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn an_index_out_of_order_is_not_used() {
        let index = |metadata, values: Vec<(u64, u64)>| Index {
            head: Head {
                parse_id: "p".into(),
                len: 100,
                modified_ns: 0,
                metadata,
                written_whole_ns: 1,
            },
            values,
        };
        assert!(index((12, 20), vec![(30, 40), (41, 50)]).is_ordered());
        assert!(!index((12, 20), vec![(41, 50), (30, 40)]).is_ordered());
        assert!(!index((12, 20), vec![(15, 40)]).is_ordered());
        assert!(!index((12, 20), vec![(30, 140)]).is_ordered());
    }
}
