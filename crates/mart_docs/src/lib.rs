//! The static docs site of a project: manifest (with compiled SQL, the database catalog
//! and the macros) in, files out.
//!
//! The site opens from the file system: no server, no network, no build step. Every page
//! is plain HTML with its lineage graph already laid out as SVG; the only data the browser
//! loads on demand are the search shards (one JS string each), fetched when the reader
//! searches. Every string from the project is HTML-escaped. Writes nothing itself but
//! through [`write_site`]; opens no connection.

mod catalog;
mod exposure;
mod flow;
mod graph;
mod html;
mod lineage;
mod markdown;
mod pages;
mod text_fit;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use catalog::{Catalog, CatalogColumn, DocsInput, MacroDoc};
pub use html::escape;

use catalog::Docs;

/// One file of the site, relative to the docs folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteFile {
    pub path: String,
    pub text: String,
}

/// Why the site could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct DocsError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

const SITE_CSS: &str = include_str!("assets/site.css");
const SITE_JS: &str = include_str!("assets/site.js");

/// The site of a project: every file's path is known up front, its text is rendered
/// when it is written, so the pages never all sit in memory at once.
pub struct Site<'a> {
    docs: Docs<'a>,
    groups: Vec<catalog::Group>,
    group_of: Vec<usize>,
    layers: flow::Layers,
    shards: Vec<String>,
}

/// The files of a [`Site`], in order: the index, the lineage, the two assets, the search
/// shards, one page per folder, one per node.
enum Page {
    Index,
    Lineage,
    Css,
    Js,
    Shard(usize),
    Folder(usize),
    Node(usize),
}

impl<'a> Site<'a> {
    pub fn new(input: &'a DocsInput<'a>) -> Self {
        let docs = Docs::new(input);
        let groups = docs.groups();
        let mut group_of = vec![0; docs.entries.len()];
        for (g, group) in groups.iter().enumerate() {
            for &m in &group.members {
                group_of[m] = g;
            }
        }
        let shards = pages::search_shards(&docs);
        let layers = flow::Layers::new(&docs, &groups);
        Site {
            docs,
            groups,
            group_of,
            layers,
            shards,
        }
    }

    /// How many files the site has.
    pub fn len(&self) -> usize {
        4 + self.shards.len() + self.groups.len() + self.docs.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every file, rendered on every core.
    pub fn files(&self) -> Vec<SiteFile> {
        let indices: Vec<usize> = (0..self.len()).collect();
        mart_project::parallel_map(&indices, |&i| SiteFile {
            path: self.path(i),
            text: self.text(i),
        })
    }

    fn page(&self, i: usize) -> Page {
        let shards = self.shards.len();
        let folders = self.groups.len();
        match i {
            0 => Page::Index,
            1 => Page::Lineage,
            2 => Page::Css,
            3 => Page::Js,
            i if i < 4 + shards => Page::Shard(i - 4),
            i if i < 4 + shards + folders => Page::Folder(i - 4 - shards),
            i => Page::Node(i - 4 - shards - folders),
        }
    }

    /// The path of file `i`, relative to the docs folder.
    fn path(&self, i: usize) -> String {
        match self.page(i) {
            Page::Index => "index.html".to_string(),
            Page::Lineage => "lineage.html".to_string(),
            Page::Css => "assets/site.css".to_string(),
            Page::Js => "assets/site.js".to_string(),
            Page::Shard(s) => format!("search/{s}.js"),
            Page::Folder(g) => {
                let group = &self.groups[g];
                pages::group_href(group.kind, &group.name)
            }
            Page::Node(n) => pages::node_href(&self.docs.entries[n]),
        }
    }

    fn text(&self, i: usize) -> String {
        let docs = &self.docs;
        match self.page(i) {
            Page::Index => pages::index(docs, &self.groups, self.shards.len()),
            Page::Lineage => pages::lineage(docs, &self.groups, &self.group_of, &self.layers),
            Page::Css => SITE_CSS.to_string(),
            Page::Js => SITE_JS.to_string(),
            Page::Shard(s) => self.shards[s].clone(),
            Page::Folder(g) => pages::folder(docs, g, &self.groups, &self.group_of, &self.layers),
            Page::Node(n) => pages::node(docs, n),
        }
    }
}

/// Writes the site under `dir` and deletes what an earlier generation left there that is
/// no longer part of it. Each worker renders a file and writes it at once (no page waits
/// for all the others); a file that already holds its text is left alone: rewriting ten
/// thousand unchanged pages costs more than rendering them. Returns the size of the site
/// in bytes.
pub fn write_site(dir: &Path, site: &Site<'_>) -> Result<u64, DocsError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DocsError { path, source }
    };
    let indices: Vec<usize> = (0..site.len()).collect();
    let wanted: HashSet<PathBuf> = indices.iter().map(|&i| dir.join(site.path(i))).collect();
    for sub in ["", "assets", "search", "nodes", "folders"] {
        let folder = dir.join(sub);
        let Ok(listing) = std::fs::read_dir(&folder) else {
            continue;
        };
        for item in listing.flatten() {
            let path = item.path();
            // The listing's own file type: no stat per file of a large site.
            let is_file = item.file_type().is_ok_and(|t| t.is_file());
            if is_file && !wanted.contains(&path) {
                std::fs::remove_file(&path).map_err(err(&path))?;
            }
        }
    }
    for sub in ["assets", "search", "nodes", "folders"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(err(&path))?;
    }
    let written = mart_project::parallel_map(&indices, |&i| {
        let path = dir.join(site.path(i));
        let text = site.text(i);
        let text = mart_project::secrets::scrub(&text);
        let unchanged = std::fs::metadata(&path).is_ok_and(|m| m.len() == text.len() as u64)
            && std::fs::read(&path).is_ok_and(|old| old == text.as_bytes());
        if !unchanged {
            std::fs::write(&path, text.as_bytes()).map_err(err(&path))?;
        }
        Ok(text.len() as u64)
    });
    written.into_iter().sum()
}

#[cfg(test)]
mod tests;
