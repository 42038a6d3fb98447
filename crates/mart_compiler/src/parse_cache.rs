//! The saved parse, `<target-path>/partial_parse.msgpack`: a command on an unchanged
//! project skips reading property files and parse-rendering every model, which is most
//! of its start-up on a large project (each Airflow task starts mart for one node).
//!
//! Layout: length-prefixed frames (8 bytes little-endian, then MessagePack): the header
//! (which mart build, the Jinja settings - target and vars - and the [`InputStamp`] of
//! the project), the number of file frames (4 bytes), the files nodes share (in
//! [`CHUNKS`] frames), the body (the manifest's parts without nodes, macro files,
//! warnings), and the nodes (in [`CHUNKS`] frames). Frames are decoded on every core. The file is reused only when the header matches
//! exactly; anything unreadable is a miss, never an error.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mart_diagnostics::{shared_files, Diagnostic, SourceFile};
use mart_jinja::EnvSettings;
use mart_project::{InputStamp, ProjectConfig};
use serde::{Deserialize, Serialize};

use crate::manifest::{Manifest, ManifestParts, Node};

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
}

/// The manifest's parts with its nodes left out: they follow in frames of their own.
#[derive(Serialize, Deserialize)]
struct Body {
    manifest: ManifestParts,
    #[serde(with = "shared_vec")]
    macro_files: Vec<Arc<SourceFile>>,
    project_warnings: Vec<Diagnostic>,
}

/// Files and nodes are each saved in this many frames, decoded in parallel.
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
    // Checking the project on disk takes about as long as reading and decoding the rest:
    // both at once.
    let (current, saved) = std::thread::scope(|s| {
        let current = s.spawn(|| header.stamp.is_current(root, config));
        let mut rest = Vec::new();
        let saved = file.read_to_end(&mut rest).ok().and_then(|_| decode(&rest));
        (current.join().unwrap_or(false), saved)
    });
    if !current {
        return None;
    }
    saved
}

fn decode(input: &[u8]) -> Option<SavedParse> {
    let mut frames = Frames(input);
    let file_frames = usize::try_from(u32::from_le_bytes(*frames.0.first_chunk::<4>()?)).ok()?;
    frames.0 = frames.0.get(4..)?;
    let file_chunks: Vec<&[u8]> = (0..file_frames)
        .map(|_| frames.next())
        .collect::<Option<_>>()?;
    let body = frames.next()?;
    let node_chunks: Vec<&[u8]> = std::iter::from_fn(|| frames.next()).collect();
    if !frames.0.is_empty() {
        return None;
    }
    let mut files: Vec<Arc<SourceFile>> = Vec::new();
    for chunk in mart_project::parallel_map(&file_chunks, |bytes| decode_files(bytes)) {
        files.extend(chunk?);
    }
    let files: Arc<[Arc<SourceFile>]> = files.into();
    let mut body: Body =
        shared_files::with_files(files.clone(), || rmp_serde::from_slice(body)).ok()?;
    // Each thread makes its nodes' graph nodes too, so assembling only links them.
    let decoded = mart_project::parallel_map(&node_chunks, |bytes| {
        let nodes: Vec<Node> =
            shared_files::with_files(files.clone(), || rmp_serde::from_slice(bytes)).ok()?;
        let graph_nodes: Vec<_> = nodes.iter().map(Node::graph_node).collect();
        Some((nodes, graph_nodes))
    });
    let decoded: Vec<_> = decoded.into_iter().collect::<Option<_>>()?;
    let total = decoded.iter().map(|(nodes, _)| nodes.len()).sum();
    body.manifest.nodes.reserve_exact(total);
    let mut graph_nodes = Vec::with_capacity(total);
    for (nodes, graph) in decoded {
        body.manifest.nodes.extend(nodes);
        graph_nodes.extend(graph);
    }
    let manifest = Manifest::assemble_with(body.manifest, graph_nodes).ok()?;
    Some(SavedParse {
        manifest,
        macro_files: body.macro_files,
        project_warnings: body.project_warnings,
    })
}

/// Files as saved (`[path, text]`), read with their text borrowed from the frame so that
/// each is copied once, into its `Arc`.
fn decode_files(bytes: &[u8]) -> Option<Vec<Arc<SourceFile>>> {
    let files: Vec<(&str, &str)> = rmp_serde::from_slice(bytes).ok()?;
    Some(
        files
            .into_iter()
            .map(|(path, text)| Arc::new(SourceFile::new(path, text)))
            .collect(),
    )
}

/// Length-prefixed frames (8 bytes little-endian, then the bytes).
struct Frames<'a>(&'a [u8]);

impl<'a> Frames<'a> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let (len, rest) = self.0.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        let frame = rest.get(..len)?;
        self.0 = rest.get(len..)?;
        Some(frame)
    }
}

fn push_frame(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend((frame.len() as u64).to_le_bytes());
    out.extend(frame);
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
    let header = Header {
        build: build.to_string(),
        settings: settings_key(settings),
        stamp,
    };
    let mut parts = manifest.parts();
    let nodes = std::mem::take(&mut parts.nodes);
    let body = Body {
        manifest: parts,
        macro_files: macro_files.to_vec(),
        project_warnings: project_warnings.to_vec(),
    };
    let chunk_len = nodes.len().div_ceil(CHUNKS).max(1);
    // One table of shared files for the body and every chunk: they are encoded in turn.
    let (encoded, files) = shared_files::collect_files(|| {
        let body = rmp_serde::to_vec(&body)?;
        let chunks = nodes
            .chunks(chunk_len)
            .map(rmp_serde::to_vec)
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, rmp_serde::encode::Error>((body, chunks))
    });
    let encode = |e: rmp_serde::encode::Error| std::io::Error::other(e.to_string());
    let (body, node_chunks) = encoded.map_err(encode)?;
    let files: Vec<&SourceFile> = files.iter().map(Arc::as_ref).collect();
    let file_chunks = files
        .chunks(files.len().div_ceil(CHUNKS).max(1))
        .map(rmp_serde::to_vec)
        .collect::<Result<Vec<_>, _>>()
        .map_err(encode)?;
    let mut out = Vec::new();
    push_frame(&mut out, &rmp_serde::to_vec(&header).map_err(encode)?);
    out.extend((file_chunks.len() as u32).to_le_bytes());
    for frame in file_chunks.iter().chain([&body]).chain(&node_chunks) {
        push_frame(&mut out, frame);
    }
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
