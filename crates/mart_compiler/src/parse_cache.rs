//! The saved parse, `<target-path>/partial_parse.msgpack`: a command on an unchanged
//! project skips reading property files and parse-rendering every model, which is most
//! of its start-up on a large project (each Airflow task starts mart for one node).
//!
//! Layout: length-prefixed frames (8 bytes little-endian, then the bytes). First the
//! [`Header`] (which mart build, the Jinja settings - target and vars - the
//! [`InputStamp`] of the project, and a checksum of the rest); then the [`Index`]; the
//! files nodes share, each its own MessagePack, back to back; the [`Body`]; the graph
//! nodes in [`CHUNKS`] frames; and the nodes, each its own MessagePack, back to back, in
//! id order. Loading decodes the header, body and graph; files and nodes are read one by
//! one when first used (see [`NodeStore`]). The file is reused only when the header
//! matches exactly and the checksum holds; anything unreadable is a miss, never an error.

use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mart_diagnostics::shared_files::{self, FileTable};
use mart_diagnostics::{Diagnostic, SourceFile};
use mart_graph::GraphNode;
use mart_jinja::EnvSettings;
use mart_project::{InputStamp, ProjectConfig};
use serde::{Deserialize, Serialize};

use crate::manifest::{Manifest, ManifestParts, Node};
use crate::node_store::{NodeStore, SavedNodes};

/// The file name dbt uses for the same purpose.
pub const PARSE_CACHE_FILE: &str = "partial_parse.msgpack";

/// What a saved parse is valid for, besides the project on disk.
#[derive(Serialize, Deserialize, PartialEq)]
struct Header {
    /// Identifies the mart executable: a rebuilt mart never reads an older layout.
    build: String,
    /// The target and vars, as JSON.
    settings: String,
    stamp: InputStamp,
    /// CRC-32 of everything after the header: nodes are decoded long after loading, so
    /// damage must be found up front.
    checksum: u32,
}

/// Where each file and node ends in its frame, and how many graph frames there are.
#[derive(Serialize, Deserialize)]
struct Index {
    file_ends: Vec<u64>,
    node_ends: Vec<u64>,
    graph_frames: u32,
}

/// The manifest's parts with its nodes left out: they follow in frames of their own.
#[derive(Serialize, Deserialize)]
struct Body {
    manifest: ManifestParts,
    #[serde(with = "shared_vec")]
    macro_files: Vec<Arc<SourceFile>>,
    project_warnings: Vec<Diagnostic>,
}

/// Graph nodes are saved in this many frames, decoded in parallel.
const CHUNKS: usize = 16;

/// A parse read back from disk.
pub struct SavedParse {
    pub manifest: Manifest,
    pub macro_files: Vec<Arc<SourceFile>>,
    pub project_warnings: Vec<Diagnostic>,
}

pub fn parse_cache_path(root: &Path, config: &ProjectConfig) -> PathBuf {
    root.join(&config.target_path).join(PARSE_CACHE_FILE)
}

fn settings_key(settings: &EnvSettings) -> String {
    serde_json::json!([settings.project_name, settings.target, settings.vars]).to_string()
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
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let header_len = u64::from_le_bytes(len);
    if header_len > file.metadata().ok()?.len() {
        return None;
    }
    let mut header = vec![0u8; usize::try_from(header_len).ok()?];
    file.read_exact(&mut header).ok()?;
    let header: Header = rmp_serde::from_slice(&header).ok()?;
    if header.build != build || header.settings != settings_key(settings) {
        return None;
    }
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).ok()?;
    let rest = Arc::new(rest);
    // Checking the project on disk and the checksum take about as long as decoding the
    // graph: both at once.
    let (intact, saved) = std::thread::scope(|s| {
        let intact = s.spawn(|| {
            header.stamp.is_current(root, config) && crc32fast::hash(&rest) == header.checksum
        });
        let saved = decode(&rest);
        (intact.join().unwrap_or(false), saved)
    });
    if !intact {
        return None;
    }
    saved
}

