//! The saved parses, `<target-path>/partial_parse/<settings>.msgpack`: a command on an
//! unchanged project skips reading property files and parse-rendering every model, which
//! is most of its start-up on a large project (each Airflow task starts mart for one node).
//! One file per settings (target, vars, ...), so that the tasks of a daily run, which pass
//! different `--vars`, each find theirs; the [`KEEP`] most recently used are kept.
//!
//! Layout: the [`Header`] as a length-prefixed frame (8 bytes little-endian, then
//! MessagePack): which mart build, the Jinja settings (target and vars), the
//! [`InputStamp`] of the project, and a checksum of the rest. Then the eager part, decoded
//! on loading, in frames: the [`Index`], the [`Body`], and the graph nodes (sources too,
//! sorted by id) in [`CHUNKS`] frames. Then the lazy part: the files nodes share and the
//! nodes in id order, each its own MessagePack, back to back, read one by one when first
//! used (see [`NodeStore`]). The file is reused only when the header matches exactly and
//! the checksum holds; anything unreadable is a miss, never an error.

use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use mart_diagnostics::shared_files::{self, FileTable};
use mart_diagnostics::SourceFile;
use mart_graph::GraphNode;
use mart_jinja::EnvSettings;
use mart_project::{InputStamp, MacroFile, ProjectConfig};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use crate::manifest::{Manifest, ManifestParts, Node};
use crate::node_store::{NodeStore, SavedNodes};

/// What a saved parse is valid for, besides the project on disk.
#[derive(Serialize, Deserialize)]
struct Header {
    /// Identifies the mart executable: a rebuilt mart never reads an older layout.
    build: String,
    /// The target and vars, as JSON.
    settings: String,
    stamp: InputStamp,
    /// MD5 of the stamp and everything after the header: what the parse holds, whatever
    /// settings made it (two settings that parse alike share one; see
    /// [`SavedParse::content_id`]).
    content: String,
    /// The length of the part decoded on loading (index, body, graph), which follows.
    eager_len: u64,
    /// CRC-32 of everything after the header: nodes are decoded long after loading, so
    /// damage must be found up front.
    checksum: u32,
}

/// Where each file and node ends in the lazy part, and how many graph frames there are.
#[derive(Serialize, Deserialize)]
struct Index {
    file_ends: Vec<u64>,
    node_ends: Vec<u64>,
    graph_frames: u32,
}

/// The manifest's parts but its nodes and graph, which have parts of the file of their own.
#[derive(Serialize, Deserialize)]
struct Body {
    manifest: ManifestParts,
    macro_files: Vec<MacroFile>,
}

/// Graph nodes are saved in this many frames, decoded in parallel.
const CHUNKS: usize = 16;

/// A parse read back from disk.
pub struct SavedParse {
    pub manifest: Manifest,
    pub macro_files: Vec<MacroFile>,
    /// Identifies what was parsed (the mart build and the saved bytes): equal ids, equal
    /// manifests. manifest.json's index records the id it was written from.
    pub content_id: String,
}

/// How many saved parses (settings) a target folder keeps: a daily run's tasks pass a
/// handful of `--vars` values.
const KEEP: usize = 8;

/// The saved parses' folder in the target folder.
const PARSE_CACHE_DIR: &str = "partial_parse";

/// Where the parse for these settings is saved: one file per settings key, named by its
/// CRC-32 (two keys with one name only take each other's place: the header holds the key).
pub fn parse_cache_path(root: &Path, config: &ProjectConfig, settings: &EnvSettings) -> PathBuf {
    let name = format!(
        "{:08x}.msgpack",
        crc32fast::hash(settings_key(settings).as_bytes())
    );
    root.join(&config.target_path)
        .join(PARSE_CACHE_DIR)
        .join(name)
}

/// The settings as saved and compared, secrets masked (a target field read from a secret
/// variable is stamped through that variable instead).
fn settings_key(settings: &EnvSettings) -> String {
    let key = serde_json::json!([
        settings.project_name,
        settings.target,
        settings.vars,
        settings.package_vars,
        settings.dispatch
    ])
    .to_string();
    mart_project::secrets::scrub(&key).into_owned()
}

