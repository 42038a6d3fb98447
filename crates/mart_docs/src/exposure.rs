//! Exposures in the docs site: an entry (a page, a place in the lineage) per exposure,
//! with its type, owner, maturity and URL as facts.

use mart_compiler::ExposureNode;

use crate::catalog::{folder_of, node_color, Entry};

pub(crate) fn exposure_entry(node: &ExposureNode) -> Entry<'_> {
    let e = &node.exposure;
    let owner = match (&e.owner.name, &e.owner.email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => String::new(),
    };
    let facts = [
        ("label", e.label.clone()),
        ("type", Some(e.exposure_type.clone())),
        ("owner", Some(owner)),
        ("maturity", e.maturity.clone()),
        ("url", e.url.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect();
    Entry {
        id: node.id.to_string(),
        name: &e.name,
        kind: "exposure",
        group: folder_of(&node.original_file_path),
        description: &e.description,
        materialized: None,
        relation: None,
        path: &node.original_file_path,
        tags: &e.tags,
        properties: &[],
        raw_sql: None,
        compiled_sql: None,
        test: None,
        tests: Vec::new(),
        parents: Vec::new(),
        children: Vec::new(),
        rank: 0,
        color: node_color(&e.config),
        facts,
    }
}
