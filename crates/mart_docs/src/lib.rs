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
mod graph;
mod html;
mod markdown;
mod pages;

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

/// Every file of the site. Pages are rendered on every core.
pub fn render(input: &DocsInput<'_>) -> Vec<SiteFile> {
    let docs = Docs::new(input);
    let groups = docs.groups();
    let mut group_of = vec![0; docs.entries.len()];
    for (g, group) in groups.iter().enumerate() {
        for &m in &group.members {
            group_of[m] = g;
        }
    }
    let shards = pages::search_shards(&docs);
    let mut files = vec![
        SiteFile {
            path: "index.html".to_string(),
            text: pages::index(&docs, &groups, shards.len()),
        },
        SiteFile {
            path: "lineage.html".to_string(),
            text: pages::lineage(&docs, &groups, &group_of),
        },
        SiteFile {
            path: "assets/site.css".to_string(),
            text: SITE_CSS.to_string(),
        },
        SiteFile {
            path: "assets/site.js".to_string(),
            text: SITE_JS.to_string(),
        },
    ];
    files.extend(shards.into_iter().enumerate().map(|(i, text)| SiteFile {
        path: format!("search/{i}.js"),
        text,
    }));
    files.extend(mart_project::parallel_map(&groups, |group| SiteFile {
        path: pages::group_href(group.kind, &group.name),
        text: pages::folder(&docs, group, &group_of, &groups),
    }));
    let indices: Vec<usize> = (0..docs.entries.len()).collect();
    files.extend(mart_project::parallel_map(&indices, |&i| SiteFile {
        path: pages::node_href(&docs.entries[i]),
        text: pages::node(&docs, i),
    }));
    files
}

/// Writes the files under `dir` and deletes what an earlier generation left there that
/// is no longer part of the site. A file that already holds its text is left alone:
/// rewriting ten thousand unchanged pages costs more than rendering them. Returns the
/// size of the site in bytes.
pub fn write_site(dir: &Path, files: &[SiteFile]) -> Result<u64, DocsError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DocsError { path, source }
    };
    let wanted: HashSet<PathBuf> = files.iter().map(|f| dir.join(&f.path)).collect();
    for sub in ["", "assets", "search", "nodes", "folders"] {
        let folder = dir.join(sub);
        let Ok(listing) = std::fs::read_dir(&folder) else {
            continue;
        };
        for item in listing.flatten() {
            let path = item.path();
            if path.is_file() && !wanted.contains(&path) {
                std::fs::remove_file(&path).map_err(err(&path))?;
            }
        }
    }
    for sub in ["assets", "search", "nodes", "folders"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(err(&path))?;
    }
    let written = mart_project::parallel_map(files, |file| {
        let path = dir.join(&file.path);
        let text = mart_project::secrets::scrub(&file.text);
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