/// Reads the saved parse at `path` if it was made by `build` for these settings and the
/// project in `root` is unchanged since.
pub fn load_saved_parse(
    path: &Path,
    build: &str,
    settings: &EnvSettings,
    root: &Path,
    config: &ProjectConfig,
) -> Option<SavedParse> {
    let mut file = std::fs::File::open(path).ok()?;
    let file_len = file.metadata().ok()?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let header_len = u64::from_le_bytes(len);
    if header_len > file_len {
        return None;
    }
    let mut header = vec![0u8; usize::try_from(header_len).ok()?];
    file.read_exact(&mut header).ok()?;
    let header: Header = rmp_serde::from_slice(&header).ok()?;
    if header.build != build || header.settings != settings_key(settings) {
        return None;
    }
    let eager_start = 8 + header_len;
    let lazy_start = eager_start.checked_add(header.eager_len)?;
    let lazy_len = usize::try_from(file_len.checked_sub(lazy_start)?).ok()?;
    let mut eager = vec![0u8; usize::try_from(header.eager_len).ok()?];
    file.read_exact(&mut eager).ok()?;
    let lazy = Arc::new(LazyPart {
        file,
        start: lazy_start,
        len: lazy_len,
        bytes: OnceLock::new(),
    });
    // Checking the project on disk and the checksum take about as long as decoding the
    // graph: both at once.
    let (intact, saved) = std::thread::scope(|s| {
        let intact = s
            .spawn(|| header.stamp.is_current(root, config) && lazy.check(&eager, header.checksum));
        let saved = decode(&eager, &lazy);
        (intact.join().unwrap_or(false), saved)
    });
    if !intact {
        return None;
    }
    mark_used(path);
    let mut saved = saved?;
    saved.content_id = content_id(build, &header.content);
    Some(saved)
}

fn content_id(build: &str, content: &str) -> String {
    format!("{build} {content}")
}

/// Records a use of the saved parse in its access time (its modification time stays when
/// it was saved), for [`evict`]: set explicitly, as file systems mounted `noatime` do not.
fn mark_used(path: &Path) {
    if let Ok(file) = std::fs::File::options().write(true).open(path) {
        let now = std::time::SystemTime::now();
        let _ = file.set_times(std::fs::FileTimes::new().set_accessed(now));
    }
}

/// Removes the saved parses in `dir` beyond the [`KEEP`] most recently used (by the later
/// of their access and modification times). A parse another command is reading stays
/// readable through its open file.
fn evict(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut saved: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            (path.extension()? == "msgpack").then_some(())?;
            let meta = e.metadata().ok()?;
            let used = meta.accessed().ok()?.max(meta.modified().ok()?);
            Some((used, path))
        })
        .collect();
    if saved.len() <= KEEP {
        return;
    }
    saved.sort();
    for (_, path) in &saved[..saved.len() - KEEP] {
        let _ = std::fs::remove_file(path);
    }
}

/// The part of a saved parse read on demand (the files and the nodes): range by range
/// from the file, or from memory once a command has asked for all of it.
pub(crate) struct LazyPart {
    file: std::fs::File,
    start: u64,
    len: usize,
    bytes: OnceLock<Option<Vec<u8>>>,
}

/// The checksum is computed through a buffer this big, so that checking it allocates
/// next to nothing (most commands read a few nodes of the part).
const CHECK_BUFFER: usize = 1 << 20;

impl LazyPart {
    /// Whether the checksum of `eager` and this part is `checksum`.
    fn check(&self, eager: &[u8], checksum: u32) -> bool {
        let mut crc = crc32fast::Hasher::new();
        crc.update(eager);
        let mut buffer = vec![0u8; CHECK_BUFFER.min(self.len)];
        let mut at = 0;
        while at < self.len {
            let chunk = &mut buffer[..CHECK_BUFFER.min(self.len - at)];
            if self
                .file
                .read_exact_at(chunk, self.start + at as u64)
                .is_err()
            {
                return false;
            }
            crc.update(chunk);
            at += chunk.len();
        }
        crc.finalize() == checksum
    }