fn decode(rest: &Arc<Vec<u8>>) -> Option<SavedParse> {
    let mut frames = Frames { bytes: rest, at: 0 };
    let index: Index = rmp_serde::from_slice(&rest[frames.next()?]).ok()?;
    let files = frames.next()?;
    let file_ranges = ranges(&index.file_ends, files)?;
    let body = frames.next()?;
    let graph_chunks: Vec<Range<usize>> = (0..index.graph_frames)
        .map(|_| frames.next())
        .collect::<Option<_>>()?;
    let nodes = frames.next()?;
    let node_ranges = ranges(&index.node_ends, nodes)?;
    if frames.at != rest.len() {
        return None;
    }
    let file_bytes = rest.clone();
    let files = Arc::new(FileTable::lazy(
        file_ranges.len(),
        Box::new(move |i| {
            let (path, text): (&str, &str) =
                rmp_serde::from_slice(file_bytes.get(file_ranges.get(i)?.clone())?).ok()?;
            Some(SourceFile::new(path, text))
        }),
    ));
    let body: Body =
        shared_files::with_files(files.clone(), || rmp_serde::from_slice(&rest[body])).ok()?;
    let mut graph_nodes: Vec<GraphNode> = Vec::with_capacity(node_ranges.len());
    for chunk in mart_project::parallel_map(&graph_chunks, |range| {
        rmp_serde::from_slice::<Vec<GraphNode>>(&rest[range.clone()]).ok()
    }) {
        graph_nodes.extend(chunk?);
    }
    let ids = graph_nodes.iter().map(|n| n.id.clone()).collect();
    let store = NodeStore::saved(
        ids,
        SavedNodes {
            bytes: rest.clone(),
            ranges: node_ranges,
            files,
        },
    )?;
    let manifest = Manifest::assemble_with(body.manifest, store, graph_nodes).ok()?;
    Some(SavedParse {
        manifest,
        macro_files: body.macro_files,
        project_warnings: body.project_warnings,
    })
}

/// The ranges in `rest` of items that end at `ends` (relative to the frame `frame`).
fn ranges(ends: &[u64], frame: Range<usize>) -> Option<Vec<Range<usize>>> {
    let mut start = frame.start;
    ends.iter()
        .map(|&end| {
            let end = frame.start.checked_add(usize::try_from(end).ok()?)?;
            if end < start || end > frame.end {
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
/// renamed, so concurrent commands never read half a file.
pub fn save_parse(
    path: &Path,
    build: &str,
    settings: &EnvSettings,
    stamp: InputStamp,
    manifest: &Manifest,
    macro_files: &[Arc<SourceFile>],
    project_warnings: &[Diagnostic],
) -> std::io::Result<()> {
    let body = Body {
        manifest: manifest.parts_without_nodes(),
        macro_files: macro_files.to_vec(),
        project_warnings: project_warnings.to_vec(),
    };
    let nodes: Vec<&Node> = manifest.nodes.values().collect();
    let graph: Vec<GraphNode> = nodes.iter().map(|n| n.graph_node()).collect();
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
    let index = Index {
        file_ends,
        node_ends,
        graph_frames: graph_chunks.len() as u32,
    };
    let mut rest = Vec::new();
    push_frame(&mut rest, &rmp_serde::to_vec(&index).map_err(encode)?);
    push_frame(&mut rest, &file_bytes);
    push_frame(&mut rest, &body);
    for chunk in &graph_chunks {
        push_frame(&mut rest, chunk);
    }
    push_frame(&mut rest, &node_bytes);
    let header = Header {
        build: build.to_string(),
        settings: settings_key(settings),
        stamp,
        checksum: crc32fast::hash(&rest),
    };
    let mut out = Vec::with_capacity(rest.len() + 4096);
    push_frame(&mut out, &rmp_serde::to_vec(&header).map_err(encode)?);
    out.extend(rest);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(&out)?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// `Vec<Arc<SourceFile>>` through the shared file table.
mod shared_vec {
    use super::*;
    use serde::{Deserializer, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Shared(#[serde(with = "shared_files")] Arc<SourceFile>);

    pub fn serialize<S: Serializer>(files: &[Arc<SourceFile>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(files.iter().map(|f| Shared(f.clone())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Arc<SourceFile>>, D::Error> {
        Ok(Vec::<Shared>::deserialize(d)?
            .into_iter()
            .map(|s| s.0)
            .collect())
    }
}