    /// Reads the whole part into memory (once), for a command that reads every node.
    pub(crate) fn load_all(&self) {
        self.bytes.get_or_init(|| {
            let mut bytes = vec![0u8; self.len];
            self.file.read_exact_at(&mut bytes, self.start).ok()?;
            Some(bytes)
        });
    }

    /// `read` applied to the bytes in `range` (relative to the part's start).
    pub(crate) fn read<T>(
        &self,
        range: Range<usize>,
        read: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<T> {
        if range.start > range.end || range.end > self.len {
            return None;
        }
        if let Some(Some(bytes)) = self.bytes.get() {
            return read(&bytes[range]);
        }
        let mut bytes = vec![0u8; range.len()];
        self.file
            .read_exact_at(&mut bytes, self.start + range.start as u64)
            .ok()?;
        read(&bytes)
    }
}

fn decode(eager: &[u8], lazy: &Arc<LazyPart>) -> Option<SavedParse> {
    let mut frames = Frames {
        bytes: eager,
        at: 0,
    };
    let index: Index = rmp_serde::from_slice(&eager[frames.next()?]).ok()?;
    let body = frames.next()?;
    let graph_chunks: Vec<Range<usize>> = (0..index.graph_frames)
        .map(|_| frames.next())
        .collect::<Option<_>>()?;
    if frames.at != eager.len() {
        return None;
    }
    let file_ranges = ranges(&index.file_ends, 0)?;
    let node_ranges = ranges(&index.node_ends, file_ranges.last().map_or(0, |r| r.end))?;
    let file_part = lazy.clone();
    let files = Arc::new(FileTable::lazy(
        file_ranges.len(),
        Box::new(move |i| {
            file_part.read(file_ranges.get(i)?.clone(), |bytes| {
                let (path, text): (&str, &str) = rmp_serde::from_slice(bytes).ok()?;
                Some(SourceFile::new(path, text))
            })
        }),
    ));
    let body: Body =
        shared_files::with_files(files.clone(), || rmp_serde::from_slice(&eager[body])).ok()?;
    let mut graph_nodes: Vec<GraphNode> =
        Vec::with_capacity(node_ranges.len() + body.manifest.sources.len());
    for chunk in mart_project::parallel_map(&graph_chunks, |range| {
        rmp_serde::from_slice::<Vec<GraphNode>>(&eager[range.clone()]).ok()
    }) {
        graph_nodes.extend(chunk?);
    }
    let ids = graph_nodes
        .iter()
        .filter(|n| !n.resource_type.is_graph_only())
        .map(|n| n.id.clone())
        .collect();
    let store = NodeStore::saved(
        ids,
        SavedNodes {
            part: lazy.clone(),
            ranges: node_ranges,
            files,
        },
    )?;
    let manifest = Manifest::assemble(body.manifest, store, graph_nodes).ok()?;
    Some(SavedParse {
        manifest,
        macro_files: body.macro_files,
        content_id: String::new(),
    })
}

/// The ranges of items that end at `ends`, the first starting at `start`.
fn ranges(ends: &[u64], mut start: usize) -> Option<Vec<Range<usize>>> {
    ends.iter()
        .map(|&end| {
            let end = usize::try_from(end).ok()?;
            if end < start {
                return None;
            }
            let range = start..end;
            start = end;
            Some(range)
        })
        .collect()
}

/// Length-prefixed frames (8 bytes little-endian, then the bytes), as ranges.
struct Frames<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Frames<'_> {
    fn next(&mut self) -> Option<Range<usize>> {
        let len_end = self.at.checked_add(8)?;
        let len = self.bytes.get(self.at..len_end)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
        let end = len_end.checked_add(len)?;
        if end > self.bytes.len() {
            return None;
        }
        self.at = end;
        Some(len_end..end)
    }
}

fn push_frame(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend((frame.len() as u64).to_le_bytes());
    out.extend(frame);
}

/// Appends each item's MessagePack to `out`; returns where each ends.
fn encode_each<T: Serialize>(
    items: impl IntoIterator<Item = T>,
    out: &mut Vec<u8>,
) -> Result<Vec<u64>, rmp_serde::encode::Error> {
    items
        .into_iter()
        .map(|item| {
            rmp_serde::encode::write(out, &item)?;
            Ok(out.len() as u64)
        })
        .collect()
}

/// Saves a fresh parse for the next command. The stamp is taken after the parse, so it
/// includes the environment variables the parse read. Written to a temporary file and
/// renamed, so concurrent commands never read half a file. Returns the saved parse's
/// [`SavedParse::content_id`], or `None` when it could not be saved.
pub fn save_parse(
    path: &Path,
    build: &str,
    settings: &EnvSettings,
    stamp: InputStamp,
    manifest: &Manifest,
    macro_files: &[MacroFile],
) -> std::io::Result<Option<String>> {
    if !stamp.can_be_current() {
        return remove_saved(path);
    }
    let body = Body {
        manifest: manifest.parts(),
        macro_files: macro_files.to_vec(),
    };
    let nodes: Vec<&Node> = manifest.nodes.values().collect();
    // The graph as built (sources too, sorted by id), so that loading builds it as is.
    let graph = manifest.dag.nodes_by_id();
    // One table of shared files for the body and every node: they are encoded in turn.
    let (encoded, files) = shared_files::collect_files(|| {
        let body = rmp_serde::to_vec(&body)?;
        let mut node_bytes = Vec::new();
        let node_ends = encode_each(&nodes, &mut node_bytes)?;
        Ok::<_, rmp_serde::encode::Error>((body, node_bytes, node_ends))
    });
    let encode = |e: rmp_serde::encode::Error| std::io::Error::other(e.to_string());
    let (body, node_bytes, node_ends) = encoded.map_err(encode)?;
    let mut file_bytes = Vec::new();
    let file_ends = encode_each(
        files
            .iter()
            .map(|f| (f.path.to_string_lossy(), f.text.as_ref())),
        &mut file_bytes,
    )
    .map_err(encode)?;
    let graph_chunks = graph
        .chunks(graph.len().div_ceil(CHUNKS).max(1))
        .map(rmp_serde::to_vec)
        .collect::<Result<Vec<_>, _>>()
        .map_err(encode)?;
    // Node ends count from the start of the lazy part, which the files open.
    let files_len = file_bytes.len() as u64;
    let index = Index {
        file_ends,
        node_ends: node_ends.into_iter().map(|end| files_len + end).collect(),
        graph_frames: graph_chunks.len() as u32,
    };
    let mut eager = Vec::new();
    push_frame(&mut eager, &rmp_serde::to_vec(&index).map_err(encode)?);
    push_frame(&mut eager, &body);
    for chunk in &graph_chunks {
        push_frame(&mut eager, chunk);
    }
    let mut crc = crc32fast::Hasher::new();
    // The stamp too: manifest.json reads some files again (a seed's checksum is of its
    // CSV), and an edited seed parses to the same bytes.
    let mut md5 = Md5::new();
    md5.update(rmp_serde::to_vec(&stamp).map_err(encode)?);
    for part in [&eager, &file_bytes, &node_bytes] {
        crc.update(part);
        md5.update(part);
    }
    let content: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let header = Header {
        build: build.to_string(),
        settings: settings_key(settings),
        stamp,
        content: content.clone(),
        eager_len: eager.len() as u64,
        checksum: crc.finalize(),
    };
    let mut out = Vec::with_capacity(eager.len() + file_bytes.len() + node_bytes.len() + 4096);
    push_frame(&mut out, &rmp_serde::to_vec(&header).map_err(encode)?);
    out.extend(eager);
    out.extend(file_bytes);
    out.extend(node_bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A secret value that reached the parse (say a config copied from a variable holding
    // the same value) cannot be masked in MessagePack: such a parse is not saved.
    if mart_project::secrets::appears_in(&out) {
        return remove_saved(path);
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&out)?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        evict(dir);
    }
    Ok(Some(content_id(build, &content)))
}

/// Removes the saved parse at `path`, if any: for a parse that is not saved, so that an
/// older one is not read in its place.
fn remove_saved(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(None),
    }
}
